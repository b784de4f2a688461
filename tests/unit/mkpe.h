/*
 * mkpe: build small, valid PE images in memory for tests (header only, static functions).
 *
 * A test describes the image, builds it, then corrupts single fields:
 *
 *     mkpe_spec spec;
 *     mkpe_init(&spec, MKPE_X64);                    // or MKPE_X86 (PE32)
 *     uint32_t text = mkpe_add_section(&spec, ".text", MKPE_CODE, code, sizeof code, 0);
 *     uint32_t rva = mkpe_section_rva(&spec, text);   // RVAs are known before building
 *     spec.entry_point = rva;
 *     mkpe_image img = mkpe_build(&spec);              // file layout, malloc'd
 *     mkpe_w32(&img, mkpe_off_opt(&spec) + offsetof(HP_IMAGE_OPTIONAL_HEADER64, SizeOfImage), 0);
 *     ... hp_pe_parse(&pe, &arena, img.data, img.size, HP_PE_LAYOUT_FILE) ...
 *     mkpe_free(&img);
 *
 * Directory contents are laid out with a blob that knows the RVA it will live at:
 *
 *     uint32_t data = mkpe_add_section(&spec, ".rdata", MKPE_RDATA, NULL, 0, 0);
 *     mkpe_blob b;
 *     mkpe_blob_init(&b, mkpe_section_rva(&spec, data));
 *     uint32_t name = mkpe_blob_str(&b, "x.dll");            // returns the string's RVA
 *     uint32_t dir = mkpe_blob_zero(&b, 40);                 // reserve, fill later
 *     mkpe_blob_put32(&b, dir + 0x0c, name);                 // write at an RVA inside it
 *     mkpe_set_section_blob(&spec, data, &b);                // the section takes b's bytes
 *     mkpe_set_dir(&spec, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, dir, 40);
 *     ... mkpe_build(&spec) ...; mkpe_blob_free(&b) after the build.
 *
 * Layout (deterministic; depends only on the spec): DOS header, NT headers at e_lfanew (0x80),
 * optional header with dir_count directories (max 16), section table, SizeOfHeaders = that
 * rounded to file_alignment (plus header_slack bytes, so writers have room). Section i starts
 * at the next section_alignment boundary after section i-1 (or after the headers), its raw
 * data at the next file_alignment boundary; SizeOfRawData is data_size rounded up to
 * file_alignment (0 for an uninitialized section), VirtualSize is virtual_size or data_size.
 * An optional trailer (e.g. a COFF symbol table and string table) follows the last raw data;
 * with trailer_is_symtab it becomes PointerToSymbolTable. mkpe_build_loaded() gives the same
 * image in loaded layout (SizeOfImage bytes, each section copied to its RVA).
 *
 * Add every section before asking for file offsets (mkpe_section_offset, mkpe_rva_offset):
 * the section table's size moves them. RVAs move only when the headers grow past
 * section_alignment (more than ~90 sections at the default alignments).
 * The spec only points at section data: it must stay alive until mkpe_build returns.
 * Nothing here reads untrusted bytes; it writes its own buffers.
 */
#ifndef HOTPE_TEST_MKPE_H
#define HOTPE_TEST_MKPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/pe/format.h"

#define MKPE_MAX_SECTIONS 16

typedef enum mkpe_arch { MKPE_X86, MKPE_X64 } mkpe_arch;

/* Common section characteristics. */
#define MKPE_CODE (HP_IMAGE_SCN_CNT_CODE | HP_IMAGE_SCN_MEM_EXECUTE | HP_IMAGE_SCN_MEM_READ)
#define MKPE_RDATA (HP_IMAGE_SCN_CNT_INITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ)
#define MKPE_DATA (MKPE_RDATA | HP_IMAGE_SCN_MEM_WRITE)
#define MKPE_BSS (HP_IMAGE_SCN_CNT_UNINITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ | HP_IMAGE_SCN_MEM_WRITE)

typedef struct mkpe_section {
    char name[9];             /* up to 8 bytes, stored NUL-padded */
    uint32_t characteristics;
    const void *data;         /* raw bytes (may be NULL: zeros of data_size) */
    uint32_t data_size;       /* 0 with virtual_size > 0: uninitialized section */
    uint32_t virtual_size;    /* 0: data_size */
} mkpe_section;

typedef struct mkpe_spec {
    bool pe32plus;
    uint16_t machine;
    uint16_t characteristics;    /* file header; default EXECUTABLE_IMAGE | DLL (| 32BIT_MACHINE) */
    uint32_t timestamp;
    uint64_t image_base;
    uint32_t entry_point;
    uint32_t section_alignment;  /* default 0x1000 */
    uint32_t file_alignment;     /* default 0x200 */
    uint32_t lfanew;             /* default 0x80 */
    uint16_t subsystem;          /* default 3 (console) */
    uint16_t dll_characteristics;/* default 0x140: DYNAMIC_BASE | NX_COMPAT */
    uint32_t dir_count;          /* NumberOfRvaAndSizes and directories written; default 16 */
    HP_IMAGE_DATA_DIRECTORY dirs[HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES];
    uint32_t header_slack;       /* extra bytes in the headers before rounding; default 0 */
    unsigned section_count;
    mkpe_section sections[MKPE_MAX_SECTIONS];
    const void *trailer;         /* bytes after the last section's raw data */
    uint32_t trailer_size;
    bool trailer_is_symtab;      /* PointerToSymbolTable = trailer offset */
    uint32_t symbol_count;       /* NumberOfSymbols */
} mkpe_spec;

typedef struct mkpe_image {
    uint8_t *data;
    size_t size;
} mkpe_image;

/* ------------------------------------------------------------------------------------------ */
/* Little-endian stores into a test-owned buffer                                              */
/* ------------------------------------------------------------------------------------------ */

static inline void mkpe_store(uint8_t *p, uint64_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t mkpe_load(const uint8_t *p, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = width; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Stores into an image, aborting the test on a write past the end (a bug in the test). */
static inline void mkpe_wn(mkpe_image *img, uint64_t off, uint64_t v, unsigned width)
{
    if (off > img->size || width > img->size - off) {
        fprintf(stderr, "mkpe: store of %u bytes at 0x%llx past the image (0x%zx)\n", width,
                (unsigned long long)off, img->size);
        abort();
    }
    mkpe_store(img->data + off, v, width);
}
static inline void mkpe_w8(mkpe_image *img, uint64_t off, uint8_t v) { mkpe_wn(img, off, v, 1); }
static inline void mkpe_w16(mkpe_image *img, uint64_t off, uint16_t v) { mkpe_wn(img, off, v, 2); }
static inline void mkpe_w32(mkpe_image *img, uint64_t off, uint32_t v) { mkpe_wn(img, off, v, 4); }
static inline void mkpe_w64(mkpe_image *img, uint64_t off, uint64_t v) { mkpe_wn(img, off, v, 8); }
static inline uint64_t mkpe_rn(const mkpe_image *img, uint64_t off, unsigned width)
{
    if (off > img->size || width > img->size - off)
        abort();
    return mkpe_load(img->data + off, width);
}

/* Write one field of a format.h struct placed at base: MKPE_PUT(&img, off, HP_IMAGE_FILE_HEADER, Machine, 0). */
#define MKPE_PUT(img, base, type, field, value) \
    mkpe_wn((img), (uint64_t)(base) + offsetof(type, field), (value), sizeof(((type *)0)->field))
#define MKPE_GET(img, base, type, field) \
    mkpe_rn((img), (uint64_t)(base) + offsetof(type, field), sizeof(((type *)0)->field))

/* ------------------------------------------------------------------------------------------ */
/* Spec and layout                                                                            */
/* ------------------------------------------------------------------------------------------ */

static inline uint32_t mkpe_align(uint32_t v, uint32_t a)
{
    return a ? (v + a - 1) / a * a : v;
}

static inline void mkpe_init(mkpe_spec *s, mkpe_arch arch)
{
    memset(s, 0, sizeof *s);
    s->pe32plus = arch == MKPE_X64;
    s->machine = s->pe32plus ? HP_IMAGE_FILE_MACHINE_AMD64 : HP_IMAGE_FILE_MACHINE_I386;
    s->characteristics = 0x0002 | HP_IMAGE_FILE_DLL | (s->pe32plus ? 0x0020 : 0x0100);
    s->timestamp = 0x5f000000;
    s->image_base = s->pe32plus ? 0x180000000ull : 0x10000000ull;
    s->section_alignment = 0x1000;
    s->file_alignment = 0x200;
    s->lfanew = 0x80;
    s->subsystem = 3;
    s->dll_characteristics = 0x0140;
    s->dir_count = HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES;
}

/** Append a section; returns its index. data may be NULL (zeros). */
static inline unsigned mkpe_add_section(mkpe_spec *s, const char *name, uint32_t characteristics,
                                        const void *data, uint32_t data_size, uint32_t virtual_size)
{
    if (s->section_count >= MKPE_MAX_SECTIONS)
        abort();
    mkpe_section *sec = &s->sections[s->section_count];
    memset(sec, 0, sizeof *sec);
    for (unsigned k = 0; k < 8 && name[k]; k++)
        sec->name[k] = name[k];
    sec->characteristics = characteristics;
    sec->data = data;
    sec->data_size = data_size;
    sec->virtual_size = virtual_size;
    return s->section_count++;
}

static inline void mkpe_set_dir(mkpe_spec *s, unsigned index, uint32_t rva, uint32_t size)
{
    s->dirs[index].VirtualAddress = rva;
    s->dirs[index].Size = size;
}

static inline uint32_t mkpe_opt_fixed(const mkpe_spec *s)
{
    return s->pe32plus ? sizeof(HP_IMAGE_OPTIONAL_HEADER64) : sizeof(HP_IMAGE_OPTIONAL_HEADER32);
}

static inline uint32_t mkpe_opt_size(const mkpe_spec *s)
{
    uint32_t n = s->dir_count < HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES ? s->dir_count
                                                                    : HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES;
    return mkpe_opt_fixed(s) + n * (uint32_t)sizeof(HP_IMAGE_DATA_DIRECTORY);
}

/* File offsets of the headers. */
static inline uint32_t mkpe_off_nt(const mkpe_spec *s) { return s->lfanew; }
static inline uint32_t mkpe_off_file_header(const mkpe_spec *s) { return s->lfanew + 4; }
static inline uint32_t mkpe_off_opt(const mkpe_spec *s)
{
    return s->lfanew + 4 + (uint32_t)sizeof(HP_IMAGE_FILE_HEADER);
}
static inline uint32_t mkpe_off_dir(const mkpe_spec *s, unsigned index)
{
    return mkpe_off_opt(s) + mkpe_opt_fixed(s) + index * (uint32_t)sizeof(HP_IMAGE_DATA_DIRECTORY);
}
static inline uint32_t mkpe_off_section_table(const mkpe_spec *s)
{
    return mkpe_off_opt(s) + mkpe_opt_size(s);
}
/** File offset of section header i (its fields: offsetof(HP_IMAGE_SECTION_HEADER, ...)). */
static inline uint32_t mkpe_off_section_header(const mkpe_spec *s, unsigned i)
{
    return mkpe_off_section_table(s) + i * (uint32_t)sizeof(HP_IMAGE_SECTION_HEADER);
}

static inline uint32_t mkpe_headers_size(const mkpe_spec *s)
{
    uint32_t end = mkpe_off_section_header(s, s->section_count) + s->header_slack;
    return mkpe_align(end, s->file_alignment);
}

static inline uint32_t mkpe_section_vsize(const mkpe_section *sec)
{
    return sec->virtual_size ? sec->virtual_size : sec->data_size;
}

static inline uint32_t mkpe_section_raw_size(const mkpe_spec *s, unsigned i)
{
    return mkpe_align(s->sections[i].data_size, s->file_alignment);
}

/** RVA of section i; depends only on sections before it, so it is known before i is filled. */
static inline uint32_t mkpe_section_rva(const mkpe_spec *s, unsigned i)
{
    uint32_t rva = mkpe_align(mkpe_headers_size(s), s->section_alignment);
    for (unsigned k = 0; k < i; k++) {
        uint32_t vs = mkpe_section_vsize(&s->sections[k]);
        rva = mkpe_align(rva + (vs ? vs : 1), s->section_alignment);
    }
    return rva;
}

/** Where section i's raw data goes in the file, whether it has any yet or not. */
static inline uint32_t mkpe_section_file_pos(const mkpe_spec *s, unsigned i)
{
    uint32_t off = mkpe_headers_size(s);
    for (unsigned k = 0; k < i; k++)
        off += mkpe_section_raw_size(s, k);
    return off;
}

/** PointerToRawData of section i (0 when it has no raw data). */
static inline uint32_t mkpe_section_offset(const mkpe_spec *s, unsigned i)
{
    return s->sections[i].data_size ? mkpe_section_file_pos(s, i) : 0;
}

static inline uint32_t mkpe_image_size(const mkpe_spec *s)
{
    return s->section_count ? mkpe_section_rva(s, s->section_count)
                            : mkpe_align(mkpe_headers_size(s), s->section_alignment);
}

/** File offset of the trailer (just after the last raw data). */
static inline uint32_t mkpe_trailer_offset(const mkpe_spec *s)
{
    uint32_t off = mkpe_headers_size(s);
    for (unsigned k = 0; k < s->section_count; k++)
        off += mkpe_section_raw_size(s, k);
    return off;
}

/** File offset of an RVA inside section i's raw data (for corrupting directory bytes). */
static inline uint32_t mkpe_rva_offset(const mkpe_spec *s, unsigned i, uint32_t rva)
{
    return mkpe_section_file_pos(s, i) + (rva - mkpe_section_rva(s, i));
}

/* ------------------------------------------------------------------------------------------ */
/* Build                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static inline void mkpe_write_headers(const mkpe_spec *s, mkpe_image *img)
{
    typedef HP_IMAGE_FILE_HEADER fh;
    typedef HP_IMAGE_OPTIONAL_HEADER32 o32;
    typedef HP_IMAGE_OPTIONAL_HEADER64 o64;
    typedef HP_IMAGE_SECTION_HEADER sh;
    uint32_t code_size = 0, init_size = 0, uninit_size = 0, base_of_code = 0, base_of_data = 0;

    for (unsigned i = 0; i < s->section_count; i++) {
        const mkpe_section *sec = &s->sections[i];
        uint32_t raw = mkpe_section_raw_size(s, i);
        if (sec->characteristics & HP_IMAGE_SCN_CNT_CODE) {
            code_size += raw;
            if (!base_of_code)
                base_of_code = mkpe_section_rva(s, i);
        } else if (sec->characteristics & HP_IMAGE_SCN_CNT_UNINITIALIZED_DATA) {
            uninit_size += mkpe_align(mkpe_section_vsize(sec), s->file_alignment);
        } else {
            init_size += raw;
            if (!base_of_data)
                base_of_data = mkpe_section_rva(s, i);
        }
    }

    MKPE_PUT(img, 0, HP_IMAGE_DOS_HEADER, e_magic, HP_IMAGE_DOS_SIGNATURE);
    MKPE_PUT(img, 0, HP_IMAGE_DOS_HEADER, e_cblp, 0x90);
    MKPE_PUT(img, 0, HP_IMAGE_DOS_HEADER, e_cp, 3);
    MKPE_PUT(img, 0, HP_IMAGE_DOS_HEADER, e_cparhdr, 4);
    MKPE_PUT(img, 0, HP_IMAGE_DOS_HEADER, e_maxalloc, 0xffff);
    MKPE_PUT(img, 0, HP_IMAGE_DOS_HEADER, e_sp, 0xb8);
    MKPE_PUT(img, 0, HP_IMAGE_DOS_HEADER, e_lfarlc, 0x40);
    MKPE_PUT(img, 0, HP_IMAGE_DOS_HEADER, e_lfanew, s->lfanew);

    mkpe_w32(img, s->lfanew, HP_IMAGE_NT_SIGNATURE);
    uint32_t f = mkpe_off_file_header(s);
    MKPE_PUT(img, f, fh, Machine, s->machine);
    MKPE_PUT(img, f, fh, NumberOfSections, s->section_count);
    MKPE_PUT(img, f, fh, TimeDateStamp, s->timestamp);
    MKPE_PUT(img, f, fh, PointerToSymbolTable, s->trailer_is_symtab ? mkpe_trailer_offset(s) : 0);
    MKPE_PUT(img, f, fh, NumberOfSymbols, s->symbol_count);
    MKPE_PUT(img, f, fh, SizeOfOptionalHeader, mkpe_opt_size(s));
    MKPE_PUT(img, f, fh, Characteristics, s->characteristics);

    uint32_t o = mkpe_off_opt(s);
#define OPT(field, value)                                   \
    do {                                                    \
        if (s->pe32plus)                                    \
            MKPE_PUT(img, o, o64, field, (value));          \
        else                                                \
            MKPE_PUT(img, o, o32, field, (value));          \
    } while (0)
    OPT(Magic, s->pe32plus ? HP_IMAGE_NT_OPTIONAL_HDR64_MAGIC : HP_IMAGE_NT_OPTIONAL_HDR32_MAGIC);
    OPT(MajorLinkerVersion, 2);
    OPT(MinorLinkerVersion, 40);
    OPT(SizeOfCode, code_size);
    OPT(SizeOfInitializedData, init_size);
    OPT(SizeOfUninitializedData, uninit_size);
    OPT(AddressOfEntryPoint, s->entry_point);
    OPT(BaseOfCode, base_of_code);
    if (!s->pe32plus)
        MKPE_PUT(img, o, o32, BaseOfData, base_of_data);
    OPT(ImageBase, s->image_base);
    OPT(SectionAlignment, s->section_alignment);
    OPT(FileAlignment, s->file_alignment);
    OPT(MajorOperatingSystemVersion, 6);
    OPT(MajorSubsystemVersion, 6);
    OPT(SizeOfImage, mkpe_image_size(s));
    OPT(SizeOfHeaders, mkpe_headers_size(s));
    OPT(Subsystem, s->subsystem);
    OPT(DllCharacteristics, s->dll_characteristics);
    OPT(SizeOfStackReserve, 0x100000);
    OPT(SizeOfStackCommit, 0x1000);
    OPT(SizeOfHeapReserve, 0x100000);
    OPT(SizeOfHeapCommit, 0x1000);
    OPT(NumberOfRvaAndSizes, s->dir_count);
#undef OPT
    uint32_t ndirs = (mkpe_opt_size(s) - mkpe_opt_fixed(s)) / sizeof(HP_IMAGE_DATA_DIRECTORY);
    for (unsigned i = 0; i < ndirs; i++) {
        mkpe_w32(img, mkpe_off_dir(s, i), s->dirs[i].VirtualAddress);
        mkpe_w32(img, mkpe_off_dir(s, i) + 4, s->dirs[i].Size);
    }

    for (unsigned i = 0; i < s->section_count; i++) {
        const mkpe_section *sec = &s->sections[i];
        uint32_t h = mkpe_off_section_header(s, i);
        for (unsigned k = 0; k < 8 && sec->name[k]; k++)
            img->data[h + k] = (uint8_t)sec->name[k];
        MKPE_PUT(img, h, sh, VirtualSize, mkpe_section_vsize(sec));
        MKPE_PUT(img, h, sh, VirtualAddress, mkpe_section_rva(s, i));
        MKPE_PUT(img, h, sh, SizeOfRawData, mkpe_section_raw_size(s, i));
        MKPE_PUT(img, h, sh, PointerToRawData, mkpe_section_offset(s, i));
        MKPE_PUT(img, h, sh, Characteristics, sec->characteristics);
    }
}

static inline mkpe_image mkpe_alloc(size_t size)
{
    mkpe_image img = { calloc(size ? size : 1, 1), size };
    if (!img.data)
        abort();
    return img;
}

/** The image in file layout; free with mkpe_free. */
static inline mkpe_image mkpe_build(const mkpe_spec *s)
{
    mkpe_image img = mkpe_alloc((size_t)mkpe_trailer_offset(s) + s->trailer_size);
    mkpe_write_headers(s, &img);
    for (unsigned i = 0; i < s->section_count; i++) {
        const mkpe_section *sec = &s->sections[i];
        if (sec->data && sec->data_size)
            memcpy(img.data + mkpe_section_offset(s, i), sec->data, sec->data_size);
    }
    if (s->trailer_size)
        memcpy(img.data + mkpe_trailer_offset(s), s->trailer, s->trailer_size);
    return img;
}

/** The image as the loader maps it (SizeOfImage bytes, offset == RVA); no trailer. */
static inline mkpe_image mkpe_build_loaded(const mkpe_spec *s)
{
    mkpe_image img = mkpe_alloc(mkpe_image_size(s));
    mkpe_write_headers(s, &img);
    for (unsigned i = 0; i < s->section_count; i++) {
        const mkpe_section *sec = &s->sections[i];
        uint32_t n = sec->data_size < mkpe_section_vsize(sec) ? sec->data_size
                                                              : mkpe_section_vsize(sec);
        if (sec->data && n)
            memcpy(img.data + mkpe_section_rva(s, i), sec->data, n);
    }
    return img;
}

static inline void mkpe_free(mkpe_image *img)
{
    free(img->data);
    img->data = NULL;
    img->size = 0;
}

/** Keep only the first n bytes (n <= size): for truncation cases. */
static inline void mkpe_truncate(mkpe_image *img, size_t n)
{
    if (n < img->size)
        img->size = n;
}

/* ------------------------------------------------------------------------------------------ */
/* Blob: section contents addressed by RVA                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct mkpe_blob {
    uint8_t *data;
    uint32_t size, cap;
    uint32_t rva;               /* RVA of data[0] */
} mkpe_blob;

static inline void mkpe_blob_init(mkpe_blob *b, uint32_t rva)
{
    memset(b, 0, sizeof *b);
    b->rva = rva;
}

static inline void mkpe_blob_free(mkpe_blob *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/** Append n bytes (zeros when p is NULL) aligned to align (0 or 1: none); returns their RVA. */
static inline uint32_t mkpe_blob_add(mkpe_blob *b, const void *p, uint32_t n, uint32_t align)
{
    uint32_t at = mkpe_align(b->size, align ? align : 1);
    if (at + n > b->cap) {
        uint32_t cap = b->cap ? b->cap : 256;
        while (cap < at + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            abort();
        memset(d + b->cap, 0, cap - b->cap);
        b->data = d;
        b->cap = cap;
    }
    if (p && n)
        memcpy(b->data + at, p, n);
    b->size = at + n;
    return b->rva + at;
}

static inline uint32_t mkpe_blob_zero(mkpe_blob *b, uint32_t n) { return mkpe_blob_add(b, NULL, n, 4); }
static inline uint32_t mkpe_blob_str(mkpe_blob *b, const char *s)
{
    return mkpe_blob_add(b, s, (uint32_t)strlen(s) + 1, 1);
}
static inline uint32_t mkpe_blob_u16(mkpe_blob *b, uint16_t v)
{
    uint8_t t[2];
    mkpe_store(t, v, 2);
    return mkpe_blob_add(b, t, 2, 2);
}
static inline uint32_t mkpe_blob_u32(mkpe_blob *b, uint32_t v)
{
    uint8_t t[4];
    mkpe_store(t, v, 4);
    return mkpe_blob_add(b, t, 4, 4);
}
static inline uint32_t mkpe_blob_u64(mkpe_blob *b, uint64_t v)
{
    uint8_t t[8];
    mkpe_store(t, v, 8);
    return mkpe_blob_add(b, t, 8, 8);
}

/** Store into bytes already appended, addressed by RVA. */
static inline void mkpe_blob_putn(mkpe_blob *b, uint32_t rva, uint64_t v, unsigned width)
{
    if (rva < b->rva || rva - b->rva > b->size || width > b->size - (rva - b->rva)) {
        fprintf(stderr, "mkpe: blob store at RVA 0x%x outside [0x%x, +0x%x)\n", rva, b->rva,
                b->size);
        abort();
    }
    mkpe_store(b->data + (rva - b->rva), v, width);
}
static inline void mkpe_blob_put16(mkpe_blob *b, uint32_t rva, uint16_t v) { mkpe_blob_putn(b, rva, v, 2); }
static inline void mkpe_blob_put32(mkpe_blob *b, uint32_t rva, uint32_t v) { mkpe_blob_putn(b, rva, v, 4); }
static inline void mkpe_blob_put64(mkpe_blob *b, uint32_t rva, uint64_t v) { mkpe_blob_putn(b, rva, v, 8); }
/* A field of a format.h struct placed at an RVA of the blob. */
#define MKPE_BLOB_PUT(b, rva, type, field, value) \
    mkpe_blob_putn((b), (uint32_t)(rva) + offsetof(type, field), (value), sizeof(((type *)0)->field))

/** Section i takes the blob's bytes (the blob must outlive the build). */
static inline void mkpe_set_section_blob(mkpe_spec *s, unsigned i, const mkpe_blob *b)
{
    s->sections[i].data = b->data;
    s->sections[i].data_size = b->size;
}

#endif
