/*
 * pe-dump: print what pe/ reads from one image, in a stable line-oriented text format that
 * the oracle tests compare with llvm-readobj.
 *
 *   pe-dump [--exports] [--relocs] [--pdata] [--loadcfg] [--loaded] IMAGE
 *
 * With no part named, every part is printed. --loaded maps the file first (sections copied to
 * their RVAs) and parses that, to exercise the loaded layout. Lines, numbers in hex:
 *
 *   image MACHINE base IMAGEBASE
 *   export ORDINAL RVA NAME|- FORWARDER|-      (every slot, unused ones with RVA 0)
 *   reloc RVA TYPE                             (TYPE is the number; ABSOLUTE padding kept)
 *   pdata BEGIN END UNWIND
 *   pdata-primary BEGIN PBEGIN PEND PUNWIND    (only for chained unwind info)
 *   loadcfg dir_size DIRSIZE size SIZE stride STRIDE
 *   loadcfg-field NAME VALUE                   (each field the image's Size covers)
 *   guard-fid|guard-iat|guard-longjmp|guard-ehcont RVA FLAGS
 *   seh RVA                                    (x86 SEHandlerTable)
 *   error PART STATUS_NAME: message
 *
 * Names are printed with bytes outside 0x21..0x7e escaped as \xNN. Exit status: 0 when every
 * part parsed, 1 when one failed (the others are still printed), 2 on bad usage or I/O.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/pe/pe.h"
#include "hotpe/pe/file.h"

enum { PART_EXPORTS = 1, PART_RELOCS = 2, PART_PDATA = 4, PART_LOADCFG = 8 };

static void print_name(const char *s)
{
    if (!s) {
        fputs("-", stdout);
        return;
    }
    if (!*s)
        fputs("\\x00", stdout); /* an empty name must not read as a missing field */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c > 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
}

static int report(const char *part, hp_status s)
{
    if (s == HP_OK)
        return 0;
    printf("error %s %s: %s\n", part, hp_status_name(s), hp_status_str(s));
    return 1;
}

static int dump_exports(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_exports ex;
    hp_status s = hp_pe_exports_parse(pe, arena, &ex);
    if (s != HP_OK)
        return report("exports", s);
    for (uint32_t i = 0; ex.present && i < ex.count; i++) {
        const hp_pe_export *e = &ex.entries[i];
        printf("export %" PRIu32 " 0x%" PRIx32 " ", e->ordinal, e->rva);
        print_name(e->name);
        putchar(' ');
        print_name(e->forwarder);
        putchar('\n');
    }
    return 0;
}

static int dump_relocs(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_relocs rel;
    hp_status s = hp_pe_relocs_parse(pe, arena, &rel);
    if (s != HP_OK)
        return report("relocs", s);
    for (uint32_t i = 0; i < rel.count; i++)
        printf("reloc 0x%" PRIx32 " %u\n", rel.entries[i].rva, rel.entries[i].type);
    return 0;
}

static int dump_pdata(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_pdata pd;
    hp_status s = hp_pe_pdata_parse(pe, arena, &pd);
    if (s != HP_OK)
        return report("pdata", s);
    int rc = 0;
    for (uint32_t i = 0; i < pd.count; i++) {
        const hp_pe_runtime_function *rf = &pd.entries[i];
        hp_pe_runtime_function primary;
        printf("pdata 0x%" PRIx32 " 0x%" PRIx32 " 0x%" PRIx32 "\n", rf->begin, rf->end,
               rf->unwind);
        s = hp_pe_unwind_primary(pe, rf, &primary);
        if (s != HP_OK)
            rc |= report("unwind", s);
        else if (primary.begin != rf->begin || primary.end != rf->end ||
                 primary.unwind != rf->unwind)
            printf("pdata-primary 0x%" PRIx32 " 0x%" PRIx32 " 0x%" PRIx32 " 0x%" PRIx32 "\n",
                   rf->begin, primary.begin, primary.end, primary.unwind);
    }
    return rc;
}

static void dump_guard_table(const char *kind, const hp_pe_guard_table *t)
{
    for (uint64_t i = 0; i < t->count; i++)
        printf("%s 0x%" PRIx32 " 0x%x\n", kind, t->entries[i].rva, t->entries[i].flags);
}

/* The x86 SafeSEH handler table: RVAs, 4 bytes each. */
static int dump_seh(const hp_pe *pe, const hp_pe_loadcfg *lc)
{
    uint32_t rva, handler;
    uint64_t count = lc->f.SEHandlerCount;
    hp_rd view;
    if (pe->pe32plus || !HP_PE_LOADCFG_HAS(pe, lc, SEHandlerCount) || !lc->f.SEHandlerTable ||
        !count)
        return 0;
    if (hp_pe_va_to_rva(pe, lc->f.SEHandlerTable, &rva) != HP_OK ||
        hp_pe_rva_view(pe, rva, count * 4, &view) != HP_OK)
        return report("seh", HP_E_LOADCFG_TABLE);
    for (uint64_t i = 0; i < count; i++) {
        if (hp_rd_u32(&view, i * 4, &handler) != HP_OK)
            return report("seh", HP_E_LOADCFG_TABLE);
        printf("seh 0x%" PRIx32 "\n", handler);
    }
    return 0;
}

static int dump_loadcfg(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_loadcfg lc;
    hp_status s = hp_pe_loadcfg_parse(pe, arena, &lc);
    if (s != HP_OK)
        return report("loadcfg", s);
    if (!lc.present)
        return 0;
    printf("loadcfg dir_size 0x%" PRIx32 " size 0x%" PRIx32 " stride %" PRIu32 "\n", lc.dir_size,
           lc.size, lc.guard_stride);
    size_t n;
    const hp_pe_loadcfg_field *fields = hp_pe_loadcfg_fields(&n);
    for (size_t i = 0; i < n; i++)
        if (hp_pe_loadcfg_has(pe, &lc, fields[i].offset64))
            printf("loadcfg-field %s 0x%" PRIx64 "\n", fields[i].name,
                   hp_pe_loadcfg_value(&lc, &fields[i]));
    dump_guard_table("guard-fid", &lc.cf_functions);
    dump_guard_table("guard-iat", &lc.iat_entries);
    dump_guard_table("guard-longjmp", &lc.longjmp_targets);
    dump_guard_table("guard-ehcont", &lc.ehcont_targets);
    return dump_seh(pe, &lc);
}

static uint8_t *read_file(const char *path, size_t *size)
{
    uint8_t *data;
    return hp_file_read(path, &data, size, NULL) == HP_OK ? data : NULL;
}

/* The image as the loader maps it: headers and each section's backed bytes at their RVAs. */
static uint8_t *map_loaded(const hp_pe *pe, size_t *size)
{
    uint8_t *img = calloc(pe->size_of_image ? pe->size_of_image : 1, 1);
    if (!img)
        return NULL;
    uint32_t h = pe->size_of_headers < pe->rd.size ? pe->size_of_headers : (uint32_t)pe->rd.size;
    hp_rd_bytes(&pe->rd, 0, h, img);
    for (uint16_t i = 0; i < pe->section_count; i++) {
        const hp_pe_section *sec = &pe->sections[i];
        uint32_t n = sec->virtual_size && sec->virtual_size < sec->raw_size ? sec->virtual_size
                                                                            : sec->raw_size;
        if (n && hp_range_ok(sec->virtual_address, n, pe->size_of_image))
            hp_rd_bytes(&pe->rd, sec->raw_offset, n, img + sec->virtual_address);
    }
    *size = pe->size_of_image;
    return img;
}

int main(int argc, char **argv)
{
    unsigned parts = 0;
    bool loaded = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--exports"))
            parts |= PART_EXPORTS;
        else if (!strcmp(argv[i], "--relocs"))
            parts |= PART_RELOCS;
        else if (!strcmp(argv[i], "--pdata"))
            parts |= PART_PDATA;
        else if (!strcmp(argv[i], "--loadcfg"))
            parts |= PART_LOADCFG;
        else if (!strcmp(argv[i], "--loaded"))
            loaded = true;
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            path = NULL;
            break;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: pe-dump [--exports] [--relocs] [--pdata] [--loadcfg] "
                        "[--loaded] IMAGE\n");
        return 2;
    }
    if (!parts)
        parts = PART_EXPORTS | PART_RELOCS | PART_PDATA | PART_LOADCFG;

    size_t size = 0;
    uint8_t *data = read_file(path, &size);
    if (!data) {
        fprintf(stderr, "pe-dump: %s: cannot read the file\n", path);
        return 2;
    }
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    uint8_t *mapped = NULL;
    hp_status s = hp_pe_parse(&pe, &arena, data, size, HP_PE_LAYOUT_FILE);
    if (s == HP_OK && loaded) {
        size_t msize = 0;
        mapped = map_loaded(&pe, &msize);
        s = mapped ? hp_pe_parse(&pe, &arena, mapped, msize, HP_PE_LAYOUT_LOADED) : HP_E_NOMEM;
    }
    int rc = 0;
    if (s != HP_OK) {
        rc = report("headers", s);
    } else {
        printf("image %s base 0x%" PRIx64 "\n", hp_pe_machine_name(&pe), pe.image_base);
        if (parts & PART_EXPORTS)
            rc |= dump_exports(&pe, &arena);
        if (parts & PART_RELOCS)
            rc |= dump_relocs(&pe, &arena);
        if (parts & PART_PDATA)
            rc |= dump_pdata(&pe, &arena);
        if (parts & PART_LOADCFG)
            rc |= dump_loadcfg(&pe, &arena);
    }
    hp_arena_free(&arena);
    free(mapped);
    free(data);
    return rc;
}
