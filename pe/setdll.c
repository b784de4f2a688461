/* hotpe: hotpe's import section, .hotpei, written (see pe.h; the layout: docs/sdk.md). Reading
 * it back is setdll_find.c: the shim links that and not this. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef HP_IMAGE_OPTIONAL_HEADER32 opt32;
typedef HP_IMAGE_OPTIONAL_HEADER64 opt64;
typedef HP_IMAGE_IMPORT_DESCRIPTOR impdesc;
typedef HP_SETDLL_HEADER hdr_t;

#define NAME_MAX_LEN 255 /* of the DLL and symbol names written */
/* The loader writes the IAT, which lies in the section. */
#define SECTION_FLAGS \
    (HP_IMAGE_SCN_CNT_INITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ | HP_IMAGE_SCN_MEM_WRITE)

/* Where each part lies, from the start of the section. */
typedef struct layout {
    uint32_t ndesc;      /* original descriptors */
    uint32_t desc;       /* the new array: the originals, ours, the terminator */
    uint32_t desc_size;
    uint32_t ilt, iat;   /* ours: the import's thunk and a zero one each */
    uint32_t hint_name;  /* u16 hint, then the symbol */
    uint32_t dll;        /* the DLL's name */
    uint32_t size;
} layout;

static size_t name_len(const char *s)
{
    size_t n = 0;
    while (n <= NAME_MAX_LEN && s[n])
        n++;
    return n;
}

static hp_status plan(uint32_t ndesc, unsigned width, size_t dll_len, size_t sym_len, layout *l)
{
    uint64_t desc_size = ((uint64_t)ndesc + 2) * sizeof(impdesc), ilt;
    /* ndesc is bounded by the image's bytes, so neither step can wrap 64 bits. */
    if (!hp_align_up(sizeof(hdr_t) + desc_size, 8, &ilt))
        return HP_E_OVERFLOW;
    uint64_t end = ilt + 4u * width + 2 + sym_len + 1 + dll_len + 1;
    if (end > UINT32_MAX)
        return HP_E_OVERFLOW;
    l->ndesc = ndesc;
    l->desc = sizeof(hdr_t);
    l->desc_size = (uint32_t)desc_size;
    l->ilt = (uint32_t)ilt;
    l->iat = l->ilt + 2 * width;
    l->hint_name = l->iat + 2 * width;
    l->dll = l->hint_name + 2 + (uint32_t)sym_len + 1;
    l->size = (uint32_t)end;
    return HP_OK;
}

/* The original descriptors, as the loader counts them; the whole directory must parse. */
static hp_status count_originals(const hp_pe *pe, uint32_t *n)
{
    hp_arena arena = HP_ARENA_INIT;
    hp_pe_imports im;
    hp_status s = hp_pe_imports_parse(pe, &arena, false, &im);
    *n = im.count;
    hp_arena_free(&arena);
    return s;
}

static uint64_t dir_offset(const hp_pe *pe, unsigned index)
{
    return (uint64_t)pe->opt_offset + (pe->pe32plus ? sizeof(opt64) : sizeof(opt32)) +
           (uint64_t)index * sizeof(HP_IMAGE_DATA_DIRECTORY);
}

static hp_status write_header(const hp_pe *pe, const hp_wr *w, uint64_t at)
{
    hp_pe_dir imp = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_IMPORT);
    hp_pe_dir bound = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT);
    hp_pe_dir sec = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_SECURITY);
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, Magic, HP_SETDLL_MAGIC));
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, Version, HP_SETDLL_VERSION));
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, Size, sizeof(hdr_t)));
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, OrigSizeOfImage, pe->size_of_image));
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, OrigCheckSum, pe->checksum));
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, OrigImportRva, imp.rva));
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, OrigImportSize, imp.size));
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, OrigBoundImportRva, bound.rva));
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, OrigBoundImportSize, bound.size));
    HP_CHECK(HP_WR_FIELD(w, at, hdr_t, OrigSecurityOffset, sec.rva));
    return HP_WR_FIELD(w, at, hdr_t, OrigSecuritySize, sec.size);
}

/* The original descriptors, copied. A bound one is unbound when it can be: its binding data
 * went with the bound import directory, and the loader resolves it from its lookup table. */
static hp_status copy_descriptors(const hp_pe *pe, const layout *l, const hp_wr *w, uint64_t at)
{
    hp_pe_dir imp = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_IMPORT);
    for (uint32_t i = 0; i < l->ndesc; i++) {
        uint8_t d[sizeof(impdesc)];
        hp_rd view;
        uint64_t ilt, stamp;
        /* hp_pe_imports_parse read each of them, each RVA within 32 bits */
        uint32_t rva = imp.rva + i * (uint32_t)sizeof(impdesc);
        HP_CHECK_AS(hp_pe_rva_view(pe, rva, sizeof d, &view), HP_E_IMPORT_DIR);
        HP_CHECK_AS(hp_rd_bytes(&view, 0, sizeof d, d), HP_E_IMPORT_DIR);
        HP_CHECK_AS(HP_RD_FIELD(&view, 0, impdesc, OriginalFirstThunk, &ilt), HP_E_IMPORT_DIR);
        HP_CHECK_AS(HP_RD_FIELD(&view, 0, impdesc, TimeDateStamp, &stamp), HP_E_IMPORT_DIR);
        uint64_t o = at + l->desc + (uint64_t)i * sizeof(impdesc);
        HP_CHECK(hp_wr_bytes(w, o, d, sizeof d));
        if (stamp && ilt) {
            HP_CHECK(HP_WR_FIELD(w, o, impdesc, TimeDateStamp, 0));
            HP_CHECK(HP_WR_FIELD(w, o, impdesc, ForwarderChain, 0));
        }
    }
    return HP_OK;
}

/* The section's bytes at file offset `at` (zeros so far; the section is at rva), then the
 * directories. */
static hp_status fill(const hp_pe *pe, const layout *l, const char *dll, size_t dll_len,
                      const char *sym, size_t sym_len, uint32_t rva, const hp_wr *w,
                      uint64_t at)
{
    HP_CHECK(write_header(pe, w, at));
    HP_CHECK(copy_descriptors(pe, l, w, at));
    uint64_t ours = at + l->desc + (uint64_t)l->ndesc * sizeof(impdesc);
    HP_CHECK(HP_WR_FIELD(w, ours, impdesc, OriginalFirstThunk, rva + l->ilt));
    HP_CHECK(HP_WR_FIELD(w, ours, impdesc, Name, rva + l->dll));
    HP_CHECK(HP_WR_FIELD(w, ours, impdesc, FirstThunk, rva + l->iat));
    /* the terminator after ours, and each table's second thunk, stay zero */
    HP_CHECK(hp_wr_ptr(w, at + l->ilt, pe->pe32plus, rva + l->hint_name));
    HP_CHECK(hp_wr_ptr(w, at + l->iat, pe->pe32plus, rva + l->hint_name));
    HP_CHECK(hp_wr_bytes(w, at + l->hint_name + 2, sym, sym_len)); /* hint 0 */
    HP_CHECK(hp_wr_bytes(w, at + l->dll, dll, dll_len));

    uint64_t d = dir_offset(pe, HP_IMAGE_DIRECTORY_ENTRY_IMPORT);
    HP_CHECK(hp_wr_u32(w, d, rva + l->desc));
    HP_CHECK(hp_wr_u32(w, d + 4, l->desc_size));
    static const unsigned cleared[] = { HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT,
                                        HP_IMAGE_DIRECTORY_ENTRY_SECURITY };
    for (size_t i = 0; i < sizeof cleared / sizeof *cleared; i++)
        if (cleared[i] < pe->dir_count) {
            HP_CHECK(hp_wr_u32(w, dir_offset(pe, cleared[i]), 0));
            HP_CHECK(hp_wr_u32(w, dir_offset(pe, cleared[i]) + 4, 0));
        }
    return HP_OK;
}

/*
 * A bound import directory usually lies right after the section table, where the new section
 * header goes. It is cleared anyway: the section is added to a copy of the image with its
 * bytes and directory entry zeroed (*copy, parsed into *src). Only a range wholly between the
 * table's end and SizeOfHeaders is zeroed; one elsewhere stays, and when it is in the way
 * hp_pe_add_section says HP_E_WRITE_NO_ROOM. *copy stays NULL when there is nothing to do.
 */
static hp_status unbound_copy(const hp_pe *pe, hp_arena *arena, uint8_t **copy, hp_pe *src)
{
    *copy = NULL;
    hp_pe_dir b = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT);
    uint64_t table_end = (uint64_t)pe->section_table_offset +
                         (uint64_t)pe->section_count * sizeof(HP_IMAGE_SECTION_HEADER);
    uint64_t headers_end = pe->size_of_headers < pe->rd.size ? pe->size_of_headers : pe->rd.size;
    if (!b.rva || !b.size || b.rva < table_end || (uint64_t)b.rva + b.size > headers_end)
        return HP_OK;
    uint8_t *c = malloc(pe->rd.size);
    if (!c)
        return HP_E_NOMEM;
    hp_wr w = hp_wr_make(c, pe->rd.size);
    uint64_t d = dir_offset(pe, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT);
    hp_status s = hp_rd_bytes(&pe->rd, 0, pe->rd.size, c);
    if (s == HP_OK) {
        memset(c + b.rva, 0, b.size); /* inside the headers, checked above */
        s = hp_wr_u32(&w, d, 0);
    }
    if (s == HP_OK)
        s = hp_wr_u32(&w, d + 4, 0);
    if (s == HP_OK)
        s = hp_pe_parse(src, arena, c, pe->rd.size, HP_PE_LAYOUT_FILE);
    if (s != HP_OK) {
        free(c);
        return s;
    }
    *copy = c;
    return HP_OK;
}

hp_status hp_pe_setdll_add(const hp_pe *pe, const char *dll, const char *symbol, uint8_t **out,
                           size_t *out_size)
{
    if (!pe || !dll || !symbol || !out || !out_size)
        return HP_E_ARG;
    *out = NULL;
    *out_size = 0;
    size_t dll_len = name_len(dll), sym_len = name_len(symbol);
    if (!dll_len || dll_len > NAME_MAX_LEN || !sym_len || sym_len > NAME_MAX_LEN)
        return HP_E_ARG;
    if (pe->layout != HP_PE_LAYOUT_FILE)
        return HP_E_WRITE_LAYOUT;
    if (hp_pe_section_by_name(pe, HP_SETDLL_SECTION_NAME))
        return HP_E_SETDLL_ALREADY;
    if (pe->dir_count <= HP_IMAGE_DIRECTORY_ENTRY_IMPORT)
        return HP_E_UNSUPPORTED;
    uint32_t ndesc;
    layout l;
    HP_CHECK(count_originals(pe, &ndesc));
    HP_CHECK(plan(ndesc, pe->pe32plus ? 8 : 4, dll_len, sym_len, &l));

    /* The section's bytes hold RVAs into it: added as zeros first, filled once it has its
     * place. */
    hp_arena arena = HP_ARENA_INIT;
    hp_pe unbound;
    uint8_t *copy = NULL, *buf = NULL;
    uint8_t *zeros = calloc(l.size, 1);
    hp_status s = zeros ? unbound_copy(pe, &arena, &copy, &unbound) : HP_E_NOMEM;
    hp_pe_new_section sec = { HP_SETDLL_SECTION_NAME, SECTION_FLAGS, zeros, l.size, 0 };
    size_t size = 0;
    uint32_t rva = 0;
    if (s == HP_OK)
        s = hp_pe_add_section(copy ? &unbound : pe, &sec, &buf, &size, &rva);
    free(zeros);
    free(copy);
    hp_arena_free(&arena);
    if (s != HP_OK)
        return s;
    /* hp_pe_setdll_find recognises the section by this place. */
    uint64_t want;
    if (!hp_align_up(pe->size_of_image, pe->section_alignment, &want) || want != rva)
        s = HP_E_IMAGE_SIZE;

    hp_pe np;
    hp_wr w = hp_wr_make(buf, size);
    if (s == HP_OK)
        s = hp_pe_parse(&np, &arena, buf, size, HP_PE_LAYOUT_FILE);
    if (s == HP_OK)
        s = fill(pe, &l, dll, dll_len, symbol, sym_len, rva, &w,
                 np.sections[np.section_count - 1].raw_offset);
    /* Parsed again: the directories changed, and the checksum is the output's own. */
    hp_arena_free(&arena);
    if (s == HP_OK)
        s = hp_pe_parse(&np, &arena, buf, size, HP_PE_LAYOUT_FILE);
    if (s == HP_OK)
        s = hp_wr_u32(&w, (uint64_t)np.opt_offset + offsetof(opt32, CheckSum),
                      hp_pe_checksum(&np));
    hp_arena_free(&arena);
    if (s != HP_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    *out_size = size;
    return HP_OK;
}
