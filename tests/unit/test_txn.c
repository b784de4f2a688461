/* hotpe: the transaction (engine/txn.c) on the fake process back-end (engine/proc_fake.c). */
#include <stdio.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "harness.h"
#include "hotpe/pe/insn.h"
#include "hotpe/engine/proc.h"
#include "hotpe/engine/plan.h"
#include "hotpe/engine/txn.h"

#define CODE 0x140001000ull
#define CODE_SIZE 0x1000u
#define REPL_A 0x150002000ull  /* replacement functions: never run, only jumped to */
#define REPL_B 0x150003010ull
#define FAR_IP 0x140001800ull  /* where an idle thread sits */
#define X86_CODE 0x00401000ull

/* x64: site A (16 CC of padding, 48 8D A4 24 ... prologue: slot form), site B (5 CC after a
 * ret: stub form). x86: site C (5 x 90, then 8B FF). */
enum { A_ENTRY = 0x40, B_ENTRY = 0x80, C_ENTRY = 0x20 };

typedef struct world {
    hp_proc proc;
    hp_proc_fake *fake;
    hp_arena arena;
    uint8_t before[CODE_SIZE];
    size_t regions_before;
} world;

static void world_x64(world *w)
{
    memset(w, 0, sizeof *w);
    ck_assert_int_eq(hp_proc_fake_open(&w->proc, &w->fake, true), HP_OK);
    uint8_t code[CODE_SIZE];
    memset(code, 0xCC, sizeof code);
    static const uint8_t lea[] = { 0x48, 0x8D, 0xA4, 0x24, 0, 0, 0, 0, 0x31, 0xC0, 0xC3 };
    memcpy(code + A_ENTRY, lea, sizeof lea);
    code[B_ENTRY - 6] = 0xC3;
    static const uint8_t b[] = { 0x66, 0x90, 0xB8, 1, 0, 0, 0, 0xC3 };
    memcpy(code + B_ENTRY, b, sizeof b);
    ck_assert_int_eq(hp_proc_fake_map(w->fake, CODE, CODE_SIZE, HP_FAKE_R | HP_FAKE_X, code), HP_OK);
    ck_assert_int_eq(hp_proc_fake_thread(w->fake, FAR_IP, 0, 0), HP_OK);
    memcpy(w->before, code, sizeof code);
    w->regions_before = hp_proc_fake_region_count(w->fake);
}

static void world_x86(world *w)
{
    memset(w, 0, sizeof *w);
    ck_assert_int_eq(hp_proc_fake_open(&w->proc, &w->fake, false), HP_OK);
    uint8_t code[CODE_SIZE];
    memset(code, 0xCC, sizeof code);
    memset(code + C_ENTRY - 5, 0x90, 5);
    static const uint8_t c[] = { 0x8B, 0xFF, 0x55, 0x8B, 0xEC, 0x5D, 0xC3 };
    memcpy(code + C_ENTRY, c, sizeof c);
    ck_assert_int_eq(hp_proc_fake_map(w->fake, X86_CODE, CODE_SIZE, HP_FAKE_R | HP_FAKE_X, code), HP_OK);
    memcpy(w->before, code, sizeof code);
    w->regions_before = hp_proc_fake_region_count(w->fake);
}

static void world_free(world *w)
{
    hp_proc_close(&w->proc);
    hp_arena_free(&w->arena);
}

/* Memory and threads exactly as world_*() left them. */
static void assert_untouched(world *w, uint64_t base)
{
    uint8_t *now = hp_proc_fake_mem(w->fake, base, CODE_SIZE);
    ck_assert_ptr_nonnull(now);
    ck_assert_int_eq(memcmp(now, w->before, CODE_SIZE), 0);
    ck_assert_uint_eq(hp_proc_fake_region_count(w->fake), w->regions_before);
    ck_assert(!hp_proc_fake_frozen(w->fake));
}

/* Plan a site with plan.h, as the shim does: form, aux placed, bytes. What is there now is read
 * from the fake directly, so that the fault walks count the transaction's operations only. */
static hp_status plan_site(hp_txn *txn, world *w, bool x64, uint64_t base, uint32_t rva,
                           uint8_t padding, uint64_t repl, hp_txn_site *out)
{
    hp_plan_site ps = { .entry = base + rva, .replacement = repl };
    HP_CHECK(hp_plan_form_for(x64, padding, &ps.form));
    HP_CHECK(hp_plan_place(txn, &w->arena, &ps, 1, NULL, NULL));
    HP_CHECK(hp_plan_make(&ps, out));
    const uint8_t *now = hp_proc_fake_mem(w->fake, out->pad_addr, out->pad_len + 2u);
    ck_assert_ptr_nonnull(now);
    memcpy(out->old_pad, now, out->pad_len);
    memcpy(out->old_entry, now + out->pad_len, 2);
    return HP_OK;
}

/* Stage sites A and B (x64). */
static hp_status stage_ab(hp_txn *txn, world *w, hp_txn_site sites[2])
{
    HP_CHECK(plan_site(txn, w, true, CODE, A_ENTRY, 16, REPL_A, &sites[0]));
    HP_CHECK(plan_site(txn, w, true, CODE, B_ENTRY, 5, REPL_B, &sites[1]));
    HP_CHECK(hp_txn_stage_site(txn, &sites[0]));
    return hp_txn_stage_site(txn, &sites[1]);
}

/* Decode one jump at addr in the fake and return its destination (through memory for FF 25). */
static uint64_t jump_dest(world *w, bool x64, uint64_t addr, ZydisMnemonic *mn, uint8_t *len)
{
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, x64 ? ZYDIS_MACHINE_MODE_LONG_64 : ZYDIS_MACHINE_MODE_LEGACY_32,
                     x64 ? ZYDIS_STACK_WIDTH_64 : ZYDIS_STACK_WIDTH_32);
    const uint8_t *code = hp_proc_fake_mem(w->fake, addr, 16);
    ck_assert_ptr_nonnull(code);
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code, 16, &insn, ops)));
    *mn = insn.mnemonic;
    *len = insn.length;
    ZyanU64 dest = 0;
    ck_assert(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn, &ops[0], addr, &dest)));
    if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
        const uint8_t *slot = hp_proc_fake_mem(w->fake, dest, 8);
        ck_assert_ptr_nonnull(slot);
        uint64_t v = 0;
        for (unsigned i = 0; i < 8; i++)
            v |= (uint64_t)slot[i] << (8 * i);
        return v;
    }
    return dest;
}

START_TEST(commit_x64_plan)
{
    world w;
    world_x64(&w);
    hp_txn txn;
    hp_txn_site sites[2];
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
    ck_assert(r.froze);
    ck_assert_uint_eq(r.freeze_attempts, 1);
    ck_assert_uint_eq(r.threads, 1);
    ck_assert(!hp_proc_fake_frozen(w.fake));
    /* confined once, and released while still frozen: no thread runs confined afterwards */
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_CONFINE), 1);
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_RELEASE), 1);
    ck_assert(!hp_proc_fake_confined(w.fake));
    ck_assert_uint_eq(hp_proc_fake_thaws_confined(w.fake), 0);
    ck_assert_uint_eq(r.nsites, 2);
    ck_assert(r.ns_window > 0 && r.ns_write > 0 && r.ns_validate > 0);

    ZydisMnemonic mn;
    uint8_t len;
    /* A: EB -> padding; FF 25 -> slot holding REPL_A */
    ck_assert_uint_eq(jump_dest(&w, true, CODE + A_ENTRY, &mn, &len), CODE + A_ENTRY - 6);
    ck_assert_int_eq(mn, ZYDIS_MNEMONIC_JMP);
    ck_assert_uint_eq(len, 2);
    ck_assert_uint_eq(jump_dest(&w, true, CODE + A_ENTRY - 6, &mn, &len), REPL_A);
    ck_assert_uint_eq(len, 6);
    /* B: EB -> padding; E9 -> stub; stub FF 25 [rip+0] -> REPL_B */
    ck_assert_uint_eq(jump_dest(&w, true, CODE + B_ENTRY, &mn, &len), CODE + B_ENTRY - 5);
    uint64_t stub = jump_dest(&w, true, CODE + B_ENTRY - 5, &mn, &len);
    ck_assert_uint_eq(len, 5);
    ck_assert_uint_eq(stub, sites[1].aux_addr);
    ck_assert_uint_eq(jump_dest(&w, true, stub, &mn, &len), REPL_B);

    /* everything else is untouched, the journal holds the old bytes, protections restored */
    uint8_t *now = hp_proc_fake_mem(w.fake, CODE, CODE_SIZE);
    for (unsigned i = 0; i < CODE_SIZE; i++) {
        bool a = i >= A_ENTRY - 6 && i < A_ENTRY + 2, b = i >= B_ENTRY - 5 && i < B_ENTRY + 2;
        if (!a && !b)
            ck_assert_uint_eq(now[i], w.before[i]);
    }
    ck_assert_int_eq(memcmp(r.journal[0].old_pad, w.before + A_ENTRY - 6, 6), 0);
    ck_assert_int_eq(memcmp(r.journal[0].old_entry, w.before + A_ENTRY, 2), 0);
    ck_assert_int_eq(memcmp(r.journal[1].old_pad, w.before + B_ENTRY - 5, 5), 0);
    ck_assert_int_eq(hp_proc_fake_prot(w.fake, CODE), HP_FAKE_R | HP_FAKE_X);
    ck_assert_int_eq(hp_proc_fake_prot(w.fake, stub), HP_FAKE_R | HP_FAKE_X);
    /* the entries were written by one 2-byte store each */
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_STORE2), 2);
    world_free(&w);
}
END_TEST

START_TEST(commit_x86_and_revert)
{
    world w;
    world_x86(&w);
    hp_txn txn;
    hp_txn_site site;
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(plan_site(&txn, &w, false, X86_CODE, C_ENTRY, 5, 0x10002000u, &site), HP_OK);
    ck_assert_int_eq(hp_txn_stage_site(&txn, &site), HP_OK);
    hp_txn_options o = { .no_freeze = true };
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
    ck_assert(r.froze); /* padding of 90 may be executing: always freeze */
    ZydisMnemonic mn;
    uint8_t len;
    ck_assert_uint_eq(jump_dest(&w, false, X86_CODE + C_ENTRY, &mn, &len), X86_CODE + C_ENTRY - 5);
    ck_assert_uint_eq(jump_dest(&w, false, X86_CODE + C_ENTRY - 5, &mn, &len), 0x10002000u);
    ck_assert_uint_eq(len, 5);

    hp_txn_site j = r.journal[0];
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(hp_txn_stage_revert(&txn, &j), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
    ck_assert(r.froze);
    assert_untouched(&w, X86_CODE);
    /* revert again: the bytes are no longer the patched ones */
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(hp_txn_stage_revert(&txn, &j), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_E_TXN_VALIDATION);
    world_free(&w);
}
END_TEST

START_TEST(revert_x64)
{
    world w;
    world_x64(&w);
    hp_txn txn;
    hp_txn_site sites[2];
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
    hp_txn_site j[2] = { r.journal[0], r.journal[1] };
    unsigned stores = hp_proc_fake_ops(w.fake, HP_FAKE_OP_STORE2);
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(hp_txn_stage_revert(&txn, &j[0]), HP_OK);
    ck_assert_int_eq(hp_txn_stage_revert(&txn, &j[1]), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_STORE2), stores + 2);
    /* the code is back; the slot and stub stay the caller's until it frees them */
    uint8_t *now = hp_proc_fake_mem(w.fake, CODE, CODE_SIZE);
    ck_assert_int_eq(memcmp(now, w.before, CODE_SIZE), 0);
    ck_assert_int_eq(hp_proc_free(&w.proc, j[0].aux_addr), HP_OK);
    ck_assert_int_eq(hp_proc_free(&w.proc, j[1].aux_addr), HP_OK);
    assert_untouched(&w, CODE);
    world_free(&w);
}
END_TEST

START_TEST(validation_mismatch)
{
    world w;
    world_x64(&w);
    hp_txn txn;
    hp_txn_site sites[2];
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
    /* someone changed site B's entry after planning */
    uint8_t *b = hp_proc_fake_mem(w.fake, CODE + B_ENTRY + 1, 1);
    *b = 0x91;
    w.before[B_ENTRY + 1] = 0x91;
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_E_TXN_VALIDATION);
    ck_assert_uint_eq(r.failed_site, 1);
    ck_assert_int_eq(r.failed_step, HP_TXN_STEP_VALIDATE);
    ck_assert_str_eq(hp_txn_step_name(r.failed_step), "validate");
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_WRITE), 0);
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_STORE2), 0);
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_FREEZE), 0);
    assert_untouched(&w, CODE); /* the slot and stub were released too */
    world_free(&w);
}
END_TEST

/* A thread parked in bytes about to change: retries, then busy, nothing written. */
START_TEST(busy_refuses)
{
    static const int64_t where[] = { A_ENTRY - 6, A_ENTRY - 1, A_ENTRY + 1, B_ENTRY - 5 };
    for (unsigned k = 0; k < sizeof where / sizeof *where; k++) {
        world w;
        world_x64(&w);
        ck_assert_int_eq(hp_proc_fake_thread(w.fake, CODE + (uint64_t)where[k], 0, 0), HP_OK);
        hp_txn txn;
        hp_txn_site sites[2];
        ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
        ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
        hp_txn_options o = { .max_retries = 3 };
        hp_txn_result r;
        ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_E_TXN_BUSY);
        ck_assert_uint_eq(r.failed_site, where[k] < B_ENTRY - 8 ? 0 : 1);
        ck_assert_int_eq(r.failed_step, HP_TXN_STEP_THREADS);
        ck_assert_uint_eq(r.freeze_attempts, 4);
        ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_THAW), 4);
        ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_WRITE), 0);
        /* confinement lasts across the retries and ends with the refusal */
        ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_CONFINE), 1);
        ck_assert_uint_eq(hp_proc_fake_thaws_confined(w.fake), 4);
        ck_assert(!hp_proc_fake_confined(w.fake));
        assert_untouched(&w, CODE);
        world_free(&w);
    }
}
END_TEST

/* A thread about to run an entry's first instruction: written over at once, both ways. */
START_TEST(ip_at_entry_not_busy)
{
    world w;
    world_x64(&w);
    ck_assert_int_eq(hp_proc_fake_thread(w.fake, CODE + A_ENTRY, 0, 0), HP_OK);
    ck_assert_int_eq(hp_proc_fake_thread(w.fake, CODE + B_ENTRY, 0, 0), HP_OK);
    hp_txn txn;
    hp_txn_site sites[2];
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
    ck_assert_uint_eq(r.freeze_attempts, 1);
    hp_txn_site journal[2];
    memcpy(journal, r.journal, sizeof journal);
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(hp_txn_stage_revert(&txn, &journal[i]), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
    ck_assert_uint_eq(r.freeze_attempts, 1);
    world_free(&w);
}
END_TEST

/* Apply A and B (x64) and return the journal. */
static void applied_ab(world *w, hp_txn_site j[2], hp_txn_site sites[2])
{
    hp_txn txn;
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_begin(&txn, &w->proc, &w->arena), HP_OK);
    ck_assert_int_eq(stage_ab(&txn, w, sites), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
    j[0] = r.journal[0];
    j[1] = r.journal[1];
}

/* A revert with threads on A's padding jump and on B's stub: they are moved on to where those
 * jumps go (the replacements), in the first freeze, and the original bytes come back. */
START_TEST(revert_moves_threads)
{
    world w;
    world_x64(&w);
    hp_txn_site j[2], sites[2];
    applied_ab(&w, j, sites);
    ck_assert_uint_eq(j[0].new_to, REPL_A);
    ck_assert_int_eq(hp_proc_fake_thread(w.fake, CODE + A_ENTRY - 6, 0, 0), HP_OK); /* #1 */
    ck_assert_int_eq(hp_proc_fake_thread(w.fake, sites[1].aux_addr, 0, 0), HP_OK);  /* #2 */
    hp_txn txn;
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(hp_txn_stage_revert(&txn, &j[0]), HP_OK);
    ck_assert_int_eq(hp_txn_stage_revert(&txn, &j[1]), HP_OK);
    ck_assert_int_eq(hp_txn_guard(&txn, sites[1].aux_addr, 16), HP_OK);
    hp_txn_options o = { .max_retries = 2 };
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
    ck_assert_uint_eq(r.freeze_attempts, 1);
    ck_assert_uint_eq(r.moved, 2);
    ck_assert_uint_eq(hp_proc_fake_thread_ip(w.fake, 1), REPL_A);
    ck_assert_uint_eq(hp_proc_fake_thread_ip(w.fake, 2), REPL_B);
    ck_assert_uint_eq(hp_proc_fake_thread_ip(w.fake, 0), FAR_IP);
    ck_assert_int_eq(memcmp(hp_proc_fake_mem(w.fake, CODE, CODE_SIZE), w.before, CODE_SIZE), 0);
    /* the journal of the revert reverts it back: nothing to move with the original bytes */
    ck_assert_uint_eq(r.journal[0].new_to, 0);
    ck_assert_uint_eq(r.journal[0].old_to, REPL_A);
    world_free(&w);
}
END_TEST

/* A superseding apply over A with a thread on A's padding jump: moved to the old replacement
 * (old_to); a fresh site has no old_to, so a thread in its padding is waited for. */
START_TEST(supersede_moves_thread)
{
    world w;
    world_x64(&w);
    hp_txn_site j[2], sites[2];
    applied_ab(&w, j, sites);
    ck_assert_int_eq(hp_proc_fake_thread(w.fake, CODE + A_ENTRY - 6, 0, 0), HP_OK);
    hp_txn txn;
    hp_txn_result r;
    hp_txn_site next;
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(plan_site(&txn, &w, true, CODE, A_ENTRY, 16, REPL_B, &next), HP_OK);
    next.old_to = REPL_A;
    ck_assert_int_eq(hp_txn_stage_site(&txn, &next), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
    ck_assert_uint_eq(r.moved, 1);
    ck_assert_uint_eq(hp_proc_fake_thread_ip(w.fake, 1), REPL_A);
    ZydisMnemonic mn;
    uint8_t len;
    ck_assert_uint_eq(jump_dest(&w, true, CODE + A_ENTRY - 6, &mn, &len), REPL_B);
    world_free(&w);
}
END_TEST

/* A back-end that refuses to move a thread: the commit falls back to waiting for it. */
START_TEST(move_refused_waits)
{
    for (int leaves = 0; leaves < 2; leaves++) {
        world w;
        world_x64(&w);
        hp_txn_site j[2], sites[2];
        applied_ab(&w, j, sites);
        ck_assert_int_eq(hp_proc_fake_thread(w.fake, CODE + A_ENTRY - 6, leaves ? 1 : 0,
                                             leaves ? REPL_A + 4 : 0), HP_OK);
        hp_proc_fake_fail_at(w.fake, HP_FAKE_OP_SET_IP, 1);
        hp_txn txn;
        hp_txn_result r;
        ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
        ck_assert_int_eq(hp_txn_stage_revert(&txn, &j[0]), HP_OK);
        ck_assert_int_eq(hp_txn_stage_revert(&txn, &j[1]), HP_OK);
        hp_txn_options o = { .max_retries = 2 };
        if (leaves) {
            ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
            ck_assert_uint_eq(r.freeze_attempts, 2);
            ck_assert_uint_eq(r.moved, 0);
            ck_assert_uint_eq(hp_proc_fake_thread_ip(w.fake, 1), REPL_A + 4);
            ck_assert_int_eq(memcmp(hp_proc_fake_mem(w.fake, CODE, CODE_SIZE), w.before, CODE_SIZE), 0);
        } else {
            ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_E_TXN_BUSY);
            ck_assert_uint_eq(r.freeze_attempts, 3);
            ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_SET_IP), 1);
        }
        ck_assert(!hp_proc_fake_frozen(w.fake));
        world_free(&w);
    }
}
END_TEST

/* A revert whose stub is to be freed afterwards: a thread still in the stub keeps the commit
 * waiting (the guard), a thread elsewhere does not; the guard also rules out no_freeze. */
START_TEST(guarded_stub)
{
    for (int inside = 0; inside < 2; inside++) {
        world w;
        world_x64(&w);
        hp_txn txn;
        hp_txn_site sites[2];
        hp_txn_result r;
        ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
        ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
        ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
        hp_txn_site j[2] = { r.journal[0], r.journal[1] };
        uint64_t stub = sites[1].aux_addr; /* B's E9 leads here */
        /* the thread ran B's E9 and sits in the stub's jump (inside), or has left it */
        ck_assert_int_eq(hp_proc_fake_thread(w.fake, inside ? stub + 3 : stub + 64, 0, 0), HP_OK);
        ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
        ck_assert_int_eq(hp_txn_stage_revert(&txn, &j[0]), HP_OK);
        ck_assert_int_eq(hp_txn_stage_revert(&txn, &j[1]), HP_OK);
        ck_assert_int_eq(hp_txn_guard(&txn, stub, 16), HP_OK);
        hp_txn_options o = { .max_retries = 2, .no_freeze = true };
        if (inside) {
            ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_E_TXN_BUSY);
            ck_assert_uint_eq(r.failed_site, UINT32_MAX);
            ck_assert_uint_eq(r.freeze_attempts, 3);
        } else {
            ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
            ck_assert(r.froze);
            ck_assert_int_eq(memcmp(hp_proc_fake_mem(w.fake, CODE, CODE_SIZE), w.before, CODE_SIZE), 0);
        }
        world_free(&w);
    }
}
END_TEST

/* Thousands of sites staged: overlaps are still found, whatever the order they come in. */
START_TEST(many_sites_overlap)
{
    enum { N = 20000 };
    world w;
    world_x64(&w);
    hp_txn txn;
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    hp_txn_site t;
    memset(&t, 0, sizeof t);
    t.pad_len = 5;
    t.entry_len = 2;
    for (uint32_t i = 0; i < N; i++) { /* every 12 bytes, from both ends towards the middle */
        uint32_t k = i % 2 ? N - 1 - i / 2 : i / 2;
        t.entry = 0x10000000ull + 12ull * k + 5;
        t.pad_addr = t.entry - 5;
        if (!hp_proc_store2_atomic_ok(t.entry))
            continue;
        ck_assert_int_eq(hp_txn_stage_site(&txn, &t), HP_OK);
    }
    t.entry = 0x10000000ull + 12ull * N + 5 + 2; /* past the last one: free */
    t.pad_addr = t.entry - 5;
    ck_assert_int_eq(hp_txn_stage_site(&txn, &t), HP_OK);
    t.entry = 0x10000000ull + 12ull * 777 + 5 + 8; /* its padding covers site 777's entry */
    t.pad_addr = t.entry - 5;
    ck_assert_int_eq(hp_txn_stage_site(&txn, &t), HP_E_TXN_OVERLAP);
    ck_assert_int_eq(hp_txn_abort(&txn), HP_OK);
    world_free(&w);
}
END_TEST

/* ---- the entry form: E9 rel32 over the first 5 bytes of a function without padding ------ */

/* x64 function D right after a ret (no padding): push rbx; sub rsp, 0x20; xor eax, eax; ... */
enum { D_ENTRY = 0xC1, E_ENTRY = 0x61 };
static const uint8_t d_code[] = { 0xC3, 0x53, 0x48, 0x83, 0xEC, 0x20, 0x31, 0xC0,
                                  0x48, 0x83, 0xC4, 0x20, 0x5B, 0xC3 };

static void world_entry_x64(world *w)
{
    world_x64(w);
    uint8_t *code = hp_proc_fake_mem(w->fake, CODE + D_ENTRY - 1, sizeof d_code);
    memcpy(code, d_code, sizeof d_code);
    memcpy(w->before + D_ENTRY - 1, d_code, sizeof d_code);
}

static hp_status plan_entry(hp_txn *txn, world *w, bool x64, uint64_t entry, uint64_t repl,
                            hp_txn_site *out)
{
    hp_plan_site ps = { .form = hp_plan_entry_form(x64), .entry = entry, .replacement = repl };
    HP_CHECK(hp_plan_place(txn, &w->arena, &ps, 1, NULL, NULL));
    HP_CHECK(hp_plan_make(&ps, out));
    ck_assert_uint_eq(out->pad_len, 0);
    ck_assert_uint_eq(out->entry_len, 5);
    const uint8_t *now = hp_proc_fake_mem(w->fake, entry, 5);
    ck_assert_ptr_nonnull(now);
    memcpy(out->old_entry, now, 5);
    return HP_OK;
}

START_TEST(entry_form_x64_and_revert)
{
    world w;
    world_entry_x64(&w);
    hp_txn txn;
    hp_txn_site site;
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(plan_entry(&txn, &w, true, CODE + D_ENTRY, REPL_A, &site), HP_OK);
    ck_assert_int_eq(hp_txn_stage_site(&txn, &site), HP_OK);
    hp_txn_options o = { .no_freeze = true };
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
    ck_assert(r.froze); /* 5 bytes are never one store: always frozen */
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_STORE2), 0);
    ZydisMnemonic mn;
    uint8_t len;
    uint64_t stub = jump_dest(&w, true, CODE + D_ENTRY, &mn, &len);
    ck_assert_int_eq(mn, ZYDIS_MNEMONIC_JMP);
    ck_assert_uint_eq(len, 5);
    ck_assert_uint_eq(stub, site.aux_addr);
    ck_assert_uint_eq(jump_dest(&w, true, stub, &mn, &len), REPL_A);
    /* only the 5 bytes changed; the journal holds them */
    uint8_t *now = hp_proc_fake_mem(w.fake, CODE, CODE_SIZE);
    for (unsigned i = 0; i < CODE_SIZE; i++)
        if (i < D_ENTRY || i >= D_ENTRY + 5)
            ck_assert_uint_eq(now[i], w.before[i]);
    ck_assert_int_eq(memcmp(r.journal[0].old_entry, w.before + D_ENTRY, 5), 0);

    hp_txn_site j = r.journal[0];
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(hp_txn_stage_revert(&txn, &j), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
    ck_assert(r.froze);
    ck_assert_int_eq(hp_proc_free(&w.proc, j.aux_addr), HP_OK);
    assert_untouched(&w, CODE);
    world_free(&w);
}
END_TEST

/* A thread between the moved instructions' starts (entry + 1: after push rbx) would resume in
 * the middle of the new jump: busy, nothing written. At the entry itself it is not. */
START_TEST(entry_form_busy_inside)
{
    world w;
    world_entry_x64(&w);
    ck_assert_int_eq(hp_proc_fake_thread(w.fake, CODE + D_ENTRY + 1, 0, 0), HP_OK);
    hp_txn txn;
    hp_txn_site site;
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(plan_entry(&txn, &w, true, CODE + D_ENTRY, REPL_A, &site), HP_OK);
    ck_assert_int_eq(hp_txn_stage_site(&txn, &site), HP_OK);
    hp_txn_options o = { .max_retries = 2 };
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_E_TXN_BUSY);
    ck_assert_int_eq(r.failed_step, HP_TXN_STEP_THREADS);
    ck_assert_uint_eq(r.failed_site, 0);
    assert_untouched(&w, CODE);
    world_free(&w);

    world_entry_x64(&w);
    ck_assert_int_eq(hp_proc_fake_thread(w.fake, CODE + D_ENTRY, 0, 0), HP_OK);
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(plan_entry(&txn, &w, true, CODE + D_ENTRY, REPL_A, &site), HP_OK);
    ck_assert_int_eq(hp_txn_stage_site(&txn, &site), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
    world_free(&w);
}
END_TEST

/* x86: E9 straight to the replacement; a write that fails is undone. */
START_TEST(entry_form_x86_undo)
{
    world w;
    world_x86(&w);
    static const uint8_t e[] = { 0xC3, 0x55, 0x89, 0xE5, 0x83, 0xEC, 0x10, 0xC9, 0xC3 };
    memcpy(hp_proc_fake_mem(w.fake, X86_CODE + E_ENTRY - 1, sizeof e), e, sizeof e);
    memcpy(w.before + E_ENTRY - 1, e, sizeof e);
    hp_txn txn;
    hp_txn_site sites[2];
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(plan_entry(&txn, &w, false, X86_CODE + E_ENTRY, 0x10002000u, &sites[0]), HP_OK);
    ck_assert_uint_eq(sites[0].aux_len, 0);
    ck_assert_int_eq(plan_site(&txn, &w, false, X86_CODE, C_ENTRY, 5, 0x10003000u, &sites[1]), HP_OK);
    ck_assert_int_eq(hp_txn_stage_site(&txn, &sites[0]), HP_OK);
    ck_assert_int_eq(hp_txn_stage_site(&txn, &sites[1]), HP_OK);
    /* the second site's entry store fails: the first's 5 bytes come back */
    hp_proc_fake_fail_at(w.fake, HP_FAKE_OP_STORE2, 1);
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_E_PROC_WRITE);
    assert_untouched(&w, X86_CODE);

    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(plan_entry(&txn, &w, false, X86_CODE + E_ENTRY, 0x10002000u, &sites[0]), HP_OK);
    ck_assert_int_eq(hp_txn_stage_site(&txn, &sites[0]), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
    ZydisMnemonic mn;
    uint8_t len;
    ck_assert_uint_eq(jump_dest(&w, false, X86_CODE + E_ENTRY, &mn, &len), 0x10002000u);
    ck_assert_uint_eq(len, 5);
    world_free(&w);
}
END_TEST

START_TEST(busy_then_leaves)
{
    world w;
    world_x64(&w);
    /* inside A's first instruction now, somewhere else after the first thaw */
    ck_assert_int_eq(hp_proc_fake_thread(w.fake, CODE + A_ENTRY + 1, 1, FAR_IP + 16), HP_OK);
    hp_txn txn;
    hp_txn_site sites[2];
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
    ck_assert_uint_eq(r.freeze_attempts, 2);
    ck_assert_uint_eq(r.threads, 2);
    ck_assert(!hp_proc_fake_frozen(w.fake));
    /* the retry's thaw kept the confinement, the last one came after the release */
    ck_assert_uint_eq(hp_proc_fake_thaws_confined(w.fake), 1);
    ck_assert(!hp_proc_fake_confined(w.fake));
    world_free(&w);
}
END_TEST

START_TEST(no_freeze_only_when_fresh)
{
    world w;
    world_x64(&w);
    hp_txn txn;
    hp_txn_site sites[2];
    hp_txn_result r;
    hp_txn_options o = { .no_freeze = true };
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
    ck_assert(!r.froze);
    ck_assert_uint_eq(r.ns_window, 0);
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_FREEZE), 0);
    /* a revert rewrites padding that may be running: it freezes even with no_freeze */
    hp_txn_site j = r.journal[0];
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(hp_txn_stage_revert(&txn, &j), HP_OK);
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
    ck_assert(r.froze);
    ck_assert_uint_eq(hp_proc_fake_ops(w.fake, HP_FAKE_OP_FREEZE), 1);
    world_free(&w);
}
END_TEST

START_TEST(staging_errors)
{
    world w;
    world_x64(&w);
    hp_txn txn;
    hp_txn_site sites[2];
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
    /* the same site twice, then a good one: the first error sticks and names site 2 */
    ck_assert_int_eq(hp_txn_stage_site(&txn, &sites[0]), HP_E_TXN_OVERLAP);
    hp_txn_site straddle = sites[0];
    straddle.entry = CODE + 0x13F;
    straddle.pad_addr = straddle.entry - 6;
    ck_assert_int_eq(hp_txn_stage_site(&txn, &straddle), HP_E_PROC_STRADDLE);
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_E_TXN_OVERLAP);
    ck_assert_uint_eq(r.failed_site, 2);
    ck_assert_int_eq(r.failed_step, HP_TXN_STEP_STAGE);
    assert_untouched(&w, CODE);
    /* the transaction is over */
    ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_E_TXN_STATE);
    ck_assert_int_eq(hp_txn_stage_site(&txn, &sites[0]), HP_E_TXN_STATE);
    ck_assert_int_eq(hp_txn_abort(&txn), HP_E_TXN_STATE);
    /* abort releases the slots, writes nothing */
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
    ck_assert_int_eq(hp_txn_abort(&txn), HP_OK);
    assert_untouched(&w, CODE);
    /* pad_addr + pad_len must be the entry */
    ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
    hp_txn_site bad = sites[0];
    bad.pad_addr--;
    ck_assert_int_eq(hp_txn_stage_site(&txn, &bad), HP_E_ARG);
    ck_assert_int_eq(hp_txn_abort(&txn), HP_OK);
    /* the entry store itself refuses a straddling address, whatever the back-end */
    static const uint8_t eb[2] = { 0xEB, 0xF8 };
    ck_assert_int_eq(hp_proc_store2(&w.proc, CODE + 0x7F, eb), HP_E_PROC_STRADDLE);
    world_free(&w);
}
END_TEST

/*
 * Fail the Nth operation (any kind) for N = 1, 2, ... until a whole apply (alloc, stage,
 * commit) or a whole revert succeeds; after every failure the code, the allocations and the
 * threads are exactly as before. Returns how many injected failures were checked.
 */
static unsigned fault_walk(bool revert, bool no_freeze, unsigned *steps_seen)
{
    unsigned failures = 0;
    for (unsigned n = 1;; n++) {
        world w;
        world_x64(&w);
        hp_txn txn;
        hp_txn_site sites[2];
        hp_txn_result r;
        hp_txn_options o = { .no_freeze = no_freeze, .max_retries = 2 };
        hp_txn_site j[2];
        if (revert) {
            ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
            ck_assert_int_eq(stage_ab(&txn, &w, sites), HP_OK);
            ck_assert_int_eq(hp_txn_commit(&txn, NULL, &r), HP_OK);
            j[0] = r.journal[0];
            j[1] = r.journal[1];
            /* from here on, "before" is the patched state */
            memcpy(w.before, hp_proc_fake_mem(w.fake, CODE, CODE_SIZE), CODE_SIZE);
            w.regions_before = hp_proc_fake_region_count(w.fake);
        }
        unsigned ops0 = hp_proc_fake_ops(w.fake, HP_FAKE_OP_ANY);
        hp_proc_fake_fail_at(w.fake, HP_FAKE_OP_ANY, n);
        ck_assert_int_eq(hp_txn_begin(&txn, &w.proc, &w.arena), HP_OK);
        if (revert) {
            hp_txn_stage_revert(&txn, &j[0]);
            hp_txn_stage_revert(&txn, &j[1]);
        } else {
            stage_ab(&txn, &w, sites); /* a failed alloc sticks: commit reports it */
        }
        hp_status s = hp_txn_commit(&txn, &o, &r);
        bool injected = hp_proc_fake_ops(w.fake, HP_FAKE_OP_ANY) - ops0 >= n;
        if (!injected) {
            ck_assert_int_eq(s, HP_OK);
            world_free(&w);
            return failures;
        }
        ck_assert_msg(s != HP_OK, "fault at op %u was not reported", n);
        ck_assert_int_ne(s, HP_E_TXN_UNDO);
        ck_assert_int_eq(r.status, s);
        steps_seen[r.failed_step]++;
        assert_untouched(&w, CODE);
        ck_assert(!hp_proc_fake_frozen(w.fake));
        ck_assert(!hp_proc_fake_confined(w.fake));
        failures++;
        world_free(&w);
    }
}

START_TEST(fault_injection_every_step)
{
    unsigned seen[HP_TXN_STEP_THAW + 1] = { 0 };
    unsigned apply = fault_walk(false, false, seen);
    unsigned revert = fault_walk(true, false, seen);
    unsigned quick = fault_walk(false, true, seen);
    /* apply: 2 allocs, 4 reads, freeze, ips, 2 aux + 2 padding writes (4 ops each), 2 entry
     * stores (3 ops each), 2 flushes, thaw */
    ck_assert_uint_ge(apply, 30);
    ck_assert_uint_ge(revert, 15);
    ck_assert_uint_ge(quick, 25);
    for (unsigned s = HP_TXN_STEP_STAGE; s <= HP_TXN_STEP_THAW; s++)
        ck_assert_msg(seen[s] > 0, "no injected failure at step %s", hp_txn_step_name(s));
    printf("fault injection: %u apply, %u revert, %u no-freeze failures, each undone\n", apply,
           revert, quick);
}
END_TEST

static Suite *txn_suite(void)
{
    Suite *s = suite_create("txn");
    TCase *tc = tcase_create("txn");
    tcase_add_test(tc, commit_x64_plan);
    tcase_add_test(tc, commit_x86_and_revert);
    tcase_add_test(tc, revert_x64);
    tcase_add_test(tc, validation_mismatch);
    tcase_add_test(tc, busy_refuses);
    tcase_add_test(tc, busy_then_leaves);
    tcase_add_test(tc, guarded_stub);
    tcase_add_test(tc, revert_moves_threads);
    tcase_add_test(tc, supersede_moves_thread);
    tcase_add_test(tc, move_refused_waits);
    tcase_add_test(tc, many_sites_overlap);
    tcase_add_test(tc, ip_at_entry_not_busy);
    tcase_add_test(tc, no_freeze_only_when_fresh);
    tcase_add_test(tc, staging_errors);
    tcase_add_test(tc, fault_injection_every_step);
    tcase_add_test(tc, entry_form_x64_and_revert);
    tcase_add_test(tc, entry_form_busy_inside);
    tcase_add_test(tc, entry_form_x86_undo);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(txn_suite)
