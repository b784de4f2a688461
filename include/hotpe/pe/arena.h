/*
 * hotpe: a region allocator. Parse results (sections, exports, imports, ...) live in an arena
 * that the caller owns and frees in one call; nothing in pe/ keeps memory of its own.
 */
#ifndef HOTPE_ARENA_H
#define HOTPE_ARENA_H

#include <stddef.h>

typedef struct hp_arena_block hp_arena_block;

typedef struct hp_arena {
    hp_arena_block *head;
} hp_arena;

#define HP_ARENA_INIT { NULL }

/** n zeroed bytes aligned for any type, or NULL when out of memory. */
void *hp_arena_alloc(hp_arena *a, size_t n);
/** count * size zeroed bytes; NULL on overflow or out of memory. */
void *hp_arena_array(hp_arena *a, size_t count, size_t size);
/** A NUL-terminated copy of n bytes. */
char *hp_arena_strndup(hp_arena *a, const void *s, size_t n);
/** Frees everything the arena handed out; the arena can be used again. */
void hp_arena_free(hp_arena *a);

#endif
