/* Unit tests: hotpe's import section, .hotpei, and the build identity (pe/setdll.c). */
#include <string.h>

#include "harness.h"
#include "mkpe.h"
#include "hotpe/pe/pe.h"

typedef HP_IMAGE_OPTIONAL_HEADER32 opt32;
typedef HP_IMAGE_IMPORT_DESCRIPTOR impdesc;
typedef HP_IMAGE_SECTION_HEADER sh_t;
typedef HP_SETDLL_HEADER hdr_t;

#define SHIM "hotpe-shim.dll"
#define SYM "hotpe_registry"
#define SECTION_FLAGS \
    (HP_IMAGE_SCN_CNT_INITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ | HP_IMAGE_SCN_MEM_WRITE)

typedef struct opts {
    mkpe_arch arch;
    bool imports;   /* KERNEL32.dll (Sleep, #17) and msvcrt.dll (printf) */
    bool bound;     /* a bound import directory right after the section table, KERNEL32.dll's
                       descriptor bound (TimeDateStamp and ForwarderChain -1) */
    bool cert;      /* a certificate table after the last section */
} opts;

/* A test image in file layout, its stored CheckSum the real one. */
typedef struct timg {
    mkpe_spec spec;
    mkpe_blob b;
    mkpe_image file;
    uint8_t code[0x300];
    uint8_t cert[0x48];
    uint32_t bound_off, bound_size;
} timg;

static unsigned width_of(const mkpe_spec *s)
{
    return s->pe32plus ? 8 : 4;
}

/* One DLL's name, hint/name entries, lookup table and IAT; its descriptor at desc. */
static void put_dll(timg *t, uint32_t desc, const char *dll, const char *fn, uint16_t hint,
                    uint16_t ordinal)
{
    unsigned w = width_of(&t->spec);
    uint64_t flag = (uint64_t)1 << (8 * w - 1);
    uint32_t name = mkpe_blob_str(&t->b, dll);
    uint32_t hn = mkpe_blob_u16(&t->b, hint);
    mkpe_blob_str(&t->b, fn);
    uint32_t tables[2];
    for (int k = 0; k < 2; k++) {
        tables[k] = mkpe_blob_add(&t->b, NULL, 3 * w, w);
        mkpe_blob_putn(&t->b, tables[k], hn, w);
        if (ordinal)
            mkpe_blob_putn(&t->b, tables[k] + w, flag | ordinal, w);
    }
    MKPE_BLOB_PUT(&t->b, desc, impdesc, OriginalFirstThunk, tables[0]);
    MKPE_BLOB_PUT(&t->b, desc, impdesc, Name, name);
    MKPE_BLOB_PUT(&t->b, desc, impdesc, FirstThunk, tables[1]);
}

static void timg_build(timg *t, opts o)
{
    memset(t, 0, sizeof *t);
    mkpe_init(&t->spec, o.arch);
    t->spec.timestamp = 0x61234567;
    t->spec.header_slack = 0x100; /* room for the new header (and a bound directory) */
    for (size_t i = 0; i < sizeof t->code; i++)
        t->code[i] = (uint8_t)(i * 29 + 3);
    for (size_t i = 0; i < sizeof t->cert; i++)
        t->cert[i] = (uint8_t)(0xc0 + i);
    mkpe_add_section(&t->spec, ".text", MKPE_CODE, t->code, sizeof t->code, 0);
    unsigned rdata = mkpe_add_section(&t->spec, ".rdata", MKPE_RDATA, NULL, 0, 0);
    mkpe_blob_init(&t->b, mkpe_section_rva(&t->spec, rdata));
    mkpe_blob_str(&t->b, "some read-only data");
    if (o.imports) {
        uint32_t desc = mkpe_blob_zero(&t->b, 3 * sizeof(impdesc));
        put_dll(t, desc, "KERNEL32.dll", "Sleep", 5, 17);
        put_dll(t, desc + sizeof(impdesc), "msvcrt.dll", "printf", 0x1a2, 0);
        if (o.bound) {
            MKPE_BLOB_PUT(&t->b, desc, impdesc, TimeDateStamp, 0xffffffffu);
            MKPE_BLOB_PUT(&t->b, desc, impdesc, ForwarderChain, 0xffffffffu);
        }
        mkpe_set_dir(&t->spec, HP_IMAGE_DIRECTORY_ENTRY_IMPORT, desc, 3 * sizeof(impdesc));
    }
    mkpe_set_section_blob(&t->spec, rdata, &t->b);
    if (o.cert) {
        t->spec.trailer = t->cert;
        t->spec.trailer_size = sizeof t->cert;
        mkpe_set_dir(&t->spec, HP_IMAGE_DIRECTORY_ENTRY_SECURITY, mkpe_trailer_offset(&t->spec),
                     sizeof t->cert);
    }
    if (o.bound) {
        /* where linkers put it: right after the section table, where the new header goes */
        t->bound_off = mkpe_off_section_header(&t->spec, t->spec.section_count);
        t->bound_size = 0x40;
        mkpe_set_dir(&t->spec, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT, t->bound_off,
                     t->bound_size);
    }
    t->file = mkpe_build(&t->spec);
    for (uint32_t i = 0; i < t->bound_size; i++)
        mkpe_w8(&t->file, t->bound_off + i, (uint8_t)(0x51 + i));

    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, t->file.data, t->file.size, HP_PE_LAYOUT_FILE),
                     HP_OK);
    mkpe_w32(&t->file, mkpe_off_opt(&t->spec) + offsetof(opt32, CheckSum), hp_pe_checksum(&pe));
    hp_arena_free(&arena);
}

static void timg_free(timg *t)
{
    mkpe_free(&t->file);
    mkpe_blob_free(&t->b);
}

/* The image mapped as the loader maps it: offset == RVA. */
static mkpe_image to_loaded(const hp_pe *pe, const uint8_t *data)
{
    mkpe_image m = mkpe_alloc(pe->size_of_image);
    memcpy(m.data, data, pe->size_of_headers);
    for (uint16_t i = 0; i < pe->section_count; i++) {
        const hp_pe_section *s = &pe->sections[i];
        uint32_t n = s->virtual_size && s->virtual_size < s->raw_size ? s->virtual_size
                                                                       : s->raw_size;
        memcpy(m.data + s->virtual_address, data + s->raw_offset, n);
    }
    return m;
}

static uint64_t dir_off(const hp_pe *pe, unsigned index)
{
    return pe->opt_offset +
           (pe->pe32plus ? sizeof(HP_IMAGE_OPTIONAL_HEADER64) : sizeof(opt32)) + 8u * index;
}

/* The rewrite of t, checked field by field; returns the output (free it). */
static uint8_t *add_and_check(timg *t, opts o, size_t *out_size)
{
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe, np;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, t->file.data, t->file.size, HP_PE_LAYOUT_FILE),
                     HP_OK);
    hp_pe_imports before;
    ck_assert_int_eq(hp_pe_imports_parse(&pe, &arena, false, &before), HP_OK);
    ck_assert_uint_eq(before.count, o.imports ? 2 : 0);
    hp_pe_identity id;
    ck_assert_int_eq(hp_pe_build_identity(&pe, &id), HP_OK);
    ck_assert(!id.rewritten);
    ck_assert_uint_eq(id.timestamp, 0x61234567);
    ck_assert_uint_eq(id.size_of_image, pe.size_of_image);
    ck_assert_uint_eq(id.checksum, pe.checksum);
    ck_assert_uint_ne(pe.checksum, 0);
    hp_pe_setdll m;
    ck_assert_int_eq(hp_pe_setdll_find(&pe, &m), HP_E_NOT_FOUND);

    uint8_t *out = NULL;
    ck_assert_int_eq(hp_pe_setdll_add(&pe, SHIM, SYM, &out, out_size), HP_OK);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(hp_pe_parse(&np, &arena, out, *out_size, HP_PE_LAYOUT_FILE), HP_OK);

    /* The section: last, after everything, where the original image ended. */
    ck_assert_uint_eq(np.section_count, pe.section_count + 1u);
    const hp_pe_section *s = &np.sections[np.section_count - 1];
    ck_assert_str_eq(s->name, HP_SETDLL_SECTION_NAME);
    ck_assert_uint_eq(s->characteristics, SECTION_FLAGS);
    ck_assert_uint_eq(s->virtual_address, pe.size_of_image);
    ck_assert_uint_gt(np.size_of_image, pe.size_of_image);

    /* Imports: the originals in order, then ours. */
    hp_pe_imports after;
    ck_assert_int_eq(hp_pe_imports_parse(&np, &arena, false, &after), HP_OK);
    ck_assert_uint_eq(after.count, before.count + 1);
    for (uint32_t k = 0; k < before.count; k++) {
        const hp_pe_import_dll *a = &before.dlls[k], *b = &after.dlls[k];
        ck_assert_str_eq(b->dll_name, a->dll_name);
        ck_assert_uint_eq(b->ilt_rva, a->ilt_rva);
        ck_assert_uint_eq(b->iat_rva, a->iat_rva);
        ck_assert_uint_eq(b->count, a->count);
        for (uint32_t i = 0; i < a->count; i++) {
            ck_assert(b->imports[i].by_ordinal == a->imports[i].by_ordinal);
            ck_assert_uint_eq(b->imports[i].ordinal, a->imports[i].ordinal);
            ck_assert_uint_eq(b->imports[i].hint, a->imports[i].hint);
            if (a->imports[i].name)
                ck_assert_str_eq(b->imports[i].name, a->imports[i].name);
        }
    }
    const hp_pe_import_dll *ours = &after.dlls[before.count];
    ck_assert_str_eq(ours->dll_name, SHIM);
    ck_assert_uint_eq(ours->count, 1);
    ck_assert(!ours->imports[0].by_ordinal);
    ck_assert_str_eq(ours->imports[0].name, SYM);
    ck_assert_uint_eq(ours->imports[0].hint, 0);
    ck_assert_ptr_eq(hp_pe_section_of(&np, ours->iat_rva), s);
    ck_assert_ptr_eq(hp_pe_section_of(&np, ours->ilt_rva), s);
    ck_assert_uint_ne(ours->ilt_rva, ours->iat_rva);
    hp_pe_dir imp = hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_IMPORT);
    ck_assert_ptr_eq(hp_pe_section_of(&np, imp.rva), s);
    ck_assert_uint_eq(imp.size, (before.count + 2) * sizeof(impdesc));

    /* The original descriptors, copied; a bound one unbound. */
    hp_pe_dir old = hp_pe_dir_get(&pe, HP_IMAGE_DIRECTORY_ENTRY_IMPORT);
    for (uint32_t k = 0; k < before.count; k++) {
        hp_rd a, b;
        uint64_t stamp, chain;
        ck_assert_int_eq(hp_pe_rva_view(&pe, old.rva + k * 20, 20, &a), HP_OK);
        ck_assert_int_eq(hp_pe_rva_view(&np, imp.rva + k * 20, 20, &b), HP_OK);
        ck_assert_int_eq(HP_RD_FIELD(&b, 0, impdesc, TimeDateStamp, &stamp), HP_OK);
        ck_assert_int_eq(HP_RD_FIELD(&b, 0, impdesc, ForwarderChain, &chain), HP_OK);
        ck_assert_uint_eq(stamp, 0);
        ck_assert_uint_eq(chain, 0);
        ck_assert_mem_eq(a.data, b.data, 4);          /* OriginalFirstThunk */
        ck_assert_mem_eq(a.data + 12, b.data + 12, 8); /* Name, FirstThunk */
        if (!o.bound)
            ck_assert_mem_eq(a.data, b.data, 20);
    }

    /* Cleared directories, the checksum, the marker and the identity. */
    ck_assert_uint_eq(hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT).rva, 0);
    ck_assert_uint_eq(hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT).size, 0);
    ck_assert_uint_eq(hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_SECURITY).rva, 0);
    ck_assert_uint_eq(hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_SECURITY).size, 0);
    /* the bound directory's bytes: the new section header, then zeros */
    for (uint32_t i = sizeof(sh_t); i < t->bound_size; i++)
        ck_assert_uint_eq(out[t->bound_off + i], 0);
    if (o.cert) /* unreferenced, but kept */
        ck_assert_mem_eq(out + *out_size - sizeof t->cert, t->cert, sizeof t->cert);
    ck_assert_uint_eq(np.checksum, hp_pe_checksum(&np));
    ck_assert_uint_eq(np.timestamp, pe.timestamp);

    ck_assert_int_eq(hp_pe_setdll_find(&np, &m), HP_OK);
    ck_assert_uint_eq(m.rva, s->virtual_address);
    ck_assert_uint_eq(m.rec.Magic, HP_SETDLL_MAGIC);
    ck_assert_uint_eq(m.rec.Version, 1);
    ck_assert_uint_eq(m.rec.Size, sizeof(hdr_t));
    ck_assert_uint_eq(m.rec.OrigSizeOfImage, pe.size_of_image);
    ck_assert_uint_eq(m.rec.OrigCheckSum, pe.checksum);
    ck_assert_uint_eq(m.rec.OrigImportRva, old.rva);
    ck_assert_uint_eq(m.rec.OrigImportSize, old.size);
    hp_pe_dir bound = hp_pe_dir_get(&pe, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT);
    hp_pe_dir cert = hp_pe_dir_get(&pe, HP_IMAGE_DIRECTORY_ENTRY_SECURITY);
    ck_assert_uint_eq(m.rec.OrigBoundImportRva, bound.rva);
    ck_assert_uint_eq(m.rec.OrigBoundImportSize, bound.size);
    ck_assert_uint_eq(m.rec.OrigSecurityOffset, cert.rva);
    ck_assert_uint_eq(m.rec.OrigSecuritySize, cert.size);
    ck_assert_uint_eq(bound.size, o.bound ? t->bound_size : 0);
    ck_assert_uint_eq(cert.size, o.cert ? sizeof t->cert : 0);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(m.rec.Reserved[i], 0);

    hp_pe_identity nid;
    ck_assert_int_eq(hp_pe_build_identity(&np, &nid), HP_OK);
    ck_assert(nid.rewritten);
    ck_assert_uint_eq(nid.timestamp, id.timestamp);
    ck_assert_uint_eq(nid.size_of_image, id.size_of_image);
    ck_assert_uint_eq(nid.checksum, id.checksum);

    /* The same, read from the image as mapped (what the shim sees). */
    mkpe_image loaded = to_loaded(&np, out);
    hp_pe lp;
    ck_assert_int_eq(hp_pe_parse(&lp, &arena, loaded.data, loaded.size, HP_PE_LAYOUT_LOADED),
                     HP_OK);
    hp_pe_setdll lm;
    ck_assert_int_eq(hp_pe_setdll_find(&lp, &lm), HP_OK);
    ck_assert_mem_eq(&lm, &m, sizeof m);
    ck_assert_int_eq(hp_pe_build_identity(&lp, &nid), HP_OK);
    ck_assert(nid.rewritten);
    ck_assert_uint_eq(nid.size_of_image, id.size_of_image);
    ck_assert_uint_eq(nid.checksum, id.checksum);
    mkpe_free(&loaded);

    /* Once is enough. */
    uint8_t *again = (uint8_t *)1;
    size_t again_size = 1;
    ck_assert_int_eq(hp_pe_setdll_add(&np, SHIM, SYM, &again, &again_size),
                     HP_E_SETDLL_ALREADY);
    ck_assert_ptr_null(again);
    ck_assert_uint_eq(again_size, 0);
    hp_arena_free(&arena);
    return out;
}

START_TEST(add_to_every_kind)
{
    for (int arch = 0; arch < 2; arch++)
        for (int kind = 0; kind < 4; kind++) {
            opts o = { arch ? MKPE_X64 : MKPE_X86, kind != 0, kind == 2 || kind == 3,
                       kind == 3 };
            timg t;
            timg_build(&t, o);
            size_t n;
            free(add_and_check(&t, o, &n));
            timg_free(&t);
        }
}
END_TEST

/* Section i's raw offset in an output, and the marker's offset. */
static uint32_t marker_off(const uint8_t *out, size_t size)
{
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, out, size, HP_PE_LAYOUT_FILE), HP_OK);
    uint32_t off = pe.sections[pe.section_count - 1].raw_offset;
    hp_arena_free(&arena);
    return off;
}

/* find and build_identity on a copy of out with one u32 changed. */
static void expect_damaged(const uint8_t *out, size_t size, uint64_t at, uint32_t value,
                           hp_status want)
{
    mkpe_image c = mkpe_alloc(size);
    memcpy(c.data, out, size);
    mkpe_w32(&c, at, value);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, c.data, c.size, HP_PE_LAYOUT_FILE), HP_OK);
    hp_pe_setdll m;
    hp_pe_identity id;
    ck_assert_int_eq(hp_pe_setdll_find(&pe, &m), want);
    ck_assert_int_eq(hp_pe_build_identity(&pe, &id), want == HP_E_NOT_FOUND ? HP_OK : want);
    if (want != HP_OK) {
        /* the header's own values, which name no build */
        ck_assert(!id.rewritten);
        ck_assert_uint_eq(id.size_of_image, pe.size_of_image);
        ck_assert_uint_eq(id.checksum, pe.checksum);
    }
    hp_arena_free(&arena);
    mkpe_free(&c);
}

START_TEST(damaged_marker)
{
    for (int arch = 0; arch < 2; arch++) {
        opts o = { arch ? MKPE_X64 : MKPE_X86, true, false, false };
        timg t;
        timg_build(&t, o);
        size_t size;
        uint8_t *out = add_and_check(&t, o, &size);
        uint32_t h = marker_off(out, size);
        hp_arena arena = HP_ARENA_INIT;
        hp_pe np;
        ck_assert_int_eq(hp_pe_parse(&np, &arena, out, size, HP_PE_LAYOUT_FILE), HP_OK);
        const hp_pe_section *s = &np.sections[np.section_count - 1];

        expect_damaged(out, size, h + offsetof(hdr_t, Magic), 0x44535049, HP_E_SETDLL_MARKER);
        expect_damaged(out, size, h + offsetof(hdr_t, Version), 0, HP_E_SETDLL_MARKER);
        expect_damaged(out, size, h + offsetof(hdr_t, Size), sizeof(hdr_t) - 4,
                       HP_E_SETDLL_MARKER);
        expect_damaged(out, size, h + offsetof(hdr_t, Size), s->virtual_size + 1,
                       HP_E_SETDLL_MARKER);
        expect_damaged(out, size, h + offsetof(hdr_t, OrigSizeOfImage),
                       s->virtual_address - 0x2000, HP_E_SETDLL_MARKER);
        expect_damaged(out, size, h + offsetof(hdr_t, OrigSizeOfImage), 0, HP_E_SETDLL_MARKER);
        /* the import directory back where it was */
        expect_damaged(out, size, dir_off(&np, HP_IMAGE_DIRECTORY_ENTRY_IMPORT),
                       hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_IMPORT).rva - 0x1000,
                       HP_E_SETDLL_MARKER);
        /* a later version with a longer header, and an OrigSizeOfImage that rounds up to the
         * section's start, are fine */
        expect_damaged(out, size, h + offsetof(hdr_t, Version), 2, HP_OK);
        expect_damaged(out, size, h + offsetof(hdr_t, Size), sizeof(hdr_t) + 8, HP_OK);
        expect_damaged(out, size, h + offsetof(hdr_t, OrigSizeOfImage),
                       s->virtual_address - 0xfff, HP_OK);
        /* a section renamed: no marker at all */
        expect_damaged(out, size, np.section_table_offset + (np.section_count - 1u) * 40, 0x6f682e,
                       HP_E_NOT_FOUND);

        /* Another section after it. */
        static const uint8_t one = 1;
        hp_pe_new_section extra = { ".extra", MKPE_RDATA, &one, 1, 0 };
        uint8_t *more = NULL;
        size_t more_size;
        ck_assert_int_eq(hp_pe_add_section(&np, &extra, &more, &more_size, NULL), HP_OK);
        hp_pe mp;
        hp_pe_setdll m;
        hp_pe_identity id;
        ck_assert_int_eq(hp_pe_parse(&mp, &arena, more, more_size, HP_PE_LAYOUT_FILE), HP_OK);
        ck_assert_int_eq(hp_pe_setdll_find(&mp, &m), HP_E_SETDLL_MARKER);
        ck_assert_int_eq(hp_pe_build_identity(&mp, &id), HP_E_SETDLL_MARKER);
        /* ... and still refused a second time */
        uint8_t *again = NULL;
        size_t again_size;
        ck_assert_int_eq(hp_pe_setdll_add(&mp, SHIM, SYM, &again, &again_size),
                         HP_E_SETDLL_ALREADY);
        free(more);

        /* Header not backed: the section's raw data cut to nothing. */
        mkpe_image c = mkpe_alloc(size);
        memcpy(c.data, out, size);
        uint64_t sh = np.section_table_offset + (np.section_count - 1u) * (uint64_t)sizeof(sh_t);
        MKPE_PUT(&c, sh, sh_t, SizeOfRawData, 0);
        MKPE_PUT(&c, sh, sh_t, PointerToRawData, 0);
        ck_assert_int_eq(hp_pe_parse(&mp, &arena, c.data, c.size, HP_PE_LAYOUT_FILE), HP_OK);
        ck_assert_int_eq(hp_pe_setdll_find(&mp, &m), HP_E_SETDLL_MARKER);
        mkpe_free(&c);

        hp_arena_free(&arena);
        free(out);
        timg_free(&t);
    }
}
END_TEST

START_TEST(refusals)
{
    opts o = { MKPE_X64, true, false, false };
    timg t;
    timg_build(&t, o);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, t.file.data, t.file.size, HP_PE_LAYOUT_FILE),
                     HP_OK);
    uint8_t *out = (uint8_t *)&t;
    size_t out_size = 9;

    /* Arguments. */
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    ck_assert_int_eq(hp_pe_setdll_add(NULL, SHIM, SYM, &out, &out_size), HP_E_ARG);
    ck_assert_int_eq(hp_pe_setdll_add(&pe, NULL, SYM, &out, &out_size), HP_E_ARG);
    ck_assert_int_eq(hp_pe_setdll_add(&pe, SHIM, NULL, &out, &out_size), HP_E_ARG);
    ck_assert_int_eq(hp_pe_setdll_add(&pe, SHIM, SYM, NULL, &out_size), HP_E_ARG);
    ck_assert_int_eq(hp_pe_setdll_add(&pe, "", SYM, &out, &out_size), HP_E_ARG);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(out_size, 0);
    ck_assert_int_eq(hp_pe_setdll_add(&pe, SHIM, "", &out, &out_size), HP_E_ARG);
    ck_assert_int_eq(hp_pe_setdll_add(&pe, longname, SYM, &out, &out_size), HP_E_ARG);
    ck_assert_int_eq(hp_pe_setdll_add(&pe, SHIM, longname, &out, &out_size), HP_E_ARG);
    longname[255] = 0; /* 255 bytes is the most */
    ck_assert_int_eq(hp_pe_setdll_add(&pe, longname, longname, &out, &out_size), HP_OK);
    free(out);
    hp_pe_setdll m;
    hp_pe_identity id;
    ck_assert_int_eq(hp_pe_setdll_find(NULL, &m), HP_E_ARG);
    ck_assert_int_eq(hp_pe_setdll_find(&pe, NULL), HP_E_ARG);
    ck_assert_int_eq(hp_pe_build_identity(NULL, &id), HP_E_ARG);
    ck_assert_int_eq(hp_pe_build_identity(&pe, NULL), HP_E_ARG);

    /* Loaded layout. */
    mkpe_image loaded = to_loaded(&pe, t.file.data);
    hp_pe lp;
    ck_assert_int_eq(hp_pe_parse(&lp, &arena, loaded.data, loaded.size, HP_PE_LAYOUT_LOADED),
                     HP_OK);
    ck_assert_int_eq(hp_pe_setdll_add(&lp, SHIM, SYM, &out, &out_size), HP_E_WRITE_LAYOUT);
    ck_assert_int_eq(hp_pe_setdll_find(&lp, &m), HP_E_NOT_FOUND);
    mkpe_free(&loaded);

    /* A damaged import directory: its descriptor array outside the image. */
    mkpe_image c = mkpe_alloc(t.file.size);
    memcpy(c.data, t.file.data, t.file.size);
    mkpe_w32(&c, dir_off(&pe, HP_IMAGE_DIRECTORY_ENTRY_IMPORT), pe.size_of_image - 8);
    hp_pe cp;
    ck_assert_int_eq(hp_pe_parse(&cp, &arena, c.data, c.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_setdll_add(&cp, SHIM, SYM, &out, &out_size), HP_E_IMPORT_DIR);

    /* SizeOfImage past the sections: the new one would not start there. */
    memcpy(c.data, t.file.data, t.file.size);
    mkpe_w32(&c, pe.opt_offset + offsetof(opt32, SizeOfImage), pe.size_of_image + 0x1000);
    ck_assert_int_eq(hp_pe_parse(&cp, &arena, c.data, c.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_setdll_add(&cp, SHIM, SYM, &out, &out_size), HP_E_IMAGE_SIZE);
    ck_assert_ptr_null(out);

    /* No import directory slot (NumberOfRvaAndSizes 1). */
    memcpy(c.data, t.file.data, t.file.size);
    mkpe_w32(&c, dir_off(&pe, 0) - 4, 1);
    ck_assert_int_eq(hp_pe_parse(&cp, &arena, c.data, c.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_uint_eq(cp.dir_count, 1);
    ck_assert_int_eq(hp_pe_setdll_add(&cp, SHIM, SYM, &out, &out_size), HP_E_UNSUPPORTED);
    mkpe_free(&c);

    /* No room for a section header: three headers end at SizeOfHeaders. */
    mkpe_spec spec;
    static const uint8_t one = 1;
    mkpe_init(&spec, MKPE_X64);
    mkpe_add_section(&spec, ".a", MKPE_RDATA, &one, 1, 0);
    mkpe_add_section(&spec, ".b", MKPE_RDATA, &one, 1, 0);
    mkpe_add_section(&spec, ".c", MKPE_RDATA, &one, 1, 0);
    ck_assert_uint_eq(mkpe_headers_size(&spec), 0x200);
    mkpe_image full = mkpe_build(&spec);
    ck_assert_int_eq(hp_pe_parse(&cp, &arena, full.data, full.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_setdll_add(&cp, SHIM, SYM, &out, &out_size), HP_E_WRITE_NO_ROOM);
    ck_assert_ptr_null(out);
    mkpe_free(&full);

    /* A bound import directory elsewhere than after the table stays, and is in the way. */
    mkpe_init(&spec, MKPE_X64);
    spec.header_slack = 0x80;
    mkpe_add_section(&spec, ".a", MKPE_RDATA, &one, 1, 0);
    uint32_t slot = mkpe_off_section_header(&spec, 1);
    mkpe_set_dir(&spec, HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT, slot - 4, 0x20);
    full = mkpe_build(&spec);
    mkpe_w8(&full, slot + 8, 0x77);
    ck_assert_int_eq(hp_pe_parse(&cp, &arena, full.data, full.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_setdll_add(&cp, SHIM, SYM, &out, &out_size), HP_E_WRITE_NO_ROOM);
    mkpe_free(&full);

    hp_arena_free(&arena);
    timg_free(&t);
}
END_TEST

/* Every prefix of an image and of its rewrite: parsed or refused, never a crash. */
START_TEST(truncated_inputs)
{
    for (int arch = 0; arch < 2; arch++) {
        opts o = { arch ? MKPE_X64 : MKPE_X86, true, true, true };
        timg t;
        timg_build(&t, o);
        size_t size;
        uint8_t *out = add_and_check(&t, o, &size);
        unsigned added = 0, found = 0;
        for (size_t n = 0; n <= t.file.size; n++) {
            hp_arena arena = HP_ARENA_INIT;
            hp_pe pe;
            uint8_t *o2 = NULL;
            size_t o2_size;
            if (hp_pe_parse(&pe, &arena, t.file.data, n, HP_PE_LAYOUT_FILE) == HP_OK &&
                hp_pe_setdll_add(&pe, SHIM, SYM, &o2, &o2_size) == HP_OK) {
                added++;
                free(o2);
            }
            hp_arena_free(&arena);
        }
        for (size_t n = 0; n <= size; n++)
            for (int layout = 0; layout < 2; layout++) {
                hp_arena arena = HP_ARENA_INIT;
                hp_pe pe;
                hp_pe_setdll m;
                hp_pe_identity id;
                if (hp_pe_parse(&pe, &arena, out, n,
                                layout ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE) == HP_OK) {
                    hp_status s = hp_pe_setdll_find(&pe, &m);
                    ck_assert(s == HP_OK || s == HP_E_SETDLL_MARKER || s == HP_E_NOT_FOUND);
                    ck_assert_int_eq(hp_pe_build_identity(&pe, &id), s == HP_E_NOT_FOUND ? HP_OK : s);
                    found += s == HP_OK;
                }
                hp_arena_free(&arena);
            }
        ck_assert_uint_ge(added, 1); /* the whole image at least */
        ck_assert_uint_ge(found, 1);
        free(out);
        timg_free(&t);
    }
}
END_TEST

static Suite *setdll_suite(void)
{
    Suite *s = suite_create("setdll");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, add_to_every_kind);
    tcase_add_test(tc, damaged_marker);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, truncated_inputs);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(setdll_suite)
