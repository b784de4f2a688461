/* Unit tests: which bytes of a replaced function a patch hashes (pe/fnhash.c) and the hash of
 * them (hp_patch_fn_hash, engine/patch.c), on small real images. */
#include <string.h>

#include "dirimg.h"
#include "harness.h"
#include "hotpe/engine/patch.h"
#include "hotpe/engine/sha256.h"
#include "hotpe/pe/fnhash.h"

#define TEXT_SIZE 0x200

typedef struct fnimg {
    dirimg d;
    uint8_t code[TEXT_SIZE];
    uint32_t text_rva;
} fnimg;

static void fn_begin(fnimg *f, mkpe_arch arch)
{
    memset(f, 0, sizeof *f);
    dirimg_begin(&f->d, arch);
    for (unsigned i = 0; i < TEXT_SIZE; i++)
        f->code[i] = (uint8_t)(i | 1); /* no zero byte: a zeroed one shows */
    f->d.spec.sections[f->d.text].data = f->code;
    f->d.spec.sections[f->d.text].data_size = TEXT_SIZE;
    f->text_rva = dirimg_code(&f->d, 0);
}

/* A .reloc directory in .rdata: one block for .text's page with the given entries. */
static void put_relocs(fnimg *f, const uint16_t *e, unsigned n)
{
    uint32_t dir = mkpe_blob_add(&f->d.b, NULL, 0, 4);
    mkpe_blob_u32(&f->d.b, f->text_rva);
    mkpe_blob_u32(&f->d.b, 8 + 2 * n);
    for (unsigned k = 0; k < n; k++)
        mkpe_blob_u16(&f->d.b, e[k]);
    mkpe_set_dir(&f->d.spec, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC, dir, 8 + 2 * n);
}

#define REL(type, off) ((uint16_t)((type) << 12 | (off)))

/* The function at .text + FN_AT, FN_LEN bytes; what is zeroed is listed by offset in .text. */
#define FN_AT 0x20u
#define FN_LEN 0x40u

/* Relocations: one straddling the entry, one inside, one straddling the end, one past it; an
 * ABSOLUTE (pads, rewrites nothing) and a HIGH (2 bytes) inside. x86 fields are HIGHLOW,
 * x64 ones DIR64. */
static unsigned mask_relocs(bool x64, uint16_t *e)
{
    unsigned t = x64 ? HP_IMAGE_REL_BASED_DIR64 : HP_IMAGE_REL_BASED_HIGHLOW, w = x64 ? 8 : 4;
    unsigned n = 0;
    e[n++] = REL(t, FN_AT - w + 2);        /* its last 2 bytes are the entry's first 2 */
    e[n++] = REL(t, 0x30);
    e[n++] = REL(t, FN_AT + FN_LEN - 2);   /* its first 2 bytes are the function's last 2 */
    e[n++] = REL(t, 0x100);
    e[n++] = REL(HP_IMAGE_REL_BASED_ABSOLUTE, 0x44);
    e[n++] = REL(HP_IMAGE_REL_BASED_HIGH, 0x50);
    return n;
}

/* Hooks: a padding jump right before the entry (outside), the entry's 2-byte jump, and
 * another site's padding jump inside the function. */
static const hp_pe_range mask_hooks[] = { { FN_AT - 5, 5 }, { FN_AT, 2 }, { 0x48, 5 } };

/* The bytes of .text [FN_AT, FN_AT + FN_LEN) as the hash takes them. */
static void expected_input(bool x64, uint8_t *out)
{
    unsigned w = x64 ? 8 : 4;
    for (unsigned i = 0; i < FN_LEN; i++)
        out[i] = (uint8_t)((FN_AT + i) | 1);
    memset(out, 0, 2);                        /* the straddling field and the entry jump */
    memset(out + (0x30 - FN_AT), 0, w);       /* the field inside */
    memset(out + (0x48 - FN_AT), 0, 5);       /* the other site's padding jump */
    memset(out + (0x50 - FN_AT), 0, 2);       /* HIGH */
    memset(out + FN_LEN - 2, 0, 2);           /* the field straddling the end */
}

static hp_pe_range *hooks_at(const fnimg *f, hp_pe_range *out)
{
    for (unsigned i = 0; i < 3; i++)
        out[i] = (hp_pe_range){ f->text_rva + mask_hooks[i].rva, mask_hooks[i].len };
    return out;
}

START_TEST(mask_zeroes_relocated_fields_and_hooked_bytes)
{
    bool x64 = _i & 1;
    hp_pe_layout layout = _i & 2 ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE;
    fnimg f;
    fn_begin(&f, x64 ? MKPE_X64 : MKPE_X86);
    uint16_t e[8];
    put_relocs(&f, e, mask_relocs(x64, e));
    dirimg_build(&f.d, layout);
    hp_pe_range hooks[3];
    hp_pe_fn_mask m;
    ck_assert_int_eq(hp_pe_fn_mask_make(&f.d.pe, hooks_at(&f, hooks), 3, &f.d.arena, &m), HP_OK);
    /* 5 fields (the ABSOLUTE rewrites nothing) and 3 hooks, sorted */
    ck_assert_uint_eq(m.count, 8);
    for (uint32_t i = 1; i < m.count; i++)
        ck_assert_uint_le(m.ranges[i - 1].rva, m.ranges[i].rva);
    ck_assert_uint_eq(m.longest, x64 ? 8 : 5);

    hp_rd view;
    uint32_t rva = f.text_rva + FN_AT;
    ck_assert_int_eq(hp_pe_rva_view(&f.d.pe, rva, FN_LEN, &view), HP_OK);
    uint8_t buf[FN_LEN], want[FN_LEN];
    memcpy(buf, view.data, FN_LEN);
    hp_pe_fn_mask_apply(&m, rva, buf, FN_LEN);
    expected_input(x64, want);
    ck_assert_mem_eq(buf, want, FN_LEN);

    /* the hash is SHA-256 of exactly those bytes */
    uint8_t h[HP_SHA256_LEN], h2[HP_SHA256_LEN];
    memcpy(buf, view.data, FN_LEN);
    ck_assert_int_eq(hp_patch_fn_hash(&m, rva, buf, FN_LEN, h), HP_OK);
    ck_assert_int_eq(hp_sha256_of(want, FN_LEN, h2), HP_OK);
    ck_assert_mem_eq(h, h2, HP_SHA256_LEN);
    dirimg_end(&f.d);
}
END_TEST

/* A module the loader relocated hashes as the file did; one byte changed outside the mask
 * does not; one changed inside it does. */
START_TEST(relocated_module_hashes_as_the_file)
{
    bool x64 = _i & 1;
    fnimg f;
    fn_begin(&f, x64 ? MKPE_X64 : MKPE_X86);
    uint16_t e[8];
    put_relocs(&f, e, mask_relocs(x64, e));
    dirimg_build(&f.d, HP_PE_LAYOUT_FILE);
    mkpe_image mem = mkpe_build_loaded(&f.d.spec);
    /* the loader's work: every HIGHLOW / DIR64 / HIGH field gets the delta */
    uint64_t delta = 0x12340000;
    for (unsigned i = 0; i < 6; i++) {
        unsigned type = e[i] >> 12;
        uint32_t at = f.text_rva + (e[i] & 0xfff);
        if (type == HP_IMAGE_REL_BASED_HIGHLOW)
            mkpe_w32(&mem, at, (uint32_t)(mkpe_rn(&mem, at, 4) + delta));
        else if (type == HP_IMAGE_REL_BASED_DIR64)
            mkpe_w64(&mem, at, mkpe_rn(&mem, at, 8) + delta);
        else if (type == HP_IMAGE_REL_BASED_HIGH)
            mkpe_w16(&mem, at, (uint16_t)(mkpe_rn(&mem, at, 2) + (delta >> 16)));
    }
    /* and an earlier patch's entry jump */
    mkpe_w16(&mem, f.text_rva + FN_AT, 0xf9eb);
    hp_arena a2 = HP_ARENA_INIT;
    hp_pe live;
    ck_assert_int_eq(hp_pe_parse(&live, &a2, mem.data, mem.size, HP_PE_LAYOUT_LOADED), HP_OK);
    hp_pe_range hooks[3];
    hp_pe_fn_mask mf, ml;
    ck_assert_int_eq(hp_pe_fn_mask_make(&f.d.pe, hooks_at(&f, hooks), 3, &f.d.arena, &mf), HP_OK);
    ck_assert_int_eq(hp_pe_fn_mask_make(&live, hooks, 3, &a2, &ml), HP_OK);

    uint32_t rva = f.text_rva + FN_AT;
    hp_rd vf;
    ck_assert_int_eq(hp_pe_rva_view(&f.d.pe, rva, FN_LEN, &vf), HP_OK);
    uint8_t buf[FN_LEN], hf[HP_SHA256_LEN], hl[HP_SHA256_LEN];
    memcpy(buf, vf.data, FN_LEN);
    ck_assert_int_eq(hp_patch_fn_hash(&mf, rva, buf, FN_LEN, hf), HP_OK);
    ck_assert(memcmp(mem.data + rva, vf.data, FN_LEN) != 0); /* the bytes do differ */
    memcpy(buf, mem.data + rva, FN_LEN);
    ck_assert_int_eq(hp_patch_fn_hash(&ml, rva, buf, FN_LEN, hl), HP_OK);
    ck_assert_mem_eq(hf, hl, HP_SHA256_LEN);

    mem.data[rva + 0x3c - FN_AT] ^= 0x40; /* code, not a field */
    memcpy(buf, mem.data + rva, FN_LEN);
    ck_assert_int_eq(hp_patch_fn_hash(&ml, rva, buf, FN_LEN, hl), HP_OK);
    ck_assert(memcmp(hf, hl, HP_SHA256_LEN) != 0);
    hp_arena_free(&a2);
    mkpe_free(&mem);
    dirimg_end(&f.d);
}
END_TEST

START_TEST(mask_without_relocations_and_malformed_ones)
{
    fnimg f;
    fn_begin(&f, _i ? MKPE_X64 : MKPE_X86);
    dirimg_build(&f.d, HP_PE_LAYOUT_FILE);
    hp_pe_fn_mask m;
    hp_pe_range hook = { f.text_rva + FN_AT, 2 };
    ck_assert_int_eq(hp_pe_fn_mask_make(&f.d.pe, &hook, 1, &f.d.arena, &m), HP_OK);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_int_eq(hp_pe_fn_mask_make(&f.d.pe, NULL, 0, &f.d.arena, &m), HP_OK);
    ck_assert_uint_eq(m.count, 0);
    uint8_t buf[4] = { 1, 2, 3, 4 };
    hp_pe_fn_mask_apply(&m, f.text_rva, buf, 4);
    ck_assert_uint_eq(buf[0] + buf[1] + buf[2] + buf[3], 10);
    ck_assert_int_eq(hp_pe_fn_mask_make(NULL, NULL, 0, &f.d.arena, &m), HP_E_ARG);
    ck_assert_int_eq(hp_pe_fn_mask_make(&f.d.pe, NULL, 1, &f.d.arena, &m), HP_E_ARG);
    uint8_t h[HP_SHA256_LEN];
    ck_assert_int_eq(hp_patch_fn_hash(&m, f.text_rva, buf, 0, h), HP_E_ARG);
    dirimg_end(&f.d);

    /* a block whose SizeOfBlock is odd: the directory's own status */
    fn_begin(&f, _i ? MKPE_X64 : MKPE_X86);
    uint32_t dir = mkpe_blob_u32(&f.d.b, f.text_rva);
    mkpe_blob_u32(&f.d.b, 9);
    mkpe_blob_u32(&f.d.b, 0);
    mkpe_set_dir(&f.d.spec, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC, dir, 12);
    dirimg_build(&f.d, HP_PE_LAYOUT_FILE);
    ck_assert_int_eq(hp_pe_fn_mask_make(&f.d.pe, NULL, 0, &f.d.arena, &m), HP_E_RELOC_BLOCK);
    dirimg_end(&f.d);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Where a function ends                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* .pdata in .rdata: entries {begin, end} (offsets in .text), each with plain unwind info, but
 * those with chain_to >= 0, whose unwind info chains to that entry (a fragment). */
typedef struct pdent {
    uint32_t begin, end;
    int chain_to;
} pdent;

static void put_pdata(fnimg *f, const pdent *p, unsigned n)
{
    uint32_t plain = mkpe_blob_u32(&f->d.b, 0x01); /* version 1, no flags, no codes */
    uint32_t chained[8];
    for (unsigned i = 0; i < n; i++) {
        if (p[i].chain_to < 0)
            continue;
        const pdent *c = &p[p[i].chain_to];
        chained[i] = mkpe_blob_u32(&f->d.b, 0x01 | (HP_UNW_FLAG_CHAININFO << 3));
        mkpe_blob_u32(&f->d.b, f->text_rva + c->begin);
        mkpe_blob_u32(&f->d.b, f->text_rva + c->end);
        mkpe_blob_u32(&f->d.b, plain);
    }
    uint32_t dir = mkpe_blob_add(&f->d.b, NULL, 0, 4);
    for (unsigned i = 0; i < n; i++) {
        mkpe_blob_u32(&f->d.b, f->text_rva + p[i].begin);
        mkpe_blob_u32(&f->d.b, f->text_rva + p[i].end);
        mkpe_blob_u32(&f->d.b, p[i].chain_to < 0 ? plain : chained[i]);
    }
    mkpe_set_dir(&f->d.spec, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION, dir, 12 * n);
}

static uint32_t length_of(const hp_pe_fn_bounds *b, const fnimg *f, uint32_t off)
{
    uint32_t len = 0;
    ck_assert_int_eq(hp_pe_fn_length(b, f->text_rva + off, &len), HP_OK);
    return len;
}

START_TEST(length_by_pdata_next_entry_and_section)
{
    fnimg f;
    fn_begin(&f, MKPE_X64);
    /* 0x10: its .pdata ends at 0x30, before the next entry; 0x100: only a chained fragment
     * begins there, so the next entry ends it; 0x1e0: .pdata past the section's bytes */
    const pdent p[] = { { 0x10, 0x30, -1 }, { 0x100, 0x120, 0 }, { 0x1e0, 0x300, -1 },
                        { 0x1c0, 0x1c0, -1 } /* empty: no end */ };
    put_pdata(&f, p, 4);
    f.d.spec.sections[f.d.text].virtual_size = 0x1000; /* file bytes end at 0x200 */
    dirimg_build(&f.d, HP_PE_LAYOUT_FILE);
    uint32_t entries[] = { f.text_rva + 0x10, f.text_rva + 0x40, f.text_rva + 0x100,
                           f.text_rva + 0x1c0, f.text_rva + 0x1d0, f.text_rva + 0x1e0 };
    hp_pe_fn_bounds b;
    ck_assert_int_eq(hp_pe_fn_bounds_make(&f.d.pe, entries, 6, &f.d.arena, &b), HP_OK);
    ck_assert_uint_eq(b.nprimary, 3);
    ck_assert_uint_eq(length_of(&b, &f, 0x10), 0x20);  /* .pdata */
    ck_assert_uint_eq(length_of(&b, &f, 0x40), 0xc0);  /* next entry */
    ck_assert_uint_eq(length_of(&b, &f, 0x100), 0xc0); /* the fragment is no end */
    ck_assert_uint_eq(length_of(&b, &f, 0x1c0), 0x10); /* an empty entry is no end */
    ck_assert_uint_eq(length_of(&b, &f, 0x1e0), 0x20); /* the section's file bytes */
    ck_assert_uint_eq(length_of(&b, &f, 0x1f0), 0x10); /* no entry after it */
    uint32_t len;
    ck_assert_int_eq(hp_pe_fn_length(&b, f.text_rva + 0x200, &len), HP_E_RVA); /* no bytes */
    ck_assert_int_eq(hp_pe_fn_length(&b, 0x10, &len), HP_E_RVA);              /* headers */
    ck_assert_int_eq(hp_pe_fn_length(NULL, f.text_rva, &len), HP_E_ARG);
    uint32_t unsorted[] = { f.text_rva + 0x40, f.text_rva + 0x10 };
    ck_assert_int_eq(hp_pe_fn_bounds_make(&f.d.pe, unsorted, 2, &f.d.arena, &b), HP_E_ARG);
    dirimg_end(&f.d);
}
END_TEST

START_TEST(length_x86_by_next_entry_and_virtual_size)
{
    fnimg f;
    fn_begin(&f, MKPE_X86);
    f.d.spec.sections[f.d.text].virtual_size = 0x1f8; /* shorter than its raw data */
    dirimg_build(&f.d, HP_PE_LAYOUT_FILE);
    uint32_t entries[] = { f.text_rva + 0x10, f.text_rva + 0x48, f.text_rva + 0x1f0 };
    hp_pe_fn_bounds b;
    ck_assert_int_eq(hp_pe_fn_bounds_make(&f.d.pe, entries, 3, &f.d.arena, &b), HP_OK);
    ck_assert_uint_eq(b.nprimary, 0);
    ck_assert_uint_eq(length_of(&b, &f, 0x10), 0x38);
    ck_assert_uint_eq(length_of(&b, &f, 0x1f0), 8);
    dirimg_end(&f.d);
}
END_TEST

START_TEST(length_capped_at_64k)
{
    static uint8_t big[0x11000];
    dirimg d;
    dirimg_begin(&d, _i ? MKPE_X64 : MKPE_X86);
    d.spec.sections[d.text].data = big;
    d.spec.sections[d.text].data_size = sizeof big;
    dirimg_build(&d, HP_PE_LAYOUT_FILE);
    uint32_t entry = dirimg_code(&d, 0), len = 0;
    hp_pe_fn_bounds b;
    ck_assert_int_eq(hp_pe_fn_bounds_make(&d.pe, &entry, 1, &d.arena, &b), HP_OK);
    ck_assert_int_eq(hp_pe_fn_length(&b, entry, &len), HP_OK);
    ck_assert_uint_eq(len, HOTPE_HASH_LENGTH_MAX);
    ck_assert_int_eq(hp_pe_fn_length(&b, entry + 0x1000, &len), HP_OK);
    ck_assert_uint_eq(len, sizeof big - 0x1000 < HOTPE_HASH_LENGTH_MAX ? sizeof big - 0x1000
                                                                        : HOTPE_HASH_LENGTH_MAX);
    dirimg_end(&d);
}
END_TEST

static Suite *fnhash_suite(void)
{
    Suite *s = suite_create("fnhash");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, mask_zeroes_relocated_fields_and_hooked_bytes, 0, 4);
    tcase_add_loop_test(tc, relocated_module_hashes_as_the_file, 0, 2);
    tcase_add_loop_test(tc, mask_without_relocations_and_malformed_ones, 0, 2);
    tcase_add_test(tc, length_by_pdata_next_entry_and_section);
    tcase_add_test(tc, length_x86_by_next_entry_and_virtual_size);
    tcase_add_loop_test(tc, length_capped_at_64k, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(fnhash_suite)
