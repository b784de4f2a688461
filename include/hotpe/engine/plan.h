/*
 * hotpe: the one site plan (docs/sdk.md). How a patchable site is written, decided
 * here and nowhere else:
 *
 *   form    the pad-length rule: x86 always `E9 rel32` in 5 bytes of padding; x64 `FF 25
 *           disp32` through an 8-byte slot when 6 bytes of padding are free, else (exactly 5)
 *           `E9 rel32` to a 14-byte stub. `hotpe build` records the form as the padding hook's
 *           length, the patch checks read it back from there, the shim writes it. A function
 *           without padding whose first instructions can move (pe/tramp.h) gets the entry
 *           form: `E9 rel32` over its first 5 bytes, to the replacement (x86) or to a 14-byte
 *           stub near (x64); its hook is the entry hook, not paired with a short jump.
 *   bytes   from a site's entry, its replacement and (x64) its aux, the slot or stub near the
 *           site: the padding jump, the entry's `EB disp8` back to it, and the aux's own
 *           bytes, as a transaction site (txn.h). Encodings come from pe/insn.h.
 *   place   the aux of many sites in shared blocks near them (one allocation per block, not
 *           per site), through the transaction's allocator so that an abort frees them.
 *
 * The shim, `hotpe scan`, the unit tests, txn_self and the freeze benchmark all go through
 * hp_plan_make; no other code composes site bytes.
 */
#ifndef HOTPE_ENGINE_PLAN_H
#define HOTPE_ENGINE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "hotpe/engine/txn.h"
#include "hotpe/pe/arena.h"
#include "hotpe/status.h"

/* ------------------------------------------------------------------------------------------ */
/* Types                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** How a site's padding jump reaches the replacement. */
typedef enum hp_plan_form {
    HP_PLAN_X86_JMP = 1,   /* x86: E9 rel32 straight to the replacement (5 bytes) */
    HP_PLAN_X64_IND = 2,   /* x64: FF 25 disp32 through an 8-byte slot near the site (6 bytes) */
    HP_PLAN_X64_STUB = 3,  /* x64, padding of exactly 5: E9 rel32 to a 14-byte stub near the
                              site that jumps anywhere (FF 25 00000000 + address) */
    HP_PLAN_X86_ENTRY = 4, /* x86, no padding: E9 rel32 at the entry to the replacement */
    HP_PLAN_X64_ENTRY = 5, /* x64, no padding: E9 rel32 at the entry to a 14-byte stub */
} hp_plan_form;

/** Bytes reserved per aux in a placement block (a slot or a stub, 16-byte aligned), and the
 * most a block spans (one 64 KiB allocation granule of cells). */
#define HP_PLAN_AUX_CELL 16u
#define HP_PLAN_BLOCK_BYTES 0x10000u

/** One site to write. */
typedef struct hp_plan_site {
    hp_plan_form form;
    uint64_t entry;          /* the function's first instruction */
    uint64_t replacement;    /* where calls go from now on */
    uint64_t aux;            /* x64: the slot or stub (hp_plan_place), 0 on x86 */
} hp_plan_site;

/* ------------------------------------------------------------------------------------------ */
/* Functions                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/**
 * The pad-length rule: the form for a site with `padding` free bytes before its entry.
 * @return HP_OK, HP_E_ARG, HP_E_SITE_NOT_PATCHABLE (fewer than 5 bytes).
 */
hp_status hp_plan_form_for(bool x64, unsigned padding, hp_plan_form *out);

/**
 * The form of a patch image's padding hook of pad_len bytes (the rule read backwards).
 * @return HP_OK, HP_E_ARG, HP_E_LIVE_HOOKS (no form has that length on that machine).
 */
hp_status hp_plan_form_of_hook(bool x64, unsigned pad_len, hp_plan_form *out);

/** The entry form of the machine (a function without padding, pe/tramp.h). */
hp_plan_form hp_plan_entry_form(bool x64);
/** Whether f writes E9 rel32 at the entry (no padding jump). */
bool hp_plan_form_is_entry(hp_plan_form f);
/** The padding jump's length: 5 or 6 (0 for the entry forms and an unknown form). */
unsigned hp_plan_pad_len(hp_plan_form f);
/** The entry jump's length: 2 (EB disp8), 5 (the entry forms), 0 for an unknown form. */
unsigned hp_plan_entry_len(hp_plan_form f);
/** The aux's length: 0 (x86), 8 (slot) or 14 (stub: X64_STUB, X64_ENTRY). */
unsigned hp_plan_aux_len(hp_plan_form f);
/** The form's identifier in JSON: "x86-jmp", "x64-ind", "x64-stub", "x86-entry", "x64-entry". */
const char *hp_plan_form_name(hp_plan_form f);
/** The jump as text, e.g. "FF 25 disp32" (the padding jump, or the entry's for entry forms). */
const char *hp_plan_form_text(hp_plan_form f);
/** Where that jump goes: "replacement", "slot" or "stub". */
const char *hp_plan_form_target(hp_plan_form f);

/**
 * The bytes of one site, as a transaction site: entry, entry_len, pad_addr, pad_len, new_pad,
 * new_entry and the aux (aux_addr, aux_len, aux). old_* are zero: the caller says what is there now
 * (memory, or a live patch's journal).
 * @return HP_OK, HP_E_ARG (unknown form; x64 without aux), HP_E_OVERFLOW, HP_E_INSN_RANGE
 *         (the slot or stub beyond +-2 GiB of the padding jump).
 */
hp_status hp_plan_make(const hp_plan_site *site, hp_txn_site *out);

/**
 * Expect what is there now: read the padding and the entry's bytes of a planned site from
 * the process into old_* (a fresh site; a site another patch holds expects that patch's bytes,
 * from its journal, instead).
 * @return HP_OK, HP_E_ARG, hp_proc_read's statuses.
 */
hp_status hp_plan_expect_current(const hp_proc *proc, hp_txn_site *site);

/**
 * Give every x64 site its aux: cells of HP_PLAN_AUX_CELL bytes in blocks allocated with
 * hp_txn_alloc near the sites (a new block when the current one is full or out of reach), in
 * site order. x86 sites get none. The blocks are the transaction's until it commits.
 * @param sites    in/out: aux set
 * @param blocks   out (opt): the blocks' addresses (arena), to free after a revert
 * @param nblocks  out (opt): their number
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, and hp_txn_alloc's statuses (HP_E_PROC_ALLOC).
 */
hp_status hp_plan_place(hp_txn *txn, hp_arena *arena, hp_plan_site *sites, uint32_t n,
                        uint64_t **blocks, uint32_t *nblocks);

#endif
