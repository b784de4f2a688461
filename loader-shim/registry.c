/*
 * hotpe-shim.dll: the registry, the shim's one global (style: no hidden state; this one block is
 * exported and versioned, see wire.h). The patch table and each patch's site table live on the
 * process heap and grow with what is applied: no fixed count of patches or sites. Every change
 * a reader could see is bracketed by shim_reg_begin/shim_reg_end; the request lock (shim.c)
 * keeps writers to one. Tables are never grown or freed while threads are frozen (heap lock).
 */
#include <windows.h>
#include <string.h>

#include "shim.h"

hp_wire_registry hotpe_registry = {
    .magic = HP_WIRE_REGISTRY_MAGIC,
    .version = HP_WIRE_VERSION,
    .size = sizeof(hp_wire_registry),
    .next_id = 1,
    .patch_size = sizeof(hp_wire_patch),
    .site_size = sizeof(hp_wire_site),
    .pending_count = HP_WIRE_MAX_PENDING,
};

#define FIRST_CAPACITY 16u

void shim_reg_begin(hp_wire_registry *r)
{
    __atomic_add_fetch(&r->seq, 1, __ATOMIC_SEQ_CST); /* odd: changing */
}

void shim_reg_end(hp_wire_registry *r)
{
    __atomic_add_fetch(&r->seq, 1, __ATOMIC_SEQ_CST); /* even: stable */
}

hp_wire_patch *shim_reg_patch(hp_wire_registry *r, uint32_t index)
{
    return (hp_wire_patch *)(uintptr_t)r->patches + index;
}

hp_wire_site *shim_reg_sites(const hp_wire_patch *p)
{
    return (hp_wire_site *)(uintptr_t)p->sites;
}

uint64_t *shim_reg_blocks(const hp_wire_patch *p)
{
    return (uint64_t *)(uintptr_t)p->aux_blocks;
}

hp_patch_live shim_reg_live(const hp_wire_patch *p)
{
    hp_patch_live l = { p, shim_reg_sites(p) };
    return l;
}

hp_status shim_reg_reserve(hp_wire_registry *r)
{
    if (r->count < r->capacity)
        return HP_OK;
    uint32_t cap = r->capacity ? r->capacity * 2 : FIRST_CAPACITY;
    if (cap < r->capacity || cap > HP_WIRE_READ_MAX_PATCHES)
        return HP_E_NOMEM;
    hp_wire_patch *t = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, cap * sizeof *t);
    if (!t)
        return HP_E_NOMEM;
    hp_wire_patch *old = shim_reg_patch(r, 0);
    if (old)
        memcpy(t, old, r->count * sizeof *t);
    shim_reg_begin(r);
    r->patches = (uint64_t)(uintptr_t)t;
    r->capacity = cap;
    shim_reg_end(r);
    if (old)
        HeapFree(GetProcessHeap(), 0, old);
    return HP_OK;
}

hp_status shim_reg_tables(hp_wire_patch *p, uint32_t nsites, uint32_t nblocks)
{
    /* one allocation: the sites, then the aux block addresses */
    size_t bytes = (size_t)nsites * sizeof(hp_wire_site) + (size_t)nblocks * sizeof(uint64_t);
    if (nsites > HP_WIRE_READ_MAX_SITES)
        return HP_E_NOMEM;
    uint8_t *t = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, bytes ? bytes : 1);
    if (!t)
        return HP_E_NOMEM;
    p->sites = (uint64_t)(uintptr_t)t;
    p->site_count = nsites;
    p->aux_blocks = nblocks ? (uint64_t)(uintptr_t)(t + (size_t)nsites * sizeof(hp_wire_site)) : 0;
    p->aux_block_count = nblocks;
    return HP_OK;
}

static void free_tables(hp_wire_patch *p)
{
    if (p->sites)
        HeapFree(GetProcessHeap(), 0, (void *)(uintptr_t)p->sites);
}

void shim_reg_discard(hp_wire_registry *r, hp_wire_patch *p)
{
    shim_reg_begin(r);
    free_tables(p);
    memset(p, 0, sizeof *p);
    shim_reg_end(r);
}

/* Close the gap at index; with the change open. */
static void drop(hp_wire_registry *r, uint32_t index)
{
    hp_wire_patch *t = shim_reg_patch(r, 0);
    free_tables(&t[index]);
    memmove(&t[index], &t[index + 1], (r->count - index - 1) * sizeof *t);
    memset(&t[--r->count], 0, sizeof *t);
}

void shim_reg_publish(hp_wire_registry *r, uint32_t superseded)
{
    shim_reg_begin(r);
    hp_wire_patch *p = shim_reg_patch(r, r->count);
    p->id = r->next_id++;
    r->count++;
    if (superseded != HP_WIRE_NONE)
        drop(r, superseded);
    shim_reg_end(r);
}

void shim_reg_remove(hp_wire_registry *r, uint32_t index)
{
    shim_reg_begin(r);
    drop(r, index);
    shim_reg_end(r);
}

void shim_reg_set_state(hp_wire_registry *r, hp_wire_patch *p, uint8_t state)
{
    hp_wire_site *s = shim_reg_sites(p);
    shim_reg_begin(r);
    for (uint32_t k = 0; k < p->site_count; k++)
        s[k].state = state;
    shim_reg_end(r);
}
