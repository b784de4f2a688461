/*
 * hotpe: the SDK's descriptor records (section ".hotpe", written by the macros of
 * sdk/include/hotpe/patch.h) and hotpe build's record in .hotp1. The layouts are defined once,
 * in sdk/include/hotpe/descriptor.h.
 */
#ifndef HOTPE_PATCHDESC_H
#define HOTPE_PATCHDESC_H

#include <stdbool.h>
#include <stdint.h>

#include "hotpe/descriptor.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/pe.h"

/* ------------------------------------------------------------------------------------------ */
/* Types                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** One descriptor record, its VAs converted to RVAs of the patch (0 when the VA was 0). */
typedef struct hp_pe_patchdesc_entry {
    uint32_t rva;            /* of the record */
    uint32_t kind;           /* HOTPE_DESC_* */
    uint32_t sequence;
    uint32_t name_rva;
    const char *name;        /* never NULL: every kind has a name */
    uint32_t object_rva;     /* slot, or 0 */
    uint32_t function_rva;   /* function, or 0 */
    uint32_t text_rva;
    const char *text;        /* NULL when Text is 0 */
} hp_pe_patchdesc_entry;

typedef struct hp_pe_patchdesc {
    bool present;            /* the image has a ".hotpe" section */
    uint32_t count;
    hp_pe_patchdesc_entry *entries; /* in section order */
} hp_pe_patchdesc;

typedef struct hp_pe_patchbuild {
    bool present;
    uint32_t rva;
    hotpe_build_disk rec;    /* every field as stored */
    hotpe_build_ref *refs;   /* rec.RefCount of them */
    const char **ref_names;  /* the string at each ref's NameRva (NULL when 0) */
    hotpe_build_recipe *recipes; /* rec.RecipeCount of them, sorted by BaseRva */
    hotpe_build_hash *hashes; /* rec.HashCount of them, sorted by BaseRva (none: version 3) */
} hp_pe_patchbuild;

/** Most bytes a recipe moves: 4 + a 15-byte instruction. */
#define HP_PE_RECIPE_BYTES_MAX 19u

/* ------------------------------------------------------------------------------------------ */
/* Functions                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/**
 * The descriptor records of the section ".hotpe"; present=false and HP_OK without one. The
 * section's backed bytes are walked in 4-byte steps: zero u32s are skipped (linker padding),
 * a record starts with HOTPE_DESC_MAGIC and must be whole; anything else is an error.
 * @param pe     in: the patch image (file or loaded layout; VAs are taken against ImageBase,
 *               so a loaded image must be unrelocated or its VAs are refused)
 * @param arena  in/out: holds the entries and strings
 * @param out    out
 * @return HP_OK, HP_E_ARG, HP_E_PATCHDESC (a truncated record, a word that is neither zero nor
 *         the magic, an unknown version or kind, a VA outside the image, a missing name),
 *         HP_E_PATCHDESC_STRING (a name or text not backed or unterminated within 4096
 *         bytes), HP_E_NOMEM.
 */
hp_status hp_pe_patchdesc_parse(const hp_pe *pe, hp_arena *arena, hp_pe_patchdesc *out);

/**
 * hotpe build's record at rva (the .hotp1 header's RVA + 0x50); present=false and HP_OK when
 * the bytes there do not start with HOTPE_BUILD_MAGIC. Versions 3 (no function hashes:
 * rec.HashCount 0) and 4 are read.
 * @return HP_OK, HP_E_ARG, HP_E_PATCHBUILD (record, reference, recipe or hash array not
 *         backed, Size, offsets or version inconsistent, a reference of an unknown kind, flags
 *         or whose PatchRva is outside the patch's sections, a name not backed or unterminated,
 *         a recipe hp_insn_tramp_make would refuse or out of order, a stub reference without
 *         its recipe or whose bytes differ from it, a hash of 0 or more than
 *         HOTPE_HASH_LENGTH_MAX bytes, past the base's SizeOfImage, out of order, of no
 *         REPLACE reference, or a REPLACE reference without one), HP_E_NOMEM.
 */
hp_status hp_pe_patchbuild_parse(const hp_pe *pe, hp_arena *arena, uint32_t rva,
                                 hp_pe_patchbuild *out);

/** The recipe for the function at base_rva, or NULL. */
const hotpe_build_recipe *hp_pe_patchbuild_recipe(const hp_pe_patchbuild *pb, uint32_t base_rva);

/** The hash of the replaced function at base_rva, or NULL (always NULL in version 3). */
const hotpe_build_hash *hp_pe_patchbuild_hash(const hp_pe_patchbuild *pb, uint32_t base_rva);

/** A recipe as insn.h's moves (out: its Count of them); 0 for a count out of range. */
unsigned hp_pe_recipe_moves(const hotpe_build_recipe *r, hp_insn_moved out[HOTPE_RECIPE_MAX]);

/** "patch", "replace", "base-data", "base-func", "original", "on-apply", "on-revert"; "?". */
const char *hp_pe_patchdesc_kind_name(uint32_t kind);

#endif
