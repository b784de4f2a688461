/* hotpe: the COFF symbol table of an image (see pe.h). */
#include <string.h>

#include "internal.h"

typedef HP_IMAGE_SYMBOL sym_t;

/* Short names may fill all 8 bytes without a NUL; a zero first dword means a long name. */
static hp_status symbol_name(const hp_pe *pe, hp_arena *arena, const hp_rd *table, uint64_t at,
                             const char **out)
{
    uint8_t raw[8];
    HP_CHECK_AS(hp_rd_bytes(table, at, sizeof raw, raw), HP_E_SYMBOLS);
    if (raw[0] == 0 && raw[1] == 0 && raw[2] == 0 && raw[3] == 0) {
        uint64_t off;
        HP_CHECK_AS(HP_RD_FIELD(table, at, sym_t, N.Name.Long, &off), HP_E_SYMBOLS);
        hp_status s = hp_pe_coff_string(pe, arena, (uint32_t)off, out);
        /* A long name with no string table behind it is a broken table, not an absent one. */
        return s == HP_E_NOT_FOUND ? HP_E_STRING_TABLE : s;
    }
    size_t n = 0;
    while (n < sizeof raw && raw[n])
        n++;
    *out = hp_arena_strndup(arena, raw, n);
    return *out ? HP_OK : HP_E_NOMEM;
}

hp_status hp_pe_symbols_parse(const hp_pe *pe, hp_arena *arena, hp_pe_symbols *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    /* The loader does not map the table, so a loaded image never has one. */
    if (pe->layout != HP_PE_LAYOUT_FILE || pe->symbol_table_offset == 0 || pe->symbol_count == 0)
        return HP_OK;

    uint64_t table_size;
    hp_rd table;
    if (!hp_mul_u64(pe->symbol_count, sizeof(sym_t), &table_size))
        return HP_E_SYMBOLS;
    HP_CHECK_AS(hp_rd_sub(&pe->rd, pe->symbol_table_offset, table_size, &table), HP_E_SYMBOLS);

    /* Bounded by the file size through the check above; aux records make it an upper bound. */
    out->entries = hp_arena_array(arena, pe->symbol_count, sizeof *out->entries);
    if (!out->entries)
        return HP_E_NOMEM;

    uint32_t n = 0;
    for (uint64_t i = 0; i < pe->symbol_count;) {
        uint64_t at = i * sizeof(sym_t), v;
        hp_pe_symbol *e = &out->entries[n];

        HP_CHECK(symbol_name(pe, arena, &table, at, &e->name));
        HP_CHECK_AS(HP_RD_FIELD(&table, at, sym_t, Value, &v), HP_E_SYMBOLS);
        e->value = (uint32_t)v;
        HP_CHECK_AS(HP_RD_FIELD(&table, at, sym_t, SectionNumber, &v), HP_E_SYMBOLS);
        e->section = (int16_t)(uint16_t)v;
        HP_CHECK_AS(HP_RD_FIELD(&table, at, sym_t, Type, &v), HP_E_SYMBOLS);
        e->type = (uint16_t)v;
        HP_CHECK_AS(HP_RD_FIELD(&table, at, sym_t, StorageClass, &v), HP_E_SYMBOLS);
        e->storage_class = (uint8_t)v;
        HP_CHECK_AS(HP_RD_FIELD(&table, at, sym_t, NumberOfAuxSymbols, &v), HP_E_SYMBOLS);
        e->aux_count = (uint8_t)v;

        if (e->aux_count > pe->symbol_count - i - 1)
            return HP_E_SYMBOL_AUX;
        i += 1 + (uint64_t)e->aux_count;
        n++;
    }
    out->count = n;
    return HP_OK;
}

bool hp_pe_symbol_function_rva(const hp_pe *pe, const hp_pe_symbol *sym, uint32_t *rva)
{
    if (!pe || !sym || (sym->type >> 4) != HP_IMAGE_SYM_DTYPE_FUNCTION || sym->section < 1 ||
        sym->section > pe->section_count)
        return false;
    const hp_pe_section *s = &pe->sections[sym->section - 1];
    /* hp_pe_parse keeps every section inside SizeOfImage, so the sum cannot wrap. */
    if (sym->value >= hp_pe_section_extent(s))
        return false;
    if (rva)
        *rva = s->virtual_address + sym->value;
    return true;
}
