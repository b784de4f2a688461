/* hotpe: the base relocation directory (see pe.h). */
#include <string.h>

#include "internal.h"

typedef HP_IMAGE_BASE_RELOCATION relblock;

/*
 * Bytes a relocation of this type patches, or 0 when the loader would refuse the type.
 * ntdll's LdrProcessRelocationBlock (and Wine's) fail the whole image on a type they do not
 * know, so do we: on x86 and x64 that leaves ABSOLUTE, HIGH, LOW, HIGHLOW, HIGHADJ and DIR64.
 * Types 5, 7, 8 and 9 mean different things on ARM, MIPS, RISC-V and IA-64; for those
 * machines they are kept (2 bytes assumed: only the range check uses it). 6 is reserved
 * everywhere, 11 and up are undefined.
 */
static unsigned reloc_width(const hp_pe *pe, unsigned type)
{
    switch (type) {
    case HP_IMAGE_REL_BASED_ABSOLUTE: return 1;
    case HP_IMAGE_REL_BASED_HIGH:
    case HP_IMAGE_REL_BASED_LOW:
    case HP_IMAGE_REL_BASED_HIGHADJ: return 2;
    case HP_IMAGE_REL_BASED_HIGHLOW: return 4;
    case HP_IMAGE_REL_BASED_DIR64: return 8;
    case 5: case 7: case 8: case 9:
        return pe->machine == HP_IMAGE_FILE_MACHINE_I386 ||
                       pe->machine == HP_IMAGE_FILE_MACHINE_AMD64
                   ? 0
                   : 2;
    default: return 0;
    }
}

hp_status hp_pe_relocs_parse(const hp_pe *pe, hp_arena *arena, hp_pe_relocs *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    hp_pe_dir dir = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC);
    if (dir.rva == 0 || dir.size == 0)
        return HP_OK;

    hp_rd rd;
    HP_CHECK_AS(hp_pe_rva_view(pe, dir.rva, dir.size, &rd), HP_E_DIR_RANGE);
    /* Every entry takes 2 of the directory's bytes: an upper bound backed by real bytes. */
    out->entries = hp_arena_array(arena, rd.size / 2, sizeof *out->entries);
    if (!out->entries)
        return HP_E_NOMEM;

    uint64_t off = 0;
    while (off < rd.size) {
        uint64_t va, block_size;
        /* The directory is a whole number of blocks: a tail too short for a header (or a
         * zero SizeOfBlock, which some loaders take as the end) is malformed. */
        HP_CHECK_AS(HP_RD_FIELD(&rd, off, relblock, VirtualAddress, &va), HP_E_RELOC_BLOCK);
        HP_CHECK_AS(HP_RD_FIELD(&rd, off, relblock, SizeOfBlock, &block_size), HP_E_RELOC_BLOCK);
        if (block_size < sizeof(relblock) || block_size % 2 != 0 ||
            !hp_range_ok(off, block_size, rd.size))
            return HP_E_RELOC_BLOCK;

        uint64_t end = off + block_size;
        for (uint64_t at = off + sizeof(relblock); at < end; at += 2) {
            uint16_t e;
            HP_CHECK_AS(hp_rd_u16(&rd, at, &e), HP_E_RELOC_BLOCK);
            unsigned type = e >> 12, width = reloc_width(pe, type);
            if (width == 0)
                return HP_E_RELOC_TYPE;
            uint64_t rva = va + (e & 0xfffu);
            if (rva > UINT32_MAX ||
                (type != HP_IMAGE_REL_BASED_ABSOLUTE && rva + width > pe->size_of_image))
                return HP_E_RELOC_TARGET;
            hp_pe_reloc *r = &out->entries[out->count++];
            r->rva = (uint32_t)rva;
            r->type = (uint8_t)type;
            /* HIGHADJ's next slot holds the low half of the adjusted value, not an entry. */
            if (type == HP_IMAGE_REL_BASED_HIGHADJ) {
                at += 2;
                if (at >= end)
                    return HP_E_RELOC_BLOCK;
            }
        }
        out->block_count++;
        off = end;
    }
    return HP_OK;
}
