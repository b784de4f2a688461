/* hotpe: the .hotp1 section of hotpe build (hotp1.h). */
#include "hotp1.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/patch.h"
#include "hotpe/engine/plan.h"
#include "hotpe/pe/fnhash.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/reader.h"

/* Where each part of the section lies, from its start. */
typedef struct layout {
    size_t hdr, build, hooks, valid, fix, fix_size, name, vbytes, lc, lc_size, info, total;
    uint32_t nhooks, nvalid, nslots;  /* nvalid: one per hook, and the entry form's extra ones */
    uint32_t *slots;        /* sorted slot RVAs */
    uint32_t nrecipes;
    const hp_hotp1_ref **recipes; /* the stub references, by function, one per function */
    uint32_t nhashes;
    const hp_hotp1_ref **hashed;  /* the REPLACE references, by function */
    hp_pe_range *hooked;          /* the bytes every hook overwrites (nhooks of them) */
} layout;

#define INFO_V1_SIZE 0x14u
#define INFO_TOTAL (INFO_V1_SIZE + 4u + (uint32_t)sizeof(HP_IMAGE_HOT_PATCH_BASE))

static bool is_x64(const hp_hotp1_input *in)
{
    return in->base->machine == HP_IMAGE_FILE_MACHINE_AMD64;
}

static size_t align_to(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_ref_rva(const void *a, const void *b)
{
    const hp_hotp1_ref *x = *(const hp_hotp1_ref *const *)a, *y = *(const hp_hotp1_ref *const *)b;
    return x->base_rva < y->base_rva ? -1 : x->base_rva > y->base_rva;
}

/* The padding hook's length by the plan's rule (plan.h), the one the applier writes by; 0 for
 * the entry form. */
static hp_status pad_len_of(const hp_hotp1_input *in, const hp_site *s, unsigned *len)
{
    hp_plan_form form;
    if (s->cls == HP_SITE_TRAMP) {
        *len = 0;
        return HP_OK;
    }
    HP_CHECK(hp_plan_form_for(is_x64(in), s->padding, &form));
    *len = hp_plan_pad_len(form);
    return HP_OK;
}

/* The hooks of one replaced site and the validation that goes with none of them. A hotpatch
 * site: the padding jump to the replacement and the entry's EB back to it. The entry form: one
 * jump over the first 5 bytes (x86: E9 to the replacement, Windows' HOTP_Hook_X86_JMP; x64:
 * E9 to a stub, hotpe's AMD64_IND of 5 bytes, as at padding), and the rest of the moved bytes
 * validated: the trampoline copies them. */
typedef struct hook {
    uint16_t type, len;
    uint32_t hook_rva, hotp_rva;
} hook;

static unsigned site_hooks(const hp_hotp1_input *in, const hp_hotp1_ref *f, unsigned pad,
                           hook hk[2], hook *extra)
{
    uint16_t jmp = is_x64(in) ? HP_HOTP_Hook_AMD64_IND : HP_HOTP_Hook_X86_JMP;
    if (f->site.cls == HP_SITE_TRAMP) {
        hk[0] = (hook){ jmp, HP_INSN_JMP_REL32_LEN, f->base_rva, f->d->function_rva };
        unsigned rest = f->site.moved_len > HP_INSN_JMP_REL32_LEN
                            ? f->site.moved_len - HP_INSN_JMP_REL32_LEN : 0;
        *extra = (hook){ 0, (uint16_t)rest, f->base_rva + HP_INSN_JMP_REL32_LEN, 0 };
        return 1;
    }
    hk[0] = (hook){ jmp, (uint16_t)pad, f->base_rva - pad, f->d->function_rva };
    /* EB disp8 back to entry - pad: disp counted from entry + 2 */
    hk[1] = (hook){ HP_HOTP_Hook_X86_JMP2B, 2, f->base_rva, (uint32_t)(int32_t)(-(int)pad - 2) };
    *extra = (hook){ 0 };
    return 2;
}

static size_t fixup_size(const uint32_t *slots, uint32_t n)
{
    size_t size = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t page = slots[i] >> 12, k = 0;
        while (i < n && slots[i] >> 12 == page) {
            i++;
            k++;
        }
        size += 4 + 2 * (size_t)(k + (k & 1));
    }
    return size;
}

/* ---- layout --------------------------------------------------------------------------- */

/* Hooks, the bytes their validations expect, and the slots (sorted, each once). */
static hp_status count_parts(const hp_hotp1_input *in, hp_arena *arena, layout *L,
                             size_t *vbytes)
{
    *vbytes = 0;
    size_t n = in->nrefs ? in->nrefs : 1;
    L->slots = hp_arena_array(arena, n, sizeof *L->slots);
    L->recipes = hp_arena_array(arena, n, sizeof *L->recipes);
    L->hashed = hp_arena_array(arena, n, sizeof *L->hashed);
    L->hooked = hp_arena_array(arena, 2 * n, sizeof *L->hooked); /* at most 2 per site */
    if (!L->slots || !L->recipes || !L->hashed || !L->hooked)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < in->nrefs; i++) {
        const hp_hotp1_ref *f = &in->refs[i];
        if (f->d->kind == HOTPE_DESC_REPLACE) {
            unsigned pad;
            hook hk[2], extra;
            HP_CHECK(pad_len_of(in, &f->site, &pad));
            unsigned nh = site_hooks(in, f, pad, hk, &extra);
            for (unsigned k = 0; k < nh; k++) {
                L->hooked[L->nhooks++] = (hp_pe_range){ hk[k].hook_rva, hk[k].len };
                *vbytes += hk[k].len;
            }
            L->nvalid += nh + (extra.len != 0);
            *vbytes += extra.len;
            L->hashed[L->nhashes++] = f;
        }
        if (f->d->object_rva)
            L->slots[L->nslots++] = f->d->object_rva;
        if (f->flags & HOTPE_REF_F_STUB)
            L->recipes[L->nrecipes++] = f;
    }
    qsort(L->slots, L->nslots, sizeof *L->slots, cmp_u32);
    /* two ORIGINAL of one function share its recipe (both are the base's bytes) */
    qsort(L->recipes, L->nrecipes, sizeof *L->recipes, cmp_ref_rva);
    uint32_t unique = 0;
    for (uint32_t i = 0; i < L->nrecipes; i++)
        if (!unique || L->recipes[unique - 1]->base_rva != L->recipes[i]->base_rva)
            L->recipes[unique++] = L->recipes[i];
    L->nrecipes = unique;
    /* build refused a function replaced twice */
    qsort(L->hashed, L->nhashes, sizeof *L->hashed, cmp_ref_rva);
    for (uint32_t i = 1; i < L->nslots; i++)
        if (L->slots[i] == L->slots[i - 1])
            return HP_E_PATCHDESC;
    return HP_OK;
}

static void place_parts(const hp_hotp1_input *in, bool new_lc, size_t vbytes, layout *L)
{
    bool x64 = is_x64(in);
    L->hdr = 0;
    L->build = sizeof(HP_HOTPATCH_HEADER);
    L->hooks = align_to(L->build + sizeof(hotpe_build_disk) +
                            in->nrefs * sizeof(hotpe_build_ref) +
                            L->nrecipes * sizeof(hotpe_build_recipe) +
                            L->nhashes * sizeof(hotpe_build_hash), 8);
    L->valid = L->hooks + L->nhooks * sizeof(HP_HOTPATCH_HOOK);
    L->fix = align_to(L->valid + L->nvalid * sizeof(HP_HOTPATCH_VALIDATION), 4);
    L->fix_size = fixup_size(L->slots, L->nslots);
    L->name = L->fix + L->fix_size;
    L->vbytes = L->name + strlen(in->desc->name) + 1;
    L->lc = align_to(L->vbytes + vbytes, 8);
    L->lc_size = new_lc ? (x64 ? offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, Reserved3) + 4
                               : offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, Reserved3) + 4)
                        : 0;
    L->info = align_to(L->lc + L->lc_size, 8);
    L->total = L->info + INFO_TOTAL;
}

/* ---- contents: every write is bounded by the section, which the layout sized ---------- */

static hp_status write_header(const hp_hotp1_input *in, const layout *L, uint32_t sec_rva,
                              const hp_wr *w)
{
    size_t h = L->hdr;
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, Signature, HP_HOTP_SIGNATURE));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, Version, HP_HOTP_VERSION));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, FixupRgnCount, 0)); /* write_fixups */
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, FixupRgnRva,
                         L->nslots ? sec_rva + L->fix : 0));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, ValidationCount, L->nvalid));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, ValidationArrayRva, sec_rva + L->valid));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, HookCount, L->nhooks));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, HookArrayRva, sec_rva + L->hooks));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, OrigHotpBaseAddress, in->patch->image_base));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, OrigTargetBaseAddress, in->base->image_base));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, TargetNameRva, sec_rva + L->name));
    HP_CHECK(HP_WR_FIELD(w, h, HP_HOTPATCH_HEADER, ModuleIdMethod, HP_HOTP_ID_None));
    return HP_OK;
}

static hp_status write_ref(const hp_hotp1_ref *f, size_t o, const hp_wr *w)
{
    uint32_t patch_rva = f->d->object_rva ? f->d->object_rva : f->d->function_rva;
    bool site = f->d->kind == HOTPE_DESC_REPLACE || f->d->kind == HOTPE_DESC_ORIGINAL;
    HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_ref, Kind, f->d->kind));
    HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_ref, Flags, f->flags));
    HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_ref, BaseRva, f->base_rva));
    HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_ref, PatchRva, patch_rva));
    HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_ref, NameRva, f->d->name_rva));
    HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_ref, Source, f->source));
    HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_ref, SiteClass, site ? f->site.cls : 0));
    HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_ref, Padding, site ? f->site.padding : 0));
    uint8_t len = !site ? 0 : f->site.cls == HP_SITE_TRAMP ? f->site.moved_len
                                                            : f->site.first_insn_len;
    HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_ref, FirstInsnLen, len));
    return HP_OK;
}

/* The function hashes (pe/fnhash.h): each replaced function's bytes in the base file, with its
 * relocated fields and every hook's bytes zeroed, through the same hp_patch_fn_hash the check
 * runs on the live module. */
static hp_status write_hashes(const hp_hotp1_input *in, const layout *L, hp_arena *arena,
                              size_t o, const hp_wr *w, const hp_hotp1_ref **culprit)
{
    if (!L->nhashes)
        return HP_OK;
    hp_pe_fn_mask mask;
    HP_CHECK(hp_pe_fn_mask_make(in->base, L->hooked, L->nhooks, arena, &mask));
    uint8_t *buf = hp_arena_alloc(arena, HOTPE_HASH_LENGTH_MAX); /* one, for every function */
    if (!buf)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < L->nhashes; i++, o += sizeof(hotpe_build_hash)) {
        const hp_hotp1_ref *f = L->hashed[i];
        hp_rd view;
        uint8_t sha[HP_SHA256_LEN];
        if (f->hash_len == 0 || f->hash_len > HOTPE_HASH_LENGTH_MAX ||
            hp_pe_rva_view(in->base, f->base_rva, f->hash_len, &view) != HP_OK) {
            *culprit = f;
            return HP_E_RVA;
        }
        memcpy(buf, view.data, f->hash_len);
        HP_CHECK(hp_patch_fn_hash(&mask, f->base_rva, buf, f->hash_len, sha));
        HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_hash, BaseRva, f->base_rva));
        HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_hash, Length, f->hash_len));
        HP_CHECK(hp_wr_bytes(w, o + offsetof(hotpe_build_hash, Sha256), sha, sizeof sha));
    }
    return HP_OK;
}

static hp_status write_build_record(const hp_hotp1_input *in, const layout *L, hp_arena *arena,
                                    const hp_wr *w, const hp_hotp1_ref **culprit)
{
    const hp_pe *base = in->base;
    hp_pe_debug dbg;
    hp_pe_identity id;
    HP_CHECK(hp_pe_build_identity(base, &id)); /* a base hotpe install rewrote: its originals */
    bool cv = hp_pe_debug_parse(base, arena, &dbg) == HP_OK && dbg.codeview.present;
    size_t r = L->build;
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, Magic, HOTPE_BUILD_MAGIC));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, Version, HOTPE_BUILD_VERSION));
    size_t recipes = sizeof(hotpe_build_disk) + in->nrefs * sizeof(hotpe_build_ref);
    size_t hashes = recipes + L->nrecipes * sizeof(hotpe_build_recipe);
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, Size,
                         hashes + L->nhashes * sizeof(hotpe_build_hash)));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, Sequence, in->desc->sequence));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, BaseTimeDateStamp, id.timestamp));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, BaseSizeOfImage, id.size_of_image));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, BaseCheckSum, id.checksum));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, Flags, cv ? HOTPE_BUILD_F_CODEVIEW : 0));
    if (cv) {
        HP_CHECK(hp_wr_bytes(w, r + offsetof(hotpe_build_disk, BaseGuid), dbg.codeview.guid,
                             sizeof dbg.codeview.guid));
        HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, BaseAge, dbg.codeview.age));
    }
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, BaseMachine, base->machine));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, RefCount, in->nrefs));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, RefArrayOffset, sizeof(hotpe_build_disk)));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, RecipeCount, L->nrecipes));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, RecipeArrayOffset, L->nrecipes ? recipes : 0));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, HashCount, L->nhashes));
    HP_CHECK(HP_WR_FIELD(w, r, hotpe_build_disk, HashArrayOffset, L->nhashes ? hashes : 0));
    for (uint32_t i = 0; i < in->nrefs; i++)
        HP_CHECK(write_ref(&in->refs[i],
                           r + sizeof(hotpe_build_disk) + i * sizeof(hotpe_build_ref), w));
    for (uint32_t i = 0; i < L->nrecipes; i++) {
        const hp_hotp1_ref *f = L->recipes[i];
        size_t o = r + recipes + i * sizeof(hotpe_build_recipe);
        uint8_t len[HOTPE_RECIPE_MAX] = { 0 }, kind[HOTPE_RECIPE_MAX] = { 0 },
                disp[HOTPE_RECIPE_MAX] = { 0 };
        for (unsigned k = 0; k < f->nmoves && k < HOTPE_RECIPE_MAX; k++) {
            len[k] = f->moves[k].len;
            kind[k] = f->moves[k].kind;
            disp[k] = f->moves[k].disp_offset;
        }
        HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_recipe, BaseRva, f->base_rva));
        HP_CHECK(HP_WR_FIELD(w, o, hotpe_build_recipe, Count, f->nmoves));
        HP_CHECK(hp_wr_bytes(w, o + offsetof(hotpe_build_recipe, Length), len, sizeof len));
        HP_CHECK(hp_wr_bytes(w, o + offsetof(hotpe_build_recipe, Kind), kind, sizeof kind));
        HP_CHECK(hp_wr_bytes(w, o + offsetof(hotpe_build_recipe, DispOffset), disp, sizeof disp));
    }
    return write_hashes(in, L, arena, r + hashes, w, culprit);
}

/* One validation: the base's bytes at [rva, rva + len), expected (OptionFlags: hook-specific,
 * or 0 for the entry form's moved bytes after its jump). */
static hp_status write_validation(const hp_hotp1_input *in, uint32_t rva, unsigned len,
                                  uint16_t flags, size_t vo, size_t vb, uint32_t sec_rva,
                                  const hp_wr *w)
{
    HP_CHECK(HP_WR_FIELD(w, vo, HP_HOTPATCH_VALIDATION, SourceRva, sec_rva + vb));
    HP_CHECK(HP_WR_FIELD(w, vo, HP_HOTPATCH_VALIDATION, TargetRva, rva));
    HP_CHECK(HP_WR_FIELD(w, vo, HP_HOTPATCH_VALIDATION, ByteCount, len));
    HP_CHECK(HP_WR_FIELD(w, vo, HP_HOTPATCH_VALIDATION, OptionFlags, flags));
    hp_rd view;
    uint8_t orig[32];
    if (len > sizeof orig || hp_pe_rva_view(in->base, rva, len, &view) != HP_OK ||
        hp_rd_bytes(&view, 0, len, orig) != HP_OK)
        return HP_E_RVA;
    return hp_wr_bytes(w, vb, orig, len);
}

static hp_status write_hook(const hp_hotp1_input *in, const hook *hk, size_t ho, size_t vo,
                            size_t vb, uint32_t sec_rva, const hp_wr *w)
{
    HP_CHECK(HP_WR_FIELD(w, ho, HP_HOTPATCH_HOOK, HookType, hk->type));
    HP_CHECK(HP_WR_FIELD(w, ho, HP_HOTPATCH_HOOK, HookOptions, hk->len));
    HP_CHECK(HP_WR_FIELD(w, ho, HP_HOTPATCH_HOOK, HookRva, hk->hook_rva));
    HP_CHECK(HP_WR_FIELD(w, ho, HP_HOTPATCH_HOOK, HotpRva, hk->hotp_rva));
    HP_CHECK(HP_WR_FIELD(w, ho, HP_HOTPATCH_HOOK, ValidationRva, sec_rva + vo));
    return write_validation(in, hk->hook_rva, hk->len, HP_HOTP_Valid_Hook_Target, vo, vb,
                            sec_rva, w);
}

/* Each replaced site's hooks (site_hooks), each with its validation; the extra validations
 * follow the hooks' ones. */
static hp_status write_hooks(const hp_hotp1_input *in, const layout *L, uint32_t sec_rva,
                             const hp_wr *w, const hp_hotp1_ref **culprit)
{
    uint32_t h = 0, v = L->nhooks;
    size_t vb = L->vbytes;
    for (uint32_t i = 0; i < in->nrefs; i++) {
        const hp_hotp1_ref *f = &in->refs[i];
        if (f->d->kind != HOTPE_DESC_REPLACE)
            continue;
        unsigned pad;
        hook hk[2], extra;
        HP_CHECK(pad_len_of(in, &f->site, &pad));
        unsigned nh = site_hooks(in, f, pad, hk, &extra);
        hp_status s = HP_OK;
        for (unsigned k = 0; k < nh && s == HP_OK; k++, h++) {
            s = write_hook(in, &hk[k], L->hooks + h * sizeof(HP_HOTPATCH_HOOK),
                           L->valid + h * sizeof(HP_HOTPATCH_VALIDATION), vb, sec_rva, w);
            vb += hk[k].len;
        }
        if (s == HP_OK && extra.len) {
            s = write_validation(in, extra.hook_rva, extra.len, 0,
                                 L->valid + v++ * sizeof(HP_HOTPATCH_VALIDATION), vb, sec_rva, w);
            vb += extra.len;
        }
        if (s == HP_E_RVA)
            *culprit = f;
        HP_CHECK(s);
    }
    return HP_OK;
}

/* One region per 4 KiB page of slots, Count kept even with a None entry. */
static hp_status write_fixups(const hp_hotp1_input *in, const layout *L, const hp_wr *w)
{
    uint32_t regions = 0;
    size_t fo = L->fix;
    unsigned ftype = is_x64(in) ? HP_HOTP_Fixup_VA64 : HP_HOTP_Fixup_VA32;
    for (uint32_t i = 0; i < L->nslots;) {
        uint32_t page = L->slots[i] >> 12, k = 0;
        size_t head = fo;
        fo += 4;
        while (i < L->nslots && L->slots[i] >> 12 == page) {
            HP_CHECK(hp_wr_u16(w, fo, (uint16_t)((L->slots[i] & 0xFFFu) | (ftype << 12))));
            fo += 2;
            i++;
            k++;
        }
        if (k & 1) {
            HP_CHECK(hp_wr_u16(w, fo, 0));
            fo += 2;
            k++;
        }
        HP_CHECK(hp_wr_u32(w, head, (page & 0xFFFFFu) | ((uint32_t)k << 20)));
        regions++;
    }
    return HP_WR_FIELD(w, L->hdr, HP_HOTPATCH_HEADER, FixupRgnCount, regions);
}

/* The new load config (when the DLL has none) and IMAGE_HOT_PATCH_INFO with its one BASE. */
static hp_status write_info(const hp_hotp1_input *in, const layout *L, bool new_lc,
                            uint32_t sec_rva, const hp_wr *w, uint32_t *lc_rva)
{
    bool x64 = is_x64(in);
    uint32_t sequence = in->desc->sequence;
    uint32_t info_rva = sec_rva + (uint32_t)L->info;
    *lc_rva = 0;
    if (new_lc) {
        *lc_rva = sec_rva + (uint32_t)L->lc;
        if (x64) {
            HP_CHECK(HP_WR_FIELD(w, L->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY64, Size, L->lc_size));
            HP_CHECK(HP_WR_FIELD(w, L->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY64,
                                 HotPatchTableOffset, info_rva));
        } else {
            HP_CHECK(HP_WR_FIELD(w, L->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY32, Size, L->lc_size));
            HP_CHECK(HP_WR_FIELD(w, L->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY32,
                                 HotPatchTableOffset, info_rva));
        }
    }
    size_t io = L->info;
    HP_CHECK(HP_WR_FIELD(w, io, HP_IMAGE_HOT_PATCH_INFO, Version, 1));
    HP_CHECK(HP_WR_FIELD(w, io, HP_IMAGE_HOT_PATCH_INFO, Size, INFO_TOTAL));
    HP_CHECK(HP_WR_FIELD(w, io, HP_IMAGE_HOT_PATCH_INFO, SequenceNumber, sequence));
    HP_CHECK(HP_WR_FIELD(w, io, HP_IMAGE_HOT_PATCH_INFO, BaseImageList, INFO_V1_SIZE));
    HP_CHECK(HP_WR_FIELD(w, io, HP_IMAGE_HOT_PATCH_INFO, BaseImageCount, 1));
    HP_CHECK(hp_wr_u32(w, io + INFO_V1_SIZE, INFO_V1_SIZE + 4)); /* BaseImageList[0] */
    size_t bo = io + INFO_V1_SIZE + 4;
    HP_CHECK(HP_WR_FIELD(w, bo, HP_IMAGE_HOT_PATCH_BASE, SequenceNumber, sequence));
    HP_CHECK(HP_WR_FIELD(w, bo, HP_IMAGE_HOT_PATCH_BASE, Flags,
                         x64 ? HP_IMAGE_HOT_PATCH_BASE_MACHINE_AMD64
                             : HP_IMAGE_HOT_PATCH_BASE_MACHINE_I386));
    hp_pe_identity id;
    HP_CHECK(hp_pe_build_identity(in->base, &id));
    HP_CHECK(HP_WR_FIELD(w, bo, HP_IMAGE_HOT_PATCH_BASE, OriginalTimeDateStamp, id.timestamp));
    HP_CHECK(HP_WR_FIELD(w, bo, HP_IMAGE_HOT_PATCH_BASE, OriginalCheckSum, id.checksum));
    HP_CHECK(HP_WR_FIELD(w, bo, HP_IMAGE_HOT_PATCH_BASE, PatchTable, sec_rva + L->hdr));
    return HP_OK;
}

/* Fill the section b; sec_rva is where it will be. */
static hp_status compose(const hp_hotp1_input *in, const layout *L, bool new_lc,
                         uint32_t sec_rva, hp_arena *arena, uint8_t *b, uint32_t *lc_rva,
                         const hp_hotp1_ref **culprit)
{
    memset(b, 0, L->total);
    hp_wr w = hp_wr_make(b, L->total);
    HP_CHECK(write_header(in, L, sec_rva, &w));
    HP_CHECK(write_build_record(in, L, arena, &w, culprit));
    HP_CHECK(write_hooks(in, L, sec_rva, &w, culprit));
    HP_CHECK(write_fixups(in, L, &w));
    HP_CHECK(hp_wr_bytes(&w, L->name, in->desc->name, strlen(in->desc->name) + 1));
    return write_info(in, L, new_lc, sec_rva, &w, lc_rva);
}

/* ---- the new image: slots, data directory 10 or HotPatchTableOffset, checksum --------- */

static hp_status fill_slots(const hp_hotp1_input *in, const hp_pe *o, const hp_wr *w,
                            const hp_hotp1_ref **culprit)
{
    bool x64 = is_x64(in);
    for (uint32_t i = 0; i < in->nrefs; i++) {
        const hp_hotp1_ref *f = &in->refs[i];
        if (!f->d->object_rva)
            continue;
        uint64_t off, avail;
        if (hp_pe_rva_to_offset(o, f->d->object_rva, &off, &avail) != HP_OK ||
            avail < (x64 ? 8u : 4u)) {
            *culprit = f;
            return HP_E_BUILD_SLOT;
        }
        HP_CHECK(hp_wr_ptr(w, off, x64, in->base->image_base + f->slot_value_rva));
    }
    return HP_OK;
}

static hp_status edit_image(const hp_hotp1_input *in, const layout *L, bool new_lc,
                            uint32_t sec_rva, uint32_t lc_rva, hp_arena *arena, uint8_t *img,
                            size_t img_size, const hp_hotp1_ref **culprit)
{
    hp_wr w = hp_wr_make(img, img_size);
    hp_pe o;
    HP_CHECK(hp_pe_parse(&o, arena, img, img_size, HP_PE_LAYOUT_FILE));
    HP_CHECK(fill_slots(in, &o, &w, culprit));
    uint32_t info_rva = sec_rva + (uint32_t)L->info;
    if (new_lc) {
        size_t d = o.opt_offset + (o.pe32plus ? sizeof(HP_IMAGE_OPTIONAL_HEADER64)
                                              : sizeof(HP_IMAGE_OPTIONAL_HEADER32)) +
                   8u * HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG;
        HP_CHECK(HP_WR_FIELD(&w, d, HP_IMAGE_DATA_DIRECTORY, VirtualAddress, lc_rva));
        HP_CHECK(HP_WR_FIELD(&w, d, HP_IMAGE_DATA_DIRECTORY, Size, L->lc_size));
    } else {
        uint32_t f = o.pe32plus
                         ? offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, HotPatchTableOffset)
                         : offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, HotPatchTableOffset);
        hp_pe_dir dir = hp_pe_dir_get(&o, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG);
        uint64_t off, avail;
        if (hp_pe_rva_to_offset(&o, dir.rva + f, &off, &avail) != HP_OK || avail < 4)
            return HP_E_BUILD_LOADCFG;
        HP_CHECK(hp_wr_u32(&w, off, info_rva));
    }
    return HP_WR_FIELD(&w, o.opt_offset, HP_IMAGE_OPTIONAL_HEADER32, CheckSum,
                       hp_pe_checksum(&o));
}

hp_status hp_hotp1_stamp(const hp_hotp1_input *in, hp_arena *arena, uint8_t **out,
                         size_t *out_size, const hp_hotp1_ref **culprit)
{
    if (!in || !in->base || !in->patch || !in->desc || !arena || !out || !out_size || !culprit)
        return HP_E_ARG;
    *out = NULL;
    *culprit = NULL;
    layout L;
    memset(&L, 0, sizeof L);
    size_t vbytes;
    HP_CHECK(count_parts(in, arena, &L, &vbytes));

    hp_pe_loadcfg lc;
    HP_CHECK(hp_pe_loadcfg_parse(in->patch, arena, &lc));
    bool new_lc = !lc.present;
    if (lc.present && !HP_PE_LOADCFG_HAS(in->patch, &lc, HotPatchTableOffset))
        return HP_E_BUILD_LOADCFG;
    if (in->patch->dir_count <= HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG)
        return HP_E_UNSUPPORTED;
    place_parts(in, new_lc, vbytes, &L);

    uint8_t *sec = hp_arena_alloc(arena, L.total);
    if (!sec)
        return HP_E_NOMEM;
    hp_pe_new_section ns = { HP_HOTP_SECTION_NAME,
                             HP_IMAGE_SCN_CNT_INITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ, sec,
                             (uint32_t)L.total, 0 };
    /* First pass: where the section lands. Second: the real contents. */
    uint32_t sec_rva, rva2, lc_rva;
    uint8_t *img;
    size_t img_size;
    HP_CHECK(hp_pe_add_section(in->patch, &ns, &img, &img_size, &sec_rva));
    free(img);
    HP_CHECK(compose(in, &L, new_lc, sec_rva, arena, sec, &lc_rva, culprit));
    HP_CHECK(hp_pe_add_section(in->patch, &ns, &img, &img_size, &rva2));
    hp_status s = rva2 == sec_rva ? HP_OK : HP_E_ARG;
    if (s == HP_OK)
        s = edit_image(in, &L, new_lc, sec_rva, lc_rva, arena, img, img_size, culprit);
    if (s != HP_OK) {
        free(img);
        return s;
    }
    *out = img;
    *out_size = img_size;
    return HP_OK;
}
