/*
 * hotpe: another process by pid (proc.h), through OpenProcess + Read/WriteProcessMemory,
 * VirtualProtectEx, VirtualAllocEx and FlushInstructionCache. Threads are not frozen from
 * outside (HP_E_UNSUPPORTED): the shim does that in-process. Also holds the helpers both
 * Windows back-ends share (hp_proc_win_*), which take a process handle.
 */
#ifdef _WIN32

#include <windows.h>

#include "hotpe/engine/proc.h"

/* mingw-w64 headers may predate CFG; same value, meaning depends on the call (hotpatch-formats
 * section 4.4). */
#ifndef PAGE_TARGETS_INVALID
#define PAGE_TARGETS_INVALID 0x40000000
#endif
#ifndef PAGE_TARGETS_NO_UPDATE
#define PAGE_TARGETS_NO_UPDATE 0x40000000
#endif

#define NEAR_RANGE 0x7FF00000ull   /* a bit under 2 GiB, so rel32/disp32 reach the whole block */

static bool executable(DWORD prot)
{
    return (prot & (PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE |
                    PAGE_EXECUTE_WRITECOPY)) != 0;
}

/* VirtualProtectEx that keeps the CFG bitmap as it is (without PAGE_TARGETS_NO_UPDATE, making
 * a page executable marks every byte a valid call target); drops the flag for good where the
 * system refuses it (no CFG: older Windows, Wine). */
static BOOL protect(HANDLE h, bool *cfg_flags, uint64_t addr, size_t n, DWORD prot, DWORD *old)
{
    if (*cfg_flags && executable(prot)) {
        if (VirtualProtectEx(h, (void *)(uintptr_t)addr, n, prot | PAGE_TARGETS_NO_UPDATE, old))
            return TRUE;
        if (GetLastError() != ERROR_INVALID_PARAMETER)
            return FALSE;
        *cfg_flags = false;
    }
    return VirtualProtectEx(h, (void *)(uintptr_t)addr, n, prot, old);
}

hp_status hp_proc_win_read(void *process, uint64_t addr, void *buf, size_t n)
{
    SIZE_T done = 0;
    if (!ReadProcessMemory(process, (const void *)(uintptr_t)addr, buf, n, &done) || done != n)
        return HP_E_PROC_READ;
    return HP_OK;
}

hp_status hp_proc_win_write(void *process, bool *cfg_flags, uint64_t addr, const void *buf,
                            size_t n)
{
    HANDLE h = process;
    const uint8_t *src = buf;
    uint64_t at = addr;
    size_t left = n;
    /* page by page: VirtualProtect reports the old protection of the first page only */
    while (left) {
        size_t chunk = 0x1000 - (size_t)(at & 0xFFF);
        if (chunk > left)
            chunk = left;
        DWORD old, tmp;
        if (!protect(h, cfg_flags, at, chunk, PAGE_EXECUTE_READWRITE, &old))
            return HP_E_PROC_PROTECT;
        SIZE_T done = 0;
        BOOL ok = WriteProcessMemory(h, (void *)(uintptr_t)at, src, chunk, &done) && done == chunk;
        if (!protect(h, cfg_flags, at, chunk, old, &tmp))
            return HP_E_PROC_PROTECT;
        if (!ok)
            return HP_E_PROC_WRITE;
        at += chunk;
        src += chunk;
        left -= chunk;
    }
    if (!FlushInstructionCache(h, (const void *)(uintptr_t)addr, n))
        return HP_E_PROC_FLUSH;
    return HP_OK;
}

/* Reserve+commit at exactly `at`, execute-read, CFG-invalid when the system knows the flag. */
static void *alloc_at(HANDLE h, bool *cfg_flags, uint64_t at, size_t size)
{
    void *want = (void *)(uintptr_t)at;
    if (*cfg_flags) {
        void *p = VirtualAllocEx(h, want, size, MEM_RESERVE | MEM_COMMIT,
                                 PAGE_EXECUTE_READ | PAGE_TARGETS_INVALID);
        if (p || GetLastError() != ERROR_INVALID_PARAMETER)
            return p;
        *cfg_flags = false;
    }
    return VirtualAllocEx(h, want, size, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READ);
}

hp_status hp_proc_win_alloc_near(void *process, bool *cfg_flags, bool x64, uint64_t near_addr,
                                 size_t size, uint64_t *out)
{
    HANDLE h = process;
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    uint64_t gran = si.dwAllocationGranularity;
    size = (size + gran - 1) & ~(size_t)(gran - 1);
    if (!x64 || sizeof(void *) == 4) {
        /* a 32-bit address space is all within reach of rel32 */
        void *p = alloc_at(h, cfg_flags, 0, size);
        if (!p)
            return HP_E_PROC_ALLOC;
        *out = (uintptr_t)p;
        return HP_OK;
    }
    uint64_t lo = (uintptr_t)si.lpMinimumApplicationAddress;
    uint64_t hi = (uintptr_t)si.lpMaximumApplicationAddress;
    if (near_addr > lo + NEAR_RANGE)
        lo = near_addr - NEAR_RANGE;
    if (near_addr < hi - NEAR_RANGE)
        hi = near_addr + NEAR_RANGE;
    hi -= size;
    /* like MinHook's buffer.c: free regions below the address first, then above */
    MEMORY_BASIC_INFORMATION mbi;
    uint64_t at = (near_addr & ~(gran - 1));
    while (at >= lo + gran) {
        at -= gran;
        if (!VirtualQueryEx(h, (void *)(uintptr_t)at, &mbi, sizeof mbi))
            break;
        if (mbi.State == MEM_FREE) {
            void *p = alloc_at(h, cfg_flags, at, size);
            if (p) {
                *out = (uintptr_t)p;
                return HP_OK;
            }
        } else {
            at = (uintptr_t)mbi.AllocationBase & ~(gran - 1);
        }
    }
    at = (near_addr + gran - 1) & ~(gran - 1);
    while (at <= hi) {
        if (!VirtualQueryEx(h, (void *)(uintptr_t)at, &mbi, sizeof mbi))
            break;
        if (mbi.State == MEM_FREE) {
            void *p = alloc_at(h, cfg_flags, at, size);
            if (p) {
                *out = (uintptr_t)p;
                return HP_OK;
            }
            at += gran;
        } else {
            at = ((uintptr_t)mbi.BaseAddress + mbi.RegionSize + gran - 1) & ~(gran - 1);
        }
    }
    return HP_E_PROC_ALLOC;
}

uint64_t hp_proc_win_started(void *process)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(process, &created, &exited, &kernel, &user))
        return 0;
    return (uint64_t)created.dwHighDateTime << 32 | created.dwLowDateTime;
}

hp_status hp_proc_win_free(void *process, uint64_t addr)
{
    return VirtualFreeEx(process, (void *)(uintptr_t)addr, 0, MEM_RELEASE) ? HP_OK
                                                                         : HP_E_PROC_FREE;
}

hp_status hp_proc_win_flush(void *process, uint64_t addr, size_t n)
{
    return FlushInstructionCache(process, (const void *)(uintptr_t)addr, n) ? HP_OK
                                                                          : HP_E_PROC_FLUSH;
}

uint64_t hp_proc_win_clock_ns(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (uint64_t)((double)c.QuadPart * 1e9 / (double)f.QuadPart);
}

/* ------------------------------------------------------------------------------------------ */

typedef struct remote {
    HANDLE h;
    bool x64;
    bool cfg_flags;          /* PAGE_TARGETS_* accepted so far */
} remote;

static hp_status remote_read(void *ctx, uint64_t addr, void *buf, size_t n)
{
    return hp_proc_win_read(((remote *)ctx)->h, addr, buf, n);
}

static hp_status remote_write(void *ctx, uint64_t addr, const void *buf, size_t n)
{
    remote *r = ctx;
    return hp_proc_win_write(r->h, &r->cfg_flags, addr, buf, n);
}

/* WriteProcessMemory promises no single store; the shim does the real atomic one in-process.
 * From outside this is only used on sites no thread can be executing (fresh, or frozen). */
static hp_status remote_store2(void *ctx, uint64_t addr, const uint8_t bytes[2])
{
    remote *r = ctx;
    return hp_proc_win_write(r->h, &r->cfg_flags, addr, bytes, 2);
}

static hp_status remote_alloc_near(void *ctx, uint64_t near_addr, size_t size, uint64_t *out)
{
    remote *r = ctx;
    return hp_proc_win_alloc_near(r->h, &r->cfg_flags, r->x64, near_addr, size, out);
}

static hp_status remote_free(void *ctx, uint64_t addr)
{
    return hp_proc_win_free(((remote *)ctx)->h, addr);
}

static hp_status remote_flush(void *ctx, uint64_t addr, size_t n)
{
    return hp_proc_win_flush(((remote *)ctx)->h, addr, n);
}

static hp_status remote_freeze(void *ctx)
{
    (void)ctx;
    return HP_E_UNSUPPORTED;
}

static hp_status remote_threads(void *ctx, hp_proc_thread *out, size_t cap, size_t *count)
{
    (void)ctx;
    (void)out;
    (void)cap;
    *count = 0;
    return HP_E_UNSUPPORTED;
}

static hp_status remote_thaw(void *ctx)
{
    (void)ctx;
    return HP_E_UNSUPPORTED;
}

static void remote_pause(void *ctx, unsigned ms)
{
    (void)ctx;
    Sleep(ms);
}

static uint64_t remote_clock(void *ctx)
{
    (void)ctx;
    return hp_proc_win_clock_ns();
}

static void remote_close(void *ctx)
{
    remote *r = ctx;
    CloseHandle(r->h);
    HeapFree(GetProcessHeap(), 0, r);
}

static const hp_proc_ops remote_ops = {
    .read = remote_read,
    .write = remote_write,
    .store2 = remote_store2,
    .alloc_near = remote_alloc_near,
    .free = remote_free,
    .flush_icache = remote_flush,
    .freeze = remote_freeze,
    .threads = remote_threads,
    .thaw = remote_thaw,
    .pause = remote_pause,
    .clock_ns = remote_clock,
    .close = remote_close,
};

hp_status hp_proc_remote_open(hp_proc *out, uint32_t pid)
{
    if (!out || !pid)
        return HP_E_ARG;
    HANDLE h = OpenProcess(PROCESS_VM_READ | PROCESS_VM_WRITE | PROCESS_VM_OPERATION |
                               PROCESS_QUERY_INFORMATION,
                           FALSE, pid);
    if (!h)
        return HP_E_PROC_OPEN;
    BOOL self_wow = FALSE, target_wow = FALSE;
    if (!IsWow64Process(GetCurrentProcess(), &self_wow) || !IsWow64Process(h, &target_wow)) {
        CloseHandle(h);
        return HP_E_PROC_OPEN;
    }
    /* a 32-bit hotpe cannot reach a 64-bit target's address space */
    bool x64 = sizeof(void *) == 8 && !target_wow;
    if (sizeof(void *) == 4 && self_wow && !target_wow) {
        CloseHandle(h);
        return HP_E_UNSUPPORTED;
    }
    remote *r = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *r);
    if (!r) {
        CloseHandle(h);
        return HP_E_NOMEM;
    }
    r->h = h;
    r->x64 = x64;
    r->cfg_flags = true;
    out->ops = &remote_ops;
    out->ctx = r;
    out->x64 = x64;
    return HP_OK;
}

#endif /* _WIN32 */
