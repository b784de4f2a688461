/*
 * writer_check: hp_pe_add_section on real images, checked by pe/ itself and by LIEF 0.9.
 *
 *   writer_check OUTDIR < FILE-LIST (one path a line)
 *
 * For each image: add a section ".hotpe" (initialized read-only data, a known byte pattern of
 * a size that varies per file), write the result to OUTDIR/ARCH-BASENAME, then check it:
 *  - pe/ parses it; every old section is unchanged; the new one lies after the last section
 *    (VirtualAddress aligned to SectionAlignment, raw data aligned to FileAlignment) and holds
 *    the pattern; SizeOfImage covers it; CheckSum equals hp_pe_checksum of the output; the
 *    COFF symbols, the debug directory, exports and imports read as before;
 *  - every byte before the old end of raw data is unchanged except the header fields the
 *    writer owns, and the overlay (symbol table, certificates) moved intact;
 *  - LIEF parses it and agrees on the section table, SizeOfImage, CheckSum and
 *    PointerToSymbolTable.
 * Prints "written OUT CHECKSUM RVA VSIZE" per image for the shell (llvm-readobj and Wine
 * checks), "FILE: what" per disagreement, and finally "N passed, M failed".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <LIEF/PE.h>

#include "hotpe/pe/pe.h"
#include "hotpe/pe/file.h"

#define NEW_NAME ".hotpe"

typedef struct ctx {
    const char *path;
    unsigned bad;
} ctx;

static void bad(ctx *c, const char *what, uint64_t ours, uint64_t want)
{
    printf("%s: %s: 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", c->path, what, ours, want);
    c->bad++;
}
#define EXPECT(c, what, ours, want)                     \
    do {                                                \
        uint64_t o_ = (ours), w_ = (want);              \
        if (o_ != w_)                                   \
            bad((c), (what), o_, w_);                   \
    } while (0)

static uint8_t *read_file(const char *path, size_t *size)
{
    uint8_t *data;
    return hp_file_read(path, &data, size, NULL) == HP_OK ? data : NULL;
}

static uint64_t align(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* What the image says about itself that the writer must keep. */
typedef struct facts {
    hp_pe_symbols syms;
    hp_pe_debug dbg;
    uint32_t exports, import_dlls;
} facts;

static void gather(ctx *c, const hp_pe *pe, hp_arena *arena, facts *f)
{
    hp_pe_exports ex;
    hp_pe_imports im;
    hp_status s;
    memset(f, 0, sizeof *f);
    if ((s = hp_pe_symbols_parse(pe, arena, &f->syms)) != HP_OK ||
        (s = hp_pe_debug_parse(pe, arena, &f->dbg)) != HP_OK ||
        (s = hp_pe_exports_parse(pe, arena, &ex)) != HP_OK ||
        (s = hp_pe_imports_parse(pe, arena, false, &im)) != HP_OK) {
        printf("%s: directory parse failed: %s\n", c->path, hp_status_name(s));
        c->bad++;
        return;
    }
    f->exports = ex.present ? ex.count : 0;
    f->import_dlls = im.count;
}

static void compare_facts(ctx *c, const facts *a, const facts *b)
{
    EXPECT(c, "symbols.count", b->syms.count, a->syms.count);
    for (uint32_t i = 0; i < a->syms.count && i < b->syms.count; i++)
        if (strcmp(a->syms.entries[i].name, b->syms.entries[i].name) != 0 ||
            a->syms.entries[i].value != b->syms.entries[i].value) {
            printf("%s: symbol %u differs: %s vs %s\n", c->path, i, b->syms.entries[i].name,
                   a->syms.entries[i].name);
            c->bad++;
            break;
        }
    EXPECT(c, "debug.count", b->dbg.count, a->dbg.count);
    EXPECT(c, "codeview.present", b->dbg.codeview.present, a->dbg.codeview.present);
    if (a->dbg.codeview.present && b->dbg.codeview.present)
        EXPECT(c, "codeview.guid+age",
               memcmp(a->dbg.codeview.guid, b->dbg.codeview.guid, 16) == 0 &&
                   a->dbg.codeview.age == b->dbg.codeview.age,
               1);
    EXPECT(c, "exports.count", b->exports, a->exports);
    EXPECT(c, "imports.count", b->import_dlls, a->import_dlls);
}

/* Header bytes the writer rewrites: any other byte before the old raw end must be unchanged. */
static bool writer_owned(const hp_pe *pe, uint64_t off)
{
    uint64_t fh = (uint64_t)pe->nt_offset + 4, opt = pe->opt_offset;
    uint64_t dirs = opt + (pe->pe32plus ? sizeof(HP_IMAGE_OPTIONAL_HEADER64)
                                        : sizeof(HP_IMAGE_OPTIONAL_HEADER32));
    struct { uint64_t at, n; } owned[] = {
        { fh + offsetof(HP_IMAGE_FILE_HEADER, NumberOfSections), 2 },
        { fh + offsetof(HP_IMAGE_FILE_HEADER, PointerToSymbolTable), 4 },
        { opt + offsetof(HP_IMAGE_OPTIONAL_HEADER32, SizeOfCode), 12 }, /* code, init, uninit */
        { opt + offsetof(HP_IMAGE_OPTIONAL_HEADER32, SizeOfImage), 4 },
        { opt + offsetof(HP_IMAGE_OPTIONAL_HEADER32, CheckSum), 4 },
        { dirs + 8 * HP_IMAGE_DIRECTORY_ENTRY_SECURITY, 4 },
        /* the new header; old headers are compared field by field, and their
         * PointerToRelocations / PointerToLinenumbers may move with the overlay */
        { pe->section_table_offset, ((uint64_t)pe->section_count + 1) * 40 },
    };
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        if (off >= owned[i].at && off < owned[i].at + owned[i].n)
            return true;
    return false;
}

static void compare_lief(ctx *c, const char *out_path, const hp_pe *np)
{
    Pe_Binary_t *lief = pe_parse(out_path);
    if (!lief) {
        printf("%s: LIEF cannot parse the output\n", c->path);
        c->bad++;
        return;
    }
    EXPECT(c, "LIEF NumberOfSections", lief->header.numberof_sections, np->section_count);
    EXPECT(c, "LIEF PointerToSymbolTable", lief->header.pointerto_symbol_table,
           np->symbol_table_offset);
    EXPECT(c, "LIEF SizeOfImage", lief->optional_header.sizeof_image, np->size_of_image);
    EXPECT(c, "LIEF CheckSum", lief->optional_header.checksum, np->checksum);
    unsigned n = 0;
    for (; lief->sections && lief->sections[n]; n++) {
        const Pe_Section_t *ls = lief->sections[n];
        if (n >= np->section_count)
            continue;
        const hp_pe_section *s = &np->sections[n];
        char what[64];
        snprintf(what, sizeof what, "LIEF sections[%u].name", n);
        EXPECT(c, what, strncmp(ls->name, (const char *)s->raw_name, 8) == 0, 1);
        snprintf(what, sizeof what, "LIEF sections[%u].VirtualAddress", n);
        EXPECT(c, what, ls->virtual_address, s->virtual_address);
        snprintf(what, sizeof what, "LIEF sections[%u].VirtualSize", n);
        EXPECT(c, what, ls->virtual_size, s->virtual_size);
        snprintf(what, sizeof what, "LIEF sections[%u].SizeOfRawData", n);
        EXPECT(c, what, ls->size, s->raw_size);
        snprintf(what, sizeof what, "LIEF sections[%u].PointerToRawData", n);
        EXPECT(c, what, ls->offset, s->raw_offset);
    }
    EXPECT(c, "LIEF section count", n, np->section_count);
    pe_binary_destroy(lief);
}

static bool check_file(const char *path, const char *outdir, unsigned index)
{
    ctx c = { path, 0 };
    size_t size = 0;
    uint8_t *data = read_file(path, &size), *out = NULL;
    if (!data) {
        printf("%s: cannot read the file\n", path);
        return false;
    }
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe, np;
    facts before, after;
    hp_status s = hp_pe_parse(&pe, &arena, data, size, HP_PE_LAYOUT_FILE);
    if (s != HP_OK) {
        printf("%s: hp_pe_parse: %s\n", path, hp_status_name(s));
        c.bad++;
        goto done;
    }
    gather(&c, &pe, &arena, &before);

    /* A size that is not a multiple of the alignments, different per file. */
    uint32_t n = 0x1234 + (index * 0x3579u) % 0x2000;
    uint8_t *payload = hp_arena_alloc(&arena, n);
    for (uint32_t k = 0; k < n; k++)
        payload[k] = (uint8_t)(k * 131 + 7);
    hp_pe_new_section sec = { NEW_NAME, HP_IMAGE_SCN_CNT_INITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ,
                              payload, n, 0 };
    size_t out_size;
    uint32_t rva;
    if ((s = hp_pe_add_section(&pe, &sec, &out, &out_size, &rva)) != HP_OK) {
        printf("%s: hp_pe_add_section: %s\n", path, hp_status_name(s));
        c.bad++;
        goto done;
    }

    const char *base = strrchr(path, '/');
    char out_path[8192];
    int len = snprintf(out_path, sizeof out_path, "%s/%s-%s", outdir, hp_pe_machine_name(&pe),
                       base ? base + 1 : path);
    FILE *f = len > 0 && (size_t)len < sizeof out_path ? fopen(out_path, "wb") : NULL;
    if (!f || fwrite(out, 1, out_size, f) != out_size || fclose(f) != 0) {
        printf("%s: cannot write %s\n", path, out_path);
        c.bad++;
        goto done;
    }

    if ((s = hp_pe_parse(&np, &arena, out, out_size, HP_PE_LAYOUT_FILE)) != HP_OK) {
        printf("%s: output does not parse: %s\n", path, hp_status_name(s));
        c.bad++;
        goto done;
    }
    EXPECT(&c, "NumberOfSections", np.section_count, pe.section_count + 1u);
    uint64_t raw_end = pe.size_of_headers, va_end = pe.size_of_headers;
    for (uint16_t i = 0; i < pe.section_count && i < np.section_count; i++) {
        const hp_pe_section *a = &pe.sections[i], *b = &np.sections[i];
        EXPECT(&c, "old section unchanged",
               memcmp(a->raw_name, b->raw_name, 8) == 0 &&
                   a->virtual_address == b->virtual_address &&
                   a->virtual_size == b->virtual_size && a->raw_offset == b->raw_offset &&
                   a->raw_size == b->raw_size && a->characteristics == b->characteristics,
               1);
        if (a->raw_size && (uint64_t)a->raw_offset + a->raw_size > raw_end)
            raw_end = (uint64_t)a->raw_offset + a->raw_size;
        uint32_t ext = a->virtual_size ? a->virtual_size : a->raw_size;
        va_end = (uint64_t)a->virtual_address + ext;
    }
    if (np.section_count == pe.section_count + 1u) {
        const hp_pe_section *ns = &np.sections[pe.section_count];
        EXPECT(&c, "new name", strcmp(ns->name, NEW_NAME), 0);
        EXPECT(&c, "new VirtualAddress", ns->virtual_address, align(va_end, pe.section_alignment));
        EXPECT(&c, "rva out", rva, ns->virtual_address);
        EXPECT(&c, "new VirtualSize", ns->virtual_size, n);
        EXPECT(&c, "new PointerToRawData", ns->raw_offset, align(raw_end, pe.file_alignment));
        EXPECT(&c, "new SizeOfRawData", ns->raw_size, align(n, pe.file_alignment));
        EXPECT(&c, "new data", memcmp(out + ns->raw_offset, payload, n), 0);
        EXPECT(&c, "SizeOfImage",
               np.size_of_image, align((uint64_t)ns->virtual_address + n, pe.section_alignment));
        /* The overlay (everything after the old raw data) moved behind the new data intact. */
        uint64_t overlay = size - raw_end;
        uint64_t moved = overlay ? out_size - overlay : 0;
        EXPECT(&c, "overlay after the new data",
               !overlay || moved >= (uint64_t)ns->raw_offset + ns->raw_size, 1);
        EXPECT(&c, "overlay bytes",
               !overlay || memcmp(out + moved, data + raw_end, overlay) == 0, 1);
        if (pe.symbol_table_offset)
            EXPECT(&c, "PointerToSymbolTable", np.symbol_table_offset,
                   pe.symbol_table_offset >= raw_end ? pe.symbol_table_offset + (moved - raw_end)
                                                     : pe.symbol_table_offset);
    }
    EXPECT(&c, "CheckSum field", np.checksum, hp_pe_checksum(&np));
    for (uint64_t off = 0; off < raw_end; off++)
        if (out[off] != data[off] && !writer_owned(&pe, off)) {
            printf("%s: byte at 0x%" PRIx64 " changed\n", path, off);
            c.bad++;
            break;
        }
    gather(&c, &np, &arena, &after);
    compare_facts(&c, &before, &after);
    compare_lief(&c, out_path, &np);
    if (!c.bad)
        printf("written %s %" PRIx32 " %" PRIx32 " %" PRIx32 "\n", out_path, np.checksum, rva, n);

done:
    free(out);
    hp_arena_free(&arena);
    free(data);
    return c.bad == 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: writer_check OUTDIR < FILE-LIST (one path a line)\n");
        return 2;
    }
    unsigned passed = 0, failed = 0;
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        if (check_file(line, argv[1], passed + failed))
            passed++;
        else
            failed++;
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed || !passed ? 1 : 0;
}
