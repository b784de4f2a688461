/* hotpe: the trampoline form's safety check (tramp.h), decoded with Zydis. */
#include "hotpe/pe/tramp.h"

#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "internal.h"

const char *hp_tramp_verdict_name(hp_tramp_verdict v)
{
    static const char *const names[] = {
#define HP_TRAMP_VERDICT_NAME(e, name) name,
        HP_TRAMP_VERDICT_LIST(HP_TRAMP_VERDICT_NAME)
#undef HP_TRAMP_VERDICT_NAME
    };
    return (unsigned)v < HP_TRAMP_VERDICT_COUNT ? names[v] : "?";
}

static hp_status refuse(hp_tramp_plan *out, hp_tramp_verdict v, uint32_t at)
{
    out->verdict = v;
    out->at = at;
    return HP_OK;
}

/* A direct branch in [rva, rva + size) that lands in (lo, hi): its RVA in *at. */
static hp_tramp_verdict branches(const ZydisDecoder *dec, const uint8_t *code, uint32_t size,
                                 uint32_t rva, uint32_t lo, uint32_t hi, uint32_t *at)
{
    for (uint32_t off = 0; off < size;) {
        ZydisDecodedInstruction in;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        *at = rva + off;
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(dec, code + off, size - off, &in, ops)))
            return HP_TRAMP_UNDECODABLE;
        bool branch = in.meta.category == ZYDIS_CATEGORY_COND_BR ||
                      in.meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
                      in.meta.category == ZYDIS_CATEGORY_CALL;
        ZyanU64 to;
        if (branch && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[0].imm.is_relative &&
            ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &ops[0], (ZyanU64)rva + off, &to)) &&
            to > lo && to < hi)
            return HP_TRAMP_BRANCH_INTO;
        off += in.length;
    }
    return HP_TRAMP_MOVABLE;
}

/* An instruction after which the next bytes are reached only by a branch, if at all. */
static bool ends_flow(const ZydisDecodedInstruction *in)
{
    return in->meta.category == ZYDIS_CATEGORY_RET ||
           in->meta.category == ZYDIS_CATEGORY_UNCOND_BR || in->mnemonic == ZYDIS_MNEMONIC_INT3 ||
           in->mnemonic == ZYDIS_MNEMONIC_UD2 || in->mnemonic == ZYDIS_MNEMONIC_HLT;
}

hp_status hp_tramp_analyze(bool x64, const uint8_t *code, uint32_t size, uint32_t rva,
                           const hp_tramp_frag *frags, unsigned nfrags, hp_tramp_plan *out)
{
    if (!code || !out || (nfrags && !frags))
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    if (size < HP_TRAMP_JUMP_LEN)
        return refuse(out, HP_TRAMP_TOO_SHORT, rva);
    ZydisDecoder dec;
    if (!ZYAN_SUCCESS(x64 ? ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)
                          : ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32,
                                             ZYDIS_STACK_WIDTH_32)))
        return HP_E_UNSUPPORTED;

    /* the range: whole instructions covering the jump, each with its recipe; one cut by the
     * function's end means the range crosses it */
    uint32_t len = 0;
    while (len < HP_TRAMP_JUMP_LEN) {
        ZydisDecodedInstruction in;
        ZydisDecoderContext zctx;
        ZyanStatus zs = ZydisDecoderDecodeInstruction(&dec, &zctx, code + len, size - len, &in);
        if (zs == ZYDIS_STATUS_NO_MORE_DATA)
            return refuse(out, HP_TRAMP_TOO_SHORT, rva + len);
        hp_insn_moved m;
        if (!ZYAN_SUCCESS(zs))
            return refuse(out, HP_TRAMP_UNDECODABLE, rva + len);
        if (hp_insn_moved_of(x64, code + len, size - len, &m) != HP_OK)
            return refuse(out, HP_TRAMP_UNMOVABLE, rva + len);
        /* the function's flow ends before the jump's last byte: what follows may be another
         * function's code that no entry names (a stripped x86 image, an x64 leaf) */
        if (len + in.length < HP_TRAMP_JUMP_LEN && ends_flow(&in))
            return refuse(out, HP_TRAMP_TOO_SHORT, rva + len);
        out->moved[out->count++] = m;
        len += m.len;
    }

    /* every direct branch of the function, against the range's inside (rva, rva + len) */
    uint32_t at;
    hp_tramp_verdict v = branches(&dec, code, size, rva, rva, rva + len, &at);
    for (unsigned i = 0; i < nfrags && v == HP_TRAMP_MOVABLE; i++) {
        if (!frags[i].code)
            return HP_E_ARG;
        v = branches(&dec, frags[i].code, frags[i].size, frags[i].rva, rva, rva + len, &at);
    }
    if (v != HP_TRAMP_MOVABLE)
        return refuse(out, v, at);
    out->len = (uint8_t)len;
    out->verdict = HP_TRAMP_MOVABLE;
    return HP_OK;
}

/* Sorting and searching arrays of records whose first field is a uint32_t key (.pdata
 * entries by begin, owned fragments by owner, entry RVAs). */
static int cmp_key(const void *a, const void *b)
{
    uint32_t x, y;
    memcpy(&x, a, sizeof x);
    memcpy(&y, b, sizeof y);
    return x < y ? -1 : x > y;
}

/* The first of n records (stride bytes apart, sorted) whose key is >= key (above: > key). */
static uint32_t bound(const void *arr, uint32_t n, size_t stride, uint32_t key, bool above)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2, k;
        memcpy(&k, (const uint8_t *)arr + (size_t)mid * stride, sizeof k);
        if (k < key || (above && k == key))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

hp_status hp_tramp_image_init(hp_tramp_image *ti, const hp_pe *pe, hp_arena *arena,
                              const uint32_t *entries, uint32_t nentries)
{
    if (!ti || !pe || !arena || (nentries && !entries))
        return HP_E_ARG;
    memset(ti, 0, sizeof *ti);
    ti->pe = pe;
    ti->x64 = pe->machine == HP_IMAGE_FILE_MACHINE_AMD64;
    if (ti->x64) {
        hp_pe_pdata pd;
        HP_CHECK(hp_pe_pdata_parse(pe, arena, &pd));
        ti->nrf = pd.count;
        ti->rf = hp_arena_array(arena, pd.count ? pd.count : 1, sizeof *ti->rf);
        ti->owned = hp_arena_array(arena, pd.count ? pd.count : 1, sizeof *ti->owned);
        if (!ti->rf || !ti->owned)
            return HP_E_NOMEM;
        if (pd.count)
            memcpy(ti->rf, pd.entries, pd.count * sizeof *ti->rf);
        qsort(ti->rf, ti->nrf, sizeof *ti->rf, cmp_key);
        for (uint32_t i = 0; i < ti->nrf; i++) {
            hp_pe_runtime_function primary;
            /* a broken chain: the fragment counts as its own function */
            uint32_t owner = hp_pe_unwind_primary(pe, &ti->rf[i], &primary) == HP_OK
                                 ? primary.begin : ti->rf[i].begin;
            ti->owned[i] = (hp_tramp_owned){ owner, i };
        }
        qsort(ti->owned, ti->nrf, sizeof *ti->owned, cmp_key);
    }
    ti->entries = hp_arena_array(arena, nentries ? nentries : 1, sizeof *ti->entries);
    if (!ti->entries)
        return HP_E_NOMEM;
    if (nentries)
        memcpy(ti->entries, entries, nentries * sizeof *entries);
    qsort(ti->entries, nentries, sizeof *ti->entries, cmp_key);
    for (uint32_t i = 0; i < nentries; i++) /* unique */
        if (!ti->nentries || ti->entries[ti->nentries - 1] != ti->entries[i])
            ti->entries[ti->nentries++] = ti->entries[i];
    return HP_OK;
}

/* The file-backed executable bytes of [rva, rva + size), cut at the section's end. */
static const uint8_t *code_at(const hp_pe *pe, uint32_t rva, uint32_t *size)
{
    const hp_pe_section *s = hp_pe_section_of(pe, rva);
    uint64_t off, avail;
    if (!s || !(s->characteristics & HP_IMAGE_SCN_MEM_EXECUTE) ||
        hp_pe_rva_to_offset(pe, rva, &off, &avail) != HP_OK)
        return NULL;
    uint64_t in_section = (uint64_t)s->virtual_address + hp_pe_section_extent(s) - rva;
    if (*size > avail)
        *size = (uint32_t)avail;
    if (*size > in_section)
        *size = (uint32_t)in_section;
    hp_rd v;
    return hp_pe_rva_view(pe, rva, *size, &v) == HP_OK ? v.data : NULL;
}

hp_status hp_tramp_examine(const hp_tramp_image *ti, hp_arena *arena, uint32_t rva,
                           hp_tramp_plan *out)
{
    if (!ti || !ti->pe || !arena || !out)
        return HP_E_ARG;
    uint32_t r = bound(ti->rf, ti->nrf, sizeof *ti->rf, rva, true);
    uint32_t e = bound(ti->entries, ti->nentries, sizeof *ti->entries, rva, true);
    bool unwound = r > 0 && ti->rf[r - 1].begin == rva;
    uint32_t end = UINT32_MAX;
    if (unwound) {
        end = ti->rf[r - 1].end;
    } else {
        if (r < ti->nrf)
            end = ti->rf[r].begin;
        if (e < ti->nentries && ti->entries[e] < end)
            end = ti->entries[e];
    }
    uint32_t size = end - rva;
    const uint8_t *code = code_at(ti->pe, rva, &size);
    if (!code) {
        memset(out, 0, sizeof *out);
        return refuse(out, HP_TRAMP_UNDECODABLE, rva);
    }
    /* x64: the function's other fragments, [first, last) of those it owns */
    uint32_t first = 0, last = 0;
    if (unwound) {
        first = bound(ti->owned, ti->nrf, sizeof *ti->owned, rva, false);
        last = bound(ti->owned, ti->nrf, sizeof *ti->owned, rva, true);
    }
    hp_tramp_frag *frags = NULL;
    unsigned nfrags = 0;
    if (last - first > 1 && !(frags = hp_arena_array(arena, last - first, sizeof *frags)))
        return HP_E_NOMEM;
    for (uint32_t k = first; k < last; k++) {
        const hp_pe_runtime_function *f = &ti->rf[ti->owned[k].index];
        if (f->begin == rva)
            continue;
        uint32_t fsize = f->end - f->begin;
        const uint8_t *fcode = code_at(ti->pe, f->begin, &fsize);
        if (!fcode) {
            memset(out, 0, sizeof *out);
            return refuse(out, HP_TRAMP_UNDECODABLE, f->begin);
        }
        frags[nfrags++] = (hp_tramp_frag){ fcode, f->begin, fsize };
    }
    HP_CHECK(hp_tramp_analyze(ti->x64, code, size, rva, frags, nfrags, out));
    out->size = size;
    out->frags = (uint16_t)nfrags;
    return HP_OK;
}
