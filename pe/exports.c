/* hotpe: the export directory (see pe.h). */
#include <string.h>

#include "internal.h"

#define HP_EXPORT_NAME_MAX 4096  /* longest export, DLL or forwarder name accepted */
#define HP_FORWARD_MAX_DEPTH 64  /* same-DLL forwarder hops followed before giving up */

typedef HP_IMAGE_EXPORT_DIRECTORY expdir;

/* A view of count elements of width bytes at rva; empty when count is 0. Fails unless every
 * byte is backed, so counts taken from the file never size an allocation on their own. */
static hp_status array_view(const hp_pe *pe, uint32_t rva, uint32_t count, unsigned width,
                            hp_rd *out)
{
    *out = hp_rd_make(NULL, 0);
    if (count == 0)
        return HP_OK;
    return hp_pe_rva_view(pe, rva, (uint64_t)count * width, out);
}

static hp_status read_name(const hp_pe *pe, hp_arena *arena, uint32_t rva, const char **out)
{
    hp_status s = hp_pe_rva_str(pe, arena, rva, HP_EXPORT_NAME_MAX, out);
    return s == HP_E_NOMEM ? s : s != HP_OK ? HP_E_EXPORT_NAME : HP_OK;
}

hp_status hp_pe_exports_parse(const hp_pe *pe, hp_arena *arena, hp_pe_exports *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    hp_pe_dir dir = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_EXPORT);
    /* The loader looks only at VirtualAddress; Size just bounds the forwarder strings. */
    if (dir.rva == 0)
        return HP_OK;
    if ((uint64_t)dir.rva + dir.size > pe->size_of_image)
        return HP_E_DIR_RANGE;

    hp_rd hdr;
    uint64_t v;
    HP_CHECK_AS(hp_pe_rva_view(pe, dir.rva, sizeof(expdir), &hdr), HP_E_EXPORT_DIR);
#define GET(field, dst)                                                  \
    do {                                                                 \
        HP_CHECK_AS(HP_RD_FIELD(&hdr, 0, expdir, field, &v), HP_E_EXPORT_DIR); \
        (dst) = (uint32_t)v;                                             \
    } while (0)
    uint32_t name_rva, funcs_rva, names_rva, ords_rva;
    GET(TimeDateStamp, out->timestamp);
    GET(Name, name_rva);
    GET(Base, out->ordinal_base);
    GET(NumberOfFunctions, out->count);
    GET(NumberOfNames, out->name_count);
    GET(AddressOfFunctions, funcs_rva);
    GET(AddressOfNames, names_rva);
    GET(AddressOfNameOrdinals, ords_rva);
#undef GET
    /* Ordinals are Base + index: the last one must still be a 32-bit number. */
    if (out->count && (uint64_t)out->ordinal_base + out->count - 1 > UINT32_MAX)
        return HP_E_EXPORT_DIR;

    hp_rd funcs, names, ords;
    HP_CHECK_AS(array_view(pe, funcs_rva, out->count, 4, &funcs), HP_E_EXPORT_DIR);
    HP_CHECK_AS(array_view(pe, names_rva, out->name_count, 4, &names), HP_E_EXPORT_DIR);
    HP_CHECK_AS(array_view(pe, ords_rva, out->name_count, 2, &ords), HP_E_EXPORT_DIR);

    if (name_rva)
        HP_CHECK(read_name(pe, arena, name_rva, &out->dll_name));

    out->entries = hp_arena_array(arena, out->count, sizeof *out->entries);
    out->names = hp_arena_array(arena, out->name_count, sizeof *out->names);
    if (!out->entries || !out->names)
        return HP_E_NOMEM;

    for (uint32_t i = 0; i < out->count; i++) {
        hp_pe_export *e = &out->entries[i];
        HP_CHECK_AS(hp_rd_u32(&funcs, (uint64_t)i * 4, &e->rva), HP_E_EXPORT_DIR);
        e->ordinal = out->ordinal_base + i;
        if (e->rva && e->rva >= dir.rva && e->rva - dir.rva < dir.size)
            HP_CHECK(read_name(pe, arena, e->rva, &e->forwarder));
    }

    for (uint32_t i = 0; i < out->name_count; i++) {
        hp_pe_export_name *n = &out->names[i];
        uint32_t rva;
        uint16_t index;
        HP_CHECK_AS(hp_rd_u32(&names, (uint64_t)i * 4, &rva), HP_E_EXPORT_DIR);
        HP_CHECK_AS(hp_rd_u16(&ords, (uint64_t)i * 2, &index), HP_E_EXPORT_DIR);
        if (index >= out->count)
            return HP_E_EXPORT_ORDINAL;
        HP_CHECK(read_name(pe, arena, rva, &n->name));
        n->index = index;
        if (!out->entries[index].name)
            out->entries[index].name = n->name;
    }
    out->present = true;
    return HP_OK;
}

const hp_pe_export *hp_pe_exports_find(const hp_pe_exports *ex, const char *name)
{
    if (!ex || !name)
        return NULL;
    /* The loader binary-searches the (sorted) name table; a linear pass also finds names in
     * tables a careless linker left unsorted, and costs little at these sizes. */
    for (uint32_t i = 0; i < ex->name_count; i++)
        if (strcmp(ex->names[i].name, name) == 0)
            return &ex->entries[ex->names[i].index];
    return NULL;
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive (ASCII) compare of the n bytes at a with the NUL-terminated b. */
static bool same_name_n(const char *a, size_t n, const char *b, size_t bn)
{
    if (n != bn)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

/* Whether the DLL part of a forwarder (n bytes) names the DLL these exports belong to, with or
 * without its ".dll" extension. */
static bool names_this_dll(const hp_pe_exports *ex, const char *dll, size_t n)
{
    if (!ex->dll_name)
        return false;
    size_t len = strlen(ex->dll_name);
    if (same_name_n(dll, n, ex->dll_name, len))
        return true;
    return len > 4 && same_name_n(ex->dll_name + len - 4, 4, ".dll", 4) &&
           same_name_n(dll, n, ex->dll_name, len - 4);
}

/* The export a same-DLL forwarder target ("Name" or "#N") designates, or NULL. */
static const hp_pe_export *forward_target(const hp_pe_exports *ex, const char *target)
{
    if (target[0] != '#')
        return hp_pe_exports_find(ex, target);
    uint64_t ord = 0;
    const char *p = target + 1;
    if (!*p)
        return NULL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return NULL;
        ord = ord * 10 + (uint64_t)(*p - '0');
        if (ord > UINT32_MAX)
            return NULL;
    }
    if (ord < ex->ordinal_base || ord - ex->ordinal_base >= ex->count)
        return NULL;
    const hp_pe_export *e = &ex->entries[ord - ex->ordinal_base];
    return e->rva ? e : NULL;
}

hp_status hp_pe_exports_resolve(const hp_pe_exports *ex, const char *name,
                                const hp_pe_export **out)
{
    if (!ex || !name || !out)
        return HP_E_ARG;
    const hp_pe_export *e = hp_pe_exports_find(ex, name);
    if (!e)
        return HP_E_NOT_FOUND;
    /* Each hop lands on a distinct entry unless the chain loops; a chain longer than the
     * depth limit is reported as a loop too (only crafted images get near it). */
    for (unsigned depth = 0; e->forwarder; depth++) {
        const char *dot = strrchr(e->forwarder, '.');
        if (!dot || !names_this_dll(ex, e->forwarder, (size_t)(dot - e->forwarder)))
            break; /* another DLL: the caller follows it, if at all */
        if (depth >= HP_FORWARD_MAX_DEPTH)
            return HP_E_EXPORT_FORWARDER_LOOP;
        const hp_pe_export *next = forward_target(ex, dot + 1);
        if (!next)
            return HP_E_NOT_FOUND;
        if (next == e)
            return HP_E_EXPORT_FORWARDER_LOOP;
        e = next;
    }
    *out = e;
    return HP_OK;
}
