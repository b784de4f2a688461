/*
 * A program that uses price.dll (wine-tests/install/price.c), for wine-tests/test_machine.sh.
 * Built two ways:
 *   default  price.dll is an import: the loader brings it in before main, and main's first call
 *            is the program's first call of price
 *   LATE     price.dll is loaded by the "l PATH" command, and called at once
 * It prints "pid N first=F" at start (F: price(5) from main's first call, or -1 for LATE), then
 * answers commands on stdin:
 *   q        "q price=P": price(5) now
 *   l PATH   (LATE) LoadLibraryA(PATH) and price(5) at once: "l first=F", or "l failed E"
 *   m NAME   "m NAME loaded|absent": whether module NAME is in this process
 *   x        exit
 * A watchdog exits after 150 s.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

typedef int (*price_fn)(int);

#ifdef LATE
static price_fn price_p;
#else
__declspec(dllimport) int price(int x);
static price_fn price_p = price;
#endif

static DWORD WINAPI watchdog(void *arg)
{
    (void)arg;
    Sleep(150000);
    ExitProcess(3);
}

int main(void)
{
    char line[512];
    setvbuf(stdout, NULL, _IONBF, 0);
    CreateThread(NULL, 0, watchdog, NULL, 0, NULL);
    printf("pid %lu first=%d\n", (unsigned long)GetCurrentProcessId(), price_p ? price_p(5) : -1);
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "x") == 0)
            break;
        if (strcmp(line, "q") == 0) {
            printf("q price=%d\n", price_p ? price_p(5) : -1);
        } else if (strncmp(line, "l ", 2) == 0) {
            HMODULE m = LoadLibraryA(line + 2);
            price_p = m ? (price_fn)(uintptr_t)GetProcAddress(m, "price") : NULL;
            if (price_p)
                printf("l first=%d\n", price_p(5));
            else
                printf("l failed %lu\n", (unsigned long)GetLastError());
        } else if (strncmp(line, "m ", 2) == 0) {
            printf("m %s %s\n", line + 2, GetModuleHandleA(line + 2) ? "loaded" : "absent");
        }
    }
    return 0;
}
