/*
 * hotpe: the raw Win32 helpers (win.h).
 */
#ifdef _WIN32

#include <windows.h>

#include "hotpe/engine/win.h"

/* mingw-w64 headers may predate CFG; same value, meaning depends on the call (VirtualProtect:
 * PAGE_TARGETS_NO_UPDATE; VirtualAlloc: PAGE_TARGETS_INVALID). */
#ifndef PAGE_TARGETS_INVALID
#define PAGE_TARGETS_INVALID 0x40000000
#endif
#ifndef PAGE_TARGETS_NO_UPDATE
#define PAGE_TARGETS_NO_UPDATE 0x40000000
#endif

static bool executable(uint32_t prot)
{
    return (prot & (PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE |
                    PAGE_EXECUTE_WRITECOPY)) != 0;
}

bool hp_win_protect(void *process, bool *cfg_flags, uint64_t addr, size_t n, uint32_t prot,
                    uint32_t *old)
{
    DWORD was = 0;
    void *at = (void *)(uintptr_t)addr;
    bool ok = false;
    if (*cfg_flags && executable(prot)) {
        ok = VirtualProtectEx(process, at, n, prot | PAGE_TARGETS_NO_UPDATE, &was);
        if (!ok && GetLastError() == ERROR_INVALID_PARAMETER)
            *cfg_flags = false;
        else if (!ok)
            return false;
    }
    if (!ok)
        ok = VirtualProtectEx(process, at, n, prot, &was);
    if (ok && old)
        *old = was;
    return ok;
}

hp_status hp_win_read(void *process, uint64_t addr, void *buf, size_t n)
{
    SIZE_T done = 0;
    if (!ReadProcessMemory(process, (const void *)(uintptr_t)addr, buf, n, &done) || done != n)
        return HP_E_PROC_READ;
    return HP_OK;
}

hp_status hp_win_write_data(void *process, uint64_t addr, const void *buf, size_t n)
{
    SIZE_T done = 0;
    if (!WriteProcessMemory(process, (void *)(uintptr_t)addr, buf, n, &done) || done != n)
        return HP_E_PROC_WRITE;
    return HP_OK;
}

hp_status hp_win_by_page(uint64_t addr, const void *buf, size_t n, hp_win_piece_fn fn, void *ctx)
{
    const uint8_t *src = buf;
    while (n) {
        size_t len = 0x1000 - (size_t)(addr & 0xFFF);
        if (len > n)
            len = n;
        HP_CHECK(fn(ctx, addr, src, len));
        addr += len;
        src += len;
        n -= len;
    }
    return HP_OK;
}

typedef struct remote_piece {
    HANDLE h;
    bool *cfg_flags;
} remote_piece;

/* Make writable, WriteProcessMemory, restore. */
static hp_status write_piece(void *ctx, uint64_t at, const uint8_t *src, size_t len)
{
    remote_piece *r = ctx;
    uint32_t old;
    if (!hp_win_protect(r->h, r->cfg_flags, at, len, PAGE_EXECUTE_READWRITE, &old))
        return HP_E_PROC_PROTECT;
    SIZE_T done = 0;
    BOOL ok = WriteProcessMemory(r->h, (void *)(uintptr_t)at, src, len, &done) && done == len;
    if (!hp_win_protect(r->h, r->cfg_flags, at, len, old, NULL))
        return HP_E_PROC_PROTECT;
    return ok ? HP_OK : HP_E_PROC_WRITE;
}

hp_status hp_win_write(void *process, bool *cfg_flags, uint64_t addr, const void *buf, size_t n)
{
    remote_piece r = { process, cfg_flags };
    HP_CHECK(hp_win_by_page(addr, buf, n, write_piece, &r));
    return hp_win_flush(process, addr, n);
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

hp_status hp_win_alloc_near(void *process, bool *cfg_flags, bool x64, uint64_t near_addr,
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
    if (near_addr > lo + HP_WIN_NEAR_RANGE)
        lo = near_addr - HP_WIN_NEAR_RANGE;
    if (near_addr < hi - HP_WIN_NEAR_RANGE)
        hi = near_addr + HP_WIN_NEAR_RANGE;
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

uint64_t hp_win_started(void *process)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(process, &created, &exited, &kernel, &user))
        return 0;
    return (uint64_t)created.dwHighDateTime << 32 | created.dwLowDateTime;
}

hp_status hp_win_free(void *process, uint64_t addr)
{
    return VirtualFreeEx(process, (void *)(uintptr_t)addr, 0, MEM_RELEASE) ? HP_OK
                                                                         : HP_E_PROC_FREE;
}

hp_status hp_win_flush(void *process, uint64_t addr, size_t n)
{
    return FlushInstructionCache(process, (const void *)(uintptr_t)addr, n) ? HP_OK
                                                                          : HP_E_PROC_FLUSH;
}

uint64_t hp_win_clock_ns(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (uint64_t)((double)c.QuadPart * 1e9 / (double)f.QuadPart);
}


bool hp_win_readable(uint32_t state, uint32_t protect)
{
    return state == MEM_COMMIT && !(protect & (PAGE_GUARD | PAGE_NOACCESS)) &&
           (protect & (PAGE_READONLY | PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READ |
                       PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY)) != 0;
}

bool hp_win_readable_range(uint64_t addr, size_t n)
{
    uint64_t at = addr, end = addr + n;
    if (end < addr)
        return false;
    while (at < end) {
        MEMORY_BASIC_INFORMATION mbi;
        if (!VirtualQuery((const void *)(uintptr_t)at, &mbi, sizeof mbi) ||
            !hp_win_readable(mbi.State, mbi.Protect))
            return false;
        at = (uint64_t)(uintptr_t)mbi.BaseAddress + mbi.RegionSize;
    }
    return true;
}

void (*hp_win_proc(const char *dll, const char *name))(void)
{
    HMODULE m = GetModuleHandleA(dll);
    /* through void (*)(void): converting one function pointer type to another is defined */
    return m ? (void (*)(void))GetProcAddress(m, name) : NULL;
}

#endif /* _WIN32 */
