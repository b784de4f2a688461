/* hotpe: PE headers, section table and RVA mapping (see pe.h). */
#include <string.h>

#include "internal.h"

#define HP_PE_MAX_SECTIONS 96 /* the Windows loader's limit */

typedef HP_IMAGE_OPTIONAL_HEADER32 opt32;
typedef HP_IMAGE_OPTIONAL_HEADER64 opt64;

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* Read one optional-header field whose offset and width differ between PE32 and PE32+. */
#define OPT_FIELD(pe, field, out)                                                              \
    ((pe)->pe32plus ? HP_RD_FIELD(&(pe)->rd, (pe)->opt_offset, opt64, field, out)              \
                    : HP_RD_FIELD(&(pe)->rd, (pe)->opt_offset, opt32, field, out))

static hp_status parse_optional_header(hp_pe *pe)
{
    uint64_t v;
    size_t fixed = pe->pe32plus ? sizeof(opt64) : sizeof(opt32);

    if (pe->opt_header_size < fixed ||
        !hp_range_ok(pe->opt_offset, pe->opt_header_size, pe->rd.size))
        return HP_E_OPT_HEADER_TRUNCATED;

#define GET(field, dst)                                                     \
    do {                                                                    \
        HP_CHECK_AS(OPT_FIELD(pe, field, &v), HP_E_OPT_HEADER_TRUNCATED);   \
        (dst) = v;                                                          \
    } while (0)
    GET(MajorLinkerVersion, pe->linker_major);
    GET(MinorLinkerVersion, pe->linker_minor);
    GET(SizeOfCode, pe->size_of_code);
    GET(AddressOfEntryPoint, pe->entry_point);
    GET(BaseOfCode, pe->base_of_code);
    GET(ImageBase, pe->image_base);
    GET(SectionAlignment, pe->section_alignment);
    GET(FileAlignment, pe->file_alignment);
    GET(MajorOperatingSystemVersion, pe->os_major);
    GET(MinorOperatingSystemVersion, pe->os_minor);
    GET(MajorSubsystemVersion, pe->subsystem_major);
    GET(MinorSubsystemVersion, pe->subsystem_minor);
    GET(SizeOfImage, pe->size_of_image);
    GET(SizeOfHeaders, pe->size_of_headers);
    GET(CheckSum, pe->checksum);
    GET(Subsystem, pe->subsystem);
    GET(DllCharacteristics, pe->dll_characteristics);
    GET(SizeOfStackReserve, pe->stack_reserve);
    GET(SizeOfStackCommit, pe->stack_commit);
    GET(SizeOfHeapReserve, pe->heap_reserve);
    GET(SizeOfHeapCommit, pe->heap_commit);
    GET(NumberOfRvaAndSizes, pe->dir_count);
#undef GET

    if (!is_pow2(pe->section_alignment) || !is_pow2(pe->file_alignment) ||
        pe->file_alignment > pe->section_alignment)
        return HP_E_ALIGNMENT;
    if (pe->size_of_image == 0 || pe->size_of_headers == 0 ||
        pe->size_of_headers > pe->size_of_image)
        return HP_E_IMAGE_SIZE;

    /* The loader reads at most 16 directories; those it reads must fit the header. */
    uint32_t ndirs = pe->dir_count < HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES
                         ? pe->dir_count
                         : HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES;
    if (fixed + (uint64_t)ndirs * sizeof(HP_IMAGE_DATA_DIRECTORY) > pe->opt_header_size)
        return HP_E_DIR_COUNT;
    for (uint32_t i = 0; i < ndirs; i++) {
        uint64_t at = pe->opt_offset + fixed + (uint64_t)i * sizeof(HP_IMAGE_DATA_DIRECTORY);
        HP_CHECK_AS(hp_rd_u32(&pe->rd, at, &pe->dirs[i].rva), HP_E_DIR_COUNT);
        HP_CHECK_AS(hp_rd_u32(&pe->rd, at + 4, &pe->dirs[i].size), HP_E_DIR_COUNT);
    }
    return HP_OK;
}

/* "/123" names a string-table entry; anything unresolvable keeps its stored 8 bytes. */
static const char *section_name(const hp_pe *pe, hp_arena *arena, const uint8_t raw[8])
{
    size_t n = 0;
    while (n < 8 && raw[n])
        n++;
    if (n >= 2 && raw[0] == '/' && pe->layout == HP_PE_LAYOUT_FILE) {
        uint32_t off = 0;
        bool digits = true;
        for (size_t i = 1; i < n; i++) {
            digits = digits && raw[i] >= '0' && raw[i] <= '9';
            off = off * 10 + (uint32_t)(raw[i] - '0');
        }
        const char *long_name;
        if (digits && hp_pe_coff_string(pe, arena, off, &long_name) == HP_OK)
            return long_name;
    }
    return hp_arena_strndup(arena, raw, n);
}

static hp_status parse_sections(hp_pe *pe, hp_arena *arena)
{
    if (pe->section_count > HP_PE_MAX_SECTIONS)
        return HP_E_SECTION_COUNT;
    uint64_t table_size = (uint64_t)pe->section_count * sizeof(HP_IMAGE_SECTION_HEADER);
    hp_rd table;
    HP_CHECK_AS(hp_rd_sub(&pe->rd, pe->section_table_offset, table_size, &table),
                HP_E_SECTION_TABLE);

    pe->sections = hp_arena_array(arena, pe->section_count, sizeof *pe->sections);
    if (!pe->sections)
        return HP_E_NOMEM;

    uint64_t prev_end = 0;
    for (uint16_t i = 0; i < pe->section_count; i++) {
        hp_pe_section *s = &pe->sections[i];
        uint64_t at = (uint64_t)i * sizeof(HP_IMAGE_SECTION_HEADER), v;
        typedef HP_IMAGE_SECTION_HEADER sh;

        HP_CHECK(hp_rd_bytes(&table, at, 8, s->raw_name));
        HP_CHECK(HP_RD_FIELD(&table, at, sh, VirtualSize, &v));
        s->virtual_size = (uint32_t)v;
        HP_CHECK(HP_RD_FIELD(&table, at, sh, VirtualAddress, &v));
        s->virtual_address = (uint32_t)v;
        HP_CHECK(HP_RD_FIELD(&table, at, sh, SizeOfRawData, &v));
        s->raw_size = (uint32_t)v;
        HP_CHECK(HP_RD_FIELD(&table, at, sh, PointerToRawData, &v));
        s->raw_offset = (uint32_t)v;
        HP_CHECK(HP_RD_FIELD(&table, at, sh, Characteristics, &v));
        s->characteristics = (uint32_t)v;

        uint64_t end = (uint64_t)s->virtual_address + hp_pe_section_extent(s);
        if (end > pe->size_of_image)
            return HP_E_SECTION_VIRTUAL;
        if (s->virtual_address < prev_end || s->virtual_address < pe->size_of_headers)
            return HP_E_SECTION_OVERLAP;
        prev_end = end;

        if (pe->layout == HP_PE_LAYOUT_FILE && s->raw_size &&
            !hp_range_ok(s->raw_offset, s->raw_size, pe->rd.size))
            return HP_E_SECTION_RAW;

        s->name = section_name(pe, arena, s->raw_name);
        if (!s->name)
            return HP_E_NOMEM;
    }
    return HP_OK;
}

hp_status hp_pe_parse(hp_pe *pe, hp_arena *arena, const void *data, size_t size,
                      hp_pe_layout layout)
{
    uint64_t v;
    uint32_t sig;

    if (!pe || !arena || (!data && size))
        return HP_E_ARG;
    memset(pe, 0, sizeof *pe);
    pe->rd = hp_rd_make(data, size);
    pe->layout = layout;

    HP_CHECK_AS(HP_RD_FIELD(&pe->rd, 0, HP_IMAGE_DOS_HEADER, e_magic, &v), HP_E_DOS_TRUNCATED);
    if (pe->rd.size < sizeof(HP_IMAGE_DOS_HEADER))
        return HP_E_DOS_TRUNCATED;
    if (v != HP_IMAGE_DOS_SIGNATURE)
        return HP_E_DOS_MAGIC;
    HP_CHECK(HP_RD_FIELD(&pe->rd, 0, HP_IMAGE_DOS_HEADER, e_lfanew, &v));
    pe->nt_offset = (uint32_t)v;
    HP_CHECK_AS(hp_rd_u32(&pe->rd, pe->nt_offset, &sig), HP_E_LFANEW);
    if (sig != HP_IMAGE_NT_SIGNATURE)
        return HP_E_NT_SIGNATURE;

    uint64_t fh = (uint64_t)pe->nt_offset + 4;
    typedef HP_IMAGE_FILE_HEADER fhdr;
#define GET(field, dst)                                                                \
    do {                                                                               \
        HP_CHECK_AS(HP_RD_FIELD(&pe->rd, fh, fhdr, field, &v), HP_E_FILE_HEADER_TRUNCATED); \
        (dst) = v;                                                                     \
    } while (0)
    GET(Machine, pe->machine);
    GET(NumberOfSections, pe->section_count);
    GET(TimeDateStamp, pe->timestamp);
    GET(PointerToSymbolTable, pe->symbol_table_offset);
    GET(NumberOfSymbols, pe->symbol_count);
    GET(SizeOfOptionalHeader, pe->opt_header_size);
    GET(Characteristics, pe->characteristics);
#undef GET

    pe->opt_offset = (uint32_t)(fh + sizeof(fhdr));
    uint16_t magic;
    HP_CHECK_AS(hp_rd_u16(&pe->rd, pe->opt_offset, &magic), HP_E_OPT_HEADER_TRUNCATED);
    if (magic == HP_IMAGE_NT_OPTIONAL_HDR64_MAGIC)
        pe->pe32plus = true;
    else if (magic != HP_IMAGE_NT_OPTIONAL_HDR32_MAGIC)
        return HP_E_OPT_MAGIC;
    if ((pe->pe32plus && pe->machine == HP_IMAGE_FILE_MACHINE_I386) ||
        (!pe->pe32plus && pe->machine == HP_IMAGE_FILE_MACHINE_AMD64))
        return HP_E_MACHINE;

    HP_CHECK(parse_optional_header(pe));
    pe->section_table_offset = pe->opt_offset + pe->opt_header_size;
    return parse_sections(pe, arena);
}

const char *hp_pe_machine_name(const hp_pe *pe)
{
    switch (pe->machine) {
    case HP_IMAGE_FILE_MACHINE_I386: return "x86";
    case HP_IMAGE_FILE_MACHINE_AMD64: return "x64";
    default: return "unknown";
    }
}

const hp_pe_section *hp_pe_section_of(const hp_pe *pe, uint32_t rva)
{
    for (uint16_t i = 0; i < pe->section_count; i++) {
        const hp_pe_section *s = &pe->sections[i];
        if (rva >= s->virtual_address && rva - s->virtual_address < hp_pe_section_extent(s))
            return s;
    }
    return NULL;
}

const hp_pe_section *hp_pe_section_by_name(const hp_pe *pe, const char *name)
{
    size_t n = strlen(name);
    for (uint16_t i = 0; i < pe->section_count; i++) {
        const hp_pe_section *s = &pe->sections[i];
        if (strcmp(s->name, name) == 0 || (n <= 8 && memcmp(s->raw_name, name, n) == 0 &&
                                           (n == 8 || s->raw_name[n] == 0)))
            return s;
    }
    return NULL;
}

hp_pe_dir hp_pe_dir_get(const hp_pe *pe, unsigned index)
{
    hp_pe_dir none = { 0, 0 };
    return index < HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES ? pe->dirs[index] : none;
}

hp_status hp_pe_rva_to_offset(const hp_pe *pe, uint32_t rva, uint64_t *offset, uint64_t *avail)
{
    uint64_t limit;
    if (pe->layout == HP_PE_LAYOUT_LOADED) {
        limit = pe->rd.size < pe->size_of_image ? pe->rd.size : pe->size_of_image;
        if (rva >= limit)
            return HP_E_RVA;
        *offset = rva;
        *avail = limit - rva;
        return HP_OK;
    }
    if (rva < pe->size_of_headers) {
        limit = pe->rd.size < pe->size_of_headers ? pe->rd.size : pe->size_of_headers;
        if (rva >= limit)
            return HP_E_RVA;
        *offset = rva;
        *avail = limit - rva;
        return HP_OK;
    }
    const hp_pe_section *s = hp_pe_section_of(pe, rva);
    if (!s)
        return HP_E_RVA;
    uint32_t delta = rva - s->virtual_address;
    uint32_t backed = hp_pe_section_backed(s);
    if (delta >= backed)
        return HP_E_RVA;
    *offset = (uint64_t)s->raw_offset + delta;
    *avail = backed - delta;
    return HP_OK;
}

hp_status hp_pe_rva_view(const hp_pe *pe, uint32_t rva, uint64_t n, hp_rd *out)
{
    uint64_t off, avail;
    HP_CHECK(hp_pe_rva_to_offset(pe, rva, &off, &avail));
    if (n > avail)
        return HP_E_RVA;
    HP_CHECK_AS(hp_rd_sub(&pe->rd, off, n, out), HP_E_RVA);
    return HP_OK;
}

static hp_status rva_uint(const hp_pe *pe, uint32_t rva, unsigned width, uint64_t *out)
{
    hp_rd view;
    HP_CHECK(hp_pe_rva_view(pe, rva, width, &view));
    return hp_rd_uint(&view, 0, width, out);
}

hp_status hp_pe_rva_u16(const hp_pe *pe, uint32_t rva, uint16_t *out)
{
    uint64_t v;
    HP_CHECK(rva_uint(pe, rva, 2, &v));
    *out = (uint16_t)v;
    return HP_OK;
}

hp_status hp_pe_rva_u32(const hp_pe *pe, uint32_t rva, uint32_t *out)
{
    uint64_t v;
    HP_CHECK(rva_uint(pe, rva, 4, &v));
    *out = (uint32_t)v;
    return HP_OK;
}

hp_status hp_pe_rva_u64(const hp_pe *pe, uint32_t rva, uint64_t *out)
{
    return rva_uint(pe, rva, 8, out);
}

hp_status hp_pe_rva_ptr(const hp_pe *pe, uint32_t rva, uint64_t *out)
{
    return rva_uint(pe, rva, pe->pe32plus ? 8 : 4, out);
}

hp_status hp_pe_rva_str(const hp_pe *pe, hp_arena *arena, uint32_t rva, size_t max,
                        const char **out)
{
    uint64_t off, avail;
    size_t len;
    HP_CHECK(hp_pe_rva_to_offset(pe, rva, &off, &avail));
    hp_rd view;
    HP_CHECK_AS(hp_rd_sub(&pe->rd, off, avail, &view), HP_E_RVA);
    HP_CHECK_AS(hp_rd_strlen(&view, 0, max, &len), HP_E_RVA);
    *out = hp_arena_strndup(arena, view.data, len);
    return *out ? HP_OK : HP_E_NOMEM;
}

hp_status hp_pe_va_to_rva(const hp_pe *pe, uint64_t va, uint32_t *rva)
{
    if (va < pe->image_base || va - pe->image_base >= pe->size_of_image)
        return HP_E_RVA;
    *rva = (uint32_t)(va - pe->image_base);
    return HP_OK;
}

hp_status hp_pe_coff_string(const hp_pe *pe, hp_arena *arena, uint32_t off, const char **out)
{
    if (pe->layout != HP_PE_LAYOUT_FILE || pe->symbol_table_offset == 0)
        return HP_E_NOT_FOUND;
    uint64_t table = (uint64_t)pe->symbol_table_offset +
                     (uint64_t)pe->symbol_count * sizeof(HP_IMAGE_SYMBOL);
    uint32_t table_size;
    hp_rd strings;
    size_t len;
    HP_CHECK_AS(hp_rd_u32(&pe->rd, table, &table_size), HP_E_STRING_TABLE);
    /* The size counts its own 4 bytes; names start after them. */
    if (table_size < 4 || off < 4 || off >= table_size)
        return HP_E_STRING_TABLE;
    HP_CHECK_AS(hp_rd_sub(&pe->rd, table, table_size, &strings), HP_E_STRING_TABLE);
    HP_CHECK_AS(hp_rd_strlen(&strings, off, table_size - off, &len), HP_E_STRING_TABLE);
    *out = hp_arena_strndup(arena, strings.data + off, len);
    return *out ? HP_OK : HP_E_NOMEM;
}
