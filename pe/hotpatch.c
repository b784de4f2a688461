/* hotpe: hotpatch metadata, legacy .hotp1 and modern IMAGE_HOT_PATCH_INFO (see pe.h). */
#include <string.h>

#include "internal.h"

typedef HP_HOTPATCH_HEADER hdr_t;
typedef HP_HOTPATCH_HOOK hook_t;
typedef HP_HOTPATCH_VALIDATION val_t;
typedef HP_IMAGE_HOT_PATCH_INFO info_t;
typedef HP_IMAGE_HOT_PATCH_BASE base_t;

#define HOTP_MIN_SECTION 0x50u /* RtlGetHotpatchHeader refuses smaller sections */
#define HOTP_NAME_MAX 1024u

/* A view of count records of size bytes at rva, every byte backed; HP_E_HOTP_ARRAY otherwise. */
static hp_status array_view(const hp_pe *pe, uint32_t rva, uint32_t count, size_t size, hp_rd *out)
{
    uint64_t n;
    if (!hp_mul_u64(count, size, &n))
        return HP_E_HOTP_ARRAY;
    HP_CHECK_AS(hp_pe_rva_view(pe, rva, n, out), HP_E_HOTP_ARRAY);
    return HP_OK;
}

/* [rva, rva+n) lies inside the patch image (backed or not). */
static bool in_image(const hp_pe *pe, uint64_t rva, uint64_t n)
{
    return hp_range_ok(rva, n, pe->size_of_image);
}

static hp_status parse_hooks(const hp_pe *pe, hp_arena *arena, uint32_t rva, hp_pe_hotp *out)
{
    hp_rd arr;
    HP_CHECK(array_view(pe, rva, out->hook_count, sizeof(hook_t), &arr));
    out->hooks = hp_arena_array(arena, out->hook_count, sizeof *out->hooks);
    if (!out->hooks)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < out->hook_count; i++) {
        hp_pe_hotp_hook *h = &out->hooks[i];
        uint64_t at = (uint64_t)i * sizeof(hook_t), v;
#define GET(field, dst)                                                         \
    do {                                                                        \
        HP_CHECK_AS(HP_RD_FIELD(&arr, at, hook_t, field, &v), HP_E_HOTP_ARRAY); \
        (dst) = v;                                                              \
    } while (0)
        GET(HookType, h->type);
        GET(HookOptions, h->options);
        GET(HookRva, h->hook_rva);
        GET(HotpRva, h->hotp_rva);
        GET(ValidationRva, h->validation_rva);
#undef GET
        /* HookRva is in the target, which only the applier sees; JMP2B's HotpRva is a disp8. */
        bool hotp_is_rva = h->type != HP_HOTP_Hook_None && h->type != HP_HOTP_Hook_X86_JMP2B;
        if (hotp_is_rva && !in_image(pe, h->hotp_rva, 1))
            return HP_E_HOTP_HOOK;
        hp_rd vrec;
        if (h->validation_rva &&
            hp_pe_rva_view(pe, h->validation_rva, sizeof(val_t), &vrec) != HP_OK)
            return HP_E_HOTP_HOOK;
    }
    return HP_OK;
}

static hp_status parse_validations(const hp_pe *pe, hp_arena *arena, uint32_t rva,
                                   hp_pe_hotp *out)
{
    hp_rd arr;
    HP_CHECK(array_view(pe, rva, out->validation_count, sizeof(val_t), &arr));
    out->validations = hp_arena_array(arena, out->validation_count, sizeof *out->validations);
    if (!out->validations)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < out->validation_count; i++) {
        hp_pe_hotp_validation *val = &out->validations[i];
        uint64_t at = (uint64_t)i * sizeof(val_t), v;
#define GET(field, dst)                                                        \
    do {                                                                       \
        HP_CHECK_AS(HP_RD_FIELD(&arr, at, val_t, field, &v), HP_E_HOTP_ARRAY); \
        (dst) = v;                                                             \
    } while (0)
        GET(SourceRva, val->source_rva);
        GET(TargetRva, val->target_rva);
        GET(ByteCount, val->byte_count);
        GET(OptionFlags, val->options);
#undef GET
        if (val->byte_count == 0)
            continue;
        hp_rd src;
        HP_CHECK_AS(hp_pe_rva_view(pe, val->source_rva, val->byte_count, &src),
                    HP_E_HOTP_VALIDATION);
        uint8_t *copy = hp_arena_alloc(arena, val->byte_count);
        if (!copy)
            return HP_E_NOMEM;
        HP_CHECK_AS(hp_rd_bytes(&src, 0, val->byte_count, copy), HP_E_HOTP_VALIDATION);
        val->bytes = copy;
    }
    return HP_OK;
}

static unsigned fixup_width(unsigned type)
{
    switch (type) {
    case HP_HOTP_Fixup_VA32:
    case HP_HOTP_Fixup_PC32: return 4;
    case HP_HOTP_Fixup_VA64:
    case HP_HOTP_Fixup_PC64: return 8;
    default: return 0;
    }
}

/*
 * Regions are variable-length ({RvaHi:20, Count:12} then Count u16 entries), so walk them in
 * two passes over one view: count and check, then fill. The view ends where the backed bytes
 * at FixupRgnRva end, which bounds the walk however large FixupRgnCount claims to be.
 */
static hp_status walk_fixups(const hp_pe *pe, const hp_rd *rgn, uint32_t regions,
                             hp_pe_hotp_fixup *fill, uint32_t *count)
{
    uint64_t at = 0;
    uint32_t n = 0;
    for (uint32_t r = 0; r < regions; r++) {
        uint32_t head;
        HP_CHECK_AS(hp_rd_u32(rgn, at, &head), HP_E_HOTP_FIXUP);
        uint32_t base = HP_HOTP_FIXUP_REGION_RVAHI(head) << 12;
        uint32_t entries = HP_HOTP_FIXUP_REGION_COUNT(head);
        at += 4;
        for (uint32_t k = 0; k < entries; k++, at += 2) {
            uint16_t e;
            HP_CHECK_AS(hp_rd_u16(rgn, at, &e), HP_E_HOTP_FIXUP);
            unsigned type = HP_HOTP_FIXUP_TYPE(e);
            if (type == HP_HOTP_Fixup_None)
                continue; /* padding that keeps Count even */
            uint32_t rva = base | HP_HOTP_FIXUP_OFFSET(e);
            unsigned width = fixup_width(type);
            if (!width || !in_image(pe, rva, width))
                return HP_E_HOTP_FIXUP;
            if (fill) {
                fill[n].rva = rva;
                fill[n].type = (uint8_t)type;
            }
            n++;
        }
    }
    *count = n;
    return HP_OK;
}

static hp_status parse_fixups(const hp_pe *pe, hp_arena *arena, uint32_t rva, hp_pe_hotp *out)
{
    uint64_t off, avail;
    hp_rd rgn;
    HP_CHECK_AS(hp_pe_rva_to_offset(pe, rva, &off, &avail), HP_E_HOTP_ARRAY);
    HP_CHECK_AS(hp_rd_sub(&pe->rd, off, avail, &rgn), HP_E_HOTP_ARRAY);
    uint32_t n;
    HP_CHECK(walk_fixups(pe, &rgn, out->fixup_region_count, NULL, &n));
    out->fixups = hp_arena_array(arena, n, sizeof *out->fixups);
    if (!out->fixups)
        return HP_E_NOMEM;
    HP_CHECK(walk_fixups(pe, &rgn, out->fixup_region_count, out->fixups, &out->fixup_count));
    return HP_OK;
}

hp_status hp_pe_hotp_parse(const hp_pe *pe, hp_arena *arena, hp_pe_hotp *out)
{
    if (!pe || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    const hp_pe_section *s = hp_pe_section_by_name(pe, HP_HOTP_SECTION_NAME);
    if (!s)
        return HP_OK;
    if (hp_pe_section_extent(s) < HOTP_MIN_SECTION)
        return HP_E_HOTP_SECTION;

    hp_rd hdr;
    HP_CHECK_AS(hp_pe_rva_view(pe, s->virtual_address, sizeof(hdr_t), &hdr), HP_E_HOTP_SECTION);
    uint64_t v;
    uint32_t fixup_rva, validation_rva, hook_rva, name_rva;
#define GET(field, dst)                                                         \
    do {                                                                        \
        HP_CHECK_AS(HP_RD_FIELD(&hdr, 0, hdr_t, field, &v), HP_E_HOTP_SECTION); \
        (dst) = v;                                                              \
    } while (0)
    GET(Signature, v);
    if (v != HP_HOTP_SIGNATURE)
        return HP_E_HOTP_HEADER;
    GET(Version, v);
    if (v != HP_HOTP_VERSION)
        return HP_E_HOTP_HEADER;
    GET(FixupRgnCount, out->fixup_region_count);
    GET(FixupRgnRva, fixup_rva);
    GET(ValidationCount, out->validation_count);
    GET(ValidationArrayRva, validation_rva);
    GET(HookCount, out->hook_count);
    GET(HookArrayRva, hook_rva);
    GET(OrigHotpBaseAddress, out->orig_hotp_base);
    GET(OrigTargetBaseAddress, out->orig_target_base);
    GET(TargetNameRva, name_rva);
    GET(ModuleIdMethod, out->module_id_method);
#undef GET
    HP_CHECK_AS(hp_rd_bytes(&hdr, offsetof(hdr_t, TargetModuleIdValue), sizeof out->module_id,
                            out->module_id),
                HP_E_HOTP_SECTION);
    out->header_rva = s->virtual_address;

    if (name_rva)
        HP_CHECK_AS(hp_pe_rva_str(pe, arena, name_rva, HOTP_NAME_MAX, &out->target_name),
                    HP_E_HOTP_NAME);
    /* Zero counts are kept as they are: refusing a patch without hooks is the applier's call. */
    if (out->hook_count)
        HP_CHECK(parse_hooks(pe, arena, hook_rva, out));
    if (out->validation_count)
        HP_CHECK(parse_validations(pe, arena, validation_rva, out));
    if (out->fixup_region_count)
        HP_CHECK(parse_fixups(pe, arena, fixup_rva, out));
    out->present = true;
    return HP_OK;
}

/* Bytes of IMAGE_HOT_PATCH_INFO that each version defines. */
static uint32_t info_size(uint32_t version)
{
    if (version >= 4)
        return sizeof(info_t);
    if (version == 3)
        return offsetof(info_t, MinSequenceNumber);
    if (version == 2)
        return offsetof(info_t, ExtraPatchSize);
    return offsetof(info_t, BufferOffset);
}

hp_status hp_pe_hotpatch_info_parse(const hp_pe *pe, const hp_pe_loadcfg *lc, hp_arena *arena,
                                    hp_pe_hotpatch_info *out)
{
    if (!pe || !lc || !arena || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    if (!lc->present || !HP_PE_LOADCFG_HAS(pe, lc, HotPatchTableOffset) ||
        lc->f.HotPatchTableOffset == 0)
        return HP_OK;
    out->rva = lc->f.HotPatchTableOffset;

    hp_rd head, all;
    uint32_t version, size;
    HP_CHECK_AS(hp_pe_rva_view(pe, out->rva, offsetof(info_t, SequenceNumber), &head),
                HP_E_HOTP_INFO);
    HP_CHECK_AS(hp_rd_u32(&head, offsetof(info_t, Version), &version), HP_E_HOTP_INFO);
    HP_CHECK_AS(hp_rd_u32(&head, offsetof(info_t, Size), &size), HP_E_HOTP_INFO);
    /* Size covers the info, the base list and the bases: everything below stays inside it. */
    uint32_t fixed = info_size(version);
    if (version == 0 || size < fixed)
        return HP_E_HOTP_INFO;
    HP_CHECK_AS(hp_pe_rva_view(pe, out->rva, size, &all), HP_E_HOTP_INFO);

    uint64_t v;
    /* Fields the version does not define stay zero. */
#define GET(field)                                                                \
    do {                                                                          \
        if (offsetof(info_t, field) < fixed) {                                    \
            HP_CHECK_AS(HP_RD_FIELD(&all, 0, info_t, field, &v), HP_E_HOTP_INFO); \
            out->info.field = (uint32_t)v;                                        \
        }                                                                         \
    } while (0)
    GET(Version);
    GET(Size);
    GET(SequenceNumber);
    GET(BaseImageList);
    GET(BaseImageCount);
    GET(BufferOffset);
    GET(ExtraPatchSize);
    GET(MinSequenceNumber);
    GET(Flags);
#undef GET

    uint32_t count = out->info.BaseImageCount;
    uint64_t list_size;
    hp_rd list;
    if (!hp_mul_u64(count, 4, &list_size))
        return HP_E_HOTP_INFO;
    HP_CHECK_AS(hp_rd_sub(&all, out->info.BaseImageList, list_size, &list), HP_E_HOTP_INFO);
    out->bases = hp_arena_array(arena, count, sizeof *out->bases);
    if (!out->bases)
        return HP_E_NOMEM;

    /* BufferOffset closes the base from version 2 on. */
    uint32_t base_size = version >= 2 ? sizeof(base_t) : offsetof(base_t, BufferOffset);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t off;
        hp_rd b;
        HP_CHECK_AS(hp_rd_u32(&list, (uint64_t)i * 4, &off), HP_E_HOTP_INFO);
        HP_CHECK_AS(hp_rd_sub(&all, off, base_size, &b), HP_E_HOTP_INFO);
        HP_IMAGE_HOT_PATCH_BASE *dst = &out->bases[i];
#define GET(field)                                                              \
    do {                                                                        \
        if (offsetof(base_t, field) < base_size) {                              \
            HP_CHECK_AS(HP_RD_FIELD(&b, 0, base_t, field, &v), HP_E_HOTP_INFO); \
            dst->field = (uint32_t)v;                                           \
        }                                                                       \
    } while (0)
        GET(SequenceNumber);
        GET(Flags);
        GET(OriginalTimeDateStamp);
        GET(OriginalCheckSum);
        GET(CodeIntegrityInfo);
        GET(CodeIntegritySize);
        GET(PatchTable);
        GET(BufferOffset);
#undef GET
    }
    out->base_count = count;
    out->present = true;
    return HP_OK;
}
