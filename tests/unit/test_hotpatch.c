/* Unit tests: hotpatch metadata (.hotp1, IMAGE_HOT_PATCH_INFO) on images built by the writer. */
#include <string.h>

#include "harness.h"
#include "mkpe_sample.h"
#include "hotpe/pe/pe.h"

typedef HP_HOTPATCH_HEADER hh;
typedef HP_HOTPATCH_HOOK hk;
typedef HP_HOTPATCH_VALIDATION hv;
typedef HP_IMAGE_HOT_PATCH_INFO hi;
typedef HP_IMAGE_HOT_PATCH_BASE hb;
typedef HP_IMAGE_SECTION_HEADER sh;

#define TARGET_SITE 0x2000u /* entry of the replaced function in the (imaginary) target */
#define TARGET_BASE 0x140000000ull

/* What the .hotp1 section holds, as written, so the parse can be compared with it. */
typedef struct want_fixup {
    uint32_t rva;
    uint8_t type;
} want_fixup;

typedef struct patch {
    bool x64;
    mkpe_spec spec;
    uint8_t code[0x100], data[0x100];
    mkpe_image base;         /* the DLL before .hotp1 */
    uint8_t *img;            /* after hp_pe_add_section */
    size_t size;
    uint32_t text, dat;      /* RVAs of .text and .data */
    uint32_t hotp, hotp_off; /* RVA and file offset of .hotp1 */
    uint32_t hooks, vals, bytes0, bytes1, name, rgn0, rgn1;
    uint32_t pad_len, entry_len;
    hk want_hooks[2];
    want_fixup want_fixups[4];
} patch;

static const uint8_t x64_entry[8] = { 0x48, 0x8d, 0xa4, 0x24, 0, 0, 0, 0 };
static const uint8_t x86_entry[2] = { 0x8b, 0xff };
static const uint8_t module_id[20] = { 0x9a, 0xd9, 0x02, 0x00, 1, 2, 3, 4 };

/* The section contents for a .hotp1 that will live at p->hotp. */
static void hotp_blob(patch *p, mkpe_blob *b)
{
    static const uint8_t cc[8] = { 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc };
    mkpe_blob_init(b, p->hotp);
    uint32_t hdr = mkpe_blob_zero(b, sizeof(hh));
    p->hooks = mkpe_blob_zero(b, 2 * sizeof(hk));
    p->vals = mkpe_blob_zero(b, 2 * sizeof(hv));
    p->pad_len = p->x64 ? 6 : 5;
    p->entry_len = p->x64 ? sizeof x64_entry : sizeof x86_entry;
    p->bytes0 = mkpe_blob_add(b, cc, p->pad_len, 1);
    p->bytes1 = mkpe_blob_add(b, p->x64 ? x64_entry : x86_entry, p->entry_len, 1);
    p->name = mkpe_blob_str(b, "quote-server.exe");

    /* Region 0 on .data's page: two absolute slots and a None pad; region 1 on .text's. */
    uint16_t va = p->x64 ? HP_HOTP_Fixup_VA64 : HP_HOTP_Fixup_VA32;
    p->rgn0 = mkpe_blob_u32(b, (p->dat >> 12) | (4u << 20));
    mkpe_blob_u16(b, (uint16_t)(va << 12 | 0x008));
    mkpe_blob_u16(b, (uint16_t)(va << 12 | 0x010));
    mkpe_blob_u16(b, (uint16_t)(HP_HOTP_Fixup_PC32 << 12 | 0x020));
    mkpe_blob_u16(b, HP_HOTP_Fixup_None << 12);
    p->rgn1 = mkpe_blob_u32(b, (p->text >> 12) | (2u << 20));
    mkpe_blob_u16(b, (uint16_t)(HP_HOTP_Fixup_PC32 << 12 | 0x041));
    mkpe_blob_u16(b, HP_HOTP_Fixup_None << 12);
    want_fixup f[4] = { { p->dat + 8, (uint8_t)va },
                        { p->dat + 0x10, (uint8_t)va },
                        { p->dat + 0x20, HP_HOTP_Fixup_PC32 },
                        { p->text + 0x41, HP_HOTP_Fixup_PC32 } };
    memcpy(p->want_fixups, f, sizeof f);

    /* The classic pair: long jump in the padding, 2-byte short jump back to it at the entry. */
    hk h0 = { p->x64 ? HP_HOTP_Hook_AMD64_IND : HP_HOTP_Hook_X86_JMP, (uint16_t)p->pad_len,
              TARGET_SITE - p->pad_len, p->text + 0x40, p->vals };
    hk h1 = { HP_HOTP_Hook_X86_JMP2B, 2, TARGET_SITE, (uint8_t)(-(int)p->pad_len - 2),
              p->vals + (uint32_t)sizeof(hv) };
    p->want_hooks[0] = h0;
    p->want_hooks[1] = h1;
    for (unsigned i = 0; i < 2; i++) {
        uint32_t at = p->hooks + i * (uint32_t)sizeof(hk);
        MKPE_BLOB_PUT(b, at, hk, HookType, p->want_hooks[i].HookType);
        MKPE_BLOB_PUT(b, at, hk, HookOptions, p->want_hooks[i].HookOptions);
        MKPE_BLOB_PUT(b, at, hk, HookRva, p->want_hooks[i].HookRva);
        MKPE_BLOB_PUT(b, at, hk, HotpRva, p->want_hooks[i].HotpRva);
        MKPE_BLOB_PUT(b, at, hk, ValidationRva, p->want_hooks[i].ValidationRva);
    }
    MKPE_BLOB_PUT(b, p->vals, hv, SourceRva, p->bytes0);
    MKPE_BLOB_PUT(b, p->vals, hv, TargetRva, TARGET_SITE - p->pad_len);
    MKPE_BLOB_PUT(b, p->vals, hv, ByteCount, p->pad_len);
    MKPE_BLOB_PUT(b, p->vals, hv, OptionFlags, HP_HOTP_Valid_Hook_Target);
    MKPE_BLOB_PUT(b, p->vals + sizeof(hv), hv, SourceRva, p->bytes1);
    MKPE_BLOB_PUT(b, p->vals + sizeof(hv), hv, TargetRva, TARGET_SITE);
    MKPE_BLOB_PUT(b, p->vals + sizeof(hv), hv, ByteCount, p->entry_len);
    MKPE_BLOB_PUT(b, p->vals + sizeof(hv), hv, OptionFlags, HP_HOTP_Valid_Hook_Target);

    MKPE_BLOB_PUT(b, hdr, hh, Signature, HP_HOTP_SIGNATURE);
    MKPE_BLOB_PUT(b, hdr, hh, Version, HP_HOTP_VERSION);
    MKPE_BLOB_PUT(b, hdr, hh, FixupRgnCount, 2);
    MKPE_BLOB_PUT(b, hdr, hh, FixupRgnRva, p->rgn0);
    MKPE_BLOB_PUT(b, hdr, hh, ValidationCount, 2);
    MKPE_BLOB_PUT(b, hdr, hh, ValidationArrayRva, p->vals);
    MKPE_BLOB_PUT(b, hdr, hh, HookCount, 2);
    MKPE_BLOB_PUT(b, hdr, hh, HookArrayRva, p->hooks);
    MKPE_BLOB_PUT(b, hdr, hh, OrigHotpBaseAddress, p->spec.image_base);
    MKPE_BLOB_PUT(b, hdr, hh, OrigTargetBaseAddress, TARGET_BASE);
    MKPE_BLOB_PUT(b, hdr, hh, TargetNameRva, p->name);
    MKPE_BLOB_PUT(b, hdr, hh, ModuleIdMethod, HP_HOTP_ID_PeChecksum);
    memcpy(b->data + offsetof(hh, TargetModuleIdValue), module_id, sizeof module_id);
}

/* A DLL with .text and .data, then .hotp1 added by hp_pe_add_section. */
static void patch_build(patch *p, bool x64)
{
    memset(p, 0, sizeof *p);
    p->x64 = x64;
    mkpe_init(&p->spec, x64 ? MKPE_X64 : MKPE_X86);
    p->spec.header_slack = 0x40;
    memset(p->code, 0xc3, sizeof p->code);
    mkpe_add_section(&p->spec, ".text", MKPE_CODE, p->code, sizeof p->code, 0);
    mkpe_add_section(&p->spec, ".data", MKPE_DATA, p->data, sizeof p->data, 0);
    p->text = mkpe_section_rva(&p->spec, 0);
    p->dat = mkpe_section_rva(&p->spec, 1);
    p->base = mkpe_build(&p->spec);

    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, p->base.data, p->base.size, HP_PE_LAYOUT_FILE),
                     HP_OK);
    /* First pass learns the section's RVA, the second writes contents that use it. */
    mkpe_blob b;
    p->hotp = 0x10000;
    hotp_blob(p, &b);
    hp_pe_new_section sec = { HP_HOTP_SECTION_NAME, MKPE_RDATA, b.data, b.size, 0 };
    ck_assert_int_eq(hp_pe_add_section(&pe, &sec, &p->img, &p->size, &p->hotp), HP_OK);
    free(p->img);
    mkpe_blob_free(&b);
    hotp_blob(p, &b);
    sec.data = b.data;
    uint32_t rva;
    ck_assert_int_eq(hp_pe_add_section(&pe, &sec, &p->img, &p->size, &rva), HP_OK);
    ck_assert_uint_eq(rva, p->hotp);
    mkpe_blob_free(&b);
    hp_arena_free(&arena);

    ck_assert_int_eq(hp_pe_parse(&pe, &arena, p->img, p->size, HP_PE_LAYOUT_FILE), HP_OK);
    p->hotp_off = pe.sections[2].raw_offset;
    hp_arena_free(&arena);
}

static void patch_free(patch *p)
{
    free(p->img);
    mkpe_free(&p->base);
}

static mkpe_image patch_image(patch *p)
{
    mkpe_image img = { p->img, p->size };
    return img;
}

/* File offset of an RVA inside .hotp1. */
static uint32_t hotp_off(const patch *p, uint32_t rva)
{
    return p->hotp_off + (rva - p->hotp);
}

static hp_status parse_hotp(const patch *p, hp_arena *arena, hp_pe_hotp *out)
{
    hp_pe pe;
    ck_assert_int_eq(hp_pe_parse(&pe, arena, p->img, p->size, HP_PE_LAYOUT_FILE), HP_OK);
    return hp_pe_hotp_parse(&pe, arena, out);
}

START_TEST(hotp_round_trip)
{
    patch p;
    patch_build(&p, _i);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe_hotp h;
    ck_assert_int_eq(parse_hotp(&p, &arena, &h), HP_OK);
    ck_assert(h.present);
    ck_assert_uint_eq(h.header_rva, p.hotp);
    ck_assert_uint_eq(h.orig_hotp_base, p.spec.image_base);
    ck_assert_uint_eq(h.orig_target_base, TARGET_BASE);
    ck_assert_str_eq(h.target_name, "quote-server.exe");
    ck_assert_uint_eq(h.module_id_method, HP_HOTP_ID_PeChecksum);
    ck_assert_int_eq(memcmp(h.module_id, module_id, sizeof module_id), 0);

    ck_assert_uint_eq(h.hook_count, 2);
    for (unsigned i = 0; i < 2; i++) {
        ck_assert_uint_eq(h.hooks[i].type, p.want_hooks[i].HookType);
        ck_assert_uint_eq(h.hooks[i].options, p.want_hooks[i].HookOptions);
        ck_assert_uint_eq(h.hooks[i].hook_rva, p.want_hooks[i].HookRva);
        ck_assert_uint_eq(h.hooks[i].hotp_rva, p.want_hooks[i].HotpRva);
        ck_assert_uint_eq(h.hooks[i].validation_rva, p.want_hooks[i].ValidationRva);
    }

    ck_assert_uint_eq(h.validation_count, 2);
    ck_assert_uint_eq(h.validations[0].source_rva, p.bytes0);
    ck_assert_uint_eq(h.validations[0].target_rva, TARGET_SITE - p.pad_len);
    ck_assert_uint_eq(h.validations[0].byte_count, p.pad_len);
    ck_assert_uint_eq(h.validations[0].options, HP_HOTP_Valid_Hook_Target);
    for (unsigned k = 0; k < p.pad_len; k++)
        ck_assert_uint_eq(h.validations[0].bytes[k], 0xcc);
    ck_assert_uint_eq(h.validations[1].target_rva, TARGET_SITE);
    ck_assert_uint_eq(h.validations[1].byte_count, p.entry_len);
    const uint8_t *entry = p.x64 ? x64_entry : x86_entry;
    ck_assert_int_eq(memcmp(h.validations[1].bytes, entry, p.entry_len), 0);
    /* A copy, not a pointer into the image. */
    ck_assert(h.validations[1].bytes < p.img || h.validations[1].bytes >= p.img + p.size);

    ck_assert_uint_eq(h.fixup_region_count, 2);
    ck_assert_uint_eq(h.fixup_count, 4);
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_uint_eq(h.fixups[i].rva, p.want_fixups[i].rva);
        ck_assert_uint_eq(h.fixups[i].type, p.want_fixups[i].type);
    }
    hp_arena_free(&arena);
    patch_free(&p);
}
END_TEST

START_TEST(hotp_absent_and_empty)
{
    patch p;
    patch_build(&p, true);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    hp_pe_hotp h;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, p.base.data, p.base.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_hotp_parse(&pe, &arena, &h), HP_OK);
    ck_assert(!h.present);

    /* Zero counts (and no name) parse; their RVAs are not looked at. */
    mkpe_image img = patch_image(&p);
    MKPE_PUT(&img, hotp_off(&p, p.hotp), hh, HookCount, 0);
    MKPE_PUT(&img, hotp_off(&p, p.hotp), hh, HookArrayRva, 0xffffffff);
    MKPE_PUT(&img, hotp_off(&p, p.hotp), hh, ValidationCount, 0);
    MKPE_PUT(&img, hotp_off(&p, p.hotp), hh, FixupRgnCount, 0);
    MKPE_PUT(&img, hotp_off(&p, p.hotp), hh, TargetNameRva, 0);
    ck_assert_int_eq(parse_hotp(&p, &arena, &h), HP_OK);
    ck_assert(h.present);
    ck_assert_uint_eq(h.hook_count + h.validation_count + h.fixup_count, 0);
    ck_assert_ptr_null(h.target_name);
    hp_arena_free(&arena);
    patch_free(&p);
}
END_TEST

START_TEST(hotp_of_the_sample_in_both_layouts)
{
    for (int loaded = 0; loaded < 2; loaded++) {
        mkpe_sample smp;
        mkpe_sample_init(&smp, MKPE_X86);
        mkpe_image img = loaded ? mkpe_build_loaded(&smp.spec) : mkpe_build(&smp.spec);
        hp_arena arena = HP_ARENA_INIT;
        hp_pe pe;
        hp_pe_hotp h;
        ck_assert_int_eq(hp_pe_parse(&pe, &arena, img.data, img.size,
                                     loaded ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE),
                         HP_OK);
        ck_assert_int_eq(hp_pe_hotp_parse(&pe, &arena, &h), HP_OK);
        ck_assert(h.present);
        ck_assert_str_eq(h.target_name, "base.exe");
        ck_assert_uint_eq(h.hook_count, 2);
        ck_assert_uint_eq(h.hooks[1].hotp_rva, 0xf9);
        ck_assert_uint_eq(h.validation_count, 2);
        ck_assert_uint_eq(h.validations[1].bytes[0], 0x8b);
        ck_assert_uint_eq(h.fixup_count, 1);
        ck_assert_uint_eq(h.fixups[0].rva, smp.rva.fixup_slot);
        ck_assert_uint_eq(h.fixups[0].type, HP_HOTP_Fixup_VA32);
        hp_arena_free(&arena);
        mkpe_free(&img);
        mkpe_sample_free(&smp);
    }
}
END_TEST

/* One field of the written .hotp1 changed, and the status that must come back. */
typedef enum where { HDR, HOOK0, VAL0, RGN0, RGN0_E2, SECTION_VSIZE } where;
typedef struct hotp_case {
    const char *what;
    where at;
    size_t field;
    unsigned width;
    uint32_t value; /* written as is, except IMAGE_END */
    hp_status want;
} hotp_case;

#define IMAGE_END 0xfeedf00du /* replaced by SizeOfImage - 2 */
#define F(type, field) offsetof(type, field), sizeof(((type *)0)->field)

static const hotp_case hotp_cases[] = {
    { "bad signature", HDR, F(hh, Signature), 0x32544f48, HP_E_HOTP_HEADER },
    { "bad version", HDR, F(hh, Version), 0x00020000, HP_E_HOTP_HEADER },
    { "hook count past the section", HDR, F(hh, HookCount), 0x1000, HP_E_HOTP_ARRAY },
    { "hook count times 16 past 4 GiB", HDR, F(hh, HookCount), 0xffffffff, HP_E_HOTP_ARRAY },
    { "validation count past the section", HDR, F(hh, ValidationCount), 0x10000, HP_E_HOTP_ARRAY },
    { "hook array outside the image", HDR, F(hh, HookArrayRva), 0x7fffff00, HP_E_HOTP_ARRAY },
    { "validation array at the image end", HDR, F(hh, ValidationArrayRva), IMAGE_END,
      HP_E_HOTP_ARRAY },
    { "fixup regions outside the image", HDR, F(hh, FixupRgnRva), 0x7fffff00, HP_E_HOTP_ARRAY },
    { "fixup region count past the bytes", HDR, F(hh, FixupRgnCount), 0x100000, HP_E_HOTP_FIXUP },
    { "fixup entries past the bytes", RGN0, 0, 4, 0xfff00000u, HP_E_HOTP_FIXUP },
    { "fixup region past the image", RGN0, 0, 4, (4u << 20) | 0xfffff, HP_E_HOTP_FIXUP },
    { "unknown fixup type", RGN0_E2, 0, 2, 0x7020, HP_E_HOTP_FIXUP },
    { "hook target outside the patch", HOOK0, F(hk, HotpRva), 0x7fffffff, HP_E_HOTP_HOOK },
    { "hook validation outside the patch", HOOK0, F(hk, ValidationRva), 0x7fffffff,
      HP_E_HOTP_HOOK },
    { "validation bytes outside the patch", VAL0, F(hv, SourceRva), 0x7fffffff,
      HP_E_HOTP_VALIDATION },
    { "validation bytes past the section", VAL0, F(hv, ByteCount), 0xffff, HP_E_HOTP_VALIDATION },
    { "target name outside the patch", HDR, F(hh, TargetNameRva), 0x7fffffff, HP_E_HOTP_NAME },
    { "section smaller than the header", SECTION_VSIZE, 0, 4, 0x4f, HP_E_HOTP_SECTION },
};

START_TEST(hotp_damage)
{
    const hotp_case *c = &hotp_cases[_i];
    patch p;
    patch_build(&p, _i % 2);
    mkpe_image img = patch_image(&p);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, p.img, p.size, HP_PE_LAYOUT_FILE), HP_OK);
    uint32_t value = c->value == IMAGE_END ? pe.size_of_image - 2 : c->value;
    uint64_t off = 0;
    switch (c->at) {
    case HDR: off = hotp_off(&p, p.hotp); break;
    case HOOK0: off = hotp_off(&p, p.hooks); break;
    case VAL0: off = hotp_off(&p, p.vals); break;
    case RGN0: off = hotp_off(&p, p.rgn0); break;
    case RGN0_E2: off = hotp_off(&p, p.rgn0) + 4 + 2 * 2; break;
    case SECTION_VSIZE:
        off = pe.section_table_offset + 2 * sizeof(sh) + offsetof(sh, VirtualSize);
        break;
    }
    mkpe_wn(&img, off + c->field, value, c->width);
    hp_pe_hotp h;
    hp_status s = parse_hotp(&p, &arena, &h);
    ck_assert_msg(s == c->want, "%s: got %s, want %s", c->what, hp_status_name(s),
                  hp_status_name(c->want));
    hp_arena_free(&arena);
    patch_free(&p);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* IMAGE_HOT_PATCH_INFO                                                                     */
/* ---------------------------------------------------------------------------------------- */

/* A DLL whose .rdata holds a load config and a version-4 info with two bases. */
typedef struct info_img {
    mkpe_spec spec;
    mkpe_blob b;
    mkpe_image img;
    uint32_t lc, info, list, base0, base1, lc_size;
} info_img;

static void info_build(info_img *m, bool x64, uint32_t version)
{
    memset(m, 0, sizeof *m);
    mkpe_init(&m->spec, x64 ? MKPE_X64 : MKPE_X86);
    unsigned rdata = mkpe_add_section(&m->spec, ".rdata", MKPE_RDATA, NULL, 0, 0);
    mkpe_blob *b = &m->b;
    mkpe_blob_init(b, mkpe_section_rva(&m->spec, rdata));

    m->info = mkpe_blob_zero(b, sizeof(hi));
    m->list = mkpe_blob_zero(b, 8);
    m->base0 = mkpe_blob_zero(b, sizeof(hb));
    m->base1 = mkpe_blob_zero(b, sizeof(hb));
    /* Every field non-zero, so fields a version does not define show up if read. */
    MKPE_BLOB_PUT(b, m->info, hi, Version, version);
    MKPE_BLOB_PUT(b, m->info, hi, Size, m->base1 + sizeof(hb) - m->info);
    MKPE_BLOB_PUT(b, m->info, hi, SequenceNumber, 7);
    MKPE_BLOB_PUT(b, m->info, hi, BaseImageList, m->list - m->info);
    MKPE_BLOB_PUT(b, m->info, hi, BaseImageCount, 2);
    MKPE_BLOB_PUT(b, m->info, hi, BufferOffset, 0x11);
    MKPE_BLOB_PUT(b, m->info, hi, ExtraPatchSize, 0x22);
    MKPE_BLOB_PUT(b, m->info, hi, MinSequenceNumber, 3);
    MKPE_BLOB_PUT(b, m->info, hi, Flags, 0x2);
    /* Listed in reverse: the list, not the layout, gives the order. */
    mkpe_blob_put32(b, m->list, m->base1 - m->info);
    mkpe_blob_put32(b, m->list + 4, m->base0 - m->info);
    uint32_t bases[2] = { m->base1, m->base0 };
    for (uint32_t i = 0; i < 2; i++) {
        MKPE_BLOB_PUT(b, bases[i], hb, SequenceNumber, 7);
        MKPE_BLOB_PUT(b, bases[i], hb, Flags, HP_IMAGE_HOT_PATCH_BASE_OBLIGATORY |
                                                   (x64 ? HP_IMAGE_HOT_PATCH_BASE_MACHINE_AMD64
                                                        : HP_IMAGE_HOT_PATCH_BASE_MACHINE_I386));
        MKPE_BLOB_PUT(b, bases[i], hb, OriginalTimeDateStamp, 0x63f14e2b + i);
        MKPE_BLOB_PUT(b, bases[i], hb, OriginalCheckSum, 0x2d99a + i);
        MKPE_BLOB_PUT(b, bases[i], hb, CodeIntegrityInfo, 0x100 + i);
        MKPE_BLOB_PUT(b, bases[i], hb, CodeIntegritySize, 52);
        MKPE_BLOB_PUT(b, bases[i], hb, PatchTable, 0x200 + i);
        MKPE_BLOB_PUT(b, bases[i], hb, BufferOffset, 0x300 + i);
    }

    m->lc_size = x64 ? sizeof(HP_IMAGE_LOAD_CONFIG_DIRECTORY64)
                     : sizeof(HP_IMAGE_LOAD_CONFIG_DIRECTORY32);
    m->lc = mkpe_blob_add(b, NULL, m->lc_size, 8);
    mkpe_blob_put32(b, m->lc, m->lc_size);
    if (x64)
        MKPE_BLOB_PUT(b, m->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY64, HotPatchTableOffset, m->info);
    else
        MKPE_BLOB_PUT(b, m->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY32, HotPatchTableOffset, m->info);
    mkpe_set_section_blob(&m->spec, rdata, b);
    mkpe_set_dir(&m->spec, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG, m->lc, m->lc_size);
    m->img = mkpe_build(&m->spec);
}

static void info_free(info_img *m)
{
    mkpe_free(&m->img);
    mkpe_blob_free(&m->b);
}

/* File offset of an RVA in .rdata (the image's only section). */
static uint32_t info_off(const info_img *m, uint32_t rva)
{
    return mkpe_rva_offset(&m->spec, 0, rva);
}

static hp_status parse_info(info_img *m, hp_arena *arena, hp_pe_hotpatch_info *out)
{
    hp_pe pe;
    hp_pe_loadcfg lc;
    ck_assert_int_eq(hp_pe_parse(&pe, arena, m->img.data, m->img.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_loadcfg_parse(&pe, arena, &lc), HP_OK);
    return hp_pe_hotpatch_info_parse(&pe, &lc, arena, out);
}

START_TEST(hotpatch_info_v4)
{
    bool x64 = _i;
    info_img m;
    info_build(&m, x64, 4);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe_hotpatch_info hpi;
    ck_assert_int_eq(parse_info(&m, &arena, &hpi), HP_OK);
    ck_assert(hpi.present);
    ck_assert_uint_eq(hpi.rva, m.info);
    ck_assert_uint_eq(hpi.info.Version, 4);
    ck_assert_uint_eq(hpi.info.SequenceNumber, 7);
    ck_assert_uint_eq(hpi.info.BaseImageCount, 2);
    ck_assert_uint_eq(hpi.info.BufferOffset, 0x11);
    ck_assert_uint_eq(hpi.info.ExtraPatchSize, 0x22);
    ck_assert_uint_eq(hpi.info.MinSequenceNumber, 3);
    ck_assert_uint_eq(hpi.info.Flags, 2);
    ck_assert_uint_eq(hpi.base_count, 2);
    /* bases[0] is the one listed first: base1 in the layout (i = 0 there). */
    ck_assert_uint_eq(hpi.bases[0].OriginalTimeDateStamp, 0x63f14e2b);
    ck_assert_uint_eq(hpi.bases[0].OriginalCheckSum, 0x2d99a);
    ck_assert_uint_eq(hpi.bases[1].OriginalCheckSum, 0x2d99b);
    ck_assert_uint_eq(hpi.bases[1].Flags & HP_IMAGE_HOT_PATCH_BASE_OBLIGATORY, 1);
    ck_assert_uint_eq(hpi.bases[0].CodeIntegritySize, 52);
    ck_assert_uint_eq(hpi.bases[0].PatchTable, 0x200);
    ck_assert_uint_eq(hpi.bases[1].BufferOffset, 0x301);
    hp_arena_free(&arena);
    info_free(&m);
}
END_TEST

START_TEST(hotpatch_info_versions_gate_fields)
{
    for (uint32_t version = 1; version <= 3; version++) {
        info_img m;
        info_build(&m, true, version);
        hp_arena arena = HP_ARENA_INIT;
        hp_pe_hotpatch_info hpi;
        ck_assert_int_eq(parse_info(&m, &arena, &hpi), HP_OK);
        ck_assert_uint_eq(hpi.info.BufferOffset, version >= 2 ? 0x11 : 0);
        ck_assert_uint_eq(hpi.info.ExtraPatchSize, version >= 3 ? 0x22 : 0);
        ck_assert_uint_eq(hpi.info.MinSequenceNumber, 0);
        ck_assert_uint_eq(hpi.info.Flags, 0);
        ck_assert_uint_eq(hpi.bases[1].BufferOffset, version >= 2 ? 0x301 : 0);
        ck_assert_uint_eq(hpi.bases[1].PatchTable, 0x201);
        hp_arena_free(&arena);
        info_free(&m);
    }

    /* The sample's v1 info: one 28-byte base closing the structure. */
    mkpe_sample smp;
    mkpe_sample_init(&smp, MKPE_X64);
    mkpe_image img = mkpe_build(&smp.spec);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    hp_pe_loadcfg lc;
    hp_pe_hotpatch_info hpi;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, img.data, img.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_loadcfg_parse(&pe, &arena, &lc), HP_OK);
    ck_assert_int_eq(hp_pe_hotpatch_info_parse(&pe, &lc, &arena, &hpi), HP_OK);
    ck_assert(hpi.present);
    ck_assert_uint_eq(hpi.rva, smp.rva.hpi);
    ck_assert_uint_eq(hpi.base_count, 1);
    ck_assert_uint_eq(hpi.bases[0].OriginalCheckSum, 0x1234);
    ck_assert_uint_eq(hpi.bases[0].Flags, HP_IMAGE_HOT_PATCH_BASE_MACHINE_AMD64);
    hp_arena_free(&arena);
    mkpe_free(&img);
    mkpe_sample_free(&smp);
}
END_TEST

START_TEST(hotpatch_info_absent)
{
    for (int x64 = 0; x64 < 2; x64++) {
        info_img m;
        info_build(&m, x64, 4);
        hp_arena arena = HP_ARENA_INIT;
        hp_pe_hotpatch_info hpi;
        /* HotPatchTableOffset 0. */
        size_t field = x64 ? offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, HotPatchTableOffset)
                           : offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, HotPatchTableOffset);
        mkpe_w32(&m.img, info_off(&m, m.lc) + field, 0);
        ck_assert_int_eq(parse_info(&m, &arena, &hpi), HP_OK);
        ck_assert(!hpi.present);
        /* A load config whose Size stops before the field. */
        mkpe_w32(&m.img, info_off(&m, m.lc) + field, m.info);
        mkpe_w32(&m.img, info_off(&m, m.lc), (uint32_t)field);
        ck_assert_int_eq(parse_info(&m, &arena, &hpi), HP_OK);
        ck_assert(!hpi.present);
        /* No load config at all. */
        mkpe_w32(&m.img, mkpe_off_dir(&m.spec, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG), 0);
        mkpe_w32(&m.img, mkpe_off_dir(&m.spec, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG) + 4, 0);
        ck_assert_int_eq(parse_info(&m, &arena, &hpi), HP_OK);
        ck_assert(!hpi.present);
        hp_arena_free(&arena);
        info_free(&m);
    }
}
END_TEST

typedef enum info_where { INFO, LIST1, LC_OFFSET } info_where;
typedef struct info_case {
    const char *what;
    info_where at;
    size_t field;
    uint32_t value;
} info_case;

static const info_case info_cases[] = {
    { "version 0", INFO, offsetof(hi, Version), 0 },
    { "Size below the v4 structure", INFO, offsetof(hi, Size), sizeof(hi) - 4 },
    { "Size past the image", INFO, offsetof(hi, Size), 0x100000 },
    { "base list past Size", INFO, offsetof(hi, BaseImageList), 0x1000 },
    { "base list offset wraps", INFO, offsetof(hi, BaseImageList), 0xfffffffe },
    { "base count past Size", INFO, offsetof(hi, BaseImageCount), 0x40000000 },
    { "base count times 4 past 4 GiB", INFO, offsetof(hi, BaseImageCount), 0xffffffff },
    { "base offset past Size", LIST1, 0, 0x90 },
    { "base offset huge", LIST1, 0, 0xffffffe0 },
    { "info outside the image", LC_OFFSET, 0, 0x7ffffff0 },
};

START_TEST(hotpatch_info_damage)
{
    const info_case *c = &info_cases[_i];
    bool x64 = _i % 2;
    info_img m;
    info_build(&m, x64, 4);
    uint32_t off = 0;
    switch (c->at) {
    case INFO: off = info_off(&m, m.info); break;
    case LIST1: off = info_off(&m, m.list + 4); break;
    case LC_OFFSET:
        off = info_off(&m, m.lc) +
              (x64 ? offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, HotPatchTableOffset)
                   : offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, HotPatchTableOffset));
        break;
    }
    mkpe_w32(&m.img, off + c->field, c->value);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe_hotpatch_info hpi;
    hp_status s = parse_info(&m, &arena, &hpi);
    ck_assert_msg(s == HP_E_HOTP_INFO, "%s: got %s", c->what, hp_status_name(s));
    hp_arena_free(&arena);
    info_free(&m);
}
END_TEST

static Suite *hotpatch_suite(void)
{
    Suite *s = suite_create("hotpatch");
    TCase *tc = tcase_create("hotp1");
    tcase_add_loop_test(tc, hotp_round_trip, 0, 2);
    tcase_add_test(tc, hotp_absent_and_empty);
    tcase_add_test(tc, hotp_of_the_sample_in_both_layouts);
    tcase_add_loop_test(tc, hotp_damage, 0, sizeof hotp_cases / sizeof *hotp_cases);
    suite_add_tcase(s, tc);
    tc = tcase_create("info");
    tcase_add_loop_test(tc, hotpatch_info_v4, 0, 2);
    tcase_add_test(tc, hotpatch_info_versions_gate_fields);
    tcase_add_test(tc, hotpatch_info_absent);
    tcase_add_loop_test(tc, hotpatch_info_damage, 0, sizeof info_cases / sizeof *info_cases);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(hotpatch_suite)
