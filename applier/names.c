/* hotpe: the names of a base image for hotpe build (names.h). */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hotpe/descriptor.h"

/* ---- indexes -------------------------------------------------------------------------- */

static bool x86(const hp_names *names)
{
    return names->base->machine == HP_IMAGE_FILE_MACHINE_I386;
}

static int key_cmp(const void *a, const void *b)
{
    const hp_names_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Room for n names: two keys each under the underscore rule. */
static hp_status index_alloc(hp_arena *arena, size_t n, bool underscore, hp_names_index *ix)
{
    ix->keys = NULL;
    ix->count = 0;
    if (n == 0)
        return HP_OK;
    ix->keys = hp_arena_array(arena, n, (underscore ? 2 : 1) * sizeof *ix->keys);
    return ix->keys ? HP_OK : HP_E_NOMEM;
}

/* Precondition: index_alloc made room for this name. */
static void index_add(hp_names_index *ix, const char *name, uint32_t idx, bool underscore)
{
    if (!name)
        return;
    ix->keys[ix->count++] = (hp_names_key){ name, idx };
    /* x86 C names carry a leading underscore: "_name" answers for "name" too */
    if (underscore && name[0] == '_')
        ix->keys[ix->count++] = (hp_names_key){ name + 1, idx };
}

static void index_sort(hp_names_index *ix)
{
    if (ix->count > 1)
        qsort(ix->keys, ix->count, sizeof *ix->keys, key_cmp);
}

/* The first key equal to name (its lowest position), or where it would be. */
static size_t index_first(const hp_names_index *ix, const char *name)
{
    size_t lo = 0, hi = ix->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->keys[mid].key, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool index_at(const hp_names_index *ix, size_t k, const char *name)
{
    return k < ix->count && strcmp(ix->keys[k].key, name) == 0;
}

hp_status hp_names_init(hp_names *names, const hp_pe *base, hp_arena *arena)
{
    memset(names, 0, sizeof *names);
    names->base = base;
    HP_CHECK(hp_pe_exports_parse(base, arena, &names->ex));
    HP_CHECK(hp_pe_symbols_parse(base, arena, &names->syms));

    uint32_t nnames = names->ex.present ? names->ex.name_count : 0;
    HP_CHECK(index_alloc(arena, nnames, false, &names->by_export));
    for (uint32_t i = 0; i < nnames; i++)
        index_add(&names->by_export, names->ex.names[i].name, i, false);
    index_sort(&names->by_export);

    HP_CHECK(index_alloc(arena, names->syms.count, x86(names), &names->by_symbol));
    for (uint32_t i = 0; i < names->syms.count; i++)
        index_add(&names->by_symbol, names->syms.entries[i].name, i, x86(names));
    index_sort(&names->by_symbol);
    return HP_OK;
}

/* ---- the map file (GNU ld -Map): lines "  0x<hex>  <name>" ---------------------------- */

static bool blank(uint8_t ch)
{
    return ch == ' ' || ch == '\t';
}

static bool ident_char(uint8_t ch)
{
    return ch == '_' || ch == '.' || ch == '$' || ch == '@' || (ch >= '0' && ch <= '9') ||
           (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* Whether the line [i, e) is "0x<1..16 hex digits> <identifier>" between blanks; the name is
 * then [*ns, *ne). */
static bool map_line(const uint8_t *data, size_t i, size_t e, uint64_t *va, size_t *ns,
                     size_t *ne)
{
    size_t k = i;
    while (k < e && blank(data[k]))
        k++;
    if (!(e - k > 2 && data[k] == '0' && data[k + 1] == 'x'))
        return false;
    uint64_t v = 0;
    size_t h = k + 2, digits = 0;
    for (; h < e && digits < 17; h++, digits++) {
        uint8_t ch = data[h];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            d = ch - 'A' + 10;
        else
            break;
        v = v << 4 | d;
    }
    size_t s = h;
    while (s < e && blank(data[s]))
        s++;
    size_t t = s;
    while (t < e && !blank(data[t]) && data[t] != '\r')
        t++;
    size_t rest = t;
    while (rest < e && (blank(data[rest]) || data[rest] == '\r'))
        rest++;
    bool ident = digits > 0 && digits <= 16 && s > h && t > s && rest == e && t - s < 512;
    for (size_t q = s; ident && q < t; q++)
        ident = ident_char(data[q]);
    if (!ident)
        return false;
    *va = v;
    *ns = s;
    *ne = t;
    return true;
}

/* One pass over the lines: count the symbols, and store the first cap of them when map is set. */
static hp_status map_pass(const uint8_t *data, size_t size, hp_arena *arena,
                          hp_names_map_sym *map, uint32_t cap, uint32_t *count)
{
    uint32_t n = 0;
    for (size_t i = 0; i < size;) {
        size_t e = i;
        while (e < size && data[e] != '\n')
            e++;
        uint64_t va;
        size_t ns, ne;
        if (map_line(data, i, e, &va, &ns, &ne) && n < UINT32_MAX) {
            if (map && n < cap) {
                map[n].name = hp_arena_strndup(arena, data + ns, ne - ns);
                map[n].va = va;
                if (!map[n].name)
                    return HP_E_NOMEM;
            }
            n++;
        }
        i = e + 1;
    }
    *count = n;
    return HP_OK;
}

hp_status hp_names_load_map(hp_names *names, hp_arena *arena, const char *path, char *detail,
                            size_t detail_size)
{
    uint8_t *data;
    size_t size;
    const char *err;
    hp_status s = hp_cli_read_file(path, &data, &size, &err);
    if (s != HP_OK) {
        snprintf(detail, detail_size, "%s", err ? err : hp_status_str(s));
        return HP_E_BUILD_MAP;
    }
    /* Count first, then store: one arena array of the exact size. */
    uint32_t cap = 0, n = 0;
    s = map_pass(data, size, arena, NULL, 0, &cap);
    if (s == HP_OK && cap) {
        names->map = hp_arena_array(arena, cap, sizeof *names->map);
        if (!names->map)
            s = HP_E_NOMEM;
    }
    if (s == HP_OK)
        s = map_pass(data, size, arena, names->map, cap, &n);
    if (s == HP_OK)
        names->map_count = n < cap ? n : cap;
    free(data);
    HP_CHECK(s);

    HP_CHECK(index_alloc(arena, names->map_count, x86(names), &names->by_map));
    for (uint32_t i = 0; i < names->map_count; i++)
        index_add(&names->by_map, names->map[i].name, i, x86(names));
    index_sort(&names->by_map);
    return HP_OK;
}

/* ---- resolving names against the base ------------------------------------------------- */

static bool in_exec_section(const hp_pe *pe, uint32_t rva)
{
    const hp_pe_section *s = hp_pe_section_of(pe, rva);
    return s && (s->characteristics & HP_IMAGE_SCN_MEM_EXECUTE);
}

/* The export of that name, as hp_pe_exports_resolve finds it: the first in the name table. */
static bool from_export(const hp_names *names, const char *name, bool function, uint32_t *rva)
{
    const hp_names_index *ix = &names->by_export;
    size_t k = index_first(ix, name);
    if (!names->ex.present || !index_at(ix, k, name))
        return false;
    const hp_pe_export *e = &names->ex.entries[names->ex.names[ix->keys[k].idx].index];
    /* A forwarder may lead back into this DLL: follow it as the library does (rare, so its
     * own lookups by name do not matter). */
    if (e->forwarder && hp_pe_exports_resolve(&names->ex, name, &e) != HP_OK)
        return false;
    if (e->forwarder || !e->rva || (function && !in_exec_section(names->base, e->rva)))
        return false;
    *rva = e->rva;
    return true;
}

/* Whether the COFF symbol s is what a descriptor wants, and where. */
static bool symbol_fits(const hp_pe *base, const hp_pe_symbol *s, bool function, uint32_t *rva)
{
    uint32_t r;
    if (hp_pe_symbol_function_rva(base, s, &r)) {
        if (!function)
            return false; /* a function is not data */
    } else {
        if (s->section < 1 || s->section > base->section_count)
            return false;
        const hp_pe_section *sec = &base->sections[s->section - 1];
        if (s->value >= (sec->virtual_size ? sec->virtual_size : sec->raw_size))
            return false;
        r = sec->virtual_address + s->value;
        if (function != in_exec_section(base, r))
            return false;
    }
    *rva = r;
    return true;
}

bool hp_names_resolve(const hp_names *names, const char *name, bool function, uint32_t *rva,
                      uint8_t *src)
{
    const hp_pe *base = names->base;
    if (from_export(names, name, function, rva)) {
        *src = HOTPE_SRC_EXPORT;
        return true;
    }
    /* The keys of one name are in table (or file) order: the first that fits wins. */
    const hp_names_index *ix = &names->by_symbol;
    for (size_t k = index_first(ix, name); index_at(ix, k, name); k++) {
        if (symbol_fits(base, &names->syms.entries[ix->keys[k].idx], function, rva)) {
            *src = HOTPE_SRC_SYMBOL;
            return true;
        }
    }
    ix = &names->by_map;
    for (size_t k = index_first(ix, name); index_at(ix, k, name); k++) {
        const hp_names_map_sym *m = &names->map[ix->keys[k].idx];
        uint32_t r;
        if (hp_pe_va_to_rva(base, m->va, &r) != HP_OK || (function && !in_exec_section(base, r)))
            continue;
        *rva = r;
        *src = HOTPE_SRC_MAP;
        return true;
    }
    return false;
}
