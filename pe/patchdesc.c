/*
 * hotpe: parsers for the SDK's descriptor records and hotpe build's record (patchdesc.h).
 * Every byte is read through the pe.h RVA accessors and the bounded reader.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "hotpe/pe/patchdesc.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/site.h"

#define STR_MAX 4096


const char *hp_pe_patchdesc_kind_name(uint32_t kind)
{
    switch (kind) {
    case HOTPE_DESC_PATCH: return "patch";
    case HOTPE_DESC_REPLACE: return "replace";
    case HOTPE_DESC_BASE_DATA: return "base-data";
    case HOTPE_DESC_BASE_FUNC: return "base-func";
    case HOTPE_DESC_ORIGINAL: return "original";
    case HOTPE_DESC_ON_APPLY: return "on-apply";
    case HOTPE_DESC_ON_REVERT: return "on-revert";
    default: return "?";
    }
}

/* A VA of the record to an RVA; 0 stays 0. */
static hp_status va_field(const hp_pe *pe, uint64_t va, uint32_t *rva)
{
    *rva = 0;
    if (va == 0)
        return HP_OK;
    HP_CHECK_AS(hp_pe_va_to_rva(pe, va, rva), HP_E_PATCHDESC);
    return HP_OK;
}

/* One record at rec (a view of HOTPE_DESC_SIZE bytes) into e. */
static hp_status parse_record(const hp_pe *pe, hp_arena *arena, const hp_rd *rec,
                              hp_pe_patchdesc_entry *e)
{
    uint64_t kind, version, seq, name, object, function, text;
    HP_CHECK_AS(HP_RD_FIELD(rec, 0, hotpe_desc_disk, Kind, &kind), HP_E_PATCHDESC);
    HP_CHECK_AS(HP_RD_FIELD(rec, 0, hotpe_desc_disk, Version, &version), HP_E_PATCHDESC);
    HP_CHECK_AS(HP_RD_FIELD(rec, 0, hotpe_desc_disk, Sequence, &seq), HP_E_PATCHDESC);
    HP_CHECK_AS(HP_RD_FIELD(rec, 0, hotpe_desc_disk, Name, &name), HP_E_PATCHDESC);
    HP_CHECK_AS(HP_RD_FIELD(rec, 0, hotpe_desc_disk, Object, &object), HP_E_PATCHDESC);
    HP_CHECK_AS(HP_RD_FIELD(rec, 0, hotpe_desc_disk, Function, &function), HP_E_PATCHDESC);
    HP_CHECK_AS(HP_RD_FIELD(rec, 0, hotpe_desc_disk, Text, &text), HP_E_PATCHDESC);
    if (version != HOTPE_DESC_VERSION || kind == 0 || kind > HOTPE_DESC_KIND_MAX || name == 0)
        return HP_E_PATCHDESC;
    e->kind = (uint32_t)kind;
    e->sequence = (uint32_t)seq;
    HP_CHECK(va_field(pe, name, &e->name_rva));
    HP_CHECK(va_field(pe, object, &e->object_rva));
    HP_CHECK(va_field(pe, function, &e->function_rva));
    HP_CHECK(va_field(pe, text, &e->text_rva));
    hp_status s = hp_pe_rva_str(pe, arena, e->name_rva, STR_MAX, &e->name);
    if (s == HP_E_NOMEM)
        return s;
    if (s != HP_OK)
        return HP_E_PATCHDESC_STRING;
    if (e->text_rva) {
        s = hp_pe_rva_str(pe, arena, e->text_rva, STR_MAX, &e->text);
        if (s == HP_E_NOMEM)
            return s;
        if (s != HP_OK)
            return HP_E_PATCHDESC_STRING;
    }
    return HP_OK;
}

/* Walk the section: count records (fill NULL) or fill them. */
static hp_status walk(const hp_pe *pe, hp_arena *arena, const hp_rd *sec, uint32_t sec_rva,
                      hp_pe_patchdesc_entry *fill, uint32_t *count)
{
    uint32_t n = 0;
    uint64_t off = 0;
    while (hp_range_ok(off, 4, sec->size)) {
        uint32_t w;
        HP_CHECK_AS(hp_rd_u32(sec, off, &w), HP_E_PATCHDESC);
        if (w == 0) {
            off += 4;
            continue;
        }
        if (w != HOTPE_DESC_MAGIC)
            return HP_E_PATCHDESC;
        hp_rd rec;
        HP_CHECK_AS(hp_rd_sub(sec, off, HOTPE_DESC_SIZE, &rec), HP_E_PATCHDESC);
        if (fill) {
            fill[n].rva = sec_rva + (uint32_t)off; /* off < section size < 2^32 */
            HP_CHECK(parse_record(pe, arena, &rec, &fill[n]));
        }
        n++;
        off += HOTPE_DESC_SIZE;
    }
    *count = n;
    return HP_OK;
}

hp_status hp_pe_patchdesc_parse(const hp_pe *pe, hp_arena *arena, hp_pe_patchdesc *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    const hp_pe_section *s = hp_pe_section_by_name(pe, HOTPE_DESC_SECTION);
    if (!s)
        return HP_OK;
    out->present = true;
    uint64_t off, avail;
    if (hp_pe_rva_to_offset(pe, s->virtual_address, &off, &avail) != HP_OK)
        return HP_OK; /* no backed bytes: no records */
    uint64_t n = s->virtual_size ? s->virtual_size : s->raw_size;
    if (n > avail)
        n = avail;
    hp_rd sec;
    HP_CHECK_AS(hp_pe_rva_view(pe, s->virtual_address, n, &sec), HP_E_PATCHDESC);
    uint32_t count;
    HP_CHECK(walk(pe, arena, &sec, s->virtual_address, NULL, &count));
    if (count) {
        out->entries = hp_arena_array(arena, count, sizeof *out->entries);
        if (!out->entries)
            return HP_E_NOMEM;
        HP_CHECK(walk(pe, arena, &sec, s->virtual_address, out->entries, &count));
    }
    out->count = count;
    return HP_OK;
}

/* PatchRva of a reference: a slot the shim writes a pointer into, or a function it calls or
 * jumps to; both must lie in one section of the patch (functions in an executable one). */
/* The stub recipe in Flags: only on an ORIGINAL stub, one kind, inside the instruction. */
static bool flags_ok(const hotpe_build_ref *f)
{
    bool sited = f->Kind == HOTPE_DESC_REPLACE || f->Kind == HOTPE_DESC_ORIGINAL;
    if (f->Flags & ~(HOTPE_REF_F_STUB | HOTPE_REF_F_TRAMP))
        return false;
    if ((f->Flags & HOTPE_REF_F_STUB) && f->Kind != HOTPE_DESC_ORIGINAL)
        return false;
    if ((f->Flags & HOTPE_REF_F_TRAMP) && !sited)
        return false;
    return sited ? f->FirstInsnLen >= 1 && f->FirstInsnLen <= HP_PE_RECIPE_BYTES_MAX : true;
}

_Static_assert((int)HOTPE_MOVE_PLAIN == (int)HP_INSN_MOVE_PLAIN &&
                   (int)HOTPE_MOVE_REL32 == (int)HP_INSN_MOVE_REL32 &&
                   (int)HOTPE_MOVE_RIP32 == (int)HP_INSN_MOVE_RIP32 &&
                   (int)HOTPE_MOVE_JCC == (int)HP_INSN_MOVE_JCC &&
                   (int)HOTPE_MOVE_JMP8 == (int)HP_INSN_MOVE_JMP8 &&
                   (int)HOTPE_MOVE_KIND_MAX + 1 == (int)HP_INSN_MOVE_KIND_COUNT &&
                   HOTPE_RECIPE_MAX == HP_INSN_TRAMP_MOVED_MAX,
               "the recipe's kinds are insn.h's");

unsigned hp_pe_recipe_moves(const hotpe_build_recipe *r, hp_insn_moved out[HOTPE_RECIPE_MAX])
{
    unsigned n = r->Count <= HOTPE_RECIPE_MAX ? r->Count : 0;
    for (unsigned i = 0; i < n; i++)
        out[i] = (hp_insn_moved){ r->Length[i], r->Kind[i], r->DispOffset[i] };
    return n;
}

/* Every instruction is one hp_insn_tramp_make accepts; the total is the bytes moved. */
static bool recipe_ok(const hotpe_build_recipe *r, unsigned *total)
{
    hp_insn_moved m[HOTPE_RECIPE_MAX];
    unsigned n = hp_pe_recipe_moves(r, m), sum = 0, out = 0;
    if (n == 0)
        return false;
    for (unsigned i = 0; i < n; i++) {
        unsigned size = hp_insn_moved_size(&m[i]);
        bool ok = size != 0;
        switch (m[i].kind) {
        case HP_INSN_MOVE_PLAIN: ok = ok && m[i].disp_offset == 0; break;
        case HP_INSN_MOVE_REL32: ok = ok && m[i].len == 5 && m[i].disp_offset == 0; break;
        case HP_INSN_MOVE_RIP32: ok = ok && m[i].disp_offset + 4u <= m[i].len; break;
        case HP_INSN_MOVE_JCC: ok = ok && (m[i].len == 2 || m[i].len == 6) && !m[i].disp_offset; break;
        case HP_INSN_MOVE_JMP8: ok = ok && m[i].len == 2 && m[i].disp_offset == 0; break;
        default: ok = false;
        }
        if (!ok)
            return false;
        sum += m[i].len;
        out += size;
    }
    for (unsigned i = n; i < HOTPE_RECIPE_MAX; i++)
        if (r->Length[i] || r->Kind[i] || r->DispOffset[i])
            return false;
    *total = sum;
    return out + HP_INSN_JMP_ABS64_LEN <= HP_INSN_TRAMP_MAX;
}

/* A uint32_t key against a record that starts with one (hotpe_build_recipe.BaseRva). */
static int cmp_rva(const void *key, const void *rec)
{
    uint32_t k = *(const uint32_t *)key, r;
    memcpy(&r, rec, sizeof r);
    return k < r ? -1 : k > r;
}

const hotpe_build_recipe *hp_pe_patchbuild_recipe(const hp_pe_patchbuild *pb, uint32_t base_rva)
{
    if (!pb || !pb->rec.RecipeCount)
        return NULL;
    return bsearch(&base_rva, pb->recipes, pb->rec.RecipeCount, sizeof *pb->recipes, cmp_rva);
}

const hotpe_build_hash *hp_pe_patchbuild_hash(const hp_pe_patchbuild *pb, uint32_t base_rva)
{
    if (!pb || !pb->rec.HashCount)
        return NULL;
    return bsearch(&base_rva, pb->hashes, pb->rec.HashCount, sizeof *pb->hashes, cmp_rva);
}

/* Function hashes (version 4): whole, sorted by function, each of 1..HOTPE_HASH_LENGTH_MAX
 * bytes inside the base; one for each REPLACE reference and none for anything else. */
static hp_status parse_hashes(const hp_rd *all, hp_arena *arena, hp_pe_patchbuild *out)
{
    const hotpe_build_disk *r = &out->rec;
    uint64_t v;
    if (!r->HashCount)
        return HP_OK;
    out->hashes = hp_arena_array(arena, r->HashCount, sizeof *out->hashes);
    bool *used = hp_arena_array(arena, r->HashCount, sizeof *used); /* zeroed */
    if (!out->hashes || !used)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < r->HashCount; i++) {
        uint64_t at = r->HashArrayOffset + (uint64_t)i * sizeof(hotpe_build_hash);
        hotpe_build_hash *h = &out->hashes[i];
        HP_CHECK_AS(HP_RD_FIELD(all, at, hotpe_build_hash, BaseRva, &v), HP_E_PATCHBUILD);
        h->BaseRva = (uint32_t)v;
        HP_CHECK_AS(HP_RD_FIELD(all, at, hotpe_build_hash, Length, &v), HP_E_PATCHBUILD);
        h->Length = (uint32_t)v;
        HP_CHECK_AS(hp_rd_bytes(all, at + offsetof(hotpe_build_hash, Sha256), sizeof h->Sha256,
                                h->Sha256), HP_E_PATCHBUILD);
        if (h->Length == 0 || h->Length > HOTPE_HASH_LENGTH_MAX ||
            (uint64_t)h->BaseRva + h->Length > r->BaseSizeOfImage ||
            (i && h->BaseRva <= out->hashes[i - 1].BaseRva))
            return HP_E_PATCHBUILD;
    }
    for (uint32_t i = 0; i < r->RefCount; i++) {
        if (out->refs[i].Kind != HOTPE_DESC_REPLACE)
            continue;
        const hotpe_build_hash *h = hp_pe_patchbuild_hash(out, out->refs[i].BaseRva);
        if (!h)
            return HP_E_PATCHBUILD;
        used[h - out->hashes] = true;
    }
    for (uint32_t i = 0; i < r->HashCount; i++)
        if (!used[i])
            return HP_E_PATCHBUILD;
    return HP_OK;
}

/* Recipes: whole, sorted by function, each valid; every stub reference has its recipe, whose
 * bytes are the reference's. */
static hp_status parse_recipes(const hp_rd *all, hp_arena *arena, hp_pe_patchbuild *out)
{
    const hotpe_build_disk *r = &out->rec;
    uint64_t v;
    if (r->RecipeCount &&
        !(out->recipes = hp_arena_array(arena, r->RecipeCount, sizeof *out->recipes)))
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < r->RecipeCount; i++) {
        uint64_t at = r->RecipeArrayOffset + (uint64_t)i * sizeof(hotpe_build_recipe);
        hotpe_build_recipe *c = &out->recipes[i];
        HP_CHECK_AS(HP_RD_FIELD(all, at, hotpe_build_recipe, BaseRva, &v), HP_E_PATCHBUILD);
        c->BaseRva = (uint32_t)v;
        HP_CHECK_AS(HP_RD_FIELD(all, at, hotpe_build_recipe, Count, &v), HP_E_PATCHBUILD);
        c->Count = (uint8_t)v;
        HP_CHECK_AS(hp_rd_bytes(all, at + offsetof(hotpe_build_recipe, Length), HOTPE_RECIPE_MAX,
                                c->Length), HP_E_PATCHBUILD);
        HP_CHECK_AS(hp_rd_bytes(all, at + offsetof(hotpe_build_recipe, Kind), HOTPE_RECIPE_MAX,
                                c->Kind), HP_E_PATCHBUILD);
        HP_CHECK_AS(hp_rd_bytes(all, at + offsetof(hotpe_build_recipe, DispOffset),
                                HOTPE_RECIPE_MAX, c->DispOffset), HP_E_PATCHBUILD);
        unsigned total;
        if (!recipe_ok(c, &total) || (i && c->BaseRva <= out->recipes[i - 1].BaseRva))
            return HP_E_PATCHBUILD;
    }
    for (uint32_t i = 0; i < r->RefCount; i++) {
        const hotpe_build_ref *f = &out->refs[i];
        if (!(f->Flags & HOTPE_REF_F_STUB))
            continue;
        const hotpe_build_recipe *c = hp_pe_patchbuild_recipe(out, f->BaseRva);
        unsigned total;
        if (!c || !recipe_ok(c, &total) || total != f->FirstInsnLen)
            return HP_E_PATCHBUILD;
    }
    return HP_OK;
}

static bool patch_rva_ok(const hp_pe *pe, const hotpe_build_ref *f)
{
    bool slot = f->Kind == HOTPE_DESC_BASE_DATA || f->Kind == HOTPE_DESC_BASE_FUNC ||
                f->Kind == HOTPE_DESC_ORIGINAL;
    uint64_t width = slot ? (pe->pe32plus ? 8 : 4) : 1;
    const hp_pe_section *s = hp_pe_section_of(pe, f->PatchRva);
    if (!s || f->PatchRva + width > (uint64_t)s->virtual_address + hp_pe_section_extent(s))
        return false;
    return slot || (s->characteristics & HP_IMAGE_SCN_MEM_EXECUTE);
}

hp_status hp_pe_patchbuild_parse(const hp_pe *pe, hp_arena *arena, uint32_t rva,
                                 hp_pe_patchbuild *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    uint32_t magic;
    if (hp_pe_rva_u32(pe, rva, &magic) != HP_OK || magic != HOTPE_BUILD_MAGIC)
        return HP_OK;
    out->present = true;
    out->rva = rva;
    /* Version 3 ends before HashCount: its fields are read first, the rest by version. */
    hp_rd head;
    HP_CHECK_AS(hp_pe_rva_view(pe, rva, HOTPE_BUILD_V3_SIZE, &head), HP_E_PATCHBUILD);
    hotpe_build_disk *r = &out->rec;
    uint64_t v;
#define GET(field)                                                                           \
    do {                                                                                     \
        HP_CHECK_AS(HP_RD_FIELD(&head, 0, hotpe_build_disk, field, &v), HP_E_PATCHBUILD);    \
        r->field = (__typeof__(r->field))v;                                                  \
    } while (0)
    GET(Magic);
    GET(Version);
    GET(Size);
    GET(Sequence);
    GET(BaseTimeDateStamp);
    GET(BaseSizeOfImage);
    GET(BaseCheckSum);
    GET(Flags);
    GET(BaseAge);
    GET(BaseMachine);
    GET(Reserved);
    GET(RefCount);
    GET(RefArrayOffset);
    GET(RecipeCount);
    GET(RecipeArrayOffset);
    HP_CHECK_AS(hp_rd_bytes(&head, offsetof(hotpe_build_disk, BaseGuid), 16, r->BaseGuid),
                HP_E_PATCHBUILD);
    if (r->Version != 3 && r->Version != HOTPE_BUILD_VERSION)
        return HP_E_PATCHBUILD;
    uint32_t head_size = r->Version == 3 ? HOTPE_BUILD_V3_SIZE : (uint32_t)sizeof(hotpe_build_disk);
    if (r->Version != 3) {
        HP_CHECK_AS(hp_pe_rva_view(pe, rva, head_size, &head), HP_E_PATCHBUILD);
        GET(HashCount);
        GET(HashArrayOffset);
    }
#undef GET
    uint64_t refs_size, recipes_size, hashes_size;
    if (r->Size < head_size || r->RefArrayOffset < head_size ||
        !hp_mul_u64(r->RefCount, sizeof(hotpe_build_ref), &refs_size) ||
        !hp_range_ok(r->RefArrayOffset, refs_size, r->Size) ||
        !hp_mul_u64(r->RecipeCount, sizeof(hotpe_build_recipe), &recipes_size) ||
        (r->RecipeCount && r->RecipeArrayOffset < head_size) ||
        !hp_range_ok(r->RecipeArrayOffset, recipes_size, r->Size) ||
        !hp_mul_u64(r->HashCount, sizeof(hotpe_build_hash), &hashes_size) ||
        (r->HashCount && r->HashArrayOffset < head_size) ||
        !hp_range_ok(r->HashArrayOffset, hashes_size, r->Size))
        return HP_E_PATCHBUILD;
    hp_rd all;
    HP_CHECK_AS(hp_pe_rva_view(pe, rva, r->Size, &all), HP_E_PATCHBUILD);
    if (r->RefCount) {
        out->refs = hp_arena_array(arena, r->RefCount, sizeof *out->refs);
        out->ref_names = hp_arena_array(arena, r->RefCount, sizeof *out->ref_names);
        if (!out->refs || !out->ref_names)
            return HP_E_NOMEM;
    }
    for (uint32_t i = 0; i < r->RefCount; i++) {
        uint64_t at = r->RefArrayOffset + (uint64_t)i * sizeof(hotpe_build_ref);
        hotpe_build_ref *f = &out->refs[i];
#define GETR(field)                                                                          \
    do {                                                                                     \
        HP_CHECK_AS(HP_RD_FIELD(&all, at, hotpe_build_ref, field, &v), HP_E_PATCHBUILD);     \
        f->field = (__typeof__(f->field))v;                                                  \
    } while (0)
        GETR(Kind);
        GETR(Flags);
        GETR(BaseRva);
        GETR(PatchRva);
        GETR(NameRva);
        GETR(Source);
        GETR(SiteClass);
        GETR(Padding);
        GETR(FirstInsnLen);
#undef GETR
        bool sited = f->Kind == HOTPE_DESC_REPLACE || f->Kind == HOTPE_DESC_ORIGINAL;
        if (f->Kind < HOTPE_DESC_REPLACE || f->Kind > HOTPE_DESC_KIND_MAX || !patch_rva_ok(pe, f) ||
            f->Source > HOTPE_SRC_MAP ||
            (sited ? f->SiteClass >= HP_SITE_CLASS_COUNT : f->SiteClass != 0) || !flags_ok(f))
            return HP_E_PATCHBUILD;
        if (f->NameRva) {
            hp_status s = hp_pe_rva_str(pe, arena, f->NameRva, STR_MAX, &out->ref_names[i]);
            if (s == HP_E_NOMEM)
                return s;
            if (s != HP_OK)
                return HP_E_PATCHBUILD;
        }
    }
    HP_CHECK(parse_recipes(&all, arena, out));
    return parse_hashes(&all, arena, out);
}
