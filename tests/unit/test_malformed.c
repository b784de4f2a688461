/*
 * Unit tests: malformed images. One table row per case: a short name, which arches and
 * layouts it applies to, the parser it exercises, a mutation applied to a good image (the
 * mkpe_sample image, which has every directory), and the exact status expected.
 *
 * Each case first checks that the unmutated image parses (so the mutation alone causes the
 * failure), then applies the mutation and compares status names. Check runs each case in a
 * forked child, so a crash fails that case; `make unit` also runs this under ASan+UBSan.
 * After the table, sweeps truncate the image at every length and set bytes all over it to
 * edge values, running every parser: no crash, no status outside the list.
 */
#include <string.h>

#include "harness.h"
#include "mkpe_sample.h"
#include "hotpe/pe/pe.h"

typedef HP_IMAGE_DOS_HEADER dos_t;
typedef HP_IMAGE_FILE_HEADER fh_t;
typedef HP_IMAGE_OPTIONAL_HEADER32 o32_t;
typedef HP_IMAGE_OPTIONAL_HEADER64 o64_t;
typedef HP_IMAGE_SECTION_HEADER sh_t;

enum { A_X86 = 1, A_X64 = 2, A_BOTH = 3 };
enum { L_FILE = 1, L_LOADED = 2, L_BOTH = 3 };

typedef enum op {
    OP_PARSE,   /* hp_pe_parse only */
    OP_EXPORTS,
    OP_RESOLVE, /* exports, then resolve "Gamma" (a same-DLL forwarder) */
    OP_IMPORTS,
    OP_DELAY,
    OP_RELOCS,
    OP_PDATA,
    OP_UNWIND,  /* pdata, then hp_pe_unwind_primary on every entry */
    OP_LOADCFG,
    OP_SYMBOLS,
    OP_DEBUG,
    OP_HOTP,
    OP_HPI,     /* loadcfg, then hp_pe_hotpatch_info_parse */
    OP_SETDLL,  /* hp_pe_build_identity, which looks for .hotpei */
    OP_COUNT
} op;

static const char *const op_names[OP_COUNT] = {
    "parse", "exports", "resolve", "imports", "delay-imports", "relocs", "pdata",
    "unwind", "loadcfg", "symbols", "debug", "hotp", "hotpatch-info", "setdll",
};

/* A case's image: the sample, built in one layout, and helpers addressing it. */
typedef struct fx {
    mkpe_sample m;
    mkpe_image img;
    bool loaded;
} fx;

/* ------------------------------------------------------------------------------------------ */
/* Mutation helpers                                                                           */
/* ------------------------------------------------------------------------------------------ */

static bool x64(const fx *f) { return f->m.spec.pe32plus; }
static uint32_t opt_off(const fx *f) { return mkpe_off_opt(&f->m.spec); }
static uint32_t fh_off(const fx *f) { return mkpe_off_file_header(&f->m.spec); }
static uint32_t sec_off(const fx *f, unsigned i) { return mkpe_off_section_header(&f->m.spec, i); }
static unsigned last_sec(const fx *f) { return f->m.spec.section_count - 1; }
static uint32_t image_size(const fx *f) { return mkpe_image_size(&f->m.spec); }
/* Where an RVA of the sample lives in this case's buffer. */
static uint32_t at(const fx *f, uint32_t rva) { return mkpe_sample_offset(&f->m, rva, f->loaded); }

#define PUT_FH(f, field, v) MKPE_PUT(&(f)->img, fh_off(f), fh_t, field, (v))
#define PUT_OPT(f, field, v)                                          \
    do {                                                              \
        if (x64(f))                                                   \
            MKPE_PUT(&(f)->img, opt_off(f), o64_t, field, (v));       \
        else                                                          \
            MKPE_PUT(&(f)->img, opt_off(f), o32_t, field, (v));       \
    } while (0)
#define PUT_SEC(f, i, field, v) MKPE_PUT(&(f)->img, sec_off(f, i), sh_t, field, (v))
/* A field of a format.h struct at an RVA of the sample. */
#define PUT_AT(f, rva, type, field, v) MKPE_PUT(&(f)->img, at(f, rva), type, field, (v))

static void put_dir(fx *f, unsigned index, uint32_t rva, uint32_t size)
{
    mkpe_w32(&f->img, mkpe_off_dir(&f->m.spec, index), rva);
    mkpe_w32(&f->img, mkpe_off_dir(&f->m.spec, index) + 4, size);
}

static void put32(fx *f, uint32_t rva, uint32_t v) { mkpe_w32(&f->img, at(f, rva), v); }
static void put16(fx *f, uint32_t rva, uint16_t v) { mkpe_w16(&f->img, at(f, rva), v); }
static void put_str(fx *f, uint32_t rva, const char *s)
{
    memcpy(f->img.data + at(f, rva), s, strlen(s) + 1);
}
static void put_ptr(fx *f, uint32_t rva, uint64_t v)
{
    mkpe_wn(&f->img, at(f, rva), v, x64(f) ? 8 : 4);
}

/*
 * An RVA whose bytes run, without a NUL, to the end of what is backed: the 4 bytes that end
 * .rdata in a file; in a loaded copy (zero-filled after .rdata) the last 4 bytes of the buffer.
 */
static uint32_t unterminated(fx *f)
{
    if (!f->loaded)
        return f->m.rva.tail;
    memcpy(f->img.data + f->img.size - 4, "ZZZZ", 4);
    return (uint32_t)f->img.size - 4;
}

/* An RVA far outside the sample image (SizeOfImage is a few pages). */
#define FAR_RVA 0x7ffff000u

#define MUT(name) static void name(fx *f)

/* ------------------------------------------------------------------------------------------ */
/* Header mutations                                                                           */
/* ------------------------------------------------------------------------------------------ */

MUT(m_none) { (void)f; }
MUT(m_empty) { mkpe_truncate(&f->img, 0); }
MUT(m_one_byte) { mkpe_truncate(&f->img, 1); }
MUT(m_dos_cut) { mkpe_truncate(&f->img, 0x30); }
MUT(m_dos_only_mz) { mkpe_truncate(&f->img, 2); }
MUT(m_bad_mz) { MKPE_PUT(&f->img, 0, dos_t, e_magic, 0x5a4e); }
MUT(m_lfanew_end) { MKPE_PUT(&f->img, 0, dos_t, e_lfanew, f->img.size); }
MUT(m_lfanew_last2) { MKPE_PUT(&f->img, 0, dos_t, e_lfanew, f->img.size - 2); }
MUT(m_lfanew_huge) { MKPE_PUT(&f->img, 0, dos_t, e_lfanew, 0xfffffff0u); }
MUT(m_lfanew_zero) { MKPE_PUT(&f->img, 0, dos_t, e_lfanew, 0); }
MUT(m_bad_pe_sig) { mkpe_w32(&f->img, mkpe_off_nt(&f->m.spec), 0x01004550); }
MUT(m_nt_cut) { mkpe_truncate(&f->img, mkpe_off_nt(&f->m.spec) + 2); }
MUT(m_fh_cut) { mkpe_truncate(&f->img, fh_off(f) + 10); }
MUT(m_opt_cut) { mkpe_truncate(&f->img, opt_off(f) + 0x20); }
MUT(m_opt_cut_magic) { mkpe_truncate(&f->img, opt_off(f) + 1); }
MUT(m_opt_size_small) { PUT_FH(f, SizeOfOptionalHeader, 0x40); }
MUT(m_opt_size_zero) { PUT_FH(f, SizeOfOptionalHeader, 0); }
MUT(m_opt_magic) { PUT_OPT(f, Magic, 0x107); }
MUT(m_opt_magic_rom) { PUT_OPT(f, Magic, 0x30b); }
MUT(m_machine_swap)
{
    PUT_FH(f, Machine, x64(f) ? HP_IMAGE_FILE_MACHINE_I386 : HP_IMAGE_FILE_MACHINE_AMD64);
}
MUT(m_machine_arm64) { PUT_FH(f, Machine, 0xaa64); }
MUT(m_salign_zero) { PUT_OPT(f, SectionAlignment, 0); }
MUT(m_falign_zero) { PUT_OPT(f, FileAlignment, 0); }
MUT(m_falign_npow2) { PUT_OPT(f, FileAlignment, 0x300); }
MUT(m_salign_npow2) { PUT_OPT(f, SectionAlignment, 0x1800); }
MUT(m_falign_gt_salign) { PUT_OPT(f, FileAlignment, 0x2000); }
MUT(m_image_size_zero) { PUT_OPT(f, SizeOfImage, 0); }
MUT(m_headers_zero) { PUT_OPT(f, SizeOfHeaders, 0); }
MUT(m_headers_gt_image) { PUT_OPT(f, SizeOfHeaders, image_size(f) + 0x200); }
MUT(m_dir_count_past_header)
{
    /* The header holds 8 directories, NumberOfRvaAndSizes claims 16. */
    PUT_FH(f, SizeOfOptionalHeader, (x64(f) ? sizeof(o64_t) : sizeof(o32_t)) + 8 * 8);
}
MUT(m_dir_count_huge) { PUT_OPT(f, NumberOfRvaAndSizes, 0xffffffffu); }
MUT(m_dir_count_zero) { PUT_OPT(f, NumberOfRvaAndSizes, 0); }
MUT(m_nsec_97) { PUT_FH(f, NumberOfSections, 97); }
MUT(m_nsec_96)
{
    PUT_FH(f, NumberOfSections, 96);
    mkpe_truncate(&f->img, sec_off(f, 95) + 20);
}
MUT(m_nsec_max) { PUT_FH(f, NumberOfSections, 0xffff); }
MUT(m_sectable_cut) { mkpe_truncate(&f->img, sec_off(f, 1) + 20); }
MUT(m_sectable_at_end) { mkpe_truncate(&f->img, sec_off(f, 0)); }
MUT(m_raw_past_end) { PUT_SEC(f, last_sec(f), PointerToRawData, f->img.size); }
MUT(m_raw_size_past_end) { PUT_SEC(f, last_sec(f), SizeOfRawData, 0x10000); }
MUT(m_raw_wraps)
{
    PUT_SEC(f, 0, PointerToRawData, 0xfffffe00u);
    PUT_SEC(f, 0, SizeOfRawData, 0x400);
}
MUT(m_file_cut_in_section) { mkpe_truncate(&f->img, f->img.size - 0x300); }
MUT(m_virtual_wraps)
{
    PUT_SEC(f, last_sec(f), VirtualAddress, 0xfffff000u);
    PUT_SEC(f, last_sec(f), VirtualSize, 0x2000);
}
MUT(m_virtual_past_image) { PUT_SEC(f, last_sec(f), VirtualSize, image_size(f)); }
MUT(m_virtual_huge) { PUT_SEC(f, 0, VirtualSize, 0xffffffffu); }
MUT(m_overlap) { PUT_SEC(f, 1, VirtualAddress, mkpe_section_rva(&f->m.spec, 0)); }
MUT(m_out_of_order)
{
    uint8_t tmp[sizeof(sh_t)];
    memcpy(tmp, f->img.data + sec_off(f, 1), sizeof tmp);
    memcpy(f->img.data + sec_off(f, 1), f->img.data + sec_off(f, 2), sizeof tmp);
    memcpy(f->img.data + sec_off(f, 2), tmp, sizeof tmp);
}
MUT(m_section_in_headers) { PUT_SEC(f, 0, VirtualAddress, 0); }

/* ------------------------------------------------------------------------------------------ */
/* Directory mutations                                                                        */
/* ------------------------------------------------------------------------------------------ */

#define R (f->m.rva)

/* exports */
MUT(m_exp_dir_outside) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, image_size(f) + 0x1000, 40); }
MUT(m_exp_dir_wraps) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, R.exp_dir, 0xfffff000u); }
MUT(m_exp_dir_unbacked)
{
    /* Inside SizeOfImage, but in the zero-fill past .rdata's raw data. */
    put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, mkpe_section_rva(&f->m.spec, f->m.rdata) + 0xff0, 40);
}
MUT(m_exp_funcs_outside) { PUT_AT(f, R.exp_dir, HP_IMAGE_EXPORT_DIRECTORY, AddressOfFunctions, FAR_RVA); }
MUT(m_exp_names_outside) { PUT_AT(f, R.exp_dir, HP_IMAGE_EXPORT_DIRECTORY, AddressOfNames, FAR_RVA); }
MUT(m_exp_nfuncs_huge) { PUT_AT(f, R.exp_dir, HP_IMAGE_EXPORT_DIRECTORY, NumberOfFunctions, 0x40000000); }
MUT(m_exp_ordinal_wraps)
{
    PUT_AT(f, R.exp_dir, HP_IMAGE_EXPORT_DIRECTORY, Base, 0xfffffffeu);
}
MUT(m_exp_name_outside) { put32(f, R.exp_names + 4, FAR_RVA); }
MUT(m_exp_name_unterminated) { put32(f, R.exp_names + 12, unterminated(f)); }
MUT(m_exp_dll_name_unterminated)
{
    PUT_AT(f, R.exp_dir, HP_IMAGE_EXPORT_DIRECTORY, Name, unterminated(f));
}
MUT(m_exp_ordinal_range) { put16(f, R.exp_ords + 2, 5); }
MUT(m_exp_ordinal_huge) { put16(f, R.exp_ords, 0xffff); }
MUT(m_exp_fwd_self) { put_str(f, R.exp_fwd, "sample.Gamma"); }
MUT(m_exp_fwd_self_ordinal) { put_str(f, R.exp_fwd, "SAMPLE.#3"); }
MUT(m_exp_fwd_missing) { put_str(f, R.exp_fwd, "sample.Omega"); }
MUT(m_exp_fwd_other_dll) { put_str(f, R.exp_fwd, "other.Gamma"); }

/* imports */
MUT(m_imp_dir_outside) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_IMPORT, FAR_RVA, 40); }
MUT(m_imp_dir_wraps) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_IMPORT, 0xfffffff0u, 40); }
MUT(m_imp_ilt_outside) { PUT_AT(f, R.imp_desc, HP_IMAGE_IMPORT_DESCRIPTOR, OriginalFirstThunk, FAR_RVA); }
MUT(m_imp_iat_outside)
{
    PUT_AT(f, R.imp_desc, HP_IMAGE_IMPORT_DESCRIPTOR, FirstThunk, image_size(f) - 4);
}
MUT(m_imp_ilt_wraps)
{
    PUT_AT(f, R.imp_desc, HP_IMAGE_IMPORT_DESCRIPTOR, OriginalFirstThunk, 0xfffffffcu);
}
MUT(m_imp_dll_unterminated)
{
    PUT_AT(f, R.imp_desc, HP_IMAGE_IMPORT_DESCRIPTOR, Name, unterminated(f));
}
MUT(m_imp_dll_name_outside) { PUT_AT(f, R.imp_desc, HP_IMAGE_IMPORT_DESCRIPTOR, Name, FAR_RVA); }
MUT(m_imp_func_unterminated) { put_ptr(f, R.imp_ilt, unterminated(f) - 2); }
MUT(m_imp_hint_outside) { put_ptr(f, R.imp_ilt, FAR_RVA); }
MUT(m_imp_desc_straddles)
{
    /* 4 bytes of a 20-byte descriptor left before .rdata's file data ends. */
    put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_IMPORT, R.tail, 40);
}
MUT(m_dimp_desc_outside) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT, FAR_RVA, 64); }
MUT(m_dimp_int_outside)
{
    PUT_AT(f, R.dimp_desc, HP_IMAGE_DELAYLOAD_DESCRIPTOR, ImportNameTableRVA, FAR_RVA);
}
MUT(m_dimp_name_unterminated)
{
    PUT_AT(f, R.dimp_desc, HP_IMAGE_DELAYLOAD_DESCRIPTOR, DllNameRVA, unterminated(f));
}
MUT(m_dimp_va_form)
{
    /* Attributes 0: the fields are VAs, and these RVAs lie below ImageBase. */
    PUT_AT(f, R.dimp_desc, HP_IMAGE_DELAYLOAD_DESCRIPTOR, Attributes, 0);
}

/* base relocations */
MUT(m_reloc_block_small) { put32(f, R.reloc + 4, 4); }
MUT(m_reloc_block_zero) { put32(f, R.reloc + 4, 0); }
MUT(m_reloc_block_past_dir) { put32(f, R.reloc + 4, 24); }
MUT(m_reloc_block_odd) { put32(f, R.reloc + 4, 15); }
MUT(m_reloc_dir_short) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC, R.reloc, 20); }
MUT(m_reloc_dir_outside) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC, FAR_RVA, 16); }
MUT(m_reloc_type) { put16(f, R.reloc + 8, 6 << 12); }
MUT(m_reloc_target) { put32(f, R.reloc, image_size(f)); }

/* COFF symbols */
static void put_file32(fx *f, uint32_t off, uint32_t v) { mkpe_w32(&f->img, off, v); }
MUT(m_sym_past_end) { PUT_FH(f, PointerToSymbolTable, f->img.size); }
MUT(m_sym_huge_ptr) { PUT_FH(f, PointerToSymbolTable, 0xfffffff0u); }
MUT(m_sym_count_huge) { PUT_FH(f, NumberOfSymbols, 0x0fffffff); }
MUT(m_sym_aux_past)
{
    MKPE_PUT(&f->img, f->m.symtab_offset + 3 * sizeof(HP_IMAGE_SYMBOL), HP_IMAGE_SYMBOL,
             NumberOfAuxSymbols, 5);
}
MUT(m_strtab_small) { put_file32(f, f->m.strtab_offset, 2); }
MUT(m_strtab_huge) { put_file32(f, f->m.strtab_offset, 0x7fffffff); }
MUT(m_strtab_offset_past)
{
    MKPE_PUT(&f->img, f->m.symtab_offset + 2 * sizeof(HP_IMAGE_SYMBOL), HP_IMAGE_SYMBOL,
             N.Name.Long, 0x1000);
}
MUT(m_strtab_missing) { mkpe_truncate(&f->img, f->m.strtab_offset); }

/* debug directory */
MUT(m_dbg_data_outside)
{
    PUT_AT(f, R.debug_dir, HP_IMAGE_DEBUG_DIRECTORY, PointerToRawData, 0xffffff00u);
    PUT_AT(f, R.debug_dir, HP_IMAGE_DEBUG_DIRECTORY, AddressOfRawData, FAR_RVA);
}
MUT(m_dbg_data_past_file)
{
    PUT_AT(f, R.debug_dir, HP_IMAGE_DEBUG_DIRECTORY, PointerToRawData, f->img.size - 8);
}
MUT(m_dbg_dir_size) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_DEBUG, R.debug_dir, 27); }
MUT(m_dbg_dir_outside) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_DEBUG, FAR_RVA, 28); }
MUT(m_dbg_cv_short) { PUT_AT(f, R.debug_dir, HP_IMAGE_DEBUG_DIRECTORY, SizeOfData, 8); }

/* .hotp1 */
MUT(m_hotp_small) { PUT_SEC(f, f->m.hotp, VirtualSize, 0x40); }
MUT(m_hotp_signature) { PUT_AT(f, R.hotp, HP_HOTPATCH_HEADER, Signature, 0x32544f48); }
MUT(m_hotp_version) { PUT_AT(f, R.hotp, HP_HOTPATCH_HEADER, Version, 0x00020000); }
MUT(m_hotp_hooks_outside) { PUT_AT(f, R.hotp, HP_HOTPATCH_HEADER, HookArrayRva, FAR_RVA); }
MUT(m_hotp_hook_count) { PUT_AT(f, R.hotp, HP_HOTPATCH_HEADER, HookCount, 0x10000000); }
MUT(m_hotp_hook_count_max) { PUT_AT(f, R.hotp, HP_HOTPATCH_HEADER, HookCount, 0xffffffffu); }
MUT(m_hotp_vals_outside) { PUT_AT(f, R.hotp, HP_HOTPATCH_HEADER, ValidationArrayRva, FAR_RVA); }
MUT(m_hotp_fixups_outside) { PUT_AT(f, R.hotp, HP_HOTPATCH_HEADER, FixupRgnRva, FAR_RVA); }
MUT(m_hotp_hook_target) { PUT_AT(f, R.hotp_hooks, HP_HOTPATCH_HOOK, HotpRva, FAR_RVA); }
MUT(m_hotp_hook_validation) { PUT_AT(f, R.hotp_hooks, HP_HOTPATCH_HOOK, ValidationRva, FAR_RVA); }
MUT(m_hotp_val_source) { PUT_AT(f, R.hotp_vals, HP_HOTPATCH_VALIDATION, SourceRva, FAR_RVA); }
MUT(m_hotp_val_count) { PUT_AT(f, R.hotp_vals, HP_HOTPATCH_VALIDATION, ByteCount, 0xffff); }
MUT(m_hotp_fixup_type) { put16(f, R.hotp_fixups + 4, (uint16_t)(7 << 12)); }
MUT(m_hotp_fixup_count) { PUT_AT(f, R.hotp, HP_HOTPATCH_HEADER, FixupRgnCount, 1000); }
MUT(m_hotp_name) { PUT_AT(f, R.hotp, HP_HOTPATCH_HEADER, TargetNameRva, unterminated(f)); }

/* x64 exception directory and unwind info */
MUT(m_pdata_size) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION, R.pdata, 13); }
MUT(m_pdata_outside) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION, FAR_RVA, 36); }
MUT(m_pdata_begin_after_end) { put32(f, R.pdata + 4, R.f0 - 1); }
MUT(m_pdata_end_past_image) { put32(f, R.pdata + 4, image_size(f) + 1); }
MUT(m_pdata_on_x86) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION, R.reloc, 12); }
MUT(m_unwind_outside) { put32(f, R.pdata + 8, FAR_RVA); }
MUT(m_unwind_parent_outside)
{
    /* 254 code slots push the chained parent record past .rdata's data. */
    mkpe_w8(&f->img, at(f, R.unwind2) + offsetof(HP_UNWIND_INFO, CountOfCodes), 254);
}
MUT(m_unwind_chain_loop)
{
    /* The chained record's parent is the chained record itself. */
    put32(f, R.unwind2 + 4 + 8, R.unwind2);
}
MUT(m_unwind_indirect_outside) { put32(f, R.pdata + 8, FAR_RVA | 1); }

/* load config and CFG */
#define PUT_LC(f, field, v)                                                                     \
    do {                                                                                       \
        if (x64(f))                                                                            \
            PUT_AT(f, (f)->m.rva.loadcfg, HP_IMAGE_LOAD_CONFIG_DIRECTORY64, field, (v));       \
        else                                                                                   \
            PUT_AT(f, (f)->m.rva.loadcfg, HP_IMAGE_LOAD_CONFIG_DIRECTORY32, field, (v));       \
    } while (0)
MUT(m_lc_size_past_dir) { PUT_LC(f, Size, R.loadcfg_size + 8); }
MUT(m_lc_size_past_bytes)
{
    PUT_LC(f, Size, 0x10000);
    put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG, R.loadcfg, 0x10000);
}
MUT(m_lc_dir_tiny) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG, R.loadcfg, 2); }
MUT(m_lc_dir_outside) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG, FAR_RVA, 0x40); }
MUT(m_lc_x86_legacy_dir) { put_dir(f, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG, R.loadcfg, 64); }
MUT(m_cfg_table_outside)
{
    PUT_LC(f, GuardCFFunctionTable, mkpe_sample_va(&f->m, FAR_RVA));
}
MUT(m_cfg_table_below_base) { PUT_LC(f, GuardCFFunctionTable, 0x1000); }
MUT(m_cfg_count_huge) { PUT_LC(f, GuardCFFunctionCount, 0x10000000); }
MUT(m_cfg_count_overflow) { PUT_LC(f, GuardCFFunctionCount, UINT64_MAX); }
MUT(m_cfg_stride_past) { PUT_LC(f, GuardFlags, 0xf0000500u); PUT_LC(f, GuardCFFunctionCount, 60); }
MUT(m_lc_short_hides_table)
{
    /* Size 0x40 ends before the CFG fields: a table pointer past it is not read. */
    PUT_LC(f, Size, 0x40);
    PUT_LC(f, GuardCFFunctionTable, mkpe_sample_va(&f->m, FAR_RVA));
}
MUT(m_hpi_outside) { PUT_LC(f, HotPatchTableOffset, FAR_RVA); }
MUT(m_hpi_version) { PUT_AT(f, R.hpi, HP_IMAGE_HOT_PATCH_INFO, Version, 0); }
MUT(m_hpi_size) { PUT_AT(f, R.hpi, HP_IMAGE_HOT_PATCH_INFO, Size, 0x100000); }
MUT(m_hpi_size_small) { PUT_AT(f, R.hpi, HP_IMAGE_HOT_PATCH_INFO, Size, 8); }
MUT(m_hpi_count) { PUT_AT(f, R.hpi, HP_IMAGE_HOT_PATCH_INFO, BaseImageCount, 0x40000000); }
MUT(m_hpi_list) { PUT_AT(f, R.hpi, HP_IMAGE_HOT_PATCH_INFO, BaseImageList, 0xfffffffcu); }
MUT(m_hpi_base_offset)
{
    /* The base list (one offset) follows the v1 header, which ends where BufferOffset would be. */
    put32(f, R.hpi + (uint32_t)offsetof(HP_IMAGE_HOT_PATCH_INFO, BufferOffset), 0x1000);
}

/* A section named .hotpei that is not hotpe's: the last one, or the first. */
static void name_hotpei(fx *f, unsigned i) { memcpy(f->img.data + sec_off(f, i), ".hotpei", 8); }
MUT(m_setdll_last) { name_hotpei(f, f->m.spec.section_count - 1); }
MUT(m_setdll_first) { name_hotpei(f, 0); }

/* Loaded layout: a module copy cut short before .rdata. */
MUT(m_loaded_cut_before_rdata) { mkpe_truncate(&f->img, mkpe_section_rva(&f->m.spec, f->m.rdata)); }

#undef R

/* ------------------------------------------------------------------------------------------ */
/* The table                                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef struct row {
    const char *name;
    unsigned arch, layout;
    op op;
    void (*mut)(fx *);
    hp_status expect;
} row;

static const row rows[] = {
    /* the unmutated image: every parser succeeds */
    { "good image", A_BOTH, L_BOTH, OP_PARSE, m_none, HP_OK },

    /* DOS header */
    { "empty file", A_BOTH, L_BOTH, OP_PARSE, m_empty, HP_E_DOS_TRUNCATED },
    { "one byte", A_BOTH, L_BOTH, OP_PARSE, m_one_byte, HP_E_DOS_TRUNCATED },
    { "only MZ", A_BOTH, L_BOTH, OP_PARSE, m_dos_only_mz, HP_E_DOS_TRUNCATED },
    { "truncated DOS header", A_BOTH, L_BOTH, OP_PARSE, m_dos_cut, HP_E_DOS_TRUNCATED },
    { "bad MZ", A_BOTH, L_BOTH, OP_PARSE, m_bad_mz, HP_E_DOS_MAGIC },
    { "e_lfanew at the end of the file", A_BOTH, L_BOTH, OP_PARSE, m_lfanew_end, HP_E_LFANEW },
    { "e_lfanew at the last 2 bytes", A_BOTH, L_BOTH, OP_PARSE, m_lfanew_last2, HP_E_LFANEW },
    { "e_lfanew huge (0xFFFFFFF0)", A_BOTH, L_BOTH, OP_PARSE, m_lfanew_huge, HP_E_LFANEW },
    { "e_lfanew 0 (MZ where PE is)", A_BOTH, L_BOTH, OP_PARSE, m_lfanew_zero, HP_E_NT_SIGNATURE },

    /* NT headers */
    { "bad PE signature", A_BOTH, L_BOTH, OP_PARSE, m_bad_pe_sig, HP_E_NT_SIGNATURE },
    { "truncated PE signature", A_BOTH, L_BOTH, OP_PARSE, m_nt_cut, HP_E_LFANEW },
    { "truncated file header", A_BOTH, L_BOTH, OP_PARSE, m_fh_cut, HP_E_FILE_HEADER_TRUNCATED },
    { "truncated optional header", A_BOTH, L_BOTH, OP_PARSE, m_opt_cut, HP_E_OPT_HEADER_TRUNCATED },
    { "optional header cut inside Magic", A_BOTH, L_BOTH, OP_PARSE, m_opt_cut_magic,
      HP_E_OPT_HEADER_TRUNCATED },
    { "SizeOfOptionalHeader too small", A_BOTH, L_BOTH, OP_PARSE, m_opt_size_small,
      HP_E_OPT_HEADER_TRUNCATED },
    { "SizeOfOptionalHeader 0", A_BOTH, L_BOTH, OP_PARSE, m_opt_size_zero,
      HP_E_OPT_HEADER_TRUNCATED },
    { "bad optional magic 0x107", A_BOTH, L_BOTH, OP_PARSE, m_opt_magic, HP_E_OPT_MAGIC },
    { "bad optional magic 0x30b", A_BOTH, L_BOTH, OP_PARSE, m_opt_magic_rom, HP_E_OPT_MAGIC },
    { "machine/magic mismatch", A_BOTH, L_BOTH, OP_PARSE, m_machine_swap, HP_E_MACHINE },
    { "other machine, consistent magic", A_X64, L_BOTH, OP_PARSE, m_machine_arm64, HP_OK },
    { "SectionAlignment 0", A_BOTH, L_BOTH, OP_PARSE, m_salign_zero, HP_E_ALIGNMENT },
    { "FileAlignment 0", A_BOTH, L_BOTH, OP_PARSE, m_falign_zero, HP_E_ALIGNMENT },
    { "FileAlignment not a power of two", A_BOTH, L_BOTH, OP_PARSE, m_falign_npow2, HP_E_ALIGNMENT },
    { "SectionAlignment not a power of two", A_BOTH, L_BOTH, OP_PARSE, m_salign_npow2,
      HP_E_ALIGNMENT },
    { "FileAlignment > SectionAlignment", A_BOTH, L_BOTH, OP_PARSE, m_falign_gt_salign,
      HP_E_ALIGNMENT },
    { "SizeOfImage 0", A_BOTH, L_BOTH, OP_PARSE, m_image_size_zero, HP_E_IMAGE_SIZE },
    { "SizeOfHeaders 0", A_BOTH, L_BOTH, OP_PARSE, m_headers_zero, HP_E_IMAGE_SIZE },
    { "SizeOfHeaders > SizeOfImage", A_BOTH, L_BOTH, OP_PARSE, m_headers_gt_image, HP_E_IMAGE_SIZE },
    { "NumberOfRvaAndSizes past the header", A_BOTH, L_BOTH, OP_PARSE, m_dir_count_past_header,
      HP_E_DIR_COUNT },
    { "NumberOfRvaAndSizes huge, 16 read", A_BOTH, L_BOTH, OP_PARSE, m_dir_count_huge, HP_OK },
    { "NumberOfRvaAndSizes 0", A_BOTH, L_BOTH, OP_PARSE, m_dir_count_zero, HP_OK },

    /* section table */
    { "NumberOfSections 97", A_BOTH, L_BOTH, OP_PARSE, m_nsec_97, HP_E_SECTION_COUNT },
    { "NumberOfSections 0xffff", A_BOTH, L_BOTH, OP_PARSE, m_nsec_max, HP_E_SECTION_COUNT },
    { "NumberOfSections 96, table past the file", A_BOTH, L_BOTH, OP_PARSE, m_nsec_96,
      HP_E_SECTION_TABLE },
    { "section table cut short", A_BOTH, L_BOTH, OP_PARSE, m_sectable_cut, HP_E_SECTION_TABLE },
    { "section table starts at the end", A_BOTH, L_BOTH, OP_PARSE, m_sectable_at_end,
      HP_E_SECTION_TABLE },
    { "section raw data past the end", A_BOTH, L_FILE, OP_PARSE, m_raw_past_end, HP_E_SECTION_RAW },
    { "section raw size past the end", A_BOTH, L_FILE, OP_PARSE, m_raw_size_past_end,
      HP_E_SECTION_RAW },
    { "section raw offset+size wraps 32 bits", A_BOTH, L_FILE, OP_PARSE, m_raw_wraps,
      HP_E_SECTION_RAW },
    { "file cut inside the sections", A_BOTH, L_FILE, OP_PARSE, m_file_cut_in_section,
      HP_E_SECTION_RAW },
    { "loaded: raw pointers are not used", A_BOTH, L_LOADED, OP_PARSE, m_raw_past_end, HP_OK },
    { "loaded: raw offset+size wraps, not used", A_BOTH, L_LOADED, OP_PARSE, m_raw_wraps, HP_OK },
    { "section virtual range wraps", A_BOTH, L_BOTH, OP_PARSE, m_virtual_wraps,
      HP_E_SECTION_VIRTUAL },
    { "section past SizeOfImage", A_BOTH, L_BOTH, OP_PARSE, m_virtual_past_image,
      HP_E_SECTION_VIRTUAL },
    { "section VirtualSize 0xffffffff", A_BOTH, L_BOTH, OP_PARSE, m_virtual_huge,
      HP_E_SECTION_VIRTUAL },
    { "overlapping sections", A_BOTH, L_BOTH, OP_PARSE, m_overlap, HP_E_SECTION_OVERLAP },
    { "sections out of order", A_BOTH, L_BOTH, OP_PARSE, m_out_of_order, HP_E_SECTION_OVERLAP },
    { "section inside the headers", A_BOTH, L_BOTH, OP_PARSE, m_section_in_headers,
      HP_E_SECTION_OVERLAP },

    /* exports */
    { "exports: good", A_BOTH, L_BOTH, OP_RESOLVE, m_none, HP_OK },
    { "exports: directory RVA outside the image", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_dir_outside,
      HP_E_DIR_RANGE },
    { "exports: directory RVA+size wraps", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_dir_wraps,
      HP_E_DIR_RANGE },
    { "exports: directory not backed by the file", A_BOTH, L_FILE, OP_EXPORTS, m_exp_dir_unbacked,
      HP_E_EXPORT_DIR },
    { "exports: AddressOfFunctions outside", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_funcs_outside,
      HP_E_EXPORT_DIR },
    { "exports: AddressOfNames outside", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_names_outside,
      HP_E_EXPORT_DIR },
    { "exports: NumberOfFunctions huge", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_nfuncs_huge,
      HP_E_EXPORT_DIR },
    { "exports: Base + count wraps 32 bits", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_ordinal_wraps,
      HP_E_EXPORT_DIR },
    { "exports: name out of bounds", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_name_outside,
      HP_E_EXPORT_NAME },
    { "exports: name unterminated", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_name_unterminated,
      HP_E_EXPORT_NAME },
    { "exports: DLL name unterminated", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_dll_name_unterminated,
      HP_E_EXPORT_NAME },
    { "exports: name ordinal out of range", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_ordinal_range,
      HP_E_EXPORT_ORDINAL },
    { "exports: name ordinal 0xffff", A_BOTH, L_BOTH, OP_EXPORTS, m_exp_ordinal_huge,
      HP_E_EXPORT_ORDINAL },
    { "exports: forwarder loop", A_BOTH, L_BOTH, OP_RESOLVE, m_exp_fwd_self,
      HP_E_EXPORT_FORWARDER_LOOP },
    { "exports: forwarder loop by ordinal", A_BOTH, L_BOTH, OP_RESOLVE, m_exp_fwd_self_ordinal,
      HP_E_EXPORT_FORWARDER_LOOP },
    { "exports: forwarder to a missing name", A_BOTH, L_BOTH, OP_RESOLVE, m_exp_fwd_missing,
      HP_E_NOT_FOUND },
    { "exports: forwarder to another DLL", A_BOTH, L_BOTH, OP_RESOLVE, m_exp_fwd_other_dll, HP_OK },

    /* imports */
    { "imports: good", A_BOTH, L_BOTH, OP_IMPORTS, m_none, HP_OK },
    { "imports: directory RVA outside the image", A_BOTH, L_BOTH, OP_IMPORTS, m_imp_dir_outside,
      HP_E_IMPORT_DIR },
    { "imports: directory RVA wraps", A_BOTH, L_BOTH, OP_IMPORTS, m_imp_dir_wraps,
      HP_E_IMPORT_DIR },
    { "imports: descriptor straddles the end of data", A_BOTH, L_FILE, OP_IMPORTS,
      m_imp_desc_straddles, HP_E_IMPORT_DIR },
    { "loaded: same descriptor reads zero-fill, ends", A_BOTH, L_LOADED, OP_IMPORTS,
      m_imp_desc_straddles, HP_OK },
    { "imports: thunk array outside the image", A_BOTH, L_BOTH, OP_IMPORTS, m_imp_ilt_outside,
      HP_E_IMPORT_DIR },
    { "imports: thunk array wraps", A_BOTH, L_BOTH, OP_IMPORTS, m_imp_ilt_wraps, HP_E_IMPORT_DIR },
    { "imports: IAT past SizeOfImage", A_BOTH, L_BOTH, OP_IMPORTS, m_imp_iat_outside,
      HP_E_IMPORT_DIR },
    { "imports: DLL name unterminated", A_BOTH, L_BOTH, OP_IMPORTS, m_imp_dll_unterminated,
      HP_E_IMPORT_NAME },
    { "imports: DLL name outside", A_BOTH, L_BOTH, OP_IMPORTS, m_imp_dll_name_outside,
      HP_E_IMPORT_NAME },
    { "imports: function name unterminated", A_BOTH, L_BOTH, OP_IMPORTS, m_imp_func_unterminated,
      HP_E_IMPORT_NAME },
    { "imports: hint/name outside", A_BOTH, L_BOTH, OP_IMPORTS, m_imp_hint_outside,
      HP_E_IMPORT_NAME },
    { "delay imports: good", A_BOTH, L_BOTH, OP_DELAY, m_none, HP_OK },
    { "delay imports: descriptor outside", A_BOTH, L_BOTH, OP_DELAY, m_dimp_desc_outside,
      HP_E_DELAY_IMPORT_DIR },
    { "delay imports: name table outside", A_BOTH, L_BOTH, OP_DELAY, m_dimp_int_outside,
      HP_E_DELAY_IMPORT_THUNK },
    { "delay imports: DLL name unterminated", A_BOTH, L_BOTH, OP_DELAY, m_dimp_name_unterminated,
      HP_E_DELAY_IMPORT_NAME },
    { "delay imports: VA form with RVAs", A_BOTH, L_BOTH, OP_DELAY, m_dimp_va_form,
      HP_E_DELAY_IMPORT_DIR },

    /* base relocations */
    { "relocs: good", A_BOTH, L_BOTH, OP_RELOCS, m_none, HP_OK },
    { "relocs: SizeOfBlock < 8", A_BOTH, L_BOTH, OP_RELOCS, m_reloc_block_small, HP_E_RELOC_BLOCK },
    { "relocs: SizeOfBlock 0", A_BOTH, L_BOTH, OP_RELOCS, m_reloc_block_zero, HP_E_RELOC_BLOCK },
    { "relocs: block past the directory", A_BOTH, L_BOTH, OP_RELOCS, m_reloc_block_past_dir,
      HP_E_RELOC_BLOCK },
    { "relocs: odd SizeOfBlock", A_BOTH, L_BOTH, OP_RELOCS, m_reloc_block_odd, HP_E_RELOC_BLOCK },
    { "relocs: directory past the section's data", A_BOTH, L_FILE, OP_RELOCS, m_reloc_dir_short,
      HP_E_DIR_RANGE },
    { "loaded: reloc tail shorter than a header", A_BOTH, L_LOADED, OP_RELOCS, m_reloc_dir_short,
      HP_E_RELOC_BLOCK },
    { "relocs: directory outside the image", A_BOTH, L_BOTH, OP_RELOCS, m_reloc_dir_outside,
      HP_E_DIR_RANGE },
    { "relocs: unknown type", A_BOTH, L_BOTH, OP_RELOCS, m_reloc_type, HP_E_RELOC_TYPE },
    { "relocs: target past SizeOfImage", A_BOTH, L_BOTH, OP_RELOCS, m_reloc_target,
      HP_E_RELOC_TARGET },

    /* COFF symbols (file layout only: the loader does not map them) */
    { "symbols: good", A_BOTH, L_BOTH, OP_SYMBOLS, m_none, HP_OK },
    { "symbols: table past the end of the file", A_BOTH, L_FILE, OP_SYMBOLS, m_sym_past_end,
      HP_E_SYMBOLS },
    { "symbols: PointerToSymbolTable huge", A_BOTH, L_FILE, OP_SYMBOLS, m_sym_huge_ptr,
      HP_E_SYMBOLS },
    { "symbols: NumberOfSymbols huge", A_BOTH, L_FILE, OP_SYMBOLS, m_sym_count_huge, HP_E_SYMBOLS },
    { "symbols: aux records past the table", A_BOTH, L_FILE, OP_SYMBOLS, m_sym_aux_past,
      HP_E_SYMBOL_AUX },
    { "symbols: string table size < 4", A_BOTH, L_FILE, OP_SYMBOLS, m_strtab_small,
      HP_E_STRING_TABLE },
    { "symbols: string table size past the file", A_BOTH, L_FILE, OP_SYMBOLS, m_strtab_huge,
      HP_E_STRING_TABLE },
    { "symbols: name offset past the string table", A_BOTH, L_FILE, OP_SYMBOLS,
      m_strtab_offset_past, HP_E_STRING_TABLE },
    { "symbols: string table missing", A_BOTH, L_FILE, OP_SYMBOLS, m_strtab_missing,
      HP_E_STRING_TABLE },
    { "loaded: symbol pointer is ignored", A_BOTH, L_LOADED, OP_SYMBOLS, m_sym_huge_ptr, HP_OK },

    /* debug directory */
    { "debug: good", A_BOTH, L_BOTH, OP_DEBUG, m_none, HP_OK },
    { "debug: entry data outside the file", A_BOTH, L_BOTH, OP_DEBUG, m_dbg_data_outside,
      HP_E_DEBUG_DIR },
    { "debug: entry data past the end of the file", A_BOTH, L_FILE, OP_DEBUG,
      m_dbg_data_past_file, HP_E_DEBUG_DIR },
    { "debug: size not a multiple of 28", A_BOTH, L_BOTH, OP_DEBUG, m_dbg_dir_size,
      HP_E_DEBUG_DIR_SIZE },
    { "debug: directory outside the image", A_BOTH, L_BOTH, OP_DEBUG, m_dbg_dir_outside,
      HP_E_DEBUG_DIR_SIZE },
    { "debug: CodeView record truncated", A_BOTH, L_BOTH, OP_DEBUG, m_dbg_cv_short, HP_E_CODEVIEW },

    /* .hotp1 */
    { "hotp: good", A_BOTH, L_BOTH, OP_HOTP, m_none, HP_OK },
    { "hotp: section too small", A_BOTH, L_BOTH, OP_HOTP, m_hotp_small, HP_E_HOTP_SECTION },
    { "hotp: bad signature", A_BOTH, L_BOTH, OP_HOTP, m_hotp_signature, HP_E_HOTP_HEADER },
    { "hotp: bad version", A_BOTH, L_BOTH, OP_HOTP, m_hotp_version, HP_E_HOTP_HEADER },
    { "hotp: hook array out of range", A_BOTH, L_BOTH, OP_HOTP, m_hotp_hooks_outside,
      HP_E_HOTP_ARRAY },
    { "hotp: HookCount past the section", A_BOTH, L_BOTH, OP_HOTP, m_hotp_hook_count,
      HP_E_HOTP_ARRAY },
    { "hotp: HookCount 0xffffffff", A_BOTH, L_BOTH, OP_HOTP, m_hotp_hook_count_max,
      HP_E_HOTP_ARRAY },
    { "hotp: validation array out of range", A_BOTH, L_BOTH, OP_HOTP, m_hotp_vals_outside,
      HP_E_HOTP_ARRAY },
    { "hotp: fixup regions out of range", A_BOTH, L_BOTH, OP_HOTP, m_hotp_fixups_outside,
      HP_E_HOTP_ARRAY },
    { "hotp: hook target outside the patch", A_BOTH, L_BOTH, OP_HOTP, m_hotp_hook_target,
      HP_E_HOTP_HOOK },
    { "hotp: hook validation outside", A_BOTH, L_BOTH, OP_HOTP, m_hotp_hook_validation,
      HP_E_HOTP_HOOK },
    { "hotp: validation bytes outside", A_BOTH, L_BOTH, OP_HOTP, m_hotp_val_source,
      HP_E_HOTP_VALIDATION },
    { "hotp: validation ByteCount past the image", A_BOTH, L_BOTH, OP_HOTP, m_hotp_val_count,
      HP_E_HOTP_VALIDATION },
    { "hotp: unknown fixup type", A_BOTH, L_BOTH, OP_HOTP, m_hotp_fixup_type, HP_E_HOTP_FIXUP },
    { "hotp: FixupRgnCount past the bytes", A_BOTH, L_BOTH, OP_HOTP, m_hotp_fixup_count,
      HP_E_HOTP_FIXUP },
    { "hotp: target name unterminated", A_BOTH, L_BOTH, OP_HOTP, m_hotp_name, HP_E_HOTP_NAME },

    /* x64 exception directory */
    { "pdata: good", A_X64, L_BOTH, OP_UNWIND, m_none, HP_OK },
    { "pdata: size not a multiple of 12", A_X64, L_BOTH, OP_PDATA, m_pdata_size, HP_E_PDATA },
    { "pdata: directory outside the image", A_X64, L_BOTH, OP_PDATA, m_pdata_outside, HP_E_PDATA },
    { "pdata: BeginAddress > EndAddress", A_X64, L_BOTH, OP_PDATA, m_pdata_begin_after_end,
      HP_E_PDATA },
    { "pdata: EndAddress past SizeOfImage", A_X64, L_BOTH, OP_PDATA, m_pdata_end_past_image,
      HP_E_PDATA },
    { "pdata: not read for x86", A_X86, L_BOTH, OP_PDATA, m_pdata_on_x86, HP_E_UNSUPPORTED },
    { "unwind: info outside the image", A_X64, L_BOTH, OP_UNWIND, m_unwind_outside, HP_E_UNWIND },
    { "unwind: chained parent outside", A_X64, L_FILE, OP_UNWIND, m_unwind_parent_outside,
      HP_E_UNWIND },
    { "unwind: chain loops on itself", A_X64, L_BOTH, OP_UNWIND, m_unwind_chain_loop, HP_E_UNWIND },
    { "unwind: indirect entry outside", A_X64, L_BOTH, OP_UNWIND, m_unwind_indirect_outside,
      HP_E_UNWIND },

    /* load config and CFG tables */
    { "loadcfg: good", A_BOTH, L_BOTH, OP_LOADCFG, m_none, HP_OK },
    { "loadcfg: Size larger than the directory", A_BOTH, L_BOTH, OP_LOADCFG, m_lc_size_past_dir,
      HP_E_LOADCFG_SIZE },
    { "loadcfg: Size larger than the bytes", A_BOTH, L_FILE, OP_LOADCFG, m_lc_size_past_bytes,
      HP_E_LOADCFG_SIZE },
    { "loadcfg: directory smaller than Size's field", A_BOTH, L_BOTH, OP_LOADCFG, m_lc_dir_tiny,
      HP_E_LOADCFG_SIZE },
    { "loadcfg: directory outside the image", A_BOTH, L_BOTH, OP_LOADCFG, m_lc_dir_outside,
      HP_E_DIR_RANGE },
    { "loadcfg: x86 legacy directory size 64", A_X86, L_BOTH, OP_LOADCFG, m_lc_x86_legacy_dir,
      HP_OK },
    { "loadcfg: x64 directory 64 < Size", A_X64, L_BOTH, OP_LOADCFG, m_lc_x86_legacy_dir,
      HP_E_LOADCFG_SIZE },
    { "loadcfg: CFG function table outside the image", A_BOTH, L_BOTH, OP_LOADCFG,
      m_cfg_table_outside, HP_E_LOADCFG_TABLE },
    { "loadcfg: CFG function table below ImageBase", A_BOTH, L_BOTH, OP_LOADCFG,
      m_cfg_table_below_base, HP_E_LOADCFG_TABLE },
    { "loadcfg: CFG function count past the bytes", A_BOTH, L_BOTH, OP_LOADCFG, m_cfg_count_huge,
      HP_E_LOADCFG_TABLE },
    { "loadcfg: CFG count * stride overflows", A_X64, L_BOTH, OP_LOADCFG, m_cfg_count_overflow,
      HP_E_LOADCFG_TABLE },
    { "loadcfg: CFG stride 19 runs past the data", A_BOTH, L_FILE, OP_LOADCFG, m_cfg_stride_past,
      HP_E_LOADCFG_TABLE },
    { "loadcfg: fields past Size are not read", A_BOTH, L_BOTH, OP_LOADCFG, m_lc_short_hides_table,
      HP_OK },

    /* IMAGE_HOT_PATCH_INFO */
    { "hotpatch info: good", A_BOTH, L_BOTH, OP_HPI, m_none, HP_OK },
    { "hotpatch info: outside the image", A_BOTH, L_BOTH, OP_HPI, m_hpi_outside, HP_E_HOTP_INFO },
    { "hotpatch info: Version 0", A_BOTH, L_BOTH, OP_HPI, m_hpi_version, HP_E_HOTP_INFO },
    { "hotpatch info: Size past the image", A_BOTH, L_BOTH, OP_HPI, m_hpi_size, HP_E_HOTP_INFO },
    { "hotpatch info: Size below the header", A_BOTH, L_BOTH, OP_HPI, m_hpi_size_small,
      HP_E_HOTP_INFO },
    { "hotpatch info: BaseImageCount huge", A_BOTH, L_BOTH, OP_HPI, m_hpi_count, HP_E_HOTP_INFO },
    { "hotpatch info: BaseImageList wraps", A_BOTH, L_BOTH, OP_HPI, m_hpi_list, HP_E_HOTP_INFO },
    { "hotpatch info: base offset past Size", A_BOTH, L_BOTH, OP_HPI, m_hpi_base_offset,
      HP_E_HOTP_INFO },

    /* hotpe's import section */
    { "setdll: no .hotpei", A_BOTH, L_BOTH, OP_SETDLL, m_none, HP_OK },
    { "setdll: the last section named .hotpei, no header", A_BOTH, L_BOTH, OP_SETDLL,
      m_setdll_last, HP_E_SETDLL_MARKER },
    { "setdll: .hotpei not the last section", A_BOTH, L_BOTH, OP_SETDLL, m_setdll_first,
      HP_E_SETDLL_MARKER },

    /* loaded layout specifics */
    { "loaded: copy cut before .rdata", A_BOTH, L_LOADED, OP_PARSE, m_loaded_cut_before_rdata,
      HP_OK },
    { "loaded: exports in the missing part", A_BOTH, L_LOADED, OP_EXPORTS,
      m_loaded_cut_before_rdata, HP_E_EXPORT_DIR },
};

/* ------------------------------------------------------------------------------------------ */
/* Running a parser                                                                           */
/* ------------------------------------------------------------------------------------------ */

static hp_status run_op(op o, const hp_pe *pe, hp_arena *arena)
{
    switch (o) {
    case OP_PARSE:
        return HP_OK;
    case OP_EXPORTS:
    case OP_RESOLVE: {
        hp_pe_exports ex;
        const hp_pe_export *e;
        HP_CHECK(hp_pe_exports_parse(pe, arena, &ex));
        return o == OP_RESOLVE ? hp_pe_exports_resolve(&ex, "Gamma", &e) : HP_OK;
    }
    case OP_IMPORTS:
    case OP_DELAY: {
        hp_pe_imports im;
        return hp_pe_imports_parse(pe, arena, o == OP_DELAY, &im);
    }
    case OP_RELOCS: {
        hp_pe_relocs r;
        return hp_pe_relocs_parse(pe, arena, &r);
    }
    case OP_PDATA:
    case OP_UNWIND: {
        hp_pe_pdata pd;
        HP_CHECK(hp_pe_pdata_parse(pe, arena, &pd));
        for (uint32_t i = 0; o == OP_UNWIND && i < pd.count; i++) {
            hp_pe_runtime_function primary;
            HP_CHECK(hp_pe_unwind_primary(pe, &pd.entries[i], &primary));
        }
        return HP_OK;
    }
    case OP_LOADCFG: {
        hp_pe_loadcfg lc;
        return hp_pe_loadcfg_parse(pe, arena, &lc);
    }
    case OP_SYMBOLS: {
        hp_pe_symbols sy;
        return hp_pe_symbols_parse(pe, arena, &sy);
    }
    case OP_DEBUG: {
        hp_pe_debug d;
        return hp_pe_debug_parse(pe, arena, &d);
    }
    case OP_HOTP: {
        hp_pe_hotp h;
        return hp_pe_hotp_parse(pe, arena, &h);
    }
    case OP_HPI: {
        hp_pe_loadcfg lc;
        hp_pe_hotpatch_info hpi;
        HP_CHECK(hp_pe_loadcfg_parse(pe, arena, &lc));
        return hp_pe_hotpatch_info_parse(pe, &lc, arena, &hpi);
    }
    case OP_SETDLL: {
        hp_pe_identity id;
        return hp_pe_build_identity(pe, &id);
    }
    case OP_COUNT:
        break;
    }
    return HP_E_ARG;
}

/* Every parser on one parsed image; the first failure, or HP_OK. */
static hp_status run_all(const hp_pe *pe, hp_arena *arena)
{
    hp_status first = HP_OK;
    for (int o = OP_EXPORTS; o < OP_COUNT; o++) {
        hp_status s = run_op((op)o, pe, arena);
        if (first == HP_OK)
            first = s;
    }
    return first;
}

static void fx_make(fx *f, unsigned arch, unsigned layout)
{
    mkpe_sample_init(&f->m, arch == A_X64 ? MKPE_X64 : MKPE_X86);
    f->loaded = layout == L_LOADED;
    f->img = f->loaded ? mkpe_build_loaded(&f->m.spec) : mkpe_build(&f->m.spec);
}

static void fx_free(fx *f)
{
    mkpe_free(&f->img);
    mkpe_sample_free(&f->m);
}

/* Rows expanded over their arches and layouts. */
typedef struct kase {
    const row *row;
    unsigned arch, layout;
} kase;

static kase cases[sizeof rows / sizeof *rows * 4];
static int case_count;

START_TEST(malformed_row)
{
    const kase *k = &cases[_i];
    const row *r = k->row;
    const char *where = k->arch == A_X64 ? "PE32+" : "PE32";
    const char *layout = k->layout == L_LOADED ? "loaded" : "file";
    fx f;
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;

    fx_make(&f, k->arch, k->layout);
    hp_pe_layout lay = f.loaded ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE;

    /* The good image passes the same parser: the mutation is what breaks it. */
    hp_status s = hp_pe_parse(&pe, &arena, f.img.data, f.img.size, lay);
    ck_assert_msg(s == HP_OK, "%s [%s %s]: good image: parse gave %s", r->name, where, layout,
                  hp_status_name(s));
    s = run_op(r->op, &pe, &arena);
    ck_assert_msg(s == HP_OK, "%s [%s %s]: good image: %s gave %s", r->name, where, layout,
                  op_names[r->op], hp_status_name(s));
    hp_arena_free(&arena);

    r->mut(&f);
    s = hp_pe_parse(&pe, &arena, f.img.data, f.img.size, lay);
    if (r->op != OP_PARSE) {
        ck_assert_msg(s == HP_OK, "%s [%s %s]: parse gave %s", r->name, where, layout,
                      hp_status_name(s));
        s = run_op(r->op, &pe, &arena);
    }
    ck_assert_msg(strcmp(hp_status_name(s), hp_status_name(r->expect)) == 0,
                  "%s [%s %s]: %s gave %s (%s), expected %s", r->name, where, layout,
                  op_names[r->op], hp_status_name(s), hp_status_str(s), hp_status_name(r->expect));
    /* Whatever a header mutation leaves parseable, the directory parsers survive it. */
    if (s == HP_OK)
        (void)run_all(&pe, &arena);
    hp_arena_free(&arena);
    fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Sweeps: every truncation length and byte flips over headers and directories                */
/* ------------------------------------------------------------------------------------------ */

static void run_everything(const uint8_t *data, size_t size, hp_pe_layout layout)
{
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    hp_status s = hp_pe_parse(&pe, &arena, data, size, layout);
    ck_assert(hp_status_known((uint32_t)s));
    if (s == HP_OK) {
        s = run_all(&pe, &arena);
        ck_assert(hp_status_known((uint32_t)s));
    }
    hp_arena_free(&arena);
}

START_TEST(every_truncation)
{
    unsigned arch = _i & 1 ? A_X64 : A_X86, layout = _i & 2 ? L_LOADED : L_FILE;
    fx f;
    fx_make(&f, arch, layout);
    hp_pe_layout lay = f.loaded ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE;
    for (size_t n = 0; n <= f.img.size; n++) {
        /* A fresh copy of exactly n bytes, so ASan sees any read past it. */
        uint8_t *copy = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, f.img.data, n);
        run_everything(copy, n, lay);
        free(copy);
    }
    fx_free(&f);
}
END_TEST

START_TEST(byte_flips)
{
    unsigned arch = _i & 1 ? A_X64 : A_X86, layout = _i & 2 ? L_LOADED : L_FILE;
    static const uint8_t values[] = { 0x00, 0xff, 0x80, 0x7f, 0x01 };
    fx f;
    fx_make(&f, arch, layout);
    hp_pe_layout lay = f.loaded ? HP_PE_LAYOUT_LOADED : HP_PE_LAYOUT_FILE;
    size_t limit = f.img.size;
    uint8_t *copy = malloc(limit);
    ck_assert_ptr_nonnull(copy);
    for (size_t off = 0; off < limit; off++) {
        /* Zero-fill between structures says little; skip most of it. */
        if (f.img.data[off] == 0 && off % 8 != 0)
            continue;
        for (size_t v = 0; v < sizeof values; v++) {
            if (values[v] == f.img.data[off])
                continue;
            memcpy(copy, f.img.data, limit);
            copy[off] = values[v];
            run_everything(copy, limit, lay);
        }
    }
    free(copy);
    fx_free(&f);
}
END_TEST

static Suite *malformed_suite(void)
{
    Suite *s = suite_create("malformed");
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        for (unsigned a = A_X86; a <= A_X64; a <<= 1)
            for (unsigned l = L_FILE; l <= L_LOADED; l <<= 1)
                if ((rows[i].arch & a) && (rows[i].layout & l))
                    cases[case_count++] = (kase){ &rows[i], a, l };

    TCase *tc = tcase_create("table");
    tcase_add_loop_test(tc, malformed_row, 0, case_count);
    suite_add_tcase(s, tc);

    TCase *sweep = tcase_create("sweep");
    tcase_set_timeout(sweep, 120);
    tcase_add_loop_test(sweep, every_truncation, 0, 4);
    tcase_add_loop_test(sweep, byte_flips, 0, 4);
    suite_add_tcase(s, sweep);
    return s;
}

HP_TEST_MAIN(malformed_suite)
