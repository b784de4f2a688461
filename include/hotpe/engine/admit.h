/*
 * hotpe: the one admission policy (docs/sdk.md): whether a patch may go live in a
 * process, given the patches live there. hotpe decides it from outside on its copy of the
 * registry before it injects anything, and the shim decides it again, with the registry lock
 * held, before it loads the patch; both call this.
 *
 *   - the same patch is live already: the same file,
 *     or a file with the same bytes (SHA-256)         -> HP_E_LIVE_ALREADY (that patch; hotpe
 *                                                        reports it as done, nothing to do)
 *   - a live patch of the same target module has an
 *     equal or higher sequence                        -> HP_E_LIVE_SEQUENCE (that patch)
 *   - a live patch of the same target module has a
 *     lower sequence                                  -> HP_OK, it is superseded (that patch)
 *   - nothing of that module is live                  -> HP_OK, a new patch
 *
 * Modules are compared by file name, ASCII case-insensitively (hp_patch_same_module); patch
 * files by full path, UTF-16, case-insensitively for ASCII letters (the path a hotpe resolved
 * with GetFullPathNameW, so one file has one spelling unless it is reached through a link).
 */
#ifndef HOTPE_ENGINE_ADMIT_H
#define HOTPE_ENGINE_ADMIT_H

#include <stdint.h>

#include "hotpe/engine/wire.h"
#include "hotpe/status.h"

/** What is being admitted. */
typedef struct hp_admit_patch {
    const uint16_t *path;    /* the patch file, UTF-16, NUL-terminated within HP_WIRE_PATH_MAX */
    const uint8_t *sha256;   /* its bytes' SHA-256 (32 bytes), or NULL: by path alone */
    const char *target;      /* its target module's name */
    uint32_t sequence;
} hp_admit_patch;

/**
 * Decide.
 * @param live   in: the live patches' records (count of them)
 * @param index  out: the patch that refused it or that it supersedes; HP_WIRE_NONE for a new one
 * @return HP_OK, HP_E_ARG, HP_E_LIVE_ALREADY, HP_E_LIVE_SEQUENCE.
 */
hp_status hp_admit(const hp_wire_patch *live, uint32_t count, const hp_admit_patch *patch,
                   uint32_t *index);

#endif
