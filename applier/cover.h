/*
 * hotpe: one library's functions inside an image, for `hotpe scan --objects`, `--names` and
 * `--require` (scan.c prints what this finds; docs/scan-example.md).
 *
 * The library's functions come from its COFF objects and archives (pe/coff.h: the functions
 * each object defines, external and static) or from a names list. Each is looked up by its C
 * name among the image's names: its exports and COFF function symbols, x86 decorations
 * undone on both sides (hp_coff_c_name), so "_deflate@8", "deflate@8" and "deflate" are one
 * name. A name the image does not have is "not in the image": inlined everywhere, or discarded
 * by the linker (or, in an image without COFF symbols, a function it does not export). A name
 * several functions carry (static functions of several objects) is every one of them, and is
 * patchable only when each is.
 */
#ifndef HOTPE_COVER_H
#define HOTPE_COVER_H

#include <stdbool.h>
#include <stdint.h>

#include "hotpe/pe/arena.h"
#include "hotpe/pe/pe.h"
#include "hotpe/pe/site.h"

/** One name of the library or of --require, and where it is in the image. */
typedef struct hp_cover_fn {
    const char *name;           /* its C name, or the name as given */
    const char *defined_in;     /* "deflate.o", "libz.a(deflate.o)"; NULL from a list */
    uint32_t site_count;        /* functions of the image with that name, 0: not in the image */
    const hp_site **sites;      /* those, by RVA */
    const hp_site *decides;     /* the first that cannot be patched, else the first; NULL */
    bool patchable;             /* in the image, and each of its sites patchable */
    uint32_t order;             /* read order: the first definition of a name is kept */
} hp_cover_fn;

/** The image's function names: each key a C name, with the site it names. */
typedef struct hp_cover_key {
    const char *key;
    const hp_site *site;
} hp_cover_key;

typedef struct hp_cover_index {
    const hp_pe *pe;
    hp_cover_key *keys;         /* sorted by key, then RVA; one per (key, site) */
    uint32_t count;
    bool symbols;               /* the image has COFF function symbols (not stripped) */
} hp_cover_index;

/**
 * Index the names of an image's functions: its exports and COFF function symbols that are
 * sites of list, and each site's own name.
 * @return HP_OK, HP_E_NOMEM, or the exports' or symbols' parse status.
 */
hp_status hp_cover_index_init(hp_cover_index *ix, const hp_pe *pe, const hp_site_list *list,
                              hp_arena *arena);

/**
 * Where name is in the image: fn->sites, decides, patchable. fn->name and defined_in are the
 * caller's.
 * @param symbol  true: name is a COFF symbol's (x86: "_name", "_name@N", "@name@N"); false: a
 *                name as a user types it (C names; "name@N" taken as "name"; on x86 a
 *                decorated "_name" too when no function is called "_name")
 */
hp_status hp_cover_lookup(const hp_cover_index *ix, hp_arena *arena, const char *name,
                          bool symbol, hp_cover_fn *fn);

/** The library: its functions by name, and what they add up to. */
typedef struct hp_cover {
    const char *lib;            /* LIB: the inputs' common name, or "objects" */
    uint32_t count;
    hp_cover_fn *fns;           /* sorted by name */
    uint32_t in_image, patchable, missing;
    hp_site_list rows;          /* the sites of its functions, by RVA, one each, with counts */
} hp_cover;

/** One input: an object or archive (--objects), or a names list (--names). */
typedef struct hp_cover_input {
    const char *path;
    bool names_list;
} hp_cover_input;

/**
 * Read the inputs, collect the library's functions (objects' external and static functions;
 * import stubs and short import objects skipped), look each up, and gather their sites.
 * A refusal is printed ("hotpe: FILE: reason", "hotpe: LIB.a(member.o): reason").
 * @return HP_EXIT_OK, or HP_EXIT_FAILED after printing why.
 */
int hp_cover_load(hp_cover *cv, const hp_cover_index *ix, const hp_cover_input *inputs,
                  uint32_t ninputs, hp_arena *arena);

/**
 * Read a names list: one name a line, blanks around it ignored, '#' to the end of a line a
 * comment. Adds them to *names (an arena array grown as needed).
 * @return HP_OK, HP_E_IO (*err: why), HP_E_NOMEM.
 */
hp_status hp_cover_read_names(const char *path, hp_arena *arena, const char ***names,
                              uint32_t *count, const char **err);

/** The reason a name is not patchable, e.g. "class no-padding; no trampoline: branch-into at
 *  0x1234", into buf; for hp_cli_fail's detail and JSON. */
void hp_cover_reason(const hp_cover_fn *fn, char *buf, size_t cap);

#endif
