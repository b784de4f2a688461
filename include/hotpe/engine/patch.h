/*
 * hotpe: the checks both sides run on a patch image against a module (hotpe from outside
 * before anything is injected, the shim again in the target): the patch's format, target name,
 * identity, every validation, and the pairing of its hooks into sites. Untrusted bytes are read
 * through pe/ only. Sizes are unbounded: lookups are sorted indexes, not scans, so a patch of
 * 10,000 functions checks in about the time it takes to read it.
 */
#ifndef HOTPE_ENGINE_PATCH_H
#define HOTPE_ENGINE_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/engine/plan.h"
#include "hotpe/engine/sha256.h"
#include "hotpe/engine/wire.h"
#include "hotpe/pe/arena.h"
#include "hotpe/pe/fnhash.h"
#include "hotpe/pe/patchdesc.h"
#include "hotpe/pe/pe.h"
#include "hotpe/status.h"

/* ------------------------------------------------------------------------------------------ */
/* Types                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** A patch image parsed from its file bytes. */
typedef struct hp_patch_info {
    hp_pe pe;
    hp_pe_hotp hotp;
    hp_pe_patchbuild pb;
    uint32_t on_apply_rva, on_revert_rva; /* 0 when absent */
    /* the build record's HOTPE_REPLACE references, by base RVA (hp_patch_function_at) */
    uint32_t nreplace;
    const uint32_t *replace_by_rva;      /* indexes into pb.refs */
} hp_patch_info;

/** One site of a patch: its padding hook and its entry hook. */
typedef struct hp_patch_site {
    uint32_t entry_rva;       /* in the target */
    uint32_t pad_rva;         /* entry_rva - pad_len */
    uint8_t pad_len;          /* 5 or 6 (hp_plan_pad_len of form); 0: the entry form */
    hp_plan_form form;        /* read back from the padding hook's length */
    uint32_t replacement_rva; /* in the patch */
    const char *name;         /* the base function (build record), or NULL */
} hp_patch_site;

/** A patch live in a process: its registry record and sites (in the shim, the registry's own
 * tables; in hotpe, a copy read from the target). */
typedef struct hp_patch_live {
    const hp_wire_patch *rec;
    const hp_wire_site *sites; /* rec->site_count of them */
} hp_patch_live;

/** Why a check failed: which validation, and the bytes (first 16 of each); a function hash:
 * the function's entry, its length and the first 16 bytes of each SHA-256. */
typedef struct hp_patch_failure {
    uint32_t rva;             /* in the target */
    uint32_t count;           /* bytes compared (hashed) */
    uint8_t expected[16], found[16];
    const char *function;     /* base function whose site holds rva, or NULL */
    const char *what;         /* identity: which field differs; a validation or hash: why its
                                 bytes could not be read (not backed by the module), else NULL */
} hp_patch_failure;

/* ------------------------------------------------------------------------------------------ */
/* Functions                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/**
 * Parse a patch image (file layout): .hotp1, hotpe's build record, the callbacks.
 * @param data  in: the file's bytes; must outlive out
 * @return HP_OK, the pe/ parsers' statuses, HP_E_NOT_A_PATCH (no .hotp1 or no build record),
 *         HP_E_LIVE_HOOKS (no hooks), HP_E_NOMEM.
 */
hp_status hp_patch_load(hp_patch_info *out, hp_arena *arena, const void *data, size_t size);

/**
 * Pair the hooks into sites: each X86_JMP2B entry hook with the padding hook its displacement
 * reaches, whose length gives the site's form (plan.h); then each jump hook left over is an
 * entry-form site (5 bytes at the entry of a function the build record marks
 * HOTPE_REF_F_TRAMP). Hotpatch sites first, in hook order.
 * @param out    out: the sites (arena)
 * @return HP_OK, HP_E_NOMEM, HP_E_LIVE_HOOKS (unpaired, unknown or duplicate hooks),
 *         HP_E_UNSUPPORTED (PC-relative fixups: not built yet).
 */
hp_status hp_patch_sites(const hp_patch_info *pi, hp_arena *arena, hp_patch_site **out,
                         uint32_t *count);

/**
 * Check a patch against a module (loaded layout, a live copy or the module itself): machine,
 * target name (module_name compared case-insensitively, path stripped), identity
 * (TimeDateStamp, SizeOfImage, CheckSum as hp_pe_build_identity gives them, the originals of a
 * module rewritten with .hotpei; CodeView GUID and age when recorded), then every
 * validation, then every function hash the build record holds (hp_patch_fn_hash over the
 * module's bytes, masked by its own .reloc directory and the patch's hooks). When the patch
 * supersedes `under` (a live patch of the same module), the validations and hashes are
 * compared with the bytes as they were before `under`: its journal laid over the live bytes.
 * A module copy must hold the headers, the .hotpei header when there is that section, every
 * validation's and hash's bytes and the .reloc directory.
 * @param under  in/opt: the live patch being superseded
 * @param why    out/opt: details of a refusal (rva: the failing validation or function)
 * @return HP_OK, HP_E_LIVE_TARGET_NAME, HP_E_LIVE_IDENTITY, HP_E_BUILD_MACHINE,
 *         HP_E_SETDLL_MARKER (a damaged .hotpei: the module names no build),
 *         HP_E_TXN_VALIDATION (a validation's bytes differ or are not backed),
 *         HP_E_LIVE_FUNC_HASH (a replaced function's bytes hash otherwise or are not backed),
 *         the module's .reloc directory's status (HP_E_DIR_RANGE, HP_E_RELOC_*) when it has
 *         hashes to check, HP_E_UNSUPPORTED (no SHA-256 provider), HP_E_NOMEM.
 */
hp_status hp_patch_check(const hp_patch_info *pi, const hp_pe *module, const char *module_name,
                         const hp_patch_live *under, hp_arena *arena, hp_patch_failure *why);

/**
 * The SHA-256 a patch records for the function at rva (docs/live.md "Function hashes"): buf
 * holds its len bytes as the base has them (the base file's, or the running module's with the
 * superseded patch's journal laid over them); the mask's bytes are zeroed in buf, then the len
 * bytes are hashed in one pass. `hotpe build` and hp_patch_check both call this.
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, HP_E_UNSUPPORTED (no SHA-256 provider).
 */
hp_status hp_patch_fn_hash(const hp_pe_fn_mask *m, uint32_t rva, uint8_t *buf, uint32_t len,
                           uint8_t out[HP_SHA256_LEN]);

/** The build record's name for the site holding target RVA rva (its padding or entry), or NULL. */
const char *hp_patch_function_at(const hp_patch_info *pi, uint32_t rva);

/** ASCII case-insensitive compare of the last path component of path with name; a name with
 * no extension matches a component with one ("ticker" is ticker.exe). */
bool hp_patch_same_module(const char *path, const char *name);

/* A patch's name, the same in every process and on every machine: what it patches, its
 * sequence and its file's content, "TARGET#SEQUENCE@HASH" (HASH: the first
 * HP_PATCH_NAME_HASH_HEX hex digits of the file's SHA-256), e.g. "demo.exe#2@3f9a1c2b5d6e". */
#define HP_PATCH_NAME_HASH_HEX 12
#define HP_PATCH_NAME_MAX (64 + 12 + 1 + HP_PATCH_NAME_HASH_HEX + 2)

/** Write a patch's name into out (HP_PATCH_NAME_MAX bytes); a NULL target is "?". */
void hp_patch_name(char out[HP_PATCH_NAME_MAX], const char *target, uint32_t sequence,
                   const uint8_t sha256[HP_SHA256_LEN]);
/** Whether name (as a user typed it) names that patch: the target compared as
 * hp_patch_same_module does, the sequence in decimal, and at least 8 and at most 64 hex digits
 * of the hash, any case. */
bool hp_patch_name_matches(const char *name, const char *target, uint32_t sequence,
                           const uint8_t sha256[HP_SHA256_LEN]);
/** Whether s has the shape of a patch name (TARGET#DIGITS@HEX), not a file or an id. */
bool hp_patch_name_shaped(const char *s);

#endif
