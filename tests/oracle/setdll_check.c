/*
 * setdll_check: hp_pe_setdll_add on real images, checked by pe/ itself and by LIEF 0.9; and the
 * engine's identity check against a rewritten module.
 *
 *   setdll_check OUTDIR < FILE-LIST (one path a line)
 *
 * For each image: add hotpe's import (hotpe-shim.dll!hotpe_registry), write the result to
 * OUTDIR/ARCH-BASENAME, then check it:
 *  - pe/ parses it; .hotpei is the last section (initialized, read, write) at the original
 *    SizeOfImage; the import directory lists every original DLL and function in order, then
 *    hotpe-shim.dll importing hotpe_registry by name; BOUND_IMPORT and SECURITY are cleared;
 *    every original section's bytes are unchanged; CheckSum equals hp_pe_checksum;
 *    hp_pe_setdll_find returns the original SizeOfImage, CheckSum and directories, in file
 *    layout and mapped to loaded layout; hp_pe_build_identity (and the CodeView record) equal
 *    the original image's; a second add is refused;
 *  - LIEF parses it and agrees on the imports (names, functions, IAT slots), the section
 *    count and the last section's name, the directories and the CheckSum.
 * Prints "written OUT IN CHECKSUM" per image for the shell, "FILE: what" per disagreement,
 * "refused FILE STATUS" per image hp_pe_setdll_add refuses, and finally "refused: K" and
 * "N passed, M failed".
 *
 *   setdll_check --identity PATCH.dll BASE REWRITTEN
 *
 * hp_patch_check of a stamped patch against BASE and against REWRITTEN (BASE after
 * hp_pe_setdll_add), each mapped to loaded layout: both must pass (identity, validations and
 * function hashes); REWRITTEN with its marker's magic broken must fail with
 * HP_E_SETDLL_MARKER, and with its recorded CheckSum changed with HP_E_LIVE_IDENTITY.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <LIEF/PE.h>

#include "hotpe/engine/patch.h"
#include "hotpe/pe/file.h"
#include "hotpe/pe/pe.h"

#define SHIM "hotpe-shim.dll"
#define SYM "hotpe_registry"
#define FLAGS \
    (HP_IMAGE_SCN_CNT_INITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ | HP_IMAGE_SCN_MEM_WRITE)

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

static bool same_str(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* The image as the loader maps it; NULL when out of memory. */
static uint8_t *map_loaded(const hp_pe *pe, const uint8_t *file, size_t file_size)
{
    uint8_t *m = calloc(pe->size_of_image, 1);
    if (!m)
        return NULL;
    size_t head = pe->size_of_headers < file_size ? pe->size_of_headers : file_size;
    memcpy(m, file, head < pe->size_of_image ? head : pe->size_of_image);
    for (uint16_t i = 0; i < pe->section_count; i++) {
        const hp_pe_section *s = &pe->sections[i];
        uint32_t n = s->virtual_size && s->virtual_size < s->raw_size ? s->virtual_size
                                                                       : s->raw_size;
        /* hp_pe_parse checked both ranges */
        if (n)
            memcpy(m + s->virtual_address, file + s->raw_offset, n);
    }
    return m;
}

static void compare_imports(ctx *c, const hp_pe_imports *a, const hp_pe_imports *b)
{
    EXPECT(c, "imports.count", b->count, a->count + 1);
    for (uint32_t k = 0; k < a->count && k < b->count; k++) {
        const hp_pe_import_dll *x = &a->dlls[k], *y = &b->dlls[k];
        bool same = same_str(x->dll_name, y->dll_name) && x->count == y->count &&
                    x->iat_rva == y->iat_rva && x->ilt_rva == y->ilt_rva;
        for (uint32_t i = 0; same && i < x->count; i++)
            same = x->imports[i].by_ordinal == y->imports[i].by_ordinal &&
                   x->imports[i].ordinal == y->imports[i].ordinal &&
                   x->imports[i].hint == y->imports[i].hint &&
                   same_str(x->imports[i].name, y->imports[i].name);
        if (!same) {
            printf("%s: import %u (%s) differs after the rewrite\n", c->path, k, x->dll_name);
            c->bad++;
        }
    }
    if (b->count == a->count + 1) {
        const hp_pe_import_dll *o = &b->dlls[a->count];
        if (!same_str(o->dll_name, SHIM) || o->count != 1 || o->imports[0].by_ordinal ||
            !same_str(o->imports[0].name, SYM) || o->imports[0].hint != 0) {
            printf("%s: the last import is not %s!%s\n", c->path, SHIM, SYM);
            c->bad++;
        }
    }
}

static void compare_lief(ctx *c, const char *out_path, const hp_pe *np, const hp_pe_imports *im)
{
    Pe_Binary_t *lief = pe_parse(out_path);
    if (!lief) {
        printf("%s: LIEF cannot parse the output\n", c->path);
        c->bad++;
        return;
    }
    EXPECT(c, "LIEF CheckSum", lief->optional_header.checksum, np->checksum);
    EXPECT(c, "LIEF NumberOfSections", lief->header.numberof_sections, np->section_count);
    unsigned n = 0;
    while (lief->sections && lief->sections[n])
        n++;
    EXPECT(c, "LIEF last section is .hotpei",
           n && strcmp(lief->sections[n - 1]->name, HP_SETDLL_SECTION_NAME) == 0, 1);
    static const unsigned dirs[] = { HP_IMAGE_DIRECTORY_ENTRY_IMPORT,
                                     HP_IMAGE_DIRECTORY_ENTRY_SECURITY,
                                     HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT };
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        unsigned k = 0;
        while (lief->data_directories && lief->data_directories[k] && k < dirs[i])
            k++;
        if (k == dirs[i] && lief->data_directories[k]) {
            char what[48];
            snprintf(what, sizeof what, "LIEF directory %u", dirs[i]);
            hp_pe_dir d = hp_pe_dir_get(np, dirs[i]);
            EXPECT(c, what,
                   (uint64_t)lief->data_directories[k]->rva << 32 | lief->data_directories[k]->size,
                   (uint64_t)d.rva << 32 | d.size);
        }
    }
    unsigned m = 0;
    while (lief->imports && lief->imports[m])
        m++;
    EXPECT(c, "LIEF imports.count", m, im->count);
    for (unsigned i = 0; i < m && i < im->count; i++) {
        const Pe_Import_t *l = lief->imports[i];
        const hp_pe_import_dll *d = &im->dlls[i];
        unsigned e = 0;
        while (l->entries && l->entries[e])
            e++;
        bool same = same_str(l->name, d->dll_name) && e == d->count &&
                    l->import_address_table_rva == d->iat_rva;
        for (unsigned k = 0; same && k < e; k++) {
            const Pe_ImportEntry_t *le = l->entries[k];
            const hp_pe_import *x = &d->imports[k];
            /* LIEF's C header types is_ordinal as int, its C++ side stores one byte */
            bool ord = (unsigned)le->is_ordinal & 0xffu;
            same = ord == x->by_ordinal && le->iat_address == x->iat_rva &&
                   (ord ? le->ordinal == x->ordinal : same_str(le->name, x->name));
        }
        if (!same) {
            printf("%s: LIEF reads import %u (%s) otherwise\n", c->path, i, d->dll_name);
            c->bad++;
        }
    }
    if (m && !same_str(lief->imports[m - 1]->name, SHIM)) {
        printf("%s: LIEF's last import is %s\n", c->path, lief->imports[m - 1]->name);
        c->bad++;
    }
    pe_binary_destroy(lief);
}

/* The marker and the identity of the output, in file and loaded layout. */
static void check_marker(ctx *c, const hp_pe *pe, const hp_pe *np, const uint8_t *out,
                         size_t out_size, hp_arena *arena)
{
    hp_pe_identity want, got;
    hp_pe_setdll m;
    EXPECT(c, "identity of the input", hp_pe_build_identity(pe, &want), HP_OK);
    EXPECT(c, "input not rewritten", want.rewritten, 0);
    uint8_t *loaded = map_loaded(np, out, out_size);
    hp_pe lp;
    for (int layout = 0; layout < 2; layout++) {
        const hp_pe *p = np;
        if (layout) {
            if (!loaded || hp_pe_parse(&lp, arena, loaded, np->size_of_image,
                                       HP_PE_LAYOUT_LOADED) != HP_OK) {
                printf("%s: the output mapped does not parse\n", c->path);
                c->bad++;
                break;
            }
            p = &lp;
        }
        hp_status s = hp_pe_setdll_find(p, &m);
        EXPECT(c, layout ? "find (loaded)" : "find", s, HP_OK);
        if (s == HP_OK) {
            hp_pe_dir imp = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_IMPORT);
            hp_pe_dir bound = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT);
            hp_pe_dir sec = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_SECURITY);
            EXPECT(c, "OrigSizeOfImage", m.rec.OrigSizeOfImage, pe->size_of_image);
            EXPECT(c, "OrigCheckSum", m.rec.OrigCheckSum, pe->checksum);
            EXPECT(c, "OrigImportRva", m.rec.OrigImportRva, imp.rva);
            EXPECT(c, "OrigImportSize", m.rec.OrigImportSize, imp.size);
            EXPECT(c, "OrigBoundImportRva", m.rec.OrigBoundImportRva, bound.rva);
            EXPECT(c, "OrigBoundImportSize", m.rec.OrigBoundImportSize, bound.size);
            EXPECT(c, "OrigSecurityOffset", m.rec.OrigSecurityOffset, sec.rva);
            EXPECT(c, "OrigSecuritySize", m.rec.OrigSecuritySize, sec.size);
        }
        EXPECT(c, layout ? "identity (loaded)" : "identity", hp_pe_build_identity(p, &got),
               HP_OK);
        EXPECT(c, "identity rewritten", got.rewritten, 1);
        EXPECT(c, "identity TimeDateStamp", got.timestamp, want.timestamp);
        EXPECT(c, "identity SizeOfImage", got.size_of_image, want.size_of_image);
        EXPECT(c, "identity CheckSum", got.checksum, want.checksum);
    }
    free(loaded);

    hp_pe_debug a, b;
    if (hp_pe_debug_parse(pe, arena, &a) == HP_OK) {
        EXPECT(c, "debug parses after", hp_pe_debug_parse(np, arena, &b), HP_OK);
        EXPECT(c, "CodeView kept",
               a.codeview.present == b.codeview.present &&
                   (!a.codeview.present ||
                    (memcmp(a.codeview.guid, b.codeview.guid, 16) == 0 &&
                     a.codeview.age == b.codeview.age)),
               1);
    }
}

typedef enum { CHECKED, FAILED, REFUSED } outcome;

static outcome check_file(const char *path, const char *outdir)
{
    ctx c = { path, 0 };
    size_t size = 0, out_size = 0;
    uint8_t *data = NULL, *out = NULL;
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe, np;
    hp_pe_imports before, after;
    outcome r = FAILED;
    hp_status s = hp_file_read(path, &data, &size, NULL);
    if (s == HP_OK)
        s = hp_pe_parse(&pe, &arena, data, size, HP_PE_LAYOUT_FILE);
    if (s == HP_OK)
        s = hp_pe_imports_parse(&pe, &arena, false, &before);
    if (s != HP_OK) {
        printf("%s: not read: %s\n", path, hp_status_name(s));
        goto done;
    }
    if ((s = hp_pe_setdll_add(&pe, SHIM, SYM, &out, &out_size)) != HP_OK) {
        printf("refused %s %s\n", path, hp_status_name(s));
        r = REFUSED;
        goto done;
    }

    const char *base = strrchr(path, '/');
    char out_path[8192];
    int len = snprintf(out_path, sizeof out_path, "%s/%s-%s", outdir, hp_pe_machine_name(&pe),
                       base ? base + 1 : path);
    FILE *f = len > 0 && (size_t)len < sizeof out_path ? fopen(out_path, "wb") : NULL;
    if (!f || fwrite(out, 1, out_size, f) != out_size || fclose(f) != 0) {
        printf("%s: cannot write %s\n", path, out_path);
        goto done;
    }
    if ((s = hp_pe_parse(&np, &arena, out, out_size, HP_PE_LAYOUT_FILE)) != HP_OK ||
        (s = hp_pe_imports_parse(&np, &arena, false, &after)) != HP_OK) {
        printf("%s: output does not parse: %s\n", path, hp_status_name(s));
        goto done;
    }

    EXPECT(&c, "NumberOfSections", np.section_count, pe.section_count + 1u);
    EXPECT(&c, "TimeDateStamp", np.timestamp, pe.timestamp);
    EXPECT(&c, "AddressOfEntryPoint", np.entry_point, pe.entry_point);
    EXPECT(&c, "CheckSum field", np.checksum, hp_pe_checksum(&np));
    const hp_pe_section *last = &np.sections[np.section_count - 1];
    EXPECT(&c, "last section .hotpei", strcmp(last->name, HP_SETDLL_SECTION_NAME), 0);
    EXPECT(&c, ".hotpei flags", last->characteristics, FLAGS);
    EXPECT(&c, ".hotpei at the old SizeOfImage", last->virtual_address, pe.size_of_image);
    hp_pe_dir imp = hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_IMPORT);
    EXPECT(&c, "import directory in .hotpei", hp_pe_section_of(&np, imp.rva) == last, 1);
    EXPECT(&c, "BOUND_IMPORT cleared", hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT).rva, 0);
    EXPECT(&c, "SECURITY cleared", hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_SECURITY).rva, 0);
    for (uint16_t i = 0; i < pe.section_count && i < np.section_count; i++) {
        const hp_pe_section *a = &pe.sections[i], *b = &np.sections[i];
        EXPECT(&c, "section header kept",
               a->virtual_address == b->virtual_address && a->raw_offset == b->raw_offset &&
                   a->raw_size == b->raw_size && a->characteristics == b->characteristics,
               1);
        /* hp_pe_parse checked the raw data of both */
        if (a->raw_offset == b->raw_offset && a->raw_size == b->raw_size && a->raw_size &&
            memcmp(data + a->raw_offset, out + b->raw_offset, a->raw_size) != 0) {
            printf("%s: section %s's bytes changed\n", path, a->name);
            c.bad++;
        }
    }
    compare_imports(&c, &before, &after);
    check_marker(&c, &pe, &np, out, out_size, &arena);
    uint8_t *again = NULL;
    size_t again_size;
    EXPECT(&c, "second add", hp_pe_setdll_add(&np, SHIM, SYM, &again, &again_size),
           HP_E_SETDLL_ALREADY);
    compare_lief(&c, out_path, &np, &after);
    if (!c.bad) {
        printf("written %s %s %08" PRIx32 "\n", out_path, path, np.checksum);
        r = CHECKED;
    }

done:
    free(out);
    hp_arena_free(&arena);
    free(data);
    return r;
}

/* hp_patch_check of pi against the file image mapped, optionally with one u32 of its marker
 * changed (at: offset in the marker). */
static hp_status check_against(const hp_patch_info *pi, const uint8_t *file, size_t size,
                               long at, uint32_t value, const char **what)
{
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe, lp;
    hp_patch_failure why = { 0 };
    hp_status s = hp_pe_parse(&pe, &arena, file, size, HP_PE_LAYOUT_FILE);
    uint8_t *m = s == HP_OK ? map_loaded(&pe, file, size) : NULL;
    if (s == HP_OK && !m)
        s = HP_E_NOMEM;
    if (s == HP_OK && at >= 0) {
        hp_pe_setdll mk;
        s = hp_pe_setdll_find(&pe, &mk);
        if (s == HP_OK) {
            hp_wr w = hp_wr_make(m, pe.size_of_image);
            s = hp_wr_u32(&w, mk.rva + (uint64_t)at, value);
        }
    }
    if (s == HP_OK)
        s = hp_pe_parse(&lp, &arena, m, pe.size_of_image, HP_PE_LAYOUT_LOADED);
    if (s == HP_OK)
        s = hp_patch_check(pi, &lp, NULL, NULL, &arena, &why);
    *what = s != HP_OK ? why.what : NULL;
    free(m);
    hp_arena_free(&arena);
    return s;
}

static int identity_mode(const char *patch, const char *base, const char *rewritten)
{
    uint8_t *p = NULL, *b = NULL, *w = NULL;
    size_t np = 0, nb = 0, nw = 0;
    hp_arena arena = HP_ARENA_INIT;
    hp_patch_info pi;
    unsigned failed = 0, passed = 0;
    hp_status s = hp_file_read(patch, &p, &np, NULL);
    if (s == HP_OK)
        s = hp_file_read(base, &b, &nb, NULL);
    if (s == HP_OK)
        s = hp_file_read(rewritten, &w, &nw, NULL);
    if (s == HP_OK)
        s = hp_patch_load(&pi, &arena, p, np);
    if (s != HP_OK) {
        printf("identity: cannot read the inputs: %s\n", hp_status_name(s));
        failed++;
    } else {
        struct {
            const char *what;
            const uint8_t *img;
            size_t size;
            long at;
            uint32_t value;
            hp_status want;
        } cases[] = {
            { "the base", b, nb, -1, 0, HP_OK },
            { "the rewritten base", w, nw, -1, 0, HP_OK },
            { "its marker's magic broken", w, nw, offsetof(HP_SETDLL_HEADER, Magic), 0,
              HP_E_SETDLL_MARKER },
            { "its recorded CheckSum changed", w, nw, offsetof(HP_SETDLL_HEADER, OrigCheckSum),
              0x1234567, HP_E_LIVE_IDENTITY },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            const char *what;
            hp_status got = check_against(&pi, cases[i].img, cases[i].size, cases[i].at,
                                          cases[i].value, &what);
            bool ok = got == cases[i].want;
            printf("identity: %s: %s%s%s%s%s\n", cases[i].what, hp_status_name(got),
                   what ? " " : "", what ? what : "", ok ? "" : ", expected ",
                   ok ? "" : hp_status_name(cases[i].want));
            ok ? passed++ : failed++;
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    hp_arena_free(&arena);
    free(p);
    free(b);
    free(w);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--identity") == 0)
        return identity_mode(argv[2], argv[3], argv[4]);
    if (argc != 2) {
        fprintf(stderr, "usage: setdll_check OUTDIR < FILE-LIST (one path a line)\n"
                        "       setdll_check --identity PATCH.dll BASE REWRITTEN\n");
        return 2;
    }
    unsigned n[3] = { 0, 0, 0 };
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0])
            n[check_file(line, argv[1])]++;
    }
    printf("refused: %u\n%u passed, %u failed\n", n[REFUSED], n[CHECKED], n[FAILED]);
    return n[FAILED] || !n[CHECKED] ? 1 : 0;
}
