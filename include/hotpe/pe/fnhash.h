/*
 * hotpe: which bytes of a replaced function a patch hashes (docs/live.md "Function hashes").
 *
 * `hotpe build` records, for each function a patch replaces, the SHA-256 of its bytes in the
 * base file; hotpe (from outside) and the shim (in the target) hash the running module's bytes
 * the same way before the first write. The definition is here, once, for both sides:
 *
 *   - the bytes: from the function's entry, hp_pe_fn_length of them (build time; the patch
 *     records the length, the check reads that many);
 *   - taken as zero (hp_pe_fn_mask): every field a base relocation rewrites (so the file at
 *     build time and a relocated module hash the same) and every byte the patch's own hooks
 *     overwrite (the validations cover those, and a live patch being superseded changed them).
 *
 * The hash itself is the engine's (hp_patch_fn_hash, engine/patch.h): pe/ has no crypto.
 */
#ifndef HOTPE_FNHASH_H
#define HOTPE_FNHASH_H

#include <stdint.h>

#include "hotpe/descriptor.h"
#include "hotpe/pe/pe.h"

/* ------------------------------------------------------------------------------------------ */
/* Types                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** Bytes [rva, rva + len) of an image. */
typedef struct hp_pe_range {
    uint32_t rva, len;
} hp_pe_range;

/** The bytes a function hash takes as zero: base relocation fields and hooked bytes. */
typedef struct hp_pe_fn_mask {
    uint32_t count;
    hp_pe_range *ranges;     /* sorted by rva */
    uint32_t longest;        /* the longest range: a lookup starts that far before */
} hp_pe_fn_mask;

/** Where functions end, for hp_pe_fn_length (build time). */
typedef struct hp_pe_fn_bounds {
    const hp_pe *pe;
    hp_pe_runtime_function *primary; /* x64: primary .pdata entries, sorted by begin */
    uint32_t nprimary;
    const uint32_t *entries; /* every function entry known (site analysis), ascending */
    uint32_t nentries;
} hp_pe_fn_bounds;

/* ------------------------------------------------------------------------------------------ */
/* Functions                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/**
 * The mask of an image: every field its base relocations rewrite (HIGHLOW 4 bytes, DIR64 8,
 * HIGH, LOW and HIGHADJ 2; ABSOLUTE none), read from its own .reloc directory (the base file at
 * build time, the module in memory when checking), and the hooks' ranges.
 * @param pe      in: the image, file or loaded layout
 * @param hooks   in: the bytes the patch's hooks overwrite (HookRva, its size); may be NULL
 *                when nhooks is 0
 * @param arena   in/out: holds the ranges
 * @param out     out
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, or hp_pe_relocs_parse's status for a directory that
 *         does not parse (HP_E_DIR_RANGE, HP_E_RELOC_*).
 */
hp_status hp_pe_fn_mask_make(const hp_pe *pe, const hp_pe_range *hooks, uint32_t nhooks,
                             hp_arena *arena, hp_pe_fn_mask *out);

/**
 * The hash input of the function at rva from its bytes: every byte of buf (the len bytes at
 * rva) that the mask covers set to zero, in place. One pass over the ranges that can overlap.
 */
void hp_pe_fn_mask_apply(const hp_pe_fn_mask *m, uint32_t rva, uint8_t *buf, uint32_t len);

/**
 * Prepare hp_pe_fn_length for an image (file layout: build time).
 * @param entries   in: every function entry known, ascending (hp_site_analyze's sites);
 *                  must outlive out
 * @return HP_OK, HP_E_ARG (entries not ascending), HP_E_NOMEM, HP_E_PDATA.
 */
hp_status hp_pe_fn_bounds_make(const hp_pe *pe, const uint32_t *entries, uint32_t nentries,
                               hp_arena *arena, hp_pe_fn_bounds *out);

/**
 * How many bytes of the function at rva a patch hashes: up to its x64 .pdata primary entry's
 * EndAddress when it has one (begin == rva, end > rva), else up to the next entry after rva;
 * never past its section's initialized data (the bytes the file has); at most
 * HOTPE_HASH_LENGTH_MAX.
 * @return HP_OK (*len >= 1), HP_E_ARG, HP_E_RVA (rva is not in a section's initialized data).
 */
hp_status hp_pe_fn_length(const hp_pe_fn_bounds *b, uint32_t rva, uint32_t *len);

#endif
