/*
 * hotpe: the one admission policy (admit.h).
 */
#include <stdbool.h>
#include <string.h>

#include "hotpe/engine/admit.h"
#include "hotpe/engine/patch.h"

static uint16_t fold(uint16_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint16_t)(c + 32) : c;
}

/* Both NUL-terminated within HP_WIRE_PATH_MAX units (an unterminated one equals nothing). */
static bool same_path(const uint16_t *a, const uint16_t *b)
{
    for (uint32_t i = 0; i < HP_WIRE_PATH_MAX; i++) {
        if (fold(a[i]) != fold(b[i]))
            return false;
        if (!a[i])
            return true;
    }
    return false;
}

hp_status hp_admit(const hp_wire_patch *live, uint32_t count, const hp_admit_patch *patch,
                   uint32_t *index)
{
    if (!patch || !patch->path || !patch->target || !index || (count && !live))
        return HP_E_ARG;
    *index = HP_WIRE_NONE;
    for (uint32_t i = 0; i < count; i++)
        if (same_path(live[i].path, patch->path) ||
            (patch->sha256 &&
             memcmp(live[i].file_sha256, patch->sha256, sizeof live[i].file_sha256) == 0)) {
            *index = i;
            return HP_E_LIVE_ALREADY;
        }
    uint32_t under = HP_WIRE_NONE;
    for (uint32_t i = 0; i < count; i++) {
        char name[HP_WIRE_NAME_MAX];
        for (uint32_t k = 0; k < HP_WIRE_NAME_MAX; k++)
            name[k] = k + 1 < HP_WIRE_NAME_MAX ? live[i].target_name[k] : 0;
        if (!hp_patch_same_module(name, patch->target))
            continue;
        if (live[i].sequence >= patch->sequence) {
            *index = i;
            return HP_E_LIVE_SEQUENCE;
        }
        under = i;
    }
    *index = under;
    return HP_OK;
}
