/* hotpe: hotpe's import section, .hotpei, found and checked, and the build identity that
 * survives it (see pe.h; the layout: docs/sdk.md). Apart from setdll.c, which writes it, so
 * that the shim, which checks identities, links neither the writer nor the import parser. */
#include <string.h>

#include "internal.h"

typedef HP_SETDLL_HEADER hdr_t;

hp_status hp_pe_setdll_find(const hp_pe *pe, hp_pe_setdll *out)
{
    if (!pe || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    const hp_pe_section *s = hp_pe_section_by_name(pe, HP_SETDLL_SECTION_NAME);
    if (!s)
        return HP_E_NOT_FOUND;
    if (s != &pe->sections[pe->section_count - 1])
        return HP_E_SETDLL_MARKER;
    hp_rd view;
    uint64_t v;
    hdr_t rec, *r = &rec;
    memset(r, 0, sizeof *r);
    HP_CHECK_AS(hp_pe_rva_view(pe, s->virtual_address, sizeof(hdr_t), &view), HP_E_SETDLL_MARKER);
#define GET(field)                                                                       \
    do {                                                                                 \
        HP_CHECK_AS(HP_RD_FIELD(&view, 0, hdr_t, field, &v), HP_E_SETDLL_MARKER);        \
        r->field = (uint32_t)v;                                                          \
    } while (0)
    GET(Magic);
    GET(Version);
    GET(Size);
    GET(OrigSizeOfImage);
    GET(OrigCheckSum);
    GET(OrigImportRva);
    GET(OrigImportSize);
    GET(OrigBoundImportRva);
    GET(OrigBoundImportSize);
    GET(OrigSecurityOffset);
    GET(OrigSecuritySize);
#undef GET
    HP_CHECK_AS(hp_rd_bytes(&view, offsetof(hdr_t, Reserved), sizeof r->Reserved, r->Reserved),
                HP_E_SETDLL_MARKER);
    uint32_t extent = hp_pe_section_extent(s);
    uint64_t start;
    hp_pe_dir imp = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_IMPORT);
    if (r->Magic != HP_SETDLL_MAGIC || r->Version < 1 || r->Size < sizeof(hdr_t) ||
        r->Size > extent || !hp_align_up(r->OrigSizeOfImage, pe->section_alignment, &start) ||
        start != s->virtual_address || imp.rva < s->virtual_address ||
        imp.rva - s->virtual_address >= extent)
        return HP_E_SETDLL_MARKER;
    out->rva = s->virtual_address;
    out->rec = rec;
    return HP_OK;
}

hp_status hp_pe_build_identity(const hp_pe *pe, hp_pe_identity *out)
{
    if (!pe || !out)
        return HP_E_ARG;
    out->timestamp = pe->timestamp; /* the rewrite keeps it */
    out->size_of_image = pe->size_of_image;
    out->checksum = pe->checksum;
    out->rewritten = false;
    hp_pe_setdll m;
    hp_status s = hp_pe_setdll_find(pe, &m);
    if (s == HP_E_NOT_FOUND)
        return HP_OK;
    if (s != HP_OK)
        return s;
    out->size_of_image = m.rec.OrigSizeOfImage;
    out->checksum = m.rec.OrigCheckSum;
    out->rewritten = true;
    return HP_OK;
}
