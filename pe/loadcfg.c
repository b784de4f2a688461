/* hotpe: the load config directory and its CFG tables (see pe.h). */
#include <string.h>

#include "internal.h"

typedef HP_IMAGE_LOAD_CONFIG_DIRECTORY32 lc32;
typedef HP_IMAGE_LOAD_CONFIG_DIRECTORY64 lc64;

#define LC_SIZEOF(type, field) sizeof(((type *)0)->field)

/* Every field, listed once, in the order of the 64-bit layout. */
#define LC_FIELDS(X)                                                                               \
    X(Size)                                                                                        \
    X(TimeDateStamp)                                                                               \
    X(MajorVersion)                                                                                \
    X(MinorVersion)                                                                                \
    X(GlobalFlagsClear)                                                                            \
    X(GlobalFlagsSet)                                                                              \
    X(CriticalSectionDefaultTimeout)                                                               \
    X(DeCommitFreeBlockThreshold)                                                                  \
    X(DeCommitTotalFreeThreshold)                                                                  \
    X(LockPrefixTable)                                                                             \
    X(MaximumAllocationSize)                                                                       \
    X(VirtualMemoryThreshold)                                                                      \
    X(ProcessAffinityMask)                                                                         \
    X(ProcessHeapFlags)                                                                            \
    X(CSDVersion)                                                                                  \
    X(DependentLoadFlags)                                                                          \
    X(EditList)                                                                                    \
    X(SecurityCookie)                                                                              \
    X(SEHandlerTable)                                                                              \
    X(SEHandlerCount)                                                                              \
    X(GuardCFCheckFunctionPointer)                                                                 \
    X(GuardCFDispatchFunctionPointer)                                                              \
    X(GuardCFFunctionTable)                                                                        \
    X(GuardCFFunctionCount)                                                                        \
    X(GuardFlags)                                                                                  \
    X(CodeIntegrityFlags)                                                                          \
    X(CodeIntegrityCatalog)                                                                        \
    X(CodeIntegrityCatalogOffset)                                                                  \
    X(CodeIntegrityReserved)                                                                       \
    X(GuardAddressTakenIatEntryTable)                                                              \
    X(GuardAddressTakenIatEntryCount)                                                              \
    X(GuardLongJumpTargetTable)                                                                    \
    X(GuardLongJumpTargetCount)                                                                    \
    X(DynamicValueRelocTable)                                                                      \
    X(CHPEMetadataPointer)                                                                         \
    X(GuardRFFailureRoutine)                                                                       \
    X(GuardRFFailureRoutineFunctionPointer)                                                        \
    X(DynamicValueRelocTableOffset)                                                                \
    X(DynamicValueRelocTableSection)                                                               \
    X(Reserved2)                                                                                   \
    X(GuardRFVerifyStackPointerFunctionPointer)                                                    \
    X(HotPatchTableOffset)                                                                         \
    X(Reserved3)                                                                                   \
    X(EnclaveConfigurationPointer)                                                                 \
    X(VolatileMetadataPointer)                                                                     \
    X(GuardEHContinuationTable)                                                                    \
    X(GuardEHContinuationCount)                                                                    \
    X(GuardXFGCheckFunctionPointer)                                                                \
    X(GuardXFGDispatchFunctionPointer)                                                             \
    X(GuardXFGTableDispatchFunctionPointer)                                                        \
    X(CastGuardOsDeterminedFailureMode)                                                            \
    X(GuardMemcpyFunctionPointer)                                                                  \
    X(UmaFunctionPointers)

/* One row per field: where it sits in the PE32 and the PE32+ layout. */
#define LC_ROW(field)                                                                          \
    { #field, offsetof(lc32, field), LC_SIZEOF(lc32, field), offsetof(lc64, field),          \
      LC_SIZEOF(lc64, field) },
static const hp_pe_loadcfg_field fields[] = { LC_FIELDS(LC_ROW) };
#define FIELD_COUNT (sizeof fields / sizeof fields[0])

/* The structs are packed, so the widths add up to their sizes only when no field is missing. */
#define LC_WIDTH32(field) +LC_SIZEOF(lc32, field)
#define LC_WIDTH64(field) +LC_SIZEOF(lc64, field)
_Static_assert(0 LC_FIELDS(LC_WIDTH32) == sizeof(lc32), "a PE32 load config field is missing");
_Static_assert(0 LC_FIELDS(LC_WIDTH64) == sizeof(lc64), "a PE32+ load config field is missing");

/* Legacy x86 images keep 64 in the directory whatever the structure's Size (see below). */
#define HP_LOADCFG_X86_LEGACY_DIR_SIZE 64u

const hp_pe_loadcfg_field *hp_pe_loadcfg_fields(size_t *count)
{
    if (count)
        *count = FIELD_COUNT;
    return fields;
}

static const hp_pe_loadcfg_field *field_at64(size_t offset64)
{
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (fields[i].offset64 == offset64)
            return &fields[i];
    return NULL;
}

/* Precondition: f is a row of fields[]. A field counts only when Size covers all of it. */
static bool field_present(bool pe32plus, uint32_t size, const hp_pe_loadcfg_field *f)
{
    return pe32plus ? (uint64_t)f->offset64 + f->width64 <= size
                    : (uint64_t)f->offset32 + f->width32 <= size;
}

bool hp_pe_loadcfg_has(const hp_pe *pe, const hp_pe_loadcfg *lc, size_t offset64)
{
    if (!pe || !lc || !lc->present)
        return false;
    const hp_pe_loadcfg_field *f = field_at64(offset64);
    return f && field_present(pe->pe32plus, lc->size, f);
}

uint64_t hp_pe_loadcfg_value(const hp_pe_loadcfg *lc, const hp_pe_loadcfg_field *field)
{
    const uint8_t *p = (const uint8_t *)&lc->f + field->offset64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    switch (field->width64) {
    case 1: memcpy(&u8, p, 1); return u8;
    case 2: memcpy(&u16, p, 2); return u16;
    case 4: memcpy(&u32, p, 4); return u32;
    default: memcpy(&u64, p, 8); return u64;
    }
}

/* Store v into the host struct at a field's 64-bit position (host memory, not file bytes). */
static void store_field(HP_IMAGE_LOAD_CONFIG_DIRECTORY64 *dst, const hp_pe_loadcfg_field *f,
                        uint64_t v)
{
    uint8_t *p = (uint8_t *)dst + f->offset64;
    uint8_t u8 = (uint8_t)v;
    uint16_t u16 = (uint16_t)v;
    uint32_t u32 = (uint32_t)v;
    switch (f->width64) {
    case 1: memcpy(p, &u8, 1); break;
    case 2: memcpy(p, &u16, 2); break;
    case 4: memcpy(p, &u32, 4); break;
    default: memcpy(p, &v, 8); break;
    }
}

/* One CFG table: `count` entries of `stride` bytes at virtual address `va` (a VA, not an RVA,
 * like every pointer of the load config). VA 0 means no table, whatever the count, as
 * llvm-readobj reads it. */
static hp_status parse_guard_table(const hp_pe *pe, hp_arena *arena, uint64_t va, uint64_t count,
                                   uint32_t stride, hp_pe_guard_table *out)
{
    uint32_t rva;
    uint64_t bytes;
    hp_rd view;

    out->count = 0;
    out->entries = NULL;
    if (va == 0 || count == 0)
        return HP_OK;
    /* Count is bounded by the bytes really there before anything is allocated. */
    if (!hp_mul_u64(count, stride, &bytes))
        return HP_E_LOADCFG_TABLE;
    HP_CHECK_AS(hp_pe_va_to_rva(pe, va, &rva), HP_E_LOADCFG_TABLE);
    HP_CHECK_AS(hp_pe_rva_view(pe, rva, bytes, &view), HP_E_LOADCFG_TABLE);

    hp_pe_guard_entry *entries = hp_arena_array(arena, (size_t)count, sizeof *entries);
    if (!entries)
        return HP_E_NOMEM;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t at = i * stride;
        uint32_t entry_rva;
        uint8_t flags = 0;
        HP_CHECK_AS(hp_rd_u32(&view, at, &entry_rva), HP_E_LOADCFG_TABLE);
        if (stride > 4)
            HP_CHECK_AS(hp_rd_u8(&view, at + 4, &flags), HP_E_LOADCFG_TABLE);
        entries[i].rva = entry_rva;
        entries[i].flags = flags;
    }
    out->count = count;
    out->entries = entries;
    return HP_OK;
}

hp_status hp_pe_loadcfg_parse(const hp_pe *pe, hp_arena *arena, hp_pe_loadcfg *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    out->guard_stride = 4;

    hp_pe_dir dir = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG);
    if (dir.rva == 0 || dir.size == 0)
        return HP_OK;

    uint64_t off, avail;
    hp_rd rd;
    uint32_t size;
    if (dir.size < sizeof size)
        return HP_E_LOADCFG_SIZE;
    HP_CHECK_AS(hp_pe_rva_to_offset(pe, dir.rva, &off, &avail), HP_E_DIR_RANGE);
    HP_CHECK_AS(hp_pe_rva_u32(pe, dir.rva, &size), HP_E_LOADCFG_SIZE);

    /*
     * Which size counts. The structure's own Size field says which fields exist: llvm-readobj
     * and dumpbin go by it. The directory size normally equals it, but for Windows XP's sake
     * MSVC writes 64 into the directory of x86 images whatever the real Size (the PE spec:
     * "the size must be 64 for x86 images"), so there a larger Size is legitimate. Elsewhere
     * a Size past the directory is an error. In every case all Size bytes must be backed by
     * the image. (No Wine corpus image has a load config; the clang-cl DLLs of test_cfg.sh
     * have directory size == Size, and a copy patched to 64 checks the x86 rule.)
     */
    bool legacy_x86 = !pe->pe32plus && dir.size == HP_LOADCFG_X86_LEGACY_DIR_SIZE;
    if ((size > dir.size && !legacy_x86) || size > avail)
        return HP_E_LOADCFG_SIZE;
    HP_CHECK_AS(hp_pe_rva_view(pe, dir.rva, size, &rd), HP_E_LOADCFG_SIZE);

    out->present = true;
    out->dir_size = dir.size;
    out->size = size;
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        const hp_pe_loadcfg_field *f = &fields[i];
        uint64_t v;
        if (!field_present(pe->pe32plus, size, f))
            continue;
        if (pe->pe32plus)
            HP_CHECK_AS(hp_rd_uint(&rd, f->offset64, f->width64, &v), HP_E_LOADCFG_SIZE);
        else
            HP_CHECK_AS(hp_rd_uint(&rd, f->offset32, f->width32, &v), HP_E_LOADCFG_SIZE);
        store_field(&out->f, f, v);
    }

    out->guard_stride = 4 + ((out->f.GuardFlags & HP_IMAGE_GUARD_CF_FUNCTION_TABLE_SIZE_MASK) >>
                             HP_IMAGE_GUARD_CF_FUNCTION_TABLE_SIZE_SHIFT);
    /* Windows applies the one stride of GuardFlags to every CFG table. */
    HP_CHECK(parse_guard_table(pe, arena, out->f.GuardCFFunctionTable, out->f.GuardCFFunctionCount,
                               out->guard_stride, &out->cf_functions));
    HP_CHECK(parse_guard_table(pe, arena, out->f.GuardAddressTakenIatEntryTable,
                               out->f.GuardAddressTakenIatEntryCount, out->guard_stride,
                               &out->iat_entries));
    HP_CHECK(parse_guard_table(pe, arena, out->f.GuardLongJumpTargetTable,
                               out->f.GuardLongJumpTargetCount, out->guard_stride,
                               &out->longjmp_targets));
    HP_CHECK(parse_guard_table(pe, arena, out->f.GuardEHContinuationTable,
                               out->f.GuardEHContinuationCount, out->guard_stride,
                               &out->ehcont_targets));
    return HP_OK;
}
