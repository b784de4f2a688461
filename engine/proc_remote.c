/*
 * hotpe: another process by pid (proc.h), through OpenProcess + Read/WriteProcessMemory,
 * VirtualProtectEx, VirtualAllocEx and FlushInstructionCache (win.h). Threads are not frozen
 * from outside (HP_E_UNSUPPORTED): the shim does that in-process.
 */
#ifdef _WIN32

#include <windows.h>

#include "hotpe/engine/proc.h"
#include "hotpe/engine/win.h"

typedef struct remote {
    HANDLE h;
    bool x64;
    bool cfg_flags;          /* PAGE_TARGETS_* accepted so far */
} remote;

static hp_status remote_read(void *ctx, uint64_t addr, void *buf, size_t n)
{
    return hp_win_read(((remote *)ctx)->h, addr, buf, n);
}

static hp_status remote_write(void *ctx, uint64_t addr, const void *buf, size_t n)
{
    remote *r = ctx;
    return hp_win_write(r->h, &r->cfg_flags, addr, buf, n);
}

/* WriteProcessMemory promises no single store; the shim does the real atomic one in-process.
 * From outside this is only used on sites no thread can be executing (fresh, or frozen). */
static hp_status remote_store2(void *ctx, uint64_t addr, const uint8_t bytes[2])
{
    remote *r = ctx;
    return hp_win_write(r->h, &r->cfg_flags, addr, bytes, 2);
}

static hp_status remote_alloc_near(void *ctx, uint64_t near_addr, size_t size, uint64_t *out)
{
    remote *r = ctx;
    return hp_win_alloc_near(r->h, &r->cfg_flags, r->x64, near_addr, size, out);
}

static hp_status remote_free(void *ctx, uint64_t addr)
{
    return hp_win_free(((remote *)ctx)->h, addr);
}

static hp_status remote_flush(void *ctx, uint64_t addr, size_t n)
{
    return hp_win_flush(((remote *)ctx)->h, addr, n);
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
    return hp_win_clock_ns();
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
