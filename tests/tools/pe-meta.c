/*
 * pe-meta: print the PE checksum, the COFF symbols and the debug directory as pe/ reads them,
 * in a line-oriented text format the oracle tests compare with the stored CheckSum field,
 * llvm-readobj and objdump.
 *
 *   pe-meta [--checksum] [--symbols] [--debug] IMAGE...
 *
 * With no part named, every part is printed. For each image, numbers in hex:
 *
 *   file PATH
 *   checksum STORED COMPUTED [UNMARKED]
 *   symbols COUNT                  (primary records; aux records not counted)
 *   func RVA NAME                  (each function symbol defined in a section, table order)
 *   debug TYPE SIZE RVA FILEOFFSET
 *   rsds GUID AGE PATH             (GUID as its 16 stored bytes; PATH "-" when empty)
 *   error PART STATUS_NAME: message
 *
 * UNMARKED is printed for Wine builtin images only. winebuild marks them after the linker has
 * stored CheckSum: it writes "Wine builtin DLL" over the DOS stub (0x40..0x5f) and, for DLLs
 * that prefer a native version, sets DllCharacteristics bit 0x10 (Wine's
 * IMAGE_DLLCHARS_PREFER_NATIVE). UNMARKED is the checksum with both undone, i.e. the file the
 * linker checksummed.
 *
 * Exit status: 0 when every part of every image parsed, 1 otherwise, 2 on bad usage or I/O.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/pe/pe.h"
#include "hotpe/pe/file.h"

enum { PART_CHECKSUM = 1, PART_SYMBOLS = 2, PART_DEBUG = 4 };

static int report(const char *part, hp_status s)
{
    if (s == HP_OK)
        return 0;
    printf("error %s %s: %s\n", part, hp_status_name(s), hp_status_str(s));
    return 1;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    uint8_t *data;
    return hp_file_read(path, &data, size, NULL) == HP_OK ? data : NULL;
}

/* The 32 bytes GNU ld's DOS stub has at 0x40, and what winebuild --builtin puts there. */
static const uint8_t dos_stub[32] = {
    0x0e, 0x1f, 0xba, 0x0e, 0x00, 0xb4, 0x09, 0xcd, 0x21, 0xb8, 0x01, 0x4c, 0xcd, 0x21, 'T', 'h',
    'i',  's',  ' ',  'p',  'r',  'o',  'g',  'r',  'a',  'm',  ' ',  'c',  'a',  'n',  'n', 'o',
};
static const uint8_t wine_mark[32] = "Wine builtin DLL";
#define WINE_PREFER_NATIVE 0x0010u

static void dump_checksum(const hp_pe *pe, const uint8_t *data, size_t size)
{
    printf("checksum %" PRIx32 " %" PRIx32, pe->checksum, hp_pe_checksum(pe));
    if (size >= 0x60 && memcmp(data + 0x40, wine_mark, sizeof wine_mark) == 0) {
        uint8_t *copy = malloc(size);
        hp_arena arena = HP_ARENA_INIT;
        hp_pe unmarked;
        if (copy) {
            memcpy(copy, data, size);
            memcpy(copy + 0x40, dos_stub, sizeof dos_stub);
            uint64_t dllchar = (uint64_t)pe->opt_offset +
                               offsetof(HP_IMAGE_OPTIONAL_HEADER32, DllCharacteristics);
            if (pe->dll_characteristics & WINE_PREFER_NATIVE && dllchar < size)
                copy[dllchar] &= (uint8_t)~WINE_PREFER_NATIVE;
            if (hp_pe_parse(&unmarked, &arena, copy, size, HP_PE_LAYOUT_FILE) == HP_OK)
                printf(" %" PRIx32, hp_pe_checksum(&unmarked));
        }
        hp_arena_free(&arena);
        free(copy);
    }
    putchar('\n');
}

static int dump_symbols(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_symbols syms;
    hp_status s = hp_pe_symbols_parse(pe, arena, &syms);
    if (s != HP_OK)
        return report("symbols", s);
    printf("symbols %" PRIu32 "\n", syms.count);
    for (uint32_t i = 0; i < syms.count; i++) {
        uint32_t rva;
        if (hp_pe_symbol_function_rva(pe, &syms.entries[i], &rva))
            printf("func %" PRIx32 " %s\n", rva, syms.entries[i].name);
    }
    return 0;
}

static int dump_debug(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_debug dbg;
    hp_status s = hp_pe_debug_parse(pe, arena, &dbg);
    if (s != HP_OK)
        return report("debug", s);
    for (uint32_t i = 0; i < dbg.count; i++) {
        const hp_pe_debug_entry *e = &dbg.entries[i];
        printf("debug %" PRIx32 " %" PRIx32 " %" PRIx32 " %" PRIx32 "\n", e->type, e->size,
               e->rva, e->file_offset);
    }
    if (dbg.codeview.present) {
        printf("rsds ");
        for (int i = 0; i < 16; i++)
            printf("%02x", dbg.codeview.guid[i]);
        printf(" %" PRIx32 " %s\n", dbg.codeview.age,
               dbg.codeview.path[0] ? dbg.codeview.path : "-");
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned parts = 0;
    int first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--checksum") == 0)
            parts |= PART_CHECKSUM;
        else if (strcmp(argv[first], "--symbols") == 0)
            parts |= PART_SYMBOLS;
        else if (strcmp(argv[first], "--debug") == 0)
            parts |= PART_DEBUG;
        else
            first = argc + 1;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: pe-meta [--checksum] [--symbols] [--debug] IMAGE...\n");
        return 2;
    }
    if (!parts)
        parts = PART_CHECKSUM | PART_SYMBOLS | PART_DEBUG;

    int rc = 0;
    for (int i = first; i < argc; i++) {
        size_t size = 0;
        uint8_t *data = read_file(argv[i], &size);
        if (!data) {
            fprintf(stderr, "pe-meta: cannot read %s\n", argv[i]);
            return 2;
        }
        printf("file %s\n", argv[i]);
        hp_arena arena = HP_ARENA_INIT;
        hp_pe pe;
        hp_status s = hp_pe_parse(&pe, &arena, data, size, HP_PE_LAYOUT_FILE);
        if (s != HP_OK) {
            rc |= report("parse", s);
        } else {
            if (parts & PART_CHECKSUM)
                dump_checksum(&pe, data, size);
            if (parts & PART_SYMBOLS)
                rc |= dump_symbols(&pe, &arena);
            if (parts & PART_DEBUG)
                rc |= dump_debug(&pe, &arena);
        }
        hp_arena_free(&arena);
        free(data);
    }
    return rc;
}
