/*
 * hotpe: the PE library.
 *
 * One model for PE32 and PE32+ images, read either in file layout (bytes of a .dll/.exe on
 * disk) or in loaded layout (a module's bytes copied from process memory, where RVA ==
 * offset). hp_pe_parse() validates the headers and the section table once; every directory
 * parser after it reads through the bounded RVA accessors below and reports a status that
 * names the structure that is wrong.
 *
 * Memory: results live in a caller-owned hp_arena; hp_pe keeps a pointer to the image bytes,
 * which must outlive it. Nothing here has global state, so separate images can be parsed on
 * separate threads.
 */
#ifndef HOTPE_PE_H
#define HOTPE_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "format.h"
#include "reader.h"
#include "status.h"

/* ------------------------------------------------------------------------------------------ */
/* Image, headers, sections                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef enum hp_pe_layout {
    HP_PE_LAYOUT_FILE,   /* bytes as stored in the file */
    HP_PE_LAYOUT_LOADED, /* bytes as mapped by the loader: offset == RVA */
} hp_pe_layout;

typedef struct hp_pe_section {
    const char *name;     /* long "/N" names resolved through the COFF string table */
    uint8_t raw_name[8];
    uint32_t virtual_address;
    uint32_t virtual_size;
    uint32_t raw_offset;  /* PointerToRawData */
    uint32_t raw_size;    /* SizeOfRawData */
    uint32_t characteristics;
} hp_pe_section;

typedef struct hp_pe_dir {
    uint32_t rva, size;
} hp_pe_dir;

typedef struct hp_pe {
    hp_rd rd;              /* every byte of the image, file or loaded layout */
    hp_pe_layout layout;
    bool pe32plus;         /* PE32+ (x64) rather than PE32 */

    /* offsets of the headers, for the writer and the checksum */
    uint32_t nt_offset;            /* e_lfanew */
    uint32_t opt_offset;           /* optional header */
    uint32_t section_table_offset;

    /* file header */
    uint16_t machine;              /* HP_IMAGE_FILE_MACHINE_* */
    uint16_t characteristics;
    uint32_t timestamp;
    uint32_t symbol_table_offset;  /* PointerToSymbolTable */
    uint32_t symbol_count;
    uint16_t opt_header_size;

    /* optional header, normalized to 64-bit */
    uint8_t linker_major, linker_minor;
    uint32_t size_of_code;
    uint32_t entry_point;          /* AddressOfEntryPoint, 0 if none */
    uint32_t base_of_code;
    uint64_t image_base;
    uint32_t section_alignment, file_alignment;
    uint16_t os_major, os_minor, subsystem_major, subsystem_minor;
    uint32_t size_of_image, size_of_headers, checksum;
    uint16_t subsystem, dll_characteristics;
    uint64_t stack_reserve, stack_commit, heap_reserve, heap_commit;
    uint32_t dir_count;            /* NumberOfRvaAndSizes as stored */
    hp_pe_dir dirs[HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES]; /* past dir_count: zero */

    uint16_t section_count;
    hp_pe_section *sections;
} hp_pe;

/**
 * Parse and validate the headers and section table.
 * @param pe      out: the image model
 * @param arena   in/out: holds the section array and names
 * @param data    in: the image bytes; must outlive pe
 * @param size    in: their count
 * @param layout  in: file or loaded layout
 * @return HP_OK, or the status naming the broken header (HP_E_DOS_*, HP_E_LFANEW, HP_E_NT_*,
 *         HP_E_OPT_*, HP_E_SECTION_*, HP_E_ALIGNMENT, HP_E_IMAGE_SIZE, HP_E_NOMEM).
 */
hp_status hp_pe_parse(hp_pe *pe, hp_arena *arena, const void *data, size_t size,
                      hp_pe_layout layout);

/** "x86", "x64" or "unknown". */
const char *hp_pe_machine_name(const hp_pe *pe);

/** The section whose virtual range holds rva, or NULL. */
const hp_pe_section *hp_pe_section_of(const hp_pe *pe, uint32_t rva);
/** The section named exactly name (8 bytes compared as stored, or the long name), or NULL. */
const hp_pe_section *hp_pe_section_by_name(const hp_pe *pe, const char *name);

/** A data directory, or {0, 0} when the index is past NumberOfRvaAndSizes. */
hp_pe_dir hp_pe_dir_get(const hp_pe *pe, unsigned index);

/**
 * How many bytes at rva are backed by image bytes (file data of one section or the headers,
 * or the buffer in loaded layout), and where they start in pe->rd. Bytes of a section past its
 * raw data (zero-filled by the loader) are not backed.
 * @return HP_OK or HP_E_RVA.
 */
hp_status hp_pe_rva_to_offset(const hp_pe *pe, uint32_t rva, uint64_t *offset, uint64_t *avail);

/** A view of the n image bytes at rva, all backed; HP_E_RVA otherwise. */
hp_status hp_pe_rva_view(const hp_pe *pe, uint32_t rva, uint64_t n, hp_rd *out);
/** Little-endian reads at an RVA; HP_E_RVA when not backed. */
hp_status hp_pe_rva_u16(const hp_pe *pe, uint32_t rva, uint16_t *out);
hp_status hp_pe_rva_u32(const hp_pe *pe, uint32_t rva, uint32_t *out);
hp_status hp_pe_rva_u64(const hp_pe *pe, uint32_t rva, uint64_t *out);
/** A pointer-sized value (4 bytes in PE32, 8 in PE32+). */
hp_status hp_pe_rva_ptr(const hp_pe *pe, uint32_t rva, uint64_t *out);
/** A NUL-terminated string at rva of at most max bytes, copied into the arena. */
hp_status hp_pe_rva_str(const hp_pe *pe, hp_arena *arena, uint32_t rva, size_t max,
                        const char **out);
/** VA to RVA against ImageBase; HP_E_RVA when below the base or past SizeOfImage. */
hp_status hp_pe_va_to_rva(const hp_pe *pe, uint64_t va, uint32_t *rva);

/* ------------------------------------------------------------------------------------------ */
/* Exports (exports.c)                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_pe_export {
    uint32_t ordinal;        /* Base + index */
    uint32_t rva;            /* 0: unused slot */
    const char *name;        /* first name that points at this slot, or NULL */
    const char *forwarder;   /* "DLL.Name" or "DLL.#N" when rva lies in the directory, else NULL */
} hp_pe_export;

typedef struct hp_pe_export_name {
    const char *name;
    uint32_t index;          /* into entries */
} hp_pe_export_name;

typedef struct hp_pe_exports {
    bool present;
    const char *dll_name;    /* NULL when Name is 0 */
    uint32_t timestamp;
    uint32_t ordinal_base;
    uint32_t count;          /* NumberOfFunctions */
    hp_pe_export *entries;
    uint32_t name_count;     /* NumberOfNames, in the file's (sorted) order */
    hp_pe_export_name *names;
} hp_pe_exports;

/** Parse the export directory. present=false and HP_OK when there is none. */
hp_status hp_pe_exports_parse(const hp_pe *pe, hp_arena *arena, hp_pe_exports *out);
/** The entry exported under name, or NULL. */
const hp_pe_export *hp_pe_exports_find(const hp_pe_exports *ex, const char *name);
/**
 * Follow forwarders that point back into this same DLL until code or data is reached.
 * @return HP_OK with *out set (which may still be a forwarder to another DLL),
 *         HP_E_NOT_FOUND, or HP_E_EXPORT_FORWARDER_LOOP.
 */
hp_status hp_pe_exports_resolve(const hp_pe_exports *ex, const char *name,
                                const hp_pe_export **out);

/* ------------------------------------------------------------------------------------------ */
/* Imports and delay-load imports (imports.c)                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_pe_import {
    const char *name;        /* NULL when imported by ordinal */
    uint16_t hint;
    uint16_t ordinal;        /* when by ordinal */
    bool by_ordinal;
    uint32_t iat_rva;        /* the IAT slot this import is bound through */
} hp_pe_import;

typedef struct hp_pe_import_dll {
    const char *dll_name;
    bool delay_load;
    uint32_t ilt_rva;        /* OriginalFirstThunk / ImportNameTableRVA (0 if absent) */
    uint32_t iat_rva;        /* FirstThunk / ImportAddressTableRVA */
    uint32_t count;
    hp_pe_import *imports;
} hp_pe_import_dll;

typedef struct hp_pe_imports {
    uint32_t count;
    hp_pe_import_dll *dlls;
} hp_pe_imports;

/** Parse the import directory (delay=false) or the delay-load directory (delay=true). */
hp_status hp_pe_imports_parse(const hp_pe *pe, hp_arena *arena, bool delay, hp_pe_imports *out);

/* ------------------------------------------------------------------------------------------ */
/* Base relocations (relocs.c)                                                                */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_pe_reloc {
    uint32_t rva;
    uint8_t type;            /* HP_IMAGE_REL_BASED_*; ABSOLUTE padding entries are kept */
} hp_pe_reloc;

typedef struct hp_pe_relocs {
    uint32_t count;
    hp_pe_reloc *entries;
    uint32_t block_count;
} hp_pe_relocs;

hp_status hp_pe_relocs_parse(const hp_pe *pe, hp_arena *arena, hp_pe_relocs *out);

/* ------------------------------------------------------------------------------------------ */
/* x64 exception directory (pdata.c)                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_pe_runtime_function {
    uint32_t begin, end, unwind;
} hp_pe_runtime_function;

typedef struct hp_pe_pdata {
    uint32_t count;
    hp_pe_runtime_function *entries;
} hp_pe_pdata;

hp_status hp_pe_pdata_parse(const hp_pe *pe, hp_arena *arena, hp_pe_pdata *out);
/**
 * Follow chained unwind info (UNW_FLAG_CHAININFO) from rf to the function that owns it.
 * @param primary out: the RUNTIME_FUNCTION at the end of the chain (rf itself when unchained)
 * @return HP_OK, or HP_E_UNWIND when unwind info is outside the image or the chain exceeds
 *         32 links.
 */
hp_status hp_pe_unwind_primary(const hp_pe *pe, const hp_pe_runtime_function *rf,
                               hp_pe_runtime_function *primary);

/* ------------------------------------------------------------------------------------------ */
/* Load config and CFG (loadcfg.c)                                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_pe_guard_entry {
    uint32_t rva;
    uint8_t flags;           /* the first metadata byte (IMAGE_GUARD_FLAG_*), 0 if stride 4 */
} hp_pe_guard_entry;

typedef struct hp_pe_guard_table {
    uint64_t count;
    hp_pe_guard_entry *entries;
} hp_pe_guard_table;

typedef struct hp_pe_loadcfg {
    bool present;
    uint32_t dir_size;       /* size in the data directory */
    uint32_t size;           /* the structure's own Size field */
    /* Every field, widened to the 64-bit layout; fields past Size read as zero. */
    HP_IMAGE_LOAD_CONFIG_DIRECTORY64 f;
    uint32_t guard_stride;   /* bytes per CFG table entry: 4 + metadata bytes */
    hp_pe_guard_table cf_functions;   /* GuardCFFunctionTable */
    hp_pe_guard_table iat_entries;    /* GuardAddressTakenIatEntryTable */
    hp_pe_guard_table longjmp_targets;/* GuardLongJumpTargetTable */
    hp_pe_guard_table ehcont_targets; /* GuardEHContinuationTable */
} hp_pe_loadcfg;

hp_status hp_pe_loadcfg_parse(const hp_pe *pe, hp_arena *arena, hp_pe_loadcfg *out);
/** Whether the image's load config is long enough to hold the field at this 64-bit offset. */
bool hp_pe_loadcfg_has(const hp_pe *pe, const hp_pe_loadcfg *lc, size_t offset64);
#define HP_PE_LOADCFG_HAS(pe, lc, field) \
    hp_pe_loadcfg_has((pe), (lc), offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, field))

/* ------------------------------------------------------------------------------------------ */
/* COFF symbol table (symbols.c)                                                              */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_pe_symbol {
    const char *name;
    uint32_t value;
    int16_t section;         /* 1-based; 0 undefined, -1 absolute, -2 debug */
    uint16_t type;
    uint8_t storage_class;
    uint8_t aux_count;
} hp_pe_symbol;

typedef struct hp_pe_symbols {
    uint32_t count;          /* primary records only; aux records are skipped */
    hp_pe_symbol *entries;
} hp_pe_symbols;

/** File layout only (the table is not mapped); count 0 when the image has none. */
hp_status hp_pe_symbols_parse(const hp_pe *pe, hp_arena *arena, hp_pe_symbols *out);
/** A function symbol defined in a section: its RVA, or false. */
bool hp_pe_symbol_function_rva(const hp_pe *pe, const hp_pe_symbol *sym, uint32_t *rva);

/* ------------------------------------------------------------------------------------------ */
/* Debug directory and CodeView (debug.c)                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_pe_debug_entry {
    uint32_t type, size, rva, file_offset, timestamp;
    uint16_t major, minor;
} hp_pe_debug_entry;

typedef struct hp_pe_codeview {
    bool present;
    uint8_t guid[16];
    uint32_t age;
    const char *path;
} hp_pe_codeview;

typedef struct hp_pe_debug {
    uint32_t count;
    hp_pe_debug_entry *entries;
    hp_pe_codeview codeview; /* the first RSDS record */
} hp_pe_debug;

hp_status hp_pe_debug_parse(const hp_pe *pe, hp_arena *arena, hp_pe_debug *out);

/* ------------------------------------------------------------------------------------------ */
/* Hotpatch metadata (hotpatch.c)                                                             */
/* ------------------------------------------------------------------------------------------ */

typedef struct hp_pe_hotp_hook {
    uint16_t type, options;
    uint32_t hook_rva, hotp_rva, validation_rva;
} hp_pe_hotp_hook;

typedef struct hp_pe_hotp_validation {
    uint32_t source_rva, target_rva;
    uint16_t byte_count, options;
    const uint8_t *bytes;    /* byte_count expected bytes, copied into the arena */
} hp_pe_hotp_validation;

typedef struct hp_pe_hotp_fixup {
    uint32_t rva;            /* in the patch image */
    uint8_t type;            /* HP_HOTP_Fixup_* */
} hp_pe_hotp_fixup;

typedef struct hp_pe_hotp {
    bool present;
    uint32_t header_rva;
    uint64_t orig_hotp_base, orig_target_base;
    const char *target_name; /* NULL when TargetNameRva is 0 */
    uint32_t module_id_method;
    uint8_t module_id[20];
    uint32_t hook_count;
    hp_pe_hotp_hook *hooks;
    uint32_t validation_count;
    hp_pe_hotp_validation *validations;
    uint32_t fixup_count;    /* entries over all regions, type-None padding dropped */
    hp_pe_hotp_fixup *fixups;
    uint32_t fixup_region_count;
} hp_pe_hotp;

typedef struct hp_pe_hotpatch_info {
    bool present;
    uint32_t rva;            /* from HotPatchTableOffset */
    HP_IMAGE_HOT_PATCH_INFO info; /* fields past the version read as zero */
    uint32_t base_count;
    HP_IMAGE_HOT_PATCH_BASE *bases;
} hp_pe_hotpatch_info;

/** The legacy .hotp1 metadata; present=false and HP_OK when the section is absent. */
hp_status hp_pe_hotp_parse(const hp_pe *pe, hp_arena *arena, hp_pe_hotp *out);
/** The modern IMAGE_HOT_PATCH_INFO reached from lc; present=false when HotPatchTableOffset is 0. */
hp_status hp_pe_hotpatch_info_parse(const hp_pe *pe, const hp_pe_loadcfg *lc, hp_arena *arena,
                                    hp_pe_hotpatch_info *out);

/* ------------------------------------------------------------------------------------------ */
/* Writer and checksum (writer.c)                                                             */
/* ------------------------------------------------------------------------------------------ */

/** The PE checksum of a file-layout image: the CheckSum field itself is skipped. */
uint32_t hp_pe_checksum(const hp_pe *pe);

typedef struct hp_pe_new_section {
    const char *name;        /* at most 8 bytes */
    uint32_t characteristics;
    const void *data;
    uint32_t data_size;
    uint32_t virtual_size;   /* 0: data_size */
} hp_pe_new_section;

/**
 * Write a copy of a file-layout image with one more section after the last one. Headers,
 * SizeOfImage, SizeOfInitializedData/SizeOfCode and the checksum are updated; anything stored
 * after the last section's raw data (COFF symbols, certificates) moves behind the new data.
 * @param out       out: malloc'd bytes of the new image; free() them
 * @param out_size  out: their count
 * @param rva       out (opt): the new section's RVA
 * @return HP_OK, HP_E_WRITE_LAYOUT, HP_E_WRITE_NAME, HP_E_WRITE_NO_ROOM, HP_E_OVERFLOW,
 *         HP_E_NOMEM.
 */
hp_status hp_pe_add_section(const hp_pe *pe, const hp_pe_new_section *sec, uint8_t **out,
                            size_t *out_size, uint32_t *rva);

#endif
