/* hotpe: the debug directory and its CodeView RSDS record (see pe.h). */
#include <string.h>

#include "internal.h"

typedef HP_IMAGE_DEBUG_DIRECTORY dbg_t;
typedef HP_CV_INFO_PDB70 cv_t;

/*
 * The bytes of an entry's data as this layout holds them: PointerToRawData in a file (or the
 * RVA when the data has no file pointer), AddressOfRawData in a loaded image.
 * @return HP_OK, HP_E_NOT_FOUND when the layout has no copy of the data, HP_E_DEBUG_DIR.
 */
static hp_status entry_data(const hp_pe *pe, const hp_pe_debug_entry *e, hp_rd *out)
{
    if (pe->layout == HP_PE_LAYOUT_FILE && e->file_offset) {
        HP_CHECK_AS(hp_rd_sub(&pe->rd, e->file_offset, e->size, out), HP_E_DEBUG_DIR);
        return HP_OK;
    }
    if (e->rva) {
        HP_CHECK_AS(hp_pe_rva_view(pe, e->rva, e->size, out), HP_E_DEBUG_DIR);
        return HP_OK;
    }
    return HP_E_NOT_FOUND;
}

/* HP_OK with cv->present set for an RSDS record; other CodeView formats (NB10) are skipped. */
static hp_status parse_codeview(hp_arena *arena, const hp_rd *data, hp_pe_codeview *cv)
{
    uint64_t v;
    HP_CHECK_AS(HP_RD_FIELD(data, 0, cv_t, CvSignature, &v), HP_E_CODEVIEW);
    if (v != HP_CODEVIEW_RSDS)
        return HP_OK;
    HP_CHECK_AS(hp_rd_bytes(data, offsetof(cv_t, Signature), sizeof cv->guid, cv->guid),
                HP_E_CODEVIEW);
    HP_CHECK_AS(HP_RD_FIELD(data, 0, cv_t, Age, &v), HP_E_CODEVIEW);
    cv->age = (uint32_t)v;

    /* The path is informational: take it up to its NUL or the end of the record. */
    hp_rd path;
    HP_CHECK_AS(hp_rd_sub(data, sizeof(cv_t), data->size - sizeof(cv_t), &path), HP_E_CODEVIEW);
    size_t len = 0;
    if (hp_rd_strlen(&path, 0, path.size, &len) != HP_OK)
        len = path.size;
    cv->path = hp_arena_strndup(arena, path.data, len);
    if (!cv->path)
        return HP_E_NOMEM;
    cv->present = true;
    return HP_OK;
}

hp_status hp_pe_debug_parse(const hp_pe *pe, hp_arena *arena, hp_pe_debug *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    hp_pe_dir d = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_DEBUG);
    if (d.rva == 0 || d.size == 0)
        return HP_OK;
    if (d.size % sizeof(dbg_t) != 0)
        return HP_E_DEBUG_DIR_SIZE;
    hp_rd dir;
    HP_CHECK_AS(hp_pe_rva_view(pe, d.rva, d.size, &dir), HP_E_DEBUG_DIR_SIZE);

    uint32_t count = d.size / (uint32_t)sizeof(dbg_t);
    out->entries = hp_arena_array(arena, count, sizeof *out->entries);
    if (!out->entries)
        return HP_E_NOMEM;
    out->count = count;

    for (uint32_t i = 0; i < count; i++) {
        hp_pe_debug_entry *e = &out->entries[i];
        uint64_t at = (uint64_t)i * sizeof(dbg_t), v;
#define GET(field, dst)                                                            \
    do {                                                                           \
        HP_CHECK_AS(HP_RD_FIELD(&dir, at, dbg_t, field, &v), HP_E_DEBUG_DIR_SIZE); \
        (dst) = v;                                                                 \
    } while (0)
        GET(TimeDateStamp, e->timestamp);
        GET(MajorVersion, e->major);
        GET(MinorVersion, e->minor);
        GET(Type, e->type);
        GET(SizeOfData, e->size);
        GET(AddressOfRawData, e->rva);
        GET(PointerToRawData, e->file_offset);
#undef GET
        if (e->size == 0)
            continue;
        hp_rd data;
        hp_status s = entry_data(pe, e, &data);
        if (s == HP_E_NOT_FOUND)
            continue;
        HP_CHECK(s);
        if (e->type == HP_IMAGE_DEBUG_TYPE_CODEVIEW && !out->codeview.present)
            HP_CHECK(parse_codeview(arena, &data, &out->codeview));
    }
    return HP_OK;
}
