/*
 * hotpe: applying one patch file to one process, as `hotpe apply` does; `hotpe run` applies its
 * patches through it too (Windows builds only).
 */
#ifndef HOTPE_APPLY_H
#define HOTPE_APPLY_H

#ifdef _WIN32

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <wchar.h>

#include "hotpe/engine/patch.h"
#include "hotpe/engine/wire.h"
#include "json.h"
#include "target.h"
#include "trust.h"

/** A patch file, read and checked once for every process. */
typedef struct hp_apply_patch {
    const char *path;
    wchar_t wpath[HP_WIRE_PATH_MAX];
    uint8_t *data;
    size_t size;
    void *lock;              /* the file, open with no writers while hotpe uses it (a HANDLE) */
    uint8_t sha256[32];      /* of data: the shim loads only a file with these bytes */
    hp_trust_verdict trust;  /* its signature and signer */
    uint64_t file_ns, signature_ns; /* reading and hashing it; judging its signature */
    hp_arena arena;
    hp_patch_info pi;
    hp_patch_site *sites;    /* (arena) */
    uint32_t nsites;
    bool no_freeze;
    bool dry_run;            /* hotpe check: stop after the outside validation */
    bool quiet;              /* set before hp_apply_load: no warning line (hotpe status) */
    FILE *out;               /* the text lines (run: stderr, the program has stdout) */
    /* the shim a process without one gets: HP_OK, or HP_E_LIVE_SHIM and where it was looked
     * for (looked up once, not per process) */
    hp_status shim;
    char shim_looked[HP_WIRE_PATH_MAX * 3];
} hp_apply_patch;

/**
 * Read a patch image and check what needs no process: its signature against the trusted
 * signers (trust.h: an accepted unsigned patch prints the warning line), format, sites, target
 * name, this hotpe's architecture. The file stays open, shared for reading only, until
 * hp_apply_free: the bytes checked here are the bytes the shim is asked to load. pf is zeroed
 * by the caller; out is set to stdout.
 * @param err  out: a detail for the refusal, or NULL
 * @return HP_OK, or why the patch cannot be used (HP_E_IO, HP_E_ARG, HP_E_LIVE_PATCH_ARCH,
 *         HP_E_TRUST_*, ...).
 */
hp_status hp_apply_load(hp_apply_patch *pf, const char *path, const char **err);
/** Free pf and what it holds (NULL: nothing). */
void hp_apply_free(hp_apply_patch *pf);

/**
 * Apply pf to one process (or, pf->dry_run, only check it): the outside checks, then the shim's
 * request. Prints the result (j: one element of "processes") or the one-line refusal.
 * @return 0 or HP_EXIT_FAILED.
 */
int hp_apply_one(const hp_target *t, const hp_apply_patch *pf, hp_json *j);

#endif /* _WIN32 */
#endif
