/* hotpe: the x64 exception directory (.pdata) and chained unwind info (see pe.h). */
#include "internal.h"

typedef HP_IMAGE_RUNTIME_FUNCTION_ENTRY rfe;

/* Chains longer than this are corrupt or malicious: Windows' own unwinder gives up as well. */
#define HP_UNWIND_MAX_LINKS 32
/* UnwindData with the low bit set names another RUNTIME_FUNCTION rather than UNWIND_INFO
 * (RUNTIME_FUNCTION_INDIRECT in the x64 unwinder). */
#define HP_RUNTIME_FUNCTION_INDIRECT 0x1u

static hp_status read_runtime_function(const hp_rd *rd, uint64_t at, hp_pe_runtime_function *out)
{
    uint64_t b, e, u;
    HP_CHECK(HP_RD_FIELD(rd, at, rfe, BeginAddress, &b));
    HP_CHECK(HP_RD_FIELD(rd, at, rfe, EndAddress, &e));
    HP_CHECK(HP_RD_FIELD(rd, at, rfe, UnwindData, &u));
    out->begin = (uint32_t)b;
    out->end = (uint32_t)e;
    out->unwind = (uint32_t)u;
    return HP_OK;
}

hp_status hp_pe_pdata_parse(const hp_pe *pe, hp_arena *arena, hp_pe_pdata *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    out->count = 0;
    out->entries = NULL;

    hp_pe_dir dir = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION);
    if (dir.rva == 0 || dir.size == 0)
        return HP_OK;
    /* Other machines (x86 SEH, ARM's packed entries) use other layouts; none is read here. */
    if (pe->machine != HP_IMAGE_FILE_MACHINE_AMD64)
        return HP_E_UNSUPPORTED;
    if (dir.size % sizeof(rfe) != 0)
        return HP_E_PDATA;

    hp_rd view;
    HP_CHECK_AS(hp_pe_rva_view(pe, dir.rva, dir.size, &view), HP_E_PDATA);
    uint32_t count = dir.size / (uint32_t)sizeof(rfe);
    hp_pe_runtime_function *entries = hp_arena_array(arena, count, sizeof *entries);
    if (!entries)
        return HP_E_NOMEM;

    for (uint32_t i = 0; i < count; i++) {
        hp_pe_runtime_function *rf = &entries[i];
        HP_CHECK_AS(read_runtime_function(&view, (uint64_t)i * sizeof(rfe), rf), HP_E_PDATA);
        /* Empty entries (begin == end) are real: GCC leaves two in Wine's x64 jscript.dll. */
        if (rf->begin > rf->end || rf->end > pe->size_of_image)
            return HP_E_PDATA;
    }
    out->count = count;
    out->entries = entries;
    return HP_OK;
}

hp_status hp_pe_unwind_primary(const hp_pe *pe, const hp_pe_runtime_function *rf,
                               hp_pe_runtime_function *primary)
{
    if (!pe || !rf || !primary)
        return HP_E_ARG;

    hp_pe_runtime_function cur = *rf;
    for (unsigned links = 0;; links++) {
        hp_rd view;
        uint64_t parent_at;

        if (cur.unwind & HP_RUNTIME_FUNCTION_INDIRECT) {
            parent_at = cur.unwind & ~(uint32_t)HP_RUNTIME_FUNCTION_INDIRECT;
        } else {
            uint64_t vf, codes;
            HP_CHECK_AS(hp_pe_rva_view(pe, cur.unwind, sizeof(HP_UNWIND_INFO), &view),
                        HP_E_UNWIND);
            HP_CHECK_AS(HP_RD_FIELD(&view, 0, HP_UNWIND_INFO, VersionAndFlags, &vf), HP_E_UNWIND);
            if (!((vf >> 3) & HP_UNW_FLAG_CHAININFO)) {
                *primary = cur;
                return HP_OK;
            }
            HP_CHECK_AS(HP_RD_FIELD(&view, 0, HP_UNWIND_INFO, CountOfCodes, &codes), HP_E_UNWIND);
            /* Code slots are u16, padded to an even count so what follows is 4-aligned. */
            parent_at = (uint64_t)cur.unwind + sizeof(HP_UNWIND_INFO) + ((codes + 1) & ~1ull) * 2;
        }
        if (links == HP_UNWIND_MAX_LINKS || parent_at > UINT32_MAX)
            return HP_E_UNWIND;
        HP_CHECK_AS(hp_pe_rva_view(pe, (uint32_t)parent_at, sizeof(rfe), &view), HP_E_UNWIND);
        HP_CHECK_AS(read_runtime_function(&view, 0, &cur), HP_E_UNWIND);
    }
}
