/* Unit tests: site analysis (pe/site.c) and the emitted jumps (pe/insn.c), checked with Zydis. */
#include <Zydis/Zydis.h>

#include "dirimg.h"
#include "decode.h"
#include "harness.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/site.h"

#define TEXT_SIZE 0x200

/* A .text of TEXT_SIZE bytes (zeros unless set) whose bytes the test places by offset. */
typedef struct siteimg {
    dirimg d;
    uint8_t code[TEXT_SIZE];
    hp_site_ctx ctx;
} siteimg;

static void put(siteimg *s, uint32_t off, const void *bytes, size_t n)
{
    ck_assert(off + n <= TEXT_SIZE);
    memcpy(s->code + off, bytes, n);
}

static void fill(siteimg *s, uint32_t off, uint8_t v, size_t n)
{
    ck_assert(off + n <= TEXT_SIZE);
    memset(s->code + off, v, n);
}

static void site_begin(siteimg *s, mkpe_arch arch)
{
    memset(s, 0, sizeof *s);
    dirimg_begin(&s->d, arch);
    s->d.spec.sections[s->d.text].data = s->code;
    s->d.spec.sections[s->d.text].data_size = TEXT_SIZE;
}

static void site_build(siteimg *s, hp_pe_layout layout)
{
    dirimg_build(&s->d, layout);
    ck_assert_int_eq(hp_site_ctx_init(&s->ctx, &s->d.pe), HP_OK);
}

static hp_site examine(siteimg *s, uint32_t off)
{
    hp_site site;
    memset(&site, 0, sizeof site);
    ck_assert_int_eq(hp_site_examine(&s->ctx, &s->d.pe, dirimg_code(&s->d, off), &site), HP_OK);
    return site;
}

#define CHECK_SITE(site, cls_, pad_, len_)                 \
    do {                                                   \
        ck_assert_str_eq(hp_site_class_name((site).cls), hp_site_class_name(cls_)); \
        ck_assert_uint_eq((site).padding, (pad_));         \
        ck_assert_uint_eq((site).first_insn_len, (len_));  \
    } while (0)

static const uint8_t mov_edi_edi_frame[] = { 0x8B, 0xFF, 0x55, 0x8B, 0xEC };
static const uint8_t lea_rsp0[] = { 0x48, 0x8D, 0xA4, 0x24, 0, 0, 0, 0 };
static const uint8_t xchg_ax_ax[] = { 0x66, 0x90 };
static const uint8_t sub_esp_28[] = { 0x83, 0xEC, 0x28 };
static const uint8_t push_rsi_long[] = { 0xFF, 0xF6 };
static const uint8_t invalid[] = { 0xFF, 0xFF };

/* Both layouts must give the same verdicts. */
static void classes_x86(hp_pe_layout layout)
{
    siteimg s;
    site_begin(&s, MKPE_X86);
    fill(&s, 0x00, 0xCC, 3);                /* padding stops at the section start */
    s.code[0x03] = 0x55;                    /* push ebp: 1 byte */
    fill(&s, 0x20, 0xCC, 16);               /* GCC ms_hook_prologue, x86 */
    put(&s, 0x30, mov_edi_edi_frame, sizeof mov_edi_edi_frame);
    fill(&s, 0x40, 0x90, 5);                /* MSVC /FUNCTIONPADMIN:5 with a plain first insn */
    put(&s, 0x45, sub_esp_28, sizeof sub_esp_28);
    fill(&s, 0x50, 0xCC, 4);
    put(&s, 0x54, mov_edi_edi_frame, 2);    /* marker, but only 4 bytes of padding */
    fill(&s, 0x58, 0xCC, 8);
    s.code[0x60] = 0xC3;                    /* ret: 1 byte */
    fill(&s, 0x68, 0xCC, 8);
    put(&s, 0x70, invalid, sizeof invalid);
    fill(&s, 0x78, 0x90, 0x88);             /* 136 bytes: padding stops at 64 */
    put(&s, 0x100, mov_edi_edi_frame, 2);
    fill(&s, 0x1F0, 0xCC, 15);
    s.code[0x1FF] = 0xE8;                   /* call rel32 cut by the end of the section */
    site_build(&s, layout);

    hp_site t = examine(&s, 0x03);
    CHECK_SITE(t, HP_SITE_SHORT_FIRST, 3, 1);
    t = examine(&s, 0x30);
    CHECK_SITE(t, HP_SITE_PROLOGUE, 16, 2);
    ck_assert_int_eq(t.insn[0], 0x8B);
    ck_assert_int_eq(t.insn[1], 0xFF);
    t = examine(&s, 0x45);
    CHECK_SITE(t, HP_SITE_PADDED, 5, 3);
    t = examine(&s, 0x54);
    CHECK_SITE(t, HP_SITE_NO_PADDING, 4, 2);
    t = examine(&s, 0x60);
    CHECK_SITE(t, HP_SITE_SHORT_FIRST, 8, 1);
    t = examine(&s, 0x70);
    CHECK_SITE(t, HP_SITE_UNDECODABLE, 8, 0);
    t = examine(&s, 0x100);
    CHECK_SITE(t, HP_SITE_PROLOGUE, HP_SITE_PADDING_MAX, 2);
    t = examine(&s, 0x1FF);
    CHECK_SITE(t, HP_SITE_UNDECODABLE, 15, 0);
    dirimg_end(&s.d);
}

START_TEST(x86_classes_file) { classes_x86(HP_PE_LAYOUT_FILE); }
END_TEST
START_TEST(x86_classes_loaded) { classes_x86(HP_PE_LAYOUT_LOADED); }
END_TEST

START_TEST(x64_classes)
{
    siteimg s;
    site_begin(&s, MKPE_X64);
    fill(&s, 0x00, 0xCC, 32);               /* GCC ms_hook_prologue, x64 */
    put(&s, 0x20, lea_rsp0, sizeof lea_rsp0);
    fill(&s, 0x30, 0xCC, 16);               /* clang -fms-hotpatch: 66 90 */
    put(&s, 0x40, xchg_ax_ax, sizeof xchg_ax_ax);
    fill(&s, 0x50, 0xCC, 6);                /* clang re-encoded push rsi */
    put(&s, 0x56, push_rsi_long, sizeof push_rsi_long);
    fill(&s, 0x60, 0xCC, 16);
    s.code[0x70] = 0x56;                    /* push rsi: 1 byte */
    fill(&s, 0x80, 0xCC, 16);
    put(&s, 0x90, lea_rsp0, 7);             /* the marker's last byte comes from the zero fill */
    site_build(&s, HP_PE_LAYOUT_FILE);

    hp_site t = examine(&s, 0x20);
    CHECK_SITE(t, HP_SITE_PROLOGUE, 32, 8);
    t = examine(&s, 0x40);
    CHECK_SITE(t, HP_SITE_PROLOGUE, 16, 2);
    t = examine(&s, 0x56);
    CHECK_SITE(t, HP_SITE_PADDED, 6, 2);
    t = examine(&s, 0x70);
    CHECK_SITE(t, HP_SITE_SHORT_FIRST, 16, 1);
    t = examine(&s, 0x90);
    CHECK_SITE(t, HP_SITE_PROLOGUE, 16, 8);
    dirimg_end(&s.d);
}
END_TEST

/* GCC's -fpatchable-function-entry=N,N-2: two 1-byte NOPs at the entry are one 2-byte site,
 * on both machines; one NOP alone, or a pair with the section's end between them, is not. */
static void nop_pair(mkpe_arch arch)
{
    static const uint8_t pair_push[] = { 0x90, 0x90, 0x55 };
    siteimg s;
    site_begin(&s, arch);
    fill(&s, 0x10, 0x90, 8);
    put(&s, 0x18, pair_push, sizeof pair_push);  /* 8 before, 2 at the entry */
    fill(&s, 0x30, 0xCC, 4);
    put(&s, 0x34, pair_push, sizeof pair_push);  /* a pair with too little padding */
    fill(&s, 0x40, 0xCC, 8);
    put(&s, 0x48, pair_push + 1, 2);             /* one NOP, then push */
    fill(&s, 0x1F0, 0x90, 16);                   /* a NOP at the section's last byte */
    site_build(&s, HP_PE_LAYOUT_FILE);

    hp_site t = examine(&s, 0x18);
    CHECK_SITE(t, HP_SITE_NOP_PAIR, 8, 2);
    ck_assert_int_eq(t.insn[0], 0x90);
    ck_assert_int_eq(t.insn[1], 0x90);
    ck_assert(hp_site_class_patchable(t.cls));
    t = examine(&s, 0x34);
    CHECK_SITE(t, HP_SITE_NO_PADDING, 4, 2);
    t = examine(&s, 0x48);
    CHECK_SITE(t, HP_SITE_SHORT_FIRST, 8, 1);
    t = examine(&s, 0x1FF);
    CHECK_SITE(t, HP_SITE_SHORT_FIRST, 15, 1);
    dirimg_end(&s.d);
}

START_TEST(nop_pair_x86) { nop_pair(MKPE_X86); }
END_TEST
START_TEST(nop_pair_x64) { nop_pair(MKPE_X64); }
END_TEST

START_TEST(not_code)
{
    siteimg s;
    site_begin(&s, MKPE_X64);
    /* .text claims 0x1000 bytes in memory but has only TEXT_SIZE in the file. */
    s.d.spec.sections[s.d.text].virtual_size = 0x1000;
    fill(&s, 0x00, 0xCC, 16);
    put(&s, 0x10, xchg_ax_ax, 2);
    mkpe_blob_zero(&s.d.b, 64);             /* .rdata bytes */
    site_build(&s, HP_PE_LAYOUT_FILE);

    hp_site t = examine(&s, 0x10);
    CHECK_SITE(t, HP_SITE_PROLOGUE, 16, 2);
    t = examine(&s, TEXT_SIZE + 0x10);      /* past the section's file bytes */
    CHECK_SITE(t, HP_SITE_NOT_CODE, 0, 0);
    memset(&t, 0, sizeof t);
    ck_assert_int_eq(hp_site_examine(&s.ctx, &s.d.pe, s.d.b.rva + 8, &t), HP_OK);
    CHECK_SITE(t, HP_SITE_NOT_CODE, 0, 0);  /* not executable */
    ck_assert_int_eq(hp_site_examine(&s.ctx, &s.d.pe, 0x10, &t), HP_OK);
    CHECK_SITE(t, HP_SITE_NOT_CODE, 0, 0);  /* headers */
    ck_assert_int_eq(hp_site_examine(&s.ctx, &s.d.pe, 0xFFFFFFF0u, &t), HP_OK);
    CHECK_SITE(t, HP_SITE_NOT_CODE, 0, 0);  /* past the image */
    ck_assert_int_eq(hp_site_examine(NULL, &s.d.pe, 0x10, &t), HP_E_ARG);
    dirimg_end(&s.d);
}
END_TEST

/* pdata entries and the entry point, merged by RVA, sources OR'ed, names from exports. */
START_TEST(analyze_merges)
{
    siteimg s;
    site_begin(&s, MKPE_X64);
    fill(&s, 0x00, 0xCC, 32);
    put(&s, 0x20, lea_rsp0, sizeof lea_rsp0);
    fill(&s, 0x28, 0xCC, 8);
    s.code[0x30] = 0xC3;
    s.code[0x40] = 0x56;

    uint32_t unwind = mkpe_blob_u32(&s.d.b, 0x00000001); /* version 1, no flags, no codes */
    uint32_t rf[3][3] = {
        { dirimg_code(&s.d, 0x40), dirimg_code(&s.d, 0x41), unwind },
        { dirimg_code(&s.d, 0x20), dirimg_code(&s.d, 0x30), unwind },
        { dirimg_code(&s.d, 0x30), dirimg_code(&s.d, 0x31), unwind },
    };
    uint32_t pdata = mkpe_blob_zero(&s.d.b, sizeof rf);
    for (unsigned i = 0; i < 3; i++)
        for (unsigned k = 0; k < 3; k++)
            mkpe_blob_put32(&s.d.b, pdata + 12 * i + 4 * k, rf[i][k]);
    mkpe_set_dir(&s.d.spec, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION, pdata, sizeof rf);

    /* An export directory: one function named "hot" at 0x20, one forwarder. */
    uint32_t dir = mkpe_blob_zero(&s.d.b, sizeof(HP_IMAGE_EXPORT_DIRECTORY));
    uint32_t funcs = mkpe_blob_zero(&s.d.b, 8);
    uint32_t names = mkpe_blob_zero(&s.d.b, 4);
    uint32_t ords = mkpe_blob_zero(&s.d.b, 4);
    MKPE_BLOB_PUT(&s.d.b, dir, HP_IMAGE_EXPORT_DIRECTORY, Base, 1);
    MKPE_BLOB_PUT(&s.d.b, dir, HP_IMAGE_EXPORT_DIRECTORY, NumberOfFunctions, 2);
    MKPE_BLOB_PUT(&s.d.b, dir, HP_IMAGE_EXPORT_DIRECTORY, NumberOfNames, 1);
    MKPE_BLOB_PUT(&s.d.b, dir, HP_IMAGE_EXPORT_DIRECTORY, AddressOfFunctions, funcs);
    MKPE_BLOB_PUT(&s.d.b, dir, HP_IMAGE_EXPORT_DIRECTORY, AddressOfNames, names);
    MKPE_BLOB_PUT(&s.d.b, dir, HP_IMAGE_EXPORT_DIRECTORY, AddressOfNameOrdinals, ords);
    mkpe_blob_put32(&s.d.b, names, mkpe_blob_str(&s.d.b, "hot"));
    mkpe_blob_put16(&s.d.b, ords, 0);
    mkpe_blob_put32(&s.d.b, funcs, dirimg_code(&s.d, 0x20));
    mkpe_blob_put32(&s.d.b, funcs + 4, mkpe_blob_str(&s.d.b, "other.fn"));
    mkpe_set_dir(&s.d.spec, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, dir, s.d.b.rva + s.d.b.size - dir);

    s.d.spec.entry_point = dirimg_code(&s.d, 0x30);
    site_build(&s, HP_PE_LAYOUT_FILE);

    hp_site_list list;
    ck_assert_int_eq(hp_site_analyze(&s.ctx, &s.d.pe, &s.d.arena, &list), HP_OK);
    ck_assert_uint_eq(list.count, 3);
    ck_assert_uint_eq(list.sites[0].rva, dirimg_code(&s.d, 0x20));
    ck_assert_str_eq(list.sites[0].name, "hot");
    ck_assert_uint_eq(list.sites[0].sources, HP_SITE_SRC_EXPORT | HP_SITE_SRC_PDATA);
    ck_assert_int_eq(list.sites[0].cls, HP_SITE_PROLOGUE);
    ck_assert_uint_eq(list.sites[1].rva, dirimg_code(&s.d, 0x30));
    ck_assert_ptr_null(list.sites[1].name);
    ck_assert_uint_eq(list.sites[1].sources, HP_SITE_SRC_PDATA | HP_SITE_SRC_ENTRY);
    ck_assert_int_eq(list.sites[1].cls, HP_SITE_SHORT_FIRST);
    ck_assert_uint_eq(list.sites[2].sources, HP_SITE_SRC_PDATA);
    ck_assert_uint_eq(list.by_class[HP_SITE_PROLOGUE], 1);
    ck_assert_uint_eq(list.by_class[HP_SITE_SHORT_FIRST], 2);
    dirimg_end(&s.d);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(hp_site_class_name(HP_SITE_NOT_CODE), "not-code");
    ck_assert_str_eq(hp_site_class_name(HP_SITE_PADDED), "padded");
    ck_assert_str_eq(hp_site_class_name((hp_site_class)99), "?");
    ck_assert_str_eq(hp_site_source_name(HP_SITE_SRC_CFG), "cfg");
    ck_assert_ptr_null(hp_site_source_name(3));
    ck_assert(hp_site_class_patchable(HP_SITE_PROLOGUE));
    ck_assert(!hp_site_class_patchable(HP_SITE_NO_PADDING));
    ck_assert_str_eq(hp_status_name(HP_E_INSN_RANGE), "HP_E_INSN_RANGE");
}
END_TEST

/* Decode an emitted jump with Zydis: its length and the address it transfers to (for
 * FF 25: the slot's address, the memory operand). */
START_TEST(insn_encodings)
{
    uint8_t b[6];
    uint64_t t;
    const uint64_t at = 0x7ff612340000ull;
    static const int64_t deltas[] = { 5, 0, -5, 0x7fffffff - 5, 0x7fffffffLL + 5 - 5, -0x7fffffffLL - 1 + 5 };
    for (unsigned i = 0; i < sizeof deltas / sizeof deltas[0]; i++) {
        uint64_t target = at + (uint64_t)deltas[i];
        ck_assert_int_eq(hp_insn_jmp_rel32_encode(at, target, b), HP_OK);
        ck_assert_int_eq(b[0], 0xE9);
        hp_test_jump_target(true, b, 5, at, ZYDIS_MNEMONIC_JMP, &t);
        ck_assert_uint_eq(t, target);
        ck_assert_int_eq(hp_insn_jmp_rip_encode(at, target + 1, b), HP_OK);
        ck_assert_int_eq(b[0], 0xFF);
        ck_assert_int_eq(b[1], 0x25);
        hp_test_jump_target(true, b, 6, at, ZYDIS_MNEMONIC_JMP, &t);
        ck_assert_uint_eq(t, target + 1);
    }
    /* out of reach by one */
    ck_assert_int_eq(hp_insn_jmp_rel32_encode(at, at + 5 + 0x80000000ull, b), HP_E_INSN_RANGE);
    ck_assert_int_eq(hp_insn_jmp_rel32_encode(at, at + 5 - 0x80000001ull, b), HP_E_INSN_RANGE);
    ck_assert_int_eq(hp_insn_jmp_rip_encode(at, at + 6 + 0x80000000ull, b), HP_E_INSN_RANGE);
    ck_assert_int_eq(hp_insn_jmp_rel32_encode(UINT64_MAX - 2, 0, b), HP_E_INSN_RANGE);
    ck_assert_int_eq(hp_insn_jmp_rel32_encode(at, at, NULL), HP_E_ARG);

    /* x86: any target, wrapping like EIP */
    ck_assert_int_eq(hp_insn_jmp_rel32_encode_x86(0x10001000u, 0xF0000000u, b), HP_OK);
    hp_test_jump_target(false, b, 5, 0x10001000u, ZYDIS_MNEMONIC_JMP, &t);
    ck_assert_uint_eq(t, 0xF0000000u);

    /* EB disp8: -128..127 from the next instruction */
    ck_assert_int_eq(hp_insn_jmp_rel8_encode(at, at - 5, b), HP_OK);
    ck_assert_int_eq(b[0], 0xEB);
    ck_assert_int_eq(b[1], 0xF9);
    hp_test_jump_target(true, b, 2, at, ZYDIS_MNEMONIC_JMP, &t);
    ck_assert_uint_eq(t, at - 5);
    ck_assert_int_eq(hp_insn_jmp_rel8_encode(at, at + 2 - 128, b), HP_OK);
    ck_assert_int_eq(hp_insn_jmp_rel8_encode(at, at + 2 + 127, b), HP_OK);
    ck_assert_int_eq(hp_insn_jmp_rel8_encode(at, at + 2 - 129, b), HP_E_INSN_RANGE);
    ck_assert_int_eq(hp_insn_jmp_rel8_encode(at, at + 2 + 128, b), HP_E_INSN_RANGE);
}
END_TEST

static Suite *site_suite(void)
{
    Suite *s = suite_create("site");
    TCase *tc = tcase_create("site");
    tcase_add_test(tc, x86_classes_file);
    tcase_add_test(tc, x86_classes_loaded);
    tcase_add_test(tc, x64_classes);
    tcase_add_test(tc, nop_pair_x86);
    tcase_add_test(tc, nop_pair_x64);
    tcase_add_test(tc, not_code);
    tcase_add_test(tc, analyze_merges);
    tcase_add_test(tc, names);
    tcase_add_test(tc, insn_encodings);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(site_suite)
