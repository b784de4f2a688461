/*
 * hotpe: the section ".hotp1" that `hotpe build` (build.c) adds to a patch DLL, and the edits
 * of the patch image that go with it (docs/sdk.md). The section:
 *
 *   +0x00  HOTPATCH_HEADER ("HOT1", 0x00010000, ModuleIdMethod HOTP_ID_None: identity is in
 *          the build record and IMAGE_HOT_PATCH_BASE)
 *   +0x50  hotpe's build record (descriptor.h): base identity, every resolved reference, the
 *          stubs' recipes (one per function, sorted) and the SHA-256 of each replaced
 *          function's bytes (one per function, sorted; pe/fnhash.h)
 *          hooks (two per hotpatch site, one per entry-form site), validations (one per hook,
 *          then one per entry-form site for the moved bytes after its jump), fixup regions (one
 *          VA32/VA64 entry per slot), the target name, the validations' expected bytes,
 *          a load config (only when the DLL has none), IMAGE_HOT_PATCH_INFO + one BASE.
 *
 * Slots (HOTPE_BASE_DATA, HOTPE_BASE_FUNC, HOTPE_ORIGINAL) get OrigTargetBaseAddress + RVA in
 * their file bytes; the data directory 10 (or the DLL's own load config) is pointed at the
 * hot patch info; the checksum is recomputed last. All metadata is serialized field by field
 * through the format.h layouts with the bounded writer (hp_wr, HP_WR_FIELD). The padding
 * hook's length is the plan's rule (plan.h).
 */
#ifndef HOTPE_HOTP1_H
#define HOTPE_HOTP1_H

#include <stddef.h>
#include <stdint.h>

#include "hotpe/pe/arena.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/patchdesc.h"
#include "hotpe/pe/pe.h"
#include "hotpe/pe/site.h"

/** One descriptor of the patch (not HOTPE_PATCH), resolved against the base and checked. */
typedef struct hp_hotp1_ref {
    const hp_pe_patchdesc_entry *d;
    uint32_t base_rva;       /* resolved name (0 for callbacks) */
    uint32_t slot_value_rva; /* what the slot points at in the base */
    uint8_t source;          /* HOTPE_SRC_* */
    uint16_t flags;          /* HOTPE_REF_F_* */
    hp_site site;            /* REPLACE / ORIGINAL: the base's site, patchable */
    uint8_t nmoves;          /* HOTPE_REF_F_STUB: the stub's recipe */
    hp_insn_moved moves[HP_INSN_TRAMP_MOVED_MAX];
    uint32_t hash_len;       /* REPLACE: bytes of the function hashed (hp_pe_fn_length) */
} hp_hotp1_ref;

/** What the section is made of. */
typedef struct hp_hotp1_input {
    const hp_pe *base;
    const hp_pe *patch;                 /* file layout, without .hotp1 */
    const hp_hotp1_ref *refs;           /* in descriptor order */
    uint32_t nrefs;
    const hp_pe_patchdesc_entry *desc;  /* the HOTPE_PATCH record: target name, sequence */
} hp_hotp1_input;

/**
 * The patch image with .hotp1 added and the edits above made.
 * @param arena    in/out: scratch (the section's bytes, the base's debug directory)
 * @param out      out: the new image, malloc'd (the caller frees it); NULL on failure
 * @param culprit  out: the reference at fault with HP_E_RVA and HP_E_BUILD_SLOT, else NULL
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, HP_E_PATCHDESC (two references share a slot),
 *         HP_E_BUILD_LOADCFG (the DLL's load config has no HotPatchTableOffset, or it is not
 *         in the file), HP_E_UNSUPPORTED (no data directory 10), HP_E_RVA (a hooked or hashed
 *         byte without file bytes in the base), HP_E_BUILD_SLOT (a slot without file bytes),
 *         HP_E_SETDLL_MARKER (the base's .hotpei damaged: its identity unknown), and the
 *         statuses of hp_pe_loadcfg_parse, hp_pe_fn_mask_make (the base's .reloc),
 *         hp_patch_fn_hash, hp_pe_add_section and hp_pe_parse.
 */
hp_status hp_hotp1_stamp(const hp_hotp1_input *in, hp_arena *arena, uint8_t **out,
                         size_t *out_size, const hp_hotp1_ref **culprit);

#endif
