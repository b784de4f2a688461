/* hotpe: COFF object files (see coff.h). */
#include "hotpe/pe/coff.h"

#include <string.h>

typedef HP_IMAGE_FILE_HEADER fh_t;
typedef HP_ANON_OBJECT_HEADER_BIGOBJ big_t;
typedef HP_IMAGE_SECTION_HEADER sh_t;
/* The fields both symbol records share sit at the same offsets up to SectionNumber; the rest
 * move by 2 bytes in the /bigobj record. */
typedef HP_IMAGE_SYMBOL sym_t;
typedef HP_IMAGE_SYMBOL_EX symx_t;

/* Where the header puts the tables. */
typedef struct layout {
    uint64_t sections_at;
    uint32_t section_count;
    uint32_t symtab_at;
    uint32_t symbol_count;
    unsigned record;         /* 18, or 20 in a /bigobj object */
} layout;

static bool known_machine(uint64_t m)
{
    return m == HP_IMAGE_FILE_MACHINE_I386 || m == HP_IMAGE_FILE_MACHINE_AMD64;
}

static hp_status read_header(const hp_rd *rd, hp_coff *out, layout *l)
{
    uint64_t sig1, sig2, v;
    HP_CHECK_AS(HP_RD_FIELD(rd, 0, big_t, Sig1, &sig1), HP_E_COFF_HEADER);
    HP_CHECK_AS(HP_RD_FIELD(rd, 0, big_t, Sig2, &sig2), HP_E_COFF_HEADER);
    if (sig1 == 0 && sig2 == HP_IMPORT_OBJECT_HDR_SIG2) {
        static const uint8_t bigobj_class[16] = HP_BIGOBJ_CLASSID;
        uint8_t class_id[16];
        uint64_t version;
        HP_CHECK_AS(HP_RD_FIELD(rd, 0, big_t, Version, &version), HP_E_COFF_HEADER);
        if (version == 0)
            return HP_E_COFF_IMPORT; /* IMPORT_OBJECT_HEADER: Version 0 */
        HP_CHECK_AS(hp_rd_bytes(rd, offsetof(big_t, ClassID), sizeof class_id, class_id),
                    HP_E_COFF_HEADER);
        /* Other anonymous objects (MSVC /GL's) hold no machine code yet. */
        if (version < 2 || memcmp(class_id, bigobj_class, sizeof class_id) != 0)
            return HP_E_COFF_MACHINE;
        HP_CHECK_AS(HP_RD_FIELD(rd, 0, big_t, NumberOfSymbols, &v), HP_E_COFF_HEADER);
        l->symbol_count = (uint32_t)v;
        HP_CHECK_AS(HP_RD_FIELD(rd, 0, big_t, Machine, &v), HP_E_COFF_HEADER);
        out->machine = (uint16_t)v;
        HP_CHECK_AS(HP_RD_FIELD(rd, 0, big_t, NumberOfSections, &v), HP_E_COFF_HEADER);
        l->section_count = (uint32_t)v;
        HP_CHECK_AS(HP_RD_FIELD(rd, 0, big_t, PointerToSymbolTable, &v), HP_E_COFF_HEADER);
        l->symtab_at = (uint32_t)v;
        l->sections_at = sizeof(big_t);
        l->record = sizeof(symx_t);
        out->bigobj = true;
    } else {
        /* Text, a PE image ("MZ"), LLVM bitcode ("BC"): named for what they are not, even
         * when shorter than a header. */
        if (!known_machine(sig1))
            return HP_E_COFF_MACHINE;
        HP_CHECK_AS(HP_RD_FIELD(rd, 0, fh_t, NumberOfSymbols, &v), HP_E_COFF_HEADER);
        l->symbol_count = (uint32_t)v;
        out->machine = (uint16_t)sig1;
        l->section_count = (uint32_t)sig2;
        HP_CHECK_AS(HP_RD_FIELD(rd, 0, fh_t, PointerToSymbolTable, &v), HP_E_COFF_HEADER);
        l->symtab_at = (uint32_t)v;
        /* Objects have no optional header; one that says it has is skipped, as link does. */
        HP_CHECK_AS(HP_RD_FIELD(rd, 0, fh_t, SizeOfOptionalHeader, &v), HP_E_COFF_HEADER);
        l->sections_at = sizeof(fh_t) + v;
        l->record = sizeof(sym_t);
    }
    if (!known_machine(out->machine))
        return HP_E_COFF_MACHINE;
    return HP_OK;
}

static hp_status read_sections(const hp_rd *rd, hp_arena *arena, const layout *l, hp_coff *out)
{
    hp_rd table;
    uint64_t bytes;
    if (!hp_mul_u64(l->section_count, sizeof(sh_t), &bytes) ||
        hp_rd_sub(rd, l->sections_at, bytes, &table) != HP_OK)
        return HP_E_COFF_SECTIONS;
    out->section_count = l->section_count;
    if (!l->section_count)
        return HP_OK;
    /* Bounded by the file: the table lies inside it. */
    out->sections = hp_arena_array(arena, l->section_count, sizeof *out->sections);
    if (!out->sections)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < l->section_count; i++) {
        hp_coff_section *s = &out->sections[i];
        uint64_t at = (uint64_t)i * sizeof(sh_t), v;
        HP_CHECK_AS(hp_rd_bytes(&table, at + offsetof(sh_t, Name), 8, s->name), HP_E_COFF_SECTIONS);
        s->name[8] = '\0';
        HP_CHECK_AS(HP_RD_FIELD(&table, at, sh_t, Characteristics, &v), HP_E_COFF_SECTIONS);
        s->characteristics = (uint32_t)v;
        if (strncmp(s->name, ".idata$", 7) == 0)
            out->import_stub = true;
    }
    return HP_OK;
}

/* The string table follows the symbols: a u32 size that counts itself, then the names. */
static hp_status string_at(const hp_rd *rd, hp_arena *arena, uint64_t table, uint32_t off,
                           const char **out)
{
    uint32_t table_size;
    hp_rd strings;
    size_t len;
    HP_CHECK_AS(hp_rd_u32(rd, table, &table_size), HP_E_STRING_TABLE);
    if (table_size < 4 || off < 4 || off >= table_size)
        return HP_E_STRING_TABLE;
    HP_CHECK_AS(hp_rd_sub(rd, table, table_size, &strings), HP_E_STRING_TABLE);
    HP_CHECK_AS(hp_rd_strlen(&strings, off, table_size - off, &len), HP_E_STRING_TABLE);
    *out = hp_arena_strndup(arena, strings.data + off, len);
    return *out ? HP_OK : HP_E_NOMEM;
}

/* Short names may fill all 8 bytes without a NUL; a zero first dword means a long name. */
static hp_status symbol_name(const hp_rd *rd, hp_arena *arena, const hp_rd *symtab, uint64_t at,
                             uint64_t strtab, const char **out)
{
    uint8_t raw[8];
    HP_CHECK_AS(hp_rd_bytes(symtab, at, sizeof raw, raw), HP_E_SYMBOLS);
    if (raw[0] == 0 && raw[1] == 0 && raw[2] == 0 && raw[3] == 0) {
        uint64_t off;
        HP_CHECK_AS(HP_RD_FIELD(symtab, at, sym_t, N.Name.Long, &off), HP_E_SYMBOLS);
        return string_at(rd, arena, strtab, (uint32_t)off, out);
    }
    size_t n = 0;
    while (n < sizeof raw && raw[n])
        n++;
    *out = hp_arena_strndup(arena, raw, n);
    return *out ? HP_OK : HP_E_NOMEM;
}

/* A .file record's aux records hold the source's name, NUL-padded. */
static hp_status file_name(const hp_rd *symtab, hp_arena *arena, uint64_t at, unsigned record,
                           unsigned aux, const char **out)
{
    hp_rd names;
    HP_CHECK_AS(hp_rd_sub(symtab, at + record, (uint64_t)aux * record, &names), HP_E_SYMBOLS);
    size_t n = 0;
    uint8_t b;
    while (hp_rd_u8(&names, n, &b) == HP_OK && b)
        n++;
    *out = hp_arena_strndup(arena, names.data, n);
    return *out ? HP_OK : HP_E_NOMEM;
}

static hp_status read_symbols(const hp_rd *rd, hp_arena *arena, const layout *l, hp_coff *out)
{
    if (l->symtab_at == 0 || l->symbol_count == 0)
        return HP_OK;
    uint64_t bytes;
    hp_rd symtab;
    if (!hp_mul_u64(l->symbol_count, l->record, &bytes))
        return HP_E_SYMBOLS;
    HP_CHECK_AS(hp_rd_sub(rd, l->symtab_at, bytes, &symtab), HP_E_SYMBOLS);
    uint64_t strtab = (uint64_t)l->symtab_at + bytes;

    /* Bounded by the file through the check above; aux records make it an upper bound. */
    out->symbols = hp_arena_array(arena, l->symbol_count, sizeof *out->symbols);
    if (!out->symbols)
        return HP_E_NOMEM;
    /* The fields after SectionNumber: 2 bytes further in the /bigobj record. */
    uint64_t shift = l->record - sizeof(sym_t);
    uint32_t n = 0;
    for (uint64_t i = 0; i < l->symbol_count;) {
        uint64_t at = i * l->record, v;
        hp_coff_symbol *e = &out->symbols[n];
        HP_CHECK(symbol_name(rd, arena, &symtab, at, strtab, &e->name));
        HP_CHECK_AS(HP_RD_FIELD(&symtab, at, sym_t, Value, &v), HP_E_SYMBOLS);
        e->value = (uint32_t)v;
        if (out->bigobj) {
            HP_CHECK_AS(HP_RD_FIELD(&symtab, at, symx_t, SectionNumber, &v), HP_E_SYMBOLS);
            e->section = (int32_t)(uint32_t)v;
        } else {
            HP_CHECK_AS(HP_RD_FIELD(&symtab, at, sym_t, SectionNumber, &v), HP_E_SYMBOLS);
            e->section = (int16_t)(uint16_t)v;
        }
        HP_CHECK_AS(HP_RD_FIELD(&symtab, at + shift, sym_t, Type, &v), HP_E_SYMBOLS);
        e->type = (uint16_t)v;
        HP_CHECK_AS(HP_RD_FIELD(&symtab, at + shift, sym_t, StorageClass, &v), HP_E_SYMBOLS);
        e->storage_class = (uint8_t)v;
        HP_CHECK_AS(HP_RD_FIELD(&symtab, at + shift, sym_t, NumberOfAuxSymbols, &v),
                    HP_E_SYMBOLS);
        e->aux_count = (uint8_t)v;

        if (e->aux_count > l->symbol_count - i - 1)
            return HP_E_SYMBOL_AUX;
        if (e->storage_class == HP_IMAGE_SYM_CLASS_FILE && e->aux_count && !out->source)
            HP_CHECK(file_name(&symtab, arena, at, l->record, e->aux_count, &out->source));
        i += 1 + (uint64_t)e->aux_count;
        n++;
    }
    out->symbol_count = n;
    return HP_OK;
}

hp_status hp_coff_parse(hp_coff *out, hp_arena *arena, const void *data, size_t size)
{
    if (!out || !arena || (!data && size))
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    hp_rd rd = hp_rd_make(data, size);
    layout l;
    HP_CHECK(read_header(&rd, out, &l));
    HP_CHECK(read_sections(&rd, arena, &l, out));
    return read_symbols(&rd, arena, &l, out);
}

bool hp_coff_is_function(const hp_coff *obj, const hp_coff_symbol *sym)
{
    if (!obj || !sym || !sym->name || obj->import_stub || sym->name[0] == '\0' ||
        sym->name[0] == '.')
        return false;
    if (sym->storage_class != HP_IMAGE_SYM_CLASS_EXTERNAL &&
        sym->storage_class != HP_IMAGE_SYM_CLASS_STATIC)
        return false;
    if (sym->section < 1 || (uint32_t)sym->section > obj->section_count)
        return false;
    uint32_t flags = obj->sections[sym->section - 1].characteristics;
    if (!(flags & (HP_IMAGE_SCN_CNT_CODE | HP_IMAGE_SCN_MEM_EXECUTE)))
        return false;
    if ((sym->type >> 4) == HP_IMAGE_SYM_DTYPE_FUNCTION)
        return true;
    return sym->type == 0 && sym->storage_class == HP_IMAGE_SYM_CLASS_EXTERNAL &&
           sym->aux_count == 0;
}

/* Length of name without a trailing "@" + digits, at least one; len itself when none. With
 * twice, "@@" + digits. */
static size_t cut_suffix(const char *name, size_t len, bool twice)
{
    size_t k = len;
    while (k > 0 && name[k - 1] >= '0' && name[k - 1] <= '9')
        k--;
    if (k == len || k == 0 || name[k - 1] != '@')
        return len;
    k--;
    if (twice) {
        if (k == 0 || name[k - 1] != '@')
            return len;
        k--;
    }
    return k > 0 ? k : len;
}

const char *hp_coff_c_name(hp_arena *arena, uint16_t machine, const char *name, bool symbol)
{
    if (!arena || !name)
        return NULL;
    size_t len = strlen(name);
    size_t cut = cut_suffix(name, len, true);
    if (cut != len || machine != HP_IMAGE_FILE_MACHINE_I386)
        return hp_arena_strndup(arena, name, cut);
    if (name[0] == '@') { /* fastcall: "@name@N" */
        size_t k = cut_suffix(name + 1, len - 1, false);
        return k != len - 1 ? hp_arena_strndup(arena, name + 1, k)
                            : hp_arena_strndup(arena, name, len);
    }
    if (symbol && name[0] == '_' && name[1]) /* cdecl "_name", stdcall "_name@N" */
        return hp_arena_strndup(arena, name + 1, cut_suffix(name + 1, len - 1, false));
    /* an export (GNU ld's "name@N") or a name as typed; a symbol without '_' is kept */
    return hp_arena_strndup(arena, name, symbol ? len : cut_suffix(name, len, false));
}
