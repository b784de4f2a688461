/* hotpe: one library's functions inside an image (cover.h). */
#include "cover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hotpe/pe/coff.h"

/* ---- the image's names ---------------------------------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
    const hp_cover_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->site->rva < y->site->rva ? -1 : x->site->rva > y->site->rva;
}

hp_status hp_cover_index_init(hp_cover_index *ix, const hp_pe *pe, const hp_site_list *list,
                              hp_arena *arena)
{
    memset(ix, 0, sizeof *ix);
    ix->pe = pe;
    hp_pe_exports ex;
    hp_pe_symbols sy = { 0, NULL };
    HP_CHECK(hp_pe_exports_parse(pe, arena, &ex));
    if (pe->layout == HP_PE_LAYOUT_FILE)
        HP_CHECK(hp_pe_symbols_parse(pe, arena, &sy));
    uint64_t cap = (uint64_t)(ex.present ? ex.name_count : 0) + sy.count;
    ix->keys = hp_arena_array(arena, cap ? (size_t)cap : 1, sizeof *ix->keys);
    if (!ix->keys)
        return HP_E_NOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; ex.present && i < ex.name_count; i++) {
        const hp_pe_export *e = &ex.entries[ex.names[i].index];
        const hp_site *site = e->forwarder ? NULL : hp_site_find(list, e->rva);
        if (!site)
            continue;
        ix->keys[n].key = hp_coff_c_name(arena, pe->machine, ex.names[i].name, false);
        ix->keys[n].site = site;
        if (!ix->keys[n++].key)
            return HP_E_NOMEM;
    }
    for (uint32_t i = 0; i < sy.count; i++) {
        uint32_t rva;
        const hp_site *site;
        if (!hp_pe_symbol_function_rva(pe, &sy.entries[i], &rva) ||
            !(site = hp_site_find(list, rva)))
            continue;
        ix->symbols = true;
        ix->keys[n].key = hp_coff_c_name(arena, pe->machine, sy.entries[i].name, true);
        ix->keys[n].site = site;
        if (!ix->keys[n++].key)
            return HP_E_NOMEM;
    }
    if (n > 1)
        qsort(ix->keys, n, sizeof *ix->keys, key_cmp);
    /* one key per (name, site): an export and a symbol of one function say the same */
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (k == 0 || key_cmp(&ix->keys[k - 1], &ix->keys[i]) != 0)
            ix->keys[k++] = ix->keys[i];
    ix->count = k;
    return HP_OK;
}

/* The first key equal to name, or where it would be. */
static uint32_t first_key(const hp_cover_index *ix, const char *name)
{
    uint32_t lo = 0, hi = ix->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->keys[mid].key, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint32_t key_run(const hp_cover_index *ix, const char *key, uint32_t *first)
{
    uint32_t k = *first = first_key(ix, key), n = 0;
    while (k + n < ix->count && strcmp(ix->keys[k + n].key, key) == 0)
        n++;
    return n;
}

hp_status hp_cover_lookup(const hp_cover_index *ix, hp_arena *arena, const char *name,
                          bool symbol, hp_cover_fn *fn)
{
    uint16_t machine = ix->pe->machine;
    const char *key = hp_coff_c_name(arena, machine, name, symbol);
    if (!key)
        return HP_E_NOMEM;
    uint32_t first, n = key_run(ix, key, &first);
    /* typed on x86 as its symbol: "_deflate" when no function is called "_deflate" */
    if (n == 0 && !symbol && machine == HP_IMAGE_FILE_MACHINE_I386 && name[0] == '_') {
        if (!(key = hp_coff_c_name(arena, machine, name, true)))
            return HP_E_NOMEM;
        n = key_run(ix, key, &first);
    }
    fn->site_count = n;
    fn->sites = NULL;
    fn->decides = NULL;
    fn->patchable = n > 0;
    if (n == 0)
        return HP_OK;
    fn->sites = hp_arena_array(arena, n, sizeof *fn->sites);
    if (!fn->sites)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        const hp_site *s = ix->keys[first + i].site;
        fn->sites[i] = s;
        if (!hp_site_class_patchable(s->cls) && fn->patchable) {
            fn->patchable = false;
            fn->decides = s;
        }
    }
    if (!fn->decides)
        fn->decides = fn->sites[0];
    return HP_OK;
}

void hp_cover_reason(const hp_cover_fn *fn, char *buf, size_t cap)
{
    const hp_site *s = fn->decides;
    if (!s) {
        snprintf(buf, cap, "%s", "");
        return;
    }
    int n = snprintf(buf, cap, "class %s", hp_site_class_name(s->cls));
    if (n > 0 && (size_t)n < cap && !hp_site_class_patchable(s->cls) &&
        s->tramp < HP_TRAMP_VERDICT_COUNT && s->tramp != HP_TRAMP_MOVABLE)
        snprintf(buf + n, cap - (size_t)n, "; no trampoline: %s at 0x%x",
                 hp_tramp_verdict_name((hp_tramp_verdict)s->tramp), s->tramp_at);
    if (n > 0 && (size_t)n < cap && fn->site_count > 1)
        snprintf(buf + strlen(buf), cap - strlen(buf), "; %u functions of that name",
                 fn->site_count);
}

/* ---- names lists ------------------------------------------------------------------------ */

static bool space(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\r' || b == '\v' || b == '\f';
}

static hp_status add_name(hp_arena *arena, const char ***names, uint32_t *count, uint32_t *cap,
                          const char *name)
{
    if (*count == *cap) {
        uint32_t ncap = *cap ? 2 * *cap : 16;
        const char **grown = hp_arena_array(arena, ncap, sizeof *grown);
        if (!grown || ncap <= *cap)
            return HP_E_NOMEM;
        if (*count)
            memcpy(grown, *names, *count * sizeof *grown);
        *names = grown;
        *cap = ncap;
    }
    (*names)[(*count)++] = name;
    return HP_OK;
}

hp_status hp_cover_read_names(const char *path, hp_arena *arena, const char ***names,
                              uint32_t *count, const char **err)
{
    uint8_t *data;
    size_t size;
    hp_status s = hp_cli_read_file(path, &data, &size, err);
    if (s != HP_OK)
        return s;
    hp_rd rd = hp_rd_make(data, size);
    uint32_t cap = *count;
    for (size_t i = 0; s == HP_OK && i < size;) {
        /* one line: [i, e), the name [b, t) before any '#', blanks around it dropped */
        size_t e = i, b, t;
        uint8_t ch = 0;
        while (hp_rd_u8(&rd, e, &ch) == HP_OK && ch != '\n')
            e++;
        for (t = i; t < e && hp_rd_u8(&rd, t, &ch) == HP_OK && ch != '#'; t++)
            ;
        for (b = i; b < t && hp_rd_u8(&rd, b, &ch) == HP_OK && space(ch); b++)
            ;
        while (t > b && hp_rd_u8(&rd, t - 1, &ch) == HP_OK && space(ch))
            t--;
        hp_rd name;
        if (t > b && hp_rd_sub(&rd, b, t - b, &name) == HP_OK) {
            const char *copy = hp_arena_strndup(arena, name.data, name.size);
            s = copy ? add_name(arena, names, count, &cap, copy) : HP_E_NOMEM;
        }
        i = e + 1;
    }
    free(data);
    return s;
}

/* ---- the library ------------------------------------------------------------------------ */

typedef struct collector {
    hp_arena *arena;
    const hp_cover_index *ix;
    hp_cover_fn *fns;
    uint32_t count, cap;
} collector;

static hp_status add_fn(collector *c, const char *name, const char *defined_in, bool symbol)
{
    if (c->count == c->cap) {
        uint32_t ncap = c->cap ? 2 * c->cap : 64;
        hp_cover_fn *grown = hp_arena_array(c->arena, ncap, sizeof *grown);
        if (!grown || ncap <= c->cap)
            return HP_E_NOMEM;
        if (c->count)
            memcpy(grown, c->fns, c->count * sizeof *grown);
        c->fns = grown;
        c->cap = ncap;
    }
    hp_cover_fn *fn = &c->fns[c->count];
    memset(fn, 0, sizeof *fn);
    fn->name = symbol ? hp_coff_c_name(c->arena, c->ix->pe->machine, name, true) : name;
    fn->defined_in = defined_in;
    fn->order = c->count;
    if (!fn->name)
        return HP_E_NOMEM;
    HP_CHECK(hp_cover_lookup(c->ix, c->arena, name, symbol, fn));
    c->count++;
    return HP_OK;
}

/* One object's functions; *skipped when it is an import library's member. */
static int add_object(collector *c, const char *what, const uint8_t *data, size_t size,
                      bool *skipped)
{
    hp_coff obj;
    hp_status s = hp_coff_parse(&obj, c->arena, data, size);
    *skipped = s == HP_E_COFF_IMPORT || (s == HP_OK && obj.import_stub);
    if (*skipped)
        return HP_EXIT_OK;
    if (s != HP_OK)
        return hp_cli_fail(what, s, NULL);
    if (obj.machine != c->ix->pe->machine) {
        char detail[64];
        snprintf(detail, sizeof detail, "object %s, image %s",
                 obj.machine == HP_IMAGE_FILE_MACHINE_AMD64 ? "x64" : "x86",
                 hp_pe_machine_name(c->ix->pe));
        return hp_cli_fail(what, HP_E_SCAN_MACHINE, detail);
    }
    for (uint32_t i = 0; i < obj.symbol_count; i++)
        if (hp_coff_is_function(&obj, &obj.symbols[i]) &&
            (s = add_fn(c, obj.symbols[i].name, what, true)) != HP_OK)
            return hp_cli_fail(what, s, NULL);
    return HP_EXIT_OK;
}

static int add_file(collector *c, const char *path)
{
    uint8_t *data;
    size_t size;
    const char *err;
    hp_status s = hp_cli_read_file(path, &data, &size, &err);
    if (s != HP_OK)
        return hp_cli_fail(path, s, err);
    int rc = HP_EXIT_OK;
    bool skipped;
    if (!hp_ar_is_archive(data, size)) {
        rc = add_object(c, path, data, size, &skipped);
        if (rc == HP_EXIT_OK && skipped)
            rc = hp_cli_fail(path, HP_E_COFF_IMPORT, NULL);
        free(data);
        return rc;
    }
    hp_ar ar;
    s = hp_ar_parse(&ar, c->arena, data, size);
    if (s != HP_OK)
        rc = hp_cli_fail(path, s, NULL);
    uint32_t imports = 0;
    for (uint32_t k = 0; rc == HP_EXIT_OK && k < ar.count; k++) {
        size_t n = strlen(path) + strlen(ar.members[k].name) + 3;
        char *what = hp_arena_alloc(c->arena, n);
        if (!what) {
            rc = hp_cli_fail(path, HP_E_NOMEM, NULL);
            break;
        }
        snprintf(what, n, "%s(%s)", path, ar.members[k].name);
        rc = add_object(c, what, ar.members[k].data.data, ar.members[k].data.size, &skipped);
        imports += skipped;
    }
    /* an import library: the DLL's names, none of its code */
    if (rc == HP_EXIT_OK && ar.count && imports == ar.count)
        rc = hp_cli_fail(path, HP_E_COFF_IMPORT, "give the static library or its objects");
    free(data);
    return rc;
}

static int fn_cmp(const void *a, const void *b)
{
    const hp_cover_fn *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    /* the first definition read stays first: inputs in order, members in order */
    return x->order < y->order ? -1 : x->order > y->order;
}

static int site_ptr_cmp(const void *a, const void *b)
{
    const hp_site *x = *(const hp_site *const *)a, *y = *(const hp_site *const *)b;
    return x->rva < y->rva ? -1 : x->rva > y->rva;
}

/* "build/libz.a" -> "libz", "obj/deflate.o" -> "deflate". */
static const char *stem(hp_arena *arena, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
#ifdef _WIN32
    const char *bs = strrchr(base, '\\');
    base = bs ? bs + 1 : base;
#endif
    const char *dot = strrchr(base, '.');
    return hp_arena_strndup(arena, base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* LIB: one input's stem; else the inputs' stems' common beginning, without a trailing '_',
 * '-' or '.', when it is at least 2 characters long; else "objects". */
static const char *lib_name(hp_arena *arena, const hp_cover_input *inputs, uint32_t n)
{
    const char *first = n ? stem(arena, inputs[0].path) : NULL;
    if (!first)
        return "objects";
    size_t common = strlen(first);
    for (uint32_t i = 1; i < n; i++) {
        const char *s = stem(arena, inputs[i].path);
        size_t k = 0;
        while (s && k < common && s[k] == first[k])
            k++;
        common = k;
    }
    while (common && strchr("_-.", first[common - 1]))
        common--;
    if (n > 1 && common < 2)
        return "objects";
    return common ? hp_arena_strndup(arena, first, common) : "objects";
}

int hp_cover_load(hp_cover *cv, const hp_cover_index *ix, const hp_cover_input *inputs,
                  uint32_t ninputs, hp_arena *arena)
{
    memset(cv, 0, sizeof *cv);
    collector c = { arena, ix, NULL, 0, 0 };
    for (uint32_t i = 0; i < ninputs; i++) {
        if (!inputs[i].names_list) {
            int rc = add_file(&c, inputs[i].path);
            if (rc != HP_EXIT_OK)
                return rc;
            continue;
        }
        const char **names = NULL, *err = NULL;
        uint32_t count = 0;
        hp_status s = hp_cover_read_names(inputs[i].path, arena, &names, &count, &err);
        for (uint32_t k = 0; s == HP_OK && k < count; k++)
            s = add_fn(&c, names[k], NULL, false);
        if (s != HP_OK)
            return hp_cli_fail(inputs[i].path, s, err);
    }
    cv->lib = lib_name(arena, inputs, ninputs);
    if (!cv->lib)
        return hp_cli_fail("scan", HP_E_NOMEM, NULL);

    /* one entry per name: a static function of two objects is one name with both sites */
    if (c.count > 1)
        qsort(c.fns, c.count, sizeof *c.fns, fn_cmp);
    uint32_t k = 0;
    for (uint32_t i = 0; i < c.count; i++)
        if (k == 0 || strcmp(c.fns[k - 1].name, c.fns[i].name) != 0)
            c.fns[k++] = c.fns[i];
    cv->fns = c.fns;
    cv->count = k;

    uint64_t nsites = 0;
    for (uint32_t i = 0; i < cv->count; i++) {
        const hp_cover_fn *fn = &cv->fns[i];
        cv->in_image += fn->site_count > 0;
        cv->patchable += fn->patchable;
        nsites += fn->site_count;
    }
    cv->missing = cv->count - cv->in_image;

    /* the rows: every site of those names, once, by RVA */
    const hp_site **all = hp_arena_array(arena, nsites ? (size_t)nsites : 1, sizeof *all);
    if (!all)
        return hp_cli_fail("scan", HP_E_NOMEM, NULL);
    uint64_t n = 0;
    for (uint32_t i = 0; i < cv->count; i++)
        for (uint32_t j = 0; j < cv->fns[i].site_count; j++)
            all[n++] = cv->fns[i].sites[j];
    if (n > 1)
        qsort(all, (size_t)n, sizeof *all, site_ptr_cmp);
    cv->rows.sites = hp_arena_array(arena, n ? (size_t)n : 1, sizeof *cv->rows.sites);
    if (!cv->rows.sites)
        return hp_cli_fail("scan", HP_E_NOMEM, NULL);
    for (uint64_t i = 0; i < n; i++)
        if (i == 0 || all[i]->rva != all[i - 1]->rva) {
            cv->rows.sites[cv->rows.count++] = *all[i];
            cv->rows.by_class[all[i]->cls]++;
        }
    return HP_EXIT_OK;
}
