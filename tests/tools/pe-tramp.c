/*
 * pe-tramp: the trampoline check (pe/tramp.c) on every entry of images, in a line-oriented
 * text format that tests/oracle/tramp_objdump.py compares with llvm-objdump's disassembly, and
 * counts by verdict over the exported entries (the coverage the docs quote).
 *
 *   pe-tramp IMAGE...
 *
 * For each image, numbers in hex:
 *
 *   file PATH MACHINE
 *   entry RVA SIZE VERDICT LEN AT FRAGS EXPORTED   (every entry in executable file bytes;
 *                                                   SIZE: bytes checked from the entry; LEN:
 *                                                   bytes moved, 0 unless movable; AT: the
 *                                                   deciding instruction, 0 when movable)
 *   exports VERDICT COUNT ...                      (decimal counts, exported entries only)
 *   error STATUS_NAME: message
 *
 * Exit status: 0 when every image was read and analysed, 1 otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hotpe/pe/file.h"
#include "hotpe/pe/pe.h"
#include "hotpe/pe/site.h"
#include "hotpe/pe/tramp.h"

static int one(const char *path)
{
    uint8_t *data;
    size_t size;
    int err;
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    hp_site_ctx ctx;
    hp_site_list list;
    hp_tramp_image ti;
    hp_status s = hp_file_read(path, &data, &size, &err);
    if (s != HP_OK) {
        printf("file %s ?\nerror %s: %s\n", path, hp_status_name(s), hp_status_str(s));
        return 1;
    }
    uint32_t *entries = NULL;
    s = hp_pe_parse(&pe, &arena, data, size, HP_PE_LAYOUT_FILE);
    if (s == HP_OK)
        s = hp_site_ctx_init(&ctx, &pe);
    if (s == HP_OK)
        s = hp_site_analyze(&ctx, &pe, &arena, &list);
    if (s == HP_OK && !(entries = calloc(list.count ? list.count : 1, sizeof *entries)))
        s = HP_E_NOMEM;
    if (s == HP_OK) {
        for (uint32_t i = 0; i < list.count; i++)
            entries[i] = list.sites[i].rva;
        s = hp_tramp_image_init(&ti, &pe, &arena, entries, list.count);
    }
    printf("file %s %s\n", path, s == HP_OK ? hp_pe_machine_name(&pe) : "?");
    unsigned long exported[HP_TRAMP_VERDICT_COUNT] = { 0 };
    for (uint32_t i = 0; s == HP_OK && i < list.count; i++) {
        const hp_site *site = &list.sites[i];
        if (site->cls == HP_SITE_NOT_CODE)
            continue;
        hp_tramp_plan p;
        s = hp_tramp_examine(&ti, &arena, site->rva, &p);
        if (s != HP_OK)
            break;
        bool exp = site->sources & HP_SITE_SRC_EXPORT;
        printf("entry %x %x %s %x %x %x %d\n", site->rva, p.size, hp_tramp_verdict_name(p.verdict),
               p.len, p.verdict == HP_TRAMP_MOVABLE ? 0 : p.at, p.frags, exp);
        if (exp)
            exported[p.verdict]++;
    }
    if (s == HP_OK) {
        printf("exports");
        for (int v = 0; v < HP_TRAMP_VERDICT_COUNT; v++)
            printf(" %s %lu", hp_tramp_verdict_name((hp_tramp_verdict)v), exported[v]);
        printf("\n");
    } else {
        printf("error %s: %s\n", hp_status_name(s), hp_status_str(s));
    }
    free(entries);
    hp_arena_free(&arena);
    free(data);
    return s == HP_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pe-tramp IMAGE...\n");
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++)
        rc |= one(argv[i]);
    return rc;
}
