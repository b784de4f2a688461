/*
 * hotpe-shim.dll: injected into a target by `hotpe apply`, the emulation of ntdll's
 * LdrHotPatchRoutine (PRODUCT.md section 6, hotpatch-formats.md 1.8).
 *
 * Exports exactly two things (hotpe-shim.def): the registry `hotpe_registry` (live.h: every
 * live patch and its undo journal, read by `hotpe list` with ReadProcessMemory alone) and the
 * entry point `hotpe_shim_run(request)`, which hotpe starts with CreateRemoteThread on a
 * request block it wrote into this process. The shim prints nothing: it answers in the
 * request's result part and through the thread's exit code (an hp_status).
 *
 * Apply: parse the patch file (pe/), re-validate against the live target module, LoadLibraryW
 * the patch, apply its fixups, build the HOTPE_ORIGINAL stubs of padded sites (pe/insn.h),
 * run HOTPE_ON_APPLY (a veto unloads it), place x64 slots (FF 25) or near stubs (E9, padding
 * of 5) near the target, record the sites (state WRITING, original bytes) in the registry,
 * make the replacement entries valid CFG call targets when the target module is
 * CFG-instrumented (cfg_step), write them (freeze, IP check, padding then the 2-byte entry
 * store, flush, thaw; all or nothing) and mark them LIVE. A live patch of the same module with a lower sequence is
 * superseded in the same transaction (shared sites: padding jump re-pointed; its other sites
 * reverted), then its HOTPE_ON_REVERT runs and its entry is dropped. Revert: restore the entry
 * bytes first, then the padding, run HOTPE_ON_REVERT, drop the registry entry.
 *
 * The registry is the only global (style.md section 7, item 6).
 */
#include <windows.h>
#include <psapi.h>
#include <string.h>

#include "hotpe/pe/arena.h"
#include "hotpe/engine/cfg.h"
#include "hotpe/pe/insn.h"
#include "hotpe/engine/live.h"
#include "hotpe/pe/pe.h"
#include "hotpe/engine/proc.h"
#include "hotpe/engine/win.h"
#include "hotpe/pe/reader.h"
#include "hotpe/engine/txn.h"

hp_live_registry hotpe_registry = {
    .magic = HP_LIVE_REGISTRY_MAGIC,
    .version = HP_LIVE_VERSION,
    .size = sizeof(hp_live_registry),
    .next_id = 1,
    .capacity = HP_LIVE_MAX_PATCHES,
    .max_sites = HP_LIVE_MAX_SITES,
};

DWORD WINAPI hotpe_shim_run(void *request); /* exported by hotpe-shim.def */

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

static void reg_begin_change(hp_live_registry *r)
{
    __atomic_add_fetch(&r->seq, 1, __ATOMIC_SEQ_CST); /* odd: changing */
}

static void reg_end_change(hp_live_registry *r)
{
    __atomic_add_fetch(&r->seq, 1, __ATOMIC_SEQ_CST); /* even: stable */
}

/* The whole patch file in a HeapAlloc'd buffer. */
static hp_status read_file_w(const wchar_t *path, uint8_t **data, size_t *size, DWORD *err)
{
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, 0, NULL);
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
    CloseHandle(h);
    if (s != HP_OK) {
        if (buf)
            HeapFree(GetProcessHeap(), 0, buf);
        return s;
    }
    *data = buf;
    *size = (size_t)sz.QuadPart;
    return HP_OK;
}

/* Copy n bytes into the patch DLL's own data (fixups): the page may be read-only. */
static hp_status write_data(uint64_t addr, const void *src, size_t n)
{
    DWORD old, tmp;
    void *p = (void *)(uintptr_t)addr;
    if (!VirtualProtect(p, n, PAGE_READWRITE, &old))
        return HP_E_PROC_PROTECT;
    memcpy(p, src, n);
    if (!VirtualProtect(p, n, old, &tmp))
        return HP_E_PROC_PROTECT;
    return HP_OK;
}

/* Release a page from hp_proc_alloc_near in this process. */
static void free_near(uint64_t addr)
{
    hp_proc proc;
    if (addr && hp_proc_self_open(&proc) == HP_OK) {
        hp_proc_free(&proc, addr);
        hp_proc_close(&proc);
    }
}

/*
 * HOTPE_ORIGINAL at padded sites (HOTPE_REF_F_STUB): the first instruction is real code, so
 * each gets a stub near the target (execute-read) that runs it, moved, and jumps back to entry
 * + its length; the patch's slot then points at the stub. `under`: a live patch being
 * superseded, whose journal holds the entry bytes its short jump covers. All stubs share one
 * allocation (*page, 0 when none), freed here on failure.
 */
static hp_status build_stubs(const hp_live_patchinfo *pi, const hp_pe *live, uint64_t tbase,
                             uint64_t pbase, const hp_live_patch *under, uint64_t *page,
                             hp_live_result *res)
{
    uint32_t n = 0;
    const hotpe_build_ref *first = NULL;
    *page = 0;
    for (uint32_t i = 0; i < pi->pb.rec.RefCount; i++)
        if (pi->pb.refs[i].Kind == HOTPE_DESC_ORIGINAL && pi->pb.refs[i].Flags & HOTPE_REF_F_STUB) {
            first = first ? first : &pi->pb.refs[i];
            n++;
        }
    if (!n)
        return HP_OK;
    hp_proc proc;
    hp_status s = hp_proc_self_open(&proc);
    if (s != HP_OK)
        return s;
    if ((s = hp_proc_alloc_near(&proc, tbase + first->BaseRva, (size_t)n * HP_INSN_STUB_MAX,
                                page)) != HP_OK) {
        hp_proc_close(&proc);
        return s;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < pi->pb.rec.RefCount && s == HP_OK; i++) {
        const hotpe_build_ref *r = &pi->pb.refs[i];
        if (r->Kind != HOTPE_DESC_ORIGINAL || !(r->Flags & HOTPE_REF_F_STUB))
            continue;
        /* The instruction's bytes, through the bounded view of the live module: up to 15,
         * fewer at the end of the section. */
        hp_rd view = { 0 };
        uint8_t code[15];
        size_t avail = sizeof code;
        while (avail >= 2 && hp_pe_rva_view(live, r->BaseRva, avail, &view) != HP_OK)
            avail--;
        if (avail < 2) {
            s = HP_E_INSN_DECODE;
        } else {
            memcpy(code, view.data, avail);
            for (uint32_t j = 0; under && j < under->site_count; j++)
                if (under->sites[j].entry_rva == r->BaseRva)
                    memcpy(code, under->sites[j].orig_entry, 2); /* EB xx there now */
            uint8_t stub[HP_INSN_STUB_MAX];
            size_t len = 0;
            unsigned ilen = 0;
            uint64_t at = *page + (uint64_t)k * HP_INSN_STUB_MAX;
            s = hp_insn_stub_build(pi->pe.pe32plus, code, avail, tbase + r->BaseRva, at, stub,
                                   &len, &ilen);
            /* the build record saw the same first instruction in the base file */
            if (s == HP_OK && r->FirstInsnLen && ilen != r->FirstInsnLen)
                s = HP_E_INSN_DECODE;
            if (s == HP_OK)
                s = hp_proc_write(&proc, at, stub, len);
            uint8_t ptr[8];
            for (unsigned b = 0; b < 8; b++)
                ptr[b] = (uint8_t)(at >> (8 * b));
            if (s == HP_OK)
                s = write_data(pbase + r->PatchRva, ptr, pi->pe.pe32plus ? 8 : 4);
        }
        if (s != HP_OK)
            res->failing_rva = r->BaseRva;
        k++;
    }
    if (s == HP_OK)
        s = hp_proc_flush_icache(&proc, *page, (size_t)n * HP_INSN_STUB_MAX);
    if (s != HP_OK) {
        hp_proc_free(&proc, *page);
        *page = 0;
    }
    hp_proc_close(&proc);
    return s;
}

/*
 * Control Flow Guard (applier/cfg.h, docs/live.md): the transaction's CFG step, run after
 * validation and before the freeze and the first write. Before, not after the flush: from the
 * first redirected call on, the replacement is already a valid target, and the system call
 * (which takes the address space lock) stays out of the freeze window. A failed call does not
 * refuse the apply: the redirection itself passes no CFG check (callers check the original
 * entry, which the module's own table keeps valid; the padding jumps are direct), so the state
 * only matters to code that calls a replacement through a pointer; it is reported per site.
 */
typedef struct shim_cfg {
    const hp_cfg_plan *plan;
    uint64_t pbase;          /* the patch image: plan offsets are relative to it */
    uint8_t outcome;         /* out: HP_LIVE_CFG_* of the planned targets */
    bool no_api;             /* out: SetProcessValidCallTargets is missing */
    DWORD error;             /* out: GetLastError of a failed call */
} shim_cfg;

typedef BOOL(WINAPI *set_valid_call_targets_fn)(HANDLE, PVOID, SIZE_T, ULONG,
                                                PCFG_CALL_TARGET_INFO);
typedef BOOL(WINAPI *get_mitigation_fn)(HANDLE, PROCESS_MITIGATION_POLICY, PVOID, SIZE_T);

/* An export of kernelbase.dll (where Windows 10 has these), else of kernel32.dll, or NULL. */
static void (*system_proc(const char *name))(void)
{
    void (*f)(void) = hp_win_proc("kernelbase.dll", name);
    return f ? f : hp_win_proc("kernel32.dll", name);
}

static hp_status cfg_step(void *ctx)
{
    shim_cfg *c = ctx;
    const hp_cfg_plan *plan = c->plan;
    if (!plan->instrumented) {
        c->outcome = HP_LIVE_CFG_NOT_INSTRUMENTED;
        return HP_OK;
    }
    if (!plan->count) { /* every replacement entry unaligned: nothing the call can take */
        c->outcome = HP_LIVE_CFG_UNALIGNED;
        return HP_OK;
    }
    set_valid_call_targets_fn set_valid =
        (set_valid_call_targets_fn)system_proc("SetProcessValidCallTargets");
    if (!set_valid) {
        c->no_api = true;
        c->outcome = HP_LIVE_CFG_NO_API;
        return HP_OK;
    }
    /* A CFG module in a process without CFG (an exe built without /guard:cf): the call would
     * fail, and nothing checks targets anyway. */
    get_mitigation_fn get_policy =
        (get_mitigation_fn)system_proc("GetProcessMitigationPolicy");
    PROCESS_MITIGATION_CONTROL_FLOW_GUARD_POLICY pol;
    memset(&pol, 0, sizeof pol);
    if (get_policy &&
        get_policy(GetCurrentProcess(), ProcessControlFlowGuardPolicy, &pol, sizeof pol) &&
        !pol.EnableControlFlowGuard) {
        c->outcome = HP_LIVE_CFG_NOT_ENFORCED;
        return HP_OK;
    }
    /* The call wants offsets from the start of an executable region: one call per region
     * (VirtualQuery), the targets being ascending. */
    CFG_CALL_TARGET_INFO info[HP_LIVE_MAX_SITES];
    c->outcome = HP_LIVE_CFG_REGISTERED;
    for (uint32_t i = 0; i < plan->count;) {
        MEMORY_BASIC_INFORMATION mbi;
        uint64_t va = c->pbase + plan->targets[i].offset;
        if (!VirtualQuery((void *)(uintptr_t)va, &mbi, sizeof mbi)) {
            c->error = GetLastError();
            c->outcome = HP_LIVE_CFG_FAILED;
            return HP_OK;
        }
        uint64_t rb = (uint64_t)(uintptr_t)mbi.BaseAddress, re = rb + mbi.RegionSize;
        ULONG n = 0;
        for (; i < plan->count && (va = c->pbase + plan->targets[i].offset) < re; i++) {
            info[n].Offset = (ULONG_PTR)(va - rb);
            info[n].Flags = (ULONG_PTR)plan->targets[i].flags;
            n++;
        }
        if (!set_valid(GetCurrentProcess(), mbi.BaseAddress, mbi.RegionSize, n, info)) {
            c->error = GetLastError();
            c->outcome = HP_LIVE_CFG_FAILED;
            return HP_OK;
        }
    }
    return HP_OK;
}

/* A registry site as a transaction site: old_* = the journal, new_* = what apply writes. */
static void txn_site_of(const hp_live_site *st, hp_txn_site *t)
{
    memset(t, 0, sizeof *t);
    t->entry = st->entry_va;
    t->pad_addr = st->pad_va;
    t->pad_len = st->pad_len;
    memcpy(t->old_pad, st->orig_pad, st->pad_len);
    memcpy(t->old_entry, st->orig_entry, 2);
    memcpy(t->new_pad, st->new_pad, st->pad_len);
    memcpy(t->new_entry, st->new_entry, 2);
    if (st->slot_va && st->pad_len == HP_INSN_JMP_REL32_LEN) {
        /* x64 padding of 5: E9 to this near stub, which jumps anywhere */
        t->aux_addr = st->slot_va;
        t->aux_len = HP_INSN_JMP_ABS64_LEN;
        hp_insn_jmp_abs64_encode(st->replacement_va, t->aux);
    } else if (st->slot_va) {
        t->aux_addr = st->slot_va;
        t->aux_len = 8;
        for (unsigned b = 0; b < 8; b++)
            t->aux[b] = (uint8_t)(st->replacement_va >> (8 * b));
    }
}

/* Copy a transaction's outcome into the result block. */
static void txn_outcome(const hp_txn_result *tr, const hp_live_patch *p, hp_live_result *res)
{
    if (tr->froze)
        res->flags |= HP_LIVE_RES_F_FROZE;
    res->freeze_ns = tr->ns_window;
    if (tr->status != HP_OK && tr->failed_site != UINT32_MAX && tr->failed_site < p->site_count) {
        res->failing_site = tr->failed_site;
        res->failing_rva = p->sites[tr->failed_site].entry_rva;
    }
}

/* The site of `old` at the same entry, or NULL. */
static const hp_live_site *site_at(const hp_live_patch *old, uint64_t entry_va)
{
    for (uint32_t j = 0; old && j < old->site_count; j++)
        if (old->sites[j].entry_va == entry_va)
            return &old->sites[j];
    return NULL;
}

/*
 * Apply (revert=false) or revert every site of p as one transaction in this process
 * (proc_self + txn): validate, freeze, IP check, padding then entry (revert: entry first),
 * flush, thaw; all or nothing. x64 slots are allocated by the transaction on apply.
 * Supersede (apply with `old`, a live patch of the same module): a site of both keeps its
 * EB xx entry and only its padding jump is re-pointed; old's other sites are reverted; all in
 * the same transaction. Bytes that may be executing change, so the txn freezes (the padding
 * is not all CC).
 */
static hp_status commit(hp_live_patch *p, const hp_live_patch *old, bool revert, bool no_freeze,
                        shim_cfg *cfg, hp_arena *arena, hp_live_result *res)
{
    hp_proc proc;
    hp_txn txn;
    hp_txn_result tr;
    hp_status s = hp_proc_self_open(&proc);
    if (s != HP_OK)
        return s;
    memset(&tr, 0, sizeof tr);
    if ((s = hp_txn_begin(&txn, &proc, arena)) != HP_OK) {
        hp_proc_close(&proc);
        return s;
    }
    for (uint32_t k = 0; k < p->site_count && s == HP_OK; k++) {
        hp_live_site *st = &p->sites[k];
        if (!revert && p->flags & HP_LIVE_PATCH_F_SLOTS) {
            bool stub = st->pad_len == HP_INSN_JMP_REL32_LEN;
            s = hp_txn_alloc(&txn, st->entry_va, stub ? HP_INSN_JMP_ABS64_LEN : 8, &st->slot_va);
            if (s == HP_OK && stub)
                s = hp_insn_jmp_rel32_encode(st->pad_va, st->slot_va, st->new_pad);
            else if (s == HP_OK)
                s = hp_insn_jmp_rip_encode(st->pad_va, st->slot_va, st->new_pad);
        }
        hp_txn_site t;
        txn_site_of(st, &t);
        const hp_live_site *o = revert ? NULL : site_at(old, st->entry_va);
        if (o) { /* expected now: what old wrote */
            memcpy(t.old_pad, o->new_pad, o->pad_len);
            memcpy(t.old_entry, o->new_entry, 2);
        }
        if (s == HP_OK)
            s = revert ? hp_txn_stage_revert(&txn, &t) : hp_txn_stage_site(&txn, &t);
        if (s != HP_OK) {
            res->failing_site = k;
            res->failing_rva = st->entry_rva;
        }
    }
    for (uint32_t j = 0; !revert && old && j < old->site_count && s == HP_OK; j++) {
        if (site_at(p, old->sites[j].entry_va))
            continue;
        hp_txn_site t;
        txn_site_of(&old->sites[j], &t);
        s = hp_txn_stage_revert(&txn, &t);
    }
    if (s != HP_OK) {
        hp_txn_abort(&txn);
    } else {
        hp_txn_options opts = { .no_freeze = no_freeze, .cfg = cfg ? cfg_step : NULL,
                                .cfg_ctx = cfg };
        s = hp_txn_commit(&txn, &opts, &tr);
        txn_outcome(&tr, p, res);
    }
    if (revert && s == HP_OK)
        for (uint32_t k = 0; k < p->site_count; k++)
            if (p->sites[k].slot_va)
                hp_proc_free(&proc, p->sites[k].slot_va); /* no thread is past the padding */
    if (!revert && old && s == HP_OK)
        for (uint32_t j = 0; j < old->site_count; j++)
            if (old->sites[j].slot_va) /* every padding jump now reads a slot of p */
                hp_proc_free(&proc, old->sites[j].slot_va);
    if (s == HP_OK && tr.froze)
        p->flags |= HP_LIVE_PATCH_F_FROZE;
    hp_proc_close(&proc);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Apply                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static bool same_path(const uint16_t *a, const uint16_t *b)
{
    return CompareStringOrdinal((const wchar_t *)a, -1, (const wchar_t *)b, -1, TRUE) == CSTR_EQUAL;
}

static void remove_patch(hp_live_registry *r, uint32_t index)
{
    reg_begin_change(r);
    for (uint32_t i = index; i + 1 < r->count; i++)
        r->patches[i] = r->patches[i + 1];
    if (r->count)
        memset(&r->patches[--r->count], 0, sizeof r->patches[0]);
    reg_end_change(r);
}

static hp_status do_apply(hp_live_registry *r, const hp_live_request *req, hp_live_result *res,
                          hp_arena *arena)
{
    uint64_t t = hp_win_clock_ns();
    for (uint32_t i = 0; i < r->count; i++)
        if (same_path(r->patches[i].path, req->path)) {
            res->patch_id = r->patches[i].id;
            return HP_E_LIVE_ALREADY;
        }
    if (r->count >= HP_LIVE_MAX_PATCHES)
        return HP_E_LIVE_REGISTRY;

    uint8_t *file = NULL;
    size_t file_size = 0;
    DWORD err = 0;
    hp_status s = read_file_w((const wchar_t *)req->path, &file, &file_size, &err);
    if (s != HP_OK) {
        res->win32_error = err;
        return s;
    }
    hp_live_patchinfo pi;
    hp_live_site_plan plan[HP_LIVE_MAX_SITES];
    uint32_t nsites = 0;
    HMODULE target = NULL, patch = NULL;
    MODULEINFO mi;
    hp_pe live;
    hp_live_failure why;
    hp_live_patch *p = NULL;
    bool applied_cb = false;
    uint64_t stub_page = 0; /* HOTPE_ORIGINAL stubs (padded sites) */
    hp_live_patch *old = NULL; /* the live patch being superseded */
    uint32_t old_index = 0;

    if ((s = hp_live_patch_load(&pi, arena, file, file_size)) != HP_OK)
        goto fail;
    if (!pi.hotp.target_name || !(target = GetModuleHandleA(pi.hotp.target_name)) ||
        !GetModuleInformation(GetCurrentProcess(), target, &mi, sizeof mi)) {
        s = HP_E_LIVE_MODULE;
        goto fail;
    }
    if ((s = hp_pe_parse(&live, arena, target, mi.SizeOfImage, HP_PE_LAYOUT_LOADED)) != HP_OK)
        goto fail;
    /* A live patch of the same module: a higher or equal sequence refuses, a lower one is
     * superseded (its journal holds the bytes the validations expect). */
    for (uint32_t i = 0; i < r->count; i++)
        if (hp_live_same_module_name(r->patches[i].target_name, pi.hotp.target_name)) {
            if (r->patches[i].sequence >= pi.pb.rec.Sequence) {
                res->patch_id = r->patches[i].id;
                s = HP_E_LIVE_SEQUENCE;
                goto fail;
            }
            old_index = i;
            old = &r->patches[i];
        }
    if ((s = hp_live_check_under(&pi, &live, pi.hotp.target_name, arena, &why, old)) != HP_OK) {
        res->failing_rva = why.rva;
        goto fail;
    }
    if ((s = hp_live_sites(&pi, plan, HP_LIVE_MAX_SITES, &nsites)) != HP_OK)
        goto fail;
    res->phase_ns[HP_LIVE_PH_VALIDATE] = hp_win_clock_ns() - t;

    t = hp_win_clock_ns();
    patch = LoadLibraryW((const wchar_t *)req->path);
    res->phase_ns[HP_LIVE_PH_LOAD] = hp_win_clock_ns() - t;
    if (!patch) {
        res->win32_error = GetLastError();
        s = HP_E_LIVE_LOAD;
        goto fail;
    }
    MODULEINFO pmi;
    if (!GetModuleInformation(GetCurrentProcess(), patch, &pmi, sizeof pmi) ||
        pmi.SizeOfImage != pi.pe.size_of_image) {
        s = HP_E_LIVE_LOAD;
        goto fail;
    }

    /* Fixups: the file's value (the address assuming OrigTargetBaseAddress) + the real delta.
     * Written from the file's value, so a DLL kept loaded by an earlier revert is fixed up once. */
    t = hp_win_clock_ns();
    uint64_t tbase = (uint64_t)(uintptr_t)target, pbase = (uint64_t)(uintptr_t)patch;
    uint64_t delta = tbase - pi.hotp.orig_target_base;
    for (uint32_t i = 0; i < pi.hotp.fixup_count; i++) {
        const hp_pe_hotp_fixup *fx = &pi.hotp.fixups[i];
        unsigned w = fx->type == HP_HOTP_Fixup_VA64 ? 8 : 4;
        uint64_t v = 0;
        uint32_t v32 = 0;
        hp_status rs = w == 8 ? hp_pe_rva_u64(&pi.pe, fx->rva, &v) : hp_pe_rva_u32(&pi.pe, fx->rva, &v32);
        if (w == 4)
            v = v32;
        if (rs != HP_OK || !hp_range_ok(fx->rva, w, pmi.SizeOfImage)) {
            s = HP_E_HOTP_FIXUP;
            goto fail;
        }
        v += delta;
        uint8_t bytes[8];
        for (unsigned b = 0; b < 8; b++)
            bytes[b] = (uint8_t)(v >> (8 * b));
        if ((s = write_data(pbase + fx->rva, bytes, w)) != HP_OK)
            goto fail;
    }

    if ((s = build_stubs(&pi, &live, tbase, pbase, old, &stub_page, res)) != HP_OK)
        goto fail;
    res->phase_ns[HP_LIVE_PH_FIXUP] = hp_win_clock_ns() - t;

    /* CFG: the target module's load config decides; one the loader accepted but we cannot
     * read is reported as failed rather than refusing the patch. */
    hp_cfg_plan cfg_plan;
    shim_cfg cfg = { .plan = &cfg_plan, .pbase = pbase };
    bool cfg_unknown = hp_cfg_plan_make(&live, arena, plan, nsites, &cfg_plan) != HP_OK;
    if (cfg_unknown) { /* no call; every site says failed */
        memset(&cfg_plan, 0, sizeof cfg_plan);
        memset(cfg_plan.site, HP_LIVE_CFG_FAILED, sizeof cfg_plan.site);
    }

    /* The journal entry, before anything in the target module changes. */
    reg_begin_change(r);
    p = &r->patches[r->count];
    memset(p, 0, sizeof *p);
    p->sequence = pi.pb.rec.Sequence;
    p->site_count = nsites;
    p->patch_base = pbase;
    p->target_base = tbase;
    p->flags = pi.pe.pe32plus ? HP_LIVE_PATCH_F_SLOTS : 0; /* slots: placed by commit */
    p->on_revert_rva = pi.on_revert_rva;
    p->slot_page = stub_page;
    GetSystemTimeAsFileTime((FILETIME *)&p->applied_at);
    strncpy(p->target_name, pi.hotp.target_name, HP_LIVE_NAME_MAX - 1);
    memcpy(p->path, req->path, sizeof p->path);
    for (uint32_t k = 0; k < nsites && s == HP_OK; k++) {
        hp_live_site *st = &p->sites[k];
        st->entry_rva = plan[k].entry_rva;
        st->entry_va = tbase + plan[k].entry_rva;
        st->pad_va = tbase + plan[k].pad_rva;
        st->pad_len = plan[k].pad_len;
        st->replacement_va = pbase + plan[k].replacement_rva;
        const hp_live_site *o = site_at(old, st->entry_va);
        if (o && o->pad_len != st->pad_len) {
            s = HP_E_LIVE_HOOKS;
        } else if (o) { /* the journal keeps the bytes from before the first patch */
            memcpy(st->orig_entry, o->orig_entry, 2);
            memcpy(st->orig_pad, o->orig_pad, st->pad_len);
        } else {
            memcpy(st->orig_entry, (const void *)(uintptr_t)st->entry_va, 2);
            memcpy(st->orig_pad, (const void *)(uintptr_t)st->pad_va, st->pad_len);
        }
        if (!pi.pe.pe32plus) {
            s = hp_insn_jmp_rel32_encode_x86((uint32_t)st->pad_va, (uint32_t)st->replacement_va,
                                             st->new_pad);
        }
        if (s == HP_OK)
            s = hp_insn_jmp_rel8_encode(st->entry_va, st->pad_va, st->new_entry);
        st->state = HP_LIVE_SITE_WRITING;
        if (s != HP_OK) {
            res->failing_site = k;
            res->failing_rva = st->entry_rva;
        }
    }
    reg_end_change(r);
    if (s != HP_OK) {
        memset(p, 0, sizeof *p);
        p = NULL;
        goto fail;
    }

    /* HOTPE_ON_APPLY: non-zero vetoes, nothing written. */
    t = hp_win_clock_ns();
    if (pi.on_apply_rva) {
        int (*cb)(void) = (int (*)(void))(uintptr_t)(pbase + pi.on_apply_rva);
        if (cb() != 0) {
            memset(p, 0, sizeof *p);
            p = NULL;
            s = HP_E_LIVE_VETO;
            goto fail;
        }
        applied_cb = true;
    }
    res->phase_ns[HP_LIVE_PH_CALLBACK] = hp_win_clock_ns() - t;

    t = hp_win_clock_ns();
    s = commit(p, old, false, (req->flags & HP_LIVE_REQ_F_NO_FREEZE) != 0, &cfg, arena, res);
    res->cfg = cfg_unknown ? HP_LIVE_CFG_FAILED : cfg.outcome;
    if (cfg.no_api)
        res->flags |= HP_LIVE_RES_F_NO_CFG_API;
    if (cfg.outcome == HP_LIVE_CFG_FAILED && !res->win32_error)
        res->win32_error = cfg.error;
    res->phase_ns[HP_LIVE_PH_COMMIT] = hp_win_clock_ns() - t;
    if (s != HP_OK) {
        memset(p, 0, sizeof *p);
        p = NULL;
        goto fail;
    }
    /* The superseded patch's HOTPE_ON_REVERT, as if reverted; its DLL stays loaded. */
    if (old && old->on_revert_rva)
        ((void (*)(void))(uintptr_t)(old->patch_base + old->on_revert_rva))();
    reg_begin_change(r);
    for (uint32_t k = 0; k < nsites; k++) {
        p->sites[k].state = HP_LIVE_SITE_LIVE;
        p->sites[k].cfg = hp_cfg_site_state(&cfg_plan, k, cfg.outcome);
    }
    p->id = r->next_id++;
    res->patch_id = p->id;
    r->count++;
    if (old) { /* one change: the new entry replaces the old one in the list */
        for (uint32_t i = old_index; i + 1 < r->count; i++)
            r->patches[i] = r->patches[i + 1];
        memset(&r->patches[--r->count], 0, sizeof r->patches[0]);
    }
    reg_end_change(r);
    HeapFree(GetProcessHeap(), 0, file);
    return HP_OK;

fail:
    if (applied_cb && pi.on_revert_rva)
        ((void (*)(void))(uintptr_t)((uint64_t)(uintptr_t)patch + pi.on_revert_rva))();
    if (patch)
        FreeLibrary(patch);
    free_near(stub_page);
    HeapFree(GetProcessHeap(), 0, file);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Revert                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/*
 * revert --unload. Before a patch DLL is freed no thread may be in its code or about to return
 * into it: with every other thread frozen (hp_proc_self), each thread's IP and every
 * pointer-sized word of its stack, from its SP up to the TEB's StackBase, are compared with the
 * DLL's executable sections and its stub page (conservative: any such value counts, live or
 * stale). proc.h gives IPs only, so the contexts and TEBs are read here, through
 * NtGetNextThread and NtQueryInformationThread resolved before the freeze (no loader lock, no
 * heap while threads are frozen). Then the threads resume and the DLL is released.
 */
#define UNLOAD_RANGES 24

typedef struct unload_ranges {
    uint64_t lo[UNLOAD_RANGES], hi[UNLOAD_RANGES];
    unsigned n;
} unload_ranges;

/* The first DLL kept loaded: HP_LIVE_KEPT_* and who (thread or patch id). */
typedef struct unload_note {
    uint32_t reason;         /* 0: nothing kept */
    uint32_t id, who;
} unload_note;

static void add_range(unload_ranges *u, uint64_t lo, uint64_t hi)
{
    if (u->n < UNLOAD_RANGES && hi > lo) {
        u->lo[u->n] = lo;
        u->hi[u->n++] = hi;
    }
}

static bool in_ranges(const unload_ranges *u, uint64_t v)
{
    for (unsigned i = 0; i < u->n; i++)
        if (v >= u->lo[i] && v < u->hi[i])
            return true;
    return false;
}

/* The executable sections of a loaded DLL, and the allocation of its stub page (0: none). */
static bool code_ranges(HMODULE dll, uint64_t stub_page, unload_ranges *u)
{
    MODULEINFO mi;
    hp_arena a = HP_ARENA_INIT;
    hp_pe pe;
    memset(u, 0, sizeof *u);
    if (!GetModuleInformation(GetCurrentProcess(), dll, &mi, sizeof mi) ||
        hp_pe_parse(&pe, &a, dll, mi.SizeOfImage, HP_PE_LAYOUT_LOADED) != HP_OK) {
        hp_arena_free(&a);
        return false;
    }
    uint64_t base = (uint64_t)(uintptr_t)dll;
    for (uint16_t i = 0; i < pe.section_count; i++)
        if (pe.sections[i].characteristics & IMAGE_SCN_MEM_EXECUTE)
            add_range(u, base + pe.sections[i].virtual_address,
                      base + pe.sections[i].virtual_address + pe.sections[i].virtual_size);
    hp_arena_free(&a);
    MEMORY_BASIC_INFORMATION mbi;
    if (stub_page && VirtualQuery((const void *)(uintptr_t)stub_page, &mbi, sizeof mbi))
        add_range(u, stub_page, (uint64_t)(uintptr_t)mbi.BaseAddress + mbi.RegionSize);
    return u->n > 0;
}

/* Whether a committed, readable word in [sp, top) lies in u (region by region: no faults). */
static bool stack_holds(const unload_ranges *u, uint64_t sp, uint64_t top)
{
    sp &= ~(uint64_t)(sizeof(void *) - 1);
    while (sp < top) {
        MEMORY_BASIC_INFORMATION mbi;
        if (!VirtualQuery((const void *)(uintptr_t)sp, &mbi, sizeof mbi))
            return false;
        uint64_t end = (uint64_t)(uintptr_t)mbi.BaseAddress + mbi.RegionSize;
        if (end > top)
            end = top;
        if (mbi.State == MEM_COMMIT && !(mbi.Protect & (PAGE_GUARD | PAGE_NOACCESS)))
            for (uint64_t at = sp; at + sizeof(void *) <= end; at += sizeof(void *))
                if (in_ranges(u, *(const uintptr_t *)(uintptr_t)at))
                    return true;
        sp = end;
    }
    return false;
}

/* 0 when no other thread is in u or returns into it, else HP_LIVE_KEPT_* (*tid: which): the
 * threads as proc_self's freeze saw them, checked while they are still frozen. */
static uint32_t threads_in(const unload_ranges *u, uint32_t *tid)
{
    enum { CAP = 4096 };
    *tid = 0;
    /* before any thread is suspended: one of them may hold the heap lock */
    hp_proc_thread *th = VirtualAlloc(NULL, CAP * sizeof *th, MEM_RESERVE | MEM_COMMIT,
                                      PAGE_READWRITE);
    hp_proc proc;
    if (!th)
        return HP_LIVE_KEPT_UNCHECKED;
    if (hp_proc_self_open(&proc) != HP_OK) {
        VirtualFree(th, 0, MEM_RELEASE);
        return HP_LIVE_KEPT_UNCHECKED;
    }
    uint32_t why = 0;
    size_t n = 0;
    if (hp_proc_freeze(&proc) != HP_OK)
        why = HP_LIVE_KEPT_UNCHECKED;
    else if (hp_proc_threads(&proc, th, CAP, &n) != HP_OK || n > CAP)
        why = HP_LIVE_KEPT_UNCHECKED;
    for (size_t i = 0; !why && i < n; i++) {
        const hp_proc_thread *t = &th[i];
        if (!t->ip)
            continue; /* not started: it has run no code */
        if (in_ranges(u, t->ip))
            why = HP_LIVE_KEPT_IP;
        else if (!t->stack_top)
            why = HP_LIVE_KEPT_UNCHECKED;
        else if (t->sp < t->stack_top && stack_holds(u, t->sp, t->stack_top))
            why = HP_LIVE_KEPT_STACK;
        if (why)
            *tid = t->tid;
    }
    if (hp_proc_thaw(&proc) != HP_OK && !why)
        why = HP_LIVE_KEPT_UNCHECKED;
    hp_proc_close(&proc);
    VirtualFree(th, 0, MEM_RELEASE);
    return why;
}

/* FreeLibrary until the DLL is gone: one reference per apply of it (a revert without unload
 * keeps its reference). false when it stays (pinned). */
static bool release_dll(HMODULE dll)
{
    wchar_t name[MAX_PATH], now[MAX_PATH];
    if (!GetModuleFileNameW(dll, name, MAX_PATH))
        return false;
    for (unsigned i = 0; i < 100000; i++) {
        HMODULE h = NULL;
        FreeLibrary(dll);
        if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                    GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                                (LPCWSTR)dll, &h) ||
            h != dll || !GetModuleFileNameW(dll, now, MAX_PATH) ||
            CompareStringOrdinal(name, -1, now, -1, TRUE) != CSTR_EQUAL)
            return true; /* unmapped (or another module there now: ours is gone) */
    }
    return false;
}

static void note_kept(unload_note *kept, uint32_t id, uint32_t reason, uint32_t who)
{
    if (!kept->reason) {
        kept->reason = reason;
        kept->id = id;
        kept->who = who;
    }
}

/* Free a reverted patch's DLL and stub page unless something still needs them (see above). */
static void unload_dll(const hp_live_registry *r, uint32_t id, uint64_t base, uint64_t stub_page,
                       unload_note *kept)
{
    for (uint32_t i = 0; i < r->count; i++)
        if (r->patches[i].patch_base == base) {
            note_kept(kept, id, HP_LIVE_KEPT_SHARED, r->patches[i].id);
            return;
        }
    HMODULE dll = (HMODULE)(uintptr_t)base;
    unload_ranges u;
    uint32_t tid = 0, why;
    if (!code_ranges(dll, stub_page, &u))
        why = HP_LIVE_KEPT_UNCHECKED;
    else
        why = threads_in(&u, &tid);
    if (why) {
        note_kept(kept, id, why, tid);
        return;
    }
    if (!release_dll(dll)) {
        note_kept(kept, id, HP_LIVE_KEPT_REFERENCED, 0);
        return;
    }
    free_near(stub_page); /* no thread is in it or returns into it */
}

/* revert --all --unload: the patch DLLs earlier reverts (or a supersede) kept loaded. */
static void unload_kept(const hp_live_registry *r, unload_note *kept)
{
    HMODULE mods[512];
    DWORD need = 0;
    if (!EnumProcessModules(GetCurrentProcess(), mods, sizeof mods, &need))
        return;
    size_t n = need / sizeof mods[0];
    for (size_t i = 0; i < n && i < sizeof mods / sizeof mods[0]; i++) {
        MODULEINFO mi;
        hp_arena a = HP_ARENA_INIT;
        hp_pe pe;
        bool patch = mods[i] != GetModuleHandleW(NULL) &&
                     GetModuleInformation(GetCurrentProcess(), mods[i], &mi, sizeof mi) &&
                     hp_pe_parse(&pe, &a, mods[i], mi.SizeOfImage, HP_PE_LAYOUT_LOADED) == HP_OK &&
                     hp_pe_section_by_name(&pe, HP_HOTP_SECTION_NAME) != NULL;
        hp_arena_free(&a);
        if (patch)
            unload_dll(r, 0, (uint64_t)(uintptr_t)mods[i], 0, kept);
    }
}

static hp_status revert_one(hp_live_registry *r, uint32_t index, bool no_freeze, hp_arena *arena,
                            hp_live_result *res, unload_note *kept)
{
    hp_live_patch *p = &r->patches[index];
    reg_begin_change(r);
    for (uint32_t k = 0; k < p->site_count; k++)
        p->sites[k].state = HP_LIVE_SITE_REVERTING;
    reg_end_change(r);
    uint64_t t = hp_win_clock_ns();
    hp_status s = commit(p, NULL, true, no_freeze, NULL, arena, res);
    res->phase_ns[HP_LIVE_PH_COMMIT] += hp_win_clock_ns() - t;
    if (s != HP_OK)
        return s;
    t = hp_win_clock_ns();
    if (p->on_revert_rva)
        ((void (*)(void))(uintptr_t)(p->patch_base + p->on_revert_rva))();
    res->phase_ns[HP_LIVE_PH_CALLBACK] += hp_win_clock_ns() - t;
    /* The slots stay: a thread may still be on its way through a padding jump. The patch DLL
     * stays loaded unless unload asks (threads may still run its code: unload_dll checks). */
    uint32_t id = p->id;
    uint64_t base = p->patch_base, stubs = p->slot_page;
    remove_patch(r, index);
    if (kept)
        unload_dll(r, id, base, stubs, kept);
    return HP_OK;
}

static hp_status do_revert(hp_live_registry *r, const hp_live_request *req, hp_live_result *res,
                           hp_arena *arena)
{
    bool nf = (req->flags & HP_LIVE_REQ_F_NO_FREEZE) != 0;
    unload_note note = { 0, 0, 0 };
    unload_note *kept = (req->flags & HP_LIVE_REQ_F_UNLOAD) ? &note : NULL;
    uint32_t done = 0;
    hp_status s = HP_E_LIVE_NO_PATCH;
    if (req->patch_id == HP_LIVE_REVERT_ALL) {
        s = HP_OK;
        while (r->count > 0 && s == HP_OK) { /* newest first */
            s = revert_one(r, r->count - 1, nf, arena, res, kept);
            done += s == HP_OK;
        }
        if (s == HP_OK && kept)
            unload_kept(r, kept);
    } else {
        for (uint32_t i = 0; i < r->count; i++)
            if (r->patches[i].id == req->patch_id) {
                s = revert_one(r, i, nf, arena, res, kept);
                done = s == HP_OK;
                break;
            }
    }
    res->patch_id = done;
    if (s == HP_OK && note.reason) { /* the reverts stand; say what stayed loaded and why */
        res->failing_site = note.id;
        res->failing_rva = note.reason;
        res->win32_error = note.who;
        s = HP_E_LIVE_KEPT;
    }
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* The entry point                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* Copy the request out of untrusted memory: bounded by its memory region and its own size.
 * *answer: the header is ours (magic, version, size, the whole block in one region) and the
 * region is writable, so the result part may be written, also for a refused request. */
static hp_status read_request(const void *request, hp_live_request *out, bool *answer)
{
    MEMORY_BASIC_INFORMATION mbi;
    *answer = false;
    if (!request || !VirtualQuery(request, &mbi, sizeof mbi) || mbi.State != MEM_COMMIT ||
        (mbi.Protect & (PAGE_NOACCESS | PAGE_GUARD)) ||
        !(mbi.Protect & (PAGE_READONLY | PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READ |
                         PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY)))
        return HP_E_LIVE_REQUEST;
    uint64_t avail = (uint64_t)(uintptr_t)mbi.BaseAddress + mbi.RegionSize -
                     (uint64_t)(uintptr_t)request;
    hp_rd rd = hp_rd_make(request, avail < sizeof *out ? (size_t)avail : sizeof *out);
    uint32_t magic, version, size;
    if (hp_rd_u32(&rd, offsetof(hp_live_request, magic), &magic) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_live_request, version), &version) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_live_request, size), &size) != HP_OK ||
        magic != HP_LIVE_REQUEST_MAGIC || version != HP_LIVE_VERSION ||
        size != sizeof(hp_live_request) || rd.size != sizeof(hp_live_request))
        return HP_E_LIVE_REQUEST;
    *answer = (mbi.Protect & (PAGE_READWRITE | PAGE_EXECUTE_READWRITE)) != 0;
    memset(out, 0, sizeof *out);
    if (hp_rd_u32(&rd, offsetof(hp_live_request, verb), &out->verb) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_live_request, flags), &out->flags) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_live_request, patch_id), &out->patch_id) != HP_OK ||
        hp_rd_bytes(&rd, offsetof(hp_live_request, path), sizeof out->path, out->path) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_live_request, owner_pid), &out->owner_pid) != HP_OK ||
        hp_rd_u64(&rd, offsetof(hp_live_request, owner_created), &out->owner_created) != HP_OK ||
        hp_rd_u64(&rd, offsetof(hp_live_request, nonce), &out->nonce) != HP_OK)
        return HP_E_LIVE_REQUEST;
    bool nul = false;
    for (unsigned i = 0; i < HP_LIVE_PATH_MAX && !nul; i++)
        nul = out->path[i] == 0;
    if (out->verb == HP_LIVE_VERB_APPLY && (!nul || out->path[0] == 0))
        return HP_E_LIVE_REQUEST;
    if (out->verb != HP_LIVE_VERB_APPLY && out->verb != HP_LIVE_VERB_REVERT)
        return HP_E_LIVE_REQUEST;
    return HP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Answered request blocks: freed here when their requester ended without freeing them        */
/* ------------------------------------------------------------------------------------------ */

/* Whether the process that made a request is gone (not merely out of our reach). */
static bool owner_gone(const hp_live_pending *e)
{
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, e->owner_pid);
    if (!h)
        return GetLastError() == ERROR_INVALID_PARAMETER; /* no such process */
    bool gone = hp_win_started(h) != e->owner_created ||
                WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
    CloseHandle(h);
    return gone;
}

/* The block at e->block is still e's request: its own allocation, and the same owner and
 * nonce. Read with ReadProcessMemory, which fails rather than faults: its requester may free
 * it at any moment. */
static bool still_the_block(const hp_live_pending *e)
{
    MEMORY_BASIC_INFORMATION mbi;
    hp_live_request now;
    SIZE_T got = 0;
    const void *at = (const void *)(uintptr_t)e->block;
    return VirtualQuery(at, &mbi, sizeof mbi) && mbi.AllocationBase == at &&
           mbi.State == MEM_COMMIT &&
           ReadProcessMemory(GetCurrentProcess(), at, &now, sizeof now, &got) &&
           got == sizeof now && now.magic == HP_LIVE_REQUEST_MAGIC && now.owner_pid == e->owner_pid &&
           now.owner_created == e->owner_created && now.nonce == e->nonce;
}

/* With the registry lock held: drop the entries whose block its requester freed, free the
 * blocks whose requester is gone. */
static void sweep_pending(hp_live_registry *r)
{
    for (uint32_t i = 0; i < HP_LIVE_MAX_PENDING; i++) {
        hp_live_pending *e = &r->pending[i];
        if (!e->block)
            continue;
        if (still_the_block(e)) {
            if (!owner_gone(e))
                continue;
            VirtualFree((void *)(uintptr_t)e->block, 0, MEM_RELEASE);
        }
        memset(e, 0, sizeof *e);
    }
}

/* With the registry lock held, after the last write to the block: keep it for sweep_pending
 * (a full table: it stays the requester's alone). */
static void note_pending(hp_live_registry *r, const void *block, const hp_live_request *req)
{
    if (!req->owner_pid)
        return;
    for (uint32_t i = 0; i < HP_LIVE_MAX_PENDING; i++) {
        hp_live_pending *e = &r->pending[i];
        if (e->block)
            continue;
        *e = (hp_live_pending){ (uint64_t)(uintptr_t)block, req->owner_created, req->nonce,
                                req->owner_pid, 0 };
        return;
    }
}

DWORD WINAPI hotpe_shim_run(void *request)
{
    hp_live_registry *r = &hotpe_registry;
    hp_live_request req;
    hp_live_result res;
    uint64_t t0 = hp_win_clock_ns();
    bool answer;
    memset(&res, 0, sizeof res);
    res.failing_site = 0xffffffffu;

    hp_status s = read_request(request, &req, &answer);
    if (s != HP_OK && !answer)
        return (DWORD)s; /* no result block to trust */

    /* One request at a time (two hotpe on one process). */
    uint32_t unlocked = 0;
    int spins = 0;
    while (s == HP_OK && !__atomic_compare_exchange_n(&r->lock, &unlocked, 1u, false,
                                                      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        unlocked = 0;
        if (++spins > 5000) {
            s = HP_E_LIVE_REGISTRY;
            break;
        }
        Sleep(1);
    }
    bool locked = s == HP_OK;
    if (locked) {
        sweep_pending(r);
        hp_arena arena = HP_ARENA_INIT;
        if (req.verb == HP_LIVE_VERB_APPLY)
            s = do_apply(r, &req, &res, &arena);
        else
            s = do_revert(r, &req, &res, &arena);
        hp_arena_free(&arena);
        r->requests++;
    }
    res.status = (uint32_t)s;
    res.phase_ns[HP_LIVE_PH_TOTAL] = hp_win_clock_ns() - t0;
    res.done = 1;
    if (answer) /* a read-only block gets the exit code alone */
        memcpy((uint8_t *)request + offsetof(hp_live_request, result), &res, sizeof res);
    if (locked) {
        /* the block is not touched after this: a later request may free it */
        if (answer)
            note_pending(r, request, &req);
        __atomic_store_n(&r->lock, 0u, __ATOMIC_RELEASE);
    }
    return (DWORD)s;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return TRUE;
}
