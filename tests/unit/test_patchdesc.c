/* Unit tests: the SDK's descriptor records (.hotpe) and hotpe build's record (pe/patchdesc.c). */
#include <string.h>

#include "harness.h"
#include "mkpe.h"
#include "hotpe/pe/patchdesc.h"
#include "hotpe/pe/pe.h"
#include "hotpe/pe/site.h"

typedef hotpe_desc_disk dd;
typedef hotpe_build_disk bd;
typedef hotpe_build_ref br;
typedef hotpe_build_recipe rc;
typedef hotpe_build_hash bh;
typedef HP_IMAGE_SECTION_HEADER sh;

/* ------------------------------------------------------------------------------------------ */
/* Fixture: .text, .data, .bss, .hotpe, .hotp1, then .rdata (strings) last, so that a long    */
/* string moves no other section. Each blob stays under a page, so RVAs are known up front.   */
/* ------------------------------------------------------------------------------------------ */

typedef struct fixture {
    mkpe_spec spec;
    unsigned text, data, bss, desc, hotp, rdata;
    uint32_t text_rva, data_rva, bss_rva, hotp_rva;
    mkpe_blob desc_b, hotp_b, rdata_b;
    mkpe_image img;
    hp_arena arena;
    hp_pe pe;
} fixture;

static uint8_t code[0x200];
static uint8_t slots[0x100];

static void fx_init(fixture *f, mkpe_arch arch)
{
    memset(f, 0, sizeof *f);
    memset(code, 0xcc, sizeof code);
    mkpe_init(&f->spec, arch);
    f->text = mkpe_add_section(&f->spec, ".text", MKPE_CODE, code, sizeof code, 0);
    f->data = mkpe_add_section(&f->spec, ".data", MKPE_DATA, slots, sizeof slots, 0);
    f->bss = mkpe_add_section(&f->spec, ".bss", MKPE_BSS, NULL, 0, 0x1000);
    f->desc = mkpe_add_section(&f->spec, HOTPE_DESC_SECTION, MKPE_RDATA, NULL, 0, 0);
    f->hotp = mkpe_add_section(&f->spec, ".hotp1", MKPE_RDATA, NULL, 0, 0);
    f->rdata = mkpe_add_section(&f->spec, ".rdata", MKPE_RDATA, NULL, 0, 0);
    f->text_rva = mkpe_section_rva(&f->spec, f->text);
    f->data_rva = mkpe_section_rva(&f->spec, f->data);
    f->bss_rva = mkpe_section_rva(&f->spec, f->bss);
    f->hotp_rva = mkpe_section_rva(&f->spec, f->hotp);
    mkpe_blob_init(&f->desc_b, mkpe_section_rva(&f->spec, f->desc));
    mkpe_blob_init(&f->hotp_b, f->hotp_rva);
    mkpe_blob_init(&f->rdata_b, mkpe_section_rva(&f->spec, f->rdata));
}

static uint64_t va(const fixture *f, uint32_t rva)
{
    return rva ? f->spec.image_base + rva : 0;
}

static void fx_layout(fixture *f, hp_pe_layout layout)
{
    mkpe_set_section_blob(&f->spec, f->desc, &f->desc_b);
    mkpe_set_section_blob(&f->spec, f->hotp, &f->hotp_b);
    mkpe_set_section_blob(&f->spec, f->rdata, &f->rdata_b);
    f->img = layout == HP_PE_LAYOUT_FILE ? mkpe_build(&f->spec) : mkpe_build_loaded(&f->spec);
}

static void fx_parse(fixture *f, hp_pe_layout layout)
{
    ck_assert_int_eq(hp_pe_parse(&f->pe, &f->arena, f->img.data, f->img.size, layout), HP_OK);
}

static void fx_build(fixture *f, hp_pe_layout layout)
{
    fx_layout(f, layout);
    fx_parse(f, layout);
}

static void fx_free(fixture *f)
{
    hp_arena_free(&f->arena);
    mkpe_free(&f->img);
    mkpe_blob_free(&f->desc_b);
    mkpe_blob_free(&f->hotp_b);
    mkpe_blob_free(&f->rdata_b);
}

/* File offset of an RVA inside section i (file layout). */
static uint32_t fx_off(const fixture *f, unsigned i, uint32_t rva)
{
    return mkpe_rva_offset(&f->spec, i, rva);
}

/* ------------------------------------------------------------------------------------------ */
/* Descriptor records                                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef struct want_desc {
    uint32_t kind, sequence;
    const char *name;
    uint32_t object_rva, function_rva;
    const char *text;
} want_desc;

static uint32_t put_desc(fixture *f, uint32_t kind, uint32_t seq, uint32_t name_rva,
                         uint32_t object_rva, uint32_t function_rva, uint32_t text_rva)
{
    mkpe_blob *b = &f->desc_b;
    uint32_t at = mkpe_blob_zero(b, HOTPE_DESC_SIZE);
    MKPE_BLOB_PUT(b, at, dd, Magic, HOTPE_DESC_MAGIC);
    MKPE_BLOB_PUT(b, at, dd, Kind, kind);
    MKPE_BLOB_PUT(b, at, dd, Version, HOTPE_DESC_VERSION);
    MKPE_BLOB_PUT(b, at, dd, Sequence, seq);
    MKPE_BLOB_PUT(b, at, dd, Name, va(f, name_rva));
    MKPE_BLOB_PUT(b, at, dd, Object, va(f, object_rva));
    MKPE_BLOB_PUT(b, at, dd, Function, va(f, function_rva));
    MKPE_BLOB_PUT(b, at, dd, Text, va(f, text_rva));
    return at;
}

static uint32_t str_or_0(fixture *f, const char *s)
{
    return s ? mkpe_blob_str(&f->rdata_b, s) : 0;
}

/* Characters without a NUL up to the end of .rdata's file bytes (its raw size, a multiple of
 * 0x200); .rdata takes no more strings after this. */
static uint32_t add_unterminated(fixture *f)
{
    static char fill[0x200];
    memset(fill, 'x', sizeof fill);
    uint32_t n = mkpe_align(f->rdata_b.size, 0x200) - f->rdata_b.size;
    return mkpe_blob_add(&f->rdata_b, fill, n ? n : 0x200, 1);
}

/* One record of every kind, with linker-style zero words between some; returns the count. */
static unsigned put_all_kinds(fixture *f, want_desc *w, uint32_t *rvas)
{
    const want_desc all[] = {
        { HOTPE_DESC_PATCH, 3, "base.exe", 0, 0, "fix the rounding" },
        { HOTPE_DESC_REPLACE, 0, "compute", 0, f->text_rva + 0x10, "compute_v2" },
        { HOTPE_DESC_BASE_DATA, 0, "g_calls", f->data_rva, 0, "long" },
        { HOTPE_DESC_BASE_FUNC, 0, "log_line", f->data_rva + 8, 0, "int (const char *)" },
        { HOTPE_DESC_ORIGINAL, 0, "label", f->bss_rva + 0x10, 0, NULL },
        { HOTPE_DESC_ON_APPLY, 0, "on_apply", 0, f->text_rva + 0x20, NULL },
        { HOTPE_DESC_ON_REVERT, 0, "on_revert", 0, f->text_rva + 0x30, NULL },
    };
    unsigned n = sizeof all / sizeof all[0];
    for (unsigned i = 0; i < n; i++) {
        if (i == 2)
            mkpe_blob_zero(&f->desc_b, 4);
        if (i == 5)
            mkpe_blob_zero(&f->desc_b, 12);
        w[i] = all[i];
        rvas[i] = put_desc(f, all[i].kind, all[i].sequence, str_or_0(f, all[i].name),
                           all[i].object_rva, all[i].function_rva, str_or_0(f, all[i].text));
    }
    mkpe_blob_zero(&f->desc_b, 16); /* trailing padding */
    return n;
}

static void check_entries(const hp_pe_patchdesc *pd, const want_desc *w, const uint32_t *rvas,
                          unsigned n)
{
    ck_assert(pd->present);
    ck_assert_uint_eq(pd->count, n);
    for (unsigned i = 0; i < n; i++) {
        const hp_pe_patchdesc_entry *e = &pd->entries[i];
        ck_assert_uint_eq(e->rva, rvas[i]);
        ck_assert_uint_eq(e->kind, w[i].kind);
        ck_assert_uint_eq(e->sequence, w[i].sequence);
        ck_assert_str_eq(e->name, w[i].name);
        ck_assert_uint_ne(e->name_rva, 0);
        ck_assert_uint_eq(e->object_rva, w[i].object_rva);
        ck_assert_uint_eq(e->function_rva, w[i].function_rva);
        if (w[i].text) {
            ck_assert_uint_ne(e->text_rva, 0);
            ck_assert_str_eq(e->text, w[i].text);
        } else {
            ck_assert_uint_eq(e->text_rva, 0);
            ck_assert_ptr_null(e->text);
        }
    }
}

START_TEST(patchdesc_every_kind_in_both_layouts)
{
    mkpe_arch arch = _i & 1 ? MKPE_X64 : MKPE_X86;
    hp_pe_layout layout = _i & 2 ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE;
    fixture f;
    fx_init(&f, arch);
    want_desc w[8];
    uint32_t rvas[8];
    unsigned n = put_all_kinds(&f, w, rvas);
    fx_build(&f, layout);
    hp_pe_patchdesc pd;
    ck_assert_int_eq(hp_pe_patchdesc_parse(&f.pe, &f.arena, &pd), HP_OK);
    check_entries(&pd, w, rvas, n);
    fx_free(&f);
}
END_TEST

START_TEST(patchdesc_absent_empty_and_unbacked)
{
    mkpe_arch arch = _i ? MKPE_X64 : MKPE_X86;
    hp_pe_patchdesc pd;
    /* no .hotpe section at all */
    fixture f;
    memset(&f, 0, sizeof f);
    mkpe_init(&f.spec, arch);
    mkpe_add_section(&f.spec, ".text", MKPE_CODE, code, sizeof code, 0);
    f.img = mkpe_build(&f.spec);
    fx_parse(&f, HP_PE_LAYOUT_FILE);
    ck_assert_int_eq(hp_pe_patchdesc_parse(&f.pe, &f.arena, &pd), HP_OK);
    ck_assert(!pd.present);
    ck_assert_uint_eq(pd.count, 0);
    fx_free(&f);

    /* only zero words: present, no records */
    fx_init(&f, arch);
    mkpe_blob_zero(&f.desc_b, 0x40);
    fx_build(&f, HP_PE_LAYOUT_FILE);
    ck_assert_int_eq(hp_pe_patchdesc_parse(&f.pe, &f.arena, &pd), HP_OK);
    ck_assert(pd.present);
    ck_assert_uint_eq(pd.count, 0);
    ck_assert_ptr_null(pd.entries);
    fx_free(&f);

    /* a .hotpe without file bytes (uninitialized): present, no records */
    fx_init(&f, arch);
    f.spec.sections[f.desc].virtual_size = 0x100;
    f.spec.sections[f.desc].characteristics = MKPE_BSS;
    mkpe_set_section_blob(&f.spec, f.hotp, &f.hotp_b);
    mkpe_set_section_blob(&f.spec, f.rdata, &f.rdata_b);
    f.img = mkpe_build(&f.spec);
    fx_parse(&f, HP_PE_LAYOUT_FILE);
    ck_assert_int_eq(hp_pe_patchdesc_parse(&f.pe, &f.arena, &pd), HP_OK);
    ck_assert(pd.present);
    ck_assert_uint_eq(pd.count, 0);
    fx_free(&f);
}
END_TEST

/* Names up to 4095 characters are read; the terminator must come within 4096 bytes. */
START_TEST(patchdesc_string_length_limit)
{
    static char name[4098];
    for (unsigned len = 4095; len <= 4096; len++) {
        fixture f;
        fx_init(&f, MKPE_X64);
        memset(name, 'n', len);
        name[len] = 0;
        put_desc(&f, HOTPE_DESC_REPLACE, 0, mkpe_blob_str(&f.rdata_b, name), 0,
                 f.text_rva, 0);
        fx_build(&f, HP_PE_LAYOUT_FILE);
        hp_pe_patchdesc pd;
        hp_status s = hp_pe_patchdesc_parse(&f.pe, &f.arena, &pd);
        if (len == 4095) {
            ck_assert_int_eq(s, HP_OK);
            ck_assert_uint_eq(pd.count, 1);
            ck_assert_uint_eq(strlen(pd.entries[0].name), 4095);
        } else {
            ck_assert_int_eq(s, HP_E_PATCHDESC_STRING);
        }
        fx_free(&f);
    }
}
END_TEST

/* Malformed records: one good REPLACE record, then one field or byte changed in the file. */
typedef enum desc_case {
    D_VERSION_0,
    D_VERSION_2,
    D_KIND_0,
    D_KIND_PAST_MAX,
    D_NAME_0,
    D_NAME_BELOW_BASE,
    D_NAME_PAST_IMAGE,
    D_OBJECT_PAST_IMAGE,
    D_FUNCTION_PAST_IMAGE,
    D_TEXT_PAST_IMAGE,
    D_STRAY_WORD,
    D_TRUNCATED,
    D_NAME_UNBACKED,
    D_NAME_UNTERMINATED,
    D_TEXT_UNTERMINATED,
    D_CASES
} desc_case;

static const struct {
    const char *what;
    hp_status want;
} desc_cases[D_CASES] = {
    [D_VERSION_0] = { "version 0", HP_E_PATCHDESC },
    [D_VERSION_2] = { "version 2", HP_E_PATCHDESC },
    [D_KIND_0] = { "kind 0", HP_E_PATCHDESC },
    [D_KIND_PAST_MAX] = { "kind past the last", HP_E_PATCHDESC },
    [D_NAME_0] = { "no name", HP_E_PATCHDESC },
    [D_NAME_BELOW_BASE] = { "name VA below ImageBase", HP_E_PATCHDESC },
    [D_NAME_PAST_IMAGE] = { "name VA at ImageBase + SizeOfImage", HP_E_PATCHDESC },
    [D_OBJECT_PAST_IMAGE] = { "object VA outside", HP_E_PATCHDESC },
    [D_FUNCTION_PAST_IMAGE] = { "function VA outside", HP_E_PATCHDESC },
    [D_TEXT_PAST_IMAGE] = { "text VA outside", HP_E_PATCHDESC },
    [D_STRAY_WORD] = { "a word neither zero nor the magic", HP_E_PATCHDESC },
    [D_TRUNCATED] = { "the section ends inside a record", HP_E_PATCHDESC },
    [D_NAME_UNBACKED] = { "name in .bss", HP_E_PATCHDESC_STRING },
    [D_NAME_UNTERMINATED] = { "name runs to the end of the file bytes", HP_E_PATCHDESC_STRING },
    [D_TEXT_UNTERMINATED] = { "text runs to the end of the file bytes", HP_E_PATCHDESC_STRING },
};

START_TEST(patchdesc_malformed)
{
    desc_case c = (desc_case)(_i / 2);
    fixture f;
    fx_init(&f, _i & 1 ? MKPE_X64 : MKPE_X86);
    uint32_t name = mkpe_blob_str(&f.rdata_b, "compute");
    uint32_t text = mkpe_blob_str(&f.rdata_b, "compute_v2");
    uint32_t tail = c == D_NAME_UNTERMINATED || c == D_TEXT_UNTERMINATED ? add_unterminated(&f) : 0;
    uint32_t rec = put_desc(&f, HOTPE_DESC_REPLACE, 0, name, 0, f.text_rva, text);
    uint32_t after = mkpe_blob_zero(&f.desc_b, 8);
    fx_layout(&f, HP_PE_LAYOUT_FILE);
    mkpe_image *img = &f.img;
    uint32_t o = fx_off(&f, f.desc, rec);
    uint64_t size_of_image = mkpe_image_size(&f.spec);
    switch (c) {
    case D_VERSION_0: MKPE_PUT(img, o, dd, Version, 0); break;
    case D_VERSION_2: MKPE_PUT(img, o, dd, Version, 2); break;
    case D_KIND_0: MKPE_PUT(img, o, dd, Kind, 0); break;
    case D_KIND_PAST_MAX: MKPE_PUT(img, o, dd, Kind, HOTPE_DESC_KIND_MAX + 1); break;
    case D_NAME_0: MKPE_PUT(img, o, dd, Name, 0); break;
    case D_NAME_BELOW_BASE: MKPE_PUT(img, o, dd, Name, f.spec.image_base - 1); break;
    case D_NAME_PAST_IMAGE: MKPE_PUT(img, o, dd, Name, f.spec.image_base + size_of_image); break;
    case D_OBJECT_PAST_IMAGE: MKPE_PUT(img, o, dd, Object, f.spec.image_base + size_of_image + 8); break;
    case D_FUNCTION_PAST_IMAGE: MKPE_PUT(img, o, dd, Function, 0xffffffffull); break;
    case D_TEXT_PAST_IMAGE: MKPE_PUT(img, o, dd, Text, f.spec.image_base + size_of_image); break;
    case D_STRAY_WORD: mkpe_w32(img, fx_off(&f, f.desc, after + 4), 0xdeadbeef); break;
    case D_TRUNCATED:
        MKPE_PUT(img, mkpe_off_section_header(&f.spec, f.desc), sh, VirtualSize,
                 rec - f.desc_b.rva + HOTPE_DESC_SIZE - 4);
        break;
    case D_NAME_UNBACKED: MKPE_PUT(img, o, dd, Name, va(&f, f.bss_rva)); break;
    case D_NAME_UNTERMINATED: MKPE_PUT(img, o, dd, Name, va(&f, tail)); break;
    case D_TEXT_UNTERMINATED: MKPE_PUT(img, o, dd, Text, va(&f, tail)); break;
    case D_CASES: break;
    }
    fx_parse(&f, HP_PE_LAYOUT_FILE);
    hp_pe_patchdesc pd;
    hp_status s = hp_pe_patchdesc_parse(&f.pe, &f.arena, &pd);
    ck_assert_msg(s == desc_cases[c].want, "%s: got %s, want %s", desc_cases[c].what,
                  hp_status_name(s), hp_status_name(desc_cases[c].want));
    fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* hotpe build's record                                                                        */
/* ------------------------------------------------------------------------------------------ */

#define BUILD_AT 0x50 /* after the HOTPATCH_HEADER, as hotpe build writes it */

typedef struct want_ref {
    uint16_t kind, flags;
    uint32_t base_rva, patch_rva;
    const char *name;
    uint8_t source, site_class, padding, first_insn_len;
} want_ref;

static const uint8_t guid[16] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                                  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

/* The recipes of good_refs: the ORIGINAL stub's 4-byte instruction, and one more function
 * whose two jcc move (rel8, then rel32). */
static const rc good_recipes[] = {
    { 0x1558, 1, { 4 }, { HOTPE_MOVE_PLAIN }, { 0 } },
    { 0x1600, 2, { 2, 6 }, { HOTPE_MOVE_JCC, HOTPE_MOVE_JCC }, { 0 } },
};
#define NRECIPES (sizeof good_recipes / sizeof good_recipes[0])

/* The hash of a replaced function in these records: Length 0x40, its SHA-256 bytes made from
 * its RVA. */
static void good_hash(uint32_t base_rva, bh *h)
{
    h->BaseRva = base_rva;
    h->Length = 0x40;
    for (unsigned k = 0; k < sizeof h->Sha256; k++)
        h->Sha256[k] = (uint8_t)(base_rva + 7 * k);
}

/* The record of version (3: no hashes, a 0x48-byte header) at .hotp1 + BUILD_AT with refs
 * and (when refs are given) good_recipes and, in version 4, a good_hash for each REPLACE (refs
 * list them by RVA); returns its RVA. */
static uint32_t put_build_v(fixture *f, const want_ref *refs, uint32_t n, uint32_t version)
{
    mkpe_blob *b = &f->hotp_b;
    uint32_t head = version == 3 ? HOTPE_BUILD_V3_SIZE : sizeof(bd), nh = 0;
    for (uint32_t i = 0; version != 3 && i < n; i++)
        nh += refs[i].kind == HOTPE_DESC_REPLACE;
    uint32_t nrc = n ? NRECIPES : 0, recipes = head + n * sizeof(br);
    uint32_t hashes = recipes + nrc * sizeof(rc), size = hashes + nh * sizeof(bh);
    mkpe_blob_zero(b, BUILD_AT);
    uint32_t at = mkpe_blob_zero(b, size);
    ck_assert_uint_eq(at, f->hotp_rva + BUILD_AT);
    MKPE_BLOB_PUT(b, at, bd, Magic, HOTPE_BUILD_MAGIC);
    MKPE_BLOB_PUT(b, at, bd, Version, version);
    MKPE_BLOB_PUT(b, at, bd, Size, size);
    MKPE_BLOB_PUT(b, at, bd, RecipeCount, nrc);
    MKPE_BLOB_PUT(b, at, bd, RecipeArrayOffset, nrc ? recipes : 0);
    if (version != 3) {
        MKPE_BLOB_PUT(b, at, bd, HashCount, nh);
        MKPE_BLOB_PUT(b, at, bd, HashArrayOffset, nh ? hashes : 0);
    }
    for (uint32_t i = 0, k = 0; i < n && nh; i++) {
        if (refs[i].kind != HOTPE_DESC_REPLACE)
            continue;
        bh h;
        good_hash(refs[i].base_rva, &h);
        uint32_t o = at + hashes + k++ * sizeof(bh);
        MKPE_BLOB_PUT(b, o, bh, BaseRva, h.BaseRva);
        MKPE_BLOB_PUT(b, o, bh, Length, h.Length);
        for (unsigned j = 0; j < sizeof h.Sha256; j++)
            mkpe_blob_putn(b, o + offsetof(bh, Sha256) + j, h.Sha256[j], 1);
    }
    for (uint32_t i = 0; i < nrc; i++) {
        uint32_t o = at + recipes + i * sizeof(rc);
        MKPE_BLOB_PUT(b, o, rc, BaseRva, good_recipes[i].BaseRva);
        MKPE_BLOB_PUT(b, o, rc, Count, good_recipes[i].Count);
        for (unsigned k = 0; k < HOTPE_RECIPE_MAX; k++) {
            mkpe_blob_putn(b, o + offsetof(rc, Length) + k, good_recipes[i].Length[k], 1);
            mkpe_blob_putn(b, o + offsetof(rc, Kind) + k, good_recipes[i].Kind[k], 1);
            mkpe_blob_putn(b, o + offsetof(rc, DispOffset) + k, good_recipes[i].DispOffset[k], 1);
        }
    }
    MKPE_BLOB_PUT(b, at, bd, Sequence, 4);
    MKPE_BLOB_PUT(b, at, bd, BaseTimeDateStamp, 0x6b06ee3c);
    MKPE_BLOB_PUT(b, at, bd, BaseSizeOfImage, 0x3f000);
    MKPE_BLOB_PUT(b, at, bd, BaseCheckSum, 0x3e886);
    MKPE_BLOB_PUT(b, at, bd, Flags, HOTPE_BUILD_F_CODEVIEW);
    for (unsigned i = 0; i < 16; i++)
        mkpe_blob_putn(b, at + offsetof(bd, BaseGuid) + i, guid[i], 1);
    MKPE_BLOB_PUT(b, at, bd, BaseAge, 7);
    MKPE_BLOB_PUT(b, at, bd, BaseMachine, f->spec.machine);
    MKPE_BLOB_PUT(b, at, bd, RefCount, n);
    MKPE_BLOB_PUT(b, at, bd, RefArrayOffset, head);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t o = at + head + i * sizeof(br);
        MKPE_BLOB_PUT(b, o, br, Kind, refs[i].kind);
        MKPE_BLOB_PUT(b, o, br, Flags, refs[i].flags);
        MKPE_BLOB_PUT(b, o, br, BaseRva, refs[i].base_rva);
        MKPE_BLOB_PUT(b, o, br, PatchRva, refs[i].patch_rva);
        MKPE_BLOB_PUT(b, o, br, NameRva, str_or_0(f, refs[i].name));
        MKPE_BLOB_PUT(b, o, br, Source, refs[i].source);
        MKPE_BLOB_PUT(b, o, br, SiteClass, refs[i].site_class);
        MKPE_BLOB_PUT(b, o, br, Padding, refs[i].padding);
        MKPE_BLOB_PUT(b, o, br, FirstInsnLen, refs[i].first_insn_len);
    }
    return at;
}

static uint32_t put_build(fixture *f, const want_ref *refs, uint32_t n)
{
    return put_build_v(f, refs, n, HOTPE_BUILD_VERSION);
}

/* REPLACE, ORIGINAL (slot in .data, the last pointer of the section), BASE_DATA (slot in
 * .bss), BASE_FUNC, ON_APPLY without a name, another REPLACE. */
static uint32_t good_refs(const fixture *f, want_ref *w)
{
    uint32_t ptr = f->spec.pe32plus ? 8 : 4;
    const want_ref r[] = {
        { HOTPE_DESC_REPLACE, 0, 0x1538, f->text_rva + 0x10, "compute", HOTPE_SRC_SYMBOL, 2, 8, 2 },
        { HOTPE_DESC_ORIGINAL, HOTPE_REF_F_STUB, 0x1558, f->data_rva + sizeof slots - ptr, "label",
          HOTPE_SRC_EXPORT, 3, 8, 4 },
        { HOTPE_DESC_BASE_DATA, 0, 0xd04c, f->bss_rva, "g_calls", HOTPE_SRC_MAP, 0, 0, 0 },
        { HOTPE_DESC_BASE_FUNC, 0, 0x1400, f->data_rva, "log_line", HOTPE_SRC_SYMBOL, 0, 0, 0 },
        { HOTPE_DESC_ON_APPLY, 0, 0, f->text_rva + sizeof code - 1, NULL, HOTPE_SRC_NONE, 0, 0, 0 },
        { HOTPE_DESC_REPLACE, HOTPE_REF_F_TRAMP, 0x1600, f->text_rva + 0x20, "other",
          HOTPE_SRC_SYMBOL, HP_SITE_TRAMP, 0, 6 },
    };
    memcpy(w, r, sizeof r);
    return sizeof r / sizeof r[0];
}

/* _i bit 0: x64; bit 1: loaded layout; bit 2: a version 3 record (no hashes). */
START_TEST(patchbuild_good_record_in_both_layouts)
{
    mkpe_arch arch = _i & 1 ? MKPE_X64 : MKPE_X86;
    hp_pe_layout layout = _i & 2 ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE;
    uint32_t version = _i & 4 ? 3 : HOTPE_BUILD_VERSION;
    uint32_t head = version == 3 ? HOTPE_BUILD_V3_SIZE : sizeof(bd), nh = version == 3 ? 0 : 2;
    fixture f;
    fx_init(&f, arch);
    want_ref w[8];
    uint32_t n = good_refs(&f, w);
    uint32_t at = put_build_v(&f, w, n, version);
    fx_build(&f, layout);
    hp_pe_patchbuild pb;
    ck_assert_int_eq(hp_pe_patchbuild_parse(&f.pe, &f.arena, at, &pb), HP_OK);
    ck_assert(pb.present);
    ck_assert_uint_eq(pb.rva, at);
    ck_assert_uint_eq(pb.rec.Magic, HOTPE_BUILD_MAGIC);
    ck_assert_uint_eq(pb.rec.Version, version);
    ck_assert_uint_eq(pb.rec.Size,
                      head + n * sizeof(br) + NRECIPES * sizeof(rc) + nh * sizeof(bh));
    ck_assert_uint_eq(pb.rec.RecipeCount, NRECIPES);
    ck_assert_uint_eq(pb.rec.HashCount, nh);
    if (nh) {
        bh want;
        good_hash(0x1600, &want);
        ck_assert_ptr_eq(hp_pe_patchbuild_hash(&pb, 0x1600), &pb.hashes[1]);
        ck_assert_mem_eq(&pb.hashes[1], &want, sizeof want);
        good_hash(0x1538, &want);
        ck_assert_mem_eq(hp_pe_patchbuild_hash(&pb, 0x1538), &want, sizeof want);
    } else {
        ck_assert_ptr_null(pb.hashes);
        ck_assert_uint_eq(pb.rec.HashArrayOffset, 0);
    }
    ck_assert_ptr_null(hp_pe_patchbuild_hash(&pb, 0x1558)); /* not replaced */
    for (uint32_t i = 0; i < NRECIPES; i++)
        ck_assert_mem_eq(&pb.recipes[i], &good_recipes[i], sizeof(rc));
    ck_assert_ptr_eq(hp_pe_patchbuild_recipe(&pb, 0x1600), &pb.recipes[1]);
    ck_assert_ptr_null(hp_pe_patchbuild_recipe(&pb, 0x1601));
    hp_insn_moved m[HOTPE_RECIPE_MAX];
    ck_assert_uint_eq(hp_pe_recipe_moves(&pb.recipes[1], m), 2);
    ck_assert_uint_eq(m[1].len, 6);
    ck_assert_uint_eq(m[1].kind, HP_INSN_MOVE_JCC);
    ck_assert_uint_eq(pb.rec.Sequence, 4);
    ck_assert_uint_eq(pb.rec.BaseTimeDateStamp, 0x6b06ee3c);
    ck_assert_uint_eq(pb.rec.BaseSizeOfImage, 0x3f000);
    ck_assert_uint_eq(pb.rec.BaseCheckSum, 0x3e886);
    ck_assert_uint_eq(pb.rec.Flags, HOTPE_BUILD_F_CODEVIEW);
    ck_assert_mem_eq(pb.rec.BaseGuid, guid, 16);
    ck_assert_uint_eq(pb.rec.BaseAge, 7);
    ck_assert_uint_eq(pb.rec.BaseMachine, f.spec.machine);
    ck_assert_uint_eq(pb.rec.RefCount, n);
    ck_assert_uint_eq(pb.rec.RefArrayOffset, head);
    for (uint32_t i = 0; i < n; i++) {
        const br *r = &pb.refs[i];
        ck_assert_uint_eq(r->Kind, w[i].kind);
        ck_assert_uint_eq(r->Flags, w[i].flags);
        ck_assert_uint_eq(r->BaseRva, w[i].base_rva);
        ck_assert_uint_eq(r->PatchRva, w[i].patch_rva);
        ck_assert_uint_eq(r->Source, w[i].source);
        ck_assert_uint_eq(r->SiteClass, w[i].site_class);
        ck_assert_uint_eq(r->Padding, w[i].padding);
        ck_assert_uint_eq(r->FirstInsnLen, w[i].first_insn_len);
        if (w[i].name) {
            ck_assert_uint_ne(r->NameRva, 0);
            ck_assert_str_eq(pb.ref_names[i], w[i].name);
        } else {
            ck_assert_uint_eq(r->NameRva, 0);
            ck_assert_ptr_null(pb.ref_names[i]);
        }
    }
    fx_free(&f);
}
END_TEST

START_TEST(patchbuild_absent_or_empty)
{
    fixture f;
    fx_init(&f, _i ? MKPE_X64 : MKPE_X86);
    uint32_t at = put_build(&f, NULL, 0);
    fx_build(&f, HP_PE_LAYOUT_FILE);
    hp_pe_patchbuild pb;
    /* no references: present, no arrays */
    ck_assert_int_eq(hp_pe_patchbuild_parse(&f.pe, &f.arena, at, &pb), HP_OK);
    ck_assert(pb.present);
    ck_assert_uint_eq(pb.rec.RefCount, 0);
    ck_assert_ptr_null(pb.refs);
    /* no magic there, an RVA outside the image, one without file bytes: not present */
    const uint32_t nowhere[] = { at + 4, 0xfffffff0u, f.bss_rva };
    for (unsigned i = 0; i < sizeof nowhere / sizeof nowhere[0]; i++) {
        ck_assert_int_eq(hp_pe_patchbuild_parse(&f.pe, &f.arena, nowhere[i], &pb), HP_OK);
        ck_assert(!pb.present);
    }
    fx_free(&f);
}
END_TEST

/* Malformed records: the good record, then one field or byte changed in the file. */
typedef enum build_case {
    B_VERSION_0,
    B_VERSION_1,
    B_VERSION_2,
    B_VERSION_5,
    B_SIZE_SHORT,
    B_SIZE_PAST_BACKED,
    B_HEADER_TRUNCATED,
    B_REFS_TRUNCATED,
    B_COUNT_PAST_SIZE,
    B_COUNT_HUGE,
    B_ARRAY_PAST_SIZE,
    B_ARRAY_HUGE,
    B_ARRAY_IN_HEADER,
    B_NAME_PAST_IMAGE,
    B_NAME_UNBACKED,
    B_NAME_UNTERMINATED,
    B_KIND_0,
    B_KIND_PATCH,
    B_KIND_PAST_MAX,
    B_REPLACE_PAST_IMAGE,
    B_REPLACE_NOT_CODE,
    B_CALLBACK_IN_HEADERS,
    B_SLOT_PAST_SECTION,
    B_SLOT_PAST_IMAGE,
    B_SOURCE_PAST_LAST,
    B_CLASS_PAST_LAST,
    B_CLASS_ON_CALLBACK,
    B_FLAGS_UNKNOWN,
    B_STUB_ON_REPLACE,
    B_TRAMP_ON_CALLBACK,
    B_STUB_WITHOUT_RECIPE,
    B_RECIPE_BYTES_DIFFER,
    B_RECIPE_COUNT_0,
    B_RECIPE_COUNT_6,
    B_RECIPE_TAIL,
    B_KIND_UNKNOWN,
    B_REL32_NOT_5,
    B_RIP_DISP_PAST,
    B_DISP_WITHOUT_RIP,
    B_JCC_LEN_4,
    B_RECIPES_UNSORTED,
    B_RECIPES_PAST_SIZE,
    B_RECIPES_IN_HEADER,
    B_STUB_LEN_0,
    B_HASH_COUNT_PAST_SIZE,
    B_HASH_COUNT_HUGE,
    B_HASH_ARRAY_IN_HEADER,
    B_HASH_ARRAY_HUGE,
    B_HASH_LEN_0,
    B_HASH_LEN_PAST_MAX,
    B_HASH_PAST_IMAGE,
    B_HASHES_UNSORTED,
    B_HASH_NOT_REPLACED,
    B_REPLACE_WITHOUT_HASH,
    B_V3_ARRAY_IN_HEADER,
    B_CASES
} build_case;

static const char *const build_case_names[B_CASES] = {
    [B_VERSION_0] = "version 0",
    [B_VERSION_1] = "version 1 (stubs without their recipe)",
    [B_VERSION_2] = "version 2 (recipes in the flags)",
    [B_VERSION_5] = "version 5",
    [B_SIZE_SHORT] = "Size smaller than the record",
    [B_SIZE_PAST_BACKED] = "Size past the file bytes",
    [B_HEADER_TRUNCATED] = "the section ends inside the record",
    [B_REFS_TRUNCATED] = "the section ends inside the references",
    [B_COUNT_PAST_SIZE] = "RefCount one past Size",
    [B_COUNT_HUGE] = "RefCount 0xffffffff",
    [B_ARRAY_PAST_SIZE] = "RefArrayOffset past Size",
    [B_ARRAY_HUGE] = "RefArrayOffset 0xfffffff0",
    [B_ARRAY_IN_HEADER] = "RefArrayOffset inside the record",
    [B_NAME_PAST_IMAGE] = "a NameRva outside the image",
    [B_NAME_UNBACKED] = "a NameRva in .bss",
    [B_NAME_UNTERMINATED] = "a name running to the end of the file bytes",
    [B_KIND_0] = "a reference of kind 0",
    [B_KIND_PATCH] = "a reference of kind PATCH",
    [B_KIND_PAST_MAX] = "a reference of a kind past the last",
    [B_REPLACE_PAST_IMAGE] = "a replacement outside the image",
    [B_REPLACE_NOT_CODE] = "a replacement in .data",
    [B_CALLBACK_IN_HEADERS] = "a callback at RVA 0",
    [B_SLOT_PAST_SECTION] = "a slot straddling the end of .data",
    [B_SLOT_PAST_IMAGE] = "a slot outside the image",
    [B_SOURCE_PAST_LAST] = "a Source past HOTPE_SRC_MAP",
    [B_CLASS_PAST_LAST] = "a SiteClass past the last class",
    [B_CLASS_ON_CALLBACK] = "a SiteClass on a callback reference",
    [B_FLAGS_UNKNOWN] = "an unknown reference flag",
    [B_STUB_ON_REPLACE] = "a stub flag on a REPLACE",
    [B_TRAMP_ON_CALLBACK] = "the entry-form flag on a callback",
    [B_STUB_WITHOUT_RECIPE] = "a stub whose function has no recipe",
    [B_RECIPE_BYTES_DIFFER] = "a recipe moving other bytes than its stub's",
    [B_RECIPE_COUNT_0] = "a recipe of no instruction",
    [B_RECIPE_COUNT_6] = "a recipe of 6 instructions",
    [B_RECIPE_TAIL] = "a length past the recipe's count",
    [B_KIND_UNKNOWN] = "an unknown move kind",
    [B_REL32_NOT_5] = "a rel32 move of a 4-byte instruction",
    [B_RIP_DISP_PAST] = "a disp32 past the instruction's end",
    [B_DISP_WITHOUT_RIP] = "a disp32 offset without the RIP move",
    [B_JCC_LEN_4] = "a jcc of 4 bytes",
    [B_RECIPES_UNSORTED] = "recipes out of order",
    [B_RECIPES_PAST_SIZE] = "RecipeCount one past Size",
    [B_RECIPES_IN_HEADER] = "RecipeArrayOffset inside the record",
    [B_STUB_LEN_0] = "a stub of a 0-byte instruction",
    [B_HASH_COUNT_PAST_SIZE] = "HashCount one past Size",
    [B_HASH_COUNT_HUGE] = "HashCount 0xffffffff",
    [B_HASH_ARRAY_IN_HEADER] = "HashArrayOffset inside the record",
    [B_HASH_ARRAY_HUGE] = "HashArrayOffset 0xfffffff0",
    [B_HASH_LEN_0] = "a hash of 0 bytes",
    [B_HASH_LEN_PAST_MAX] = "a hash of 64 KiB + 1 bytes",
    [B_HASH_PAST_IMAGE] = "a hash past the base's SizeOfImage",
    [B_HASHES_UNSORTED] = "hashes out of order",
    [B_HASH_NOT_REPLACED] = "a hash of a function no REPLACE names",
    [B_REPLACE_WITHOUT_HASH] = "a REPLACE without its hash",
    [B_V3_ARRAY_IN_HEADER] = "version 3 with RefArrayOffset inside its 0x48-byte header",
};

START_TEST(patchbuild_malformed)
{
    build_case c = (build_case)(_i / 2);
    fixture f;
    fx_init(&f, _i & 1 ? MKPE_X64 : MKPE_X86);
    uint32_t ptr = f.spec.pe32plus ? 8 : 4;
    want_ref w[8];
    uint32_t n = good_refs(&f, w);
    uint32_t at = put_build(&f, w, n);
    uint32_t tail = c == B_NAME_UNTERMINATED ? add_unterminated(&f) : 0;
    fx_layout(&f, HP_PE_LAYOUT_FILE);
    mkpe_image *img = &f.img;
    uint32_t o = fx_off(&f, f.hotp, at);
    uint32_t r0 = o + sizeof(bd);                   /* REPLACE */
    uint32_t r1 = r0 + sizeof(br);                  /* ORIGINAL */
    uint32_t r4 = r0 + 4 * sizeof(br);              /* ON_APPLY */
    uint32_t c0 = r0 + n * sizeof(br), c1 = c0 + sizeof(rc); /* the recipes */
    uint32_t h0 = c0 + NRECIPES * sizeof(rc), h1 = h0 + sizeof(bh); /* the hashes */
    uint32_t vsize_at = mkpe_off_section_header(&f.spec, f.hotp) + offsetof(sh, VirtualSize);
    switch (c) {
    case B_VERSION_0: MKPE_PUT(img, o, bd, Version, 0); break;
    case B_VERSION_1: MKPE_PUT(img, o, bd, Version, 1); break;
    case B_VERSION_2: MKPE_PUT(img, o, bd, Version, 2); break;
    case B_VERSION_5: MKPE_PUT(img, o, bd, Version, 5); break;
    case B_SIZE_SHORT: MKPE_PUT(img, o, bd, Size, sizeof(bd) - 1); break;
    case B_SIZE_PAST_BACKED: MKPE_PUT(img, o, bd, Size, 0x10000); break;
    case B_HEADER_TRUNCATED: mkpe_w32(img, vsize_at, BUILD_AT + sizeof(bd) - 4); break;
    case B_REFS_TRUNCATED: mkpe_w32(img, vsize_at, BUILD_AT + sizeof(bd) + sizeof(br)); break;
    case B_COUNT_PAST_SIZE: MKPE_PUT(img, o, bd, RefCount, n + 1); break;
    case B_COUNT_HUGE: MKPE_PUT(img, o, bd, RefCount, 0xffffffffu); break;
    case B_ARRAY_PAST_SIZE: MKPE_PUT(img, o, bd, RefArrayOffset, sizeof(bd) + 4); break;
    case B_ARRAY_HUGE: MKPE_PUT(img, o, bd, RefArrayOffset, 0xfffffff0u); break;
    case B_ARRAY_IN_HEADER: MKPE_PUT(img, o, bd, RefArrayOffset, sizeof(bd) - sizeof(br)); break;
    case B_NAME_PAST_IMAGE: MKPE_PUT(img, r1, br, NameRva, 0x7ffffff0u); break;
    case B_NAME_UNBACKED: MKPE_PUT(img, r1, br, NameRva, f.bss_rva); break;
    case B_NAME_UNTERMINATED: MKPE_PUT(img, r1, br, NameRva, tail); break;
    case B_KIND_0: MKPE_PUT(img, r1, br, Kind, 0); break;
    case B_KIND_PATCH: MKPE_PUT(img, r1, br, Kind, HOTPE_DESC_PATCH); break;
    case B_KIND_PAST_MAX: MKPE_PUT(img, r1, br, Kind, HOTPE_DESC_KIND_MAX + 1); break;
    case B_REPLACE_PAST_IMAGE: MKPE_PUT(img, r0, br, PatchRva, mkpe_image_size(&f.spec)); break;
    case B_REPLACE_NOT_CODE: MKPE_PUT(img, r0, br, PatchRva, f.data_rva); break;
    case B_CALLBACK_IN_HEADERS: MKPE_PUT(img, r4, br, PatchRva, 0); break;
    case B_SLOT_PAST_SECTION:
        MKPE_PUT(img, r1, br, PatchRva, f.data_rva + sizeof slots - ptr + 1);
        break;
    case B_SLOT_PAST_IMAGE: MKPE_PUT(img, r1, br, PatchRva, 0xfffffffcu); break;
    case B_SOURCE_PAST_LAST: MKPE_PUT(img, r0, br, Source, HOTPE_SRC_MAP + 1); break;
    case B_CLASS_PAST_LAST: MKPE_PUT(img, r0, br, SiteClass, HP_SITE_CLASS_COUNT); break;
    case B_CLASS_ON_CALLBACK: MKPE_PUT(img, r4, br, SiteClass, HP_SITE_PROLOGUE); break;
    /* r1: ORIGINAL with HOTPE_REF_F_STUB, FirstInsnLen 4 */
    case B_FLAGS_UNKNOWN: MKPE_PUT(img, r1, br, Flags, HOTPE_REF_F_STUB | 0x8000u); break;
    case B_STUB_ON_REPLACE: MKPE_PUT(img, r0, br, Flags, HOTPE_REF_F_STUB); break;
    case B_TRAMP_ON_CALLBACK: MKPE_PUT(img, r4, br, Flags, HOTPE_REF_F_TRAMP); break;
    case B_STUB_WITHOUT_RECIPE: MKPE_PUT(img, c0, rc, BaseRva, 0x1559); break;
    case B_RECIPE_BYTES_DIFFER: img->data[c0 + offsetof(rc, Length)] = 3; break;
    case B_RECIPE_COUNT_0: MKPE_PUT(img, c0, rc, Count, 0); break;
    case B_RECIPE_COUNT_6: MKPE_PUT(img, c1, rc, Count, 6); break;
    case B_RECIPE_TAIL: img->data[c0 + offsetof(rc, Length) + 1] = 3; break;
    case B_KIND_UNKNOWN: img->data[c0 + offsetof(rc, Kind)] = HOTPE_MOVE_KIND_MAX + 1; break;
    case B_REL32_NOT_5: img->data[c0 + offsetof(rc, Kind)] = HOTPE_MOVE_REL32; break;
    case B_RIP_DISP_PAST:
        img->data[c0 + offsetof(rc, Kind)] = HOTPE_MOVE_RIP32;
        img->data[c0 + offsetof(rc, DispOffset)] = 1;
        break;
    case B_DISP_WITHOUT_RIP: img->data[c0 + offsetof(rc, DispOffset)] = 2; break;
    case B_JCC_LEN_4: img->data[c0 + offsetof(rc, Kind)] = HOTPE_MOVE_JCC; break;
    case B_RECIPES_UNSORTED: MKPE_PUT(img, c1, rc, BaseRva, 0x1000); break;
    case B_RECIPES_PAST_SIZE: MKPE_PUT(img, o, bd, RecipeCount, NRECIPES + 1); break;
    case B_RECIPES_IN_HEADER: MKPE_PUT(img, o, bd, RecipeArrayOffset, 8); break;
    case B_STUB_LEN_0: MKPE_PUT(img, r1, br, FirstInsnLen, 0); break;
    case B_HASH_COUNT_PAST_SIZE: MKPE_PUT(img, o, bd, HashCount, 3); break;
    case B_HASH_COUNT_HUGE: MKPE_PUT(img, o, bd, HashCount, 0xffffffffu); break;
    case B_HASH_ARRAY_IN_HEADER: MKPE_PUT(img, o, bd, HashArrayOffset, sizeof(bd) - 8); break;
    case B_HASH_ARRAY_HUGE: MKPE_PUT(img, o, bd, HashArrayOffset, 0xfffffff0u); break;
    case B_HASH_LEN_0: MKPE_PUT(img, h1, bh, Length, 0); break;
    case B_HASH_LEN_PAST_MAX: MKPE_PUT(img, h0, bh, Length, HOTPE_HASH_LENGTH_MAX + 1); break;
    case B_HASH_PAST_IMAGE: MKPE_PUT(img, o, bd, BaseSizeOfImage, 0x1600 + 0x40 - 1); break;
    case B_HASHES_UNSORTED: MKPE_PUT(img, h1, bh, BaseRva, 0x1538); break;
    case B_HASH_NOT_REPLACED: MKPE_PUT(img, h1, bh, BaseRva, 0x1601); break;
    case B_REPLACE_WITHOUT_HASH: MKPE_PUT(img, o, bd, HashCount, 1); break;
    case B_V3_ARRAY_IN_HEADER:
        MKPE_PUT(img, o, bd, Version, 3);
        MKPE_PUT(img, o, bd, RefArrayOffset, HOTPE_BUILD_V3_SIZE - 8);
        break;
    case B_CASES: break;
    }
    fx_parse(&f, HP_PE_LAYOUT_FILE);
    hp_pe_patchbuild pb;
    hp_status s = hp_pe_patchbuild_parse(&f.pe, &f.arena, at, &pb);
    ck_assert_msg(s == HP_E_PATCHBUILD, "%s: got %s", build_case_names[c], hp_status_name(s));
    fx_free(&f);
}
END_TEST

START_TEST(patchdesc_rejects_bad_arguments)
{
    fixture f;
    fx_init(&f, MKPE_X64);
    fx_build(&f, HP_PE_LAYOUT_FILE);
    hp_pe_patchdesc pd;
    hp_pe_patchbuild pb;
    ck_assert_int_eq(hp_pe_patchdesc_parse(NULL, &f.arena, &pd), HP_E_ARG);
    ck_assert_int_eq(hp_pe_patchdesc_parse(&f.pe, NULL, &pd), HP_E_ARG);
    ck_assert_int_eq(hp_pe_patchdesc_parse(&f.pe, &f.arena, NULL), HP_E_ARG);
    ck_assert_int_eq(hp_pe_patchbuild_parse(NULL, &f.arena, f.hotp_rva, &pb), HP_E_ARG);
    ck_assert_int_eq(hp_pe_patchbuild_parse(&f.pe, NULL, f.hotp_rva, &pb), HP_E_ARG);
    ck_assert_int_eq(hp_pe_patchbuild_parse(&f.pe, &f.arena, f.hotp_rva, NULL), HP_E_ARG);
    ck_assert_str_eq(hp_pe_patchdesc_kind_name(HOTPE_DESC_PATCH), "patch");
    ck_assert_str_eq(hp_pe_patchdesc_kind_name(HOTPE_DESC_ON_REVERT), "on-revert");
    ck_assert_str_eq(hp_pe_patchdesc_kind_name(0), "?");
    ck_assert_str_eq(hp_pe_patchdesc_kind_name(HOTPE_DESC_KIND_MAX + 1), "?");
    fx_free(&f);
}
END_TEST

static Suite *patchdesc_suite(void)
{
    Suite *s = suite_create("patchdesc");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, patchdesc_every_kind_in_both_layouts, 0, 4);
    tcase_add_loop_test(tc, patchdesc_absent_empty_and_unbacked, 0, 2);
    tcase_add_test(tc, patchdesc_string_length_limit);
    tcase_add_loop_test(tc, patchdesc_malformed, 0, 2 * D_CASES);
    tcase_add_loop_test(tc, patchbuild_good_record_in_both_layouts, 0, 8);
    tcase_add_loop_test(tc, patchbuild_absent_or_empty, 0, 2);
    tcase_add_loop_test(tc, patchbuild_malformed, 0, 2 * B_CASES);
    tcase_add_test(tc, patchdesc_rejects_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(patchdesc_suite)
