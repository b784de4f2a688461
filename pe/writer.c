/* hotpe: the PE checksum and the section writer (see pe.h). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef HP_IMAGE_OPTIONAL_HEADER32 opt32;
typedef HP_IMAGE_OPTIONAL_HEADER64 opt64;
typedef HP_IMAGE_SECTION_HEADER sh_t;
typedef HP_IMAGE_DEBUG_DIRECTORY dbg_t;

/* The writer patches these through one offset for both optional header layouts. */
#define SAME_OFFSET(field) \
    _Static_assert(offsetof(opt32, field) == offsetof(opt64, field), #field " differs")
SAME_OFFSET(SizeOfCode);
SAME_OFFSET(SizeOfInitializedData);
SAME_OFFSET(SizeOfUninitializedData);
SAME_OFFSET(SizeOfImage);
SAME_OFFSET(CheckSum);

#define CHECKSUM_CHUNK 8192u /* even, so words stay aligned to file offsets across chunks */
#define MAX_SECTIONS 96      /* the Windows loader's limit */

/*
 * The standard PE checksum: 16-bit little-endian words summed with end-around carry, the
 * 4-byte CheckSum field at field_off counted as zero, plus the file length. Folding once at
 * the end gives the same value as folding after every word (both are one's-complement sums
 * that never reach zero from a non-zero start).
 */
static uint32_t checksum_of(const hp_rd *rd, uint64_t field_off)
{
    uint8_t buf[CHECKSUM_CHUNK];
    uint64_t sum = 0;
    for (uint64_t off = 0; off < rd->size; off += CHECKSUM_CHUNK) {
        size_t n = rd->size - off < CHECKSUM_CHUNK ? (size_t)(rd->size - off) : CHECKSUM_CHUNK;
        if (hp_rd_bytes(rd, off, n, buf) != HP_OK)
            break; /* cannot happen: [off, off+n) lies inside the view */
        for (uint64_t k = 0; k < 4; k++)
            if (field_off + k >= off && field_off + k < off + n)
                buf[field_off + k - off] = 0;
        for (size_t i = 0; i + 1 < n; i += 2)
            sum += (uint32_t)buf[i] | (uint32_t)buf[i + 1] << 8;
        if (n & 1)
            sum += buf[n - 1];
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum + (uint32_t)rd->size;
}

uint32_t hp_pe_checksum(const hp_pe *pe)
{
    return checksum_of(&pe->rd, (uint64_t)pe->opt_offset + offsetof(opt32, CheckSum));
}

/* Where the section table, the raw data and the overlay (bytes after all raw data) lie. */
typedef struct layout {
    uint64_t slot;        /* file offset of the new section header */
    uint64_t raw_end;     /* end of the last raw data = start of the overlay */
    uint64_t new_raw;     /* the new section's raw data */
    uint64_t raw_size;    /* its SizeOfRawData */
    uint64_t delta;       /* how far the overlay moves */
    uint64_t total;       /* size of the output */
    uint32_t va, vsize, size_of_image;
} layout;

static hp_status plan(const hp_pe *pe, const hp_pe_new_section *sec, layout *l)
{
    uint64_t headers_end = pe->size_of_headers < pe->rd.size ? pe->size_of_headers : pe->rd.size;
    uint64_t first_raw = headers_end, v;
    l->raw_end = headers_end;
    for (uint16_t i = 0; i < pe->section_count; i++) {
        const hp_pe_section *s = &pe->sections[i];
        if (!s->raw_size)
            continue;
        /* hp_pe_parse checked that raw data lies inside the file. */
        if (s->raw_offset < first_raw)
            first_raw = s->raw_offset;
        if ((uint64_t)s->raw_offset + s->raw_size > l->raw_end)
            l->raw_end = (uint64_t)s->raw_offset + s->raw_size;
    }

    l->slot = (uint64_t)pe->section_table_offset + (uint64_t)pe->section_count * sizeof(sh_t);
    if (pe->section_count >= MAX_SECTIONS || l->slot + sizeof(sh_t) > first_raw)
        return HP_E_WRITE_NO_ROOM;
    /* Bytes after the table may hold something (a bound import directory): only take zeros. */
    uint8_t slot[sizeof(sh_t)];
    HP_CHECK_AS(hp_rd_bytes(&pe->rd, l->slot, sizeof slot, slot), HP_E_WRITE_NO_ROOM);
    for (size_t i = 0; i < sizeof slot; i++)
        if (slot[i])
            return HP_E_WRITE_NO_ROOM;

    uint64_t fa = pe->file_alignment;
    if (!hp_align_up(l->raw_end, fa, &l->new_raw) ||
        !hp_align_up(sec->data_size, fa, &l->raw_size))
        return HP_E_OVERFLOW;
    uint64_t data_end = l->new_raw + l->raw_size;
    uint64_t overlay = pe->rd.size - l->raw_end;
    if (!sec->data_size) {
        l->total = pe->rd.size; /* no raw data: the file keeps its layout */
    } else {
        /* A multiple of the file alignment (and of 8, for certificates) keeps the overlay's
         * offsets aligned as they were. */
        if (!hp_align_up(data_end - l->raw_end, fa < 8 ? 8 : fa, &l->delta))
            return HP_E_OVERFLOW;
        l->total = overlay ? l->raw_end + l->delta + overlay : data_end;
    }
    if (l->total > UINT32_MAX)
        return HP_E_OVERFLOW;

    uint64_t va_end = pe->size_of_headers;
    if (pe->section_count) {
        const hp_pe_section *last = &pe->sections[pe->section_count - 1];
        va_end = (uint64_t)last->virtual_address + hp_pe_section_extent(last);
    }
    l->vsize = sec->virtual_size ? sec->virtual_size : sec->data_size;
    if (!hp_align_up(va_end, pe->section_alignment, &v) || v > UINT32_MAX)
        return HP_E_OVERFLOW;
    l->va = (uint32_t)v;
    if (!hp_align_up((uint64_t)l->va + l->vsize, pe->section_alignment, &v) || v > UINT32_MAX)
        return HP_E_OVERFLOW;
    l->size_of_image = (uint32_t)v;
    return HP_OK;
}

/*
 * A file offset stored at `at` (before the overlay, so the output holds the same bytes there)
 * that points into the overlay moves with it.
 */
static hp_status move_pointer(const hp_pe *pe, const layout *l, const hp_wr *w, uint64_t at)
{
    uint32_t v;
    if (hp_rd_u32(&pe->rd, at, &v) == HP_OK && v && v >= l->raw_end && v <= pe->rd.size)
        return hp_wr_u32(w, at, (uint32_t)(v + l->delta));
    return HP_OK;
}

static hp_status move_overlay_pointers(const hp_pe *pe, const layout *l, const hp_wr *w)
{
    if (l->delta == 0 || l->raw_end == pe->rd.size)
        return HP_OK;
    HP_CHECK(move_pointer(pe, l, w, (uint64_t)pe->nt_offset + 4 +
                                        offsetof(HP_IMAGE_FILE_HEADER, PointerToSymbolTable)));
    if (pe->dir_count > HP_IMAGE_DIRECTORY_ENTRY_SECURITY)
        /* The certificate table's "RVA" is a file offset. */
        HP_CHECK(move_pointer(pe, l, w,
                              (uint64_t)pe->opt_offset +
                                  (pe->pe32plus ? sizeof(opt64) : sizeof(opt32)) +
                                  HP_IMAGE_DIRECTORY_ENTRY_SECURITY *
                                      sizeof(HP_IMAGE_DATA_DIRECTORY)));
    for (uint16_t i = 0; i < pe->section_count; i++) {
        uint64_t h = (uint64_t)pe->section_table_offset + (uint64_t)i * sizeof(sh_t);
        HP_CHECK(move_pointer(pe, l, w, h + offsetof(sh_t, PointerToRelocations)));
        HP_CHECK(move_pointer(pe, l, w, h + offsetof(sh_t, PointerToLinenumbers)));
    }
    /* Debug data kept outside the sections (old linkers) is addressed by file offset too. */
    hp_pe_dir d = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_DEBUG);
    uint64_t off, avail;
    if (d.rva && d.size % sizeof(dbg_t) == 0 &&
        hp_pe_rva_to_offset(pe, d.rva, &off, &avail) == HP_OK && avail >= d.size &&
        off + d.size <= l->raw_end)
        for (uint64_t at = off; at < off + d.size; at += sizeof(dbg_t))
            HP_CHECK(move_pointer(pe, l, w, at + offsetof(dbg_t, PointerToRawData)));
    return HP_OK;
}

/* Add n to the u32 optional-header field at off; HP_E_OVERFLOW when it no longer fits. */
static hp_status add_field(const hp_pe *pe, const hp_wr *w, uint64_t off, uint64_t n)
{
    uint32_t v;
    if (hp_rd_u32(&pe->rd, off, &v) != HP_OK || v + n > UINT32_MAX)
        return HP_E_OVERFLOW;
    return hp_wr_u32(w, off, (uint32_t)(v + n));
}

/* The new section header, NumberOfSections, SizeOfImage and the size sums (not CheckSum). */
static hp_status write_headers(const hp_pe *pe, const hp_pe_new_section *sec, const layout *l,
                               size_t name_len, const hp_wr *w)
{
    HP_CHECK(hp_wr_bytes(w, l->slot + offsetof(sh_t, Name), sec->name, name_len));
    HP_CHECK(HP_WR_FIELD(w, l->slot, sh_t, VirtualSize, l->vsize));
    HP_CHECK(HP_WR_FIELD(w, l->slot, sh_t, VirtualAddress, l->va));
    HP_CHECK(HP_WR_FIELD(w, l->slot, sh_t, SizeOfRawData, l->raw_size));
    HP_CHECK(HP_WR_FIELD(w, l->slot, sh_t, PointerToRawData, sec->data_size ? l->new_raw : 0));
    HP_CHECK(HP_WR_FIELD(w, l->slot, sh_t, Characteristics, sec->characteristics));

    HP_CHECK(HP_WR_FIELD(w, (uint64_t)pe->nt_offset + 4, HP_IMAGE_FILE_HEADER, NumberOfSections,
                         pe->section_count + 1u));
    uint64_t opt = pe->opt_offset;
    HP_CHECK(HP_WR_FIELD(w, opt, opt32, SizeOfImage, l->size_of_image));
    /* Linkers count raw sizes, and the file-aligned virtual size for uninitialized data. */
    if (sec->characteristics & HP_IMAGE_SCN_CNT_CODE)
        HP_CHECK(add_field(pe, w, opt + offsetof(opt32, SizeOfCode), l->raw_size));
    if (sec->characteristics & HP_IMAGE_SCN_CNT_INITIALIZED_DATA)
        HP_CHECK(add_field(pe, w, opt + offsetof(opt32, SizeOfInitializedData), l->raw_size));
    if (sec->characteristics & HP_IMAGE_SCN_CNT_UNINITIALIZED_DATA) {
        uint64_t n;
        if (!hp_align_up(l->vsize, pe->file_alignment, &n))
            return HP_E_OVERFLOW;
        HP_CHECK(add_field(pe, w, opt + offsetof(opt32, SizeOfUninitializedData), n));
    }
    return HP_OK;
}

hp_status hp_pe_add_section(const hp_pe *pe, const hp_pe_new_section *sec, uint8_t **out,
                            size_t *out_size, uint32_t *rva)
{
    if (!pe || !sec || !sec->name || !out || !out_size || (!sec->data && sec->data_size))
        return HP_E_ARG;
    *out = NULL;
    *out_size = 0;
    if (pe->layout != HP_PE_LAYOUT_FILE)
        return HP_E_WRITE_LAYOUT;
    size_t name_len = 0;
    while (name_len <= 8 && sec->name[name_len])
        name_len++;
    if (name_len > 8)
        return HP_E_WRITE_NAME;
    if (!sec->virtual_size && !sec->data_size)
        return HP_E_ARG; /* an empty section maps nothing */

    layout l;
    memset(&l, 0, sizeof l);
    HP_CHECK(plan(pe, sec, &l));

    uint8_t *buf = calloc((size_t)l.total, 1);
    if (!buf)
        return HP_E_NOMEM;
    uint64_t overlay = pe->rd.size - l.raw_end;
    if (hp_rd_bytes(&pe->rd, 0, (size_t)l.raw_end, buf) != HP_OK ||
        (overlay &&
         hp_rd_bytes(&pe->rd, l.raw_end, (size_t)overlay, buf + l.raw_end + l.delta) != HP_OK)) {
        free(buf);
        return HP_E_BOUNDS; /* cannot happen: both ranges lie inside the image */
    }
    /* Every write below lands inside the output by the layout; a failure is a layout bug,
     * reported rather than ignored. */
    hp_wr w = hp_wr_make(buf, (size_t)l.total);
    hp_status s = sec->data_size ? hp_wr_bytes(&w, l.new_raw, sec->data, sec->data_size) : HP_OK;
    if (s == HP_OK)
        s = move_overlay_pointers(pe, &l, &w);
    if (s == HP_OK)
        s = write_headers(pe, sec, &l, name_len, &w);
    uint64_t field = (uint64_t)pe->opt_offset + offsetof(opt32, CheckSum);
    hp_rd whole = hp_rd_make(buf, (size_t)l.total);
    if (s == HP_OK)
        s = hp_wr_u32(&w, field, checksum_of(&whole, field));
    if (s != HP_OK) {
        free(buf);
        return s;
    }

    *out = buf;
    *out_size = (size_t)l.total;
    if (rva)
        *rva = l.va;
    return HP_OK;
}
