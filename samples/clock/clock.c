/*
 * clock: a program whose patchable code is not its own. It calls GetLocalTime and
 * GetTickCount, which kernel32 forwards to kernelbase.dll; in Wine's kernelbase both are
 * DECLSPEC_HOTPATCH (`hotpe scan` classes them `prologue`), so a patch for kernelbase.dll
 * (samples/clock-fix) changes what every caller in the process sees.
 *
 *   clock [COUNT [INTERVAL_MS]]    COUNT lines (default 10; 0: until stdin closes), one each
 *                                  INTERVAL_MS (default 1000)
 *   clock -i                       on request: prints "pid <its Windows pid>", then one line for
 *                                  each line read on stdin, until end of stdin or a line "q";
 *                                  a line "b" prints the bytes around kernelbase's GetLocalTime
 *                                  instead (6 before the entry, 8 at it: what a patch rewrites)
 *
 * Each line: "tick <GetTickCount>  local <YYYY-MM-DD hh:mm:ss.mmm>", flushed.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile LONG g_stop;

static void print_time(void)
{
    SYSTEMTIME st;
    GetLocalTime(&st);
    printf("tick %lu  local %04u-%02u-%02u %02u:%02u:%02u.%03u\n", (unsigned long)GetTickCount(), st.wYear,
           st.wMonth, st.wDay, st.wHour, st.wMinute, st.wSecond, st.wMilliseconds);
    fflush(stdout);
}

static void print_bytes(void)
{
    HMODULE kb = GetModuleHandleA("kernelbase.dll");
    const unsigned char *p = kb ? (const unsigned char *)(void *)GetProcAddress(kb, "GetLocalTime") : NULL;
    if (!p) {
        printf("bytes kernelbase!GetLocalTime: not found\n");
    } else {
        printf("bytes kernelbase!GetLocalTime -6:");
        for (int i = -6; i < 8; i++)
            printf(i == 0 ? "  entry: %02x" : " %02x", p[i]);
        printf("\n");
    }
    fflush(stdout);
}

/* -i: a process that stays up and answers when asked, so a test can compare two processes'
 * answers at chosen moments (before, after a patch, after its revert). */
static int on_request(void)
{
    char buf[64];
    printf("pid %lu\n", (unsigned long)GetCurrentProcessId());
    fflush(stdout);
    while (fgets(buf, sizeof buf, stdin) && buf[0] != 'q') {
        if (buf[0] == 'b')
            print_bytes();
        else
            print_time();
    }
    return 0;
}

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
    if (argc == 2 && strcmp(argv[1], "-i") == 0)
        return on_request();
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 10;
    long interval = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
    if (argc > 3 || count < 0 || interval < 0) {
        fprintf(stderr, "usage: clock [COUNT [INTERVAL_MS]] | clock -i\n");
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
        print_time();
    }
    return 0;
}
