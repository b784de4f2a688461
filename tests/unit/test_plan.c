/* hotpe: the one site plan (engine/plan.c): the pad-length rule, the bytes of each form checked
 * by decoding them with Zydis, aux placement in shared blocks, and a planned site committed on
 * the fake process. The shim links the same functions. */
#include <string.h>

#include "decode.h"
#include "harness.h"
#include "hotpe/engine/plan.h"
#include "hotpe/engine/proc.h"
#include "hotpe/pe/insn.h"

START_TEST(pad_length_rule)
{
    hp_plan_form f;
    ck_assert_int_eq(hp_plan_form_for(false, 4, &f), HP_E_SITE_NOT_PATCHABLE);
    ck_assert_int_eq(hp_plan_form_for(true, 4, &f), HP_E_SITE_NOT_PATCHABLE);
    ck_assert_int_eq(hp_plan_form_for(false, 5, &f), HP_OK);
    ck_assert_int_eq(f, HP_PLAN_X86_JMP);
    ck_assert_int_eq(hp_plan_form_for(false, 64, &f), HP_OK);
    ck_assert_int_eq(f, HP_PLAN_X86_JMP);
    ck_assert_int_eq(hp_plan_form_for(true, 5, &f), HP_OK);
    ck_assert_int_eq(f, HP_PLAN_X64_STUB);
    ck_assert_int_eq(hp_plan_form_for(true, 6, &f), HP_OK);
    ck_assert_int_eq(f, HP_PLAN_X64_IND);
    ck_assert_int_eq(hp_plan_form_for(true, 32, &f), HP_OK);
    ck_assert_int_eq(f, HP_PLAN_X64_IND);
    ck_assert_int_eq(hp_plan_form_for(true, 32, NULL), HP_E_ARG);

    /* read backwards from a padding hook's length */
    ck_assert_int_eq(hp_plan_form_of_hook(false, 5, &f), HP_OK);
    ck_assert_int_eq(f, HP_PLAN_X86_JMP);
    ck_assert_int_eq(hp_plan_form_of_hook(true, 5, &f), HP_OK);
    ck_assert_int_eq(f, HP_PLAN_X64_STUB);
    ck_assert_int_eq(hp_plan_form_of_hook(true, 6, &f), HP_OK);
    ck_assert_int_eq(f, HP_PLAN_X64_IND);
    ck_assert_int_eq(hp_plan_form_of_hook(false, 6, &f), HP_E_LIVE_HOOKS);
    ck_assert_int_eq(hp_plan_form_of_hook(true, 7, &f), HP_E_LIVE_HOOKS);

    ck_assert_uint_eq(hp_plan_pad_len(HP_PLAN_X86_JMP), 5);
    ck_assert_uint_eq(hp_plan_pad_len(HP_PLAN_X64_IND), 6);
    ck_assert_uint_eq(hp_plan_pad_len(HP_PLAN_X64_STUB), 5);
    ck_assert_uint_eq(hp_plan_aux_len(HP_PLAN_X86_JMP), 0);
    ck_assert_uint_eq(hp_plan_aux_len(HP_PLAN_X64_IND), 8);
    ck_assert_uint_eq(hp_plan_aux_len(HP_PLAN_X64_STUB), 14);
    ck_assert_uint_eq(hp_plan_pad_len((hp_plan_form)0), 0);
}
END_TEST

/* Each form, checked by decoding what it would write. */
START_TEST(bytes_of_each_form)
{
    hp_txn_site t;
    uint64_t dest;

    /* x86: E9 rel32 at entry-5 to the replacement, EB F9 at the entry, no aux */
    hp_plan_site x86 = { HP_PLAN_X86_JMP, 0x10001030u, 0x20000000u, 0 };
    ck_assert_int_eq(hp_plan_make(&x86, &t), HP_OK);
    ck_assert_uint_eq(t.entry, 0x10001030u);
    ck_assert_uint_eq(t.pad_addr, 0x10001030u - 5);
    ck_assert_uint_eq(t.pad_len, 5);
    ck_assert_uint_eq(t.aux_len, 0);
    hp_test_jump_target(false, t.new_pad, 5, t.pad_addr, ZYDIS_MNEMONIC_JMP, &dest);
    ck_assert_uint_eq(dest, 0x20000000u);
    ck_assert_int_eq(t.new_entry[0], 0xEB);
    ck_assert_int_eq(t.new_entry[1], 0xF9);
    hp_test_jump_target(false, t.new_entry, 2, t.entry, ZYDIS_MNEMONIC_JMP, &dest);
    ck_assert_uint_eq(dest, t.pad_addr);
    /* the 32-bit displacement wraps as the CPU's does: every target is reachable */
    x86.replacement = 0xFFFF0000u;
    ck_assert_int_eq(hp_plan_make(&x86, &t), HP_OK);
    hp_test_jump_target(false, t.new_pad, 5, t.pad_addr, ZYDIS_MNEMONIC_JMP, &dest);
    ck_assert_uint_eq(dest, 0xFFFF0000u);

    /* x64 slot: FF 25 through the slot, which holds the replacement; EB F8 */
    const uint64_t entry = 0x180001030ull, aux = 0x17fff0000ull, repl = 0x7ff612345670ull;
    hp_plan_site ind = { HP_PLAN_X64_IND, entry, repl, aux };
    ck_assert_int_eq(hp_plan_make(&ind, &t), HP_OK);
    ck_assert_uint_eq(t.pad_len, 6);
    hp_test_jump_target(true, t.new_pad, 6, t.pad_addr, ZYDIS_MNEMONIC_JMP, &dest);
    ck_assert_uint_eq(dest, aux);
    ck_assert_uint_eq(t.aux_addr, aux);
    ck_assert_uint_eq(t.aux_len, 8);
    uint64_t slot = 0;
    for (unsigned i = 0; i < 8; i++)
        slot |= (uint64_t)t.aux[i] << (8 * i);
    ck_assert_uint_eq(slot, repl);
    ck_assert_int_eq(t.new_entry[1], 0xF8);
    hp_test_jump_target(true, t.new_entry, 2, entry, ZYDIS_MNEMONIC_JMP, &dest);
    ck_assert_uint_eq(dest, entry - 6);

    /* x64 stub: E9 to the stub, the stub FF 25 [rip+0] with the replacement after it */
    hp_plan_site stub = { HP_PLAN_X64_STUB, entry, repl, aux };
    ck_assert_int_eq(hp_plan_make(&stub, &t), HP_OK);
    ck_assert_uint_eq(t.pad_len, 5);
    hp_test_jump_target(true, t.new_pad, 5, t.pad_addr, ZYDIS_MNEMONIC_JMP, &dest);
    ck_assert_uint_eq(dest, aux);
    ck_assert_uint_eq(t.aux_len, 14);
    hp_test_jump_target(true, t.aux, 6, aux, ZYDIS_MNEMONIC_JMP, &dest);
    ck_assert_uint_eq(dest, aux + 6);
    uint64_t target = 0;
    for (unsigned i = 0; i < 8; i++)
        target |= (uint64_t)t.aux[6 + i] << (8 * i);
    ck_assert_uint_eq(target, repl);
    ck_assert_int_eq(t.new_entry[1], 0xF9);
}
END_TEST

START_TEST(entry_forms)
{
    ck_assert_int_eq(hp_plan_entry_form(false), HP_PLAN_X86_ENTRY);
    ck_assert_int_eq(hp_plan_entry_form(true), HP_PLAN_X64_ENTRY);
    ck_assert(hp_plan_form_is_entry(HP_PLAN_X64_ENTRY) && !hp_plan_form_is_entry(HP_PLAN_X64_STUB));
    ck_assert_uint_eq(hp_plan_pad_len(HP_PLAN_X86_ENTRY), 0);
    ck_assert_uint_eq(hp_plan_entry_len(HP_PLAN_X86_ENTRY), 5);
    ck_assert_uint_eq(hp_plan_entry_len(HP_PLAN_X86_JMP), 2);
    ck_assert_uint_eq(hp_plan_aux_len(HP_PLAN_X64_ENTRY), 14);
    ck_assert_uint_eq(hp_plan_aux_len(HP_PLAN_X86_ENTRY), 0);
    hp_txn_site t;
    /* x86: E9 rel32 at the entry, straight to the replacement */
    hp_plan_site x86 = { HP_PLAN_X86_ENTRY, 0x401000, 0x10001000, 0 };
    ck_assert_int_eq(hp_plan_make(&x86, &t), HP_OK);
    static const uint8_t e9[] = { 0xE9, 0xFB, 0xFF, 0xBF, 0x0F }; /* 0x10001000 - 0x401005 */
    ck_assert_int_eq(memcmp(t.new_entry, e9, 5), 0);
    ck_assert_uint_eq(t.pad_addr, 0x401000);
    ck_assert_uint_eq(t.new_to, 0x10001000);
    /* x64: E9 to the stub, the stub FF 25 0 + the replacement */
    hp_plan_site x64 = { HP_PLAN_X64_ENTRY, 0x140001000, 0x7ff000001000, 0x140002000 };
    ck_assert_int_eq(hp_plan_make(&x64, &t), HP_OK);
    static const uint8_t to_stub[] = { 0xE9, 0xFB, 0x0F, 0x00, 0x00 };
    ck_assert_int_eq(memcmp(t.new_entry, to_stub, 5), 0);
    ck_assert_uint_eq(t.aux_len, 14);
    ck_assert_uint_eq(t.aux[0], 0xFF);
    ck_assert_uint_eq(t.aux[1], 0x25);
    /* no stub: refused; a stub out of reach: refused */
    x64.aux = 0;
    ck_assert_int_eq(hp_plan_make(&x64, &t), HP_E_ARG);
    x64.aux = 0x240002000;
    ck_assert_int_eq(hp_plan_make(&x64, &t), HP_E_INSN_RANGE);
}
END_TEST

START_TEST(refusals)
{
    hp_txn_site t;
    const uint64_t entry = 0x180001030ull;
    /* the aux must be within reach of the padding jump */
    hp_plan_site far = { HP_PLAN_X64_IND, entry, 0, entry + 0x100000000ull };
    ck_assert_int_eq(hp_plan_make(&far, &t), HP_E_INSN_RANGE);
    far.form = HP_PLAN_X64_STUB;
    ck_assert_int_eq(hp_plan_make(&far, &t), HP_E_INSN_RANGE);
    /* x64 needs its aux; an unknown form is refused */
    hp_plan_site none = { HP_PLAN_X64_IND, entry, 0, 0 };
    ck_assert_int_eq(hp_plan_make(&none, &t), HP_E_ARG);
    none.form = (hp_plan_form)9;
    ck_assert_int_eq(hp_plan_make(&none, &t), HP_E_ARG);
    ck_assert_int_eq(hp_plan_make(NULL, &t), HP_E_ARG);
    /* an entry with no room for the padding before it; an x86 address past 4 GiB */
    hp_plan_site low = { HP_PLAN_X86_JMP, 3, 0x1000, 0 };
    ck_assert_int_eq(hp_plan_make(&low, &t), HP_E_OVERFLOW);
    hp_plan_site high = { HP_PLAN_X86_JMP, 0x100001000ull, 0x1000, 0 };
    ck_assert_int_eq(hp_plan_make(&high, &t), HP_E_OVERFLOW);
}
END_TEST

/* 10,000 x64 sites share blocks of 4096 cells near them: 3 allocations, not 10,000; every
 * aux distinct, 16-byte cells, in reach; x86 sites get none; abort frees the blocks. */
START_TEST(place_shares_blocks)
{
    enum { N = 10000 };
    hp_proc proc;
    hp_proc_fake *fake;
    hp_arena arena = HP_ARENA_INIT;
    ck_assert_int_eq(hp_proc_fake_open(&proc, &fake, true), HP_OK);
    size_t regions = hp_proc_fake_region_count(fake);
    hp_plan_site *sites = hp_arena_array(&arena, N, sizeof *sites);
    ck_assert_ptr_nonnull(sites);
    for (uint32_t i = 0; i < N; i++) {
        sites[i].form = i % 2 ? HP_PLAN_X64_IND : HP_PLAN_X64_STUB;
        sites[i].entry = 0x140001000ull + 64ull * i;
    }
    hp_txn txn;
    ck_assert_int_eq(hp_txn_begin(&txn, &proc, &arena), HP_OK);
    uint64_t *blocks = NULL;
    uint32_t nblocks = 0;
    ck_assert_int_eq(hp_plan_place(&txn, &arena, sites, N, &blocks, &nblocks), HP_OK);
    ck_assert_uint_eq(nblocks, 3);
    ck_assert_uint_eq(hp_proc_fake_region_count(fake), regions + 3);
    ck_assert_uint_eq(hp_proc_fake_ops(fake, HP_FAKE_OP_ALLOC), 3);
    for (uint32_t i = 0; i < N; i++) {
        ck_assert_uint_ne(sites[i].aux, 0);
        ck_assert_uint_eq(sites[i].aux % HP_PLAN_AUX_CELL, 0);
        ck_assert_uint_eq(sites[i].aux, blocks[i / 4096] + (uint64_t)(i % 4096) * HP_PLAN_AUX_CELL);
        hp_txn_site t;
        ck_assert_int_eq(hp_plan_make(&sites[i], &t), HP_OK);
    }
    ck_assert_int_eq(hp_txn_abort(&txn), HP_OK);
    ck_assert_uint_eq(hp_proc_fake_region_count(fake), regions);

    /* x86: nothing to place */
    for (uint32_t i = 0; i < 10; i++)
        sites[i].form = HP_PLAN_X86_JMP;
    ck_assert_int_eq(hp_txn_begin(&txn, &proc, &arena), HP_OK);
    ck_assert_int_eq(hp_plan_place(&txn, &arena, sites, 10, &blocks, &nblocks), HP_OK);
    ck_assert_uint_eq(nblocks, 0);
    ck_assert_uint_eq(sites[3].aux, 0);
    ck_assert_int_eq(hp_txn_abort(&txn), HP_OK);
    hp_proc_close(&proc);
    hp_arena_free(&arena);
}
END_TEST

/* A site planned, its current bytes expected, committed: memory holds the plan's bytes and the
 * journal the bytes before. */
START_TEST(planned_site_commits)
{
    const uint64_t code = 0x140001000ull;
    hp_proc proc;
    hp_proc_fake *fake;
    hp_arena arena = HP_ARENA_INIT;
    ck_assert_int_eq(hp_proc_fake_open(&proc, &fake, true), HP_OK);
    uint8_t mem[0x100];
    memset(mem, 0xCC, sizeof mem);
    static const uint8_t lea[] = { 0x48, 0x8D, 0xA4, 0x24, 0, 0, 0, 0, 0xC3 };
    memcpy(mem + 0x40, lea, sizeof lea);
    ck_assert_int_eq(hp_proc_fake_map(fake, code, sizeof mem, HP_FAKE_R | HP_FAKE_X, mem), HP_OK);

    hp_txn txn;
    hp_txn_site t;
    hp_plan_site ps = { .entry = code + 0x40, .replacement = 0x150002000ull };
    ck_assert_int_eq(hp_plan_form_for(true, 32, &ps.form), HP_OK);
    ck_assert_int_eq(hp_txn_begin(&txn, &proc, &arena), HP_OK);
    ck_assert_int_eq(hp_plan_place(&txn, &arena, &ps, 1, NULL, NULL), HP_OK);
    ck_assert_int_eq(hp_plan_make(&ps, &t), HP_OK);
    ck_assert_int_eq(hp_plan_expect_current(&proc, &t), HP_OK);
    ck_assert_int_eq(t.old_pad[0], 0xCC);
    ck_assert_int_eq(t.old_entry[0], 0x48);
    ck_assert_int_eq(hp_txn_stage_site(&txn, &t), HP_OK);
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);

    const uint8_t *now = hp_proc_fake_mem(fake, t.pad_addr, 8);
    ck_assert_int_eq(memcmp(now, t.new_pad, 6), 0);
    ck_assert_int_eq(memcmp(now + 6, t.new_entry, 2), 0);
    ck_assert_int_eq(memcmp(hp_proc_fake_mem(fake, ps.aux, 8), t.aux, 8), 0);
    ck_assert_uint_eq(r.nsites, 1);
    ck_assert_int_eq(memcmp(r.journal[0].old_entry, lea, 2), 0);
    hp_proc_close(&proc);
    hp_arena_free(&arena);
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, pad_length_rule);
    tcase_add_test(tc, bytes_of_each_form);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, entry_forms);
    tcase_add_test(tc, place_shares_blocks);
    tcase_add_test(tc, planned_site_commits);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(plan_suite)
