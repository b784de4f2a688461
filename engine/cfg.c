/*
 * hotpe: Control Flow Guard during apply, the pure part (cfg.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/cfg.h"

static int cmp_target(const void *a, const void *b)
{
    uint64_t x = ((const hp_cfg_target *)a)->offset, y = ((const hp_cfg_target *)b)->offset;
    return x < y ? -1 : x > y;
}

hp_status hp_cfg_plan_make(const hp_pe *module, hp_arena *arena, const hp_patch_site *sites,
                           uint32_t nsites, hp_cfg_plan *out)
{
    if (!module || !arena || !out || (nsites && !sites))
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    out->targets = hp_arena_array(arena, nsites ? nsites : 1, sizeof *out->targets);
    out->site = hp_arena_array(arena, nsites ? nsites : 1, sizeof *out->site);
    if (!out->targets || !out->site)
        return HP_E_NOMEM;
    out->nsites = nsites;
    hp_pe_loadcfg lc;
    HP_CHECK(hp_pe_loadcfg_parse(module, arena, &lc));
    /* fields past the structure's Size read as zero */
    out->guard_flags = lc.present ? lc.f.GuardFlags : 0;
    out->function_count = lc.present ? lc.cf_functions.count : 0;
    out->instrumented = (out->guard_flags & HP_IMAGE_GUARD_CF_INSTRUMENTED) &&
                        lc.f.GuardCFFunctionTable != 0 && out->function_count > 0;
    for (uint32_t k = 0; k < nsites; k++) {
        uint32_t rva = sites[k].replacement_rva;
        if (!out->instrumented) {
            out->site[k] = HP_WIRE_CFG_NOT_INSTRUMENTED;
        } else if (rva & 15u) {
            /* SetProcessValidCallTargets takes 16-byte aligned offsets only; rounding down
             * would make another address valid */
            out->site[k] = HP_WIRE_CFG_UNALIGNED;
        } else {
            out->site[k] = HP_WIRE_CFG_UNKNOWN;
            out->targets[out->count].offset = rva;
            out->targets[out->count].flags = HP_CFG_CALL_TARGET_VALID;
            out->count++;
        }
    }
    /* ascending, as the call requires; two sites may share a replacement */
    qsort(out->targets, out->count, sizeof out->targets[0], cmp_target);
    uint32_t n = 0;
    for (uint32_t i = 0; i < out->count; i++)
        if (n == 0 || out->targets[n - 1].offset != out->targets[i].offset)
            out->targets[n++] = out->targets[i];
    out->count = n;
    return HP_OK;
}

uint8_t hp_cfg_site_state(const hp_cfg_plan *plan, uint32_t site, uint8_t outcome)
{
    if (!plan || site >= plan->nsites)
        return HP_WIRE_CFG_UNKNOWN;
    return plan->site[site] == HP_WIRE_CFG_UNKNOWN ? outcome : plan->site[site];
}

const char *hp_cfg_state_name(uint8_t state)
{
    static const char *const names[] = {
        NULL, "not-instrumented", "registered", "no-api", "failed", "unaligned", "not-enforced",
    };
    return state < sizeof names / sizeof *names ? names[state] : "?";
}
