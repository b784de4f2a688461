/* Unit tests of pe/tramp.c: which functions never built for hotpatching can move their first
 * instructions into a trampoline, and the reason for each refusal, on hand-assembled code. */
#include <string.h>

#include "dirimg.h"
#include "harness.h"
#include "hotpe/pe/tramp.h"

#define RVA 0x1000u

static hp_tramp_plan analyze(bool x64, const uint8_t *code, uint32_t size)
{
    hp_tramp_plan p;
    ck_assert_int_eq(hp_tramp_analyze(x64, code, size, RVA, NULL, 0, &p), HP_OK);
    return p;
}

START_TEST(x64_prologue_moves)
{
    /* push rbx; sub rsp,0x20; mov rbx,rcx; add rsp,0x20; pop rbx; ret */
    static const uint8_t f[] = { 0x53, 0x48, 0x83, 0xEC, 0x20, 0x48, 0x89, 0xCB,
                                 0x48, 0x83, 0xC4, 0x20, 0x5B, 0xC3 };
    hp_tramp_plan p = analyze(true, f, sizeof f);
    ck_assert_str_eq(hp_tramp_verdict_name(p.verdict), "movable");
    ck_assert_uint_eq(p.len, 5);
    ck_assert_uint_eq(p.count, 2);
    ck_assert_uint_eq(p.moved[0].kind, HP_INSN_MOVE_PLAIN);
}
END_TEST

START_TEST(x64_rip_relative_moves_with_its_recipe)
{
    /* mov rax,[rip+0x100]; ret */
    static const uint8_t f[] = { 0x48, 0x8B, 0x05, 0x00, 0x01, 0x00, 0x00, 0xC3 };
    hp_tramp_plan p = analyze(true, f, sizeof f);
    ck_assert_int_eq(p.verdict, HP_TRAMP_MOVABLE);
    ck_assert_uint_eq(p.len, 7);
    ck_assert_uint_eq(p.count, 1);
    ck_assert_uint_eq(p.moved[0].kind, HP_INSN_MOVE_RIP32);
    ck_assert_uint_eq(p.moved[0].disp_offset, 3);
}
END_TEST

START_TEST(x86_frame_and_call_move)
{
    /* push ebp; mov ebp,esp; sub esp,0x10; leave; ret */
    static const uint8_t f[] = { 0x55, 0x8B, 0xEC, 0x83, 0xEC, 0x10, 0xC9, 0xC3 };
    hp_tramp_plan p = analyze(false, f, sizeof f);
    ck_assert_int_eq(p.verdict, HP_TRAMP_MOVABLE);
    ck_assert_uint_eq(p.len, 6);
    ck_assert_uint_eq(p.count, 3);
    /* call rel32 first: re-aimed from the trampoline */
    static const uint8_t g[] = { 0xE8, 0x10, 0x00, 0x00, 0x00, 0xC3 };
    p = analyze(false, g, sizeof g);
    ck_assert_int_eq(p.verdict, HP_TRAMP_MOVABLE);
    ck_assert_uint_eq(p.moved[0].kind, HP_INSN_MOVE_REL32);
}
END_TEST

/* A jcc among the moved instructions moves as its rel32 form; a loop has none; a jcc that
 * lands inside the moved bytes is a branch into them. */
START_TEST(short_branch_in_range)
{
    /* test ecx,ecx; jz +1; ret; xor eax,eax; ret */
    static const uint8_t f[] = { 0x85, 0xC9, 0x74, 0x01, 0xC3, 0x31, 0xC0, 0xC3 };
    /* test ecx,ecx; loop -2 ... */
    static const uint8_t g[] = { 0x85, 0xC9, 0xE2, 0xFE, 0xC3, 0x31, 0xC0, 0xC3 };
    /* test ecx,ecx; jz +0 (to the ret at 4); ret; ... */
    static const uint8_t h[] = { 0x85, 0xC9, 0x74, 0x00, 0xC3, 0x31, 0xC0, 0xC3 };
    for (int x64 = 0; x64 < 2; x64++) {
        hp_tramp_plan p = analyze(x64, f, sizeof f);
        ck_assert_str_eq(hp_tramp_verdict_name(p.verdict), "movable");
        ck_assert_uint_eq(p.count, 3);
        ck_assert_uint_eq(p.moved[1].kind, HP_INSN_MOVE_JCC);
        p = analyze(x64, g, sizeof g);
        ck_assert_str_eq(hp_tramp_verdict_name(p.verdict), "unmovable");
        ck_assert_uint_eq(p.at, RVA + 2);
        p = analyze(x64, h, sizeof h);
        ck_assert_str_eq(hp_tramp_verdict_name(p.verdict), "branch-into");
        ck_assert_uint_eq(p.at, RVA + 2);
    }
}
END_TEST

/* A ret before the jump's 5th byte ends the function's flow: the bytes after it may be another
 * function's, so nothing is moved. */
START_TEST(flow_ends_inside_range)
{
    /* xor eax,eax; ret; then 16 bytes of int3 up to the next entry */
    uint8_t f[19];
    memset(f, 0xCC, sizeof f);
    f[0] = 0x31, f[1] = 0xC0, f[2] = 0xC3;
    for (int x64 = 0; x64 < 2; x64++) {
        hp_tramp_plan p = analyze(x64, f, sizeof f);
        ck_assert_str_eq(hp_tramp_verdict_name(p.verdict), "too-short");
        ck_assert_uint_eq(p.at, RVA + 2);
    }
}
END_TEST

START_TEST(branch_into_range_is_refused)
{
    /* 0: xor eax,eax; 2: inc rax; 5: cmp rax,10; 9: jnz 2; 11: ret */
    uint8_t f[] = { 0x31, 0xC0, 0x48, 0xFF, 0xC0, 0x48, 0x83, 0xF8, 0x0A, 0x75, 0xF7, 0xC3 };
    hp_tramp_plan p = analyze(true, f, sizeof f);
    ck_assert_str_eq(hp_tramp_verdict_name(p.verdict), "branch-into");
    ck_assert_uint_eq(p.at, RVA + 9);
    /* the same loop back to the entry itself: it reaches the new jump, as a hotpatch site's
     * callers do */
    f[10] = 0xF5;
    p = analyze(true, f, sizeof f);
    ck_assert_int_eq(p.verdict, HP_TRAMP_MOVABLE);
    /* a call into the range (near form) is a branch too */
    static const uint8_t g[] = { 0x53, 0x48, 0x83, 0xEC, 0x20, 0xE8, 0xF7, 0xFF, 0xFF, 0xFF, 0xC3 };
    p = analyze(true, g, sizeof g);
    ck_assert_int_eq(p.verdict, HP_TRAMP_BRANCH_INTO);
    ck_assert_uint_eq(p.at, RVA + 5);
}
END_TEST

START_TEST(too_short)
{
    static const uint8_t ret[] = { 0xC3 };
    hp_tramp_plan p = analyze(true, ret, sizeof ret);
    ck_assert_str_eq(hp_tramp_verdict_name(p.verdict), "too-short");
    /* xor eax,eax; ret: 3 bytes */
    static const uint8_t f[] = { 0x31, 0xC0, 0xC3 };
    p = analyze(false, f, sizeof f);
    ck_assert_int_eq(p.verdict, HP_TRAMP_TOO_SHORT);
    /* 6 bytes whose instructions covering 5 would end at 7: xor eax,eax; mov eax,imm32 */
    static const uint8_t g[] = { 0x31, 0xC0, 0xB8, 0x01, 0x00, 0x00, 0x00 };
    p = analyze(false, g, 6);
    ck_assert_int_eq(p.verdict, HP_TRAMP_TOO_SHORT);
    ck_assert_uint_eq(p.at, RVA + 2);
}
END_TEST

START_TEST(undecodable)
{
    /* push es is not an x64 instruction: first, then later in the function */
    static const uint8_t first[] = { 0x06, 0x90, 0x90, 0x90, 0x90, 0xC3 };
    hp_tramp_plan p = analyze(true, first, sizeof first);
    ck_assert_str_eq(hp_tramp_verdict_name(p.verdict), "undecodable");
    ck_assert_uint_eq(p.at, RVA);
    static const uint8_t later[] = { 0x53, 0x48, 0x83, 0xEC, 0x20, 0x06, 0xC3 };
    p = analyze(true, later, sizeof later);
    ck_assert_int_eq(p.verdict, HP_TRAMP_UNDECODABLE);
    ck_assert_uint_eq(p.at, RVA + 5);
    /* an instruction cut by the function's end */
    static const uint8_t cut[] = { 0x53, 0x48, 0x83, 0xEC, 0x20, 0xB8, 0x01 };
    p = analyze(false, cut, sizeof cut);
    ck_assert_int_eq(p.verdict, HP_TRAMP_UNDECODABLE);
}
END_TEST

START_TEST(bad_input)
{
    hp_tramp_plan p;
    static const uint8_t f[] = { 0xC3 };
    ck_assert_int_eq(hp_tramp_analyze(true, NULL, 1, RVA, NULL, 0, &p), HP_E_ARG);
    ck_assert_int_eq(hp_tramp_analyze(true, f, 1, RVA, NULL, 0, NULL), HP_E_ARG);
    ck_assert_str_eq(hp_tramp_verdict_name(HP_TRAMP_VERDICT_COUNT), "?");
}
END_TEST

/* A branch into the range from another fragment of the same function is seen too. */
START_TEST(branch_from_a_fragment)
{
    static const uint8_t f[] = { 0x53, 0x48, 0x83, 0xEC, 0x20, 0x5B, 0xC3 };
    /* jmp rel32 at 0x2000 to RVA + 2 */
    uint8_t cold[5] = { 0xE9 };
    int32_t rel = (int32_t)(RVA + 2 - (0x2000 + 5));
    memcpy(cold + 1, &rel, 4);
    hp_tramp_frag fr = { cold, 0x2000, sizeof cold };
    hp_tramp_plan p;
    ck_assert_int_eq(hp_tramp_analyze(true, f, sizeof f, RVA, &fr, 1, &p), HP_OK);
    ck_assert_int_eq(p.verdict, HP_TRAMP_BRANCH_INTO);
    ck_assert_uint_eq(p.at, 0x2000);
    ck_assert_int_eq(hp_tramp_analyze(true, f, sizeof f, RVA, NULL, 0, &p), HP_OK);
    ck_assert_int_eq(p.verdict, HP_TRAMP_MOVABLE);
}
END_TEST

/* Bounds from an image: .pdata with a chained cold fragment (x64), a leaf function without
 * unwind data ended by the next entry, and an RVA that is not code. */
START_TEST(examine_image_bounds)
{
    static uint8_t code[0x100];
    memset(code, 0xCC, sizeof code);
    static const uint8_t a[] = { 0x53, 0x48, 0x83, 0xEC, 0x20, 0x48, 0x83, 0xC4, 0x20, 0x5B, 0xC3 };
    static const uint8_t b[] = { 0x31, 0xC0, 0x48, 0xFF, 0xC0, 0xC3 };
    memcpy(code, a, sizeof a);
    memcpy(code + 0x40, b, sizeof b);
    dirimg d;
    dirimg_begin(&d, MKPE_X64);
    d.spec.sections[d.text].data = code;
    d.spec.sections[d.text].data_size = sizeof code;
    /* the cold part of A at 0x80: jmp A + 2 */
    code[0x80] = 0xE9;
    int32_t rel = (int32_t)(dirimg_code(&d, 2) - (dirimg_code(&d, 0x80) + 5));
    memcpy(code + 0x81, &rel, 4);
    uint32_t unwind = mkpe_blob_u32(&d.b, 0x00000001);
    uint32_t chained = mkpe_blob_u32(&d.b, 0x00000021); /* version 1, UNW_FLAG_CHAININFO */
    mkpe_blob_u32(&d.b, dirimg_code(&d, 0));
    mkpe_blob_u32(&d.b, dirimg_code(&d, 0x10));
    mkpe_blob_u32(&d.b, unwind);
    uint32_t rf[2][3] = { { dirimg_code(&d, 0x80), dirimg_code(&d, 0x85), chained },
                          { dirimg_code(&d, 0), dirimg_code(&d, 0x10), unwind } };
    uint32_t pdata = mkpe_blob_zero(&d.b, sizeof rf);
    for (unsigned i = 0; i < 2; i++)
        for (unsigned k = 0; k < 3; k++)
            mkpe_blob_put32(&d.b, pdata + 12 * i + 4 * k, rf[i][k]);
    mkpe_set_dir(&d.spec, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION, pdata, sizeof rf);
    dirimg_build(&d, HP_PE_LAYOUT_FILE);

    const uint32_t entries[] = { dirimg_code(&d, 0x48), dirimg_code(&d, 0x40), dirimg_code(&d, 0),
                                 dirimg_code(&d, 0x40) };
    hp_tramp_image ti;
    ck_assert_int_eq(hp_tramp_image_init(&ti, &d.pe, &d.arena, entries, 4), HP_OK);
    ck_assert_uint_eq(ti.nentries, 3);
    hp_tramp_plan p;
    ck_assert_int_eq(hp_tramp_examine(&ti, &d.arena, dirimg_code(&d, 0), &p), HP_OK);
    ck_assert_str_eq(hp_tramp_verdict_name(p.verdict), "branch-into");
    ck_assert_uint_eq(p.at, dirimg_code(&d, 0x80));
    ck_assert_int_eq(hp_tramp_examine(&ti, &d.arena, dirimg_code(&d, 0x40), &p), HP_OK);
    ck_assert_int_eq(p.verdict, HP_TRAMP_MOVABLE);
    ck_assert_uint_eq(p.len, 5);
    /* .rdata is not code */
    ck_assert_int_eq(hp_tramp_examine(&ti, &d.arena, d.b.rva, &p), HP_OK);
    ck_assert_int_eq(p.verdict, HP_TRAMP_UNDECODABLE);
    ck_assert_int_eq(hp_tramp_examine(NULL, &d.arena, 0, &p), HP_E_ARG);
    dirimg_end(&d);
}
END_TEST

static Suite *tramp_suite(void)
{
    Suite *s = suite_create("tramp");
    TCase *tc = tcase_create("analyze");
    tcase_add_test(tc, x64_prologue_moves);
    tcase_add_test(tc, x64_rip_relative_moves_with_its_recipe);
    tcase_add_test(tc, x86_frame_and_call_move);
    tcase_add_test(tc, short_branch_in_range);
    tcase_add_test(tc, flow_ends_inside_range);
    tcase_add_test(tc, branch_into_range_is_refused);
    tcase_add_test(tc, too_short);
    tcase_add_test(tc, undecodable);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, branch_from_a_fragment);
    tcase_add_test(tc, examine_image_bounds);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(tramp_suite)
