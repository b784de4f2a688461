/*
 * loadlib: load a DLL with the real Windows loader and report the result (used under Wine by
 * tests/oracle/test_writer.sh on DLLs that hp_pe_add_section rewrote).
 *
 *   loadlib DLL [SECTION]
 *
 * Prints "OK BASE PATH" (PATH as the loader reports it) or "FAIL DLL: LoadLibrary error N".
 * With SECTION, the mapped image is parsed in loaded layout and the section's RVA, size and
 * first 16 bytes as mapped are printed: "section NAME RVA VSIZE HEX". Exit status: 0 when
 * loaded (and the section found), 1 otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include <windows.h>
#include <psapi.h>

#include "hotpe/pe/pe.h"

static int show_section(HMODULE h, const char *name)
{
    MODULEINFO mi;
    if (!GetModuleInformation(GetCurrentProcess(), h, &mi, sizeof mi)) {
        printf("FAIL GetModuleInformation error %lu\n", GetLastError());
        return 1;
    }
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    hp_status s = hp_pe_parse(&pe, &arena, mi.lpBaseOfDll, mi.SizeOfImage, HP_PE_LAYOUT_LOADED);
    const hp_pe_section *sec = s == HP_OK ? hp_pe_section_by_name(&pe, name) : NULL;
    hp_rd view;
    uint8_t head[16];
    int rc = 1;
    if (s != HP_OK) {
        printf("FAIL parse of the mapped image: %s\n", hp_status_str(s));
    } else if (!sec) {
        printf("FAIL no section %s in the mapped image\n", name);
    } else if (hp_pe_rva_view(&pe, sec->virtual_address, sizeof head, &view) != HP_OK ||
               hp_rd_bytes(&view, 0, sizeof head, head) != HP_OK) {
        printf("FAIL section %s shorter than 16 bytes\n", name);
    } else {
        printf("section %s %lx %lx ", name, (unsigned long)sec->virtual_address,
               (unsigned long)sec->virtual_size);
        for (size_t i = 0; i < sizeof head; i++)
            printf("%02x", head[i]);
        printf("\n");
        rc = 0;
    }
    hp_arena_free(&arena);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: loadlib DLL [SECTION]\n");
        return 2;
    }
    SetLastError(0xdeadbeef);
    HMODULE h = LoadLibraryA(argv[1]);
    if (!h) {
        printf("FAIL %s: LoadLibrary error %lu\n", argv[1], GetLastError());
        return 1;
    }
    char path[MAX_PATH] = "";
    GetModuleFileNameA(h, path, sizeof path);
    printf("OK %p %s\n", (void *)h, path);
    int rc = argc == 3 ? show_section(h, argv[2]) : 0;
    FreeLibrary(h);
    return rc;
}
