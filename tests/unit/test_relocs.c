/* Unit tests: the base relocation directory (pe/relocs.c). */
#include "dirimg.h"
#include "harness.h"

#define ABS(off) ((uint16_t)(HP_IMAGE_REL_BASED_ABSOLUTE << 12 | (off)))
#define HIGHLOW(off) ((uint16_t)(HP_IMAGE_REL_BASED_HIGHLOW << 12 | (off)))
#define DIR64(off) ((uint16_t)(HP_IMAGE_REL_BASED_DIR64 << 12 | (off)))
#define TYPED(type, off) ((uint16_t)((type) << 12 | (off)))

typedef struct block {
    uint32_t va;
    const uint16_t *entries;
    unsigned count;
    uint32_t size; /* SizeOfBlock; 0: 8 + 2 * count */
} block;

/* Blocks one after the other in .rdata; the directory covers them plus extra bytes. */
static uint32_t put_relocs(dirimg *d, const block *blocks, unsigned n, uint32_t extra)
{
    uint32_t dir = mkpe_blob_add(&d->b, NULL, 0, 4);
    for (unsigned i = 0; i < n; i++) {
        mkpe_blob_u32(&d->b, blocks[i].va);
        mkpe_blob_u32(&d->b, blocks[i].size ? blocks[i].size : 8 + 2 * blocks[i].count);
        for (unsigned k = 0; k < blocks[i].count; k++)
            mkpe_blob_u16(&d->b, blocks[i].entries[k]);
    }
    mkpe_blob_add(&d->b, NULL, extra, 1);
    mkpe_set_dir(&d->spec, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC, dir, d->b.rva + d->b.size - dir);
    return dir;
}

static mkpe_arch arch_of(int i)
{
    return i & 1 ? MKPE_X64 : MKPE_X86;
}

static hp_pe_layout layout_of(int i)
{
    return i & 2 ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE;
}

/* Parse blocks (built for arch i, layout i) and return the status; out gets the result. */
static hp_status parse_blocks(int i, const block *blocks, unsigned n, uint32_t extra,
                              hp_pe_relocs *out)
{
    dirimg d;
    dirimg_begin(&d, arch_of(i));
    mkpe_blob_str(&d.b, "data before the relocations");
    put_relocs(&d, blocks, n, extra);
    dirimg_build(&d, layout_of(i));
    hp_pe_relocs r;
    hp_status s = hp_pe_relocs_parse(&d.pe, &d.arena, &r);
    if (out) {
        /* Copy out of the arena before it goes. */
        static hp_pe_reloc keep[64];
        *out = r;
        if (s == HP_OK) {
            ck_assert_uint_le(r.count, 64);
            memcpy(keep, r.entries, r.count * sizeof *keep);
            out->entries = keep;
        }
    }
    dirimg_end(&d);
    return s;
}

START_TEST(blocks_with_padding)
{
    /* x86 images use HIGHLOW, x64 DIR64; ABSOLUTE pads a block to a multiple of 4 bytes. */
    bool x64 = arch_of(_i) == MKPE_X64;
    uint16_t e1[] = { x64 ? DIR64(0x10) : HIGHLOW(0x10), x64 ? DIR64(0xff0) : HIGHLOW(0xffc),
                      x64 ? DIR64(0x20) : HIGHLOW(0x20), ABS(0) };
    uint16_t e2[] = { x64 ? DIR64(0) : HIGHLOW(0), ABS(0) };
    block b[] = { { 0x1000, e1, 4, 0 }, { 0x2000, e2, 2, 0 } };
    hp_pe_relocs r;
    ck_assert_int_eq(parse_blocks(_i, b, 2, 0, &r), HP_OK);
    ck_assert_uint_eq(r.block_count, 2);
    ck_assert_uint_eq(r.count, 6);
    uint8_t t = x64 ? HP_IMAGE_REL_BASED_DIR64 : HP_IMAGE_REL_BASED_HIGHLOW;
    uint32_t rvas[] = { 0x1010, x64 ? 0x1ff0 : 0x1ffc, 0x1020, 0x1000, 0x2000, 0x2000 };
    uint8_t types[] = { t, t, t, HP_IMAGE_REL_BASED_ABSOLUTE, t, HP_IMAGE_REL_BASED_ABSOLUTE };
    for (unsigned i = 0; i < 6; i++) {
        ck_assert_uint_eq(r.entries[i].rva, rvas[i]);
        ck_assert_uint_eq(r.entries[i].type, types[i]);
    }
}
END_TEST

START_TEST(empty_block_and_no_directory)
{
    block b[] = { { 0x1000, NULL, 0, 0 } };
    hp_pe_relocs r;
    ck_assert_int_eq(parse_blocks(_i, b, 1, 0, &r), HP_OK);
    ck_assert_uint_eq(r.block_count, 1);
    ck_assert_uint_eq(r.count, 0);

    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    mkpe_blob_str(&d.b, "no relocations");
    dirimg_build(&d, layout_of(_i));
    r.count = 99;
    ck_assert_int_eq(hp_pe_relocs_parse(&d.pe, &d.arena, &r), HP_OK);
    ck_assert_uint_eq(r.count, 0);
    ck_assert_uint_eq(r.block_count, 0);
    dirimg_end(&d);
}
END_TEST

/* HIGHADJ takes two slots: the second holds the low half of the value, not a relocation. */
START_TEST(highadj_uses_two_slots)
{
    uint16_t e[] = { TYPED(HP_IMAGE_REL_BASED_HIGHADJ, 0x10), 0x1234, HIGHLOW(0x20), ABS(0) };
    block b[] = { { 0x1000, e, 4, 0 } };
    hp_pe_relocs r;
    ck_assert_int_eq(parse_blocks(_i, b, 1, 0, &r), HP_OK);
    ck_assert_uint_eq(r.count, 3);
    ck_assert_uint_eq(r.entries[0].type, HP_IMAGE_REL_BASED_HIGHADJ);
    ck_assert_uint_eq(r.entries[0].rva, 0x1010);
    ck_assert_uint_eq(r.entries[1].type, HP_IMAGE_REL_BASED_HIGHLOW);
    ck_assert_uint_eq(r.entries[1].rva, 0x1020);

    uint16_t last[] = { HIGHLOW(0x20), TYPED(HP_IMAGE_REL_BASED_HIGHADJ, 0x10) };
    block b2[] = { { 0x1000, last, 2, 0 } };
    ck_assert_int_eq(parse_blocks(_i, b2, 1, 0, NULL), HP_E_RELOC_BLOCK);
}
END_TEST

START_TEST(bad_block_sizes)
{
    uint16_t e[] = { HIGHLOW(0x10), ABS(0) };
    block ok[] = { { 0x1000, e, 2, 0 } };
    ck_assert_int_eq(parse_blocks(_i, ok, 1, 0, NULL), HP_OK);
    /* A zero block header after a good block: SizeOfBlock 0. */
    ck_assert_int_eq(parse_blocks(_i, ok, 1, 8, NULL), HP_E_RELOC_BLOCK);
    block four[] = { { 0x1000, e, 2, 4 } };
    ck_assert_int_eq(parse_blocks(_i, four, 1, 0, NULL), HP_E_RELOC_BLOCK);
    block seven[] = { { 0x1000, e, 2, 7 } };
    ck_assert_int_eq(parse_blocks(_i, seven, 1, 0, NULL), HP_E_RELOC_BLOCK);
    block odd[] = { { 0x1000, e, 2, 11 } };
    ck_assert_int_eq(parse_blocks(_i, odd, 1, 0, NULL), HP_E_RELOC_BLOCK);
    block past[] = { { 0x1000, e, 2, 14 } }; /* 12 bytes in the directory */
    ck_assert_int_eq(parse_blocks(_i, past, 1, 0, NULL), HP_E_RELOC_BLOCK);
    block huge[] = { { 0x1000, e, 2, 0xfffffff0u } };
    ck_assert_int_eq(parse_blocks(_i, huge, 1, 0, NULL), HP_E_RELOC_BLOCK);
    /* A directory tail too short for a block header. */
    ck_assert_int_eq(parse_blocks(_i, ok, 1, 4, NULL), HP_E_RELOC_BLOCK);
}
END_TEST

START_TEST(unknown_types)
{
    /* Reserved (6) and undefined (11-15) everywhere; 5, 7, 8, 9 belong to other machines. */
    unsigned bad[] = { 5, 6, 7, 8, 9, 11, 12, 15 };
    for (unsigned k = 0; k < sizeof bad / sizeof *bad; k++) {
        uint16_t e[] = { HIGHLOW(0x10), TYPED(bad[k], 0x20) };
        block b[] = { { 0x1000, e, 2, 0 } };
        ck_assert_int_eq(parse_blocks(_i, b, 1, 0, NULL), HP_E_RELOC_TYPE);
    }
    uint16_t ok[] = { TYPED(HP_IMAGE_REL_BASED_HIGH, 0x10), TYPED(HP_IMAGE_REL_BASED_LOW, 0x12),
                      HIGHLOW(0x14), DIR64(0x18) };
    block b[] = { { 0x1000, ok, 4, 0 } };
    hp_pe_relocs r;
    ck_assert_int_eq(parse_blocks(_i, b, 1, 0, &r), HP_OK);
    ck_assert_uint_eq(r.count, 4);
    ck_assert_uint_eq(r.entries[0].type, HP_IMAGE_REL_BASED_HIGH);
    ck_assert_uint_eq(r.entries[1].type, HP_IMAGE_REL_BASED_LOW);
}
END_TEST

/* On a machine where type 5 means something (here ARM64: IMAGE_REL_BASED_ARM_MOV32 family),
 * it is kept rather than refused. */
START_TEST(machine_specific_type_elsewhere)
{
    dirimg d;
    dirimg_begin(&d, MKPE_X64);
    d.spec.machine = 0xaa64;
    uint16_t e[] = { TYPED(5, 0x10), DIR64(0x18) };
    block b[] = { { 0x1000, e, 2, 0 } };
    put_relocs(&d, b, 1, 0);
    dirimg_build(&d, HP_PE_LAYOUT_FILE);
    hp_pe_relocs r;
    ck_assert_int_eq(hp_pe_relocs_parse(&d.pe, &d.arena, &r), HP_OK);
    ck_assert_uint_eq(r.count, 2);
    ck_assert_uint_eq(r.entries[0].type, 5);
    dirimg_end(&d);
}
END_TEST

START_TEST(targets_past_the_image)
{
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    uint32_t image = mkpe_image_size(&d.spec); /* .rdata's size does not change it here */
    dirimg_end(&d);

    uint16_t e[] = { HIGHLOW(0xffc) };
    block b[] = { { image - 0x1000, e, 1, 0 } };
    ck_assert_int_eq(parse_blocks(_i, b, 1, 0, NULL), HP_OK); /* last 4 bytes of the image */
    uint16_t e64[] = { DIR64(0xffc) };
    block b64[] = { { image - 0x1000, e64, 1, 0 } };
    ck_assert_int_eq(parse_blocks(_i, b64, 1, 0, NULL), HP_E_RELOC_TARGET);
    block past[] = { { image, e, 1, 0 } };
    ck_assert_int_eq(parse_blocks(_i, past, 1, 0, NULL), HP_E_RELOC_TARGET);
    block wraps[] = { { 0xfffff000u, e, 1, 0 } };
    ck_assert_int_eq(parse_blocks(_i, wraps, 1, 0, NULL), HP_E_RELOC_TARGET);
    /* Padding patches nothing: its address is not checked against the image. */
    uint16_t pad[] = { ABS(0), ABS(0) };
    block padding[] = { { image + 0x5000, pad, 2, 0 } };
    ck_assert_int_eq(parse_blocks(_i, padding, 1, 0, NULL), HP_OK);
    /* ... but it must still be an RVA: VirtualAddress + offset past 32 bits is refused. */
    uint16_t pad_far[] = { ABS(0xfff), ABS(0) };
    block far[] = { { 0xfffff001u, pad_far, 2, 0 } };
    ck_assert_int_eq(parse_blocks(_i, far, 1, 0, NULL), HP_E_RELOC_TARGET);
}
END_TEST

START_TEST(directory_outside_the_data)
{
    uint16_t e[] = { HIGHLOW(0x10), ABS(0) };
    block b[] = { { 0x1000, e, 2, 0 } };
    dirimg d;
    dirimg_begin(&d, arch_of(_i));
    uint32_t dir = put_relocs(&d, b, 1, 0);
    mkpe_set_dir(&d.spec, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC, dir, 0x800); /* past .rdata */
    dirimg_build(&d, HP_PE_LAYOUT_FILE);
    hp_pe_relocs r;
    ck_assert_int_eq(hp_pe_relocs_parse(&d.pe, &d.arena, &r), HP_E_DIR_RANGE);
    dirimg_end(&d);

    dirimg_begin(&d, arch_of(_i));
    put_relocs(&d, b, 1, 0);
    mkpe_set_dir(&d.spec, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC, 0x7fff0000u, 12);
    dirimg_build(&d, layout_of(_i));
    ck_assert_int_eq(hp_pe_relocs_parse(&d.pe, &d.arena, &r), HP_E_DIR_RANGE);
    dirimg_end(&d);
}
END_TEST

static Suite *relocs_suite(void)
{
    Suite *s = suite_create("relocs");
    TCase *tc = tcase_create("relocs");
    /* _i: bit 0 = PE32+, bit 1 = loaded layout */
    tcase_add_loop_test(tc, blocks_with_padding, 0, 4);
    tcase_add_loop_test(tc, empty_block_and_no_directory, 0, 4);
    tcase_add_loop_test(tc, highadj_uses_two_slots, 0, 4);
    tcase_add_loop_test(tc, bad_block_sizes, 0, 4);
    tcase_add_loop_test(tc, unknown_types, 0, 4);
    tcase_add_test(tc, machine_specific_type_elsewhere);
    tcase_add_loop_test(tc, targets_past_the_image, 0, 4);
    tcase_add_loop_test(tc, directory_outside_the_data, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(relocs_suite)
