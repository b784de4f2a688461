/* Unit tests: COFF objects (coff.c) and static archives (archive.c) on synthetic files, good and
 * malformed. */
#include <string.h>

#include "harness.h"
#include "mkcoff.h"
#include "hotpe/pe/coff.h"

typedef HP_IMAGE_FILE_HEADER fh_t;
typedef HP_ANON_OBJECT_HEADER_BIGOBJ big_t;
typedef HP_IMAGE_SYMBOL sym_t;

static const uint16_t machines[2] = { HP_IMAGE_FILE_MACHINE_I386, HP_IMAGE_FILE_MACHINE_AMD64 };

/* The names of the functions hp_coff_is_function picks, joined by spaces. */
static void functions_of(const hp_coff *c, char *out, size_t cap)
{
    out[0] = '\0';
    for (uint32_t i = 0; i < c->symbol_count; i++)
        if (hp_coff_is_function(c, &c->symbols[i])) {
            size_t n = strlen(out);
            snprintf(out + n, cap - n, "%s%s", n ? " " : "", c->symbols[i].name);
        }
}

/* _i: bit 0 machine (x86, x64), bit 1 /bigobj */
START_TEST(the_sample_object)
{
    uint16_t machine = machines[_i & 1];
    bool x86 = machine == HP_IMAGE_FILE_MACHINE_I386, bigobj = _i & 2;
    mkcoff_spec spec;
    mkcoff_sample(&spec, machine, bigobj);
    mkpe_image img = mkcoff_build(&spec, NULL);
    hp_arena arena = HP_ARENA_INIT;
    hp_coff c;
    ck_assert_int_eq(hp_coff_parse(&c, &arena, img.data, img.size), HP_OK);
    ck_assert_uint_eq(c.machine, machine);
    ck_assert(c.bigobj == bigobj);
    ck_assert(!c.import_stub);
    ck_assert_uint_eq(c.section_count, 3);
    ck_assert_str_eq(c.sections[2].name, ".text$ho"); /* 8 bytes, "/N" style not resolved */
    ck_assert_uint_eq(c.symbol_count, MKCOFF_SYM_COUNT); /* aux records skipped */
    ck_assert_str_eq(c.source, "lib.c");
    const hp_coff_symbol *lng = &c.symbols[MKCOFF_SYM_LONG];
    ck_assert_str_eq(lng->name, x86 ? "_a_function_with_a_long_name" : "a_function_with_a_long_name");
    ck_assert_uint_eq(lng->value, 0x10);
    ck_assert_int_eq(lng->section, 1);
    ck_assert_uint_eq(lng->type, 0x20);
    ck_assert_uint_eq(lng->storage_class, HP_IMAGE_SYM_CLASS_EXTERNAL);
    ck_assert_uint_eq(lng->aux_count, 1);
    ck_assert_int_eq(c.symbols[MKCOFF_SYM_ABS].section, -1);
    ck_assert_int_eq(c.symbols[MKCOFF_SYM_FILE].section, -2);

    char got[512];
    functions_of(&c, got, sizeof got);
    ck_assert_str_eq(got, x86 ? "_a_function_with_a_long_name _helper _asm_label _hot@8"
                              : "a_function_with_a_long_name helper asm_label hot");
    ck_assert_str_eq(hp_coff_c_name(&arena, machine, c.symbols[MKCOFF_SYM_HOT].name, true), "hot");
    hp_arena_free(&arena);
    mkpe_free(&img);
}
END_TEST

START_TEST(what_is_not_a_function)
{
    mkcoff_spec spec;
    mkcoff_sample(&spec, HP_IMAGE_FILE_MACHINE_AMD64, false);
    mkpe_image img = mkcoff_build(&spec, NULL);
    hp_arena arena = HP_ARENA_INIT;
    hp_coff c;
    ck_assert_int_eq(hp_coff_parse(&c, &arena, img.data, img.size), HP_OK);
    hp_coff_symbol s = c.symbols[MKCOFF_SYM_HELPER];
    ck_assert(hp_coff_is_function(&c, &s));
    s.section = 4; /* past the section table */
    ck_assert(!hp_coff_is_function(&c, &s));
    s.section = 0;
    ck_assert(!hp_coff_is_function(&c, &s));
    s.section = -1;
    ck_assert(!hp_coff_is_function(&c, &s));
    s = c.symbols[MKCOFF_SYM_HELPER];
    s.storage_class = 6; /* LABEL */
    ck_assert(!hp_coff_is_function(&c, &s));
    s = c.symbols[MKCOFF_SYM_HELPER];
    s.type = 0; /* an untyped static in code: a label, not a function */
    ck_assert(!hp_coff_is_function(&c, &s));
    s = c.symbols[MKCOFF_SYM_ASM];
    s.aux_count = 1; /* untyped with aux records: a section's definition */
    ck_assert(!hp_coff_is_function(&c, &s));
    s = c.symbols[MKCOFF_SYM_HELPER];
    s.name = ".text.unlikely";
    ck_assert(!hp_coff_is_function(&c, &s));
    s.name = "";
    ck_assert(!hp_coff_is_function(&c, &s));
    ck_assert(!hp_coff_is_function(NULL, &s));
    ck_assert(!hp_coff_is_function(&c, NULL));
    hp_arena_free(&arena);
    mkpe_free(&img);
}
END_TEST

START_TEST(import_stubs_and_import_objects)
{
    /* A GNU import library's member: .idata$ sections, a thunk in .text named like the DLL's
     * function. */
    mkcoff_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.machine = HP_IMAGE_FILE_MACHINE_AMD64;
    int32_t text = (int32_t)mkcoff_add_section(&spec, ".text", MKCOFF_CODE);
    mkcoff_add_section(&spec, ".idata$5", MKCOFF_DATA);
    mkcoff_add_symbol(&spec, (mkcoff_symbol){ "GetFileVersionInfoW", 0, text, 0,
                                              HP_IMAGE_SYM_CLASS_EXTERNAL, 0, NULL });
    mkpe_image img = mkcoff_build(&spec, NULL);
    hp_arena arena = HP_ARENA_INIT;
    hp_coff c;
    ck_assert_int_eq(hp_coff_parse(&c, &arena, img.data, img.size), HP_OK);
    ck_assert(c.import_stub);
    ck_assert(!hp_coff_is_function(&c, &c.symbols[0]));
    mkpe_free(&img);

    /* An MS short import object: Sig1 0, Sig2 0xFFFF, Version 0. */
    uint8_t short_import[20] = { 0, 0, 0xFF, 0xFF, 0, 0, 0x64, 0x86 };
    ck_assert_int_eq(hp_coff_parse(&c, &arena, short_import, sizeof short_import), HP_E_COFF_IMPORT);
    hp_arena_free(&arena);
}
END_TEST

START_TEST(no_symbols_at_all)
{
    mkcoff_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.machine = HP_IMAGE_FILE_MACHINE_I386;
    spec.no_strtab = true;
    mkcoff_add_section(&spec, ".text", MKCOFF_CODE);
    mkpe_image img = mkcoff_build(&spec, NULL);
    hp_arena arena = HP_ARENA_INIT;
    hp_coff c;
    ck_assert_int_eq(hp_coff_parse(&c, &arena, img.data, img.size), HP_OK);
    ck_assert_uint_eq(c.symbol_count, 0);
    ck_assert_uint_eq(c.section_count, 1);
    ck_assert_ptr_null(c.source);
    /* Nothing at all past the header is an object without sections and symbols. */
    ck_assert_int_eq(hp_coff_parse(&c, &arena, img.data, 20), HP_E_COFF_SECTIONS);
    mkpe_w16(&img, offsetof(fh_t, NumberOfSections), 0);
    ck_assert_int_eq(hp_coff_parse(&c, &arena, img.data, 20), HP_OK);
    ck_assert_int_eq(hp_coff_parse(NULL, &arena, img.data, 20), HP_E_ARG);
    ck_assert_int_eq(hp_coff_parse(&c, &arena, NULL, 20), HP_E_ARG);
    hp_arena_free(&arena);
    mkpe_free(&img);
}
END_TEST

/* C names: x86 symbols lose '_' or '@' and "@N"; exports and typed names lose "@N"; "@@N"
 * (vectorcall) goes on both machines. */
START_TEST(c_names)
{
    static const struct {
        bool x86, symbol;
        const char *in, *out;
    } cases[] = {
        { true, true, "_deflate", "deflate" },
        { true, true, "_WinMain@16", "WinMain" },
        { true, true, "@fast@8", "fast" },
        { true, true, "__Z3fooi", "_Z3fooi" },
        { true, true, "plain", "plain" },      /* no prefix: an assembler's name, kept */
        { true, true, "plain@4", "plain@4" },
        { true, true, "_", "_" },
        { true, true, "_x@", "x@" },           /* "@" without digits is no suffix */
        { true, true, "vec@@16", "vec" },
        { true, false, "WinMain@16", "WinMain" },
        { true, false, "@fast@8", "fast" },
        { true, false, "_under", "_under" },   /* a typed or exported name keeps its '_' */
        { true, false, "@8", "@8" },
        { false, true, "deflate", "deflate" },
        { false, true, "_deflate", "_deflate" },
        { false, true, "vec@@16", "vec" },
        { false, false, "stdcall@8", "stdcall@8" },
        { false, true, "?f@@YAHH@Z", "?f@@YAHH@Z" },
        { false, true, "", "" },
    };
    hp_arena arena = HP_ARENA_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint16_t m = cases[i].x86 ? HP_IMAGE_FILE_MACHINE_I386 : HP_IMAGE_FILE_MACHINE_AMD64;
        const char *got = hp_coff_c_name(&arena, m, cases[i].in, cases[i].symbol);
        ck_assert_msg(got && strcmp(got, cases[i].out) == 0, "%s (%s, %s): got %s, want %s",
                      cases[i].in, cases[i].x86 ? "x86" : "x64",
                      cases[i].symbol ? "symbol" : "name", got ? got : "NULL", cases[i].out);
    }
    ck_assert_ptr_null(hp_coff_c_name(&arena, 0, NULL, true));
    hp_arena_free(&arena);
}
END_TEST

/* One corruption of the sample object and the status it must give. */
typedef struct obj_case {
    const char *what;
    enum { TRUNCATE, MACHINE, NSECTIONS, SYMPTR, NSYMS, AUX_LAST, LONG_OFF, STRTAB_SIZE,
           SIG_VERSION, SIG_CLASS, OPT_SIZE, NO_STRTAB } field;
    uint32_t value;
    bool bigobj;
    hp_status want;
} obj_case;

static const obj_case obj_cases[] = {
    { "empty file", TRUNCATE, 0, false, HP_E_COFF_HEADER },
    { "header truncated", TRUNCATE, 10, false, HP_E_COFF_HEADER },
    { "/bigobj header truncated", TRUNCATE, 40, true, HP_E_COFF_HEADER },
    { "/bigobj header cut before its version", TRUNCATE, 5, true, HP_E_COFF_HEADER },
    { "Machine ARM64", MACHINE, 0xAA64, false, HP_E_COFF_MACHINE },
    { "Machine 'MZ' (a PE image)", MACHINE, 0x5A4D, false, HP_E_COFF_MACHINE },
    { "/bigobj Machine unknown", MACHINE, 0x1c0, true, HP_E_COFF_MACHINE },
    { "section table past the end", NSECTIONS, 0xFFFE, false, HP_E_COFF_SECTIONS },
    { "/bigobj absurd section count", NSECTIONS, 0xFFFFFFFF, true, HP_E_COFF_SECTIONS },
    { "optional header pushes the sections out", OPT_SIZE, 0xFFFF, false, HP_E_COFF_SECTIONS },
    { "symbol table starts past the end", SYMPTR, 0x7ffffff0, false, HP_E_SYMBOLS },
    { "symbol table runs past the end", NSYMS, 0x10000, false, HP_E_SYMBOLS },
    { "absurd symbol count", NSYMS, 0xFFFFFFFF, false, HP_E_SYMBOLS },
    { "/bigobj absurd symbol count", NSYMS, 0xFFFFFFFF, true, HP_E_SYMBOLS },
    { "/bigobj symbol table past the end", SYMPTR, 0xFFFFFFFF, true, HP_E_SYMBOLS },
    { "aux records of the last symbol past the count", AUX_LAST, 1, false, HP_E_SYMBOL_AUX },
    { "/bigobj aux records past the count", AUX_LAST, 200, true, HP_E_SYMBOL_AUX },
    { "long name offset past the string table", LONG_OFF, 0x1000, false, HP_E_STRING_TABLE },
    { "long name offset inside the size field", LONG_OFF, 2, false, HP_E_STRING_TABLE },
    { "long name offset far out", LONG_OFF, 0xFFFFFFFF, true, HP_E_STRING_TABLE },
    { "string table size past the file", STRTAB_SIZE, 0x100000, false, HP_E_STRING_TABLE },
    { "string table size below 4", STRTAB_SIZE, 3, false, HP_E_STRING_TABLE },
    { "string table cut: the last name unterminated", TRUNCATE, 0xFFFFFFFF, false, HP_E_STRING_TABLE },
    { "no string table behind a long name", NO_STRTAB, 0, false, HP_E_STRING_TABLE },
    { "import object (Version 0)", SIG_VERSION, 0, true, HP_E_COFF_IMPORT },
    { "anonymous object, Version 1", SIG_VERSION, 1, true, HP_E_COFF_MACHINE },
    { "anonymous object of another class", SIG_CLASS, 0, true, HP_E_COFF_MACHINE },
};

START_TEST(malformed_objects)
{
    const obj_case *c = &obj_cases[_i];
    mkcoff_spec spec;
    mkcoff_sample(&spec, HP_IMAGE_FILE_MACHINE_AMD64, c->bigobj);
    spec.no_strtab = c->field == NO_STRTAB;
    mkcoff_layout at;
    mkpe_image img = mkcoff_build(&spec, &at);
    hp_arena arena = HP_ARENA_INIT;
    hp_coff obj;
    if (c->field != NO_STRTAB)
        ck_assert_int_eq(hp_coff_parse(&obj, &arena, img.data, img.size), HP_OK);
    uint32_t last = at.sym_at[MKCOFF_SYM_COUNT - 1];
    unsigned shift = at.record - 18;
    switch (c->field) {
    case TRUNCATE:
        /* 0xFFFFFFFF: inside the last long name */
        mkpe_truncate(&img, c->value == 0xFFFFFFFF ? img.size - 3 : c->value);
        break;
    case MACHINE:
        if (c->bigobj)
            MKPE_PUT(&img, 0, big_t, Machine, c->value);
        else
            MKPE_PUT(&img, 0, fh_t, Machine, c->value);
        break;
    case NSECTIONS:
        if (c->bigobj)
            MKPE_PUT(&img, 0, big_t, NumberOfSections, c->value);
        else
            MKPE_PUT(&img, 0, fh_t, NumberOfSections, c->value);
        break;
    case OPT_SIZE: MKPE_PUT(&img, 0, fh_t, SizeOfOptionalHeader, c->value); break;
    case SYMPTR:
        if (c->bigobj)
            MKPE_PUT(&img, 0, big_t, PointerToSymbolTable, c->value);
        else
            MKPE_PUT(&img, 0, fh_t, PointerToSymbolTable, c->value);
        break;
    case NSYMS:
        if (c->bigobj)
            MKPE_PUT(&img, 0, big_t, NumberOfSymbols, c->value);
        else
            MKPE_PUT(&img, 0, fh_t, NumberOfSymbols, c->value);
        break;
    case AUX_LAST: mkpe_w8(&img, last + 17 + shift, (uint8_t)c->value); break;
    case LONG_OFF: mkpe_w32(&img, at.sym_at[MKCOFF_SYM_LONG] + 4, c->value); break;
    case STRTAB_SIZE: mkpe_w32(&img, at.strtab, c->value); break;
    case SIG_VERSION: MKPE_PUT(&img, 0, big_t, Version, c->value); break;
    case SIG_CLASS: mkpe_w8(&img, offsetof(big_t, ClassID) + 15, 0); break;
    case NO_STRTAB: break;
    }
    hp_status s = hp_coff_parse(&obj, &arena, img.data, img.size);
    ck_assert_msg(s == c->want, "%s: got %s, want %s", c->what, hp_status_name(s),
                  hp_status_name(c->want));
    hp_arena_free(&arena);
    mkpe_free(&img);
}
END_TEST

/* Every truncation and every byte set to edge values: no crash, a status of the parser's. */
START_TEST(object_sweeps)
{
    mkcoff_spec spec;
    mkcoff_sample(&spec, machines[_i & 1], _i & 2);
    mkpe_image img = mkcoff_build(&spec, NULL);
    static const uint8_t edge[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
    for (size_t n = 0; n <= img.size; n++) {
        hp_arena arena = HP_ARENA_INIT;
        hp_coff c;
        hp_status s = hp_coff_parse(&c, &arena, img.data, n);
        ck_assert_msg(hp_status_known((uint32_t)s), "length %zu: %x", n, (unsigned)s);
        if (n == img.size)
            ck_assert_int_eq(s, HP_OK);
        hp_arena_free(&arena);
    }
    for (size_t at = 0; at < img.size; at++) {
        uint8_t saved = img.data[at];
        for (size_t e = 0; e < sizeof edge; e++) {
            img.data[at] = edge[e];
            hp_arena arena = HP_ARENA_INIT;
            hp_coff c;
            hp_status s = hp_coff_parse(&c, &arena, img.data, img.size);
            ck_assert(hp_status_known((uint32_t)s));
            for (uint32_t i = 0; s == HP_OK && i < c.symbol_count; i++) {
                ck_assert_ptr_nonnull(c.symbols[i].name);
                if (hp_coff_is_function(&c, &c.symbols[i]))
                    ck_assert(c.symbols[i].section >= 1 &&
                              (uint32_t)c.symbols[i].section <= c.section_count);
            }
            hp_arena_free(&arena);
        }
        img.data[at] = saved;
    }
    mkpe_free(&img);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Archives                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static const char long_name[] = "a_member_with_a_long_name.obj";

/* Three members: two objects (one with a long name) and an odd-sized text member. */
static mkpe_image sample_ar(mkcoff_ar_style style, mkpe_image *objs, mkcoff_ar_layout *at)
{
    mkcoff_spec spec;
    mkcoff_sample(&spec, HP_IMAGE_FILE_MACHINE_AMD64, false);
    objs[0] = mkcoff_build(&spec, NULL);
    mkcoff_sample(&spec, HP_IMAGE_FILE_MACHINE_I386, false);
    objs[1] = mkcoff_build(&spec, NULL);
    mkcoff_member m[3] = {
        { "short.o", objs[0].data, objs[0].size },
        { long_name, objs[1].data, objs[1].size },
        { "odd.txt", "abc", 3 },
    };
    return mkcoff_ar(m, 3, style, at);
}

START_TEST(archives_of_each_style)
{
    mkcoff_ar_style style = (mkcoff_ar_style)_i;
    mkpe_image objs[2];
    mkcoff_ar_layout at;
    mkpe_image ar = sample_ar(style, objs, &at);
    hp_arena arena = HP_ARENA_INIT;
    hp_ar a;
    ck_assert(hp_ar_is_archive(ar.data, ar.size));
    ck_assert_int_eq(hp_ar_parse(&a, &arena, ar.data, ar.size), HP_OK);
    ck_assert_uint_eq(a.count, 3);
    ck_assert_str_eq(a.members[0].name, "short.o");
    ck_assert_str_eq(a.members[1].name, long_name);
    ck_assert_str_eq(a.members[2].name, "odd.txt");
    ck_assert_uint_eq(a.members[0].data.size, objs[0].size);
    ck_assert_int_eq(memcmp(a.members[0].data.data, objs[0].data, objs[0].size), 0);
    ck_assert_uint_eq(a.members[1].data.size, objs[1].size);
    ck_assert_int_eq(memcmp(a.members[1].data.data, objs[1].data, objs[1].size), 0);
    ck_assert_uint_eq(a.members[2].data.size, 3);
    ck_assert_ptr_eq(a.members[0].data.data, ar.data + a.members[0].offset);
    hp_coff c;
    ck_assert_int_eq(hp_coff_parse(&c, &arena, a.members[1].data.data, a.members[1].data.size), HP_OK);
    ck_assert_uint_eq(c.machine, HP_IMAGE_FILE_MACHINE_I386);
    hp_arena_free(&arena);
    mkpe_free(&ar);
    mkpe_free(&objs[0]);
    mkpe_free(&objs[1]);
}
END_TEST

START_TEST(archive_edges)
{
    hp_arena arena = HP_ARENA_INIT;
    hp_ar a;
    ck_assert_int_eq(hp_ar_parse(&a, &arena, "!<arch>\n", 8), HP_OK);
    ck_assert_uint_eq(a.count, 0);
    ck_assert_int_eq(hp_ar_parse(&a, &arena, "!<thin>\nxxxx", 12), HP_E_AR_THIN);
    ck_assert_int_eq(hp_ar_parse(&a, &arena, "!<arch>", 7), HP_E_NOT_FOUND);
    ck_assert_int_eq(hp_ar_parse(&a, &arena, "MZ\x90\0", 4), HP_E_NOT_FOUND);
    ck_assert(!hp_ar_is_archive("!<arch>", 7));
    ck_assert(!hp_ar_is_archive(NULL, 8));
    ck_assert_int_eq(hp_ar_parse(NULL, &arena, "!<arch>\n", 8), HP_E_ARG);
    hp_arena_free(&arena);
}
END_TEST

typedef struct ar_case {
    const char *what;
    enum { A_TRUNCATE, A_END, A_SIZE, A_NAME, A_DROP_TABLE, A_TABLE_NL } field;
    const char *text;        /* A_SIZE, A_NAME: the field's new text */
    uint32_t value;          /* A_TRUNCATE: bytes cut from the end */
    hp_status want;
} ar_case;

static const ar_case ar_cases[] = {
    { "cut in the last header", A_TRUNCATE, NULL, 3 + 1 + 60 - 10, HP_E_AR_HEADER },
    { "cut in the last member's data", A_TRUNCATE, NULL, 3, HP_E_AR_HEADER },
    { "header not ending with `\\n", A_END, NULL, 0, HP_E_AR_HEADER },
    { "size not a number", A_SIZE, "12a", 0, HP_E_AR_HEADER },
    { "size empty", A_SIZE, "", 0, HP_E_AR_HEADER },
    { "size past the end", A_SIZE, "9999999999", 0, HP_E_AR_HEADER },
    { "long name past the table", A_NAME, "/9000", 0, HP_E_AR_NAME },
    { "long name number not a number", A_NAME, "/12x", 0, HP_E_AR_NAME },
    { "long name without a table", A_DROP_TABLE, NULL, 0, HP_E_AR_NAME },
    { "long name unterminated", A_TABLE_NL, NULL, 0, HP_E_AR_NAME },
    { "BSD name longer than the member", A_NAME, "#1/9999", 0, HP_E_AR_HEADER },
    { "BSD name length not a number", A_NAME, "#1/x", 0, HP_E_AR_HEADER },
};

/* Write text into a header field of width n, space-padded. */
static void put_field(mkpe_image *img, uint32_t off, size_t n, const char *text)
{
    ck_assert_uint_le(off + n, img->size);
    memset(img->data + off, ' ', n);
    memcpy(img->data + off, text, strlen(text));
}

START_TEST(malformed_archives)
{
    const ar_case *c = &ar_cases[_i];
    mkpe_image objs[2];
    mkcoff_ar_layout at;
    mkpe_image ar = sample_ar(MKCOFF_AR_GNU, objs, &at);
    hp_arena arena = HP_ARENA_INIT;
    hp_ar a;
    ck_assert_int_eq(hp_ar_parse(&a, &arena, ar.data, ar.size), HP_OK);
    uint32_t longh = at.header[1], last = at.header[2];
    switch (c->field) {
    case A_TRUNCATE: mkpe_truncate(&ar, ar.size - c->value); break;
    case A_END: ar.data[last + 58] = '\''; break;
    case A_SIZE: put_field(&ar, last + 48, 10, c->text); break;
    case A_NAME: put_field(&ar, longh, 16, c->text); break;
    case A_DROP_TABLE: put_field(&ar, at.names - 60, 16, "dropped.o/"); break;
    case A_TABLE_NL: /* the table's only name loses its "\n" and the table ends there */
        ar.data[at.names + strlen(long_name) + 1] = 'x';
        break;
    }
    hp_status s = hp_ar_parse(&a, &arena, ar.data, ar.size);
    ck_assert_msg(s == c->want, "%s: got %s, want %s", c->what, hp_status_name(s),
                  hp_status_name(c->want));
    hp_arena_free(&arena);
    mkpe_free(&ar);
    mkpe_free(&objs[0]);
    mkpe_free(&objs[1]);
}
END_TEST

START_TEST(archive_sweeps)
{
    mkpe_image objs[2];
    mkpe_image ar = sample_ar((mkcoff_ar_style)_i, objs, NULL);
    static const uint8_t edge[] = { 0x00, ' ', '/', '0', '9', '\n', 0xff };
    for (size_t n = 0; n <= ar.size; n++) {
        hp_arena arena = HP_ARENA_INIT;
        hp_ar a;
        hp_status s = hp_ar_parse(&a, &arena, ar.data, n);
        ck_assert(hp_status_known((uint32_t)s));
        hp_arena_free(&arena);
    }
    /* the headers and the name table: the member data is the object tests' */
    for (size_t at = 0; at < ar.size; at++) {
        uint8_t saved = ar.data[at];
        for (size_t e = 0; e < sizeof edge; e++) {
            ar.data[at] = edge[e];
            hp_arena arena = HP_ARENA_INIT;
            hp_ar a;
            hp_status s = hp_ar_parse(&a, &arena, ar.data, ar.size);
            ck_assert(hp_status_known((uint32_t)s));
            for (uint32_t k = 0; s == HP_OK && k < a.count; k++) {
                ck_assert_ptr_nonnull(a.members[k].name);
                ck_assert(a.members[k].offset <= ar.size &&
                          a.members[k].data.size <= ar.size - a.members[k].offset);
            }
            hp_arena_free(&arena);
        }
        ar.data[at] = saved;
    }
    mkpe_free(&ar);
    mkpe_free(&objs[0]);
    mkpe_free(&objs[1]);
}
END_TEST

static Suite *coff_suite(void)
{
    Suite *s = suite_create("coff");
    TCase *t = tcase_create("objects");
    tcase_add_loop_test(t, the_sample_object, 0, 4);
    tcase_add_test(t, what_is_not_a_function);
    tcase_add_test(t, import_stubs_and_import_objects);
    tcase_add_test(t, no_symbols_at_all);
    tcase_add_test(t, c_names);
    tcase_add_loop_test(t, malformed_objects, 0, sizeof obj_cases / sizeof *obj_cases);
    tcase_add_loop_test(t, object_sweeps, 0, 4);
    suite_add_tcase(s, t);
    t = tcase_create("archives");
    tcase_add_loop_test(t, archives_of_each_style, 0, 3);
    tcase_add_test(t, archive_edges);
    tcase_add_loop_test(t, malformed_archives, 0, sizeof ar_cases / sizeof *ar_cases);
    tcase_add_loop_test(t, archive_sweeps, 0, 3);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    return s;
}

HP_TEST_MAIN(coff_suite)
