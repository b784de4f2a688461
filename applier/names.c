/* hotpe: the names of a base image for hotpe build (names.h). */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hotpe/descriptor.h"

hp_status hp_names_init(hp_names *names, const hp_pe *base, hp_arena *arena)
{
    memset(names, 0, sizeof *names);
    names->base = base;
    HP_CHECK(hp_pe_exports_parse(base, arena, &names->ex));
    return hp_pe_symbols_parse(base, arena, &names->syms);
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
    return s;
}

/* ---- resolving names against the base ------------------------------------------------- */

static bool sym_name_is(const hp_names *names, const char *sym, const char *name)
{
    if (strcmp(sym, name) == 0)
        return true;
    /* x86 C names carry a leading underscore */
    return names->base->machine == HP_IMAGE_FILE_MACHINE_I386 && sym[0] == '_' &&
           strcmp(sym + 1, name) == 0;
}

static bool in_exec_section(const hp_pe *pe, uint32_t rva)
{
    const hp_pe_section *s = hp_pe_section_of(pe, rva);
    return s && (s->characteristics & HP_IMAGE_SCN_MEM_EXECUTE);
}

bool hp_names_resolve(const hp_names *names, const char *name, bool function, uint32_t *rva,
                      uint8_t *src)
{
    const hp_pe *base = names->base;
    const hp_pe_export *e;
    if (names->ex.present && hp_pe_exports_resolve(&names->ex, name, &e) == HP_OK &&
        !e->forwarder && e->rva && (!function || in_exec_section(base, e->rva))) {
        *rva = e->rva;
        *src = HOTPE_SRC_EXPORT;
        return true;
    }
    for (uint32_t i = 0; i < names->syms.count; i++) {
        const hp_pe_symbol *s = &names->syms.entries[i];
        if (!s->name || !sym_name_is(names, s->name, name))
            continue;
        uint32_t r;
        if (hp_pe_symbol_function_rva(base, s, &r)) {
            if (!function)
                continue; /* a function is not data */
        } else {
            if (s->section < 1 || s->section > base->section_count)
                continue;
            const hp_pe_section *sec = &base->sections[s->section - 1];
            if (s->value >= (sec->virtual_size ? sec->virtual_size : sec->raw_size))
                continue;
            r = sec->virtual_address + s->value;
            if (function != in_exec_section(base, r))
                continue;
        }
        *rva = r;
        *src = HOTPE_SRC_SYMBOL;
        return true;
    }
    for (uint32_t i = 0; i < names->map_count; i++) {
        uint32_t r;
        if (!sym_name_is(names, names->map[i].name, name) ||
            hp_pe_va_to_rva(base, names->map[i].va, &r) != HP_OK)
            continue;
        if (function && !in_exec_section(base, r))
            continue;
        *rva = r;
        *src = HOTPE_SRC_MAP;
        return true;
    }
    return false;
}
