/*
 * hotpe-shim.dll: apply (docs/live.md). The stages, in order, each a function below:
 *
 *   check     read the patch file, parse it, admit it against the registry (engine/admit.h:
 *             already live, sequence, supersede), find the target module, check identity,
 *             every validation and every replaced function's hash against it (under the patch
 *             it supersedes: nothing is written before this), pair its sites
 *   load      LoadLibraryW the patch; its fixups (the file's value + the load delta)
 *   stubs     HOTPE_ORIGINAL stubs and trampolines (pe/insn.h), one allocation near the target
 *   stage     the transaction: aux placed near the sites, each site's bytes from the one plan
 *             (engine/plan.h), the superseded patch's other sites staged for revert and its aux
 *             guarded; the registry entry (state writing, original bytes) filled alongside
 *   callback  HOTPE_ON_APPLY: non-zero vetoes, nothing written
 *   commit    CFG step, freeze, IP check, padding then entries, flush, thaw: all or nothing
 *   publish   states live, the entry counted in, the superseded one out (one change)
 *
 * The patch file is held open from check to load with a share mode that forbids writing,
 * renaming and deleting it, and its bytes must hash to what hotpe checked (the request's
 * file_sha256): the DLL LoadLibraryW maps is the file hotpe and the shim both checked.
 *
 * A failure unwinds what the stages before it did (unwind).
 */
#include <windows.h>
#include <psapi.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/admit.h"
#include "hotpe/engine/plan.h"
#include "hotpe/engine/sha256.h"
#include "hotpe/engine/win.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/reader.h"
#include "shim.h"

/* A site of the superseded patch, by entry address. */
typedef struct by_entry {
    uint64_t entry;
    uint32_t at;
} by_entry;

typedef struct apply_ctx {
    hp_wire_registry *r;
    const hp_wire_request *req;
    hp_wire_result *res;
    hp_arena *arena;
    uint8_t *file;
    size_t file_size;
    HANDLE file_lock;         /* the patch file, open (no writers) from check to load */
    hp_patch_info pi;
    hp_patch_site *sites;
    uint32_t nsites;
    hp_pe live;               /* the target module, in place */
    uint64_t tbase, pbase;    /* the target module and the patch DLL */
    HMODULE patch;
    uint32_t old_index;       /* the superseded patch, or HP_WIRE_NONE */
    hp_wire_patch *old;
    by_entry *old_sites;      /* its sites by entry */
    uint64_t stub_page;
    hp_cfg_plan cfg_plan;
    shim_cfg cfg;
    bool cfg_unknown;
    shim_txn tx;
    hp_wire_patch *rec;       /* the new entry, patches[count] until published */
    bool applied_cb;
} apply_ctx;

/* ------------------------------------------------------------------------------------------ */
/* check                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* The whole patch file in a HeapAlloc'd buffer, and the file left open in *lock with no
 * sharing but reading: nobody writes, renames or deletes it until the caller closes it. */
static hp_status read_file_w(const wchar_t *path, uint8_t **data, size_t *size, HANDLE *lock,
                             DWORD *err)
{
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        *err = GetLastError();
        return HP_E_IO;
    }
    LARGE_INTEGER sz;
    hp_status s = HP_OK;
    uint8_t *buf = NULL;
    DWORD got = 0;
    if (!GetFileSizeEx(h, &sz) || sz.QuadPart <= 0 || sz.QuadPart > (1 << 30)) {
        *err = GetLastError();
        s = HP_E_IO;
    } else if (!(buf = HeapAlloc(GetProcessHeap(), 0, (size_t)sz.QuadPart))) {
        s = HP_E_NOMEM;
    } else if (!ReadFile(h, buf, (DWORD)sz.QuadPart, &got, NULL) || got != (DWORD)sz.QuadPart) {
        *err = GetLastError();
        s = HP_E_IO;
    }
    if (s != HP_OK) {
        CloseHandle(h);
        if (buf)
            HeapFree(GetProcessHeap(), 0, buf);
        return s;
    }
    *lock = h;
    *data = buf;
    *size = (size_t)sz.QuadPart;
    return HP_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The site of the superseded patch at entry, or NULL (by_entry begins with the entry). */
static const hp_wire_site *old_site_at(const apply_ctx *a, uint64_t entry)
{
    if (!a->old)
        return NULL;
    const by_entry *e = bsearch(&entry, a->old_sites, a->old->site_count, sizeof *a->old_sites,
                                cmp_u64);
    return e ? &shim_reg_sites(a->old)[e->at] : NULL;
}

/* Admission, then room for the new entry; the superseded patch's entries sorted. */
static hp_status admit(apply_ctx *a)
{
    hp_admit_patch me = { a->req->path, a->req->file_sha256, a->pi.hotp.target_name,
                          a->pi.pb.rec.Sequence };
    hp_status s = hp_admit(shim_reg_patch(a->r, 0), a->r->count, &me, &a->old_index);
    if (s != HP_OK) {
        a->res->patch_id = shim_reg_patch(a->r, a->old_index)->id;
        a->old_index = HP_WIRE_NONE;
        return s;
    }
    HP_CHECK(shim_reg_reserve(a->r)); /* no table moves after this */
    if (a->old_index == HP_WIRE_NONE)
        return HP_OK;
    a->old = shim_reg_patch(a->r, a->old_index);
    uint32_t n = a->old->site_count;
    if (!(a->old_sites = hp_arena_array(a->arena, n ? n : 1, sizeof *a->old_sites)))
        return HP_E_NOMEM;
    for (uint32_t k = 0; k < n; k++)
        a->old_sites[k] = (by_entry){ hp_wire_site_entry(a->old, &shim_reg_sites(a->old)[k]), k };
    qsort(a->old_sites, n, sizeof *a->old_sites, cmp_u64);
    return HP_OK;
}

static hp_status check(apply_ctx *a)
{
    DWORD err = 0;
    hp_status s = read_file_w((const wchar_t *)a->req->path, &a->file, &a->file_size,
                              &a->file_lock, &err);
    if (s != HP_OK) {
        a->res->win32_error = err;
        return s;
    }
    uint8_t sha[HP_SHA256_LEN];
    HP_CHECK(hp_sha256_of(a->file, a->file_size, sha));
    if (memcmp(sha, a->req->file_sha256, sizeof sha) != 0)
        return HP_E_LIVE_FILE_CHANGED;
    HP_CHECK(hp_patch_load(&a->pi, a->arena, a->file, a->file_size));
    HMODULE target = a->pi.hotp.target_name ? GetModuleHandleA(a->pi.hotp.target_name) : NULL;
    MODULEINFO mi;
    if (!target || !GetModuleInformation(GetCurrentProcess(), target, &mi, sizeof mi))
        return HP_E_LIVE_MODULE;
    HP_CHECK(admit(a));
    a->tbase = (uint64_t)(uintptr_t)target;
    HP_CHECK(hp_pe_parse(&a->live, a->arena, target, mi.SizeOfImage, HP_PE_LAYOUT_LOADED));
    hp_patch_live under = { 0 };
    if (a->old)
        under = shim_reg_live(a->old);
    hp_patch_failure why;
    s = hp_patch_check(&a->pi, &a->live, a->pi.hotp.target_name, a->old ? &under : NULL,
                       a->arena, &why);
    if (s != HP_OK) {
        a->res->failing_rva = why.rva;
        return s;
    }
    return hp_patch_sites(&a->pi, a->arena, &a->sites, &a->nsites);
}

/* ------------------------------------------------------------------------------------------ */
/* load, fixups, stubs                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* Copy n bytes into the patch DLL's own data (fixups, slots): the page may be read-only. */
static hp_status write_data(uint64_t addr, const void *src, size_t n)
{
    bool cfg_flags = false; /* data, not code: no PAGE_TARGETS_* */
    uint32_t old;
    if (!hp_win_protect(GetCurrentProcess(), &cfg_flags, addr, n, PAGE_READWRITE, &old))
        return HP_E_PROC_PROTECT;
    memcpy((void *)(uintptr_t)addr, src, n);
    if (!hp_win_protect(GetCurrentProcess(), &cfg_flags, addr, n, old, NULL))
        return HP_E_PROC_PROTECT;
    return HP_OK;
}

static hp_status load(apply_ctx *a)
{
    a->patch = LoadLibraryW((const wchar_t *)a->req->path);
    DWORD err = GetLastError();
    CloseHandle(a->file_lock); /* mapped: the image section now keeps writers out */
    a->file_lock = NULL;
    if (!a->patch) {
        a->res->win32_error = err;
        return HP_E_LIVE_LOAD;
    }
    MODULEINFO mi;
    if (!GetModuleInformation(GetCurrentProcess(), a->patch, &mi, sizeof mi) ||
        mi.SizeOfImage != a->pi.pe.size_of_image)
        return HP_E_LIVE_LOAD;
    a->pbase = (uint64_t)(uintptr_t)a->patch;
    return HP_OK;
}

/* Fixups: the file's value (the address assuming OrigTargetBaseAddress) + the real delta.
 * Written from the file's value, so a DLL kept loaded by an earlier revert is fixed up once. */
static hp_status fixups(apply_ctx *a)
{
    uint64_t delta = a->tbase - a->pi.hotp.orig_target_base;
    for (uint32_t i = 0; i < a->pi.hotp.fixup_count; i++) {
        const hp_pe_hotp_fixup *fx = &a->pi.hotp.fixups[i];
        unsigned w = fx->type == HP_HOTP_Fixup_VA64 ? 8 : 4;
        uint64_t v = 0;
        uint8_t bytes[8];
        hp_rd view;
        hp_wr out = hp_wr_make(bytes, w);
        if (hp_pe_rva_view(&a->pi.pe, fx->rva, w, &view) != HP_OK ||
            hp_rd_uint(&view, 0, w, &v) != HP_OK ||
            !hp_range_ok(fx->rva, w, a->pi.pe.size_of_image) ||
            hp_wr_uint(&out, 0, w, v + delta) != HP_OK)
            return HP_E_HOTP_FIXUP;
        HP_CHECK(write_data(a->pbase + fx->rva, bytes, w));
    }
    return HP_OK;
}

/* The first bytes of the function at rva as they were before any patch: through the bounded
 * view of the live module (up to n, fewer at the end of the section), with the superseded
 * patch's journal over the bytes it wrote (EB xx or E9 rel32 there now). */
static hp_status original_code(const apply_ctx *a, uint32_t rva, uint8_t *code, size_t n,
                               size_t *len)
{
    hp_rd view = { 0 };
    size_t avail = n;
    while (avail >= 2 && hp_pe_rva_view(&a->live, rva, avail, &view) != HP_OK)
        avail--;
    if (avail < 2)
        return HP_E_INSN_DECODE;
    memcpy(code, view.data, avail);
    const hp_wire_site *o = old_site_at(a, a->tbase + rva);
    if (o && hp_wire_site_sane(o) && o->entry_len <= avail)
        memcpy(code, o->orig + o->pad_len, o->entry_len);
    *len = avail;
    return HP_OK;
}

/* One stub at `at` for ORIGINAL reference r: the moved bytes and the jump back, and the
 * patch's slot pointed at it. How each instruction moves is the recipe hotpe build decoded
 * from the base file: nothing is decoded here. */
static hp_status one_stub(apply_ctx *a, const hp_proc *proc, const hotpe_build_ref *r, uint64_t at)
{
    uint8_t code[HP_INSN_TRAMP_MAX], stub[HP_INSN_TRAMP_MAX], ptr[8];
    size_t avail = 0, len = 0;
    hp_insn_moved m[HOTPE_RECIPE_MAX];
    const hotpe_build_recipe *rc = hp_pe_patchbuild_recipe(&a->pi.pb, r->BaseRva);
    unsigned count = rc ? hp_pe_recipe_moves(rc, m) : 0;
    if (!count) /* the parser saw every stub reference's recipe */
        return HP_E_INSN_DECODE;
    HP_CHECK(original_code(a, r->BaseRva, code, r->FirstInsnLen > 15 ? r->FirstInsnLen : 15,
                           &avail));
    hp_status s = hp_insn_tramp_make(a->pi.pe.pe32plus, code, avail, m, count,
                                     a->tbase + r->BaseRva, at, stub, &len);
    if (s != HP_OK) /* HP_E_ARG: the recipe does not fit the bytes there */
        return s == HP_E_ARG ? HP_E_INSN_DECODE : s;
    HP_CHECK(hp_proc_write(proc, at, stub, len));
    hp_wr w = hp_wr_make(ptr, sizeof ptr);
    HP_CHECK(hp_wr_ptr(&w, 0, a->pi.pe.pe32plus, at));
    return write_data(a->pbase + r->PatchRva, ptr, a->pi.pe.pe32plus ? 8 : 4);
}

static bool needs_stub(const hotpe_build_ref *r)
{
    return r->Kind == HOTPE_DESC_ORIGINAL && (r->Flags & HOTPE_REF_F_STUB);
}

/* HOTPE_ORIGINAL at padded sites and entry-form sites (HOTPE_REF_F_STUB): the first
 * instruction(s) are real code, so each gets a stub near the target (execute-read) that runs
 * them, moved, and jumps back to entry + their length; the patch's slot then points at the
 * stub. All stubs share one allocation (a->stub_page), HP_INSN_TRAMP_MAX bytes each. */
static hp_status stubs(apply_ctx *a)
{
    const hp_pe_patchbuild *pb = &a->pi.pb;
    uint32_t n = 0, first = 0;
    for (uint32_t i = 0; i < pb->rec.RefCount; i++)
        if (needs_stub(&pb->refs[i]) && !n++)
            first = pb->refs[i].BaseRva;
    if (!n)
        return HP_OK;
    hp_proc proc;
    HP_CHECK(hp_proc_self_open(&proc));
    hp_status s = hp_proc_alloc_near(&proc, a->tbase + first, (size_t)n * HP_INSN_TRAMP_MAX,
                                     &a->stub_page);
    for (uint32_t i = 0, k = 0; i < pb->rec.RefCount && s == HP_OK; i++) {
        if (!needs_stub(&pb->refs[i]))
            continue;
        s = one_stub(a, &proc, &pb->refs[i], a->stub_page + (uint64_t)k++ * HP_INSN_TRAMP_MAX);
        if (s != HP_OK)
            a->res->failing_rva = pb->refs[i].BaseRva;
    }
    if (s == HP_OK)
        s = hp_proc_flush_icache(&proc, a->stub_page, (size_t)n * HP_INSN_TRAMP_MAX);
    hp_proc_close(&proc);
    return s;
}

/* CFG: the target module's load config decides; one the loader accepted but we cannot read
 * is reported as failed rather than refusing the patch. */
static hp_status plan_cfg(apply_ctx *a)
{
    a->cfg = (shim_cfg){ .plan = &a->cfg_plan, .pbase = a->pbase, .arena = a->arena };
    if (hp_cfg_plan_make(&a->live, a->arena, a->sites, a->nsites, &a->cfg_plan) == HP_OK)
        return HP_OK;
    a->cfg_unknown = true; /* no call; every site says failed */
    memset(&a->cfg_plan, 0, sizeof a->cfg_plan);
    if (!(a->cfg_plan.site = hp_arena_alloc(a->arena, a->nsites ? a->nsites : 1)))
        return HP_E_NOMEM;
    a->cfg_plan.nsites = a->nsites;
    memset(a->cfg_plan.site, HP_WIRE_CFG_FAILED, a->nsites);
    return HP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* stage                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* The registry entry, before anything in the target module changes: counted in only by
 * publish, so no reader sees it half-filled. */
static hp_status fill_entry(apply_ctx *a, uint32_t nblocks, const uint64_t *blocks)
{
    a->rec = shim_reg_patch(a->r, a->r->count);
    memset(a->rec, 0, sizeof *a->rec);
    HP_CHECK(shim_reg_tables(a->rec, a->nsites, nblocks));
    a->rec->sequence = a->pi.pb.rec.Sequence;
    a->rec->patch_base = a->pbase;
    a->rec->target_base = a->tbase;
    a->rec->flags = a->pi.pe.pe32plus ? HP_WIRE_PATCH_F_SLOTS : 0;
    a->rec->on_revert_rva = a->pi.on_revert_rva;
    a->rec->stub_page = a->stub_page;
    GetSystemTimeAsFileTime((FILETIME *)&a->rec->applied_at);
    strncpy(a->rec->target_name, a->pi.hotp.target_name, HP_WIRE_NAME_MAX - 1);
    memcpy(a->rec->path, a->req->path, sizeof a->rec->path);
    memcpy(a->rec->file_sha256, a->req->file_sha256, sizeof a->rec->file_sha256);
    if (nblocks)
        memcpy(shim_reg_blocks(a->rec), blocks, nblocks * sizeof *blocks);
    return HP_OK;
}

/* Site k: its bytes from the plan, what is there now (memory, or the superseded patch's new
 * bytes where it holds the site), its journal, and the stage. */
static hp_status stage_site(apply_ctx *a, uint32_t k, const hp_plan_site *ps)
{
    hp_txn_site ts;
    hp_wire_site *st = &shim_reg_sites(a->rec)[k];
    HP_CHECK(hp_plan_make(ps, &ts));
    unsigned span = (unsigned)ts.pad_len + ts.entry_len;
    const hp_wire_site *o = old_site_at(a, ts.entry);
    if (o && (o->pad_len != ts.pad_len || o->entry_len != ts.entry_len))
        return HP_E_LIVE_HOOKS; /* the same function, another form: not the same base build */
    if (span > sizeof st->orig)
        return HP_E_INSN_RANGE;
    if (o) { /* the journal keeps the bytes from before the first patch */
        memcpy(st->orig, o->orig, span);
        memcpy(ts.old_pad, o->bytes, ts.pad_len);
        memcpy(ts.old_entry, o->bytes + ts.pad_len, ts.entry_len);
        ts.old_to = hp_wire_site_replacement(a->old, o); /* a thread on its padding jump goes there */
    } else { /* validated: the module's own bytes */
        memcpy(st->orig, (const void *)(uintptr_t)ts.pad_addr, span);
        memcpy(ts.old_pad, st->orig, ts.pad_len);
        memcpy(ts.old_entry, st->orig + ts.pad_len, ts.entry_len);
    }
    int64_t aux_off = ps->aux ? (int64_t)(ps->aux - ts.entry) : 0;
    if (aux_off < INT32_MIN || aux_off > INT32_MAX || ps->replacement < a->pbase ||
        ps->replacement - a->pbase > UINT32_MAX)
        return HP_E_INSN_RANGE; /* placed near, in the patch: cannot happen */
    st->entry_rva = a->sites[k].entry_rva;
    st->pad_len = ts.pad_len;
    st->entry_len = ts.entry_len;
    st->aux_off = (int32_t)aux_off;
    st->replacement_rva = (uint32_t)(ps->replacement - a->pbase);
    memcpy(st->bytes, ts.new_pad, ts.pad_len);
    memcpy(st->bytes + ts.pad_len, ts.new_entry, ts.entry_len);
    st->state = HP_WIRE_SITE_WRITING;
    return hp_txn_stage_site(&a->tx.txn, &ts);
}

static hp_status stage(apply_ctx *a)
{
    HP_CHECK(shim_txn_begin(&a->tx, a->arena));
    hp_plan_site *ps = hp_arena_array(a->arena, a->nsites, sizeof *ps);
    uint64_t *entries = hp_arena_array(a->arena, a->nsites, sizeof *entries);
    if (!ps || !entries)
        return HP_E_NOMEM;
    for (uint32_t k = 0; k < a->nsites; k++)
        ps[k] = (hp_plan_site){ a->sites[k].form, a->tbase + a->sites[k].entry_rva,
                                a->pbase + a->sites[k].replacement_rva, 0 };
    uint64_t *blocks = NULL;
    uint32_t nblocks = 0;
    HP_CHECK(hp_plan_place(&a->tx.txn, a->arena, ps, a->nsites, &blocks, &nblocks));
    HP_CHECK(fill_entry(a, nblocks, blocks));
    for (uint32_t k = 0; k < a->nsites; k++) {
        hp_status s = stage_site(a, k, &ps[k]);
        if (s != HP_OK) {
            a->res->failing_site = k;
            a->res->failing_rva = a->sites[k].entry_rva;
            return s;
        }
        entries[k] = ps[k].entry;
    }
    if (!a->old)
        return HP_OK;
    /* the superseded patch's sites this one does not take over are reverted in the same
     * transaction; every padding jump it wrote is rewritten or restored */
    qsort(entries, a->nsites, sizeof *entries, cmp_u64);
    return shim_stage_revert(&a->tx, a->old, entries, a->nsites);
}

/* ------------------------------------------------------------------------------------------ */
/* callback, commit, publish                                                                  */
/* ------------------------------------------------------------------------------------------ */

static hp_status callback(apply_ctx *a)
{
    if (!a->pi.on_apply_rva)
        return HP_OK;
    int (*cb)(void) = (int (*)(void))(uintptr_t)(a->pbase + a->pi.on_apply_rva);
    if (cb() != 0)
        return HP_E_LIVE_VETO;
    a->applied_cb = true;
    return HP_OK;
}

static hp_status commit(apply_ctx *a)
{
    /* an entry-form site waits for every thread to leave its first 5 bytes: one preempted
     * there may not run again for several time slices, so it gets more, still bounded, tries */
    bool entry_form = false;
    for (uint32_t k = 0; k < a->nsites && !entry_form; k++)
        entry_form = hp_plan_form_is_entry(a->sites[k].form);
    hp_txn_options opts = { .no_freeze = (a->req->flags & HP_WIRE_REQ_F_NO_FREEZE) != 0,
                            .max_retries = entry_form ? 200 : 0,
                            .cfg = a->cfg_unknown ? NULL : shim_cfg_step, .cfg_ctx = &a->cfg };
    uint32_t failed = UINT32_MAX;
    hp_status s = shim_commit(&a->tx, &opts, a->res, &failed);
    a->res->cfg = a->cfg_unknown ? HP_WIRE_CFG_FAILED : a->cfg.outcome;
    if (a->cfg.no_api)
        a->res->flags |= HP_WIRE_RES_F_NO_CFG_API;
    if (a->cfg.outcome == HP_WIRE_CFG_FAILED)
        a->res->cfg_error = a->cfg.error;
    if (s != HP_OK && failed < a->nsites) {
        a->res->failing_site = failed;
        a->res->failing_rva = a->sites[failed].entry_rva;
    }
    return s;
}

static void publish(apply_ctx *a)
{
    hp_wire_site *st = shim_reg_sites(a->rec);
    for (uint32_t k = 0; k < a->nsites; k++) {
        st[k].state = HP_WIRE_SITE_LIVE;
        st[k].cfg = hp_cfg_site_state(&a->cfg_plan, k, a->cfg.outcome);
    }
    if (a->res->flags & HP_WIRE_RES_F_FROZE)
        a->rec->flags |= HP_WIRE_PATCH_F_FROZE;
    if (a->old) { /* as if reverted: its aux unreachable now (guarded), its DLL stays loaded */
        shim_free_blocks(a->old);
        if (a->old->on_revert_rva)
            ((void (*)(void))(uintptr_t)(a->old->patch_base + a->old->on_revert_rva))();
    }
    shim_reg_publish(a->r, a->old_index);
    a->res->patch_id = shim_reg_patch(a->r, a->r->count - 1)->id;
    a->res->site_count = a->nsites;
    a->rec = NULL;
}

static void unwind(apply_ctx *a)
{
    shim_txn_end(&a->tx); /* an open transaction frees its aux blocks */
    if (a->rec)
        shim_reg_discard(a->r, a->rec);
    if (a->applied_cb && a->pi.on_revert_rva)
        ((void (*)(void))(uintptr_t)(a->pbase + a->pi.on_revert_rva))();
    if (a->patch)
        FreeLibrary(a->patch);
    if (a->stub_page)
        hp_win_free(GetCurrentProcess(), a->stub_page);
}

static hp_status timed(apply_ctx *a, hp_status (*stage_fn)(apply_ctx *), unsigned phase)
{
    uint64_t t = hp_win_clock_ns();
    hp_status s = stage_fn(a);
    a->res->phase_ns[phase] += hp_win_clock_ns() - t;
    return s;
}

hp_status shim_apply(hp_wire_registry *r, const hp_wire_request *req, hp_wire_result *res,
                     hp_arena *arena)
{
    apply_ctx a;
    memset(&a, 0, sizeof a);
    a.r = r;
    a.req = req;
    a.res = res;
    a.arena = arena;
    a.old_index = HP_WIRE_NONE;
    hp_status s = timed(&a, check, HP_WIRE_PH_VALIDATE);
    if (s == HP_OK)
        s = timed(&a, load, HP_WIRE_PH_LOAD);
    if (s == HP_OK)
        s = timed(&a, fixups, HP_WIRE_PH_FIXUP);
    if (s == HP_OK)
        s = timed(&a, stubs, HP_WIRE_PH_FIXUP);
    if (s == HP_OK)
        s = timed(&a, plan_cfg, HP_WIRE_PH_FIXUP);
    if (s == HP_OK)
        s = timed(&a, stage, HP_WIRE_PH_FIXUP);
    if (s == HP_OK)
        s = timed(&a, callback, HP_WIRE_PH_CALLBACK);
    if (s == HP_OK)
        s = timed(&a, commit, HP_WIRE_PH_COMMIT);
    if (s == HP_OK)
        publish(&a);
    else
        unwind(&a);
    if (a.file_lock)
        CloseHandle(a.file_lock);
    if (a.file)
        HeapFree(GetProcessHeap(), 0, a.file);
    return s;
}
