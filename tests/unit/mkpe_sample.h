/*
 * mkpe_sample: one small, valid image that has every directory hotpe parses, built with mkpe.h,
 * for table tests that corrupt one structure at a time and as a fuzzing seed.
 *
 *     mkpe_sample smp;
 *     mkpe_sample_init(&smp, MKPE_X64);        // spec + section contents, RVAs in smp.rva
 *     mkpe_image img = mkpe_build(&smp.spec);  // or mkpe_build_loaded
 *     mkpe_w32(&img, mkpe_sample_offset(&smp, smp.rva.exp_dir + 0x14, false), 99);
 *     ...
 *     mkpe_free(&img);
 *     mkpe_sample_free(&smp);
 *
 * Contents (both arches unless noted):
 *   .text   two hotpatchable functions (GCC ms_hook_prologue shape: CC padding, then
 *           8B FF 55 8B EC on x86 / 48 8D A4 24 00 00 00 00 on x64); entry point = f0
 *   .data   IAT of KERNEL32.dll, delay-load IAT and module handle of USER32.dll, the security
 *           cookie, the CFG check pointer, a slot the .hotp1 fixups point at
 *   .rdata  export directory of "sample.dll" (Alpha=f0, Beta=f1, Gamma -> "sample.Alpha",
 *           Sleep2 -> "KERNEL32.Sleep", one unused slot), import and delay-load directories,
 *           debug directory with a CodeView RSDS record, load config (SecurityCookie, a CFG
 *           function table of 2 entries with 1 metadata byte, SEHandlerTable on x86,
 *           HotPatchTableOffset -> IMAGE_HOT_PATCH_INFO v1 with one base), x64 unwind info,
 *           and 4 unterminated bytes at its very end (rva.tail) for "no NUL" cases
 *   .pdata  x64 only: 3 RUNTIME_FUNCTIONs, the third chained to the second
 *   .reloc  one block (DIR64 on x64 / HIGHLOW on x86, plus ABSOLUTE padding)
 *   .hotp1  HOTPATCH_HEADER, 2 hooks with validations, one fixup region, target name
 *   COFF symbols after the sections: a section symbol with 1 aux record, f0 with a long name
 *           (string table), f1 with a short name
 */
#ifndef HOTPE_TEST_MKPE_SAMPLE_H
#define HOTPE_TEST_MKPE_SAMPLE_H

#include "mkpe.h"

typedef struct mkpe_sample_rvas {
    uint32_t f0, f1, f0_pad, f1_pad, text_end;
    uint32_t iat, delay_iat, delay_handle, cookie, cfg_check, fixup_slot;
    uint32_t exp_dir, exp_funcs, exp_names, exp_ords, exp_dll_name, exp_fwd, exp_size;
    uint32_t imp_desc, imp_ilt, imp_dll_name, imp_hint_name;
    uint32_t dimp_desc, dimp_int, dimp_dll_name, dimp_hint_name;
    uint32_t debug_dir, codeview;
    uint32_t loadcfg, loadcfg_size, cfg_table, seh_table, hpi, hpi_base;
    uint32_t unwind0, unwind2;
    uint32_t tail;             /* 4 non-NUL bytes that end .rdata */
    uint32_t pdata, pdata_size;
    uint32_t reloc, reloc_size;
    uint32_t hotp, hotp_hooks, hotp_vals, hotp_fixups, hotp_name, hotp_bytes;
} mkpe_sample_rvas;

typedef struct mkpe_sample {
    mkpe_spec spec;
    mkpe_arch arch;
    unsigned text, data, rdata, pdata, reloc, hotp; /* section indexes (pdata: x64 only) */
    mkpe_blob b_text, b_data, b_rdata, b_pdata, b_reloc, b_hotp, b_trailer;
    uint32_t symtab_offset;    /* file offset of the COFF symbol table */
    uint32_t strtab_offset;    /* file offset of the string table (its u32 size) */
    mkpe_sample_rvas rva;
} mkpe_sample;

/** File offset (file layout) or offset (loaded layout) of an RVA of the sample. */
static inline uint32_t mkpe_sample_offset(const mkpe_sample *m, uint32_t rva, bool loaded)
{
    if (loaded)
        return rva;
    for (unsigned i = m->spec.section_count; i-- > 0;) {
        uint32_t va = mkpe_section_rva(&m->spec, i);
        if (rva >= va)
            return mkpe_rva_offset(&m->spec, i, rva);
    }
    return rva; /* headers */
}

static inline uint64_t mkpe_sample_va(const mkpe_sample *m, uint32_t rva)
{
    return m->spec.image_base + rva;
}

/* A pointer-sized value (4 or 8 bytes) appended to a blob. */
static inline uint32_t mkpe_sample_ptr(const mkpe_sample *m, mkpe_blob *b, uint64_t v)
{
    return m->spec.pe32plus ? mkpe_blob_u64(b, v) : mkpe_blob_u32(b, (uint32_t)v);
}
static inline void mkpe_sample_put_ptr(const mkpe_sample *m, mkpe_blob *b, uint32_t rva, uint64_t v)
{
    mkpe_blob_putn(b, rva, v, m->spec.pe32plus ? 8 : 4);
}

static inline void mkpe_sample_text(mkpe_sample *m)
{
    static const uint8_t x86_entry[] = { 0x8b, 0xff, 0x55, 0x8b, 0xec, 0x5d, 0xc3 };
    static const uint8_t x64_entry[] = { 0x48, 0x8d, 0xa4, 0x24, 0, 0, 0, 0, 0x55, 0x5d, 0xc3 };
    static const uint8_t x64_tail[] = { 0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3 };
    bool x64 = m->spec.pe32plus;
    uint32_t pad = x64 ? 32 : 16;
    uint8_t cc[32];
    memset(cc, 0xcc, sizeof cc);
    mkpe_blob *b = &m->b_text;

    m->rva.f0_pad = mkpe_blob_add(b, cc, pad, 1);
    m->rva.f0 = x64 ? mkpe_blob_add(b, x64_entry, sizeof x64_entry, 1)
                    : mkpe_blob_add(b, x86_entry, sizeof x86_entry, 1);
    m->rva.f1_pad = mkpe_blob_add(b, cc, pad, 1);
    m->rva.f1 = x64 ? mkpe_blob_add(b, x64_entry, sizeof x64_entry, 1)
                    : mkpe_blob_add(b, x86_entry, sizeof x86_entry, 1);
    if (x64)
        mkpe_blob_add(b, x64_tail, sizeof x64_tail, 1); /* covered by the chained entry */
    m->rva.text_end = b->rva + b->size;
}

/* .data: fixed-size slots, filled once .rdata exists (its RVAs come after .data's). */
static inline void mkpe_sample_data(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_data;
    m->rva.iat = mkpe_sample_ptr(m, b, 0);           /* Sleep */
    mkpe_sample_ptr(m, b, 0);                        /* #16 */
    mkpe_sample_ptr(m, b, 0);                        /* terminator */
    m->rva.delay_iat = mkpe_sample_ptr(m, b, 0);     /* MessageBoxA */
    mkpe_sample_ptr(m, b, 0);
    m->rva.delay_handle = mkpe_sample_ptr(m, b, 0);
    m->rva.cookie = mkpe_sample_ptr(m, b, m->spec.pe32plus ? 0x2b992ddfa232ull : 0xbb40e64e);
    m->rva.cfg_check = mkpe_sample_ptr(m, b, 0);
    m->rva.fixup_slot = mkpe_sample_ptr(m, b, 0x400000 + 0x1234);
}

static inline void mkpe_sample_exports(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_rdata;
    typedef HP_IMAGE_EXPORT_DIRECTORY ed;
    uint32_t dir = mkpe_blob_zero(b, sizeof(ed));
    uint32_t funcs = mkpe_blob_zero(b, 5 * 4);
    uint32_t names = mkpe_blob_zero(b, 4 * 4);
    uint32_t ords = mkpe_blob_zero(b, 4 * 2);
    uint32_t dll = mkpe_blob_str(b, "sample.dll");
    const char *nm[4] = { "Alpha", "Beta", "Gamma", "Sleep2" };
    const uint16_t ord[4] = { 0, 1, 2, 4 };
    for (unsigned i = 0; i < 4; i++) {
        mkpe_blob_put32(b, names + 4 * i, mkpe_blob_str(b, nm[i]));
        mkpe_blob_put16(b, ords + 2 * i, ord[i]);
    }
    uint32_t fwd = mkpe_blob_str(b, "sample.Alpha");
    uint32_t fwd2 = mkpe_blob_str(b, "KERNEL32.Sleep");
    mkpe_blob_put32(b, funcs + 0, m->rva.f0);
    mkpe_blob_put32(b, funcs + 4, m->rva.f1);
    mkpe_blob_put32(b, funcs + 8, fwd);
    mkpe_blob_put32(b, funcs + 12, 0);
    mkpe_blob_put32(b, funcs + 16, fwd2);
    MKPE_BLOB_PUT(b, dir, ed, TimeDateStamp, m->spec.timestamp);
    MKPE_BLOB_PUT(b, dir, ed, Name, dll);
    MKPE_BLOB_PUT(b, dir, ed, Base, 1);
    MKPE_BLOB_PUT(b, dir, ed, NumberOfFunctions, 5);
    MKPE_BLOB_PUT(b, dir, ed, NumberOfNames, 4);
    MKPE_BLOB_PUT(b, dir, ed, AddressOfFunctions, funcs);
    MKPE_BLOB_PUT(b, dir, ed, AddressOfNames, names);
    MKPE_BLOB_PUT(b, dir, ed, AddressOfNameOrdinals, ords);
    m->rva.exp_dir = dir;
    m->rva.exp_funcs = funcs;
    m->rva.exp_names = names;
    m->rva.exp_ords = ords;
    m->rva.exp_dll_name = dll;
    m->rva.exp_fwd = fwd;
    m->rva.exp_size = b->rva + b->size - dir; /* forwarder strings lie inside the directory */
    mkpe_set_dir(&m->spec, HP_IMAGE_DIRECTORY_ENTRY_EXPORT, dir, m->rva.exp_size);
}

static inline void mkpe_sample_imports(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_rdata;
    uint64_t ordinal_flag = m->spec.pe32plus ? 1ull << 63 : 1ull << 31;
    typedef HP_IMAGE_IMPORT_DESCRIPTOR id;
    typedef HP_IMAGE_DELAYLOAD_DESCRIPTOR dd;

    uint32_t desc = mkpe_blob_zero(b, 2 * sizeof(id));
    uint32_t ilt = mkpe_sample_ptr(m, b, 0);
    mkpe_sample_ptr(m, b, ordinal_flag | 16);
    mkpe_sample_ptr(m, b, 0);
    uint32_t hn = mkpe_blob_u16(b, 0x5a5);
    mkpe_blob_str(b, "Sleep");
    uint32_t dll = mkpe_blob_str(b, "KERNEL32.dll");
    mkpe_sample_put_ptr(m, b, ilt, hn);
    MKPE_BLOB_PUT(b, desc, id, OriginalFirstThunk, ilt);
    MKPE_BLOB_PUT(b, desc, id, Name, dll);
    MKPE_BLOB_PUT(b, desc, id, FirstThunk, m->rva.iat);
    /* The on-disk IAT holds the same thunks as the lookup table. */
    mkpe_sample_put_ptr(m, &m->b_data, m->rva.iat, hn);
    mkpe_sample_put_ptr(m, &m->b_data, m->rva.iat + (m->spec.pe32plus ? 8 : 4), ordinal_flag | 16);
    m->rva.imp_desc = desc;
    m->rva.imp_ilt = ilt;
    m->rva.imp_dll_name = dll;
    m->rva.imp_hint_name = hn;
    mkpe_set_dir(&m->spec, HP_IMAGE_DIRECTORY_ENTRY_IMPORT, desc, 2 * sizeof(id));
    mkpe_set_dir(&m->spec, HP_IMAGE_DIRECTORY_ENTRY_IAT, m->rva.iat,
                 3 * (m->spec.pe32plus ? 8 : 4));

    uint32_t ddesc = mkpe_blob_zero(b, 2 * sizeof(dd));
    uint32_t dint = mkpe_sample_ptr(m, b, 0);
    mkpe_sample_ptr(m, b, 0);
    uint32_t dhn = mkpe_blob_u16(b, 0x283);
    mkpe_blob_str(b, "MessageBoxA");
    uint32_t ddll = mkpe_blob_str(b, "USER32.dll");
    mkpe_sample_put_ptr(m, b, dint, dhn);
    MKPE_BLOB_PUT(b, ddesc, dd, Attributes, 1);
    MKPE_BLOB_PUT(b, ddesc, dd, DllNameRVA, ddll);
    MKPE_BLOB_PUT(b, ddesc, dd, ModuleHandleRVA, m->rva.delay_handle);
    MKPE_BLOB_PUT(b, ddesc, dd, ImportAddressTableRVA, m->rva.delay_iat);
    MKPE_BLOB_PUT(b, ddesc, dd, ImportNameTableRVA, dint);
    /* Before the first call the delay IAT points at the (here: absent) helper thunk. */
    mkpe_sample_put_ptr(m, &m->b_data, m->rva.delay_iat, mkpe_sample_va(m, m->rva.f1));
    m->rva.dimp_desc = ddesc;
    m->rva.dimp_int = dint;
    m->rva.dimp_dll_name = ddll;
    m->rva.dimp_hint_name = dhn;
    mkpe_set_dir(&m->spec, HP_IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT, ddesc, 2 * sizeof(dd));
}

static inline void mkpe_sample_debug(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_rdata;
    typedef HP_IMAGE_DEBUG_DIRECTORY dd;
    static const uint8_t guid[16] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                                      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
    uint32_t dir = mkpe_blob_zero(b, sizeof(dd));
    uint32_t cv = mkpe_blob_u32(b, HP_CODEVIEW_RSDS);
    mkpe_blob_add(b, guid, sizeof guid, 1);
    mkpe_blob_u32(b, 3);
    mkpe_blob_str(b, "C:\\build\\sample.pdb");
    uint32_t cv_size = b->rva + b->size - cv;
    MKPE_BLOB_PUT(b, dir, dd, TimeDateStamp, m->spec.timestamp);
    MKPE_BLOB_PUT(b, dir, dd, Type, HP_IMAGE_DEBUG_TYPE_CODEVIEW);
    MKPE_BLOB_PUT(b, dir, dd, SizeOfData, cv_size);
    MKPE_BLOB_PUT(b, dir, dd, AddressOfRawData, cv);
    MKPE_BLOB_PUT(b, dir, dd, PointerToRawData, mkpe_rva_offset(&m->spec, m->rdata, cv));
    m->rva.debug_dir = dir;
    m->rva.codeview = cv;
    mkpe_set_dir(&m->spec, HP_IMAGE_DIRECTORY_ENTRY_DEBUG, dir, sizeof(dd));
}

static inline void mkpe_sample_loadcfg(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_rdata;
    bool x64 = m->spec.pe32plus;
    typedef HP_IMAGE_LOAD_CONFIG_DIRECTORY32 l32;
    typedef HP_IMAGE_LOAD_CONFIG_DIRECTORY64 l64;
    typedef HP_IMAGE_HOT_PATCH_INFO hi;
    typedef HP_IMAGE_HOT_PATCH_BASE hb;

    /* CFG function table: RVA + 1 metadata byte per entry. */
    uint32_t table = mkpe_blob_u32(b, m->rva.f0);
    mkpe_blob_add(b, "\0", 1, 1);
    uint8_t e1[5];
    mkpe_store(e1, m->rva.f1, 4);
    e1[4] = 0;
    mkpe_blob_add(b, e1, 5, 1);
    uint32_t seh = mkpe_blob_u32(b, m->rva.f0);

    /* IMAGE_HOT_PATCH_INFO v1 + a list of one offset + one IMAGE_HOT_PATCH_BASE (v1 size). */
    uint32_t info = mkpe_blob_zero(b, offsetof(hi, BufferOffset));
    uint32_t list = mkpe_blob_u32(b, 0);
    uint32_t base = mkpe_blob_zero(b, offsetof(hb, BufferOffset));
    MKPE_BLOB_PUT(b, info, hi, Version, 1);
    MKPE_BLOB_PUT(b, info, hi, Size, base + offsetof(hb, BufferOffset) - info);
    MKPE_BLOB_PUT(b, info, hi, SequenceNumber, 1);
    MKPE_BLOB_PUT(b, info, hi, BaseImageList, list - info);
    MKPE_BLOB_PUT(b, info, hi, BaseImageCount, 1);
    mkpe_blob_put32(b, list, base - info);
    MKPE_BLOB_PUT(b, base, hb, SequenceNumber, 1);
    MKPE_BLOB_PUT(b, base, hb, Flags, x64 ? HP_IMAGE_HOT_PATCH_BASE_MACHINE_AMD64
                                          : HP_IMAGE_HOT_PATCH_BASE_MACHINE_I386);
    MKPE_BLOB_PUT(b, base, hb, OriginalTimeDateStamp, 0x5e000000);
    MKPE_BLOB_PUT(b, base, hb, OriginalCheckSum, 0x1234);

    uint32_t size = x64 ? sizeof(l64) : sizeof(l32);
    uint32_t lc = mkpe_blob_add(b, NULL, size, 8);
    uint32_t flags = HP_IMAGE_GUARD_CF_INSTRUMENTED | HP_IMAGE_GUARD_CF_FUNCTION_TABLE_PRESENT |
                     (1u << HP_IMAGE_GUARD_CF_FUNCTION_TABLE_SIZE_SHIFT);
    if (x64) {
        MKPE_BLOB_PUT(b, lc, l64, Size, size);
        MKPE_BLOB_PUT(b, lc, l64, SecurityCookie, mkpe_sample_va(m, m->rva.cookie));
        MKPE_BLOB_PUT(b, lc, l64, GuardCFCheckFunctionPointer, mkpe_sample_va(m, m->rva.cfg_check));
        MKPE_BLOB_PUT(b, lc, l64, GuardCFFunctionTable, mkpe_sample_va(m, table));
        MKPE_BLOB_PUT(b, lc, l64, GuardCFFunctionCount, 2);
        MKPE_BLOB_PUT(b, lc, l64, GuardFlags, flags);
        MKPE_BLOB_PUT(b, lc, l64, HotPatchTableOffset, info);
    } else {
        MKPE_BLOB_PUT(b, lc, l32, Size, size);
        MKPE_BLOB_PUT(b, lc, l32, SecurityCookie, (uint32_t)mkpe_sample_va(m, m->rva.cookie));
        MKPE_BLOB_PUT(b, lc, l32, SEHandlerTable, (uint32_t)mkpe_sample_va(m, seh));
        MKPE_BLOB_PUT(b, lc, l32, SEHandlerCount, 1);
        MKPE_BLOB_PUT(b, lc, l32, GuardCFCheckFunctionPointer,
                      (uint32_t)mkpe_sample_va(m, m->rva.cfg_check));
        MKPE_BLOB_PUT(b, lc, l32, GuardCFFunctionTable, (uint32_t)mkpe_sample_va(m, table));
        MKPE_BLOB_PUT(b, lc, l32, GuardCFFunctionCount, 2);
        MKPE_BLOB_PUT(b, lc, l32, GuardFlags, flags);
        MKPE_BLOB_PUT(b, lc, l32, HotPatchTableOffset, info);
    }
    m->rva.loadcfg = lc;
    m->rva.loadcfg_size = size;
    m->rva.cfg_table = table;
    m->rva.seh_table = seh;
    m->rva.hpi = info;
    m->rva.hpi_base = base;
    mkpe_set_dir(&m->spec, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG, lc, size);
    m->spec.dll_characteristics |= HP_IMAGE_DLLCHARACTERISTICS_GUARD_CF;
}

/* x64 unwind info: push rbp at offset 9 (after the 8-byte hotpatch lea), and a chained record. */
static inline void mkpe_sample_unwind(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_rdata;
    static const uint8_t u0[] = { 0x01, 0x09, 0x01, 0x00, 0x09, 0x50, 0x00, 0x00 };
    m->rva.unwind0 = mkpe_blob_add(b, u0, sizeof u0, 4);
    /* Version 1 | UNW_FLAG_CHAININFO << 3, no codes, then the parent RUNTIME_FUNCTION. */
    static const uint8_t u2[] = { 0x01 | (HP_UNW_FLAG_CHAININFO << 3), 0x00, 0x00, 0x00 };
    m->rva.unwind2 = mkpe_blob_add(b, u2, sizeof u2, 4);
    mkpe_blob_u32(b, m->rva.f1);
    mkpe_blob_u32(b, m->rva.f1 + 11);
    mkpe_blob_u32(b, m->rva.unwind0);
}

static inline void mkpe_sample_pdata(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_pdata;
    uint32_t rows[3][3] = {
        { m->rva.f0, m->rva.f0 + 11, m->rva.unwind0 },
        { m->rva.f1, m->rva.f1 + 11, m->rva.unwind0 },
        { m->rva.f1 + 11, m->rva.text_end, m->rva.unwind2 },
    };
    m->rva.pdata = b->rva;
    for (unsigned i = 0; i < 3; i++)
        for (unsigned k = 0; k < 3; k++)
            mkpe_blob_u32(b, rows[i][k]);
    m->rva.pdata_size = 36;
    mkpe_set_dir(&m->spec, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION, m->rva.pdata, 36);
}

static inline void mkpe_sample_relocs(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_reloc;
    uint16_t type = m->spec.pe32plus ? HP_IMAGE_REL_BASED_DIR64 : HP_IMAGE_REL_BASED_HIGHLOW;
    uint32_t page = m->rva.cookie & ~0xfffu;
    m->rva.reloc = mkpe_blob_u32(b, page);
    mkpe_blob_u32(b, 16);
    mkpe_blob_u16(b, (uint16_t)(type << 12 | (m->rva.delay_iat - page)));
    mkpe_blob_u16(b, (uint16_t)(type << 12 | (m->rva.fixup_slot - page)));
    mkpe_blob_u16(b, HP_IMAGE_REL_BASED_ABSOLUTE << 12);
    mkpe_blob_u16(b, HP_IMAGE_REL_BASED_ABSOLUTE << 12);
    m->rva.reloc_size = 16;
    mkpe_set_dir(&m->spec, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC, m->rva.reloc, 16);
}

static inline void mkpe_sample_hotp(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_hotp;
    bool x64 = m->spec.pe32plus;
    typedef HP_HOTPATCH_HEADER hh;
    typedef HP_HOTPATCH_HOOK hk;
    typedef HP_HOTPATCH_VALIDATION hv;
    static const uint8_t pad_bytes[5] = { 0xcc, 0xcc, 0xcc, 0xcc, 0xcc };
    static const uint8_t entry_x86[2] = { 0x8b, 0xff };
    static const uint8_t entry_x64[2] = { 0x48, 0x8d };

    uint32_t hdr = mkpe_blob_zero(b, sizeof(hh));
    uint32_t hooks = mkpe_blob_zero(b, 2 * sizeof(hk));
    uint32_t vals = mkpe_blob_zero(b, 2 * sizeof(hv));
    uint32_t bytes = mkpe_blob_add(b, pad_bytes, 5, 1);
    mkpe_blob_add(b, x64 ? entry_x64 : entry_x86, 2, 1);
    uint32_t name = mkpe_blob_str(b, "base.exe");
    /* One region on the page of .data's fixup slot: one entry and one None pad. */
    uint32_t page = m->rva.fixup_slot & ~0xfffu;
    uint32_t rgn = mkpe_blob_u32(b, (page >> 12) | (2u << 20));
    mkpe_blob_u16(b, (uint16_t)((x64 ? HP_HOTP_Fixup_VA64 : HP_HOTP_Fixup_VA32) << 12 |
                                (m->rva.fixup_slot - page)));
    mkpe_blob_u16(b, HP_HOTP_Fixup_None << 12);

    /* The patch's replacement function is f1; the target sites are at base RVA 0x1550. */
    MKPE_BLOB_PUT(b, hooks, hk, HookType, x64 ? HP_HOTP_Hook_AMD64_IND : HP_HOTP_Hook_X86_JMP);
    MKPE_BLOB_PUT(b, hooks, hk, HookOptions, 5);
    MKPE_BLOB_PUT(b, hooks, hk, HookRva, 0x1550 - 5);
    MKPE_BLOB_PUT(b, hooks, hk, HotpRva, m->rva.f1);
    MKPE_BLOB_PUT(b, hooks, hk, ValidationRva, vals);
    MKPE_BLOB_PUT(b, hooks + sizeof(hk), hk, HookType, HP_HOTP_Hook_X86_JMP2B);
    MKPE_BLOB_PUT(b, hooks + sizeof(hk), hk, HookOptions, 2);
    MKPE_BLOB_PUT(b, hooks + sizeof(hk), hk, HookRva, 0x1550);
    MKPE_BLOB_PUT(b, hooks + sizeof(hk), hk, HotpRva, 0xf9); /* jmp $-5 */
    MKPE_BLOB_PUT(b, hooks + sizeof(hk), hk, ValidationRva, vals + sizeof(hv));
    MKPE_BLOB_PUT(b, vals, hv, SourceRva, bytes);
    MKPE_BLOB_PUT(b, vals, hv, TargetRva, 0x1550 - 5);
    MKPE_BLOB_PUT(b, vals, hv, ByteCount, 5);
    MKPE_BLOB_PUT(b, vals, hv, OptionFlags, HP_HOTP_Valid_Hook_Target);
    MKPE_BLOB_PUT(b, vals + sizeof(hv), hv, SourceRva, bytes + 5);
    MKPE_BLOB_PUT(b, vals + sizeof(hv), hv, TargetRva, 0x1550);
    MKPE_BLOB_PUT(b, vals + sizeof(hv), hv, ByteCount, 2);
    MKPE_BLOB_PUT(b, vals + sizeof(hv), hv, OptionFlags, HP_HOTP_Valid_Hook_Target);

    MKPE_BLOB_PUT(b, hdr, hh, Signature, HP_HOTP_SIGNATURE);
    MKPE_BLOB_PUT(b, hdr, hh, Version, HP_HOTP_VERSION);
    MKPE_BLOB_PUT(b, hdr, hh, FixupRgnCount, 1);
    MKPE_BLOB_PUT(b, hdr, hh, FixupRgnRva, rgn);
    MKPE_BLOB_PUT(b, hdr, hh, ValidationCount, 2);
    MKPE_BLOB_PUT(b, hdr, hh, ValidationArrayRva, vals);
    MKPE_BLOB_PUT(b, hdr, hh, HookCount, 2);
    MKPE_BLOB_PUT(b, hdr, hh, HookArrayRva, hooks);
    MKPE_BLOB_PUT(b, hdr, hh, OrigHotpBaseAddress, m->spec.image_base);
    MKPE_BLOB_PUT(b, hdr, hh, OrigTargetBaseAddress, 0x400000);
    MKPE_BLOB_PUT(b, hdr, hh, TargetNameRva, name);
    MKPE_BLOB_PUT(b, hdr, hh, ModuleIdMethod, HP_HOTP_ID_None);
    m->rva.hotp = hdr;
    m->rva.hotp_hooks = hooks;
    m->rva.hotp_vals = vals;
    m->rva.hotp_fixups = rgn;
    m->rva.hotp_name = name;
    m->rva.hotp_bytes = bytes;
}

/* COFF symbols and string table, after the last section's raw data. */
static inline void mkpe_sample_symbols(mkpe_sample *m)
{
    mkpe_blob *b = &m->b_trailer;
    typedef HP_IMAGE_SYMBOL sy;
    const char *long_name = "f0_with_a_long_name";
    uint32_t base = mkpe_trailer_offset(&m->spec);
    mkpe_blob_init(b, base); /* "RVA" here is the file offset */
    uint32_t s0 = mkpe_blob_add(b, NULL, 4 * sizeof(sy), 1);
    memcpy(b->data + (s0 - base), ".text", 5);
    MKPE_BLOB_PUT(b, s0, sy, SectionNumber, m->text + 1);
    MKPE_BLOB_PUT(b, s0, sy, StorageClass, HP_IMAGE_SYM_CLASS_STATIC);
    MKPE_BLOB_PUT(b, s0, sy, NumberOfAuxSymbols, 1);
    uint32_t s1 = s0 + 2 * sizeof(sy);
    MKPE_BLOB_PUT(b, s1, sy, N.Name.Long, 4);
    MKPE_BLOB_PUT(b, s1, sy, Value, m->rva.f0 - m->b_text.rva);
    MKPE_BLOB_PUT(b, s1, sy, SectionNumber, m->text + 1);
    MKPE_BLOB_PUT(b, s1, sy, Type, HP_IMAGE_SYM_DTYPE_FUNCTION << 4);
    MKPE_BLOB_PUT(b, s1, sy, StorageClass, HP_IMAGE_SYM_CLASS_EXTERNAL);
    uint32_t s2 = s1 + sizeof(sy);
    memcpy(b->data + (s2 - base), "f1", 2);
    MKPE_BLOB_PUT(b, s2, sy, Value, m->rva.f1 - m->b_text.rva);
    MKPE_BLOB_PUT(b, s2, sy, SectionNumber, m->text + 1);
    MKPE_BLOB_PUT(b, s2, sy, Type, HP_IMAGE_SYM_DTYPE_FUNCTION << 4);
    MKPE_BLOB_PUT(b, s2, sy, StorageClass, HP_IMAGE_SYM_CLASS_EXTERNAL);
    uint32_t st = mkpe_blob_add(b, NULL, 4, 1);
    mkpe_blob_str(b, long_name);
    mkpe_blob_put32(b, st, b->rva + b->size - st);
    m->symtab_offset = s0;
    m->strtab_offset = st;
    m->spec.trailer = b->data;
    m->spec.trailer_size = b->size;
    m->spec.trailer_is_symtab = true;
    m->spec.symbol_count = 4;
}

static inline void mkpe_sample_free(mkpe_sample *m)
{
    mkpe_blob_free(&m->b_text);
    mkpe_blob_free(&m->b_data);
    mkpe_blob_free(&m->b_rdata);
    mkpe_blob_free(&m->b_pdata);
    mkpe_blob_free(&m->b_reloc);
    mkpe_blob_free(&m->b_hotp);
    mkpe_blob_free(&m->b_trailer);
}

static inline void mkpe_sample_init(mkpe_sample *m, mkpe_arch arch)
{
    memset(m, 0, sizeof *m);
    m->arch = arch;
    mkpe_init(&m->spec, arch);
    bool x64 = arch == MKPE_X64;
    /* Every section first: the section table's size fixes all file offsets. */
    m->text = mkpe_add_section(&m->spec, ".text", MKPE_CODE, NULL, 0, 0);
    m->data = mkpe_add_section(&m->spec, ".data", MKPE_DATA, NULL, 0, 0);
    m->rdata = mkpe_add_section(&m->spec, ".rdata", MKPE_RDATA, NULL, 0, 0);
    m->pdata = x64 ? mkpe_add_section(&m->spec, ".pdata", MKPE_RDATA, NULL, 0, 0) : 0;
    m->reloc = mkpe_add_section(&m->spec, ".reloc", MKPE_RDATA | HP_IMAGE_SCN_MEM_DISCARDABLE,
                                NULL, 0, 0);
    m->hotp = mkpe_add_section(&m->spec, HP_HOTP_SECTION_NAME, MKPE_RDATA, NULL, 0, 0);

    /* Each section's RVA is known once the sections before it have their final size. */
    mkpe_blob_init(&m->b_text, mkpe_section_rva(&m->spec, m->text));
    mkpe_sample_text(m);
    mkpe_set_section_blob(&m->spec, m->text, &m->b_text);
    m->spec.entry_point = m->rva.f0;

    mkpe_blob_init(&m->b_data, mkpe_section_rva(&m->spec, m->data));
    mkpe_sample_data(m);
    mkpe_set_section_blob(&m->spec, m->data, &m->b_data);

    mkpe_blob_init(&m->b_rdata, mkpe_section_rva(&m->spec, m->rdata));
    mkpe_sample_exports(m);
    mkpe_sample_imports(m);
    mkpe_sample_debug(m);
    mkpe_sample_loadcfg(m);
    if (x64)
        mkpe_sample_unwind(m);
    m->rva.tail = mkpe_blob_add(&m->b_rdata, "ZZZZ", 4, 1);
    mkpe_set_section_blob(&m->spec, m->rdata, &m->b_rdata);

    if (x64) {
        mkpe_blob_init(&m->b_pdata, mkpe_section_rva(&m->spec, m->pdata));
        mkpe_sample_pdata(m);
        mkpe_set_section_blob(&m->spec, m->pdata, &m->b_pdata);
    }
    mkpe_blob_init(&m->b_reloc, mkpe_section_rva(&m->spec, m->reloc));
    mkpe_sample_relocs(m);
    mkpe_set_section_blob(&m->spec, m->reloc, &m->b_reloc);

    mkpe_blob_init(&m->b_hotp, mkpe_section_rva(&m->spec, m->hotp));
    mkpe_sample_hotp(m);
    mkpe_set_section_blob(&m->spec, m->hotp, &m->b_hotp);

    mkpe_sample_symbols(m);
}

#endif
