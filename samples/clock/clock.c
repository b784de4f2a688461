/*
 * clock: a program whose patchable code is not its own. It calls GetLocalTime and
 * GetTickCount, which kernel32 forwards to kernelbase.dll; in Wine's kernelbase both are
 * DECLSPEC_HOTPATCH (`hotpe scan` classes them `prologue`), so a patch for kernelbase.dll
 * (samples/clock-fix) changes what every caller in the process sees.
 *
 *   clock [COUNT [INTERVAL_MS]]    COUNT lines (default 10; 0: until stdin closes), one each
 *                                  INTERVAL_MS (default 1000)
 *
 * Each line: "tick <GetTickCount>  local <YYYY-MM-DD hh:mm:ss.mmm>", flushed.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>

static volatile LONG g_stop;

static DWORD WINAPI stdin_thread(LPVOID arg)
{
    (void)arg;
    char buf[64];
    while (fgets(buf, sizeof buf, stdin))
        ;
    InterlockedExchange(&g_stop, 1);
    return 0;
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 10;
    long interval = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
    if (argc > 3 || count < 0 || interval < 0) {
        fprintf(stderr, "usage: clock [COUNT [INTERVAL_MS]]\n");
        return 2;
    }
    if (count == 0) {
        HANDLE t = CreateThread(NULL, 0, stdin_thread, NULL, 0, NULL);
        if (t)
            CloseHandle(t);
    }
    for (long i = 0; count == 0 || i < count; i++) {
        if (i > 0)
            Sleep((DWORD)interval);
        if (g_stop)
            break;
        SYSTEMTIME st;
        GetLocalTime(&st);
        printf("tick %lu  local %04u-%02u-%02u %02u:%02u:%02u.%03u\n", (unsigned long)GetTickCount(),
               st.wYear, st.wMonth, st.wDay, st.wHour, st.wMinute, st.wSecond, st.wMilliseconds);
        fflush(stdout);
    }
    return 0;
}
