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

#include "hotpe/pe/arena.h"
#include "hotpe/pe/format.h"
#include "hotpe/pe/reader.h"
#include "hotpe/status.h"

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

/**
 * Parse the export directory. present=false and HP_OK when there is none. Every array must be
 * backed by image bytes; names (and forwarder strings) must end with a NUL within 4096 bytes.
 * @return HP_OK, HP_E_DIR_RANGE, HP_E_EXPORT_DIR (header or arrays not backed, Base + count
 *         past 32 bits), HP_E_EXPORT_NAME, HP_E_EXPORT_ORDINAL (a name ordinal past
 *         NumberOfFunctions), HP_E_NOMEM.
 */
hp_status hp_pe_exports_parse(const hp_pe *pe, hp_arena *arena, hp_pe_exports *out);
/** The entry exported under name (case-sensitive), or NULL. */
const hp_pe_export *hp_pe_exports_find(const hp_pe_exports *ex, const char *name);
/**
 * Follow forwarders that point back into this same DLL until code or data is reached. A
 * forwarder names this DLL when its part before the last '.' equals dll_name, with or without
 * ".dll", ignoring ASCII case; "DLL.#N" designates ordinal N.
 * @return HP_OK with *out set (which may still be a forwarder to another DLL),
 *         HP_E_NOT_FOUND (name, or a same-DLL forwarder's target, not exported), or
 *         HP_E_EXPORT_FORWARDER_LOOP (a cycle, or more than 64 same-DLL hops).
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

/**
 * Parse the import directory (delay=false) or the delay-load directory (delay=true). As the
 * loader does, the descriptor list ends at the first descriptor whose name or IAT is 0 (the
 * all-zero one in well-formed images); names come from the lookup table (the IAT when there is
 * none). Old delay descriptors (Attributes bit 0 clear) hold VAs, converted to RVAs here.
 * @return HP_OK (count 0 without a directory), HP_E_IMPORT_DIR / HP_E_DELAY_IMPORT_DIR
 *         (descriptor not backed; for imports also a thunk array), HP_E_DELAY_IMPORT_THUNK,
 *         HP_E_IMPORT_NAME / HP_E_DELAY_IMPORT_NAME (name not backed, unterminated or over
 *         4096 bytes), HP_E_NOMEM.
 */
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

/**
 * Parse the base relocation directory: blocks of {VirtualAddress, SizeOfBlock} and u16
 * entries, in order. HIGHADJ's parameter slot is consumed, not listed.
 * @return HP_OK (count 0 without a directory), HP_E_DIR_RANGE (directory not backed),
 *         HP_E_RELOC_BLOCK (SizeOfBlock below 8, odd or past the directory; a short tail),
 *         HP_E_RELOC_TYPE (a type the loader refuses for this machine), HP_E_RELOC_TARGET,
 *         HP_E_NOMEM.
 */
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

/**
 * The RUNTIME_FUNCTIONs of an x64 image's exception directory, in file order; count 0 and
 * HP_OK when there is none. Empty entries (begin == end) are kept: GCC emits them.
 * @return HP_OK, HP_E_PDATA (size not a multiple of 12, entries not backed by the image,
 *         BeginAddress > EndAddress or EndAddress past SizeOfImage), HP_E_UNSUPPORTED (the
 *         directory in a non-x64 image), HP_E_NOMEM.
 */
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
    uint32_t guard_stride;   /* bytes per entry of all four tables: 4 + metadata bytes */
    hp_pe_guard_table cf_functions;   /* GuardCFFunctionTable */
    hp_pe_guard_table iat_entries;    /* GuardAddressTakenIatEntryTable */
    hp_pe_guard_table longjmp_targets;/* GuardLongJumpTargetTable */
    hp_pe_guard_table ehcont_targets; /* GuardEHContinuationTable */
} hp_pe_loadcfg;

/**
 * Parse the load config directory and its CFG tables. The structure's own Size field decides
 * which fields exist; x86 images may keep the legacy 64 in the directory size.
 * @return HP_OK (present=false when there is no directory), HP_E_DIR_RANGE, HP_E_LOADCFG_SIZE
 *         (Size past the directory or the backed bytes), HP_E_LOADCFG_TABLE, HP_E_NOMEM.
 */
hp_status hp_pe_loadcfg_parse(const hp_pe *pe, hp_arena *arena, hp_pe_loadcfg *out);

/** One load config field: its winnt.h name and its place in both layouts. */
typedef struct hp_pe_loadcfg_field {
    const char *name;
    uint16_t offset32, width32;  /* in HP_IMAGE_LOAD_CONFIG_DIRECTORY32 */
    uint16_t offset64, width64;  /* in HP_IMAGE_LOAD_CONFIG_DIRECTORY64, i.e. in hp_pe_loadcfg.f */
} hp_pe_loadcfg_field;
/** Every load config field in the order of the 64-bit layout; *count (opt) gets their number. */
const hp_pe_loadcfg_field *hp_pe_loadcfg_fields(size_t *count);
/** One field of lc->f, widened (0 when the image's Size does not reach it). */
uint64_t hp_pe_loadcfg_value(const hp_pe_loadcfg *lc, const hp_pe_loadcfg_field *field);
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

/**
 * The COFF symbol table (PointerToSymbolTable / NumberOfSymbols, 18-byte records), in table
 * order. File layout only (the loader does not map it): count 0 and HP_OK in loaded layout or
 * when the image has none. Short names are up to 8 bytes, long ones come from the string table.
 * @return HP_OK, HP_E_SYMBOLS (table outside the file), HP_E_SYMBOL_AUX (aux records past
 *         NumberOfSymbols), HP_E_STRING_TABLE (a long name outside the string table or
 *         unterminated), HP_E_NOMEM.
 */
hp_status hp_pe_symbols_parse(const hp_pe *pe, hp_arena *arena, hp_pe_symbols *out);
/**
 * A function symbol (Type >> 4 == DTYPE_FUNCTION) defined in a section (1..NumberOfSections,
 * Value inside the section): true and its RVA (section VA + Value) in *rva (opt); else false.
 */
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

/**
 * The debug directory (28-byte entries) and its first CodeView RSDS record: GUID, age, path.
 * Entry data is read through PointerToRawData in file layout (AddressOfRawData when that is
 * 0) and through AddressOfRawData in loaded layout; data the layout does not hold is skipped.
 * Non-RSDS CodeView records (NB10) leave codeview.present false; a path without its NUL ends
 * with the record.
 * @return HP_OK (count 0 without a directory), HP_E_DEBUG_DIR_SIZE (size not a multiple of
 *         28, or the directory not backed), HP_E_DEBUG_DIR (an entry's data outside the file or
 *         image), HP_E_CODEVIEW (an RSDS record shorter than 24 bytes, or a CodeView record
 *         shorter than its signature), HP_E_NOMEM.
 */
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

/**
 * The legacy .hotp1 metadata; present=false and HP_OK when no section is named ".hotp1  ".
 * Every array must be backed by the patch image's bytes; hook patch RVAs (but X86_JMP2B's
 * displacement), validation sources and fixup targets must lie inside the patch image. Zero
 * counts are returned as they are (refusing a patch without hooks is the applier's call).
 * @return HP_OK, HP_E_HOTP_SECTION (section under 0x50 bytes or header not backed),
 *         HP_E_HOTP_HEADER (signature or version), HP_E_HOTP_ARRAY (hook, validation or fixup
 *         array not backed), HP_E_HOTP_HOOK, HP_E_HOTP_VALIDATION, HP_E_HOTP_FIXUP (region
 *         truncated, unknown type or target outside the image), HP_E_HOTP_NAME, HP_E_NOMEM.
 */
hp_status hp_pe_hotp_parse(const hp_pe *pe, hp_arena *arena, hp_pe_hotp *out);
/**
 * The modern IMAGE_HOT_PATCH_INFO reached from lc; present=false when the load config is
 * absent, too short for HotPatchTableOffset, or that field is 0. Version-gated fields (and a
 * base's BufferOffset before version 2) read as zero. The info's Size must cover the info, the
 * BaseImageList array of u32 offsets (from the info) and every base they point to.
 * @return HP_OK, HP_E_HOTP_INFO (not backed, version 0, Size too small, list or a base
 *         outside Size), HP_E_NOMEM.
 */
hp_status hp_pe_hotpatch_info_parse(const hp_pe *pe, const hp_pe_loadcfg *lc, hp_arena *arena,
                                    hp_pe_hotpatch_info *out);

/* ------------------------------------------------------------------------------------------ */
/* Writer and checksum (writer.c)                                                             */
/* ------------------------------------------------------------------------------------------ */

/**
 * The PE checksum of a file-layout image: 16-bit words summed with end-around carry over the
 * whole file (an odd last byte as the low half of a word), the CheckSum field counted as zero,
 * plus the file length.
 */
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
 * The new header must fit, on zero bytes, before SizeOfHeaders and every section's raw data;
 * a section without data (data_size 0, virtual_size > 0) gets no raw data and moves nothing.
 * @param out       out: malloc'd bytes of the new image; free() them
 * @param out_size  out: their count
 * @param rva       out (opt): the new section's RVA
 * @return HP_OK, HP_E_ARG (a NULL argument, data NULL with data_size > 0, or both sizes 0),
 *         HP_E_WRITE_LAYOUT, HP_E_WRITE_NAME, HP_E_WRITE_NO_ROOM, HP_E_OVERFLOW (offsets or
 *         sizes past 32 bits), HP_E_NOMEM.
 */
hp_status hp_pe_add_section(const hp_pe *pe, const hp_pe_new_section *sec, uint8_t **out,
                            size_t *out_size, uint32_t *rva);

/* ------------------------------------------------------------------------------------------ */
/* hotpe's import section, .hotpei (setdll.c writes it, setdll_find.c reads it)               */
/* ------------------------------------------------------------------------------------------ */

/**
 * Write a copy of a file-layout image that the Windows loader starts with one more DLL (the
 * Detours "setdll" way): a new last section ".hotpei" (initialized data, read and write: the
 * loader writes its IAT) holds an HP_SETDLL_HEADER recording the original SizeOfImage,
 * CheckSum and the import, bound import and certificate directories, then a new import
 * directory: the original descriptors in order, one for dll importing symbol by name (hint 0;
 * its own lookup table and IAT in the section), and the terminator. The IMPORT directory
 * points at it; BOUND_IMPORT is cleared (its bindings would be stale) and so is a bound
 * descriptor's TimeDateStamp and ForwarderChain when it has a lookup table to resolve from.
 * SECURITY is cleared too: the image's Authenticode signature no longer matches it, so a
 * signed image comes out unsigned (the certificate bytes stay in the file, unreferenced, after
 * the new section). The CheckSum is recomputed. TimeDateStamp, the CodeView record and every
 * other section's bytes are unchanged, so hp_pe_build_identity() names the original build.
 * @param dll, symbol  in: 1 to 255 bytes each, e.g. HP_WIRE_SHIM_NAME and
 *                     HP_WIRE_REGISTRY_EXPORT (engine/wire.h)
 * @param out          out: malloc'd bytes of the new image; free() them
 * @param out_size     out: their count
 * @return HP_OK, HP_E_ARG (a NULL argument or a name's length), HP_E_WRITE_LAYOUT,
 *         HP_E_SETDLL_ALREADY (a .hotpei section is there already), HP_E_UNSUPPORTED
 *         (NumberOfRvaAndSizes below 2: no import directory slot), HP_E_IMAGE_SIZE
 *         (SizeOfImage past the last section's aligned end: the new section would not start
 *         at the recorded size), the original import directory's status (HP_E_IMPORT_DIR,
 *         HP_E_IMPORT_NAME), HP_E_WRITE_NO_ROOM, HP_E_OVERFLOW, HP_E_NOMEM. Nothing is written
 *         on failure.
 */
hp_status hp_pe_setdll_add(const hp_pe *pe, const char *dll, const char *symbol, uint8_t **out,
                           size_t *out_size);

typedef struct hp_pe_setdll {
    uint32_t rva;            /* of the section and its header */
    HP_SETDLL_HEADER rec;    /* version 1's fields as stored */
} hp_pe_setdll;

/**
 * Find and check the .hotpei section of an image, file or loaded layout. Checked: it is the
 * last section, its header is backed, Magic, Version (1 or later), Size (the version-1 header
 * to the section's end), the section starts at OrigSizeOfImage rounded up to SectionAlignment
 * (where hp_pe_setdll_add put it), and the IMPORT directory points into it.
 * @return HP_OK, HP_E_NOT_FOUND (no .hotpei section), HP_E_SETDLL_MARKER (one that fails a
 *         check), HP_E_ARG.
 */
hp_status hp_pe_setdll_find(const hp_pe *pe, hp_pe_setdll *out);

/** What names a build of an image across hotpe's rewrite (with the CodeView record, which the
 *  rewrite keeps). */
typedef struct hp_pe_identity {
    uint32_t timestamp;      /* TimeDateStamp */
    uint32_t size_of_image;
    uint32_t checksum;
    bool rewritten;          /* it carries .hotpei: size_of_image and checksum are its originals */
} hp_pe_identity;

/**
 * The build identity of an image, file or loaded layout: its header's TimeDateStamp,
 * SizeOfImage and CheckSum, or with a sane .hotpei the SizeOfImage and CheckSum it had before
 * hp_pe_setdll_add. Every comparison or record of a base image's identity goes through this.
 * @return HP_OK, HP_E_SETDLL_MARKER (a damaged .hotpei: out holds the header's values, which
 *         name no build the image was), HP_E_ARG.
 */
hp_status hp_pe_build_identity(const hp_pe *pe, hp_pe_identity *out);

#endif
