/*
 * hotpe-shim.dll: the transaction pieces apply and revert share (engine/txn.h over this process,
 * engine/proc.h's hp_proc_self). A live patch's sites are reverted from its journal (the
 * registry's original bytes), entry first; its aux blocks (x64 slots and stubs) are guarded
 * so that the commit waits while a thread still runs in a stub, and freed only after it.
 */
#include <windows.h>
#include <string.h>

#include "hotpe/engine/plan.h"
#include "hotpe/engine/win.h"
#include "shim.h"

hp_status shim_txn_begin(shim_txn *t, hp_arena *arena)
{
    memset(t, 0, sizeof *t);
    HP_CHECK(hp_proc_self_open(&t->proc));
    hp_status s = hp_txn_begin(&t->txn, &t->proc, arena);
    if (s != HP_OK) {
        hp_proc_close(&t->proc);
        return s;
    }
    t->open = true;
    return HP_OK;
}

void shim_txn_end(shim_txn *t)
{
    if (t->open)
        hp_txn_abort(&t->txn);
    t->open = false;
    hp_proc_close(&t->proc);
}

/* Whether entry is in the sorted list. */
static bool kept(const uint64_t *keep, uint32_t n, uint64_t entry)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (keep[mid] == entry)
            return true;
        if (keep[mid] < entry)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

hp_status shim_stage_revert(shim_txn *t, const hp_wire_patch *p, const uint64_t *keep,
                            uint32_t nkeep)
{
    const hp_wire_site *sites = shim_reg_sites(p);
    for (uint32_t k = 0; k < p->site_count; k++) {
        const hp_wire_site *st = &sites[k];
        if (keep && kept(keep, nkeep, hp_wire_site_entry(p, st)))
            continue;
        if (!hp_wire_site_sane(st))
            return HP_E_LIVE_REGISTRY;
        /* the journal: old_* what was there before the first patch, new_* what is there now */
        hp_txn_site ts;
        memset(&ts, 0, sizeof ts);
        ts.entry = hp_wire_site_entry(p, st);
        ts.entry_len = st->entry_len;
        ts.pad_addr = hp_wire_site_pad(p, st);
        ts.pad_len = st->pad_len;
        memcpy(ts.old_pad, st->orig, st->pad_len);
        memcpy(ts.old_entry, st->orig + st->pad_len, st->entry_len);
        memcpy(ts.new_pad, st->bytes, st->pad_len);
        memcpy(ts.new_entry, st->bytes + st->pad_len, st->entry_len);
        /* a thread on the padding jump or the stub is moved on to the replacement */
        ts.new_to = hp_wire_site_replacement(p, st);
        ts.aux_addr = hp_wire_site_aux(p, st);
        HP_CHECK(hp_txn_stage_revert(&t->txn, &ts));
    }
    const uint64_t *blocks = shim_reg_blocks(p);
    for (uint32_t b = 0; b < p->aux_block_count; b++)
        HP_CHECK(hp_txn_guard(&t->txn, blocks[b], HP_PLAN_BLOCK_BYTES));
    return HP_OK;
}

hp_status shim_commit(shim_txn *t, const hp_txn_options *opts, hp_wire_result *res,
                      uint32_t *failed_site)
{
    hp_txn_result tr;
    t->open = false; /* committed or not, the transaction is finished */
    hp_status s = hp_txn_commit(&t->txn, opts, &tr);
    if (tr.froze)
        res->flags |= HP_WIRE_RES_F_FROZE;
    res->freeze_ns = tr.ns_window;
    res->moved += (uint32_t)tr.moved;
    *failed_site = s != HP_OK ? tr.failed_site : UINT32_MAX;
    return s;
}

void shim_free_blocks(const hp_wire_patch *p)
{
    const uint64_t *blocks = shim_reg_blocks(p);
    for (uint32_t b = 0; b < p->aux_block_count; b++)
        hp_win_free(GetCurrentProcess(), blocks[b]);
}
