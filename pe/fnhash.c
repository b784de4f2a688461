/* hotpe: which bytes of a replaced function a patch hashes (fnhash.h). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "hotpe/pe/fnhash.h"

/* Bytes a base relocation of this type rewrites on x86 and x64 (0: none). */
static unsigned field_width(unsigned type)
{
    switch (type) {
    case HP_IMAGE_REL_BASED_HIGH:
    case HP_IMAGE_REL_BASED_LOW:
    case HP_IMAGE_REL_BASED_HIGHADJ: return 2;
    case HP_IMAGE_REL_BASED_HIGHLOW: return 4;
    case HP_IMAGE_REL_BASED_DIR64: return 8;
    default: return 0;
    }
}

static int cmp_range(const void *a, const void *b)
{
    const hp_pe_range *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return x->len < y->len ? -1 : x->len > y->len;
}

hp_status hp_pe_fn_mask_make(const hp_pe *pe, const hp_pe_range *hooks, uint32_t nhooks,
                             hp_arena *arena, hp_pe_fn_mask *out)
{
    if (!pe || !arena || !out || (nhooks && !hooks))
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    hp_pe_relocs rel;
    HP_CHECK(hp_pe_relocs_parse(pe, arena, &rel));
    uint64_t cap = (uint64_t)rel.count + nhooks;
    if (cap > UINT32_MAX)
        return HP_E_OVERFLOW;
    hp_pe_range *r = hp_arena_array(arena, cap ? (size_t)cap : 1, sizeof *r);
    if (!r)
        return HP_E_NOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < rel.count; i++) {
        unsigned w = field_width(rel.entries[i].type);
        if (w)
            r[n++] = (hp_pe_range){ rel.entries[i].rva, w };
    }
    for (uint32_t i = 0; i < nhooks; i++)
        if (hooks[i].len)
            r[n++] = hooks[i];
    /* blocks are page-ordered in practice, but nothing says so */
    qsort(r, n, sizeof *r, cmp_range);
    for (uint32_t i = 0; i < n; i++)
        if (r[i].len > out->longest)
            out->longest = r[i].len;
    out->count = n;
    out->ranges = r;
    return HP_OK;
}

/* The first range starting at or after rva (count when none). */
static uint32_t first_at(const hp_pe_fn_mask *m, uint64_t rva)
{
    uint32_t lo = 0, hi = m->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->ranges[mid].rva < rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void hp_pe_fn_mask_apply(const hp_pe_fn_mask *m, uint32_t rva, uint8_t *buf, uint32_t len)
{
    if (!m || !buf)
        return;
    uint64_t end = (uint64_t)rva + len;
    /* a range starting up to `longest` bytes before rva can still reach into it */
    for (uint32_t i = first_at(m, rva > m->longest ? (uint64_t)rva - m->longest : 0);
         i < m->count && m->ranges[i].rva < end; i++) {
        uint64_t lo = m->ranges[i].rva, hi = lo + m->ranges[i].len;
        if (lo < rva)
            lo = rva;
        if (hi > end)
            hi = end;
        if (lo < hi)
            memset(buf + (lo - rva), 0, (size_t)(hi - lo));
    }
}

static int cmp_begin(const void *a, const void *b)
{
    const hp_pe_runtime_function *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

hp_status hp_pe_fn_bounds_make(const hp_pe *pe, const uint32_t *entries, uint32_t nentries,
                               hp_arena *arena, hp_pe_fn_bounds *out)
{
    if (!pe || !arena || !out || (nentries && !entries))
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    for (uint32_t i = 1; i < nentries; i++)
        if (entries[i] <= entries[i - 1])
            return HP_E_ARG;
    out->pe = pe;
    out->entries = entries;
    out->nentries = nentries;
    if (pe->machine != HP_IMAGE_FILE_MACHINE_AMD64)
        return HP_OK;
    hp_pe_pdata pd;
    HP_CHECK(hp_pe_pdata_parse(pe, arena, &pd));
    if (!pd.count)
        return HP_OK;
    if (!(out->primary = hp_arena_array(arena, pd.count, sizeof *out->primary)))
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < pd.count; i++) {
        hp_pe_runtime_function primary;
        /* a chained entry is a fragment of another function (as in site analysis, unreadable
         * unwind info does not hide an entry) */
        if (hp_pe_unwind_primary(pe, &pd.entries[i], &primary) == HP_OK &&
            primary.begin != pd.entries[i].begin)
            continue;
        out->primary[out->nprimary++] = pd.entries[i];
    }
    qsort(out->primary, out->nprimary, sizeof *out->primary, cmp_begin);
    return HP_OK;
}

/* The first primary entry beginning at rva with a non-empty range, or NULL. */
static const hp_pe_runtime_function *primary_at(const hp_pe_fn_bounds *b, uint32_t rva)
{
    uint32_t lo = 0, hi = b->nprimary;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->primary[mid].begin < rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < b->nprimary && b->primary[lo].begin == rva; lo++)
        if (b->primary[lo].end > rva)
            return &b->primary[lo];
    return NULL;
}

/* The first entry after rva, or UINT64_MAX. */
static uint64_t next_entry(const hp_pe_fn_bounds *b, uint32_t rva)
{
    uint32_t lo = 0, hi = b->nentries;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->entries[mid] <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->nentries ? b->entries[lo] : UINT64_MAX;
}

hp_status hp_pe_fn_length(const hp_pe_fn_bounds *b, uint32_t rva, uint32_t *len)
{
    if (!b || !b->pe || !len)
        return HP_E_ARG;
    const hp_pe_section *s = hp_pe_section_of(b->pe, rva);
    if (!s)
        return HP_E_RVA;
    /* the bytes the file has: what a build can hash */
    uint64_t limit = (uint64_t)s->virtual_address + hp_pe_section_backed(s);
    if (rva >= limit)
        return HP_E_RVA;
    const hp_pe_runtime_function *rf = primary_at(b, rva);
    uint64_t end = rf ? rf->end : next_entry(b, rva);
    if (end > limit)
        end = limit;
    if (end - rva > HOTPE_HASH_LENGTH_MAX)
        end = (uint64_t)rva + HOTPE_HASH_LENGTH_MAX;
    *len = (uint32_t)(end - rva);
    return HP_OK;
}
