/*
 * dirimg: a small valid image for directory-parser tests, on top of mkpe.h.
 *
 * It has a .text section (0x200 zero bytes) and an .rdata section whose bytes the test lays
 * out by RVA through d->b (an mkpe_blob), then builds and parses the headers:
 *
 *     dirimg d;
 *     dirimg_begin(&d, MKPE_X64);
 *     uint32_t name = mkpe_blob_str(&d.b, "x.dll");
 *     mkpe_set_dir(&d.spec, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, dir, size);
 *     dirimg_build(&d, HP_PE_LAYOUT_FILE);      // hp_pe_parse must succeed: d.pe, d.arena
 *     ... hp_pe_exports_parse(&d.pe, &d.arena, &ex) ...
 *     dirimg_end(&d);
 *
 * .rdata's VirtualSize is exactly the blob's size, so the last blob byte is the last backed
 * byte of the section: a string the blob ends without a NUL is unterminated in the image.
 */
#ifndef HOTPE_TEST_DIRIMG_H
#define HOTPE_TEST_DIRIMG_H

#include <check.h>

#include "mkpe.h"
#include "hotpe/pe/pe.h"

typedef struct dirimg {
    mkpe_spec spec;
    unsigned text, rdata; /* section indexes */
    mkpe_blob b;          /* .rdata contents, addressed by RVA */
    mkpe_image img;
    hp_arena arena;
    hp_pe pe;
} dirimg;

static inline void dirimg_begin(dirimg *d, mkpe_arch arch)
{
    memset(d, 0, sizeof *d);
    mkpe_init(&d->spec, arch);
    d->text = mkpe_add_section(&d->spec, ".text", MKPE_CODE, NULL, 0x200, 0);
    d->rdata = mkpe_add_section(&d->spec, ".rdata", MKPE_RDATA, NULL, 0, 0);
    mkpe_blob_init(&d->b, mkpe_section_rva(&d->spec, d->rdata));
}

/** RVA of byte off of .text (export targets and the like). */
static inline uint32_t dirimg_code(const dirimg *d, uint32_t off)
{
    return mkpe_section_rva(&d->spec, d->text) + off;
}

/** A u32 already stored in the blob (to find arrays a builder placed). */
static inline uint32_t dirimg_get32(const dirimg *d, uint32_t rva)
{
    ck_assert(rva >= d->b.rva && rva - d->b.rva + 4 <= d->b.size);
    return (uint32_t)mkpe_load(d->b.data + (rva - d->b.rva), 4);
}

static inline void dirimg_build(dirimg *d, hp_pe_layout layout)
{
    mkpe_set_section_blob(&d->spec, d->rdata, &d->b);
    d->img = layout == HP_PE_LAYOUT_FILE ? mkpe_build(&d->spec) : mkpe_build_loaded(&d->spec);
    ck_assert_int_eq(hp_pe_parse(&d->pe, &d->arena, d->img.data, d->img.size, layout), HP_OK);
}

static inline void dirimg_end(dirimg *d)
{
    hp_arena_free(&d->arena);
    mkpe_free(&d->img);
    mkpe_blob_free(&d->b);
}

#endif
