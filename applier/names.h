/*
 * hotpe: the names of a base image, for `hotpe build` (build.c): where a descriptor's name lies
 * in the base. Exports first, then COFF symbols in table order, then the symbols of a GNU ld
 * map file (--map) in file order; on x86 a symbol "_name" also answers for "name" (C names
 * carry a leading underscore).
 *
 * Each source is indexed once: its names sorted with their positions, found by binary search.
 * Among the entries of one name, the position decides, so the first that fits is the one a
 * scan in source order would find; resolving every name of a patch costs O(names x log
 * symbols) instead of O(names x symbols).
 */
#ifndef HOTPE_NAMES_H
#define HOTPE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/pe/arena.h"
#include "hotpe/pe/pe.h"

/** One symbol of a map file: a line "  0x<hex>  <name>". */
typedef struct hp_names_map_sym {
    const char *name;
    uint64_t va;
} hp_names_map_sym;

/** One key of an index: a name, and the position of its entry in the source's order. */
typedef struct hp_names_key {
    const char *key;
    uint32_t idx;
} hp_names_key;

/** The keys of one source, sorted by key, then position. */
typedef struct hp_names_index {
    hp_names_key *keys;
    size_t count;
} hp_names_index;

/** The base's names, from hp_names_init (and hp_names_load_map). */
typedef struct hp_names {
    const hp_pe *base;
    hp_pe_exports ex;
    hp_pe_symbols syms;
    hp_names_map_sym *map;
    uint32_t map_count;
    hp_names_index by_export;  /* idx: into ex.names */
    hp_names_index by_symbol;  /* idx: into syms.entries; x86: "_name" also under "name" */
    hp_names_index by_map;     /* idx: into map; the same underscore rule */
} hp_names;

/**
 * Parse and index the base's exports and COFF symbols.
 * @param base   in: a parsed image in file layout; must outlive names
 * @param arena  in/out: holds the tables and indexes
 * @return HP_OK, HP_E_NOMEM, hp_pe_exports_parse's and hp_pe_symbols_parse's statuses.
 */
hp_status hp_names_init(hp_names *names, const hp_pe *base, hp_arena *arena);

/**
 * Read and index the symbols of a GNU ld map file (ld -Map).
 * @param detail  out: why the file could not be read (with HP_E_BUILD_MAP)
 * @return HP_OK, HP_E_BUILD_MAP (unreadable), HP_E_NOMEM.
 */
hp_status hp_names_load_map(hp_names *names, hp_arena *arena, const char *path, char *detail,
                            size_t detail_size);

/**
 * The RVA of name in the base, by the precedence above.
 * @param function  in: true wants code (an executable section), false wants data
 * @param rva       out: where it lies
 * @param src       out: HOTPE_SRC_EXPORT, HOTPE_SRC_SYMBOL or HOTPE_SRC_MAP
 * @return whether the name was found.
 */
bool hp_names_resolve(const hp_names *names, const char *name, bool function, uint32_t *rva,
                      uint8_t *src);

#endif
