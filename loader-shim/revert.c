/*
 * hotpe-shim.dll: revert. A patch's sites go back to their journal's bytes in one transaction
 * (entry first, then padding; threads frozen), then HOTPE_ON_REVERT runs and the registry entry
 * goes. The patch DLL stays loaded unless --unload asks (unload.c): threads may still run its
 * code. A failed revert leaves the patch live, its sites as they were.
 */
#include <windows.h>
#include <string.h>

#include "hotpe/engine/win.h"
#include "shim.h"

static hp_status revert_one(hp_wire_registry *r, uint32_t index, bool no_freeze, hp_arena *arena,
                            hp_wire_result *res, shim_kept *kept)
{
    hp_wire_patch *p = shim_reg_patch(r, index);
    shim_reg_set_state(r, p, HP_WIRE_SITE_REVERTING);
    uint64_t t = hp_win_clock_ns();
    shim_txn tx;
    uint32_t failed = UINT32_MAX;
    hp_status s = shim_txn_begin(&tx, arena);
    if (s == HP_OK)
        s = shim_stage_revert(&tx, p, NULL, 0);
    if (s == HP_OK) {
        hp_txn_options opts = { .no_freeze = no_freeze };
        s = shim_commit(&tx, &opts, res, &failed);
    }
    shim_txn_end(&tx);
    res->phase_ns[HP_WIRE_PH_COMMIT] += hp_win_clock_ns() - t;
    if (s != HP_OK) {
        if (failed < p->site_count) {
            res->failing_site = failed;
            res->failing_rva = shim_reg_sites(p)[failed].entry_rva;
        }
        shim_reg_set_state(r, p, HP_WIRE_SITE_LIVE);
        return s;
    }
    t = hp_win_clock_ns();
    if (p->on_revert_rva)
        ((void (*)(void))(uintptr_t)(p->patch_base + p->on_revert_rva))();
    res->phase_ns[HP_WIRE_PH_CALLBACK] += hp_win_clock_ns() - t;
    /* no thread is in a slot or stub now (the commit guarded them) nor can reach one */
    shim_free_blocks(p);
    uint32_t id = p->id;
    uint64_t base = p->patch_base, stubs = p->stub_page;
    shim_reg_remove(r, index);
    if (kept)
        shim_unload(r, id, base, stubs, kept);
    return HP_OK;
}

hp_status shim_revert(hp_wire_registry *r, const hp_wire_request *req, hp_wire_result *res,
                      hp_arena *arena)
{
    bool nf = (req->flags & HP_WIRE_REQ_F_NO_FREEZE) != 0;
    shim_kept note = { 0, 0, 0 };
    shim_kept *kept = (req->flags & HP_WIRE_REQ_F_UNLOAD) ? &note : NULL;
    hp_status s = HP_E_LIVE_NO_PATCH;
    if (req->patch_id == HP_WIRE_REVERT_ALL) {
        s = HP_OK;
        while (r->count > 0 && s == HP_OK) { /* newest first */
            s = revert_one(r, r->count - 1, nf, arena, res, kept);
            res->reverted += s == HP_OK;
        }
        if (s == HP_OK && kept)
            shim_unload_kept(r, kept);
    } else {
        for (uint32_t i = 0; i < r->count; i++)
            if (shim_reg_patch(r, i)->id == req->patch_id) {
                s = revert_one(r, i, nf, arena, res, kept);
                res->reverted = s == HP_OK;
                break;
            }
    }
    if (s == HP_OK && note.reason) { /* the reverts stand; say what stayed loaded and why */
        res->kept_reason = note.reason;
        res->kept_patch_id = note.patch_id;
        res->kept_by = note.by;
        s = HP_E_LIVE_KEPT;
    }
    return s;
}
