/* hotpe: region allocator (see arena.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/pe/arena.h"

/* Under ASan, the unused tail of a block (and each allocation's rounding) is poisoned, so a
 * read past the end of one parse result is reported instead of landing in the next. */
#if defined(__SANITIZE_ADDRESS__)
#define HP_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HP_ARENA_ASAN 1
#endif
#endif
#ifdef HP_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define HP_ARENA_CHUNK (64u * 1024u)
#define HP_ARENA_ALIGN 16u

struct hp_arena_block {
    hp_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *hp_arena_alloc(hp_arena *a, size_t want)
{
    if (want > SIZE_MAX - HP_ARENA_ALIGN - HP_ARENA_CHUNK)
        return NULL;
    size_t n = (want + HP_ARENA_ALIGN - 1) & ~(size_t)(HP_ARENA_ALIGN - 1);
    hp_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > HP_ARENA_CHUNK ? n : HP_ARENA_CHUNK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        POISON(b->data, cap);
        /* Keep the partly used head first when the new block is a one-off large one. */
        if (a->head && cap == n && a->head->cap - a->head->used >= HP_ARENA_ALIGN) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    UNPOISON(p, want);
    memset(p, 0, want);
    return p;
}

void *hp_arena_array(hp_arena *a, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n))
        return NULL;
    return hp_arena_alloc(a, n ? n : 1);
}

char *hp_arena_strndup(hp_arena *a, const void *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = hp_arena_alloc(a, n + 1);
    if (p && n)
        memcpy(p, s, n);
    return p;
}

void hp_arena_free(hp_arena *a)
{
    hp_arena_block *b = a->head;
    while (b) {
        hp_arena_block *next = b->next;
        UNPOISON(b->data, b->cap);
        free(b);
        b = next;
    }
    a->head = NULL;
}
