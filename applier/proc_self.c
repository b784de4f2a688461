/*
 * hotpe: the current process (proc.h). The entry jump is one 16-bit store; freeze suspends
 * every other thread (Toolhelp snapshots repeated until no new thread appears), all first,
 * and only then reads their contexts, since SuspendThread returns before the thread stops.
 * The thread table lives in VirtualAlloc'd memory so that nothing here takes the heap lock
 * while a suspended thread may hold it (Detours issue #70).
 */
#ifdef _WIN32

#include <windows.h>
#include <tlhelp32.h>

#include "proc.h"

#ifndef PAGE_TARGETS_NO_UPDATE
#define PAGE_TARGETS_NO_UPDATE 0x40000000
#endif

typedef struct self_thread {
    DWORD tid;
    HANDLE h;
    uint64_t ip;
} self_thread;

typedef struct self {
    DWORD pid, tid;
    bool cfg_flags;          /* PAGE_TARGETS_* accepted so far */
    bool frozen;
    self_thread *threads;    /* VirtualAlloc'd */
    size_t n, cap;
} self;

/* An unaligned 16-bit lvalue: compiles to one `mov word` store. */
typedef uint16_t __attribute__((aligned(1), may_alias)) u16_unaligned;

static hp_status self_read(void *ctx, uint64_t addr, void *buf, size_t n)
{
    (void)ctx;
    return hp_proc_win_read(GetCurrentProcess(), addr, buf, n);
}

static hp_status self_write(void *ctx, uint64_t addr, const void *buf, size_t n)
{
    return hp_proc_win_write(GetCurrentProcess(), &((self *)ctx)->cfg_flags, addr, buf, n);
}

static BOOL protect2(self *s, uint64_t addr, DWORD prot, DWORD *old)
{
    void *p = (void *)(uintptr_t)addr;
    if (s->cfg_flags && (prot & 0xF0)) {     /* PAGE_EXECUTE_*: keep the CFG bitmap */
        if (VirtualProtect(p, 2, prot | PAGE_TARGETS_NO_UPDATE, old))
            return TRUE;
        if (GetLastError() != ERROR_INVALID_PARAMETER)
            return FALSE;
        s->cfg_flags = false;
    }
    return VirtualProtect(p, 2, prot, old);
}

static hp_status self_store2(void *ctx, uint64_t addr, const uint8_t bytes[2])
{
    self *s = ctx;
    DWORD old, tmp;
    /* stays executable: other threads run this very page */
    if (!protect2(s, addr, PAGE_EXECUTE_READWRITE, &old))
        return HP_E_PROC_PROTECT;
    /* hp_proc_store2 checked the 2 bytes share a cache line: the store is atomic (SDM 8.1.1) */
    *(volatile u16_unaligned *)(uintptr_t)addr = (uint16_t)(bytes[0] | bytes[1] << 8);
    if (!protect2(s, addr, old, &tmp))
        return HP_E_PROC_PROTECT;
    return hp_proc_win_flush(GetCurrentProcess(), addr, 2);
}

static hp_status self_alloc_near(void *ctx, uint64_t near_addr, size_t size, uint64_t *out)
{
    return hp_proc_win_alloc_near(GetCurrentProcess(), &((self *)ctx)->cfg_flags,
                                  sizeof(void *) == 8, near_addr, size, out);
}

static hp_status self_free(void *ctx, uint64_t addr)
{
    (void)ctx;
    return hp_proc_win_free(GetCurrentProcess(), addr);
}

static hp_status self_flush(void *ctx, uint64_t addr, size_t n)
{
    (void)ctx;
    return hp_proc_win_flush(GetCurrentProcess(), addr, n);
}

/* Double the thread table without the heap. */
static bool grow(self *s)
{
    size_t cap = s->cap ? s->cap * 2 : 256;
    self_thread *t = VirtualAlloc(NULL, cap * sizeof *t, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!t)
        return false;
    if (s->threads) {
        CopyMemory(t, s->threads, s->n * sizeof *t);
        VirtualFree(s->threads, 0, MEM_RELEASE);
    }
    s->threads = t;
    s->cap = cap;
    return true;
}

static hp_status resume_all(self *s)
{
    hp_status st = HP_OK;
    for (size_t i = 0; i < s->n; i++) {
        if (ResumeThread(s->threads[i].h) == (DWORD)-1)
            st = HP_E_PROC_THAW;
        CloseHandle(s->threads[i].h);
    }
    s->n = 0;
    s->frozen = false;
    return st;
}

static bool known(const self *s, DWORD tid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->threads[i].tid == tid)
            return true;
    return false;
}

static hp_status self_freeze(void *ctx)
{
    self *s = ctx;
    if (s->frozen)
        return HP_E_TXN_STATE;
    s->n = 0;
    /* a thread created while we walk shows up in the next snapshot: repeat until none does */
    for (;;) {
        size_t added = 0;
        HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
        if (snap == INVALID_HANDLE_VALUE) {
            resume_all(s);
            return HP_E_PROC_FREEZE;
        }
        THREADENTRY32 te;
        te.dwSize = sizeof te;
        for (BOOL more = Thread32First(snap, &te); more; more = Thread32Next(snap, &te)) {
            if (te.th32OwnerProcessID != s->pid || te.th32ThreadID == s->tid ||
                known(s, te.th32ThreadID))
                continue;
            if (s->n == s->cap && !grow(s)) {
                CloseHandle(snap);
                resume_all(s);
                return HP_E_PROC_THREADS;
            }
            HANDLE h = OpenThread(THREAD_SUSPEND_RESUME | THREAD_GET_CONTEXT |
                                      THREAD_QUERY_INFORMATION,
                                  FALSE, te.th32ThreadID);
            if (!h)
                continue;     /* exited since the snapshot */
            if (SuspendThread(h) == (DWORD)-1) {
                CloseHandle(h);
                continue;     /* exiting: it runs no more user code */
            }
            s->threads[s->n++] = (self_thread){ te.th32ThreadID, h, 0 };
            added++;
        }
        CloseHandle(snap);
        if (!added)
            break;
    }
    /* GetThreadContext waits for the suspension to take effect */
    for (size_t i = 0; i < s->n; i++) {
        CONTEXT c;
        ZeroMemory(&c, sizeof c);
        c.ContextFlags = CONTEXT_CONTROL;
        if (!GetThreadContext(s->threads[i].h, &c)) {
            resume_all(s);
            return HP_E_PROC_CONTEXT;
        }
#ifdef _WIN64
        s->threads[i].ip = c.Rip;
#else
        s->threads[i].ip = c.Eip;
#endif
    }
    s->frozen = true;
    return HP_OK;
}

static hp_status self_thread_ips(void *ctx, uint64_t *ips, size_t cap, size_t *count)
{
    self *s = ctx;
    if (!s->frozen)
        return HP_E_TXN_STATE;
    for (size_t i = 0; i < s->n && i < cap; i++)
        ips[i] = s->threads[i].ip;
    *count = s->n;
    return HP_OK;
}

static hp_status self_thaw(void *ctx)
{
    self *s = ctx;
    if (!s->frozen)
        return HP_E_TXN_STATE;
    return resume_all(s);
}

static void self_pause(void *ctx, unsigned ms)
{
    (void)ctx;
    Sleep(ms);
}

static uint64_t self_clock(void *ctx)
{
    (void)ctx;
    return hp_proc_win_clock_ns();
}

static void self_close(void *ctx)
{
    self *s = ctx;
    if (s->frozen)
        resume_all(s);
    if (s->threads)
        VirtualFree(s->threads, 0, MEM_RELEASE);
    HeapFree(GetProcessHeap(), 0, s);
}

static const hp_proc_ops self_ops = {
    .read = self_read,
    .write = self_write,
    .store2 = self_store2,
    .alloc_near = self_alloc_near,
    .free = self_free,
    .flush_icache = self_flush,
    .freeze = self_freeze,
    .thread_ips = self_thread_ips,
    .thaw = self_thaw,
    .pause = self_pause,
    .clock_ns = self_clock,
    .close = self_close,
};

hp_status hp_proc_self_open(hp_proc *out)
{
    if (!out)
        return HP_E_ARG;
    self *s = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *s);
    if (!s)
        return HP_E_NOMEM;
    s->pid = GetCurrentProcessId();
    s->tid = GetCurrentThreadId();
    s->cfg_flags = true;
    /* the first table before any thread is suspended */
    if (!grow(s)) {
        HeapFree(GetProcessHeap(), 0, s);
        return HP_E_NOMEM;
    }
    out->ops = &self_ops;
    out->ctx = s;
    out->x64 = sizeof(void *) == 8;
    return HP_OK;
}

#endif /* _WIN32 */
