/* Unit tests: the export directory, names, ordinals and forwarders (pe/exports.c). */
#include "dirimg.h"
#include "harness.h"

typedef HP_IMAGE_EXPORT_DIRECTORY expdir;

/* One AddressOfFunctions slot: code at rva, a forwarder string, or (both empty) unused. */
typedef struct fn {
    uint32_t rva;
    const char *fwd;
} fn;

/* One AddressOfNames entry and its AddressOfNameOrdinals index. */
typedef struct nm {
    const char *name;
    uint16_t index;
} nm;

typedef struct exp_rvas {
    uint32_t dir, funcs, names, ords, size;
} exp_rvas;

/* Lay out an export directory in .rdata; the directory's range covers everything written
 * after its header, so forwarder strings are inside it as linkers place them. */
static exp_rvas put_exports(dirimg *d, const char *dll, uint32_t base, const fn *fns,
                            unsigned nf, const nm *names, unsigned nn)
{
    exp_rvas r;
    r.dir = mkpe_blob_zero(&d->b, sizeof(expdir));
    r.funcs = mkpe_blob_zero(&d->b, 4 * nf);
    r.names = mkpe_blob_zero(&d->b, 4 * nn);
    r.ords = mkpe_blob_zero(&d->b, 2 * nn);
    MKPE_BLOB_PUT(&d->b, r.dir, expdir, Name, dll ? mkpe_blob_str(&d->b, dll) : 0);
    MKPE_BLOB_PUT(&d->b, r.dir, expdir, TimeDateStamp, 0x12345678);
    MKPE_BLOB_PUT(&d->b, r.dir, expdir, Base, base);
    MKPE_BLOB_PUT(&d->b, r.dir, expdir, NumberOfFunctions, nf);
    MKPE_BLOB_PUT(&d->b, r.dir, expdir, NumberOfNames, nn);
    MKPE_BLOB_PUT(&d->b, r.dir, expdir, AddressOfFunctions, nf ? r.funcs : 0);
    MKPE_BLOB_PUT(&d->b, r.dir, expdir, AddressOfNames, nn ? r.names : 0);
    MKPE_BLOB_PUT(&d->b, r.dir, expdir, AddressOfNameOrdinals, nn ? r.ords : 0);
    for (unsigned i = 0; i < nn; i++) {
        mkpe_blob_put32(&d->b, r.names + 4 * i, mkpe_blob_str(&d->b, names[i].name));
        mkpe_blob_put16(&d->b, r.ords + 2 * i, names[i].index);
    }
    for (unsigned i = 0; i < nf; i++)
        mkpe_blob_put32(&d->b, r.funcs + 4 * i,
                        fns[i].fwd ? mkpe_blob_str(&d->b, fns[i].fwd) : fns[i].rva);
    r.size = d->b.rva + d->b.size - r.dir;
    mkpe_set_dir(&d->spec, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, r.dir, r.size);
    return r;
}

static mkpe_arch arch_of(int i)
{
    return i & 1 ? MKPE_X64 : MKPE_X86;
}

static hp_pe_layout layout_of(int i)
{
    return i & 2 ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE;
}

/* A DLL with a sorted name table, an alias and a gap: the ordinary case. */
START_TEST(named_exports)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    fn fns[] = { { dirimg_code(&d, 0x10), NULL }, { dirimg_code(&d, 0x20), NULL },
                 { 0, NULL }, { dirimg_code(&d, 0x40), NULL } };
    nm names[] = { { "Alpha", 0 }, { "Beta", 1 }, { "BetaAlias", 1 }, { "Delta", 3 } };
    put_exports(&d, "lib.dll", 5, fns, 4, names, 4);
    dirimg_build(&d, layout_of(_i));

    hp_pe_exports ex;
    ck_assert_int_eq(hp_pe_exports_parse(&d.pe, &d.arena, &ex), HP_OK);
    ck_assert(ex.present);
    ck_assert_str_eq(ex.dll_name, "lib.dll");
    ck_assert_uint_eq(ex.timestamp, 0x12345678);
    ck_assert_uint_eq(ex.ordinal_base, 5);
    ck_assert_uint_eq(ex.count, 4);
    ck_assert_uint_eq(ex.name_count, 4);
    for (uint32_t i = 0; i < 4; i++) {
        ck_assert_uint_eq(ex.entries[i].ordinal, 5 + i);
        ck_assert_uint_eq(ex.entries[i].rva, fns[i].rva);
        ck_assert_ptr_null(ex.entries[i].forwarder);
        ck_assert_str_eq(ex.names[i].name, names[i].name);
        ck_assert_uint_eq(ex.names[i].index, names[i].index);
    }
    ck_assert_str_eq(ex.entries[0].name, "Alpha");
    ck_assert_str_eq(ex.entries[1].name, "Beta"); /* the first name wins over the alias */
    ck_assert_ptr_null(ex.entries[2].name);       /* unused slot */
    ck_assert_str_eq(ex.entries[3].name, "Delta");

    ck_assert_ptr_eq(hp_pe_exports_find(&ex, "BetaAlias"), &ex.entries[1]);
    ck_assert_ptr_eq(hp_pe_exports_find(&ex, "Delta"), &ex.entries[3]);
    ck_assert_ptr_null(hp_pe_exports_find(&ex, "delta")); /* names are case-sensitive */
    ck_assert_ptr_null(hp_pe_exports_find(&ex, "Gamma"));

    const hp_pe_export *e = NULL;
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "Alpha", &e), HP_OK);
    ck_assert_ptr_eq(e, &ex.entries[0]);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "Gamma", &e), HP_E_NOT_FOUND);
    dirimg_end(&d);
}
END_TEST

START_TEST(ordinal_only_exports)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    fn fns[] = { { dirimg_code(&d, 0x10), NULL }, { dirimg_code(&d, 0x30), NULL } };
    put_exports(&d, NULL, 100, fns, 2, NULL, 0); /* no Name either */
    dirimg_build(&d, layout_of(_i));

    hp_pe_exports ex;
    ck_assert_int_eq(hp_pe_exports_parse(&d.pe, &d.arena, &ex), HP_OK);
    ck_assert(ex.present);
    ck_assert_ptr_null(ex.dll_name);
    ck_assert_uint_eq(ex.count, 2);
    ck_assert_uint_eq(ex.name_count, 0);
    ck_assert_uint_eq(ex.entries[0].ordinal, 100);
    ck_assert_uint_eq(ex.entries[1].ordinal, 101);
    ck_assert_uint_eq(ex.entries[1].rva, fns[1].rva);
    ck_assert_ptr_null(ex.entries[0].name);
    ck_assert_ptr_null(hp_pe_exports_find(&ex, ""));
    dirimg_end(&d);
}
END_TEST

START_TEST(no_export_directory)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    mkpe_blob_str(&d.b, "padding");
    dirimg_build(&d, layout_of(_i));
    hp_pe_exports ex;
    ex.present = true;
    ck_assert_int_eq(hp_pe_exports_parse(&d.pe, &d.arena, &ex), HP_OK);
    ck_assert(!ex.present);
    ck_assert_uint_eq(ex.count, 0);
    ck_assert_ptr_null(hp_pe_exports_find(&ex, "x"));
    dirimg_end(&d);
}
END_TEST

/* Forwarders: to another DLL (left for the caller), and within the same DLL by name, by
 * ordinal, with or without ".dll" and in any case, over several hops. */
START_TEST(forwarders)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    fn fns[] = {
        { dirimg_code(&d, 0x10), NULL }, /* 1 Code */
        { 0, "KERNEL32.Sleep" },         /* 2 Other */
        { 0, "self.Code" },              /* 3 ToCode */
        { 0, "SELF.DLL.ToCode" },        /* 4 Hop2 */
        { 0, "Self.#5" },                /* 5 ByOrd: ordinal 5 is this very slot, a loop */
        { 0, "self.#1" },                /* 6 ToOrd1 */
        { 0, "other.dll.Code" },         /* 7 OtherSameName */
    };
    nm names[] = { { "ByOrd", 4 }, { "Code", 0 },  { "Hop2", 3 },          { "Other", 1 },
                   { "ToCode", 2 }, { "ToOrd1", 5 }, { "OtherSameName", 6 } };
    put_exports(&d, "self.dll", 1, fns, 7, names, 7);
    dirimg_build(&d, layout_of(_i));

    hp_pe_exports ex;
    ck_assert_int_eq(hp_pe_exports_parse(&d.pe, &d.arena, &ex), HP_OK);
    ck_assert_ptr_null(ex.entries[0].forwarder);
    ck_assert_str_eq(ex.entries[1].forwarder, "KERNEL32.Sleep");
    ck_assert_str_eq(ex.entries[3].forwarder, "SELF.DLL.ToCode");
    /* A forwarder's RVA points at its string inside the directory. */
    ck_assert_uint_ge(ex.entries[1].rva, d.pe.dirs[HP_IMAGE_DIRECTORY_ENTRY_EXPORT].rva);

    const hp_pe_export *e = NULL;
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "Other", &e), HP_OK);
    ck_assert_ptr_eq(e, &ex.entries[1]); /* still a forwarder, to another DLL */
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "OtherSameName", &e), HP_OK);
    ck_assert_ptr_eq(e, &ex.entries[6]);
    e = NULL;
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "ToCode", &e), HP_OK);
    ck_assert_ptr_eq(e, &ex.entries[0]);
    e = NULL;
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "Hop2", &e), HP_OK);
    ck_assert_ptr_eq(e, &ex.entries[0]);
    e = NULL;
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "ToOrd1", &e), HP_OK);
    ck_assert_ptr_eq(e, &ex.entries[0]);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "ByOrd", &e), HP_E_EXPORT_FORWARDER_LOOP);
    dirimg_end(&d);
}
END_TEST

START_TEST(forwarder_loops)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    fn fns[] = {
        { 0, "loop.B" },    /* A -> B -> A */
        { 0, "loop.A" },
        { 0, "LOOP.Self" }, /* Self -> Self */
        { 0, "loop.D" },    /* C -> D -> E -> D: a loop not through the start */
        { 0, "loop.E" },
        { 0, "loop.D" },
        { 0, "loop.Gone" }, /* to a name this DLL does not have */
        { 0, "loop.#99" },  /* to an ordinal past NumberOfFunctions */
        { 0, "loop.#9" },   /* to ordinal 9: the unused slot below */
        { 0, NULL },
    };
    nm names[] = { { "A", 0 },    { "B", 1 },     { "C", 3 },     { "D", 4 },   { "E", 5 },
                   { "Self", 2 }, { "ToGone", 6 }, { "ToOrd99", 7 }, { "ToUnused", 8 } };
    put_exports(&d, "loop.dll", 0, fns, 10, names, 9);
    dirimg_build(&d, layout_of(_i));

    hp_pe_exports ex;
    const hp_pe_export *e = NULL;
    ck_assert_int_eq(hp_pe_exports_parse(&d.pe, &d.arena, &ex), HP_OK);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "A", &e), HP_E_EXPORT_FORWARDER_LOOP);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "B", &e), HP_E_EXPORT_FORWARDER_LOOP);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "Self", &e), HP_E_EXPORT_FORWARDER_LOOP);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "C", &e), HP_E_EXPORT_FORWARDER_LOOP);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "ToGone", &e), HP_E_NOT_FOUND);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "ToOrd99", &e), HP_E_NOT_FOUND);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "ToUnused", &e), HP_E_NOT_FOUND);
    ck_assert_ptr_null(e);
    dirimg_end(&d);
}
END_TEST

/* A chain of 100 distinct same-DLL hops is beyond the depth limit: reported as a loop. */
START_TEST(forwarder_chain_too_deep)
{
    enum { N = 100 };
    static char fwd[N][16], name[N][16];
    fn fns[N + 1];
    nm names[N + 1];
    dirimg d;
    dirimg_begin(&d, MKPE_X64);
    for (unsigned i = 0; i < N; i++) {
        snprintf(name[i], sizeof name[i], "F%03u", i);
        snprintf(fwd[i], sizeof fwd[i], "deep.F%03u", i + 1);
        fns[i] = (fn){ 0, fwd[i] };
        names[i] = (nm){ name[i], (uint16_t)i };
    }
    fns[N] = (fn){ dirimg_code(&d, 0), NULL };
    names[N] = (nm){ "F100", N };
    put_exports(&d, "deep.dll", 1, fns, N + 1, names, N + 1);
    dirimg_build(&d, HP_PE_LAYOUT_FILE);

    hp_pe_exports ex;
    const hp_pe_export *e = NULL;
    ck_assert_int_eq(hp_pe_exports_parse(&d.pe, &d.arena, &ex), HP_OK);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "F000", &e), HP_E_EXPORT_FORWARDER_LOOP);
    ck_assert_int_eq(hp_pe_exports_resolve(&ex, "F050", &e), HP_OK); /* 50 hops: fine */
    ck_assert_ptr_eq(e, &ex.entries[N]);
    dirimg_end(&d);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Malformed directories                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* A two-function, two-name directory; corrupt(d, r) breaks it before the build. */
static hp_status parse_corrupted(int i, void (*corrupt)(dirimg *, const exp_rvas *))
{
    dirimg d;
    dirimg_begin(&d, arch_of(i));
    fn fns[] = { { dirimg_code(&d, 0x10), NULL }, { dirimg_code(&d, 0x20), NULL } };
    nm names[] = { { "One", 0 }, { "Two", 1 } };
    exp_rvas r = put_exports(&d, "bad.dll", 1, fns, 2, names, 2);
    corrupt(&d, &r);
    dirimg_build(&d, layout_of(i));
    hp_pe_exports ex;
    hp_status s = hp_pe_exports_parse(&d.pe, &d.arena, &ex);
    dirimg_end(&d);
    return s;
}

static void name_far(dirimg *d, const exp_rvas *r) { mkpe_blob_put32(&d->b, r->names + 4, 0x7fff0000u); }
static void name_at_end(dirimg *d, const exp_rvas *r)
{
    /* The last bytes of .rdata, with no NUL after them. */
    mkpe_blob_put32(&d->b, r->names, mkpe_blob_add(&d->b, "Unterminated", 12, 1));
}
static void name_too_long(dirimg *d, const exp_rvas *r)
{
    static char longname[5000];
    memset(longname, 'x', sizeof longname - 1);
    mkpe_blob_put32(&d->b, r->names, mkpe_blob_str(&d->b, longname));
}
static void dll_name_far(dirimg *d, const exp_rvas *r) { MKPE_BLOB_PUT(&d->b, r->dir, expdir, Name, 0x7fff0000u); }
static void ordinal_past(dirimg *d, const exp_rvas *r) { mkpe_blob_put16(&d->b, r->ords + 2, 2); }
static void ordinal_ffff(dirimg *d, const exp_rvas *r) { mkpe_blob_put16(&d->b, r->ords, 0xffff); }
static void funcs_huge(dirimg *d, const exp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->dir, expdir, NumberOfFunctions, 0x3fffffffu);
}
static void names_huge(dirimg *d, const exp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->dir, expdir, NumberOfNames, 0x10000u);
}
static void funcs_far(dirimg *d, const exp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->dir, expdir, AddressOfFunctions, 0xfffffffcu);
}
static void ords_far(dirimg *d, const exp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->dir, expdir, AddressOfNameOrdinals, 0x7fff0000u);
}
static void base_wraps(dirimg *d, const exp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->dir, expdir, Base, 0xffffffffu);
}
static void dir_past_image(dirimg *d, const exp_rvas *r)
{
    mkpe_set_dir(&d->spec, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, r->dir, 0x7fffffffu);
}
static void fwd_unterminated(dirimg *d, const exp_rvas *r)
{
    /* Slot 1 points into the directory (a forwarder) at bytes that end .rdata without NUL. */
    uint32_t at = mkpe_blob_add(&d->b, "x.Func", 6, 1);
    mkpe_blob_put32(&d->b, r->funcs + 4, at);
    mkpe_set_dir(&d->spec, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, r->dir, d->b.rva + d->b.size - r->dir);
}
static void nothing(dirimg *d, const exp_rvas *r) { (void)d, (void)r; }

START_TEST(malformed_directories)
{
    ck_assert_int_eq(parse_corrupted(_i, nothing), HP_OK);
    ck_assert_int_eq(parse_corrupted(_i, name_far), HP_E_EXPORT_NAME);
    ck_assert_int_eq(parse_corrupted(_i, name_too_long), HP_E_EXPORT_NAME);
    ck_assert_int_eq(parse_corrupted(_i, dll_name_far), HP_E_EXPORT_NAME);
    ck_assert_int_eq(parse_corrupted(_i, ordinal_past), HP_E_EXPORT_ORDINAL);
    ck_assert_int_eq(parse_corrupted(_i, ordinal_ffff), HP_E_EXPORT_ORDINAL);
    /* Counts no image bytes back fail before anything is allocated from them. */
    ck_assert_int_eq(parse_corrupted(_i, funcs_huge), HP_E_EXPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, names_huge), HP_E_EXPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, funcs_far), HP_E_EXPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, ords_far), HP_E_EXPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, base_wraps), HP_E_EXPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, dir_past_image), HP_E_DIR_RANGE);
    /* Bytes that end .rdata's file data are unterminated in file layout only: in memory the
     * section's zero fill follows them. */
    hp_status unterminated = layout_of(_i) == HP_PE_LAYOUT_FILE ? HP_E_EXPORT_NAME : HP_OK;
    ck_assert_int_eq(parse_corrupted(_i, name_at_end), unterminated);
    ck_assert_int_eq(parse_corrupted(_i, fwd_unterminated), unterminated);
}
END_TEST

/* NumberOfNames above NumberOfFunctions is legal (Windows does not require it). */
START_TEST(more_names_than_functions)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    fn fns[] = { { dirimg_code(&d, 0x10), NULL } };
    nm names[] = { { "A", 0 }, { "B", 0 }, { "C", 0 } };
    put_exports(&d, "m.dll", 1, fns, 1, names, 3);
    dirimg_build(&d, layout_of(_i));
    hp_pe_exports ex;
    ck_assert_int_eq(hp_pe_exports_parse(&d.pe, &d.arena, &ex), HP_OK);
    ck_assert_uint_eq(ex.name_count, 3);
    ck_assert_ptr_eq(hp_pe_exports_find(&ex, "C"), &ex.entries[0]);
    ck_assert_str_eq(ex.entries[0].name, "A");
    dirimg_end(&d);
}
END_TEST

static Suite *exports_suite(void)
{
    Suite *s = suite_create("exports");
    TCase *tc = tcase_create("exports");
    /* _i: bit 0 = PE32+, bit 1 = loaded layout */
    tcase_add_loop_test(tc, named_exports, 0, 4);
    tcase_add_loop_test(tc, ordinal_only_exports, 0, 4);
    tcase_add_loop_test(tc, no_export_directory, 0, 4);
    tcase_add_loop_test(tc, forwarders, 0, 4);
    tcase_add_loop_test(tc, forwarder_loops, 0, 4);
    tcase_add_test(tc, forwarder_chain_too_deep);
    tcase_add_loop_test(tc, malformed_directories, 0, 4);
    tcase_add_loop_test(tc, more_names_than_functions, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(exports_suite)
