/* hotpe: the import and delay-load import directories (see pe.h). */
#include <string.h>

#include "internal.h"

#define HP_IMPORT_NAME_MAX 4096 /* longest DLL or function name accepted */

typedef HP_IMAGE_IMPORT_DESCRIPTOR impdesc;
typedef HP_IMAGE_DELAYLOAD_DESCRIPTOR delaydesc;

/* The statuses that name what is wrong, for either directory. */
typedef struct import_kind {
    bool delay;
    uint32_t desc_size;
    hp_status e_desc, e_thunk, e_name;
} import_kind;

/* One descriptor, normalized: RVAs only. */
typedef struct desc {
    uint32_t name, ilt, iat;
} desc;

static hp_status read_desc(const hp_pe *pe, const import_kind *k, uint32_t rva, desc *d)
{
    hp_rd view;
    uint64_t v;
    HP_CHECK_AS(hp_pe_rva_view(pe, rva, k->desc_size, &view), k->e_desc);
    if (!k->delay) {
        HP_CHECK_AS(HP_RD_FIELD(&view, 0, impdesc, Name, &v), k->e_desc);
        d->name = (uint32_t)v;
        HP_CHECK_AS(HP_RD_FIELD(&view, 0, impdesc, OriginalFirstThunk, &v), k->e_desc);
        d->ilt = (uint32_t)v;
        HP_CHECK_AS(HP_RD_FIELD(&view, 0, impdesc, FirstThunk, &v), k->e_desc);
        d->iat = (uint32_t)v;
        return HP_OK;
    }
    uint64_t attrs;
    HP_CHECK_AS(HP_RD_FIELD(&view, 0, delaydesc, Attributes, &attrs), k->e_desc);
    HP_CHECK_AS(HP_RD_FIELD(&view, 0, delaydesc, DllNameRVA, &v), k->e_desc);
    d->name = (uint32_t)v;
    HP_CHECK_AS(HP_RD_FIELD(&view, 0, delaydesc, ImportNameTableRVA, &v), k->e_desc);
    d->ilt = (uint32_t)v;
    HP_CHECK_AS(HP_RD_FIELD(&view, 0, delaydesc, ImportAddressTableRVA, &v), k->e_desc);
    d->iat = (uint32_t)v;
    /* Attributes bit 0 clear: the old (Visual C++ 6) form holds VAs against ImageBase. The
     * fields are 32 bits, so that form only works for PE32 images. */
    if (!(attrs & 1)) {
        uint32_t *f[3] = { &d->name, &d->ilt, &d->iat };
        for (unsigned i = 0; i < 3; i++)
            if (*f[i])
                HP_CHECK_AS(hp_pe_va_to_rva(pe, *f[i], f[i]), k->e_desc);
    }
    return HP_OK;
}

/* The loader stops at the first descriptor without a name or an IAT (the all-zero descriptor
 * in well-formed images). */
static bool desc_is_end(const desc *d)
{
    return d->name == 0 || d->iat == 0;
}

/* The RVA of thunk i of the array at base; fails when it leaves the 32-bit RVA space. */
static bool thunk_rva(uint32_t base, uint64_t i, unsigned width, uint32_t *out)
{
    uint64_t off, rva;
    if (!hp_mul_u64(i, width, &off) || !hp_add_u64(base, off, &rva) || rva > UINT32_MAX)
        return false;
    *out = (uint32_t)rva;
    return true;
}

/* Number of thunks before the zero terminator. Every thunk read must be backed, so the count
 * is bounded by the image bytes and the loop by them. */
static hp_status count_thunks(const hp_pe *pe, const import_kind *k, uint32_t table,
                              uint32_t *count)
{
    unsigned width = pe->pe32plus ? 8 : 4;
    for (uint64_t i = 0;; i++) {
        uint32_t rva;
        uint64_t v;
        if (!thunk_rva(table, i, width, &rva) || i > UINT32_MAX)
            return k->e_thunk;
        HP_CHECK_AS(hp_pe_rva_ptr(pe, rva, &v), k->e_thunk);
        if (v == 0) {
            *count = (uint32_t)i;
            return HP_OK;
        }
    }
}

static hp_status read_name(const hp_pe *pe, hp_arena *arena, const import_kind *k, uint64_t rva,
                           const char **out)
{
    if (rva > UINT32_MAX)
        return k->e_name;
    hp_status s = hp_pe_rva_str(pe, arena, (uint32_t)rva, HP_IMPORT_NAME_MAX, out);
    return s == HP_E_NOMEM ? s : s != HP_OK ? k->e_name : HP_OK;
}

static hp_status parse_dll(const hp_pe *pe, hp_arena *arena, const import_kind *k, const desc *d,
                           hp_pe_import_dll *dll)
{
    unsigned width = pe->pe32plus ? 8 : 4;
    uint64_t ordinal_flag = (uint64_t)1 << (8 * width - 1);
    uint32_t table = d->ilt ? d->ilt : d->iat;

    dll->delay_load = k->delay;
    dll->ilt_rva = d->ilt;
    dll->iat_rva = d->iat;
    HP_CHECK(read_name(pe, arena, k, d->name, &dll->dll_name));
    HP_CHECK(count_thunks(pe, k, table, &dll->count));
    /* The IAT is written by the loader one slot per lookup entry: it must be as long. */
    uint32_t last;
    if (dll->count && (!thunk_rva(d->iat, (uint64_t)dll->count - 1, width, &last) ||
                       (uint64_t)last + width > pe->size_of_image))
        return k->e_thunk;

    dll->imports = hp_arena_array(arena, dll->count, sizeof *dll->imports);
    if (!dll->imports)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < dll->count; i++) {
        hp_pe_import *imp = &dll->imports[i];
        uint32_t rva;
        uint64_t v;
        if (!thunk_rva(table, i, width, &rva))
            return k->e_thunk;
        HP_CHECK_AS(hp_pe_rva_ptr(pe, rva, &v), k->e_thunk);
        if (!thunk_rva(d->iat, i, width, &imp->iat_rva))
            return k->e_thunk;
        if (v & ordinal_flag) {
            imp->by_ordinal = true;
            imp->ordinal = (uint16_t)v;
            continue;
        }
        /* IMAGE_IMPORT_BY_NAME: u16 hint, then the name. */
        if (v > UINT32_MAX - 2)
            return k->e_name;
        HP_CHECK_AS(hp_pe_rva_u16(pe, (uint32_t)v, &imp->hint), k->e_name);
        HP_CHECK(read_name(pe, arena, k, v + 2, &imp->name));
    }
    return HP_OK;
}

hp_status hp_pe_imports_parse(const hp_pe *pe, hp_arena *arena, bool delay, hp_pe_imports *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    import_kind k = { delay, delay ? sizeof(delaydesc) : sizeof(impdesc),
                      delay ? HP_E_DELAY_IMPORT_DIR : HP_E_IMPORT_DIR,
                      delay ? HP_E_DELAY_IMPORT_THUNK : HP_E_IMPORT_DIR,
                      delay ? HP_E_DELAY_IMPORT_NAME : HP_E_IMPORT_NAME };
    hp_pe_dir dir = hp_pe_dir_get(pe, delay ? HP_IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT
                                            : HP_IMAGE_DIRECTORY_ENTRY_IMPORT);
    /* Like the loader, walk descriptors up to the terminator rather than trusting Size. */
    if (dir.rva == 0)
        return HP_OK;

    /* First pass: count descriptors. Each must be backed, which bounds the count. */
    uint32_t n = 0;
    for (;; n++) {
        uint32_t rva;
        desc d;
        if (!thunk_rva(dir.rva, n, k.desc_size, &rva))
            return k.e_desc;
        HP_CHECK(read_desc(pe, &k, rva, &d));
        if (desc_is_end(&d))
            break;
    }
    out->dlls = hp_arena_array(arena, n, sizeof *out->dlls);
    if (!out->dlls)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t rva;
        desc d;
        if (!thunk_rva(dir.rva, i, k.desc_size, &rva))
            return k.e_desc;
        HP_CHECK(read_desc(pe, &k, rva, &d));
        HP_CHECK(parse_dll(pe, arena, &k, &d, &out->dlls[i]));
        out->count = i + 1;
    }
    return HP_OK;
}
