/* Unit tests: the x64 exception directory, chained unwind info, the load config and CFG tables. */
#include <string.h>

#include "harness.h"
#include "mkpe.h"
#include "hotpe/pe/pe.h"

typedef HP_IMAGE_LOAD_CONFIG_DIRECTORY32 lc32;
typedef HP_IMAGE_LOAD_CONFIG_DIRECTORY64 lc64;

/* ------------------------------------------------------------------------------------------ */
/* Fixture: .text, then .rdata built as a blob; the test fills it and names the directories.  */
/* ------------------------------------------------------------------------------------------ */

typedef struct fixture {
    mkpe_spec spec;
    unsigned text, rdata;
    uint32_t text_rva;
    mkpe_blob b;          /* .rdata contents */
    mkpe_image img;
    hp_arena arena;
    hp_pe pe;
} fixture;

static uint8_t code[0x400];

static void fx_init(fixture *f, mkpe_arch arch)
{
    memset(f, 0, sizeof *f);
    memset(code, 0xcc, sizeof code);
    mkpe_init(&f->spec, arch);
    f->text = mkpe_add_section(&f->spec, ".text", MKPE_CODE, code, sizeof code, 0);
    f->rdata = mkpe_add_section(&f->spec, ".rdata", MKPE_RDATA, NULL, 0, 0);
    f->text_rva = mkpe_section_rva(&f->spec, f->text);
    mkpe_blob_init(&f->b, mkpe_section_rva(&f->spec, f->rdata));
}

static uint64_t fx_va(const fixture *f, uint32_t rva)
{
    return f->spec.image_base + rva;
}

/* Build in the given layout and parse the headers. */
static void fx_build(fixture *f, hp_pe_layout layout)
{
    mkpe_set_section_blob(&f->spec, f->rdata, &f->b);
    f->img = layout == HP_PE_LAYOUT_FILE ? mkpe_build(&f->spec) : mkpe_build_loaded(&f->spec);
    ck_assert_int_eq(hp_pe_parse(&f->pe, &f->arena, f->img.data, f->img.size, layout), HP_OK);
}

static void fx_free(fixture *f)
{
    hp_arena_free(&f->arena);
    mkpe_free(&f->img);
    mkpe_blob_free(&f->b);
}

/* ------------------------------------------------------------------------------------------ */
/* .pdata and unwind info                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* UNWIND_INFO with `codes` slots (padded to even), chained to parent when it is given. */
static uint32_t add_unwind(mkpe_blob *b, uint8_t codes, const hp_pe_runtime_function *parent)
{
    uint8_t flags = parent ? HP_UNW_FLAG_CHAININFO : 0;
    uint8_t hdr[4] = { (uint8_t)(1 | flags << 3), 4, codes, 0 };
    uint32_t rva = mkpe_blob_add(b, hdr, sizeof hdr, 4);
    for (unsigned i = 0; i < ((codes + 1u) & ~1u); i++)
        mkpe_blob_u16(b, (uint16_t)(0x0200 | i)); /* filler codes: never read */
    if (parent) {
        mkpe_blob_u32(b, parent->begin);
        mkpe_blob_u32(b, parent->end);
        mkpe_blob_u32(b, parent->unwind);
    }
    return rva;
}

static uint32_t add_rf(mkpe_blob *b, hp_pe_runtime_function rf)
{
    uint32_t rva = mkpe_blob_u32(b, rf.begin);
    mkpe_blob_u32(b, rf.end);
    mkpe_blob_u32(b, rf.unwind);
    return rva;
}

START_TEST(pdata_reads_every_entry_in_both_layouts)
{
    for (int layout = 0; layout < 2; layout++) {
        fixture f;
        fx_init(&f, MKPE_X64);
        uint32_t t = f.text_rva;
        uint32_t u0 = add_unwind(&f.b, 2, NULL), u1 = add_unwind(&f.b, 3, NULL);
        uint32_t pd = add_rf(&f.b, (hp_pe_runtime_function){ t, t + 0x10, u0 });
        add_rf(&f.b, (hp_pe_runtime_function){ t + 0x10, t + 0x40, u1 });
        /* Empty functions (begin == end) exist in real images (Wine's jscript.dll). */
        add_rf(&f.b, (hp_pe_runtime_function){ t + 0x40, t + 0x40, u1 });
        mkpe_set_dir(&f.spec, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION, pd, 36);
        fx_build(&f, layout ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE);

        hp_pe_pdata pdata;
        ck_assert_int_eq(hp_pe_pdata_parse(&f.pe, &f.arena, &pdata), HP_OK);
        ck_assert_uint_eq(pdata.count, 3);
        ck_assert_uint_eq(pdata.entries[0].begin, t);
        ck_assert_uint_eq(pdata.entries[0].end, t + 0x10);
        ck_assert_uint_eq(pdata.entries[0].unwind, u0);
        ck_assert_uint_eq(pdata.entries[1].begin, t + 0x10);
        ck_assert_uint_eq(pdata.entries[1].end, t + 0x40);
        ck_assert_uint_eq(pdata.entries[1].unwind, u1);
        ck_assert_uint_eq(pdata.entries[2].begin, pdata.entries[2].end);

        hp_pe_runtime_function primary;
        ck_assert_int_eq(hp_pe_unwind_primary(&f.pe, &pdata.entries[1], &primary), HP_OK);
        ck_assert_mem_eq(&primary, &pdata.entries[1], sizeof primary);
        fx_free(&f);
    }
}
END_TEST

START_TEST(pdata_absent_or_invalid)
{
    static const struct {
        mkpe_arch arch;
        uint32_t size;        /* directory size; 0: no directory */
        uint32_t begin, end;  /* of the one entry, relative to .text */
        bool far_end;         /* end past SizeOfImage */
        hp_status want;
    } cases[] = {
        { MKPE_X64, 0, 0, 0x10, false, HP_OK },
        { MKPE_X86, 0, 0, 0x10, false, HP_OK },
        { MKPE_X86, 12, 0, 0x10, false, HP_E_UNSUPPORTED },
        { MKPE_X64, 12, 0, 0x10, false, HP_OK },
        { MKPE_X64, 13, 0, 0x10, false, HP_E_PDATA },
        { MKPE_X64, 8, 0, 0x10, false, HP_E_PDATA },
        { MKPE_X64, 12, 0x10, 0x0f, false, HP_E_PDATA },
        { MKPE_X64, 12, 0, 0, true, HP_E_PDATA },
        { MKPE_X64, 0x10008, 0, 0x10, false, HP_E_PDATA }, /* past the backed bytes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture f;
        fx_init(&f, cases[i].arch);
        uint32_t u = add_unwind(&f.b, 0, NULL);
        uint32_t end = cases[i].far_end ? 0x7fff0000 : f.text_rva + cases[i].end;
        uint32_t pd = add_rf(&f.b, (hp_pe_runtime_function){ f.text_rva + cases[i].begin, end, u });
        mkpe_blob_zero(&f.b, 4);
        if (cases[i].size)
            mkpe_set_dir(&f.spec, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION, pd, cases[i].size);
        fx_build(&f, HP_PE_LAYOUT_FILE);
        hp_pe_pdata pdata = { 99, NULL };
        ck_assert_msg(hp_pe_pdata_parse(&f.pe, &f.arena, &pdata) == cases[i].want, "case %zu", i);
        if (cases[i].want == HP_OK)
            ck_assert_uint_eq(pdata.count, cases[i].size / 12);
        else
            ck_assert_uint_eq(pdata.count, 0);
        fx_free(&f);
    }
}
END_TEST

/*
 * A chain of `links` hops: rf -> parent 1 -> ... -> parent `links`, whose unwind info is not
 * chained. Code counts vary (odd ones are padded) so the parent's place is computed each time.
 */
static hp_status follow_chain(unsigned links, hp_pe_runtime_function *rf,
                              hp_pe_runtime_function *primary, hp_pe_runtime_function *last)
{
    fixture f;
    fx_init(&f, MKPE_X64);
    hp_pe_runtime_function parent = { 0, 0, 0 };
    for (unsigned k = links + 1; k-- > 0;) {
        hp_pe_runtime_function self = { f.text_rva + 0x10 * k, f.text_rva + 0x10 * k + 8, 0 };
        self.unwind = add_unwind(&f.b, (uint8_t)(k % 5), k == links ? NULL : &parent);
        if (k == links)
            *last = self;
        parent = self;
    }
    *rf = parent;
    fx_build(&f, HP_PE_LAYOUT_FILE);
    hp_status s = hp_pe_unwind_primary(&f.pe, rf, primary);
    fx_free(&f);
    return s;
}

START_TEST(unwind_follows_chains_up_to_32_links)
{
    static const unsigned ok_links[] = { 1, 2, 7, 32 };
    for (size_t i = 0; i < sizeof ok_links / sizeof ok_links[0]; i++) {
        hp_pe_runtime_function rf, primary, last;
        ck_assert_int_eq(follow_chain(ok_links[i], &rf, &primary, &last), HP_OK);
        ck_assert_mem_eq(&primary, &last, sizeof primary);
        ck_assert_uint_ne(primary.begin, rf.begin);
    }
    hp_pe_runtime_function rf, primary, last;
    ck_assert_int_eq(follow_chain(33, &rf, &primary, &last), HP_E_UNWIND);
}
END_TEST

START_TEST(unwind_rejects_loops_and_bytes_outside)
{
    fixture f;
    fx_init(&f, MKPE_X64);
    uint32_t t = f.text_rva;
    /* Chained to itself: its RVA is known before it is written (the blob is empty). */
    uint32_t loop = f.b.rva + f.b.size;
    ck_assert_uint_eq(add_unwind(&f.b, 1, &(hp_pe_runtime_function){ t, t + 8, loop }), loop);
    /* Chained to a parent whose unwind info lies past the image's bytes. */
    uint32_t far = add_unwind(&f.b, 0, &(hp_pe_runtime_function){ t, t + 8, 0x00fffff0 });
    /* An unchained one, and a RUNTIME_FUNCTION using it that an indirect entry can name. */
    uint32_t plain = add_unwind(&f.b, 0, NULL);
    uint32_t e = add_rf(&f.b, (hp_pe_runtime_function){ t + 0x20, t + 0x30, plain });
    /* Last in .rdata, 254 code slots: once marked chained, its parent lies past the data. */
    uint32_t off_end = add_unwind(&f.b, 254, NULL);
    fx_build(&f, HP_PE_LAYOUT_FILE);

    hp_pe_runtime_function rf = { t, t + 8, loop }, primary = { 1, 2, 3 };
    ck_assert_int_eq(hp_pe_unwind_primary(&f.pe, &rf, &primary), HP_E_UNWIND);
    ck_assert_uint_eq(primary.begin, 1); /* untouched on failure */
    rf.unwind = far;
    ck_assert_int_eq(hp_pe_unwind_primary(&f.pe, &rf, &primary), HP_E_UNWIND);
    rf.unwind = 0x7ffffff0; /* the unwind info itself outside the image */
    ck_assert_int_eq(hp_pe_unwind_primary(&f.pe, &rf, &primary), HP_E_UNWIND);
    rf.unwind = e | 1; /* RUNTIME_FUNCTION_INDIRECT */
    ck_assert_int_eq(hp_pe_unwind_primary(&f.pe, &rf, &primary), HP_OK);
    ck_assert_uint_eq(primary.begin, t + 0x20);
    ck_assert_uint_eq(primary.unwind, plain);
    rf.unwind = 0x7ffffff0 | 1;
    ck_assert_int_eq(hp_pe_unwind_primary(&f.pe, &rf, &primary), HP_E_UNWIND);
    rf.unwind = off_end;
    ck_assert_int_eq(hp_pe_unwind_primary(&f.pe, &rf, &primary), HP_OK);

    mkpe_w8(&f.img, mkpe_rva_offset(&f.spec, f.rdata, off_end), 1 | HP_UNW_FLAG_CHAININFO << 3);
    ck_assert_int_eq(hp_pe_unwind_primary(&f.pe, &rf, &primary), HP_E_UNWIND);
    fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Load config                                                                                */
/* ------------------------------------------------------------------------------------------ */

#define LC_PUT(f, at, field, v)                                                                \
    do {                                                                                       \
        if ((f)->spec.pe32plus)                                                                \
            MKPE_BLOB_PUT(&(f)->b, (at), lc64, field, (v));                                    \
        else                                                                                   \
            MKPE_BLOB_PUT(&(f)->b, (at), lc32, field, (v));                                    \
    } while (0)

typedef struct lc_layout {
    uint32_t lc;                      /* RVA of the structure */
    uint32_t fid, iat, ljmp, ehc;     /* RVAs of the tables */
    uint32_t full;                    /* sizeof the layout */
} lc_layout;

/* A table of n entries of `stride` bytes: RVA base + 0x10*i, metadata byte 0xa0 + i. */
static uint32_t add_table(mkpe_blob *b, unsigned n, unsigned stride, uint32_t base)
{
    uint32_t at = mkpe_blob_add(b, NULL, n * stride, 4);
    for (unsigned i = 0; i < n; i++) {
        mkpe_blob_put32(b, at + i * stride, base + 0x10 * i);
        if (stride > 4)
            mkpe_blob_putn(b, at + i * stride + 4, 0xa0 + i, 1);
    }
    return at;
}

/*
 * A full load config with all four CFG tables (3, 1, 2 and 1 entries) of the given stride;
 * the directory size is the structure's size. Tests change fields before fx_build.
 */
static lc_layout lc_fill(fixture *f, unsigned stride)
{
    lc_layout l;
    l.full = f->spec.pe32plus ? sizeof(lc64) : sizeof(lc32);
    l.lc = mkpe_blob_zero(&f->b, l.full);
    uint32_t t = f->text_rva;
    l.fid = add_table(&f->b, 3, stride, t);
    l.iat = add_table(&f->b, 1, stride, t + 0x200);
    l.ljmp = add_table(&f->b, 2, stride, t + 0x100);
    l.ehc = add_table(&f->b, 1, stride, t + 0x180);
    LC_PUT(f, l.lc, Size, l.full);
    LC_PUT(f, l.lc, GuardFlags,
           HP_IMAGE_GUARD_CF_INSTRUMENTED | HP_IMAGE_GUARD_CF_FUNCTION_TABLE_PRESENT |
               (uint32_t)(stride - 4) << HP_IMAGE_GUARD_CF_FUNCTION_TABLE_SIZE_SHIFT);
    LC_PUT(f, l.lc, GuardCFFunctionTable, fx_va(f, l.fid));
    LC_PUT(f, l.lc, GuardCFFunctionCount, 3);
    LC_PUT(f, l.lc, GuardAddressTakenIatEntryTable, fx_va(f, l.iat));
    LC_PUT(f, l.lc, GuardAddressTakenIatEntryCount, 1);
    LC_PUT(f, l.lc, GuardLongJumpTargetTable, fx_va(f, l.ljmp));
    LC_PUT(f, l.lc, GuardLongJumpTargetCount, 2);
    LC_PUT(f, l.lc, GuardEHContinuationTable, fx_va(f, l.ehc));
    LC_PUT(f, l.lc, GuardEHContinuationCount, 1);
    mkpe_set_dir(&f->spec, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG, l.lc, l.full);
    return l;
}

static void check_table(const hp_pe_guard_table *t, unsigned n, unsigned stride, uint32_t base)
{
    ck_assert_uint_eq(t->count, n);
    for (unsigned i = 0; i < n; i++) {
        ck_assert_uint_eq(t->entries[i].rva, base + 0x10 * i);
        ck_assert_uint_eq(t->entries[i].flags, stride > 4 ? 0xa0 + i : 0);
    }
}

START_TEST(loadcfg_absent)
{
    fixture f;
    fx_init(&f, _i ? MKPE_X64 : MKPE_X86);
    mkpe_blob_zero(&f.b, 16);
    fx_build(&f, HP_PE_LAYOUT_FILE);
    hp_pe_loadcfg lc;
    memset(&lc, 0xee, sizeof lc);
    ck_assert_int_eq(hp_pe_loadcfg_parse(&f.pe, &f.arena, &lc), HP_OK);
    ck_assert(!lc.present);
    ck_assert_uint_eq(lc.cf_functions.count, 0);
    ck_assert_uint_eq(lc.f.GuardFlags, 0);
    ck_assert(!HP_PE_LOADCFG_HAS(&f.pe, &lc, Size));
    fx_free(&f);
}
END_TEST

/* Both arches x both layouts x strides 4, 5 and 19. */
START_TEST(loadcfg_cfg_tables_with_their_stride)
{
    static const unsigned strides[] = { 4, 5, 19 };
    for (size_t s = 0; s < 3; s++) {
        for (int layout = 0; layout < 2; layout++) {
            fixture f;
            fx_init(&f, _i ? MKPE_X64 : MKPE_X86);
            lc_layout l = lc_fill(&f, strides[s]);
            fx_build(&f, layout ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE);
            hp_pe_loadcfg lc;
            ck_assert_int_eq(hp_pe_loadcfg_parse(&f.pe, &f.arena, &lc), HP_OK);
            ck_assert(lc.present);
            ck_assert_uint_eq(lc.size, l.full);
            ck_assert_uint_eq(lc.dir_size, l.full);
            ck_assert_uint_eq(lc.guard_stride, strides[s]);
            ck_assert_uint_eq(lc.f.GuardCFFunctionTable, fx_va(&f, l.fid));
            check_table(&lc.cf_functions, 3, strides[s], f.text_rva);
            check_table(&lc.iat_entries, 1, strides[s], f.text_rva + 0x200);
            check_table(&lc.longjmp_targets, 2, strides[s], f.text_rva + 0x100);
            check_table(&lc.ehcont_targets, 1, strides[s], f.text_rva + 0x180);
            fx_free(&f);
        }
    }
}
END_TEST

/* Each field read from its own offset and width in each layout, widened into f. */
START_TEST(loadcfg_every_field_from_its_layout)
{
    fixture f;
    fx_init(&f, _i ? MKPE_X64 : MKPE_X86);
    lc_layout l = lc_fill(&f, 4);
    /* Distinct markers where the layouts differ most: order, widths and the last fields. */
    LC_PUT(&f, l.lc, TimeDateStamp, 0x5f5e1000);
    LC_PUT(&f, l.lc, MinorVersion, 0x1234);
    LC_PUT(&f, l.lc, ProcessHeapFlags, 0x90);
    LC_PUT(&f, l.lc, ProcessAffinityMask, 0x80);
    LC_PUT(&f, l.lc, CSDVersion, 0xa0);
    LC_PUT(&f, l.lc, DependentLoadFlags, 0x800);
    LC_PUT(&f, l.lc, SecurityCookie, fx_va(&f, l.lc) - 8);
    LC_PUT(&f, l.lc, CodeIntegrityCatalog, 0xbeef);
    LC_PUT(&f, l.lc, DynamicValueRelocTableSection, 7);
    LC_PUT(&f, l.lc, HotPatchTableOffset, 0x4321);
    LC_PUT(&f, l.lc, UmaFunctionPointers, 0x7777);
    if (f.spec.pe32plus)
        LC_PUT(&f, l.lc, DeCommitTotalFreeThreshold, 0x1122334455667788ull);
    fx_build(&f, HP_PE_LAYOUT_FILE);

    hp_pe_loadcfg lc;
    ck_assert_int_eq(hp_pe_loadcfg_parse(&f.pe, &f.arena, &lc), HP_OK);
    ck_assert_uint_eq(lc.f.TimeDateStamp, 0x5f5e1000);
    ck_assert_uint_eq(lc.f.MinorVersion, 0x1234);
    ck_assert_uint_eq(lc.f.ProcessHeapFlags, 0x90);
    ck_assert_uint_eq(lc.f.ProcessAffinityMask, 0x80);
    ck_assert_uint_eq(lc.f.CSDVersion, 0xa0);
    ck_assert_uint_eq(lc.f.DependentLoadFlags, 0x800);
    ck_assert_uint_eq(lc.f.SecurityCookie, fx_va(&f, l.lc) - 8);
    ck_assert_uint_eq(lc.f.CodeIntegrityCatalog, 0xbeef);
    ck_assert_uint_eq(lc.f.DynamicValueRelocTableSection, 7);
    ck_assert_uint_eq(lc.f.HotPatchTableOffset, 0x4321);
    ck_assert_uint_eq(lc.f.UmaFunctionPointers, 0x7777);
    ck_assert_uint_eq(lc.f.DeCommitTotalFreeThreshold, f.spec.pe32plus ? 0x1122334455667788ull : 0);
    ck_assert_uint_eq(lc.f.GuardLongJumpTargetCount, 2);
    ck_assert_uint_eq(lc.f.GuardEHContinuationCount, 1);

    /* The public table: each field once, in 64-bit order, and its value is f's. */
    size_t n;
    const hp_pe_loadcfg_field *fields = hp_pe_loadcfg_fields(&n);
    ck_assert_uint_eq(n, 53);
    ck_assert_str_eq(fields[0].name, "Size");
    ck_assert_str_eq(fields[n - 1].name, "UmaFunctionPointers");
    for (size_t i = 0; i < n; i++) {
        if (i)
            ck_assert_uint_eq(fields[i].offset64, fields[i - 1].offset64 + fields[i - 1].width64);
        ck_assert(hp_pe_loadcfg_has(&f.pe, &lc, fields[i].offset64));
        if (!strcmp(fields[i].name, "HotPatchTableOffset"))
            ck_assert_uint_eq(hp_pe_loadcfg_value(&lc, &fields[i]), 0x4321);
        if (!strcmp(fields[i].name, "ProcessHeapFlags")) {
            ck_assert_uint_eq(fields[i].offset32, 0x2c);
            ck_assert_uint_eq(fields[i].offset64, 0x48);
            ck_assert_uint_eq(hp_pe_loadcfg_value(&lc, &fields[i]), 0x90);
        }
    }
    ck_assert_uint_eq(fields[n - 1].offset64 + fields[n - 1].width64, sizeof(lc64));
    ck_assert(!hp_pe_loadcfg_has(&f.pe, &lc, offsetof(lc64, Size) + 1)); /* not a field start */
    fx_free(&f);
}
END_TEST

/* Size decides which fields exist: a field Size cuts in two is absent, later ones too. */
START_TEST(loadcfg_fields_past_size_read_as_zero)
{
    bool x64 = _i;
    uint32_t flags_end = x64 ? offsetof(lc64, GuardFlags) + 4 : offsetof(lc32, GuardFlags) + 4;
    uint32_t sizes[] = { flags_end, flags_end - 2, 4 };
    for (size_t k = 0; k < 3; k++) {
        fixture f;
        fx_init(&f, x64 ? MKPE_X64 : MKPE_X86);
        lc_layout l = lc_fill(&f, 5);
        LC_PUT(&f, l.lc, Size, sizes[k]);
        LC_PUT(&f, l.lc, CodeIntegrityFlags, 0xffff);
        fx_build(&f, HP_PE_LAYOUT_FILE);
        hp_pe_loadcfg lc;
        ck_assert_int_eq(hp_pe_loadcfg_parse(&f.pe, &f.arena, &lc), HP_OK);
        ck_assert(lc.present);
        ck_assert_uint_eq(lc.size, sizes[k]);
        ck_assert_uint_eq(lc.f.Size, sizes[k]);
        ck_assert_uint_eq(lc.f.CodeIntegrityFlags, 0);
        ck_assert(!HP_PE_LOADCFG_HAS(&f.pe, &lc, CodeIntegrityFlags));
        ck_assert_uint_eq(lc.iat_entries.count, 0);
        ck_assert_uint_eq(lc.longjmp_targets.count, 0);
        ck_assert_uint_eq(lc.ehcont_targets.count, 0);
        if (k == 0) {
            ck_assert(HP_PE_LOADCFG_HAS(&f.pe, &lc, GuardFlags));
            ck_assert_uint_eq(lc.guard_stride, 5);
            check_table(&lc.cf_functions, 3, 5, f.text_rva);
        } else {
            /* Without GuardFlags the stride is 4 and, at Size 4, there is no table at all. */
            ck_assert(!HP_PE_LOADCFG_HAS(&f.pe, &lc, GuardFlags));
            ck_assert_uint_eq(lc.f.GuardFlags, 0);
            ck_assert_uint_eq(lc.guard_stride, 4);
            if (k == 2)
                ck_assert_uint_eq(lc.cf_functions.count, 0);
        }
        fx_free(&f);
    }
}
END_TEST

/*
 * Size against the directory and the bytes. x86 images may keep the legacy 64 in the
 * directory with a larger Size (what MSVC writes); nowhere else may Size pass the directory.
 */
START_TEST(loadcfg_size_bounds)
{
    static const struct {
        mkpe_arch arch;
        int64_t size_delta;     /* Size = full + delta */
        uint32_t dir_size;      /* 0: full */
        bool far_dir;           /* directory RVA outside the image */
        hp_status want;
    } cases[] = {
        { MKPE_X64, 0, 0, false, HP_OK },
        { MKPE_X64, -8, 0, false, HP_OK },          /* Size below the directory size */
        { MKPE_X64, 0, 64, false, HP_E_LOADCFG_SIZE },
        { MKPE_X86, 0, 64, false, HP_OK },
        { MKPE_X86, 0, 0x48, false, HP_E_LOADCFG_SIZE },
        { MKPE_X86, 0, 3, false, HP_E_LOADCFG_SIZE },
        { MKPE_X64, 0, 2, false, HP_E_LOADCFG_SIZE },
        { MKPE_X64, 0x10000, 0x20000, false, HP_E_LOADCFG_SIZE }, /* past the backed bytes */
        { MKPE_X86, 0x10000, 64, false, HP_E_LOADCFG_SIZE },
        { MKPE_X64, 0, 0, true, HP_E_DIR_RANGE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int layout = 0; layout < 2; layout++) {
            fixture f;
            fx_init(&f, cases[i].arch);
            lc_layout l = lc_fill(&f, 4);
            LC_PUT(&f, l.lc, Size, (uint32_t)(l.full + cases[i].size_delta));
            mkpe_set_dir(&f.spec, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG,
                         cases[i].far_dir ? 0x7fff0000 : l.lc,
                         cases[i].dir_size ? cases[i].dir_size : l.full);
            fx_build(&f, layout ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE);
            hp_pe_loadcfg lc;
            ck_assert_msg(hp_pe_loadcfg_parse(&f.pe, &f.arena, &lc) == cases[i].want,
                          "case %zu layout %d", i, layout);
            ck_assert(lc.present == (cases[i].want == HP_OK));
            if (cases[i].want == HP_OK)
                check_table(&lc.cf_functions, 3, 4, f.text_rva);
            fx_free(&f);
        }
    }
}
END_TEST

/* Tables must lie in backed bytes; counts are checked against them before any allocation. */
START_TEST(loadcfg_table_bounds)
{
    enum { VA_FAR, VA_BELOW_BASE, VA_ZERO, COUNT_HUGE, COUNT_OVERFLOW, COUNT_ONE_TOO_MANY };
    static const struct {
        int what;
        bool x64_only;
        hp_status want;
    } cases[] = {
        { VA_FAR, false, HP_E_LOADCFG_TABLE },
        { VA_BELOW_BASE, false, HP_E_LOADCFG_TABLE },
        { VA_ZERO, false, HP_OK }, /* VA 0: no table, whatever the count */
        { COUNT_HUGE, false, HP_E_LOADCFG_TABLE },
        { COUNT_OVERFLOW, true, HP_E_LOADCFG_TABLE },
        { COUNT_ONE_TOO_MANY, false, HP_E_LOADCFG_TABLE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int arch = 0; arch < 2; arch++) {
            if (cases[i].x64_only && !arch)
                continue;
            fixture f;
            fx_init(&f, arch ? MKPE_X64 : MKPE_X86);
            lc_layout l = lc_fill(&f, 5);
            switch (cases[i].what) {
            case VA_FAR: LC_PUT(&f, l.lc, GuardEHContinuationTable, fx_va(&f, 0x7ff0000)); break;
            case VA_BELOW_BASE: LC_PUT(&f, l.lc, GuardEHContinuationTable, 0x1000); break;
            case VA_ZERO: LC_PUT(&f, l.lc, GuardEHContinuationTable, 0); break;
            case COUNT_HUGE: LC_PUT(&f, l.lc, GuardEHContinuationCount, 0x7fffffff); break;
            case COUNT_OVERFLOW:
                LC_PUT(&f, l.lc, GuardEHContinuationCount, UINT64_MAX / 2);
                break;
            case COUNT_ONE_TOO_MANY:
                LC_PUT(&f, l.lc, GuardEHContinuationCount, 2);
                break;
            }
            fx_build(&f, HP_PE_LAYOUT_FILE);
            /* The table ends .rdata's data; SizeOfRawData rounds up, but the bytes past
             * VirtualSize are not the image's. */
            if (cases[i].what == COUNT_ONE_TOO_MANY)
                ck_assert_uint_eq(l.ehc + 5, f.b.rva + f.b.size);
            hp_pe_loadcfg lc;
            ck_assert_msg(hp_pe_loadcfg_parse(&f.pe, &f.arena, &lc) == cases[i].want,
                          "case %zu arch %d", i, arch);
            if (cases[i].want == HP_OK)
                ck_assert_uint_eq(lc.ehcont_targets.count, 0);
            fx_free(&f);
        }
    }
}
END_TEST

START_TEST(loadcfg_rejects_bad_arguments)
{
    fixture f;
    fx_init(&f, MKPE_X64);
    lc_fill(&f, 4);
    fx_build(&f, HP_PE_LAYOUT_FILE);
    hp_pe_loadcfg lc;
    hp_pe_pdata pd;
    hp_pe_runtime_function rf = { 0, 0, 0 };
    ck_assert_int_eq(hp_pe_loadcfg_parse(NULL, &f.arena, &lc), HP_E_ARG);
    ck_assert_int_eq(hp_pe_loadcfg_parse(&f.pe, NULL, &lc), HP_E_ARG);
    ck_assert_int_eq(hp_pe_loadcfg_parse(&f.pe, &f.arena, NULL), HP_E_ARG);
    ck_assert_int_eq(hp_pe_pdata_parse(&f.pe, NULL, &pd), HP_E_ARG);
    ck_assert_int_eq(hp_pe_unwind_primary(&f.pe, &rf, NULL), HP_E_ARG);
    ck_assert(!hp_pe_loadcfg_has(&f.pe, NULL, 0));
    fx_free(&f);
}
END_TEST

static Suite *loadcfg_suite(void)
{
    Suite *s = suite_create("loadcfg");
    TCase *tc = tcase_create("pdata");
    tcase_add_test(tc, pdata_reads_every_entry_in_both_layouts);
    tcase_add_test(tc, pdata_absent_or_invalid);
    tcase_add_test(tc, unwind_follows_chains_up_to_32_links);
    tcase_add_test(tc, unwind_rejects_loops_and_bytes_outside);
    suite_add_tcase(s, tc);

    /* _i: 0 = x86 (PE32), 1 = x64 (PE32+) */
    tc = tcase_create("loadcfg");
    tcase_add_loop_test(tc, loadcfg_absent, 0, 2);
    tcase_add_loop_test(tc, loadcfg_cfg_tables_with_their_stride, 0, 2);
    tcase_add_loop_test(tc, loadcfg_every_field_from_its_layout, 0, 2);
    tcase_add_loop_test(tc, loadcfg_fields_past_size_read_as_zero, 0, 2);
    tcase_add_test(tc, loadcfg_size_bounds);
    tcase_add_test(tc, loadcfg_table_bounds);
    tcase_add_test(tc, loadcfg_rejects_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(loadcfg_suite)
