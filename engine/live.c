/*
 * hotpe: the checks the CLI (before injecting anything) and the loader shim (again, in the
 * target) run on a patch against a live module. See live.h.
 */
#include <string.h>

#include "hotpe/pe/insn.h"
#include "hotpe/engine/live.h"

hp_status hp_live_patch_load(hp_live_patchinfo *out, hp_arena *arena, const void *data,
                             size_t size)
{
    if (!out || !arena || !data)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    HP_CHECK(hp_pe_parse(&out->pe, arena, data, size, HP_PE_LAYOUT_FILE));
    HP_CHECK(hp_pe_hotp_parse(&out->pe, arena, &out->hotp));
    if (!out->hotp.present)
        return HP_E_NOT_A_PATCH;
    HP_CHECK(hp_pe_patchbuild_parse(&out->pe, arena, out->hotp.header_rva + 0x50, &out->pb));
    if (!out->pb.present)
        return HP_E_NOT_A_PATCH;
    if (out->hotp.hook_count == 0)
        return HP_E_LIVE_HOOKS;
    for (uint32_t i = 0; i < out->pb.rec.RefCount; i++) {
        const hotpe_build_ref *r = &out->pb.refs[i];
        if (r->Kind == HOTPE_DESC_ON_APPLY)
            out->on_apply_rva = r->PatchRva;
        else if (r->Kind == HOTPE_DESC_ON_REVERT)
            out->on_revert_rva = r->PatchRva;
    }
    return HP_OK;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool hp_live_same_module_name(const char *path, const char *name)
{
    if (!path || !name)
        return false;
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '\\' || *p == '/')
            base = p + 1;
    size_t i = 0;
    for (; base[i] && name[i]; i++)
        if (lower((unsigned char)base[i]) != lower((unsigned char)name[i]))
            return false;
    return base[i] == 0 && name[i] == 0;
}

const char *hp_live_function_at(const hp_live_patchinfo *pi, uint32_t rva)
{
    /* The site of a REPLACE at entry E spans [E - 64, E + 2); padding precedes its entry, so
     * when sites are close together the first entry at or after rva - 1 is the one. */
    const char *best = NULL;
    uint32_t best_rva = 0;
    for (uint32_t i = 0; pi->pb.present && i < pi->pb.rec.RefCount; i++) {
        const hotpe_build_ref *r = &pi->pb.refs[i];
        if (r->Kind != HOTPE_DESC_REPLACE || rva + 64u < r->BaseRva || rva >= r->BaseRva + 2u)
            continue;
        if (!best || r->BaseRva < best_rva) {
            best = pi->pb.ref_names[i];
            best_rva = r->BaseRva;
        }
    }
    return best;
}

static hp_status identity_fail(hp_live_failure *why, const char *what)
{
    if (why)
        why->what = what;
    return HP_E_LIVE_IDENTITY;
}

hp_status hp_live_check(const hp_live_patchinfo *pi, const hp_pe *module, const char *module_name,
                        hp_arena *arena, hp_live_failure *why)
{
    return hp_live_check_under(pi, module, module_name, arena, why, NULL);
}

/* The bytes at [rva, rva + n) of the module as they were before `under` was applied: the live
 * bytes with its journal (original padding and entry bytes) laid over them. */
static hp_status bytes_before(const hp_pe *module, const hp_live_patch *under, uint32_t rva,
                              uint32_t n, hp_arena *arena, const uint8_t **out)
{
    hp_rd live;
    if (hp_pe_rva_view(module, rva, n, &live) != HP_OK)
        return HP_E_RVA;
    *out = live.data;
    if (!under)
        return HP_OK;
    uint8_t *buf = NULL;
    uint32_t sites = under->site_count < HP_LIVE_MAX_SITES ? under->site_count : HP_LIVE_MAX_SITES;
    for (uint32_t k = 0; k < sites; k++) {
        const hp_live_site *st = &under->sites[k];
        uint32_t plen = st->pad_len <= sizeof st->orig_pad ? st->pad_len : 0;
        if (st->entry_rva < plen)
            continue;
        /* [padding][entry 2 bytes] of the site, original bytes */
        uint8_t orig[sizeof st->orig_pad + 2];
        memcpy(orig, st->orig_pad, plen);
        memcpy(orig + plen, st->orig_entry, 2);
        uint64_t lo = (uint64_t)st->entry_rva - plen, hi = (uint64_t)st->entry_rva + 2;
        for (uint64_t a = lo; a < hi; a++) {
            if (a < rva || a >= (uint64_t)rva + n)
                continue;
            if (!buf) {
                if (!(buf = hp_arena_alloc(arena, n)))
                    return HP_E_NOMEM;
                memcpy(buf, live.data, n);
                *out = buf;
            }
            buf[a - rva] = orig[a - lo];
        }
    }
    return HP_OK;
}

hp_status hp_live_check_under(const hp_live_patchinfo *pi, const hp_pe *module,
                              const char *module_name, hp_arena *arena, hp_live_failure *why,
                              const hp_live_patch *under)
{
    if (!pi || !module || !arena)
        return HP_E_ARG;
    if (why)
        memset(why, 0, sizeof *why);
    const hotpe_build_disk *b = &pi->pb.rec;
    if (module->machine != pi->pe.machine || b->BaseMachine != module->machine)
        return HP_E_BUILD_MACHINE;
    if (module_name && pi->hotp.target_name &&
        !hp_live_same_module_name(module_name, pi->hotp.target_name))
        return HP_E_LIVE_TARGET_NAME;
    if (module->timestamp != b->BaseTimeDateStamp)
        return identity_fail(why, "TimeDateStamp");
    if (module->size_of_image != b->BaseSizeOfImage)
        return identity_fail(why, "SizeOfImage");
    if (module->checksum != b->BaseCheckSum)
        return identity_fail(why, "CheckSum");
    if (b->Flags & HOTPE_BUILD_F_CODEVIEW) {
        hp_pe_debug dbg;
        if (hp_pe_debug_parse(module, arena, &dbg) != HP_OK || !dbg.codeview.present)
            return identity_fail(why, "CodeView record");
        if (memcmp(dbg.codeview.guid, b->BaseGuid, 16) != 0)
            return identity_fail(why, "CodeView GUID");
        if (dbg.codeview.age != b->BaseAge)
            return identity_fail(why, "CodeView age");
    }
    for (uint32_t i = 0; i < pi->hotp.validation_count; i++) {
        const hp_pe_hotp_validation *v = &pi->hotp.validations[i];
        const uint8_t *live = NULL;
        hp_status bs = bytes_before(module, under, v->target_rva, v->byte_count, arena, &live);
        if (bs == HP_E_NOMEM)
            return bs;
        bool backed = bs == HP_OK;
        bool same = backed && memcmp(live, v->bytes, v->byte_count) == 0;
        if (same)
            continue;
        if (why) {
            why->rva = v->target_rva;
            why->count = v->byte_count;
            size_t n = v->byte_count < 16 ? v->byte_count : 16;
            memcpy(why->expected, v->bytes, n);
            if (backed)
                memcpy(why->found, live, n);
            else
                why->what = "outside the module's sections";
            why->function = hp_live_function_at(pi, v->target_rva);
        }
        return HP_E_TXN_VALIDATION;
    }
    return HP_OK;
}

hp_status hp_live_sites(const hp_live_patchinfo *pi, hp_live_site_plan *out, uint32_t cap,
                        uint32_t *count)
{
    if (!pi || !out || !count)
        return HP_E_ARG;
    bool x64 = pi->pe.pe32plus;
    uint32_t n = 0, used = 0;
    for (uint32_t i = 0; i < pi->hotp.fixup_count; i++) {
        uint8_t t = pi->hotp.fixups[i].type;
        if (t != HP_HOTP_Fixup_VA32 && t != HP_HOTP_Fixup_VA64)
            return HP_E_UNSUPPORTED;
    }
    /* HOTPE_REF_F_STUB (ORIGINAL at a padded site): the shim builds the stub. */
    for (uint32_t i = 0; i < pi->hotp.hook_count; i++) {
        const hp_pe_hotp_hook *e = &pi->hotp.hooks[i];
        if (e->type != HP_HOTP_Hook_X86_JMP2B)
            continue;
        used++;
        int8_t disp = (int8_t)(uint8_t)(e->hotp_rva & 0xffu);
        int64_t pad_rva = (int64_t)e->hook_rva + 2 + disp;
        const hp_pe_hotp_hook *p = NULL;
        for (uint32_t k = 0; k < pi->hotp.hook_count; k++)
            if (pi->hotp.hooks[k].type != HP_HOTP_Hook_X86_JMP2B &&
                (int64_t)pi->hotp.hooks[k].hook_rva == pad_rva)
                p = &pi->hotp.hooks[k];
        if (!p)
            return HP_E_LIVE_HOOKS;
        used++;
        unsigned len = p->options & HP_HOTP_HOOK_OPTIONS_SIZE_MASK;
        /* x64: FF 25 through a slot (6 bytes) or E9 to a near stub (padding of exactly 5) */
        if (x64 ? (p->type != HP_HOTP_Hook_AMD64_IND ||
                   (len != HP_INSN_JMP_RIP_LEN && len != HP_INSN_JMP_REL32_LEN))
                : (p->type != HP_HOTP_Hook_X86_JMP || len != HP_INSN_JMP_REL32_LEN))
            return HP_E_LIVE_HOOKS;
        if ((int64_t)p->hook_rva + len != (int64_t)e->hook_rva)
            return HP_E_LIVE_HOOKS;
        if (n == cap)
            return HP_E_LIVE_HOOKS;
        for (uint32_t k = 0; k < n; k++)
            if (out[k].entry_rva == e->hook_rva)
                return HP_E_LIVE_HOOKS;
        out[n].entry_rva = e->hook_rva;
        out[n].pad_rva = p->hook_rva;
        out[n].pad_len = (uint8_t)len;
        out[n].replacement_rva = p->hotp_rva;
        out[n].name = hp_live_function_at(pi, e->hook_rva);
        n++;
    }
    if (n == 0 || used != pi->hotp.hook_count)
        return HP_E_LIVE_HOOKS;
    *count = n;
    return HP_OK;
}
