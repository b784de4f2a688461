/*
 * hotpe build --base BASE PATCH.dll [-o OUT.dll] [--map BASE.map]: the SDK's post-link step
 * (PRODUCT.md sections 3 and 5, docs/sdk.md). Reads the SDK descriptors of the patch DLL,
 * resolves every name against the base (exports, then COFF symbols, then a GNU ld map file),
 * checks every replaced site, and writes one new section ".hotp1" holding:
 *
 *   +0x00  HOTPATCH_HEADER ("HOT1", 0x00010000, ModuleIdMethod HOTP_ID_None: identity is in
 *          the build record and IMAGE_HOT_PATCH_BASE)
 *   +0x50  hotpe's build record (descriptor.h): base identity and every resolved reference
 *          hooks (two per replaced site), validations (one per hook), fixup regions (one
 *          VA32/VA64 entry per slot), the target name, the validations' expected bytes,
 *          a load config (only when the DLL has none), IMAGE_HOT_PATCH_INFO + one BASE.
 *
 * Slots (HOTPE_BASE_DATA, HOTPE_BASE_FUNC, HOTPE_ORIGINAL) get OrigTargetBaseAddress + RVA in
 * their file bytes; the data directory 10 is pointed at the new load config; the checksum is
 * recomputed last. All metadata is serialized field by field through the format.h layouts with
 * the bounded writer (hp_wr, HP_WR_FIELD). The padding hook's length is the plan's rule (plan.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hotpe/pe/patchdesc.h"
#include "hotpe/pe/pe.h"
#include "hotpe/engine/plan.h"
#include "hotpe/pe/reader.h"
#include "hotpe/pe/site.h"

const char hp_verb_build_help[] =
    "usage: hotpe build --base BASE PATCH.dll [-o OUT.dll] [--map BASE.map]\n"
    "\n"
    "The SDK's post-link step. Reads the HOTPE_* records of PATCH.dll, resolves each name\n"
    "against BASE (exports, then COFF symbols, then the GNU ld map file given with --map),\n"
    "checks that every replaced function is hotpatchable (class prologue or padded, see\n"
    "hotpe scan), records the bytes each hook overwrites and the base's identity\n"
    "(TimeDateStamp, SizeOfImage, CheckSum, CodeView GUID and age), and writes the .hotp1\n"
    "section, the fixups of the base-data/base-function slots and IMAGE_HOT_PATCH_INFO\n"
    "(adding a load config when the DLL has none). Writes OUT.dll, or PATCH.dll in place.\n"
    "\n"
    "Refused (exit 1, one line naming the object): a name not found, a site that cannot be\n"
    "patched (with its class), different machines, a function replaced twice, no HOTPE_REPLACE,\n"
    "no HOTPE_PATCH, a DLL that already has .hotp1.\n"
    "\n"
    "Exit codes: 0 written, 1 refused or failed, 2 bad usage.\n";

/* One resolved descriptor. */
typedef struct bref {
    const hp_pe_patchdesc_entry *d;
    uint32_t base_rva;      /* resolved name (0 for callbacks) */
    uint32_t slot_value_rva;/* what the slot points at in the base */
    uint8_t source;
    uint16_t flags;
    hp_site site;           /* REPLACE / ORIGINAL */
} bref;

typedef struct map_sym {
    const char *name;
    uint64_t va;
} map_sym;

typedef struct build_ctx {
    const char *base_path, *patch_path;
    hp_arena *arena;
    hp_pe base, patch;
    hp_pe_exports ex;
    hp_pe_symbols syms;
    map_sym *map;
    uint32_t map_count;
    hp_site_ctx sctx;
    char object[600];       /* the object of the last refusal */
    char detail[200];
} build_ctx;

static void set_object(build_ctx *c, const char *name)
{
    snprintf(c->object, sizeof c->object, "%s!%s", c->base_path, name);
}

/* ---- the map file (GNU ld -Map): lines "  0x<hex>  <name>" ---------------------------- */

static hp_status map_load(build_ctx *c, const char *path)
{
    uint8_t *data;
    size_t size;
    const char *err;
    hp_status s = hp_cli_read_file(path, &data, &size, &err);
    if (s != HP_OK) {
        snprintf(c->detail, sizeof c->detail, "%s", err ? err : hp_status_str(s));
        return HP_E_BUILD_MAP;
    }
    uint32_t cap = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t n = 0;
        size_t i = 0;
        while (i < size) {
            size_t e = i;
            while (e < size && data[e] != '\n')
                e++;
            /* one line [i, e) */
            size_t k = i;
            while (k < e && (data[k] == ' ' || data[k] == '\t'))
                k++;
            if (e - k > 2 && data[k] == '0' && data[k + 1] == 'x') {
                uint64_t va = 0;
                size_t h = k + 2, digits = 0;
                for (; h < e && digits < 17; h++, digits++) {
                    uint8_t ch = data[h];
                    unsigned v;
                    if (ch >= '0' && ch <= '9') v = ch - '0';
                    else if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
                    else if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
                    else break;
                    va = va << 4 | v;
                }
                size_t ns = h;
                while (ns < e && (data[ns] == ' ' || data[ns] == '\t'))
                    ns++;
                size_t ne = ns;
                while (ne < e && data[ne] != ' ' && data[ne] != '\t' && data[ne] != '\r')
                    ne++;
                size_t rest = ne;
                while (rest < e && (data[rest] == ' ' || data[rest] == '\t' || data[rest] == '\r'))
                    rest++;
                bool ident = digits > 0 && digits <= 16 && ns > h && ne > ns && rest == e &&
                             ne - ns < 512;
                for (size_t q = ns; ident && q < ne; q++)
                    if (!(data[q] == '_' || data[q] == '.' || data[q] == '$' || data[q] == '@' ||
                          (data[q] >= '0' && data[q] <= '9') || (data[q] >= 'a' && data[q] <= 'z') ||
                          (data[q] >= 'A' && data[q] <= 'Z')))
                        ident = false;
                if (ident && n < UINT32_MAX) {
                    if (pass == 1 && n < cap) {
                        c->map[n].name = hp_arena_strndup(c->arena, data + ns, ne - ns);
                        c->map[n].va = va;
                        if (!c->map[n].name) {
                            free(data);
                            return HP_E_NOMEM;
                        }
                    }
                    n++;
                }
            }
            i = e + 1;
        }
        if (pass == 0) {
            cap = n;
            if (cap) {
                c->map = hp_arena_array(c->arena, cap, sizeof *c->map);
                if (!c->map) {
                    free(data);
                    return HP_E_NOMEM;
                }
            }
        } else {
            c->map_count = n < cap ? n : cap;
        }
    }
    free(data);
    return HP_OK;
}

/* ---- resolving names against the base ------------------------------------------------- */

static bool sym_name_is(const build_ctx *c, const char *sym, const char *name)
{
    if (strcmp(sym, name) == 0)
        return true;
    /* x86 C names carry a leading underscore */
    return c->base.machine == HP_IMAGE_FILE_MACHINE_I386 && sym[0] == '_' &&
           strcmp(sym + 1, name) == 0;
}

static bool in_exec_section(const hp_pe *pe, uint32_t rva)
{
    const hp_pe_section *s = hp_pe_section_of(pe, rva);
    return s && (s->characteristics & HP_IMAGE_SCN_MEM_EXECUTE);
}

/* The RVA of name in the base; function=true wants code. */
static bool resolve(build_ctx *c, const char *name, bool function, uint32_t *rva, uint8_t *src)
{
    const hp_pe_export *e;
    if (c->ex.present && hp_pe_exports_resolve(&c->ex, name, &e) == HP_OK && !e->forwarder &&
        e->rva && (!function || in_exec_section(&c->base, e->rva))) {
        *rva = e->rva;
        *src = HOTPE_SRC_EXPORT;
        return true;
    }
    for (uint32_t i = 0; i < c->syms.count; i++) {
        const hp_pe_symbol *s = &c->syms.entries[i];
        if (!s->name || !sym_name_is(c, s->name, name))
            continue;
        uint32_t r;
        if (hp_pe_symbol_function_rva(&c->base, s, &r)) {
            if (!function)
                continue; /* a function is not data */
        } else {
            if (s->section < 1 || s->section > c->base.section_count)
                continue;
            const hp_pe_section *sec = &c->base.sections[s->section - 1];
            if (s->value >= (sec->virtual_size ? sec->virtual_size : sec->raw_size))
                continue;
            r = sec->virtual_address + s->value;
            if (function != in_exec_section(&c->base, r))
                continue;
        }
        *rva = r;
        *src = HOTPE_SRC_SYMBOL;
        return true;
    }
    for (uint32_t i = 0; i < c->map_count; i++) {
        uint32_t r;
        if (!sym_name_is(c, c->map[i].name, name) ||
            hp_pe_va_to_rva(&c->base, c->map[i].va, &r) != HP_OK)
            continue;
        if (function && !in_exec_section(&c->base, r))
            continue;
        *rva = r;
        *src = HOTPE_SRC_MAP;
        return true;
    }
    return false;
}

/* ---- helpers ------------------------------------------------------------------------- */

static size_t align_to(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- the section ---------------------------------------------------------------------- */

typedef struct layout {
    size_t hdr, build, hooks, valid, fix, fix_size, name, vbytes, lc, lc_size, info, total;
    uint32_t nhooks, nslots;
    uint32_t *slots;        /* sorted slot RVAs */
    uint8_t pad_len;        /* unused: per site */
} layout;

#define INFO_V1_SIZE 0x14u
#define INFO_TOTAL (INFO_V1_SIZE + 4u + (uint32_t)sizeof(HP_IMAGE_HOT_PATCH_BASE))

/* The padding hook's length by the plan's rule (plan.h), the one the applier writes by. */
static hp_status pad_len_of(const build_ctx *c, const hp_site *s, unsigned *len)
{
    hp_plan_form form;
    HP_CHECK(hp_plan_form_for(c->base.machine == HP_IMAGE_FILE_MACHINE_AMD64, s->padding, &form));
    *len = hp_plan_pad_len(form);
    return HP_OK;
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

/* Fill the section; sec_rva is where it will be. */
static hp_status compose(build_ctx *c, const bref *refs, uint32_t nrefs, const char *target,
                         uint32_t sequence, const layout *L, bool new_lc, uint32_t sec_rva,
                         uint8_t *b, uint32_t *lc_rva)
{
    memset(b, 0, L->total);
    /* Every field is written through hp_wr within the section; the layout sized it. */
    hp_wr w = hp_wr_make(b, L->total);
    bool x64 = c->base.machine == HP_IMAGE_FILE_MACHINE_AMD64;

    /* header */
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, Signature, HP_HOTP_SIGNATURE));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, Version, HP_HOTP_VERSION));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, FixupRgnCount, 0)); /* set below */
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, FixupRgnRva,
                         L->nslots ? sec_rva + L->fix : 0));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, ValidationCount, L->nhooks));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, ValidationArrayRva, sec_rva + L->valid));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, HookCount, L->nhooks));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, HookArrayRva, sec_rva + L->hooks));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, OrigHotpBaseAddress, c->patch.image_base));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, OrigTargetBaseAddress,
                         c->base.image_base));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, TargetNameRva, sec_rva + L->name));
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, ModuleIdMethod, HP_HOTP_ID_None));

    /* build record */
    hp_pe_debug dbg;
    bool cv = hp_pe_debug_parse(&c->base, c->arena, &dbg) == HP_OK && dbg.codeview.present;
    size_t r = L->build;
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, Magic, HOTPE_BUILD_MAGIC));
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, Version, HOTPE_BUILD_VERSION));
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, Size,
                         sizeof(hotpe_build_disk) + nrefs * sizeof(hotpe_build_ref)));
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, Sequence, sequence));
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, BaseTimeDateStamp, c->base.timestamp));
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, BaseSizeOfImage, c->base.size_of_image));
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, BaseCheckSum, c->base.checksum));
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, Flags, cv ? HOTPE_BUILD_F_CODEVIEW : 0));
    if (cv) {
        HP_CHECK(hp_wr_bytes(&w, r + offsetof(hotpe_build_disk, BaseGuid), dbg.codeview.guid,
                             sizeof dbg.codeview.guid));
        HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, BaseAge, dbg.codeview.age));
    }
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, BaseMachine, c->base.machine));
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, RefCount, nrefs));
    HP_CHECK(HP_WR_FIELD(&w, r, hotpe_build_disk, RefArrayOffset, sizeof(hotpe_build_disk)));
    for (uint32_t i = 0; i < nrefs; i++) {
        size_t o = r + sizeof(hotpe_build_disk) + i * sizeof(hotpe_build_ref);
        const bref *f = &refs[i];
        uint32_t patch_rva = f->d->object_rva ? f->d->object_rva : f->d->function_rva;
        HP_CHECK(HP_WR_FIELD(&w, o, hotpe_build_ref, Kind, f->d->kind));
        HP_CHECK(HP_WR_FIELD(&w, o, hotpe_build_ref, Flags, f->flags));
        HP_CHECK(HP_WR_FIELD(&w, o, hotpe_build_ref, BaseRva, f->base_rva));
        HP_CHECK(HP_WR_FIELD(&w, o, hotpe_build_ref, PatchRva, patch_rva));
        HP_CHECK(HP_WR_FIELD(&w, o, hotpe_build_ref, NameRva, f->d->name_rva));
        HP_CHECK(HP_WR_FIELD(&w, o, hotpe_build_ref, Source, f->source));
        bool site = f->d->kind == HOTPE_DESC_REPLACE || f->d->kind == HOTPE_DESC_ORIGINAL;
        HP_CHECK(HP_WR_FIELD(&w, o, hotpe_build_ref, SiteClass, site ? f->site.cls : 0));
        HP_CHECK(HP_WR_FIELD(&w, o, hotpe_build_ref, Padding, site ? f->site.padding : 0));
        HP_CHECK(HP_WR_FIELD(&w, o, hotpe_build_ref, FirstInsnLen,
                             site ? f->site.first_insn_len : 0));
    }

    /* hooks, validations and their bytes */
    uint32_t h = 0;
    size_t vb = L->vbytes;
    for (uint32_t i = 0; i < nrefs; i++) {
        const bref *f = &refs[i];
        if (f->d->kind != HOTPE_DESC_REPLACE)
            continue;
        unsigned pad;
        HP_CHECK(pad_len_of(c, &f->site, &pad));
        struct {
            uint16_t type, len;
            uint32_t hook_rva, hotp_rva;
        } hk[2] = {
            { x64 ? HP_HOTP_Hook_AMD64_IND : HP_HOTP_Hook_X86_JMP, pad, f->base_rva - pad,
              f->d->function_rva },
            /* EB disp8 back to entry - pad: disp counted from entry + 2 */
            { HP_HOTP_Hook_X86_JMP2B, 2, f->base_rva, (uint32_t)(int32_t)(-(int)pad - 2) },
        };
        for (int k = 0; k < 2; k++, h++) {
            size_t ho = L->hooks + h * sizeof(HP_HOTPATCH_HOOK);
            size_t vo = L->valid + h * sizeof(HP_HOTPATCH_VALIDATION);
            HP_CHECK(HP_WR_FIELD(&w, ho, HP_HOTPATCH_HOOK, HookType, hk[k].type));
            HP_CHECK(HP_WR_FIELD(&w, ho, HP_HOTPATCH_HOOK, HookOptions, hk[k].len));
            HP_CHECK(HP_WR_FIELD(&w, ho, HP_HOTPATCH_HOOK, HookRva, hk[k].hook_rva));
            HP_CHECK(HP_WR_FIELD(&w, ho, HP_HOTPATCH_HOOK, HotpRva, hk[k].hotp_rva));
            HP_CHECK(HP_WR_FIELD(&w, ho, HP_HOTPATCH_HOOK, ValidationRva, sec_rva + vo));
            HP_CHECK(HP_WR_FIELD(&w, vo, HP_HOTPATCH_VALIDATION, SourceRva, sec_rva + vb));
            HP_CHECK(HP_WR_FIELD(&w, vo, HP_HOTPATCH_VALIDATION, TargetRva, hk[k].hook_rva));
            HP_CHECK(HP_WR_FIELD(&w, vo, HP_HOTPATCH_VALIDATION, ByteCount, hk[k].len));
            HP_CHECK(HP_WR_FIELD(&w, vo, HP_HOTPATCH_VALIDATION, OptionFlags,
                                 HP_HOTP_Valid_Hook_Target));
            hp_rd view;
            uint8_t orig[8];
            if (hk[k].len > sizeof orig ||
                hp_pe_rva_view(&c->base, hk[k].hook_rva, hk[k].len, &view) != HP_OK ||
                hp_rd_bytes(&view, 0, hk[k].len, orig) != HP_OK) {
                set_object(c, f->d->name);
                return HP_E_RVA;
            }
            HP_CHECK(hp_wr_bytes(&w, vb, orig, hk[k].len));
            vb += hk[k].len;
        }
    }

    /* fixup regions: one per 4 KiB page of slots, Count kept even with a None entry */
    uint32_t regions = 0;
    size_t fo = L->fix;
    unsigned ftype = x64 ? HP_HOTP_Fixup_VA64 : HP_HOTP_Fixup_VA32;
    for (uint32_t i = 0; i < L->nslots;) {
        uint32_t page = L->slots[i] >> 12, k = 0;
        size_t head = fo;
        fo += 4;
        while (i < L->nslots && L->slots[i] >> 12 == page) {
            HP_CHECK(hp_wr_u16(&w, fo, (uint16_t)((L->slots[i] & 0xFFFu) | (ftype << 12))));
            fo += 2;
            i++;
            k++;
        }
        if (k & 1) {
            HP_CHECK(hp_wr_u16(&w, fo, 0));
            fo += 2;
            k++;
        }
        HP_CHECK(hp_wr_u32(&w, head, (page & 0xFFFFFu) | ((uint32_t)k << 20)));
        regions++;
    }
    HP_CHECK(HP_WR_FIELD(&w, L->hdr, HP_HOTPATCH_HEADER, FixupRgnCount, regions));

    HP_CHECK(hp_wr_bytes(&w, L->name, target, strlen(target) + 1));

    /* load config (new) and the modern hot patch info */
    uint32_t info_rva = sec_rva + (uint32_t)L->info;
    *lc_rva = 0;
    if (new_lc) {
        *lc_rva = sec_rva + (uint32_t)L->lc;
        if (x64) {
            HP_CHECK(HP_WR_FIELD(&w, L->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY64, Size, L->lc_size));
            HP_CHECK(HP_WR_FIELD(&w, L->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY64, HotPatchTableOffset,
                                 info_rva));
        } else {
            HP_CHECK(HP_WR_FIELD(&w, L->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY32, Size, L->lc_size));
            HP_CHECK(HP_WR_FIELD(&w, L->lc, HP_IMAGE_LOAD_CONFIG_DIRECTORY32, HotPatchTableOffset,
                                 info_rva));
        }
    }
    size_t io = L->info;
    HP_CHECK(HP_WR_FIELD(&w, io, HP_IMAGE_HOT_PATCH_INFO, Version, 1));
    HP_CHECK(HP_WR_FIELD(&w, io, HP_IMAGE_HOT_PATCH_INFO, Size, INFO_TOTAL));
    HP_CHECK(HP_WR_FIELD(&w, io, HP_IMAGE_HOT_PATCH_INFO, SequenceNumber, sequence));
    HP_CHECK(HP_WR_FIELD(&w, io, HP_IMAGE_HOT_PATCH_INFO, BaseImageList, INFO_V1_SIZE));
    HP_CHECK(HP_WR_FIELD(&w, io, HP_IMAGE_HOT_PATCH_INFO, BaseImageCount, 1));
    HP_CHECK(hp_wr_u32(&w, io + INFO_V1_SIZE, INFO_V1_SIZE + 4)); /* BaseImageList[0] */
    size_t bo = io + INFO_V1_SIZE + 4;
    HP_CHECK(HP_WR_FIELD(&w, bo, HP_IMAGE_HOT_PATCH_BASE, SequenceNumber, sequence));
    HP_CHECK(HP_WR_FIELD(&w, bo, HP_IMAGE_HOT_PATCH_BASE, Flags,
                         x64 ? HP_IMAGE_HOT_PATCH_BASE_MACHINE_AMD64
                           : HP_IMAGE_HOT_PATCH_BASE_MACHINE_I386));
    HP_CHECK(HP_WR_FIELD(&w, bo, HP_IMAGE_HOT_PATCH_BASE, OriginalTimeDateStamp,
                         c->base.timestamp));
    HP_CHECK(HP_WR_FIELD(&w, bo, HP_IMAGE_HOT_PATCH_BASE, OriginalCheckSum, c->base.checksum));
    HP_CHECK(HP_WR_FIELD(&w, bo, HP_IMAGE_HOT_PATCH_BASE, PatchTable, sec_rva + L->hdr));
    return HP_OK;
}

/* ---- resolving and checking every descriptor ------------------------------------------ */

static hp_status check_refs(build_ctx *c, const hp_pe_patchdesc *pd, bref *refs, uint32_t *nrefs,
                            const hp_pe_patchdesc_entry **patch)
{
    uint32_t n = 0, replaces = 0;
    *patch = NULL;
    for (uint32_t i = 0; i < pd->count; i++) {
        const hp_pe_patchdesc_entry *d = &pd->entries[i];
        if (d->kind == HOTPE_DESC_PATCH) {
            if (*patch) {
                snprintf(c->object, sizeof c->object, "%s", c->patch_path);
                snprintf(c->detail, sizeof c->detail, "two HOTPE_PATCH records");
                return HP_E_PATCHDESC;
            }
            *patch = d;
            continue;
        }
        bref *f = &refs[n++];
        memset(f, 0, sizeof *f);
        f->d = d;
        if (d->kind == HOTPE_DESC_ON_APPLY || d->kind == HOTPE_DESC_ON_REVERT)
            continue;
        bool function = d->kind != HOTPE_DESC_BASE_DATA;
        set_object(c, d->name);
        if (!resolve(c, d->name, function, &f->base_rva, &f->source)) {
            snprintf(c->detail, sizeof c->detail, "%s of %s",
                     function ? "function" : "data", hp_pe_patchdesc_kind_name(d->kind));
            return HP_E_BUILD_UNRESOLVED;
        }
        f->slot_value_rva = f->base_rva;
        if (d->kind == HOTPE_DESC_REPLACE || d->kind == HOTPE_DESC_ORIGINAL) {
            HP_CHECK(hp_site_examine(&c->sctx, &c->base, f->base_rva, &f->site));
            if (!hp_site_class_patchable(f->site.cls)) {
                snprintf(c->detail, sizeof c->detail, "class %s at RVA 0x%x",
                         hp_site_class_name(f->site.cls), f->base_rva);
                return HP_E_SITE_NOT_PATCHABLE;
            }
            if (f->site.padding < 5 || f->base_rva < 6)
                return HP_E_SITE_NOT_PATCHABLE;
        }
        if (d->kind == HOTPE_DESC_REPLACE) {
            if (!d->function_rva)
                return HP_E_PATCHDESC;
            for (uint32_t k = 0; k + 1 < n; k++)
                if (refs[k].d->kind == HOTPE_DESC_REPLACE && refs[k].base_rva == f->base_rva) {
                    snprintf(c->detail, sizeof c->detail, "by %s and %s",
                             refs[k].d->text ? refs[k].d->text : "?", d->text ? d->text : "?");
                    return HP_E_BUILD_DUPLICATE;
                }
            replaces++;
        }
        if (d->kind == HOTPE_DESC_ORIGINAL) {
            if (f->site.cls == HP_SITE_PROLOGUE)
                f->slot_value_rva = f->base_rva + f->site.first_insn_len;
            else
                f->flags |= HOTPE_REF_F_STUB; /* the applier builds the stub */
        }
        if (d->kind != HOTPE_DESC_REPLACE && !d->object_rva)
            return HP_E_PATCHDESC;
    }
    c->detail[0] = 0;
    if (!*patch) {
        snprintf(c->object, sizeof c->object, "%s", c->patch_path);
        return HP_E_BUILD_NO_PATCH;
    }
    if (replaces == 0) {
        snprintf(c->object, sizeof c->object, "%s", c->patch_path);
        return HP_E_BUILD_NO_REPLACE;
    }
    *nrefs = n;
    return HP_OK;
}

static hp_status write_file(const char *path, const uint8_t *data, size_t size,
                            const char **detail)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 8);
    if (!tmp)
        return HP_E_NOMEM;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(data, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        remove(tmp);
        *detail = "cannot write the output";
    }
    free(tmp);
    return ok ? HP_OK : HP_E_IO;
}

static hp_status run(build_ctx *c, const uint8_t *pdata, size_t psize, const char *map_path,
                     uint8_t **out, size_t *out_size)
{
    *out = NULL;
    hp_arena *A = c->arena;
    snprintf(c->object, sizeof c->object, "%s", c->patch_path);
    if (c->patch.machine != c->base.machine) {
        snprintf(c->detail, sizeof c->detail, "patch %s, base %s", hp_pe_machine_name(&c->patch),
                 hp_pe_machine_name(&c->base));
        return HP_E_BUILD_MACHINE;
    }
    if (hp_pe_section_by_name(&c->patch, HP_HOTP_SECTION_NAME))
        return HP_E_BUILD_ALREADY;
    hp_pe_patchdesc pd;
    HP_CHECK(hp_pe_patchdesc_parse(&c->patch, A, &pd));
    snprintf(c->object, sizeof c->object, "%s", c->base_path);
    HP_CHECK(hp_pe_exports_parse(&c->base, A, &c->ex));
    HP_CHECK(hp_pe_symbols_parse(&c->base, A, &c->syms));
    HP_CHECK(hp_site_ctx_init(&c->sctx, &c->base));
    if (map_path) {
        snprintf(c->object, sizeof c->object, "%s", map_path);
        HP_CHECK(map_load(c, map_path));
    }

    bref *refs = pd.count ? hp_arena_array(A, pd.count, sizeof *refs) : NULL;
    if (pd.count && !refs)
        return HP_E_NOMEM;
    uint32_t nrefs = 0;
    const hp_pe_patchdesc_entry *patch;
    HP_CHECK(check_refs(c, &pd, refs, &nrefs, &patch));
    snprintf(c->object, sizeof c->object, "%s", c->patch_path);

    /* layout */
    layout L;
    memset(&L, 0, sizeof L);
    uint32_t nrep = 0;
    size_t vbytes = 0;
    L.slots = hp_arena_array(A, nrefs ? nrefs : 1, sizeof *L.slots);
    if (!L.slots)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < nrefs; i++) {
        if (refs[i].d->kind == HOTPE_DESC_REPLACE) {
            nrep++;
            unsigned pad;
            HP_CHECK(pad_len_of(c, &refs[i].site, &pad));
            vbytes += pad + 2u;
        }
        if (refs[i].d->object_rva)
            L.slots[L.nslots++] = refs[i].d->object_rva;
    }
    qsort(L.slots, L.nslots, sizeof *L.slots, cmp_u32);
    for (uint32_t i = 1; i < L.nslots; i++)
        if (L.slots[i] == L.slots[i - 1])
            return HP_E_PATCHDESC;
    bool x64 = c->base.machine == HP_IMAGE_FILE_MACHINE_AMD64;
    unsigned width = x64 ? 8 : 4;

    hp_pe_loadcfg lc;
    HP_CHECK(hp_pe_loadcfg_parse(&c->patch, A, &lc));
    bool new_lc = !lc.present;
    if (lc.present && !HP_PE_LOADCFG_HAS(&c->patch, &lc, HotPatchTableOffset))
        return HP_E_BUILD_LOADCFG;
    if (c->patch.dir_count <= HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG)
        return HP_E_UNSUPPORTED;

    L.nhooks = 2 * nrep;
    L.hdr = 0;
    L.build = sizeof(HP_HOTPATCH_HEADER);
    L.hooks = align_to(L.build + sizeof(hotpe_build_disk) + nrefs * sizeof(hotpe_build_ref), 8);
    L.valid = L.hooks + L.nhooks * sizeof(HP_HOTPATCH_HOOK);
    L.fix = align_to(L.valid + L.nhooks * sizeof(HP_HOTPATCH_VALIDATION), 4);
    L.fix_size = fixup_size(L.slots, L.nslots);
    L.name = L.fix + L.fix_size;
    L.vbytes = L.name + strlen(patch->name) + 1;
    L.lc = align_to(L.vbytes + vbytes, 8);
    L.lc_size = new_lc ? (x64 ? offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, Reserved3) + 4
                              : offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, Reserved3) + 4)
                       : 0;
    L.info = align_to(L.lc + L.lc_size, 8);
    L.total = L.info + INFO_TOTAL;

    uint8_t *sec = hp_arena_alloc(A, L.total);
    if (!sec)
        return HP_E_NOMEM;
    hp_pe_new_section ns = { HP_HOTP_SECTION_NAME,
                             HP_IMAGE_SCN_CNT_INITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ, sec,
                             (uint32_t)L.total, 0 };
    /* First pass: where the section lands. Second: the real contents. */
    uint32_t sec_rva, lc_rva;
    uint8_t *img;
    size_t img_size;
    HP_CHECK(hp_pe_add_section(&c->patch, &ns, &img, &img_size, &sec_rva));
    free(img);
    hp_status s = compose(c, refs, nrefs, patch->name, patch->sequence, &L, new_lc, sec_rva, sec,
                          &lc_rva);
    if (s != HP_OK)
        return s;
    uint32_t rva2;
    HP_CHECK(hp_pe_add_section(&c->patch, &ns, &img, &img_size, &rva2));
    if (rva2 != sec_rva) {
        free(img);
        return HP_E_ARG;
    }

    /* Edit the new image: slots, data directory 10 or HotPatchTableOffset, checksum. */
    hp_wr iw = hp_wr_make(img, img_size);
    hp_pe o;
    s = hp_pe_parse(&o, A, img, img_size, HP_PE_LAYOUT_FILE);
    for (uint32_t i = 0; s == HP_OK && i < nrefs; i++) {
        if (!refs[i].d->object_rva)
            continue;
        uint64_t off, avail;
        if (hp_pe_rva_to_offset(&o, refs[i].d->object_rva, &off, &avail) != HP_OK ||
            avail < width) {
            snprintf(c->detail, sizeof c->detail, "slot of %s at RVA 0x%x", refs[i].d->name,
                     refs[i].d->object_rva);
            s = HP_E_BUILD_SLOT;
            break;
        }
        s = hp_wr_ptr(&iw, off, x64, c->base.image_base + refs[i].slot_value_rva);
    }
    if (s == HP_OK) {
        uint32_t info_rva = sec_rva + (uint32_t)L.info;
        if (new_lc) {
            size_t d = o.opt_offset + (o.pe32plus ? sizeof(HP_IMAGE_OPTIONAL_HEADER64)
                                                  : sizeof(HP_IMAGE_OPTIONAL_HEADER32)) +
                       8u * HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG;
            s = HP_WR_FIELD(&iw, d, HP_IMAGE_DATA_DIRECTORY, VirtualAddress, lc_rva);
            if (s == HP_OK)
                s = HP_WR_FIELD(&iw, d, HP_IMAGE_DATA_DIRECTORY, Size, L.lc_size);
        } else {
            uint32_t f = o.pe32plus ? offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, HotPatchTableOffset)
                                    : offsetof(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, HotPatchTableOffset);
            hp_pe_dir dir = hp_pe_dir_get(&o, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG);
            uint64_t off, avail;
            if (hp_pe_rva_to_offset(&o, dir.rva + f, &off, &avail) != HP_OK || avail < 4)
                s = HP_E_BUILD_LOADCFG;
            else
                s = hp_wr_u32(&iw, off, info_rva);
        }
    }
    if (s == HP_OK)
        s = HP_WR_FIELD(&iw, o.opt_offset, HP_IMAGE_OPTIONAL_HEADER32, CheckSum,
                        hp_pe_checksum(&o));
    if (s != HP_OK) {
        free(img);
        return s;
    }
    (void)pdata;
    (void)psize;
    *out = img;
    *out_size = img_size;
    return HP_OK;
}

int hp_verb_build(int argc, char **argv)
{
    const char *base_path = NULL, *patch_path = NULL, *out_path = NULL, *map_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char **opt = NULL;
        if (strcmp(argv[i], "--base") == 0)
            opt = &base_path;
        else if (strcmp(argv[i], "-o") == 0)
            opt = &out_path;
        else if (strcmp(argv[i], "--map") == 0)
            opt = &map_path;
        if (opt) {
            if (++i >= argc)
                return hp_cli_usage("build", "option needs a value");
            *opt = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return hp_cli_usage("build", "unknown option");
        } else if (patch_path) {
            return hp_cli_usage("build", "one PATCH.dll only");
        } else {
            patch_path = argv[i];
        }
    }
    if (!base_path || !patch_path)
        return hp_cli_usage("build", "needs --base BASE and PATCH.dll");
    if (!out_path)
        out_path = patch_path;

    uint8_t *bdata = NULL, *pdata = NULL, *img = NULL;
    size_t bsize = 0, psize = 0, img_size = 0;
    const char *detail = NULL;
    hp_status s = hp_cli_read_file(base_path, &bdata, &bsize, &detail);
    if (s != HP_OK)
        return hp_cli_fail(base_path, s, detail);
    s = hp_cli_read_file(patch_path, &pdata, &psize, &detail);
    if (s != HP_OK) {
        free(bdata);
        return hp_cli_fail(patch_path, s, detail);
    }
    hp_arena arena = HP_ARENA_INIT;
    build_ctx *c = calloc(1, sizeof *c);
    int rc;
    if (!c) {
        rc = hp_cli_fail(patch_path, HP_E_NOMEM, NULL);
        goto done;
    }
    c->base_path = base_path;
    c->patch_path = patch_path;
    c->arena = &arena;
    s = hp_pe_parse(&c->base, &arena, bdata, bsize, HP_PE_LAYOUT_FILE);
    if (s != HP_OK) {
        rc = hp_cli_fail(base_path, s, NULL);
        goto done;
    }
    s = hp_pe_parse(&c->patch, &arena, pdata, psize, HP_PE_LAYOUT_FILE);
    if (s != HP_OK) {
        rc = hp_cli_fail(patch_path, s, NULL);
        goto done;
    }
    s = run(c, pdata, psize, map_path, &img, &img_size);
    if (s != HP_OK) {
        rc = hp_cli_fail(c->object, s, c->detail[0] ? c->detail : NULL);
        goto done;
    }
    s = write_file(out_path, img, img_size, &detail);
    rc = s == HP_OK ? HP_EXIT_OK : hp_cli_fail(out_path, s, detail);
done:
    free(img);
    free(c);
    hp_arena_free(&arena);
    free(bdata);
    free(pdata);
    return rc;
}
