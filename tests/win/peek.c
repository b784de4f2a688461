/*
 * peek: a running process's bytes, read from outside (ReadProcessMemory), for the Wine tests
 * that compare a target's sites before and after a refused apply (wine-tests/test_badinput.sh).
 *
 *   peek PID MODULE RVA:LEN...
 *
 * Prints one line: the bytes of every range in hex, ranges separated by spaces. RVA and LEN
 * take C notation (0x...). Exit status: 0 read, 1 no such process/module or unreadable bytes,
 * 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <psapi.h>

static HMODULE find_module(HANDLE h, const char *name)
{
    HMODULE mods[1024];
    DWORD need = 0;
    if (!EnumProcessModulesEx(h, mods, sizeof mods, &need, LIST_MODULES_ALL))
        return NULL;
    for (size_t i = 0; i < need / sizeof mods[0] && i < 1024; i++) {
        char base[MAX_PATH];
        if (GetModuleBaseNameA(h, mods[i], base, sizeof base) && _stricmp(base, name) == 0)
            return mods[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: peek PID MODULE RVA:LEN...\n");
        return 2;
    }
    DWORD pid = strtoul(argv[1], NULL, 0);
    HANDLE h = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, pid);
    if (!h) {
        fprintf(stderr, "peek: pid %lu: OpenProcess error %lu\n", pid, GetLastError());
        return 1;
    }
    HMODULE m = find_module(h, argv[2]);
    if (!m) {
        fprintf(stderr, "peek: pid %lu: %s not loaded\n", pid, argv[2]);
        return 1;
    }
    for (int i = 3; i < argc; i++) {
        char *colon;
        unsigned long rva = strtoul(argv[i], &colon, 0), len = 0;
        if (*colon == ':')
            len = strtoul(colon + 1, NULL, 0);
        unsigned char buf[256];
        SIZE_T got = 0;
        if (len == 0 || len > sizeof buf) {
            fprintf(stderr, "peek: bad range %s\n", argv[i]);
            return 2;
        }
        if (!ReadProcessMemory(h, (const unsigned char *)m + rva, buf, len, &got) || got != len) {
            fprintf(stderr, "peek: pid %lu: %s+0x%lx: ReadProcessMemory error %lu\n", pid,
                    argv[2], rva, GetLastError());
            return 1;
        }
        printf("%s", i > 3 ? " " : "");
        for (unsigned long k = 0; k < len; k++)
            printf("%02x", buf[k]);
    }
    printf("\n");
    CloseHandle(h);
    return 0;
}
