/*
 * hotpe-shim.dll, the in-target program, in stages (internal to the shim):
 *
 *   shim.c      serve one request: read it, take the registry lock, run the verb, answer;
 *               the entry point hotpe starts on the first request
 *   channel.c   the worker thread that serves every later request (no remote thread)
 *   request.c   the request block (bounded copy out of untrusted memory) and the answered
 *               blocks of requesters that ended without freeing them
 *   registry.c  the registry, the shim's one global: patch and site tables that grow, under a
 *               seqlock
 *   apply.c     apply: admit, check, load, fixups, stubs, CFG plan, journal, callback, commit
 *   commit.c    the transaction pieces apply and revert share: a transaction over this
 *               process, a live patch's sites staged for revert, its aux blocks guarded
 *   revert.c    revert one patch or all, newest first
 *   unload.c    revert --unload: free a patch DLL once no thread is in it or returns into it
 *   cfgcall.c   SetProcessValidCallTargets for the replacement entries (the transaction's CFG
 *               step)
 *   installed.c the machine's installed patches: applied at load and to every module loaded
 *               later
 *
 * Everything the shim decides about patches (format, identity, validations, admission, how a
 * site is written, the transaction) comes from engine/; this folder is the Win32 program
 * around it.
 */
#ifndef HOTPE_SHIM_H
#define HOTPE_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#include "hotpe/engine/cfg.h"
#include "hotpe/engine/patch.h"
#include "hotpe/engine/proc.h"
#include "hotpe/engine/txn.h"
#include "hotpe/engine/wire.h"
#include "hotpe/pe/arena.h"
#include "hotpe/status.h"

/* ---- registry.c --------------------------------------------------------------------------- */

extern hp_wire_registry hotpe_registry; /* exported by hotpe-shim.def */

/** Open (odd seq) and close (even seq) one change of the registry, for ReadProcessMemory readers. */
void shim_reg_begin(hp_wire_registry *r);
void shim_reg_end(hp_wire_registry *r);
/** The record at index (< count, or == count after shim_reg_reserve). */
hp_wire_patch *shim_reg_patch(hp_wire_registry *r, uint32_t index);
/** A record's site table and aux block list. */
hp_wire_site *shim_reg_sites(const hp_wire_patch *p);
uint64_t *shim_reg_blocks(const hp_wire_patch *p);
/** A record as the engine's view of a live patch. */
hp_patch_live shim_reg_live(const hp_wire_patch *p);
/** Room for one more record at patches[count] (the table doubles when full). @return HP_OK,
 * HP_E_NOMEM. */
hp_status shim_reg_reserve(hp_wire_registry *r);
/** Give an unpublished record its tables: nsites sites and nblocks aux block addresses, zeroed.
 * @return HP_OK, HP_E_NOMEM. */
hp_status shim_reg_tables(hp_wire_patch *p, uint32_t nsites, uint32_t nblocks);
/** Free an unpublished record's tables and clear it. */
void shim_reg_discard(hp_wire_registry *r, hp_wire_patch *p);
/** Count the record at patches[count] in, and drop the one at `superseded` (HP_WIRE_NONE:
 * none), as one change; it gets the next id. */
void shim_reg_publish(hp_wire_registry *r, uint32_t superseded);
/** Drop the record at index (its tables freed) as one change. */
void shim_reg_remove(hp_wire_registry *r, uint32_t index);
/** Set the state of every site of a record, as one change. */
void shim_reg_set_state(hp_wire_registry *r, hp_wire_patch *p, uint8_t state);

/* ---- shim.c, channel.c ------------------------------------------------------------------- */

/** Serve the request block at `request` (untrusted) and answer in it. On a remote thread
 * (worker NULL), *worker is set when the request offered a channel and there was no live
 * worker: this thread is now the worker (the channel is published) and must answer by setting
 * done_event, then run shim_channel_serve. @return its status. */
hp_status shim_serve(hp_wire_registry *r, void *request, bool *worker);
/** With the lock held: publish the offered channel with this thread as its worker, unless a
 * live worker has one; true when it did. */
bool shim_channel_adopt(hp_wire_registry *r, const hp_wire_request *offer);
/** The worker: answer the request just served (set done_event), then serve the channel until
 * the thread is terminated. */
DWORD shim_channel_serve(hp_wire_registry *r);

/* ---- request.c ---------------------------------------------------------------------------- */

/**
 * Copy the request out of untrusted memory, bounded by its memory region and its own size.
 * *answer: the header is ours and the region writable, so the result part may be written,
 * also for a refused request. @return HP_OK, HP_E_LIVE_REQUEST.
 */
hp_status shim_read_request(const void *block, hp_wire_request *out, bool *answer);
/** With the lock held: free the answered blocks whose requester ended without freeing them. */
void shim_sweep_pending(hp_wire_registry *r);
/** With the lock held, after the last write to the block: keep it for a later sweep. */
void shim_note_pending(hp_wire_registry *r, const void *block, const hp_wire_request *req);

/* ---- apply.c, revert.c -------------------------------------------------------------------- */

hp_status shim_apply(hp_wire_registry *r, const hp_wire_request *req, hp_wire_result *res,
                     hp_arena *arena);
hp_status shim_revert(hp_wire_registry *r, const hp_wire_request *req, hp_wire_result *res,
                      hp_arena *arena);

/* ---- commit.c ----------------------------------------------------------------------------- */

/** A transaction over this process for one request. */
typedef struct shim_txn {
    hp_proc proc;
    hp_txn txn;
    bool open;
} shim_txn;

/** @return HP_OK, hp_proc_self_open's and hp_txn_begin's statuses. */
hp_status shim_txn_begin(shim_txn *t, hp_arena *arena);
/** Stage the revert of p's sites, except those whose entry `keep` also patches (sorted
 * entries, NULL: none), and guard p's aux blocks, which are freed once the commit is done. */
hp_status shim_stage_revert(shim_txn *t, const hp_wire_patch *p, const uint64_t *keep,
                            uint32_t nkeep);
/** Commit (and close) the transaction; the outcome goes into res. @return hp_txn_commit's. */
hp_status shim_commit(shim_txn *t, const hp_txn_options *opts, hp_wire_result *res,
                      uint32_t *failed_site);
/** Abort if still open, and release the process. */
void shim_txn_end(shim_txn *t);
/** Free the aux blocks of a patch that no thread can reach any more. */
void shim_free_blocks(const hp_wire_patch *p);

/* ---- installed.c ------------------------------------------------------------------------- */

/** At DLL_PROCESS_ATTACH: have the loader report every module loaded later, to apply their
 * installed patches; at_start (a static import at process start), apply those of the modules
 * loaded so far too. */
void shim_installed_attach(hp_wire_registry *r, bool at_start);

/* ---- unload.c ----------------------------------------------------------------------------- */

/** The first patch DLL kept loaded by a revert --unload, and why. */
typedef struct shim_kept {
    uint32_t reason;         /* HP_WIRE_KEPT_*, 0: nothing kept */
    uint32_t patch_id;       /* 0: one found by the sweep */
    uint32_t by;             /* thread id, or the other patch's id */
} shim_kept;

/** Free a reverted patch's DLL and stub page unless something still needs them. */
void shim_unload(const hp_wire_registry *r, uint32_t id, uint64_t base, uint64_t stub_page,
                 shim_kept *kept);
/** revert --all --unload: the patch DLLs earlier reverts kept loaded. */
void shim_unload_kept(const hp_wire_registry *r, shim_kept *kept);

/* ---- cfgcall.c ---------------------------------------------------------------------------- */

/** The transaction's CFG step (hp_txn_options.cfg) for the planned replacement entries. */
typedef struct shim_cfg {
    const hp_cfg_plan *plan;
    uint64_t pbase;          /* the patch image: plan offsets are relative to it */
    hp_arena *arena;         /* the call's target list */
    uint8_t outcome;         /* out: HP_WIRE_CFG_* of the planned targets */
    bool no_api;             /* out: SetProcessValidCallTargets is missing */
    uint32_t error;          /* out: GetLastError of a failed call */
} shim_cfg;

hp_status shim_cfg_step(void *ctx);

#endif
