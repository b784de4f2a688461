/* Unit tests: the COFF symbol table (symbols.c) and the debug directory (debug.c). */
#include <string.h>

#include "harness.h"
#include "mkpe_sample.h"
#include "hotpe/pe/pe.h"

typedef HP_IMAGE_SYMBOL sy;
typedef HP_IMAGE_DEBUG_DIRECTORY dd;
typedef HP_IMAGE_FILE_HEADER fh;

/* The sample in file layout, parsed; each test corrupts f->img and calls reparse(). */
typedef struct fx {
    mkpe_sample smp;
    mkpe_image img;
    hp_arena arena;
    hp_pe pe;
} fx;

static void fx_init(fx *f, mkpe_arch arch, bool loaded)
{
    memset(f, 0, sizeof *f);
    mkpe_sample_init(&f->smp, arch);
    f->img = loaded ? mkpe_build_loaded(&f->smp.spec) : mkpe_build(&f->smp.spec);
}

static hp_status fx_parse(fx *f, bool loaded)
{
    return hp_pe_parse(&f->pe, &f->arena, f->img.data, f->img.size,
                       loaded ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE);
}

static void fx_free(fx *f)
{
    hp_arena_free(&f->arena);
    mkpe_free(&f->img);
    mkpe_sample_free(&f->smp);
}

static hp_status symbols_of(fx *f, hp_pe_symbols *out)
{
    ck_assert_int_eq(fx_parse(f, false), HP_OK);
    return hp_pe_symbols_parse(&f->pe, &f->arena, out);
}

START_TEST(symbols_of_the_sample)
{
    fx f;
    fx_init(&f, _i ? MKPE_X64 : MKPE_X86, false);
    hp_pe_symbols syms;
    ck_assert_int_eq(symbols_of(&f, &syms), HP_OK);
    /* Four records, one of them the section symbol's aux record. */
    ck_assert_uint_eq(syms.count, 3);
    ck_assert_str_eq(syms.entries[0].name, ".text");
    ck_assert_uint_eq(syms.entries[0].aux_count, 1);
    ck_assert_uint_eq(syms.entries[0].storage_class, HP_IMAGE_SYM_CLASS_STATIC);
    ck_assert_str_eq(syms.entries[1].name, "f0_with_a_long_name");
    ck_assert_str_eq(syms.entries[2].name, "f1");
    ck_assert_int_eq(syms.entries[2].section, (int)f.smp.text + 1);
    ck_assert_uint_eq(syms.entries[2].type, 0x20);
    ck_assert_uint_eq(syms.entries[2].storage_class, HP_IMAGE_SYM_CLASS_EXTERNAL);

    uint32_t rva = 0;
    ck_assert(!hp_pe_symbol_function_rva(&f.pe, &syms.entries[0], &rva));
    ck_assert(hp_pe_symbol_function_rva(&f.pe, &syms.entries[1], &rva));
    ck_assert_uint_eq(rva, f.smp.rva.f0);
    ck_assert(hp_pe_symbol_function_rva(&f.pe, &syms.entries[2], &rva));
    ck_assert_uint_eq(rva, f.smp.rva.f1);

    /* Section numbers out of range, special sections, and values past the section. */
    hp_pe_symbol s = syms.entries[2];
    s.section = (int16_t)(f.pe.section_count + 1);
    ck_assert(!hp_pe_symbol_function_rva(&f.pe, &s, &rva));
    s.section = -1;
    ck_assert(!hp_pe_symbol_function_rva(&f.pe, &s, &rva));
    s.section = 0;
    ck_assert(!hp_pe_symbol_function_rva(&f.pe, &s, &rva));
    s = syms.entries[2];
    s.value = f.pe.sections[f.smp.text].virtual_size;
    ck_assert(!hp_pe_symbol_function_rva(&f.pe, &s, &rva));
    s = syms.entries[2];
    s.type = 0x30; /* not DTYPE_FUNCTION */
    ck_assert(!hp_pe_symbol_function_rva(&f.pe, &s, &rva));
    fx_free(&f);
}
END_TEST

START_TEST(short_names_use_all_eight_bytes)
{
    fx f;
    fx_init(&f, MKPE_X64, false);
    memcpy(f.img.data + f.smp.symtab_offset + 3 * sizeof(sy), "abcdefgh", 8);
    hp_pe_symbols syms;
    ck_assert_int_eq(symbols_of(&f, &syms), HP_OK);
    ck_assert_str_eq(syms.entries[2].name, "abcdefgh");
    fx_free(&f);
}
END_TEST

START_TEST(no_table_and_loaded_layout)
{
    fx f;
    fx_init(&f, MKPE_X86, false);
    uint32_t fhdr = mkpe_off_file_header(&f.smp.spec);
    MKPE_PUT(&f.img, fhdr, fh, PointerToSymbolTable, 0);
    hp_pe_symbols syms = { 99, NULL };
    ck_assert_int_eq(symbols_of(&f, &syms), HP_OK);
    ck_assert_uint_eq(syms.count, 0);
    fx_free(&f);

    fx_init(&f, MKPE_X86, true);
    ck_assert_int_eq(fx_parse(&f, true), HP_OK);
    ck_assert_int_eq(hp_pe_symbols_parse(&f.pe, &f.arena, &syms), HP_OK);
    ck_assert_uint_eq(syms.count, 0);
    fx_free(&f);
}
END_TEST

/* One corruption of the file header or the table and the status it must give. */
typedef struct sym_case {
    const char *what;
    enum { PTR, COUNT, AUX_LAST, LONG_OFF, STRTAB_SIZE, TRUNCATE } field;
    uint32_t value;
    hp_status want;
} sym_case;

static const sym_case sym_cases[] = {
    { "table starts past the end", PTR, 0x7ffffff0, HP_E_SYMBOLS },
    { "table runs past the end", COUNT, 0x10000000, HP_E_SYMBOLS },
    { "count times 18 overflows 32 bits", COUNT, 0xffffffff, HP_E_SYMBOLS },
    { "aux records of the last symbol past the count", AUX_LAST, 1, HP_E_SYMBOL_AUX },
    { "long name offset past the string table", LONG_OFF, 0x1000, HP_E_STRING_TABLE },
    { "long name offset inside the size field", LONG_OFF, 2, HP_E_STRING_TABLE },
    { "string table size past the file", STRTAB_SIZE, 0x100000, HP_E_STRING_TABLE },
    { "string table size below 4", STRTAB_SIZE, 3, HP_E_STRING_TABLE },
    { "file ends inside the string table", TRUNCATE, 6, HP_E_STRING_TABLE },
};

START_TEST(symbol_table_damage)
{
    const sym_case *c = &sym_cases[_i];
    fx f;
    fx_init(&f, MKPE_X64, false);
    uint32_t fhdr = mkpe_off_file_header(&f.smp.spec);
    uint32_t last = f.smp.symtab_offset + 3 * sizeof(sy);
    uint32_t f0 = f.smp.symtab_offset + 2 * sizeof(sy);
    switch (c->field) {
    case PTR: MKPE_PUT(&f.img, fhdr, fh, PointerToSymbolTable, c->value); break;
    case COUNT: MKPE_PUT(&f.img, fhdr, fh, NumberOfSymbols, c->value); break;
    case AUX_LAST: MKPE_PUT(&f.img, last, sy, NumberOfAuxSymbols, c->value); break;
    case LONG_OFF: MKPE_PUT(&f.img, f0, sy, N.Name.Long, c->value); break;
    case STRTAB_SIZE: mkpe_w32(&f.img, f.smp.strtab_offset, c->value); break;
    case TRUNCATE: mkpe_truncate(&f.img, f.smp.strtab_offset + c->value); break;
    }
    hp_pe_symbols syms;
    hp_status s = symbols_of(&f, &syms);
    ck_assert_msg(s == c->want, "%s: got %s, want %s", c->what, hp_status_name(s),
                  hp_status_name(c->want));
    fx_free(&f);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Debug directory                                                                          */
/* ---------------------------------------------------------------------------------------- */

static const uint8_t sample_guid[16] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                                         0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

START_TEST(debug_of_the_sample)
{
    /* _i: bit 0 arch, bit 1 loaded layout */
    bool loaded = _i & 2;
    fx f;
    fx_init(&f, (_i & 1) ? MKPE_X64 : MKPE_X86, loaded);
    ck_assert_int_eq(fx_parse(&f, loaded), HP_OK);
    hp_pe_debug dbg;
    ck_assert_int_eq(hp_pe_debug_parse(&f.pe, &f.arena, &dbg), HP_OK);
    ck_assert_uint_eq(dbg.count, 1);
    ck_assert_uint_eq(dbg.entries[0].type, HP_IMAGE_DEBUG_TYPE_CODEVIEW);
    ck_assert_uint_eq(dbg.entries[0].rva, f.smp.rva.codeview);
    ck_assert_uint_eq(dbg.entries[0].size, 24 + sizeof "C:\\build\\sample.pdb");
    ck_assert_uint_eq(dbg.entries[0].timestamp, f.smp.spec.timestamp);
    ck_assert(dbg.codeview.present);
    ck_assert_int_eq(memcmp(dbg.codeview.guid, sample_guid, 16), 0);
    ck_assert_uint_eq(dbg.codeview.age, 3);
    ck_assert_str_eq(dbg.codeview.path, "C:\\build\\sample.pdb");
    fx_free(&f);
}
END_TEST

/* Rewrite a field of the sample's one debug entry (file layout). */
static void put_entry(fx *f, size_t field, unsigned width, uint32_t v)
{
    uint32_t dir = mkpe_sample_offset(&f->smp, f->smp.rva.debug_dir, false);
    mkpe_wn(&f->img, dir + field, v, width);
}

START_TEST(debug_variants)
{
    fx f;
    hp_pe_debug dbg;

    /* No file pointer: the data is found through its RVA. */
    fx_init(&f, MKPE_X64, false);
    put_entry(&f, offsetof(dd, PointerToRawData), 4, 0);
    ck_assert_int_eq(fx_parse(&f, false), HP_OK);
    ck_assert_int_eq(hp_pe_debug_parse(&f.pe, &f.arena, &dbg), HP_OK);
    ck_assert(dbg.codeview.present);
    ck_assert_uint_eq(dbg.codeview.age, 3);
    fx_free(&f);

    /* An NB10 record is not RSDS: the entry stays, the CodeView identity is absent. */
    fx_init(&f, MKPE_X64, false);
    mkpe_w32(&f.img, mkpe_sample_offset(&f.smp, f.smp.rva.codeview, false), 0x3031424e);
    ck_assert_int_eq(fx_parse(&f, false), HP_OK);
    ck_assert_int_eq(hp_pe_debug_parse(&f.pe, &f.arena, &dbg), HP_OK);
    ck_assert_uint_eq(dbg.count, 1);
    ck_assert(!dbg.codeview.present);
    fx_free(&f);

    /* A path without its NUL ends with the record. */
    fx_init(&f, MKPE_X86, false);
    put_entry(&f, offsetof(dd, SizeOfData), 4, 24 + 5);
    ck_assert_int_eq(fx_parse(&f, false), HP_OK);
    ck_assert_int_eq(hp_pe_debug_parse(&f.pe, &f.arena, &dbg), HP_OK);
    ck_assert_str_eq(dbg.codeview.path, "C:\\bu");
    fx_free(&f);

    /* Other entry types are listed; an entry without data is skipped. */
    fx_init(&f, MKPE_X86, false);
    put_entry(&f, offsetof(dd, Type), 4, 13);
    ck_assert_int_eq(fx_parse(&f, false), HP_OK);
    ck_assert_int_eq(hp_pe_debug_parse(&f.pe, &f.arena, &dbg), HP_OK);
    ck_assert_uint_eq(dbg.entries[0].type, 13);
    ck_assert(!dbg.codeview.present);
    fx_free(&f);
}
END_TEST

typedef struct dbg_case {
    const char *what;
    enum { DIR_SIZE, DIR_RVA, E_PTR, E_RVA, E_SIZE } field;
    uint32_t value;
    bool loaded;
    hp_status want;
} dbg_case;

static const dbg_case dbg_cases[] = {
    { "directory size not a multiple of 28", DIR_SIZE, 27, false, HP_E_DEBUG_DIR_SIZE },
    { "directory size past the section", DIR_SIZE, 28 * 0x1000, false, HP_E_DEBUG_DIR_SIZE },
    { "directory RVA outside the image", DIR_RVA, 0x7fff0000, false, HP_E_DEBUG_DIR_SIZE },
    { "data pointer past the file", E_PTR, 0x7fff0000, false, HP_E_DEBUG_DIR },
    { "data size past the file", E_SIZE, 0x7fff0000, false, HP_E_DEBUG_DIR },
    { "loaded: data RVA outside the image", E_RVA, 0x7fff0000, true, HP_E_DEBUG_DIR },
    { "loaded: data size past the image", E_SIZE, 0x7fff0000, true, HP_E_DEBUG_DIR },
    { "RSDS record shorter than 24 bytes", E_SIZE, 20, false, HP_E_CODEVIEW },
    { "CodeView record shorter than its signature", E_SIZE, 3, true, HP_E_CODEVIEW },
};

START_TEST(debug_damage)
{
    const dbg_case *c = &dbg_cases[_i];
    fx f;
    fx_init(&f, MKPE_X64, c->loaded);
    uint32_t dir = mkpe_sample_offset(&f.smp, f.smp.rva.debug_dir, c->loaded);
    uint32_t slot = mkpe_off_dir(&f.smp.spec, HP_IMAGE_DIRECTORY_ENTRY_DEBUG);
    switch (c->field) {
    case DIR_SIZE: mkpe_w32(&f.img, slot + 4, c->value); break;
    case DIR_RVA: mkpe_w32(&f.img, slot, c->value); break;
    case E_PTR: MKPE_PUT(&f.img, dir, dd, PointerToRawData, c->value); break;
    case E_RVA: MKPE_PUT(&f.img, dir, dd, AddressOfRawData, c->value); break;
    case E_SIZE: MKPE_PUT(&f.img, dir, dd, SizeOfData, c->value); break;
    }
    ck_assert_int_eq(fx_parse(&f, c->loaded), HP_OK);
    hp_pe_debug dbg;
    hp_status s = hp_pe_debug_parse(&f.pe, &f.arena, &dbg);
    ck_assert_msg(s == c->want, "%s: got %s, want %s", c->what, hp_status_name(s),
                  hp_status_name(c->want));
    fx_free(&f);
}
END_TEST

START_TEST(no_debug_directory)
{
    fx f;
    fx_init(&f, MKPE_X86, false);
    mkpe_w32(&f.img, mkpe_off_dir(&f.smp.spec, HP_IMAGE_DIRECTORY_ENTRY_DEBUG) + 4, 0);
    ck_assert_int_eq(fx_parse(&f, false), HP_OK);
    hp_pe_debug dbg;
    ck_assert_int_eq(hp_pe_debug_parse(&f.pe, &f.arena, &dbg), HP_OK);
    ck_assert_uint_eq(dbg.count, 0);
    ck_assert(!dbg.codeview.present);
    fx_free(&f);
}
END_TEST

static Suite *symbols_suite(void)
{
    Suite *s = suite_create("symbols");
    TCase *tc = tcase_create("coff");
    tcase_add_loop_test(tc, symbols_of_the_sample, 0, 2);
    tcase_add_test(tc, short_names_use_all_eight_bytes);
    tcase_add_test(tc, no_table_and_loaded_layout);
    tcase_add_loop_test(tc, symbol_table_damage, 0, sizeof sym_cases / sizeof *sym_cases);
    suite_add_tcase(s, tc);
    tc = tcase_create("debug");
    tcase_add_loop_test(tc, debug_of_the_sample, 0, 4);
    tcase_add_test(tc, debug_variants);
    tcase_add_loop_test(tc, debug_damage, 0, sizeof dbg_cases / sizeof *dbg_cases);
    tcase_add_test(tc, no_debug_directory);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(symbols_suite)
