/*
 * hotpe: COFF object files and the static archives that hold them. Which functions a library's
 * objects define, for `hotpe scan --objects` (applier/cover.c, docs/scan-example.md).
 *
 * An object (.o from MinGW GCC or clang, .obj from clang-cl or MSVC, /bigobj ones too) is a
 * file header, the section table, and the symbol table followed by its string table: no DOS
 * header, no magic number. A static archive (.a, .lib) is "!<arch>\n" and its members, named
 * through the GNU or MS long-name table ("//") or BSD's "#1/N"; the symbol indexes ("/",
 * "/SYM64/", "__.SYMDEF") are not members. Every byte is read through hp_rd; the results live
 * in the caller's arena and point into the caller's bytes (hp_ar) or into the arena.
 */
#ifndef HOTPE_COFF_H
#define HOTPE_COFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/pe/arena.h"
#include "hotpe/pe/format.h"
#include "hotpe/pe/reader.h"
#include "hotpe/status.h"

/* ------------------------------------------------------------------------------------------ */
/* COFF objects (coff.c)                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_coff_section {
    char name[9];            /* the header's 8 bytes; a long name stays "/N" (not resolved) */
    uint32_t characteristics;
} hp_coff_section;

typedef struct hp_coff_symbol {
    const char *name;        /* as stored: x86 C names carry their '_' (hp_coff_c_name) */
    uint32_t value;          /* offset in its section */
    int32_t section;         /* 1-based; 0 undefined, -1 absolute, -2 debug */
    uint16_t type;           /* 0x20: a function */
    uint8_t storage_class;
    uint8_t aux_count;
} hp_coff_symbol;

typedef struct hp_coff {
    uint16_t machine;        /* HP_IMAGE_FILE_MACHINE_I386 or HP_IMAGE_FILE_MACHINE_AMD64 */
    bool bigobj;             /* the /bigobj header, 20-byte symbols */
    bool import_stub;        /* a GNU import library's member (.idata$ sections): no code of
                                its own, its .text is a thunk to a DLL's function */
    uint32_t section_count;
    hp_coff_section *sections; /* section i is sections[i - 1] */
    uint32_t symbol_count;   /* primary records, in table order; aux records are skipped */
    hp_coff_symbol *symbols;
    const char *source;      /* the first .file record's name ("deflate.c"), or NULL */
} hp_coff;

/**
 * Parse a COFF object: its header (plain or /bigobj), section table, symbol table and the
 * long names of its string table. Section contents are not read.
 * @param out    out: the object; names in arena
 * @param arena  in/out
 * @param data   in: the file's bytes (untrusted), size of them
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, HP_E_COFF_HEADER (shorter than its header),
 *         HP_E_COFF_MACHINE (neither i386 nor AMD64: not an x86 or x64 object, e.g. a PE
 *         image, LLVM bitcode or text), HP_E_COFF_IMPORT (a short import object),
 *         HP_E_COFF_SECTIONS (section table outside the file), HP_E_SYMBOLS (symbol table
 *         outside the file), HP_E_SYMBOL_AUX (aux records past NumberOfSymbols),
 *         HP_E_STRING_TABLE (a long name outside the string table or unterminated).
 */
hp_status hp_coff_parse(hp_coff *out, hp_arena *arena, const void *data, size_t size);

/**
 * Whether sym is a function the object defines: storage class EXTERNAL or STATIC, defined in
 * one of its sections that holds code (IMAGE_SCN_CNT_CODE or MEM_EXECUTE), and typed a function
 * (Type 0x20), or an untyped EXTERNAL symbol without aux records (an assembler's global label).
 * Section symbols (".text", ".text$name", with their aux records), names starting with '.',
 * labels, absolute and undefined symbols are not functions; nothing in an import stub is.
 */
bool hp_coff_is_function(const hp_coff *obj, const hp_coff_symbol *sym);

/**
 * The C name of a decorated name, in arena. On both machines a vectorcall "@@N" is cut. On
 * x86, a symbol's leading '_' (cdecl, stdcall) or '@' (fastcall) is dropped and then its "@N"
 * cut; an export name's leading '@' is dropped and its "@N" cut (GNU ld exports a stdcall
 * function as "name@N"). "_Z..." C++ names keep their mangling.
 * @param symbol  true: a COFF symbol's name; false: an export's or a name a user typed
 * @return the name, or NULL when out of memory.
 */
const char *hp_coff_c_name(hp_arena *arena, uint16_t machine, const char *name, bool symbol);

/* ------------------------------------------------------------------------------------------ */
/* Static archives (archive.c)                                                                */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_ar_member {
    const char *name;        /* "deflate.o": GNU's '/' terminator dropped, long names resolved */
    uint64_t offset;         /* of its data in the archive */
    hp_rd data;              /* its bytes, inside the archive's */
} hp_ar_member;

typedef struct hp_ar {
    uint32_t count;
    hp_ar_member *members;   /* in archive order: the symbol indexes and the name table left out */
} hp_ar;

/** Whether data starts like an archive ("!<arch>\n", or a thin archive's "!<thin>\n"). */
bool hp_ar_is_archive(const void *data, size_t size);

/**
 * The members of a static archive.
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, HP_E_NOT_FOUND (not an archive), HP_E_AR_THIN (a thin
 *         archive), HP_E_AR_HEADER (a header malformed or a member past the end),
 *         HP_E_AR_NAME (a long name outside the name table or unterminated, or no table).
 */
hp_status hp_ar_parse(hp_ar *out, hp_arena *arena, const void *data, size_t size);

#endif
