/* hotpe: helpers shared by the pe/ sources; not part of the library's interface. */
#ifndef HOTPE_PE_INTERNAL_H
#define HOTPE_PE_INTERNAL_H

#include "hotpe/pe/pe.h"

/*
 * The NUL-terminated name at offset `off` of the COFF string table (file layout only).
 * @return HP_OK, HP_E_NOT_FOUND when the image has no string table, HP_E_STRING_TABLE.
 */
hp_status hp_pe_coff_string(const hp_pe *pe, hp_arena *arena, uint32_t off, const char **out);

/* Bytes of the section that the loader fills from the file. */
static inline uint32_t hp_pe_section_backed(const hp_pe_section *s)
{
    return s->virtual_size && s->virtual_size < s->raw_size ? s->virtual_size : s->raw_size;
}

/* Extent of the section in memory. */
static inline uint32_t hp_pe_section_extent(const hp_pe_section *s)
{
    return s->virtual_size ? s->virtual_size : s->raw_size;
}

#endif
