/*
 * hotpe: the applier's transaction (docs/live.md; Detours' begin -> stage ->
 * commit/abort shape, as an explicit object with no globals).
 *
 *   hp_txn txn;
 *   hp_txn_begin(&txn, &proc, &arena);
 *   hp_txn_alloc(&txn, entry, 16, &slot);          // optional: near slots and stubs
 *   hp_txn_stage_site(&txn, &site);                // bytes from hp_plan_make (plan.h)
 *   hp_txn_commit(&txn, &opts, &result);           // or hp_txn_abort(&txn)
 *
 * Commit: validate every site's current bytes (nothing written on a mismatch) -> CFG (opts.cfg:
 * the caller makes the new call targets valid before anything leads there) -> freeze the other
 * threads (skipped with no_freeze when every site is fresh: padding all CC and a 2-byte entry
 * jump, one atomic store) -> move each
 * thread sitting on a padding jump (or stub) being changed to where it goes (old_to/new_to) -> refuse,
 * after bounded retries, while another thread's IP lies in bytes about to change or in a
 * guarded range (hp_txn_guard) -> write slots and
 * padding jumps, then each entry's jump (2 bytes: one store), then the padding of reverted sites
 * -> flush -> thaw. A failure after the first write undoes every write in reverse order (entry
 * bytes first, then padding). The first error sticks and names the site and the step.
 * result.journal holds each site's bytes as they were: staging a journal entry with
 * hp_txn_stage_revert undoes the commit.
 */
#ifndef HOTPE_TXN_H
#define HOTPE_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/pe/arena.h"
#include "hotpe/engine/proc.h"
#include "hotpe/status.h"

/* ------------------------------------------------------------------------------------------ */
/* Types                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** Longest padding jump (FF 25 disp32), longest entry jump (E9 rel32 at a function without
 * padding) and longest slot/stub written with a site. */
#define HP_TXN_PAD_MAX 8
#define HP_TXN_ENTRY_MAX 5
#define HP_TXN_AUX_MAX 16

/** One site: the bytes expected there now (old_*) and the bytes to write (new_*). */
typedef struct hp_txn_site {
    uint64_t entry;                 /* the function's first instruction */
    uint8_t entry_len;              /* bytes written there: 2 (EB disp8 to the padding jump, one
                                       atomic store) or 5 (E9 rel32: a function without padding,
                                       its first instructions moved; written only frozen) */
    uint64_t pad_addr;              /* padding jump; pad_addr + pad_len == entry */
    uint8_t pad_len;                /* 0..HP_TXN_PAD_MAX (5 or 6 from hp_plan_make; 0: none) */
    uint8_t old_pad[HP_TXN_PAD_MAX];
    uint8_t old_entry[HP_TXN_ENTRY_MAX];
    uint8_t new_pad[HP_TXN_PAD_MAX];
    uint8_t new_entry[HP_TXN_ENTRY_MAX];
    uint64_t aux_addr;              /* 0, or a slot/stub the padding jump goes through */
    uint8_t aux_len;                /* 0..HP_TXN_AUX_MAX */
    uint8_t old_aux[HP_TXN_AUX_MAX];/* filled by commit (not validated: the memory is ours) */
    uint8_t aux[HP_TXN_AUX_MAX];    /* the slot's pointer or the stub's code */
    /* Where a thread at pad_addr goes next with the old_* / new_* bytes in place (the
     * replacement the padding jump leads to; 0: none or unknown). Commit moves a thread that
     * sits on a padding jump about to change (for a revert, also on the stub at aux_addr) to
     * where that jump goes, instead of waiting for it to leave: the jump is one instruction,
     * so running it and being moved to its target are the same. */
    uint64_t old_to, new_to;
} hp_txn_site;

/** Where a commit failed. */
typedef enum hp_txn_step {
    HP_TXN_STEP_NONE,
    HP_TXN_STEP_STAGE,              /* a stage call was refused (sticky) */
    HP_TXN_STEP_VALIDATE,
    HP_TXN_STEP_FREEZE,
    HP_TXN_STEP_THREADS,            /* reading thread IPs, or a thread stayed busy */
    HP_TXN_STEP_AUX,
    HP_TXN_STEP_PADDING,
    HP_TXN_STEP_ENTRY,
    HP_TXN_STEP_FLUSH,
    HP_TXN_STEP_THAW,
    HP_TXN_STEP_CFG,                /* the cfg callback refused */
} hp_txn_step;

typedef struct hp_txn_options {
    bool no_freeze;                 /* honoured only when every site is a fresh apply */
    unsigned max_retries;           /* refreezes while a thread is busy; 0: 20 */
    unsigned retry_pause_ms;        /* between them, doubled every 8 up to 16 times; 0: 1 ms */
    size_t max_threads;             /* IPs buffer; 0: 4096 */
    /* opt: make the new call targets valid for Control Flow Guard (engine/cfg.h). Run once,
     * after validation and before the freeze and the first write: from the first redirected
     * call on, the targets are already valid, and the system call stays out of the freeze
     * window. A non-OK status stops the commit with nothing written. */
    hp_status (*cfg)(void *cfg_ctx);
    void *cfg_ctx;
} hp_txn_options;

typedef struct hp_txn_result {
    hp_status status;               /* the first error (HP_OK on success) */
    hp_txn_step failed_step;
    uint32_t failed_site;           /* index in staging order; UINT32_MAX when none */
    bool undo_failed;               /* then commit returned HP_E_TXN_UNDO */
    uint32_t nsites;
    hp_txn_site *journal;           /* nsites entries (arena): old_* = bytes before, new_* = after */
    bool froze;
    unsigned freeze_attempts;
    size_t threads;                 /* threads frozen by the last attempt */
    size_t moved;                   /* threads moved off a jump being changed */
    uint64_t ns_validate, ns_freeze, ns_write, ns_thaw;
    uint64_t ns_cfg;                /* the cfg callback */
    uint64_t ns_window;             /* first suspend to last resume of the freeze that wrote */
    uint64_t ns_confine;            /* confining the other threads before the freeze (they
                                       run meanwhile) and releasing them before the thaw
                                       (inside the window) */
} hp_txn_result;

typedef struct hp_txn_op hp_txn_op;
typedef struct hp_txn_alloc_rec hp_txn_alloc_rec;
typedef struct hp_txn_guard_rec hp_txn_guard_rec;
typedef struct hp_txn_cell hp_txn_cell;

/** The transaction: caller-owned, lives until commit or abort. Fields are private. */
typedef struct hp_txn {
    const hp_proc *proc;
    hp_arena *arena;
    int state;                      /* 0: idle, 1: open, 2: done */
    hp_status error;                /* sticky first staging error */
    uint32_t error_site;
    hp_txn_op *ops_head, *ops_tail;
    uint32_t nops;
    hp_txn_alloc_rec *allocs;
    hp_txn_guard_rec *guards;
    hp_txn_cell **cell_buckets;     /* staged ranges by 16-byte cell, to refuse overlaps */
    size_t ncell_buckets, ncells;
} hp_txn;

/* ------------------------------------------------------------------------------------------ */
/* Functions                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** Name of a step ("validate", ...). */
const char *hp_txn_step_name(hp_txn_step s);

/**
 * Open a transaction.
 * @param txn    out: the transaction
 * @param proc   in: the process; must outlive the transaction
 * @param arena  in/out: staging records and the result's journal
 * @return HP_OK, HP_E_ARG.
 */
hp_status hp_txn_begin(hp_txn *txn, const hp_proc *proc, hp_arena *arena);

/**
 * Memory near an address for a slot or stub (executable, CFG-invalid), released by abort or
 * a failed commit, kept by a successful one (the caller frees it with hp_proc_free later).
 * @return HP_OK, HP_E_ARG, HP_E_TXN_STATE, HP_E_NOMEM, HP_E_PROC_ALLOC (also made sticky).
 */
hp_status hp_txn_alloc(hp_txn *txn, uint64_t near_addr, size_t size, uint64_t *out);

/**
 * Stage one site to apply: old_* expected, new_* written. A refusal also sticks: commit
 * returns it.
 * @return HP_OK, HP_E_ARG (lengths, pad_addr + pad_len != entry), HP_E_TXN_STATE,
 *         HP_E_TXN_OVERLAP, HP_E_PROC_STRADDLE, HP_E_NOMEM.
 */
hp_status hp_txn_stage_site(hp_txn *txn, const hp_txn_site *site);

/**
 * Stage the revert of an applied site (e.g. a journal entry of its commit): new_* expected
 * now, old_* written back, entry first, then padding. The aux bytes are left alone.
 * @return as hp_txn_stage_site.
 */
hp_status hp_txn_stage_revert(hp_txn *txn, const hp_txn_site *site);

/**
 * Guard a range that no thread may be executing when the writes happen, though nothing is
 * written there: code the caller frees once the commit succeeds (the stubs of sites being
 * reverted or superseded). The IP check treats it as bytes about to change, and its presence
 * rules out no_freeze. A refusal also sticks.
 * @return HP_OK, HP_E_ARG, HP_E_TXN_STATE, HP_E_NOMEM.
 */
hp_status hp_txn_guard(hp_txn *txn, uint64_t addr, uint64_t len);

/**
 * Run the transaction (see the top of this file). The transaction is finished either way.
 * @param opts    in/opt: NULL for defaults
 * @param result  out: status, failing site and step, journal, timings
 * @return HP_OK, the sticky staging error, HP_E_TXN_STATE, HP_E_TXN_VALIDATION,
 *         HP_E_PROC_STRADDLE, HP_E_PROC_READ, HP_E_NOMEM, HP_E_PROC_FREEZE, HP_E_PROC_CONTEXT,
 *         HP_E_PROC_THREADS, HP_E_UNSUPPORTED (freeze remotely), HP_E_TXN_BUSY,
 *         HP_E_PROC_PROTECT, HP_E_PROC_WRITE, HP_E_PROC_FLUSH, HP_E_PROC_THAW, HP_E_TXN_UNDO.
 */
hp_status hp_txn_commit(hp_txn *txn, const hp_txn_options *opts, hp_txn_result *result);

/**
 * Drop the staged sites and release hp_txn_alloc memory; nothing is written.
 * @return HP_OK, HP_E_ARG, HP_E_TXN_STATE (not open), HP_E_PROC_FREE.
 */
hp_status hp_txn_abort(hp_txn *txn);

#endif
