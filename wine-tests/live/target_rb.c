/*
 * A target for the bad-input and fault tests (wine-tests/test_badinput.sh, test_killed.sh):
 * target.c's functions and commands (q, w, m NAME, x), plus the peers' bug cases, each a
 * command on stdin with one reply line:
 *   p OFF    park a waiting thread: suspend it and set its IP to compute + OFF (OFF < 0: the
 *            padding) with SetThreadContext; "p at 0xIP"
 *   P        give it back its own context and resume it; "P released"
 *   t / T    start / stop a thread that creates short threads calling compute, all the time
 *   h / H    start / stop 4 threads hammering HeapAlloc/HeapFree on the process heap
 *   l / L    start / stop a thread doing LoadLibrary/FreeLibrary (version.dll) in a loop
 *   r / R    start rec(5) in a thread, paused inside the level-3 call ("r paused"); let it go
 *            and print "R result=N" (each original level adds 1)
 *   b / B    start a thread spinning inside spin(0) (never leaving it); stop it and print
 *            "B old=O new=N": what that call returned and what a new call returns
 *   k        "k big=N": big(5), a function with a 64 KiB frame (__chkstk prologue)
 * It first prints "pid N threads T". g_calls (the worker loops' calls) and g_seen_compute (the
 * last compute(5) they saw) are exported for tests/win/killer.c, which reads them from outside.
 * OTHER_BUILD gives another build of the same program (another SizeOfImage).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hotpe/patchable.h>

#define THREADS 4

__declspec(dllexport) volatile long g_calls;
__declspec(dllexport) volatile LONG g_seen_compute;

#ifdef OTHER_BUILD
char g_other_build[256 * 1024] = { 1 }; /* another SizeOfImage: "another build" */
#endif

HOTPE_PATCHABLE int compute(int x)
{
    return x * 2;
}

HOTPE_PATCHABLE int label(int x)
{
    return x + 1000;
}

/* ---- recursion: rec(n) = n, paused at level 3 while rec_hold ---------------------------- */
static volatile LONG rec_hold;
static HANDLE rec_at, rec_go;

__attribute__((noinline)) static void rec_pause(int n)
{
    if (n == 3 && rec_hold) {
        rec_hold = 0;
        SetEvent(rec_at);
        WaitForSingleObject(rec_go, INFINITE);
    }
}

HOTPE_PATCHABLE int rec(int n)
{
    int (*volatile self)(int) = rec; /* a real call through the entry at every level */
    if (n == 0)
        return 0;
    rec_pause(n);
    return self(n - 1) + 1;
}

/* ---- a loop that never leaves its function ------------------------------------------------ */
static volatile LONG spin_stop;
static volatile long spin_count;

HOTPE_PATCHABLE int spin(int x)
{
    while (!spin_stop)
        spin_count++;
    return x + 1;
}

/* ---- a large frame: __chkstk (___chkstk_ms on x64) in the prologue ------------------------ */
HOTPE_PATCHABLE int big(int x)
{
    volatile char buf[65536];
    buf[0] = (char)x;
    buf[sizeof buf - 1] = 1;
    return buf[0] + buf[sizeof buf - 1];
}

static volatile LONG seen_label, stop;

static DWORD WINAPI worker(void *arg)
{
    (void)arg;
    while (!stop) {
        for (int i = 0; i < 1000; i++) {
            InterlockedIncrement(&g_calls);
            g_seen_compute = compute(5);
            seen_label = label(5);
        }
        Sleep(0);
    }
    return 0;
}

static DWORD WINAPI watchdog(void *arg)
{
    Sleep((DWORD)(uintptr_t)arg * 1000);
    ExitProcess(3);
}

/* ---- background load: threads created all the time, heap, loader ------------------------- */
static volatile LONG spawn_stop, heap_stop, loader_stop;
static volatile LONG spawned, heap_ops, loads;

static DWORD WINAPI short_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++)
        g_seen_compute = compute(5);
    return 0;
}

static DWORD WINAPI spawner(void *arg)
{
    (void)arg;
    while (!spawn_stop) {
        HANDLE h = CreateThread(NULL, 0, short_thread, NULL, 0, NULL);
        if (h) {
            InterlockedIncrement(&spawned);
            CloseHandle(h);
        }
        if (spawned % 16 == 0)
            Sleep(1); /* keep the number alive bounded */
    }
    return 0;
}

static DWORD WINAPI heap_hammer(void *arg)
{
    (void)arg;
    HANDLE heap = GetProcessHeap();
    void *keep[16] = { 0 };
    for (unsigned i = 0; !heap_stop; i++) {
        unsigned k = i % 16;
        HeapFree(heap, 0, keep[k]);
        keep[k] = HeapAlloc(heap, 0, 16 + (i * 37) % 4000);
        InterlockedIncrement(&heap_ops);
    }
    for (unsigned k = 0; k < 16; k++)
        HeapFree(heap, 0, keep[k]);
    return 0;
}

static DWORD WINAPI loader_loop(void *arg)
{
    (void)arg;
    while (!loader_stop) {
        HMODULE m = LoadLibraryA("version.dll");
        if (m)
            FreeLibrary(m);
        InterlockedIncrement(&loads);
    }
    return 0;
}

static DWORD WINAPI rec_thread(void *arg)
{
    (void)arg;
    return (DWORD)rec(5);
}

static DWORD WINAPI spin_thread(void *arg)
{
    (void)arg;
    return (DWORD)spin(0);
}

static DWORD WINAPI park_wait(void *arg)
{
    WaitForSingleObject((HANDLE)arg, INFINITE);
    return 0;
}

#ifdef _WIN64
#define IP(c) ((c).Rip)
#else
#define IP(c) ((c).Eip)
#endif

int main(void)
{
    const char *env = getenv("HOTPE_TARGET_SECONDS");
    uintptr_t secs = env ? (uintptr_t)atoi(env) : 120;
    CreateThread(NULL, 0, watchdog, (void *)(secs ? secs : 120), 0, NULL);
    rec_at = CreateEventA(NULL, FALSE, FALSE, NULL);
    rec_go = CreateEventA(NULL, FALSE, FALSE, NULL);
    HANDLE park_ev = CreateEventA(NULL, TRUE, FALSE, NULL);
    HANDLE th[THREADS], bg[8] = { 0 }, recth = NULL, spinth = NULL, parked = NULL;
    CONTEXT saved;
    for (int i = 0; i < THREADS; i++)
        th[i] = CreateThread(NULL, 0, worker, NULL, 0, NULL);
    printf("pid %lu threads %d\n", (unsigned long)GetCurrentProcessId(), THREADS);
    fflush(stdout);
    char line[300];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "q") == 0) {
            printf("q compute=%d label=%d\n", compute(5), label(5));
        } else if (strcmp(line, "w") == 0) {
            Sleep(50); /* a fresh value from the loops */
            printf("w compute=%ld label=%ld\n", (long)g_seen_compute, (long)seen_label);
        } else if (strncmp(line, "m ", 2) == 0) {
            printf("m %s %s\n", line + 2, GetModuleHandleA(line + 2) ? "loaded" : "absent");
        } else if (strncmp(line, "p ", 2) == 0 && !parked) {
            parked = CreateThread(NULL, 0, park_wait, park_ev, 0, NULL);
            Sleep(50); /* let it reach its wait */
            CONTEXT c;
            memset(&c, 0, sizeof c);
            c.ContextFlags = CONTEXT_FULL;
            if (SuspendThread(parked) == (DWORD)-1 || !GetThreadContext(parked, &c)) {
                printf("p failed %lu\n", GetLastError());
            } else {
                saved = c;
                IP(c) = (uintptr_t)compute + atoi(line + 2);
                CONTEXT back;
                memset(&back, 0, sizeof back);
                back.ContextFlags = CONTEXT_FULL;
                if (!SetThreadContext(parked, &c) || !GetThreadContext(parked, &back))
                    printf("p failed %lu\n", GetLastError());
                else
                    printf("p at %p compute %p\n", (void *)(uintptr_t)IP(back), (void *)compute);
            }
        } else if (strcmp(line, "P") == 0 && parked) {
            SetThreadContext(parked, &saved);
            ResumeThread(parked);
            SetEvent(park_ev);
            DWORD w = WaitForSingleObject(parked, 5000);
            CloseHandle(parked);
            parked = NULL;
            ResetEvent(park_ev);
            printf("P %s\n", w == WAIT_OBJECT_0 ? "released" : "stuck");
        } else if (strcmp(line, "t") == 0 && !bg[0]) {
            spawn_stop = 0;
            bg[0] = CreateThread(NULL, 0, spawner, NULL, 0, NULL);
            printf("t started\n");
        } else if (strcmp(line, "T") == 0 && bg[0]) {
            spawn_stop = 1;
            WaitForSingleObject(bg[0], 10000);
            CloseHandle(bg[0]);
            bg[0] = NULL;
            printf("T threads=%ld\n", (long)spawned);
        } else if (strcmp(line, "h") == 0 && !bg[1]) {
            heap_stop = 0;
            for (int i = 1; i <= 4; i++)
                bg[i] = CreateThread(NULL, 0, heap_hammer, NULL, 0, NULL);
            printf("h started\n");
        } else if (strcmp(line, "H") == 0 && bg[1]) {
            heap_stop = 1;
            WaitForMultipleObjects(4, &bg[1], TRUE, 10000);
            for (int i = 1; i <= 4; i++) {
                CloseHandle(bg[i]);
                bg[i] = NULL;
            }
            printf("H ops=%ld\n", (long)heap_ops);
        } else if (strcmp(line, "l") == 0 && !bg[5]) {
            loader_stop = 0;
            bg[5] = CreateThread(NULL, 0, loader_loop, NULL, 0, NULL);
            printf("l started\n");
        } else if (strcmp(line, "L") == 0 && bg[5]) {
            loader_stop = 1;
            WaitForSingleObject(bg[5], 10000);
            CloseHandle(bg[5]);
            bg[5] = NULL;
            printf("L loads=%ld\n", (long)loads);
        } else if (strcmp(line, "r") == 0 && !recth) {
            rec_hold = 1;
            recth = CreateThread(NULL, 0, rec_thread, NULL, 0, NULL);
            printf("r %s\n", WaitForSingleObject(rec_at, 10000) == WAIT_OBJECT_0 ? "paused" : "late");
        } else if (strcmp(line, "R") == 0 && recth) {
            DWORD code = 0;
            SetEvent(rec_go);
            WaitForSingleObject(recth, 10000);
            GetExitCodeThread(recth, &code);
            CloseHandle(recth);
            recth = NULL;
            printf("R result=%lu\n", (unsigned long)code);
        } else if (strcmp(line, "b") == 0 && !spinth) {
            spin_stop = 0;
            long c0 = spin_count;
            spinth = CreateThread(NULL, 0, spin_thread, NULL, 0, NULL);
            while (spin_count == c0)
                Sleep(1);
            printf("b spinning\n");
        } else if (strcmp(line, "B") == 0 && spinth) {
            DWORD code = 0;
            spin_stop = 1;
            WaitForSingleObject(spinth, 10000);
            GetExitCodeThread(spinth, &code);
            CloseHandle(spinth);
            spinth = NULL;
            printf("B old=%lu new=%d\n", (unsigned long)code, spin(0));
        } else if (strcmp(line, "k") == 0) {
            printf("k big=%d\n", big(5));
        } else if (strcmp(line, "x") == 0) {
            break;
        }
        fflush(stdout);
    }
    stop = 1;
    WaitForMultipleObjects(THREADS, th, TRUE, 5000);
    return 0;
}
