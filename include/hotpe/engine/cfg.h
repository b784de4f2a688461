/*
 * hotpe: Control Flow Guard during apply (docs/live.md).
 *
 * When the target module is CFG-instrumented, each replacement entry in the patch image is made
 * a valid call target with SetProcessValidCallTargets (the shim resolves it at run time). This
 * module is the pure part, shared by the shim and the CLI and unit-tested natively: whether the
 * module is instrumented, and the CFG_CALL_TARGET_INFO list for the patch image (offsets from
 * its base, 16-byte aligned as the call requires, ascending, no duplicates, flags VALID).
 */
#ifndef HOTPE_ENGINE_CFG_H
#define HOTPE_ENGINE_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "hotpe/pe/arena.h"
#include "hotpe/engine/patch.h"
#include "hotpe/pe/pe.h"
#include "hotpe/status.h"

/* CFG_CALL_TARGET_INFO.Flags (winnt.h). */
#define HP_CFG_CALL_TARGET_VALID 0x1u

/** One CFG_CALL_TARGET_INFO, widened (ULONG_PTR is 4 bytes on x86). */
typedef struct hp_cfg_target {
    uint64_t offset;          /* from the patch image's base; a multiple of 16 */
    uint64_t flags;           /* HP_CFG_CALL_TARGET_VALID */
} hp_cfg_target;

/** What apply must do for CFG. */
typedef struct hp_cfg_plan {
    bool instrumented;        /* GuardFlags has CF_INSTRUMENTED and there is a function table */
    uint32_t guard_flags;     /* the target module's GuardFlags (0 without a load config) */
    uint64_t function_count;  /* entries of its GuardCFFunctionTable */
    uint32_t count;           /* targets[0..count) */
    hp_cfg_target *targets;   /* (arena) */
    uint32_t nsites;
    /* Per site (arena): HP_WIRE_CFG_NOT_INSTRUMENTED, HP_WIRE_CFG_UNALIGNED, or
     * HP_WIRE_CFG_UNKNOWN when its entry is in targets (the outcome of the call decides:
     * hp_cfg_site_state). */
    uint8_t *site;
} hp_cfg_plan;

/**
 * Plan CFG for a patch's sites against the target module.
 * @param module  in: the target module (file or loaded layout); its load config is parsed here
 * @param arena   in/out: the load config's tables and the plan's arrays
 * @param sites   in: the patch's sites (hp_patch_sites); replacement_rva is in the patch image
 * @param out     out: the plan
 * @return HP_OK, HP_E_ARG, the load config parser's statuses (HP_E_DIR_RANGE,
 *         HP_E_LOADCFG_SIZE, HP_E_LOADCFG_TABLE, HP_E_NOMEM).
 */
hp_status hp_cfg_plan_make(const hp_pe *module, hp_arena *arena, const hp_patch_site *sites,
                           uint32_t nsites, hp_cfg_plan *out);

/**
 * A site's CFG state once the call's outcome for the planned targets is known.
 * @param outcome  HP_WIRE_CFG_REGISTERED, _NO_API, _FAILED or _NOT_ENFORCED
 * @return the site's planned state, or outcome when its entry was among the targets.
 */
uint8_t hp_cfg_site_state(const hp_cfg_plan *plan, uint32_t site, uint8_t outcome);

/** The JSON/text name of a HP_WIRE_CFG_* state ("registered", "no-api", ...); NULL for 0. */
const char *hp_cfg_state_name(uint8_t state);

#endif
