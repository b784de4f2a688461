/* Unit tests: import and delay-load import directories (pe/imports.c). */
#include "dirimg.h"
#include "harness.h"

typedef HP_IMAGE_IMPORT_DESCRIPTOR impdesc;
typedef HP_IMAGE_DELAYLOAD_DESCRIPTOR delaydesc;

/* One imported function: by name (with hint) or, when name is NULL, by ordinal. */
typedef struct fn {
    const char *name;
    uint16_t hint, ordinal;
} fn;

typedef struct dll_spec {
    const char *name;
    const fn *fns;
    unsigned count;
    bool no_ilt; /* OriginalFirstThunk / ImportNameTableRVA = 0: the IAT is the only table */
} dll_spec;

#define MAX_DLLS 4
typedef struct imp_rvas {
    uint32_t desc;            /* descriptor array */
    uint32_t ilt[MAX_DLLS], iat[MAX_DLLS], name[MAX_DLLS];
} imp_rvas;

static unsigned ptr_width(const dirimg *d)
{
    return d->spec.pe32plus ? 8 : 4;
}

static uint64_t ordinal_flag(const dirimg *d)
{
    return (uint64_t)1 << (8 * ptr_width(d) - 1);
}

/* A thunk array of count entries plus the terminator; returns its RVA. */
static uint32_t put_thunks(dirimg *d, const fn *fns, unsigned count, const uint32_t *hint_names)
{
    unsigned w = ptr_width(d);
    uint32_t at = mkpe_blob_add(&d->b, NULL, (count + 1) * w, w);
    for (unsigned i = 0; i < count; i++)
        mkpe_blob_putn(&d->b, at + i * w,
                       fns[i].name ? hint_names[i] : ordinal_flag(d) | fns[i].ordinal, w);
    return at;
}

/*
 * Lay out an import (delay=false) or delay-load (delay=true) directory in .rdata. delay_attrs
 * is the delay descriptors' Attributes: 1 for RVAs, 0 for the old form with VAs.
 */
static imp_rvas put_imports(dirimg *d, bool delay, uint32_t delay_attrs, const dll_spec *dlls,
                            unsigned ndll)
{
    imp_rvas r;
    memset(&r, 0, sizeof r);
    uint32_t desc_size = delay ? sizeof(delaydesc) : sizeof(impdesc);
    r.desc = mkpe_blob_zero(&d->b, (ndll + 1) * desc_size);
    uint64_t va = delay && !delay_attrs ? d->spec.image_base : 0;
    uint32_t handle = mkpe_blob_zero(&d->b, 8);

    for (unsigned k = 0; k < ndll; k++) {
        const dll_spec *s = &dlls[k];
        uint32_t hint_names[16] = { 0 };
        ck_assert_uint_le(s->count, 16);
        r.name[k] = mkpe_blob_str(&d->b, s->name);
        for (unsigned i = 0; i < s->count; i++) {
            if (!s->fns[i].name)
                continue;
            hint_names[i] = mkpe_blob_u16(&d->b, s->fns[i].hint);
            mkpe_blob_str(&d->b, s->fns[i].name);
        }
        r.ilt[k] = s->no_ilt ? 0 : put_thunks(d, s->fns, s->count, hint_names);
        r.iat[k] = put_thunks(d, s->fns, s->count, hint_names);

        uint32_t at = r.desc + k * desc_size;
        if (!delay) {
            MKPE_BLOB_PUT(&d->b, at, impdesc, OriginalFirstThunk, r.ilt[k]);
            MKPE_BLOB_PUT(&d->b, at, impdesc, Name, r.name[k]);
            MKPE_BLOB_PUT(&d->b, at, impdesc, FirstThunk, r.iat[k]);
        } else {
            MKPE_BLOB_PUT(&d->b, at, delaydesc, Attributes, delay_attrs);
            MKPE_BLOB_PUT(&d->b, at, delaydesc, DllNameRVA, va + r.name[k]);
            MKPE_BLOB_PUT(&d->b, at, delaydesc, ModuleHandleRVA, va + handle);
            MKPE_BLOB_PUT(&d->b, at, delaydesc, ImportAddressTableRVA, va + r.iat[k]);
            MKPE_BLOB_PUT(&d->b, at, delaydesc, ImportNameTableRVA, r.ilt[k] ? va + r.ilt[k] : 0);
        }
    }
    mkpe_set_dir(&d->spec, delay ? HP_IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT
                                 : HP_IMAGE_DIRECTORY_ENTRY_IMPORT,
                 r.desc, (ndll + 1) * desc_size);
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

static const fn k32_fns[] = { { "Sleep", 5, 0 }, { NULL, 0, 17 }, { "ExitProcess", 0x100, 0 } };
static const fn user_fns[] = { { NULL, 0, 1 } };
static const dll_spec two_dlls[] = { { "KERNEL32.dll", k32_fns, 3, false },
                                     { "user32.dll", user_fns, 1, false } };

/* The model of two_dlls as laid out at r. */
static void check_two_dlls(const dirimg *d, const hp_pe_imports *im, const imp_rvas *r,
                           bool delay)
{
    unsigned w = ptr_width(d);
    ck_assert_uint_eq(im->count, 2);
    for (unsigned k = 0; k < 2; k++) {
        const hp_pe_import_dll *dll = &im->dlls[k];
        const dll_spec *s = &two_dlls[k];
        ck_assert_str_eq(dll->dll_name, s->name);
        ck_assert(dll->delay_load == delay);
        ck_assert_uint_eq(dll->ilt_rva, r->ilt[k]);
        ck_assert_uint_eq(dll->iat_rva, r->iat[k]);
        ck_assert_uint_eq(dll->count, s->count);
        for (unsigned i = 0; i < s->count; i++) {
            const hp_pe_import *imp = &dll->imports[i];
            ck_assert_uint_eq(imp->iat_rva, r->iat[k] + i * w);
            if (s->fns[i].name) {
                ck_assert(!imp->by_ordinal);
                ck_assert_str_eq(imp->name, s->fns[i].name);
                ck_assert_uint_eq(imp->hint, s->fns[i].hint);
            } else {
                ck_assert(imp->by_ordinal);
                ck_assert_ptr_null(imp->name);
                ck_assert_uint_eq(imp->ordinal, s->fns[i].ordinal);
            }
        }
    }
}

START_TEST(by_name_and_by_ordinal)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    imp_rvas r = put_imports(&d, false, 0, two_dlls, 2);
    dirimg_build(&d, layout_of(_i));
    hp_pe_imports im;
    ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, false, &im), HP_OK);
    check_two_dlls(&d, &im, &r, false);
    /* The other directory is absent. */
    ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, true, &im), HP_OK);
    ck_assert_uint_eq(im.count, 0);
    dirimg_end(&d);
}
END_TEST

START_TEST(iat_only)
{
    dirimg d;
    dll_spec dlls[] = { { "KERNEL32.dll", k32_fns, 3, true } };
    dirimg_begin(&d, arch_of(_i));
    imp_rvas r = put_imports(&d, false, 0, dlls, 1);
    dirimg_build(&d, layout_of(_i));
    hp_pe_imports im;
    ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, false, &im), HP_OK);
    ck_assert_uint_eq(im.count, 1);
    ck_assert_uint_eq(im.dlls[0].ilt_rva, 0);
    ck_assert_uint_eq(im.dlls[0].count, 3);
    ck_assert_str_eq(im.dlls[0].imports[2].name, "ExitProcess");
    ck_assert_uint_eq(im.dlls[0].imports[2].iat_rva, r.iat[0] + 2 * ptr_width(&d));
    dirimg_end(&d);
}
END_TEST

/* The ordinal flag is the top bit of a pointer-sized thunk: bit 31 in PE32, 63 in PE32+. */
START_TEST(ordinal_flag_width)
{
    dirimg d;
    dll_spec dlls[] = { { "x.dll", user_fns, 1, false } };
    dirimg_begin(&d, arch_of(_i));
    imp_rvas r = put_imports(&d, false, 0, dlls, 1);
    mkpe_blob_putn(&d.b, r.ilt[0], 0x80000010u, ptr_width(&d));
    dirimg_build(&d, layout_of(_i));
    hp_pe_imports im;
    if (d.spec.pe32plus) {
        /* Not an ordinal in PE32+: a hint/name RVA far past the image. */
        ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, false, &im), HP_E_IMPORT_NAME);
    } else {
        ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, false, &im), HP_OK);
        ck_assert(im.dlls[0].imports[0].by_ordinal);
        ck_assert_uint_eq(im.dlls[0].imports[0].ordinal, 0x10);
    }
    dirimg_end(&d);
}
END_TEST

/* Like the loader, the list ends at the first descriptor without a Name or a FirstThunk. */
START_TEST(descriptor_terminator)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    imp_rvas r = put_imports(&d, false, 0, two_dlls, 2);
    MKPE_BLOB_PUT(&d.b, r.desc + sizeof(impdesc), impdesc, Name, 0);
    dirimg_build(&d, layout_of(_i));
    hp_pe_imports im;
    ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, false, &im), HP_OK);
    ck_assert_uint_eq(im.count, 1);
    ck_assert_str_eq(im.dlls[0].dll_name, "KERNEL32.dll");
    dirimg_end(&d);

    dirimg_begin(&d, arch_of(_i));
    r = put_imports(&d, false, 0, two_dlls, 2);
    MKPE_BLOB_PUT(&d.b, r.desc, impdesc, FirstThunk, 0);
    dirimg_build(&d, layout_of(_i));
    ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, false, &im), HP_OK);
    ck_assert_uint_eq(im.count, 0);
    dirimg_end(&d);
}
END_TEST

START_TEST(delay_imports)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    imp_rvas r = put_imports(&d, true, 1, two_dlls, 2);
    dirimg_build(&d, layout_of(_i));
    hp_pe_imports im;
    ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, true, &im), HP_OK);
    check_two_dlls(&d, &im, &r, true);
    ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, false, &im), HP_OK);
    ck_assert_uint_eq(im.count, 0);
    dirimg_end(&d);
}
END_TEST

/* The old descriptors (Attributes bit 0 clear) hold VAs: PE32 only in practice. */
START_TEST(delay_imports_va_form)
{
    dirimg d;
    dirimg_begin(&d, MKPE_X86);
    imp_rvas r = put_imports(&d, true, 0, two_dlls, 2);
    dirimg_build(&d, layout_of(_i));
    hp_pe_imports im;
    ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, true, &im), HP_OK);
    check_two_dlls(&d, &im, &r, true);
    dirimg_end(&d);

    /* RVAs where VAs are expected lie below ImageBase. */
    dirimg_begin(&d, arch_of(_i));
    r = put_imports(&d, true, 1, two_dlls, 2);
    MKPE_BLOB_PUT(&d.b, r.desc, delaydesc, Attributes, 0);
    dirimg_build(&d, layout_of(_i));
    ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, true, &im), HP_E_DELAY_IMPORT_DIR);
    dirimg_end(&d);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Malformed directories                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef void (*corrupt_fn)(dirimg *, const imp_rvas *);

static hp_status parse_corrupted(int i, bool delay, corrupt_fn corrupt)
{
    dirimg d;
    dirimg_begin(&d, arch_of(i));
    imp_rvas r = put_imports(&d, delay, 1, two_dlls, 2);
    corrupt(&d, &r);
    dirimg_build(&d, layout_of(i));
    hp_pe_imports im;
    hp_status s = hp_pe_imports_parse(&d.pe, &d.arena, delay, &im);
    dirimg_end(&d);
    return s;
}

#define FAR 0x7fff0000u

static void nothing(dirimg *d, const imp_rvas *r) { (void)d, (void)r; }
static void dir_far(dirimg *d, const imp_rvas *r)
{
    (void)r;
    mkpe_set_dir(&d->spec, HP_IMAGE_DIRECTORY_ENTRY_IMPORT, FAR, 40);
    mkpe_set_dir(&d->spec, HP_IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT, FAR, 64);
}
static void dir_wraps(dirimg *d, const imp_rvas *r)
{
    (void)r;
    mkpe_set_dir(&d->spec, HP_IMAGE_DIRECTORY_ENTRY_IMPORT, 0xfffffff0u, 40);
    mkpe_set_dir(&d->spec, HP_IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT, 0xfffffff0u, 64);
}
/* The second DLL's name, ILT and first hint/name are moved out of the image. */
static void imp_name_far(dirimg *d, const imp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->desc + sizeof(impdesc), impdesc, Name, FAR);
}
static void imp_ilt_far(dirimg *d, const imp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->desc, impdesc, OriginalFirstThunk, FAR);
}
static void imp_ilt_wraps(dirimg *d, const imp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->desc, impdesc, OriginalFirstThunk, 0xfffffffcu);
}
static void imp_iat_past_image(dirimg *d, const imp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->desc, impdesc, FirstThunk, mkpe_image_size(&d->spec) - 8);
}
static void hint_name_far(dirimg *d, const imp_rvas *r)
{
    mkpe_blob_putn(&d->b, r->ilt[0], FAR, ptr_width(d));
}
static void func_name_too_long(dirimg *d, const imp_rvas *r)
{
    static char name[5000];
    memset(name, 'f', sizeof name - 1);
    uint32_t hn = mkpe_blob_u16(&d->b, 0);
    mkpe_blob_str(&d->b, name);
    mkpe_blob_putn(&d->b, r->ilt[0], hn, ptr_width(d));
}
/* A thunk array with no terminator before .rdata's file data ends. */
static void thunks_unterminated(dirimg *d, const imp_rvas *r)
{
    unsigned w = ptr_width(d);
    uint32_t at = mkpe_blob_add(&d->b, NULL, 2 * w, w);
    mkpe_blob_putn(&d->b, at, ordinal_flag(d) | 1, w);
    mkpe_blob_putn(&d->b, at + w, ordinal_flag(d) | 2, w);
    MKPE_BLOB_PUT(&d->b, r->desc, impdesc, OriginalFirstThunk, at);
}
/* Descriptors with no terminator before .rdata's file data ends. */
static void descriptors_unterminated(dirimg *d, const imp_rvas *r)
{
    uint32_t at = mkpe_blob_add(&d->b, NULL, sizeof(impdesc), 4);
    MKPE_BLOB_PUT(&d->b, at, impdesc, Name, r->name[0]);
    MKPE_BLOB_PUT(&d->b, at, impdesc, FirstThunk, r->iat[0]);
    mkpe_set_dir(&d->spec, HP_IMAGE_DIRECTORY_ENTRY_IMPORT, at, sizeof(impdesc));
}
static void delay_name_far(dirimg *d, const imp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->desc, delaydesc, DllNameRVA, FAR);
}
static void delay_int_far(dirimg *d, const imp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->desc + sizeof(delaydesc), delaydesc, ImportNameTableRVA, FAR);
}
static void delay_iat_past_image(dirimg *d, const imp_rvas *r)
{
    MKPE_BLOB_PUT(&d->b, r->desc, delaydesc, ImportAddressTableRVA,
                  mkpe_image_size(&d->spec) - 8);
}

START_TEST(malformed_imports)
{
    ck_assert_int_eq(parse_corrupted(_i, false, nothing), HP_OK);
    ck_assert_int_eq(parse_corrupted(_i, false, dir_far), HP_E_IMPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, false, dir_wraps), HP_E_IMPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, false, imp_name_far), HP_E_IMPORT_NAME);
    ck_assert_int_eq(parse_corrupted(_i, false, imp_ilt_far), HP_E_IMPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, false, imp_ilt_wraps), HP_E_IMPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, false, imp_iat_past_image), HP_E_IMPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, false, hint_name_far), HP_E_IMPORT_NAME);
    ck_assert_int_eq(parse_corrupted(_i, false, func_name_too_long), HP_E_IMPORT_NAME);
    /* In loaded layout the section's zero fill terminates both arrays. */
    bool file = layout_of(_i) == HP_PE_LAYOUT_FILE;
    ck_assert_int_eq(parse_corrupted(_i, false, thunks_unterminated),
                     file ? HP_E_IMPORT_DIR : HP_OK);
    ck_assert_int_eq(parse_corrupted(_i, false, descriptors_unterminated),
                     file ? HP_E_IMPORT_DIR : HP_OK);
}
END_TEST

START_TEST(malformed_delay_imports)
{
    ck_assert_int_eq(parse_corrupted(_i, true, nothing), HP_OK);
    ck_assert_int_eq(parse_corrupted(_i, true, dir_far), HP_E_DELAY_IMPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, true, dir_wraps), HP_E_DELAY_IMPORT_DIR);
    ck_assert_int_eq(parse_corrupted(_i, true, delay_name_far), HP_E_DELAY_IMPORT_NAME);
    ck_assert_int_eq(parse_corrupted(_i, true, delay_int_far), HP_E_DELAY_IMPORT_THUNK);
    ck_assert_int_eq(parse_corrupted(_i, true, delay_iat_past_image), HP_E_DELAY_IMPORT_THUNK);
    ck_assert_int_eq(parse_corrupted(_i, true, hint_name_far), HP_E_DELAY_IMPORT_NAME);
    ck_assert_int_eq(parse_corrupted(_i, true, func_name_too_long), HP_E_DELAY_IMPORT_NAME);
}
END_TEST

/* A bound IAT holds addresses, not hint/name RVAs: names come from the lookup table. */
START_TEST(bound_iat_is_not_read)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    for (int delay = 0; delay < 2; delay++) {
        imp_rvas r = put_imports(&d, delay, 1, two_dlls, 2);
        for (unsigned k = 0; k < 2; k++)
            for (unsigned i = 0; i < two_dlls[k].count; i++)
                mkpe_blob_putn(&d.b, r.iat[k] + i * ptr_width(&d), 0x7ff01000u + i,
                               ptr_width(&d));
    }
    dirimg_build(&d, layout_of(_i));
    hp_pe_imports im;
    for (int delay = 0; delay < 2; delay++) {
        ck_assert_int_eq(hp_pe_imports_parse(&d.pe, &d.arena, delay, &im), HP_OK);
        ck_assert_uint_eq(im.count, 2);
        ck_assert_str_eq(im.dlls[0].imports[0].name, "Sleep");
        ck_assert_uint_eq(im.dlls[0].imports[1].ordinal, 17);
        ck_assert_uint_eq(im.dlls[1].imports[0].ordinal, 1);
    }
    dirimg_end(&d);
}
END_TEST

static Suite *imports_suite(void)
{
    Suite *s = suite_create("imports");
    TCase *tc = tcase_create("imports");
    /* _i: bit 0 = PE32+, bit 1 = loaded layout */
    tcase_add_loop_test(tc, by_name_and_by_ordinal, 0, 4);
    tcase_add_loop_test(tc, iat_only, 0, 4);
    tcase_add_loop_test(tc, bound_iat_is_not_read, 0, 4);
    tcase_add_loop_test(tc, ordinal_flag_width, 0, 4);
    tcase_add_loop_test(tc, descriptor_terminator, 0, 4);
    tcase_add_loop_test(tc, delay_imports, 0, 4);
    tcase_add_loop_test(tc, delay_imports_va_form, 0, 4);
    tcase_add_loop_test(tc, malformed_imports, 0, 4);
    tcase_add_loop_test(tc, malformed_delay_imports, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(imports_suite)
