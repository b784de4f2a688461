/*
 * The running process of bench/bench_apply.sh: the functions of wine-tests/live/target.c
 * (compute, label, g_calls: the same patch applies) called in tight loops by
 * HOTPE_BENCH_THREADS busy threads (default 8, at most 64), with no Sleep in the loop. Prints
 * "pid N threads T", then exits on "x" or end of input; a watchdog exits after
 * HOTPE_TARGET_SECONDS (default 300).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hotpe/patchable.h>

#define MAX_THREADS 64

long g_calls;
volatile long g_events; /* written by the patch's callbacks (wine-tests/live/patch.c) */

HOTPE_PATCHABLE int compute(int x)
{
    return x * 2;
}

HOTPE_PATCHABLE int label(int x)
{
    return x + 1000;
}

static volatile LONG sink, stop;

static DWORD WINAPI worker(void *arg)
{
    (void)arg;
    while (!stop)
        sink = compute(5) + label(5);
    return 0;
}

static DWORD WINAPI watchdog(void *arg)
{
    Sleep((DWORD)(uintptr_t)arg * 1000);
    ExitProcess(3);
}

int main(void)
{
    const char *env = getenv("HOTPE_TARGET_SECONDS");
    uintptr_t secs = env && atoi(env) > 0 ? (uintptr_t)atoi(env) : 300;
    CreateThread(NULL, 0, watchdog, (void *)secs, 0, NULL);
    env = getenv("HOTPE_BENCH_THREADS");
    int n = env ? atoi(env) : 8;
    n = n < 0 ? 0 : n > MAX_THREADS ? MAX_THREADS : n;
    HANDLE th[MAX_THREADS];
    for (int i = 0; i < n; i++)
        th[i] = CreateThread(NULL, 0, worker, NULL, 0, NULL);
    printf("pid %lu threads %d\n", (unsigned long)GetCurrentProcessId(), n);
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin) && strncmp(line, "x", 1) != 0)
        ;
    stop = 1;
    if (n)
        WaitForMultipleObjects((DWORD)n, th, TRUE, 5000);
    return 0;
}
