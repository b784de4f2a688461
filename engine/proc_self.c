/*
 * hotpe: the current process (proc.h). The entry jump is one 16-bit store. freeze keeps the
 * threads it saw (tid and an open handle) from one freeze to the next, and learn_threads finds
 * them before the first freeze: freeze first suspends those (one call each, no enumeration
 * while they still run and compete for the CPU: under Wine each call is a wineserver round
 * trip that waits for a time slice when busy threads hold the cores), then looks for
 * new ones with NtGetNextThread (resolved at run time; Toolhelp snapshots when it is missing),
 * repeating until a pass finds none, and only then reads contexts, since SuspendThread returns
 * before the thread stops. thaw only resumes, with one NtResumeProcess when every other thread
 * is one it suspended; handles are closed outside the window. The thread table lives in
 * VirtualAlloc'd memory so that nothing here takes the heap lock while a suspended thread may
 * hold it (Detours issue #70). Reads and writes of our own memory are local copies:
 * ReadProcessMemory/WriteProcessMemory go through wineserver.
 */
#ifdef _WIN32

#include <windows.h>
#include <tlhelp32.h>

#include "hotpe/engine/proc.h"
#include "hotpe/engine/win.h"

#ifndef PAGE_TARGETS_NO_UPDATE
#define PAGE_TARGETS_NO_UPDATE 0x40000000
#endif

/* NtGetNextThread (ntdll, not in the SDK headers): the process's threads after `thread`. */
typedef LONG(NTAPI *next_thread_fn)(HANDLE process, HANDLE thread, ACCESS_MASK access,
                                    ULONG attributes, ULONG flags, HANDLE *next);
#define STATUS_NO_MORE_ENTRIES_ ((LONG)0x8000001A)

/* NtResumeProcess: decrements every thread's suspend count by one (a thread at 0 stays so), in
 * one call. */
typedef LONG(NTAPI *resume_process_fn)(HANDLE process);

/* NtQueryInformationThread's ThreadBasicInformation (class 0), for the TEB address. */
typedef LONG(NTAPI *query_thread_fn)(HANDLE thread, int cls, void *info, ULONG len, ULONG *ret);
typedef struct thread_basic_info {
    LONG exit_status;
    void *teb;
    void *client_id[2];
    ULONG_PTR affinity;
    LONG priority, base_priority;
} thread_basic_info;

#define THREAD_ACCESS (THREAD_SUSPEND_RESUME | THREAD_GET_CONTEXT | THREAD_SET_CONTEXT | \
                       THREAD_QUERY_INFORMATION | THREAD_SET_INFORMATION | SYNCHRONIZE)

typedef struct self_thread {
    DWORD tid;
    HANDLE h;                /* kept open across freezes (also keeps the tid from reuse) */
    bool suspended;          /* by the current freeze */
    bool started;            /* had a TEB: no need to ask again */
    const NT_TIB *tib;       /* its TEB once started (NULL: unknown) */
    uint64_t ip, sp;
    DWORD_PTR affinity;      /* its own affinity while confined, else 0 */
} self_thread;

typedef struct self {
    DWORD pid, tid;
    bool cfg_flags;          /* PAGE_TARGETS_* accepted so far */
    bool frozen;
    next_thread_fn next_thread; /* NULL: Toolhelp */
    query_thread_fn query_thread; /* NULL: every thread has started */
    resume_process_fn resume_process; /* NULL: one ResumeThread per thread */
    /* While frozen, pages made writable stay so until thaw (restored before any thread runs):
     * one VirtualProtect pair per page, not per write. */
    struct { uint64_t page; uint32_t old; } pages[256];
    size_t npages;
    bool restore_failed;     /* thaw kept the threads frozen once: the next thaw resumes */
    self_thread *threads;    /* VirtualAlloc'd */
    size_t n, cap;
    /* Cursor handles of freeze's thread pass, closed once the threads run again (outside the
     * window: each close is one more wineserver call). */
    HANDLE stale[64];
    size_t nstale;
    DWORD_PTR own_affinity;  /* the calling thread's own affinity while confined, else 0 */
} self;

/* An unaligned 16-bit lvalue: compiles to one `mov word` store. */
typedef uint16_t __attribute__((aligned(1), may_alias)) u16_unaligned;

static hp_status self_read(void *ctx, uint64_t addr, void *buf, size_t n)
{
    (void)ctx;
    if (n && hp_win_readable_range(addr, n)) {
        CopyMemory(buf, (const void *)(uintptr_t)addr, n);
        return HP_OK;
    }
    /* unmapped or odd: let the system say so without faulting */
    return hp_win_read(GetCurrentProcess(), addr, buf, n);
}

/* The CFG-aware protection change of win.h, on this process. */
static bool protect(self *s, uint64_t addr, size_t n, uint32_t prot, uint32_t *old)
{
    return hp_win_protect(GetCurrentProcess(), &s->cfg_flags, addr, n, prot, old);
}

/* Frozen: make addr's page writable until thaw. false: not frozen, table full, or refused
 * (the caller then protects and restores around its own write). */
static bool page_writable(self *s, uint64_t addr)
{
    if (!s->frozen)
        return false;
    uint64_t page = addr & ~(uint64_t)0xFFF;
    for (size_t i = 0; i < s->npages; i++)
        if (s->pages[i].page == page)
            return true;
    uint32_t old;
    if (s->npages == sizeof s->pages / sizeof *s->pages ||
        !protect(s, page, 0x1000, PAGE_EXECUTE_READWRITE, &old))
        return false;
    s->pages[s->npages].page = page;
    s->pages[s->npages++].old = old;
    return true;
}

/* Put back what page_writable changed. HP_E_PROC_PROTECT when a page refused (kept listed). */
static hp_status restore_pages(self *s)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->npages; i++) {
        if (!protect(s, s->pages[i].page, 0x1000, s->pages[i].old, NULL))
            s->pages[keep++] = s->pages[i];
    }
    s->npages = keep;
    return keep ? HP_E_PROC_PROTECT : HP_OK;
}

/* One page of a write: protect (unless frozen made it writable already), copy, restore. A
 * successful VirtualProtect proves the page is committed, so the copy cannot fault. */
static hp_status write_piece(void *ctx, uint64_t at, const uint8_t *src, size_t len)
{
    self *s = ctx;
    uint32_t old;
    bool deferred = page_writable(s, at);
    if (!deferred && !protect(s, at, len, PAGE_EXECUTE_READWRITE, &old))
        return HP_E_PROC_PROTECT;
    CopyMemory((void *)(uintptr_t)at, src, len);
    if (!deferred && !protect(s, at, len, old, NULL))
        return HP_E_PROC_PROTECT;
    return HP_OK;
}

static hp_status self_write(void *ctx, uint64_t addr, const void *buf, size_t n)
{
    HP_CHECK(hp_win_by_page(addr, buf, n, write_piece, ctx));
    return hp_win_flush(GetCurrentProcess(), addr, n);
}

static hp_status self_store2(void *ctx, uint64_t addr, const uint8_t bytes[2])
{
    self *s = ctx;
    uint32_t old;
    /* one cache line never crosses a page: one page to make writable */
    bool deferred = page_writable(s, addr);
    /* stays executable: other threads run this very page */
    if (!deferred && !protect(s, addr, 2, PAGE_EXECUTE_READWRITE, &old))
        return HP_E_PROC_PROTECT;
    /* hp_proc_store2 checked the 2 bytes share a cache line: the store is atomic (SDM 8.1.1) */
    *(volatile u16_unaligned *)(uintptr_t)addr = (uint16_t)(bytes[0] | bytes[1] << 8);
    if (!deferred && !protect(s, addr, 2, old, NULL))
        return HP_E_PROC_PROTECT;
    return hp_win_flush(GetCurrentProcess(), addr, 2);
}

static hp_status self_alloc_near(void *ctx, uint64_t near_addr, size_t size, uint64_t *out)
{
    return hp_win_alloc_near(GetCurrentProcess(), &((self *)ctx)->cfg_flags,
                                  sizeof(void *) == 8, near_addr, size, out);
}

static hp_status self_free(void *ctx, uint64_t addr)
{
    (void)ctx;
    return hp_win_free(GetCurrentProcess(), addr);
}

static hp_status self_flush(void *ctx, uint64_t addr, size_t n)
{
    (void)ctx;
    return hp_win_flush(GetCurrentProcess(), addr, n);
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

/* Drop entry i (its thread exited): close the handle, move the last entry there. */
static void drop(self *s, size_t i)
{
    CloseHandle(s->threads[i].h);
    s->threads[i] = s->threads[--s->n];
}

/* Keep h for tid, and suspend it when asked. false: no room (h is closed). */
static bool add_thread(self *s, DWORD tid, HANDLE h, bool suspend, size_t *added)
{
    if (s->n == s->cap && !grow(s)) {
        CloseHandle(h);
        return false;
    }
    /* a failed suspend: exiting, it runs no more user code; dropped by the next freeze */
    bool ok = suspend && SuspendThread(h) != (DWORD)-1;
    s->threads[s->n++] = (self_thread){ tid, h, ok, false, NULL, 0, 0, 0 };
    *added += ok;
    return true;
}

static void close_later(self *s, HANDLE h)
{
    if (s->nstale < sizeof s->stale / sizeof *s->stale)
        s->stale[s->nstale++] = h;
    else
        CloseHandle(h);
}

static void close_stale(self *s)
{
    while (s->nstale)
        CloseHandle(s->stale[--s->nstale]);
}

static bool known(const self *s, DWORD tid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->threads[i].tid == tid)
            return true;
    return false;
}

/* New threads through NtGetNextThread, suspended when asked. HP_E_UNSUPPORTED when it fails
 * before the first thread (then Toolhelp is used from now on). */
static hp_status discover_next(self *s, bool suspend, size_t *added)
{
    HANDLE cur = NULL;
    bool cur_ours = false;   /* cur is only the cursor: close it after the next step */
    for (;;) {
        HANDLE next = NULL;
        LONG st = s->next_thread(GetCurrentProcess(), cur, THREAD_ACCESS, 0, 0, &next);
        if (cur_ours)
            close_later(s, cur);
        if (st == STATUS_NO_MORE_ENTRIES_)
            return HP_OK;
        if (st < 0)
            return cur ? HP_E_PROC_THREADS : HP_E_UNSUPPORTED;
        DWORD tid = GetThreadId(next);
        cur = next;
        cur_ours = true;
        if (!tid || tid == s->tid || known(s, tid))
            continue;
        if (!add_thread(s, tid, next, suspend, added))
            return HP_E_PROC_THREADS;
        cur_ours = false;
    }
}

/* No thread appeared since the freeze's last pass (one more pass: quick, nothing else runs;
 * a new one is learned, not suspended, for the next freeze). Only then does NtResumeProcess
 * undo exactly our suspensions: a thread started meanwhile from outside, perhaps suspended by
 * its creator, would lose one of its creator's counts. */
static bool only_ours(self *s)
{
    size_t n = s->n, none = 0;
    return s->next_thread && discover_next(s, false, &none) == HP_OK && s->n == n;
}

/* Resume what the current freeze suspended; handles stay open for the next freeze. Under Wine
 * each ResumeThread is a wineserver round trip, and once the first resumed threads run, each
 * later one waits for wineserver behind them (4 ms scheduler ticks: 20 ms for 8 busy threads
 * on 2 cores), so all of them at once when the process holds no other thread. */
static hp_status resume_all(self *s)
{
    hp_status st = HP_OK;
    bool all = s->resume_process && only_ours(s) && s->resume_process(GetCurrentProcess()) >= 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!s->threads[i].suspended)
            continue;
        if (!all && ResumeThread(s->threads[i].h) == (DWORD)-1)
            st = HP_E_PROC_THAW;
        s->threads[i].suspended = false;
    }
    s->frozen = false;
    return st;
}

/* New threads through a Toolhelp snapshot (it goes through wineserver, and takes the heap). */
static hp_status discover_toolhelp(self *s, size_t *added)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return HP_E_PROC_FREEZE;
    THREADENTRY32 te;
    te.dwSize = sizeof te;
    for (BOOL more = Thread32First(snap, &te); more; more = Thread32Next(snap, &te)) {
        if (te.th32OwnerProcessID != s->pid || te.th32ThreadID == s->tid ||
            known(s, te.th32ThreadID))
            continue;
        HANDLE h = OpenThread(THREAD_ACCESS, FALSE, te.th32ThreadID);
        if (!h)
            continue;     /* exited since the snapshot */
        if (!add_thread(s, te.th32ThreadID, h, true, added)) {
            CloseHandle(snap);
            return HP_E_PROC_THREADS;
        }
    }
    CloseHandle(snap);
    return HP_OK;
}

/* Only before the first freeze: later ones start from the threads they saw, and a thread
 * created since is found by freeze's own pass, in a process that is quiet by then. */
static void self_learn_threads(void *ctx)
{
    self *s = ctx;
    size_t none = 0;
    if (s->frozen)
        return;
    if (!s->n && s->next_thread && discover_next(s, false, &none) == HP_E_UNSUPPORTED)
        s->next_thread = NULL;
    close_stale(s);
}

/* With every core busy, each SuspendThread/ResumeThread waits a time slice or more for
 * wineserver and then for this thread to run again (1-3 ms with 8 busy threads on 2 cores,
 * 20 us with 1): moving the others off the last CPU of the process's affinity for the
 * duration keeps one CPU for this thread and wineserver. The others run on the remaining CPUs
 * meanwhile, never stopped by this; each gets its own mask back in release. */
static void self_confine(void *ctx)
{
    self *s = ctx;
    DWORD_PTR mine = 0, sys = 0;
    if (s->frozen || s->own_affinity || !GetProcessAffinityMask(GetCurrentProcess(), &mine, &sys))
        return;
    DWORD_PTR last = mine & ~(mine - 1);
    for (DWORD_PTR m = mine; m; m &= m - 1)
        last = m & ~(m - 1);
    DWORD_PTR others = mine & ~last;
    if (!others)
        return;               /* one CPU: nothing to gain */
    s->own_affinity = SetThreadAffinityMask(GetCurrentThread(), last);
    if (!s->own_affinity)
        return;
    for (size_t i = 0; i < s->n; i++) {
        self_thread *t = &s->threads[i];
        /* a thread kept to CPUs we leave it anyway is not moved */
        if (!t->affinity)
            t->affinity = SetThreadAffinityMask(t->h, others);
    }
}

static void self_release(void *ctx)
{
    self *s = ctx;
    if (!s->own_affinity)
        return;
    for (size_t i = 0; i < s->n; i++) {
        self_thread *t = &s->threads[i];
        if (t->affinity)
            SetThreadAffinityMask(t->h, t->affinity);
        t->affinity = 0;
    }
    SetThreadAffinityMask(GetCurrentThread(), s->own_affinity);
    s->own_affinity = 0;
}

static hp_status self_freeze(void *ctx)
{
    self *s = ctx;
    if (s->frozen)
        return HP_E_TXN_STATE;
    /* threads of earlier freezes first: one call each while they still compete for the CPU */
    for (size_t i = s->n; i-- > 0;) {
        if (SuspendThread(s->threads[i].h) == (DWORD)-1)
            drop(s, i);       /* exited */
        else
            s->threads[i].suspended = true;
    }
    /* then new ones, in a quiet process; a thread created meanwhile shows up in the next
     * pass: repeat until none does */
    for (;;) {
        size_t added = 0;
        hp_status st = HP_E_UNSUPPORTED;
        if (s->next_thread) {
            st = discover_next(s, true, &added);
            if (st == HP_E_UNSUPPORTED)
                s->next_thread = NULL;
        }
        if (!s->next_thread)
            st = discover_toolhelp(s, &added);
        if (st != HP_OK) {
            resume_all(s);
            return st;
        }
        if (!added)
            break;
    }
    /* GetThreadContext waits for the suspension to take effect */
    for (size_t i = 0; i < s->n; i++) {
        if (!s->threads[i].suspended)
            continue;
        /* Wine: a thread whose creator we froze between creating it and starting it has no
         * TEB and no host thread yet, and GetThreadContext would wait for it forever (the
         * creator never runs); it has run no code, so no IP to check. Its TEB reads as 0, or
         * 0x2000 in 32-bit processes (the 32-bit TEB's offset from the missing one). */
        self_thread *t = &s->threads[i];
        thread_basic_info tbi;
        if (!t->started && s->query_thread &&
            s->query_thread(t->h, 0, &tbi, sizeof tbi, NULL) >= 0) {
            if ((uintptr_t)tbi.teb < 0x10000) {
                t->ip = t->sp = 0;
                continue;
            }
            t->tib = tbi.teb;
        }
        t->started = true;
        CONTEXT c;
        ZeroMemory(&c, sizeof c);
        c.ContextFlags = CONTEXT_CONTROL;
        if (!GetThreadContext(s->threads[i].h, &c)) {
            if (WaitForSingleObject(s->threads[i].h, 0) == WAIT_OBJECT_0) {
                drop(s, i--);     /* exited: no IP to check; the last entry moved here */
                continue;
            }
            resume_all(s);
            return HP_E_PROC_CONTEXT;
        }
#ifdef _WIN64
        s->threads[i].ip = c.Rip;
        s->threads[i].sp = c.Rsp;
#else
        s->threads[i].ip = c.Eip;
        s->threads[i].sp = c.Esp;
#endif
    }
    s->frozen = true;
    return HP_OK;
}

static hp_status self_threads(void *ctx, hp_proc_thread *out, size_t cap, size_t *count)
{
    self *s = ctx;
    if (!s->frozen)
        return HP_E_TXN_STATE;
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        const self_thread *t = &s->threads[i];
        if (!t->suspended)
            continue;
        /* read now: a fiber switch moves the stack the TEB describes */
        if (k < cap)
            out[k] = (hp_proc_thread){ t->tid, t->ip, t->sp,
                                       t->tib && t->ip ? (uintptr_t)t->tib->StackBase : 0 };
        k++;
    }
    *count = k;
    return HP_OK;
}

/* Read the control context again (it holds more than the IP kept) and change its IP only. */
static hp_status self_set_ip(void *ctx, uint32_t tid, uint64_t ip)
{
    self *s = ctx;
    if (!s->frozen)
        return HP_E_TXN_STATE;
    for (size_t i = 0; i < s->n; i++) {
        self_thread *t = &s->threads[i];
        if (t->tid != tid || !t->suspended || !t->ip)
            continue;
        CONTEXT c;
        ZeroMemory(&c, sizeof c);
        c.ContextFlags = CONTEXT_CONTROL;
        if (!GetThreadContext(t->h, &c))
            return HP_E_PROC_CONTEXT;
#ifdef _WIN64
        c.Rip = ip;
#else
        c.Eip = (DWORD)ip;
#endif
        if (!SetThreadContext(t->h, &c))
            return HP_E_PROC_CONTEXT;
        t->ip = ip;
        return HP_OK;
    }
    return HP_E_PROC_CONTEXT;
}

static hp_status self_thaw(void *ctx)
{
    self *s = ctx;
    if (!s->frozen)
        return HP_E_TXN_STATE;
    /* protections back before any thread runs; when that fails, stay frozen once so that the
     * caller can undo safely (txn.c), and resume on the next thaw whatever happens */
    if (restore_pages(s) != HP_OK && !s->restore_failed) {
        s->restore_failed = true;
        return HP_E_PROC_THAW;
    }
    bool failed = s->npages != 0;
    s->npages = 0;
    s->restore_failed = false;
    hp_status st = resume_all(s);
    return st == HP_OK && failed ? HP_E_PROC_THAW : st;
}

static void self_pause(void *ctx, unsigned ms)
{
    self *s = ctx;
    if (!s->frozen)
        close_stale(s);
    Sleep(ms);
}

static uint64_t self_clock(void *ctx)
{
    (void)ctx;
    return hp_win_clock_ns();
}

static void self_close(void *ctx)
{
    self *s = ctx;
    if (s->frozen) {
        (void)restore_pages(s);
        resume_all(s);
    }
    self_release(s);
    for (size_t i = 0; i < s->n; i++)
        CloseHandle(s->threads[i].h);
    close_stale(s);
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
    .learn_threads = self_learn_threads,
    .confine = self_confine,
    .release = self_release,
    .freeze = self_freeze,
    .threads = self_threads,
    .set_ip = self_set_ip,
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
    s->next_thread = (next_thread_fn)hp_win_proc("ntdll.dll", "NtGetNextThread");
    s->query_thread = (query_thread_fn)hp_win_proc("ntdll.dll", "NtQueryInformationThread");
    s->resume_process = (resume_process_fn)hp_win_proc("ntdll.dll", "NtResumeProcess");
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
