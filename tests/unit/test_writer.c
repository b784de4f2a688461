/* Unit tests: the PE checksum and hp_pe_add_section. */
#include <string.h>

#include "harness.h"
#include "mkpe.h"
#include "hotpe/pe/pe.h"

typedef HP_IMAGE_OPTIONAL_HEADER32 opt32;
typedef HP_IMAGE_SECTION_HEADER sh_t;

/* The checksum as Windows' CheckSumMappedFile describes it: fold after every word. */
static uint32_t reference_checksum(const uint8_t *p, size_t n, size_t field)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i += 2) {
        uint32_t lo = (i >= field && i < field + 4) ? 0 : p[i];
        uint32_t hi = i + 1 >= n || (i + 1 >= field && i + 1 < field + 4) ? 0 : p[i + 1];
        sum += lo | hi << 8;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum + (uint32_t)n;
}

/* An hp_pe that only knows its bytes and where the optional header is: what the checksum uses. */
static hp_pe bare_pe(const void *data, size_t size, uint32_t opt_offset)
{
    hp_pe pe;
    memset(&pe, 0, sizeof pe);
    pe.rd = hp_rd_make(data, size);
    pe.opt_offset = opt_offset;
    return pe;
}

START_TEST(checksum_known_values)
{
    /* ffff + ffff folds to ffff, + 0001 folds to 0001; plus the length 6. */
    static const uint8_t a[] = { 0xff, 0xff, 0xff, 0xff, 0x01, 0x00 };
    hp_pe pe = bare_pe(a, sizeof a, 0x1000);
    ck_assert_uint_eq(hp_pe_checksum(&pe), 1 + 6);

    /* An odd length counts the last byte as the low half of a word: 0x0201 + 0x0003 + 3. */
    static const uint8_t b[] = { 0x01, 0x02, 0x03 };
    pe = bare_pe(b, sizeof b, 0x1000);
    ck_assert_uint_eq(hp_pe_checksum(&pe), 0x0204 + 3);

    /* The 4 bytes at opt_offset + 0x40 do not count. */
    uint8_t c[0x48];
    memset(c, 0, sizeof c);
    c[0] = 0x34, c[1] = 0x12;
    memset(c + 0x40, 0xee, 4);
    c[0x44] = 0x01;
    pe = bare_pe(c, sizeof c, 0);
    ck_assert_uint_eq(hp_pe_checksum(&pe), 0x1235 + sizeof c);

    /* An empty buffer sums to nothing. */
    pe = bare_pe(NULL, 0, 0);
    ck_assert_uint_eq(hp_pe_checksum(&pe), 0);
}
END_TEST

START_TEST(checksum_matches_reference_on_images)
{
    uint8_t code[0x333];
    for (size_t i = 0; i < sizeof code; i++)
        code[i] = (uint8_t)(i * 37 + 11);
    /* Odd e_lfanew puts the CheckSum field across two words. */
    const uint32_t lfanews[] = { 0x80, 0x81, 0x3f0 };
    for (size_t k = 0; k < sizeof lfanews / sizeof *lfanews; k++) {
        for (int arch = 0; arch < 2; arch++) {
            mkpe_spec spec;
            mkpe_init(&spec, arch ? MKPE_X64 : MKPE_X86);
            spec.lfanew = lfanews[k];
            mkpe_add_section(&spec, ".text", MKPE_CODE, code, sizeof code, 0);
            /* A trailer of odd length and a non-zero stored checksum. */
            spec.trailer = code;
            spec.trailer_size = 0x33;
            mkpe_image img = mkpe_build(&spec);
            mkpe_w32(&img, mkpe_off_opt(&spec) + offsetof(opt32, CheckSum), 0xdeadbeef);

            hp_arena arena = HP_ARENA_INIT;
            hp_pe pe;
            ck_assert_int_eq(hp_pe_parse(&pe, &arena, img.data, img.size, HP_PE_LAYOUT_FILE),
                             HP_OK);
            size_t field = mkpe_off_opt(&spec) + offsetof(opt32, CheckSum);
            ck_assert_uint_eq(hp_pe_checksum(&pe), reference_checksum(img.data, img.size, field));
            hp_arena_free(&arena);
            mkpe_free(&img);
        }
    }
}
END_TEST

/* A small DLL with code, data, a COFF symbol table and a certificate after the sections. */
typedef struct fixture {
    mkpe_spec spec;
    uint8_t code[0x300], data[0x80];
    uint8_t trailer[0x200];
    uint32_t symtab_size, cert_offset, cert_size;
    mkpe_image img;
} fixture;

static void fixture_build(fixture *f, mkpe_arch arch, bool with_trailer)
{
    memset(f, 0, sizeof *f);
    mkpe_init(&f->spec, arch);
    f->spec.header_slack = 0x80; /* room for two more section headers */
    for (size_t i = 0; i < sizeof f->code; i++)
        f->code[i] = (uint8_t)(0xc3 ^ i);
    memset(f->data, 0x42, sizeof f->data);
    mkpe_add_section(&f->spec, ".text", MKPE_CODE, f->code, sizeof f->code, 0);
    mkpe_add_section(&f->spec, ".data", MKPE_DATA, f->data, sizeof f->data, 0x1800);
    mkpe_add_section(&f->spec, ".bss", MKPE_BSS, NULL, 0, 0x400);
    if (with_trailer) {
        /* Two symbols, a 9-byte string table ("long_fn"), then an 8-aligned certificate. */
        typedef HP_IMAGE_SYMBOL sy;
        uint8_t *t = f->trailer;
        memcpy(t, "main", 4);
        mkpe_store(t + offsetof(sy, Value), 0x10, 4);
        mkpe_store(t + offsetof(sy, SectionNumber), 1, 2);
        mkpe_store(t + offsetof(sy, Type), 0x20, 2);
        t[offsetof(sy, StorageClass)] = HP_IMAGE_SYM_CLASS_EXTERNAL;
        mkpe_store(t + sizeof(sy) + 4, 4, 4); /* long name at string offset 4 */
        mkpe_store(t + sizeof(sy) + offsetof(sy, SectionNumber), 1, 2);
        mkpe_store(t + sizeof(sy) + offsetof(sy, Type), 0x20, 2);
        uint32_t st = 2 * sizeof(sy);
        mkpe_store(t + st, 12, 4);
        memcpy(t + st + 4, "long_fn", 8);
        f->symtab_size = st + 12;
        f->spec.trailer = t;
        f->spec.trailer_size = 0x100;
        f->spec.trailer_is_symtab = true;
        f->spec.symbol_count = 2;
        f->cert_offset = mkpe_trailer_offset(&f->spec) + 0x40;
        f->cert_size = 0x20;
        memset(t + 0x40, 0xab, f->cert_size);
        mkpe_set_dir(&f->spec, HP_IMAGE_DIRECTORY_ENTRY_SECURITY, f->cert_offset, f->cert_size);
    }
    f->img = mkpe_build(&f->spec);
}

static uint32_t opt_u32(const fixture *f, const mkpe_image *img, size_t field)
{
    return (uint32_t)mkpe_rn(img, mkpe_off_opt(&f->spec) + field, 4);
}

START_TEST(add_section_updates_headers_and_keeps_bytes)
{
    static const uint8_t payload[] = "hotpe new section payload";
    for (int arch = 0; arch < 2; arch++) {
        fixture f;
        fixture_build(&f, arch ? MKPE_X64 : MKPE_X86, true);
        hp_arena arena = HP_ARENA_INIT;
        hp_pe pe;
        ck_assert_int_eq(hp_pe_parse(&pe, &arena, f.img.data, f.img.size, HP_PE_LAYOUT_FILE),
                         HP_OK);
        uint32_t old_end = mkpe_trailer_offset(&f.spec);

        hp_pe_new_section sec = { ".hotp1  ", MKPE_RDATA, payload, sizeof payload, 0 };
        uint8_t *out = NULL;
        size_t out_size = 0;
        uint32_t rva = 0;
        ck_assert_int_eq(hp_pe_add_section(&pe, &sec, &out, &out_size, &rva), HP_OK);

        /* .bss ends at its RVA + 0x400: the new section starts at the next 0x1000. */
        uint32_t bss_rva = mkpe_section_rva(&f.spec, 2);
        ck_assert_uint_eq(rva, bss_rva + 0x1000);

        hp_pe np;
        ck_assert_int_eq(hp_pe_parse(&np, &arena, out, out_size, HP_PE_LAYOUT_FILE), HP_OK);
        ck_assert_uint_eq(np.section_count, 4);
        const hp_pe_section *s = &np.sections[3];
        ck_assert_int_eq(memcmp(s->raw_name, ".hotp1  ", 8), 0);
        ck_assert_ptr_eq(hp_pe_section_by_name(&np, HP_HOTP_SECTION_NAME), s);
        ck_assert_uint_eq(s->virtual_address, rva);
        ck_assert_uint_eq(s->virtual_size, sizeof payload);
        ck_assert_uint_eq(s->raw_offset, old_end); /* already file-aligned */
        ck_assert_uint_eq(s->raw_size, 0x200);
        ck_assert_uint_eq(s->characteristics, MKPE_RDATA);
        ck_assert_int_eq(memcmp(out + s->raw_offset, payload, sizeof payload), 0);
        ck_assert_uint_eq(np.size_of_image, rva + 0x1000);

        /* Size fields: initialized data grows by the raw size, code is unchanged. */
        mkpe_image o = { out, out_size };
        ck_assert_uint_eq(opt_u32(&f, &o, offsetof(opt32, SizeOfInitializedData)),
                          opt_u32(&f, &f.img, offsetof(opt32, SizeOfInitializedData)) + 0x200);
        ck_assert_uint_eq(opt_u32(&f, &o, offsetof(opt32, SizeOfCode)),
                          opt_u32(&f, &f.img, offsetof(opt32, SizeOfCode)));
        ck_assert_uint_eq(np.checksum, hp_pe_checksum(&np));
        ck_assert_uint_ne(np.checksum, 0);

        /* Headers before the new slot and all raw data are unchanged. */
        uint32_t slot = mkpe_off_section_header(&f.spec, 3);
        uint32_t table = slot - 3 * sizeof(sh_t);
        ck_assert_int_eq(memcmp(out + table, f.img.data + table, 3 * sizeof(sh_t)), 0);
        uint32_t first_raw = mkpe_section_offset(&f.spec, 0);
        ck_assert_int_eq(memcmp(out + first_raw, f.img.data + first_raw, old_end - first_raw), 0);

        /* The symbol table and the certificate moved behind the new data, intact. */
        ck_assert_uint_eq(np.symbol_table_offset, s->raw_offset + s->raw_size);
        ck_assert_int_eq(memcmp(out + np.symbol_table_offset, f.trailer, f.symtab_size), 0);
        hp_pe_dir cert = hp_pe_dir_get(&np, HP_IMAGE_DIRECTORY_ENTRY_SECURITY);
        ck_assert_uint_eq(cert.rva, f.cert_offset + (np.symbol_table_offset - old_end));
        ck_assert_uint_eq(cert.size, f.cert_size);
        ck_assert_uint_eq(cert.rva % 8, 0);
        ck_assert_uint_eq(out[cert.rva], 0xab);
        ck_assert_uint_eq(out_size, np.symbol_table_offset + 0x100);
        hp_pe_symbols syms;
        ck_assert_int_eq(hp_pe_symbols_parse(&np, &arena, &syms), HP_OK);
        ck_assert_uint_eq(syms.count, 2);
        ck_assert_str_eq(syms.entries[0].name, "main");
        ck_assert_str_eq(syms.entries[1].name, "long_fn");

        free(out);
        hp_arena_free(&arena);
        mkpe_free(&f.img);
    }
}
END_TEST

START_TEST(add_section_code_and_uninitialized)
{
    fixture f;
    fixture_build(&f, MKPE_X64, false);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, f.img.data, f.img.size, HP_PE_LAYOUT_FILE), HP_OK);

    static const uint8_t ret[0x201] = { 0xc3 };
    hp_pe_new_section code = { ".text2", MKPE_CODE, ret, sizeof ret, 0 };
    uint8_t *out = NULL;
    size_t out_size;
    ck_assert_int_eq(hp_pe_add_section(&pe, &code, &out, &out_size, NULL), HP_OK);
    hp_pe np;
    ck_assert_int_eq(hp_pe_parse(&np, &arena, out, out_size, HP_PE_LAYOUT_FILE), HP_OK);
    mkpe_image o = { out, out_size };
    ck_assert_uint_eq(opt_u32(&f, &o, offsetof(opt32, SizeOfCode)),
                      opt_u32(&f, &f.img, offsetof(opt32, SizeOfCode)) + 0x400);
    ck_assert_uint_eq(np.sections[3].raw_size, 0x400);
    ck_assert_uint_eq(out_size, np.sections[3].raw_offset + 0x400); /* no overlay */
    ck_assert_str_eq(np.sections[3].name, ".text2");

    /* Chain a second one onto the output: uninitialized, no raw data at all. */
    hp_pe_new_section bss = { ".bss2", MKPE_BSS, NULL, 0, 0x2345 };
    uint8_t *out2 = NULL;
    size_t out2_size;
    uint32_t rva;
    ck_assert_int_eq(hp_pe_add_section(&np, &bss, &out2, &out2_size, &rva), HP_OK);
    hp_pe np2;
    ck_assert_int_eq(hp_pe_parse(&np2, &arena, out2, out2_size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_uint_eq(np2.section_count, 5);
    ck_assert_uint_eq(np2.sections[4].raw_size, 0);
    ck_assert_uint_eq(np2.sections[4].raw_offset, 0);
    ck_assert_uint_eq(out2_size, out_size); /* nothing to store, nothing moves */
    ck_assert_uint_eq(np2.sections[4].virtual_size, 0x2345);
    ck_assert_uint_eq(rva, np.sections[3].virtual_address + 0x1000);
    ck_assert_uint_eq(np2.size_of_image, rva + 0x3000);
    mkpe_image o2 = { out2, out2_size };
    ck_assert_uint_eq(opt_u32(&f, &o2, offsetof(opt32, SizeOfUninitializedData)),
                      opt_u32(&f, &o, offsetof(opt32, SizeOfUninitializedData)) + 0x2400);
    ck_assert_uint_eq(np2.checksum, hp_pe_checksum(&np2));
    free(out2);
    free(out);
    hp_arena_free(&arena);
    mkpe_free(&f.img);
}
END_TEST

START_TEST(add_section_refusals)
{
    static const uint8_t one = 1;
    hp_pe_new_section sec = { ".new", MKPE_RDATA, &one, 1, 0 };
    uint8_t *out = (uint8_t *)&one;
    size_t out_size = 7;
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;

    /* No slack: three section headers end exactly at SizeOfHeaders (0x1d8 + 0x28 > 0x200). */
    mkpe_spec spec;
    mkpe_init(&spec, MKPE_X64);
    mkpe_add_section(&spec, ".a", MKPE_RDATA, &one, 1, 0);
    mkpe_add_section(&spec, ".b", MKPE_RDATA, &one, 1, 0);
    mkpe_add_section(&spec, ".c", MKPE_RDATA, &one, 1, 0);
    ck_assert_uint_eq(mkpe_headers_size(&spec), 0x200);
    mkpe_image img = mkpe_build(&spec);
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, img.data, img.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_add_section(&pe, &sec, &out, &out_size, NULL), HP_E_WRITE_NO_ROOM);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(out_size, 0);
    mkpe_free(&img);

    /* Room in SizeOfHeaders, but the first section's raw data starts right after the table. */
    mkpe_init(&spec, MKPE_X64);
    spec.header_slack = 0x100;
    mkpe_add_section(&spec, ".a", MKPE_RDATA, &one, 1, 0);
    img = mkpe_build(&spec);
    uint32_t slot = mkpe_off_section_header(&spec, 1);
    mkpe_w32(&img, mkpe_off_section_header(&spec, 0) + offsetof(sh_t, PointerToRawData), slot + 8);
    mkpe_w8(&img, slot + 8, 1);
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, img.data, img.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_add_section(&pe, &sec, &out, &out_size, NULL), HP_E_WRITE_NO_ROOM);
    mkpe_free(&img);

    /* Room, but something already lives after the table (say a bound import directory). */
    img = mkpe_build(&spec);
    mkpe_w8(&img, slot + 39, 0x11);
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, img.data, img.size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_int_eq(hp_pe_add_section(&pe, &sec, &out, &out_size, NULL), HP_E_WRITE_NO_ROOM);
    mkpe_w8(&img, slot + 39, 0);
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, img.data, img.size, HP_PE_LAYOUT_FILE), HP_OK);

    /* Names, sizes and layout. */
    hp_pe_new_section bad = sec;
    bad.name = ".toolong9";
    ck_assert_int_eq(hp_pe_add_section(&pe, &bad, &out, &out_size, NULL), HP_E_WRITE_NAME);
    bad = sec;
    bad.data_size = 0;
    ck_assert_int_eq(hp_pe_add_section(&pe, &bad, &out, &out_size, NULL), HP_E_ARG);
    bad = sec;
    bad.data = NULL;
    ck_assert_int_eq(hp_pe_add_section(&pe, &bad, &out, &out_size, NULL), HP_E_ARG);
    ck_assert_int_eq(hp_pe_add_section(&pe, &sec, NULL, &out_size, NULL), HP_E_ARG);

    mkpe_image loaded = mkpe_build_loaded(&spec);
    hp_pe lpe;
    ck_assert_int_eq(hp_pe_parse(&lpe, &arena, loaded.data, loaded.size, HP_PE_LAYOUT_LOADED),
                     HP_OK);
    ck_assert_int_eq(hp_pe_add_section(&lpe, &sec, &out, &out_size, NULL), HP_E_WRITE_LAYOUT);

    /* The same image with room works, and a full 8-byte name is kept without a NUL. */
    bad = sec;
    bad.name = "12345678";
    ck_assert_int_eq(hp_pe_add_section(&pe, &bad, &out, &out_size, NULL), HP_OK);
    hp_pe np;
    ck_assert_int_eq(hp_pe_parse(&np, &arena, out, out_size, HP_PE_LAYOUT_FILE), HP_OK);
    ck_assert_str_eq(np.sections[1].name, "12345678");
    free(out);

    mkpe_free(&loaded);
    mkpe_free(&img);
    hp_arena_free(&arena);
}
END_TEST

START_TEST(add_section_overflow)
{
    /* A section that would end past 4 GiB of image. */
    static const uint8_t one = 1;
    mkpe_spec spec;
    mkpe_init(&spec, MKPE_X64);
    spec.header_slack = 0x80;
    mkpe_add_section(&spec, ".a", MKPE_RDATA, &one, 1, 0);
    mkpe_image img = mkpe_build(&spec);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    ck_assert_int_eq(hp_pe_parse(&pe, &arena, img.data, img.size, HP_PE_LAYOUT_FILE), HP_OK);
    hp_pe_new_section sec = { ".big", MKPE_BSS, NULL, 0, 0xfffff000u };
    uint8_t *out = NULL;
    size_t out_size;
    ck_assert_int_eq(hp_pe_add_section(&pe, &sec, &out, &out_size, NULL), HP_E_OVERFLOW);
    ck_assert_ptr_null(out);
    hp_arena_free(&arena);
    mkpe_free(&img);
}
END_TEST

static Suite *writer_suite(void)
{
    Suite *s = suite_create("writer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, checksum_known_values);
    tcase_add_test(tc, checksum_matches_reference_on_images);
    tcase_add_test(tc, add_section_updates_headers_and_keeps_bytes);
    tcase_add_test(tc, add_section_code_and_uninitialized);
    tcase_add_test(tc, add_section_refusals);
    tcase_add_test(tc, add_section_overflow);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(writer_suite)
