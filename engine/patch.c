/*
 * hotpe: the checks hotpe (before injecting anything) and the shim (again, in the target) run
 * on a patch against a module. See patch.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/patch.h"
#include "hotpe/pe/insn.h"

/* ------------------------------------------------------------------------------------------ */
/* Sorted indexes                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* An index entry: a key and where it came from; sorted by key, then by position, so that ties
 * keep the order of the source table. */
typedef struct keyed {
    uint64_t key;
    uint32_t at;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* The first entry whose key is >= key (n when none). */
static uint32_t lower_bound(const keyed *k, uint32_t n, uint64_t key)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (k[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                    */
/* ------------------------------------------------------------------------------------------ */

hp_status hp_patch_load(hp_patch_info *out, hp_arena *arena, const void *data, size_t size)
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
    uint32_t nrefs = out->pb.rec.RefCount, n = 0;
    keyed *idx = hp_arena_array(arena, nrefs ? nrefs : 1, sizeof *idx);
    uint32_t *order = hp_arena_array(arena, nrefs ? nrefs : 1, sizeof *order);
    if (!idx || !order)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < nrefs; i++) {
        const hotpe_build_ref *r = &out->pb.refs[i];
        if (r->Kind == HOTPE_DESC_ON_APPLY)
            out->on_apply_rva = r->PatchRva;
        else if (r->Kind == HOTPE_DESC_ON_REVERT)
            out->on_revert_rva = r->PatchRva;
        else if (r->Kind == HOTPE_DESC_REPLACE)
            idx[n++] = (keyed){ r->BaseRva, i };
    }
    qsort(idx, n, sizeof *idx, cmp_keyed);
    for (uint32_t i = 0; i < n; i++)
        order[i] = idx[i].at;
    out->nreplace = n;
    out->replace_by_rva = order;
    return HP_OK;
}

bool hp_patch_same_module(const char *path, const char *name)
{
    if (!path || !name)
        return false;
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '\\' || *p == '/')
            base = p + 1;
    size_t i = 0;
    for (; base[i] && name[i]; i++) {
        unsigned a = (unsigned char)base[i], b = (unsigned char)name[i];
        if ((a >= 'A' && a <= 'Z' ? a + 32 : a) != (b >= 'A' && b <= 'Z' ? b + 32 : b))
            return false;
    }
    if (name[i] == 0 && base[i] == '.' && !strchr(name, '.'))
        return !strchr(base + i + 1, '.'); /* "ticker" names ticker.exe, as Windows tools take it */
    return base[i] == 0 && name[i] == 0;
}

void hp_patch_name(char out[HP_PATCH_NAME_MAX], const char *target, uint32_t sequence,
                   const uint8_t sha256[HP_SHA256_LEN])
{
    static const char hex[] = "0123456789abcdef";
    char h[HP_PATCH_NAME_HASH_HEX + 1];
    for (unsigned i = 0; i < HP_PATCH_NAME_HASH_HEX; i++)
        h[i] = hex[(sha256[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    h[HP_PATCH_NAME_HASH_HEX] = 0;
    snprintf(out, HP_PATCH_NAME_MAX, "%.64s#%u@%s", target ? target : "?", sequence, h);
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Split "TARGET#SEQUENCE@HEX": the target's length, the sequence, the hex digits. */
static bool name_split(const char *s, size_t *target_len, uint32_t *sequence, const char **hexd)
{
    const char *hash = strrchr(s, '#');
    if (!hash || hash == s || hash - s > 64)
        return false;
    uint64_t seq = 0;
    const char *p = hash + 1;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((seq = seq * 10 + (uint64_t)(*p - '0')) > 0xffffffffu)
            return false;
    if (*p != '@')
        return false;
    size_t n = strlen(p + 1);
    if (n < 8 || n > 2 * HP_SHA256_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (hex_value(p[1 + i]) < 0)
            return false;
    *target_len = (size_t)(hash - s);
    *sequence = (uint32_t)seq;
    *hexd = p + 1;
    return true;
}

bool hp_patch_name_shaped(const char *s)
{
    size_t tl;
    uint32_t seq;
    const char *hexd;
    return s && name_split(s, &tl, &seq, &hexd);
}

bool hp_patch_name_matches(const char *name, const char *target, uint32_t sequence,
                           const uint8_t sha256[HP_SHA256_LEN])
{
    size_t tl;
    uint32_t seq;
    const char *hexd;
    char t[65];
    if (!name || !target || !name_split(name, &tl, &seq, &hexd) || seq != sequence)
        return false;
    memcpy(t, name, tl);
    t[tl] = 0;
    if (!hp_patch_same_module(target, t) || strlen(target) != tl)
        return false;
    for (size_t i = 0; hexd[i]; i++)
        if (hex_value(hexd[i]) != ((sha256[i / 2] >> (i % 2 ? 0 : 4)) & 0xf))
            return false;
    return true;
}

/* The REPLACE reference with the greatest BaseRva <= rva (its position in replace_by_rva + 1),
 * or 0. */
static uint32_t replace_at_or_before(const hp_patch_info *pi, uint32_t rva)
{
    uint32_t lo = 0, hi = pi->nreplace;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pi->pb.refs[pi->replace_by_rva[mid]].BaseRva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *hp_patch_function_at(const hp_patch_info *pi, uint32_t rva)
{
    if (!pi || !pi->pb.present)
        return NULL;
    /* An entry-form site spans [E, E + bytes moved). */
    uint32_t k = replace_at_or_before(pi, rva);
    if (k) {
        const hotpe_build_ref *r = &pi->pb.refs[pi->replace_by_rva[k - 1]];
        if ((r->Flags & HOTPE_REF_F_TRAMP) && (uint64_t)rva < (uint64_t)r->BaseRva + r->FirstInsnLen)
            return pi->pb.ref_names[pi->replace_by_rva[k - 1]];
    }
    /* A hotpatch site at entry E spans [E - 64, E + 2): the lowest E with
     * rva - 1 <= E <= rva + 64 (padding precedes its entry, so when sites are close together
     * the first entry at or after rva - 1 is the one). */
    uint32_t lo = 0, hi = pi->nreplace;
    uint64_t from = rva ? (uint64_t)rva - 1 : 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pi->pb.refs[pi->replace_by_rva[mid]].BaseRva < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == pi->nreplace)
        return NULL;
    uint32_t at = pi->replace_by_rva[lo];
    return pi->pb.refs[at].BaseRva <= (uint64_t)rva + 64 ? pi->pb.ref_names[at] : NULL;
}

/* The REPLACE reference at exactly rva, or NULL. */
static const hotpe_build_ref *replace_ref(const hp_patch_info *pi, uint32_t rva)
{
    uint32_t k = replace_at_or_before(pi, rva);
    if (!k)
        return NULL;
    const hotpe_build_ref *r = &pi->pb.refs[pi->replace_by_rva[k - 1]];
    return r->BaseRva == rva ? r : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Sites                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* The padding hook paired with an entry hook: the last non-entry hook starting at pad_rva (its
 * position in pads), or npads. */
static uint32_t padding_hook(const keyed *pads, uint32_t npads, int64_t pad_rva)
{
    if (pad_rva < 0)
        return npads;
    uint32_t i = lower_bound(pads, npads, (uint64_t)pad_rva), found = npads;
    for (; i < npads && pads[i].key == (uint64_t)pad_rva; i++)
        found = i;
    return found;
}

/* One site from an entry hook e and its padding hook p. */
static hp_status pair(const hp_patch_info *pi, const hp_pe_hotp_hook *e,
                      const hp_pe_hotp_hook *p, hp_patch_site *out)
{
    bool x64 = pi->pe.pe32plus;
    unsigned len = p->options & HP_HOTP_HOOK_OPTIONS_SIZE_MASK;
    if (p->type != (x64 ? HP_HOTP_Hook_AMD64_IND : HP_HOTP_Hook_X86_JMP))
        return HP_E_LIVE_HOOKS;
    HP_CHECK_AS(hp_plan_form_of_hook(x64, len, &out->form), HP_E_LIVE_HOOKS);
    if ((int64_t)p->hook_rva + len != (int64_t)e->hook_rva)
        return HP_E_LIVE_HOOKS;
    out->entry_rva = e->hook_rva;
    out->pad_rva = p->hook_rva;
    out->pad_len = (uint8_t)len;
    out->replacement_rva = p->hotp_rva;
    out->name = hp_patch_function_at(pi, e->hook_rva);
    return HP_OK;
}

/* One entry-form site from a jump hook no short jump pairs with: 5 bytes at the entry of a
 * function the build record marks HOTPE_REF_F_TRAMP. */
static hp_status entry_site(const hp_patch_info *pi, const hp_pe_hotp_hook *h, hp_patch_site *out)
{
    bool x64 = pi->pe.pe32plus;
    const hotpe_build_ref *r = replace_ref(pi, h->hook_rva);
    if (h->type != (x64 ? HP_HOTP_Hook_AMD64_IND : HP_HOTP_Hook_X86_JMP) ||
        (h->options & HP_HOTP_HOOK_OPTIONS_SIZE_MASK) != HP_INSN_JMP_REL32_LEN || !r ||
        !(r->Flags & HOTPE_REF_F_TRAMP))
        return HP_E_LIVE_HOOKS;
    out->form = hp_plan_entry_form(x64);
    out->entry_rva = h->hook_rva;
    out->pad_rva = h->hook_rva;
    out->pad_len = 0;
    out->replacement_rva = h->hotp_rva;
    out->name = hp_patch_function_at(pi, h->hook_rva);
    return HP_OK;
}

hp_status hp_patch_sites(const hp_patch_info *pi, hp_arena *arena, hp_patch_site **out,
                         uint32_t *count)
{
    if (!pi || !arena || !out || !count)
        return HP_E_ARG;
    for (uint32_t i = 0; i < pi->hotp.fixup_count; i++) {
        uint8_t t = pi->hotp.fixups[i].type;
        if (t != HP_HOTP_Fixup_VA32 && t != HP_HOTP_Fixup_VA64)
            return HP_E_UNSUPPORTED;
    }
    uint32_t nh = pi->hotp.hook_count, npads = 0, n = 0;
    keyed *pads = hp_arena_array(arena, nh ? nh : 1, sizeof *pads);
    keyed *entries = hp_arena_array(arena, nh ? nh : 1, sizeof *entries);
    hp_patch_site *sites = hp_arena_array(arena, nh ? nh : 1, sizeof *sites);
    bool *used = hp_arena_array(arena, nh ? nh : 1, sizeof *used);
    if (!pads || !entries || !sites || !used) /* zeroed: no hook used yet */
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < nh; i++)
        if (pi->hotp.hooks[i].type != HP_HOTP_Hook_X86_JMP2B)
            pads[npads++] = (keyed){ pi->hotp.hooks[i].hook_rva, i };
    qsort(pads, npads, sizeof *pads, cmp_keyed);
    /* HOTPE_REF_F_STUB (ORIGINAL at a padded site): the shim builds the stub. */
    for (uint32_t i = 0; i < nh; i++) {
        const hp_pe_hotp_hook *e = &pi->hotp.hooks[i];
        if (e->type != HP_HOTP_Hook_X86_JMP2B)
            continue;
        int8_t disp = (int8_t)(uint8_t)(e->hotp_rva & 0xffu);
        uint32_t k = padding_hook(pads, npads, (int64_t)e->hook_rva + 2 + disp);
        if (k == npads || used[k])
            return HP_E_LIVE_HOOKS;
        used[k] = true;
        HP_CHECK(pair(pi, e, &pi->hotp.hooks[pads[k].at], &sites[n]));
        entries[n] = (keyed){ e->hook_rva, n };
        n++;
    }
    /* every other jump hook is an entry-form site's */
    for (uint32_t k = 0; k < npads; k++) {
        if (used[k])
            continue;
        HP_CHECK(entry_site(pi, &pi->hotp.hooks[pads[k].at], &sites[n]));
        entries[n] = (keyed){ sites[n].entry_rva, n };
        n++;
    }
    if (n == 0)
        return HP_E_LIVE_HOOKS;
    qsort(entries, n, sizeof *entries, cmp_keyed);
    for (uint32_t i = 1; i < n; i++)
        if (entries[i].key == entries[i - 1].key)
            return HP_E_LIVE_HOOKS;
    *out = sites;
    *count = n;
    return HP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Function hashes                                                                            */
/* ------------------------------------------------------------------------------------------ */

hp_status hp_patch_fn_hash(const hp_pe_fn_mask *m, uint32_t rva, uint8_t *buf, uint32_t len,
                           uint8_t out[HP_SHA256_LEN])
{
    if (!m || !buf || !out || len == 0)
        return HP_E_ARG;
    hp_pe_fn_mask_apply(m, rva, buf, len);
    return hp_sha256_of(buf, len, out);
}

/* ------------------------------------------------------------------------------------------ */
/* Identity and validations                                                                   */
/* ------------------------------------------------------------------------------------------ */

static hp_status identity_fail(hp_patch_failure *why, const char *what)
{
    if (why)
        why->what = what;
    return HP_E_LIVE_IDENTITY;
}

static hp_status check_identity(const hp_patch_info *pi, const hp_pe *module,
                                const char *module_name, hp_arena *arena, hp_patch_failure *why)
{
    const hotpe_build_disk *b = &pi->pb.rec;
    if (module->machine != pi->pe.machine || b->BaseMachine != module->machine)
        return HP_E_BUILD_MACHINE;
    if (module_name && pi->hotp.target_name &&
        !hp_patch_same_module(module_name, pi->hotp.target_name))
        return HP_E_LIVE_TARGET_NAME;
    /* A module hotpe install rewrote (.hotpei) is still the build it was. */
    hp_pe_identity id;
    HP_CHECK(hp_pe_build_identity(module, &id));
    if (id.timestamp != b->BaseTimeDateStamp)
        return identity_fail(why, "TimeDateStamp");
    if (id.size_of_image != b->BaseSizeOfImage)
        return identity_fail(why, "SizeOfImage");
    if (id.checksum != b->BaseCheckSum)
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
    return HP_OK;
}

/* The sites of a live patch by entry RVA, for bytes_before. */
typedef struct journal_index {
    const hp_patch_live *under;
    keyed *by_entry;
    uint32_t n;
} journal_index;

static hp_status index_journal(const hp_patch_live *under, hp_arena *arena, journal_index *j)
{
    memset(j, 0, sizeof *j);
    if (!under || !under->rec || !under->rec->site_count)
        return HP_OK;
    uint32_t n = under->rec->site_count;
    if (!under->sites)
        return HP_E_ARG;
    if (!(j->by_entry = hp_arena_array(arena, n, sizeof *j->by_entry)))
        return HP_E_NOMEM;
    for (uint32_t k = 0; k < n; k++)
        j->by_entry[k] = (keyed){ under->sites[k].entry_rva, k };
    qsort(j->by_entry, n, sizeof *j->by_entry, cmp_keyed);
    j->under = under;
    j->n = n;
    return HP_OK;
}

/* Lay the journal's original padding and entry bytes over buf, the module's n bytes at rva;
 * with buf NULL, only say whether any of them falls in [rva, rva + n). A site spans
 * [entry - pad_len, entry + entry_len), at most 8 bytes, so only entries in
 * [rva - 4, rva + n + 8) can overlap. */
static bool lay_journal(const journal_index *j, uint32_t rva, uint32_t n, uint8_t *buf)
{
    bool any = false;
    uint64_t end = (uint64_t)rva + n;
    for (uint32_t i = lower_bound(j->by_entry, j->n, rva > 4 ? (uint64_t)rva - 4 : 0);
         i < j->n && j->by_entry[i].key < end + 8; i++) {
        const hp_wire_site *st = &j->under->sites[j->by_entry[i].at];
        if (!hp_wire_site_sane(st) || st->entry_rva < st->pad_len)
            continue;
        const uint8_t *orig = st->orig; /* [padding][entry bytes], original */
        uint64_t lo = (uint64_t)st->entry_rva - st->pad_len, hi = lo + hp_wire_site_span(st);
        for (uint64_t a = lo < rva ? rva : lo; a < hi && a < end; a++) {
            any = true;
            if (!buf)
                return true;
            buf[a - rva] = orig[a - lo];
        }
    }
    return any;
}

/* The bytes at [rva, rva + n) of the module as they were before the journal's patch: the live
 * bytes, or a copy with the journal laid over them. */
static hp_status bytes_before(const hp_pe *module, const journal_index *j, uint32_t rva,
                              uint32_t n, hp_arena *arena, const uint8_t **out)
{
    hp_rd live;
    if (hp_pe_rva_view(module, rva, n, &live) != HP_OK)
        return HP_E_RVA;
    *out = live.data;
    if (!lay_journal(j, rva, n, NULL))
        return HP_OK;
    uint8_t *buf = hp_arena_alloc(arena, n);
    if (!buf)
        return HP_E_NOMEM;
    memcpy(buf, live.data, n);
    lay_journal(j, rva, n, buf);
    *out = buf;
    return HP_OK;
}

/* Every replaced function's bytes against its recorded hash (build record version 4): the
 * module's bytes as they were before the journal's patch, masked by the module's own .reloc
 * directory and this patch's hooks (pe/fnhash.h), through the hp_patch_fn_hash `hotpe build`
 * ran on the base file. One buffer for all of them. */
static hp_status check_hashes(const hp_patch_info *pi, const hp_pe *module,
                              const journal_index *j, hp_arena *arena, hp_patch_failure *why)
{
    const hp_pe_patchbuild *pb = &pi->pb;
    if (!pb->rec.HashCount)
        return HP_OK; /* version 3: no hashes */
    uint32_t nh = pi->hotp.hook_count;
    hp_pe_range *hooked = hp_arena_array(arena, nh ? nh : 1, sizeof *hooked);
    uint8_t *buf = hp_arena_alloc(arena, HOTPE_HASH_LENGTH_MAX);
    if (!hooked || !buf)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < nh; i++)
        hooked[i] = (hp_pe_range){ pi->hotp.hooks[i].hook_rva,
                                   pi->hotp.hooks[i].options & HP_HOTP_HOOK_OPTIONS_SIZE_MASK };
    hp_pe_fn_mask mask;
    HP_CHECK(hp_pe_fn_mask_make(module, hooked, nh, arena, &mask));
    for (uint32_t i = 0; i < pb->rec.HashCount; i++) {
        const hotpe_build_hash *h = &pb->hashes[i];
        hp_rd live;
        uint8_t sha[HP_SHA256_LEN];
        bool backed = hp_pe_rva_view(module, h->BaseRva, h->Length, &live) == HP_OK;
        if (backed) {
            memcpy(buf, live.data, h->Length);
            lay_journal(j, h->BaseRva, h->Length, buf);
            HP_CHECK(hp_patch_fn_hash(&mask, h->BaseRva, buf, h->Length, sha));
            if (memcmp(sha, h->Sha256, sizeof sha) == 0)
                continue;
        }
        if (why) {
            why->rva = h->BaseRva;
            why->count = h->Length;
            memcpy(why->expected, h->Sha256, sizeof why->expected);
            if (backed)
                memcpy(why->found, sha, sizeof why->found);
            else
                why->what = "outside the module's sections";
            why->function = hp_patch_function_at(pi, h->BaseRva);
        }
        return HP_E_LIVE_FUNC_HASH;
    }
    return HP_OK;
}

hp_status hp_patch_check(const hp_patch_info *pi, const hp_pe *module, const char *module_name,
                         const hp_patch_live *under, hp_arena *arena, hp_patch_failure *why)
{
    if (!pi || !module || !arena)
        return HP_E_ARG;
    if (why)
        memset(why, 0, sizeof *why);
    HP_CHECK(check_identity(pi, module, module_name, arena, why));
    journal_index j;
    HP_CHECK(index_journal(under, arena, &j));
    for (uint32_t i = 0; i < pi->hotp.validation_count; i++) {
        const hp_pe_hotp_validation *v = &pi->hotp.validations[i];
        const uint8_t *live = NULL;
        hp_status bs = bytes_before(module, &j, v->target_rva, v->byte_count, arena, &live);
        if (bs == HP_E_NOMEM)
            return bs;
        bool backed = bs == HP_OK;
        if (backed && memcmp(live, v->bytes, v->byte_count) == 0)
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
            why->function = hp_patch_function_at(pi, v->target_rva);
        }
        return HP_E_TXN_VALIDATION;
    }
    return check_hashes(pi, module, &j, arena, why);
}
