/*
 * hotpe: the transaction in its own process under Wine (or Windows). Four functions with
 * hotpatch prologues (GCC ms_hook_prologue: padding and a 2-byte first instruction) are called
 * by 8 threads in tight loops while the main thread patches them to replacements through
 * proc_self + txn, and back, 1000 times (the stress case of issue 5). Every call must return
 * the old or the new result, and every thread must see the switch each way. Also smoke-tests proc_remote on its own pid.
 * Built with HOTPE_ENTRY_FORM (tests/win/tramp_self.c), the four functions are plain -O2 code,
 * patched in the entry form (E9 over their first instructions), and one replacement calls its
 * original through the trampoline those instructions moved to (issue 17's stress case).
 * Sites are classed as hotpe build does: the image's file on disk, analysed whole.
 * Prints "N passed, M failed"; exit status 0 only when nothing failed.
 */
#include <windows.h>
#include <psapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/pe/insn.h"
#include "hotpe/pe/pe.h"
#include "hotpe/engine/plan.h"
#include "hotpe/engine/proc.h"
#include "hotpe/pe/file.h"
#include "hotpe/pe/site.h"
#include "hotpe/pe/tramp.h"
#include "hotpe/engine/txn.h"

#define NFN 4
#define NTHREADS 8
#define CYCLES 1000

#define HOOKABLE __attribute__((ms_hook_prologue, noipa, noinline))
#define PLAIN __attribute__((noipa, noinline))

typedef int (*fn_t)(int);

#ifdef HOTPE_ENTRY_FORM
/* Long enough before their first ret for a 5-byte jump, and a loop so that, as in real code,
 * a call spends little of its time in the first 5 bytes (a thread there holds the commit). */
#define LOOP16(e) __extension__({ int s_ = 0; for (int i_ = 0; i_ < 16; i_++) s_ += (e) ^ i_; s_; })
#define BODY0(x) LOOP16(((x) * 7 + 3) ^ ((x) >> 2))
#define BODY1(x) LOOP16((x) * 3 + ((x) & 0xff) * 5)
#define BODY2(x) LOOP16(((x) ^ 0x55) + ((x) >> 3) * 9)
#define BODY3(x) LOOP16(7 - (x) * 11 + ((x) >> 1))
#define SITE PLAIN
static fn_t volatile orig0; /* f0's trampoline */
#define CALL_ORIG0(x) orig0(x)
#else
#define BODY0(x) ((x) + 1)
#define BODY1(x) ((x) * 3)
#define BODY2(x) ((x) ^ 0x55)
#define BODY3(x) (7 - (x))
#define SITE HOOKABLE
#define CALL_ORIG0(x) BODY0(x)
#endif
SITE int f0(int x) { return BODY0(x); }
SITE int f1(int x) { return BODY1(x); }
SITE int f2(int x) { return BODY2(x); }
SITE int f3(int x) { return BODY3(x); }
PLAIN int g0(int x) { return CALL_ORIG0(x) + 1000; }
PLAIN int g1(int x) { return BODY1(x) + 1000; }
PLAIN int g2(int x) { return BODY2(x) + 1000; }
PLAIN int g3(int x) { return BODY3(x) + 1000; }

typedef struct shared {
    fn_t old_fn[NFN], new_fn[NFN];
    volatile LONG stop;
    volatile LONG bad;                 /* calls that returned neither result */
    volatile LONG seen_new[NTHREADS][NFN];
    volatile LONG64 calls[NTHREADS]; /* written by one thread each, read at the end */
} shared;

typedef struct worker_arg {
    shared *sh;
    int index;
} worker_arg;

/* Expected results are computed by plain copies of the bodies, never through the sites. */
static int old_result(int fn, int x)
{
    switch (fn) {
    case 0: return BODY0(x);
    case 1: return BODY1(x);
    case 2: return BODY2(x);
    default: return BODY3(x);
    }
}

static DWORD WINAPI worker(void *p)
{
    worker_arg *a = p;
    shared *sh = a->sh;
    /* through volatile pointers: every call goes through the patched entry */
    fn_t volatile fns[NFN] = { sh->old_fn[0], sh->old_fn[1], sh->old_fn[2], sh->old_fn[3] };
    for (int i = 0; !sh->stop; i++) {
        for (int f = 0; f < NFN; f++) {
            int r = fns[f](i);
            int o = old_result(f, i);
            if (r == o)
                sh->seen_new[a->index][f] = 0;
            else if (r == o + 1000)
                sh->seen_new[a->index][f] = 1;
            else
                InterlockedIncrement(&sh->bad);
        }
        sh->calls[a->index]++;
    }
    return 0;
}

static int passed, failed;

static void check(int ok, const char *what, int cycle)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        if (failed < 20)
            printf("FAIL: %s (cycle %d)\n", what, cycle);
    }
}

/* Wait until every thread saw every function switch to `state` (1 new, 0 old). */
static int wait_all(shared *sh, LONG state)
{
    DWORD t0 = GetTickCount();
    for (;;) {
        int all = 1;
        for (int t = 0; t < NTHREADS; t++)
            for (int f = 0; f < NFN; f++)
                all = all && sh->seen_new[t][f] == state;
        if (all)
            return 1;
        if (GetTickCount() - t0 > 10000)
            return 0;
        Sleep(0);
    }
}

typedef struct site_info {
    hp_site site;
    uint64_t repl;
} site_info;

/* Stage one function as the shim does: plan.h's form, aux, bytes and expected bytes. */
static DWORD WINAPI mark_ran(void *p)
{
    InterlockedExchange((volatile LONG *)p, 1);
    return 0;
}

/* A freeze and thaw leave every thread's suspend count as they found it: one created suspended
 * before the freeze stays suspended, and so does one created suspended by somebody else while
 * the threads are frozen (the thaw must not resume all threads at once then). The workers run
 * again after the thaw. */
static void suspend_counts(const hp_proc *proc, shared *sh)
{
    static volatile LONG ran_before, ran_during;
    HANDLE before = CreateThread(NULL, 0, mark_ran, (void *)&ran_before, CREATE_SUSPENDED, NULL);
    check(before != NULL, "create a suspended thread", -1);
    for (int round = 0; round < 2 && before; round++) {
        HANDLE during = NULL;
        LONG64 calls = sh->calls[0];
        check(hp_proc_freeze(proc) == HP_OK, "freeze", round);
        if (round == 1)   /* as another process's CreateRemoteThread(CREATE_SUSPENDED) would */
            during = CreateThread(NULL, 0, mark_ran, (void *)&ran_during, CREATE_SUSPENDED, NULL);
        check(hp_proc_thaw(proc) == HP_OK, "thaw", round);
        DWORD t0 = GetTickCount();
        while (sh->calls[0] == calls && GetTickCount() - t0 < 5000)
            Sleep(1);
        check(sh->calls[0] != calls, "a worker runs again after the thaw", round);
        Sleep(20);
        check(!ran_before, "a thread created suspended before the freeze stays suspended", round);
        if (during) {
            check(!ran_during, "a thread created suspended during the freeze stays suspended",
                  round);
            check(ResumeThread(during) == 1, "its suspend count is still 1", round);
            WaitForSingleObject(during, 5000);
            check(ran_during, "it runs once resumed", round);
            CloseHandle(during);
        }
    }
    if (before) {
        check(ResumeThread(before) == 1, "the suspended thread's count is still 1", -1);
        WaitForSingleObject(before, 5000);
        check(ran_before, "it runs once resumed", -1);
        CloseHandle(before);
    }
}

static hp_status stage_apply(hp_txn *txn, const hp_proc *proc, uint64_t base,
                             const site_info *si)
{
    hp_plan_site ps = { .entry = base + si->site.rva, .replacement = si->repl };
    hp_txn_site ts;
    if (si->site.cls == HP_SITE_TRAMP)
        ps.form = hp_plan_entry_form(proc->x64);
    else
        HP_CHECK(hp_plan_form_for(proc->x64, si->site.padding, &ps.form));
    HP_CHECK(hp_plan_place(txn, txn->arena, &ps, 1, NULL, NULL));
    HP_CHECK(hp_plan_make(&ps, &ts));
    HP_CHECK(hp_plan_expect_current(proc, &ts));
    return hp_txn_stage_site(txn, &ts);
}

static void remote_smoke(uint64_t near_addr)
{
    hp_proc rp;
    hp_status s = hp_proc_remote_open(&rp, GetCurrentProcessId());
    check(s == HP_OK, "remote open of own pid", -1);
    if (s != HP_OK)
        return;
    uint64_t mem = 0;
    check(hp_proc_alloc_near(&rp, near_addr, 64, &mem) == HP_OK, "remote alloc_near", -1);
    uint64_t dist = mem > near_addr ? mem - near_addr : near_addr - mem;
    check(!rp.x64 || dist < 0x7FF00000ull, "remote alloc within 2 GiB", -1);
    MEMORY_BASIC_INFORMATION mbi;
    VirtualQuery((void *)(uintptr_t)mem, &mbi, sizeof mbi);
    check((mbi.Protect & 0xFF) == PAGE_EXECUTE_READ, "remote alloc is execute-read", -1);
    static const uint8_t bytes[4] = { 0xDE, 0xAD, 0xBE, 0xEF };
    uint8_t back[4] = { 0 };
    check(hp_proc_write(&rp, mem + 8, bytes, 4) == HP_OK, "remote write", -1);
    check(hp_proc_read(&rp, mem + 8, back, 4) == HP_OK && !memcmp(back, bytes, 4),
          "remote read back", -1);
    VirtualQuery((void *)(uintptr_t)mem, &mbi, sizeof mbi);
    check((mbi.Protect & 0xFF) == PAGE_EXECUTE_READ, "remote write restores protection", -1);
    check(hp_proc_freeze(&rp) == HP_E_UNSUPPORTED, "remote freeze unsupported", -1);
    check(hp_proc_free(&rp, mem) == HP_OK, "remote free", -1);
    hp_proc_close(&rp);
}

int main(void)
{
    static const fn_t olds[NFN] = { f0, f1, f2, f3 }, news[NFN] = { g0, g1, g2, g3 };
    HMODULE mod = GetModuleHandleA(NULL);
    MODULEINFO mi;
    if (!GetModuleInformation(GetCurrentProcess(), mod, &mi, sizeof mi)) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    uint64_t base = (uintptr_t)mod;
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    hp_site_ctx ctx;
    hp_site_list list;
    char path[MAX_PATH];
    uint8_t *file = NULL;
    size_t file_size = 0;
    int err = 0;
    hp_status s = GetModuleFileNameA(mod, path, sizeof path) ? hp_file_read(path, &file, &file_size, &err)
                                                           : HP_E_IO;
    if (s == HP_OK)
        s = hp_pe_parse(&pe, &arena, file, file_size, HP_PE_LAYOUT_FILE);
    check(s == HP_OK, "parse own image file", -1);
    check(s == HP_OK && hp_site_ctx_init(&ctx, &pe) == HP_OK, "site context", -1);
    check(s == HP_OK && hp_site_analyze(&ctx, &pe, &arena, &list) == HP_OK, "analyse own image", -1);
    if (failed) {
        printf("%d passed, %d failed\n", passed, failed);
        return 1;
    }

#ifdef HOTPE_ENTRY_FORM
    /* the entry form's check, on every function: one the linker's int3 fill between objects
     * happens to precede is a hotpatch site too, which hotpe would prefer; here the entry
     * form is what is tested */
    uint32_t *rvas = hp_arena_array(&arena, list.count, sizeof *rvas);
    for (uint32_t i = 0; rvas && i < list.count; i++)
        rvas[i] = list.sites[i].rva;
    hp_tramp_image ti;
    hp_tramp_plan plan0;
    check(rvas && hp_tramp_image_init(&ti, &pe, &arena, rvas, list.count) == HP_OK,
          "function bounds", -1);
#endif
    site_info si[NFN];
    shared sh;
    memset(&sh, 0, sizeof sh);
    for (int f = 0; f < NFN && !failed; f++) {
        sh.old_fn[f] = olds[f];
        sh.new_fn[f] = news[f];
        si[f].repl = (uintptr_t)news[f];
        const hp_site *site = hp_site_find(&list, (uint32_t)((uintptr_t)olds[f] - base));
        check(site && hp_site_class_patchable(site->cls), "site is patchable", f);
        if (!site)
            continue;
        si[f].site = *site;
#ifdef HOTPE_ENTRY_FORM
        hp_tramp_plan plan;
        s = hp_tramp_examine(&ti, &arena, site->rva, &plan);
        check(s == HP_OK && plan.verdict == HP_TRAMP_MOVABLE, "its first instructions move", f);
        si[f].site.cls = HP_SITE_TRAMP;
        si[f].site.moved_len = plan.len;
        if (f == 0)
            plan0 = plan;
#endif
    }
    if (failed) {
        printf("%d passed, %d failed\n", passed, failed);
        return 1;
    }
    printf("sites: %s, padding %u, first instruction %u bytes, moved %u, plan %s\n",
           hp_site_class_name(si[0].site.cls), si[0].site.padding, si[0].site.first_insn_len,
           si[0].site.moved_len,
           si[0].site.cls == HP_SITE_TRAMP ? (sizeof(void *) == 8 ? "E9 stub at the entry" : "E9 at the entry")
           : sizeof(void *) == 8 ? (si[0].site.padding >= 6 ? "FF 25 slot" : "E9 stub") : "E9");

    hp_proc proc;
    check(hp_proc_self_open(&proc) == HP_OK, "open self", -1);
    static const uint8_t eb[2] = { 0xEB, 0xFE };
    uint64_t scratch = 0;
    check(hp_proc_alloc_near(&proc, base, 4096, &scratch) == HP_OK, "self alloc_near", -1);
    check(hp_proc_store2(&proc, scratch + 63, eb) == HP_E_PROC_STRADDLE,
          "store2 refuses a cache-line straddle", -1);
    check(hp_proc_store2(&proc, scratch + 61, eb) == HP_OK, "store2 within a cache line", -1);
    check(hp_proc_free(&proc, scratch) == HP_OK, "self free", -1);
    remote_smoke(base);
#ifdef HOTPE_ENTRY_FORM
    /* f0's trampoline, as the shim builds it: the moves the check found, the live bytes */
    {
        uint8_t tramp[HP_INSN_TRAMP_MAX];
        size_t tramp_len = 0;
        uint64_t at = 0;
        s = hp_proc_alloc_near(&proc, base, HP_INSN_TRAMP_MAX, &at);
        if (s == HP_OK)
            s = hp_insn_tramp_make(proc.x64, (const uint8_t *)(uintptr_t)f0, plan0.len,
                                   plan0.moved, plan0.count, (uintptr_t)f0, at, tramp,
                                   &tramp_len);
        if (s == HP_OK)
            s = hp_proc_write(&proc, at, tramp, tramp_len);
        if (s == HP_OK)
            s = hp_proc_flush_icache(&proc, at, tramp_len);
        check(s == HP_OK, "f0's trampoline", -1);
        orig0 = (fn_t)(uintptr_t)at;
        check(s == HP_OK && orig0(10) == BODY0(10), "the trampoline runs f0's original", -1);
    }
#endif

    HANDLE th[NTHREADS];
    worker_arg args[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        args[t] = (worker_arg){ &sh, t };
        th[t] = CreateThread(NULL, 0, worker, &args[t], 0, NULL);
    }
    Sleep(50);
    suspend_counts(&proc, &sh);

    /* as the shim does per request: a proc_self that knows no thread yet (learn_threads) */
    {
        hp_proc cold;
        hp_arena ta = HP_ARENA_INIT;
        hp_txn txn;
        hp_txn_result r;
        check(hp_proc_self_open(&cold) == HP_OK, "open self again", -1);
        s = hp_txn_begin(&txn, &cold, &ta);
        for (int f = 0; f < NFN && s == HP_OK; f++)
            s = stage_apply(&txn, &cold, base, &si[f]);
        hp_txn_options o = { .max_retries = 200 };
        s = s == HP_OK ? hp_txn_commit(&txn, &o, &r) : (hp_txn_abort(&txn), s);
        check(s == HP_OK && r.froze, "apply through a fresh proc_self", -1);
        check(s == HP_OK && r.threads >= NTHREADS, "a fresh proc_self suspends every worker", -1);
        hp_txn_site journal[NFN];
        memcpy(journal, r.journal, sizeof journal);
        if (s == HP_OK) {
            check(wait_all(&sh, 1), "workers switch after the fresh apply", -1);
            s = hp_txn_begin(&txn, &proc, &ta);
            for (int f = 0; f < NFN && s == HP_OK; f++)
                s = hp_txn_stage_revert(&txn, &journal[f]);
            s = s == HP_OK ? hp_txn_commit(&txn, &o, &r) : (hp_txn_abort(&txn), s);
            check(s == HP_OK, "revert of the fresh apply", -1);
            check(wait_all(&sh, 0), "workers switch back", -1);
            for (int f = 0; f < NFN; f++)
                if (journal[f].aux_addr)
                    hp_proc_free(&proc, journal[f].aux_addr);
        }
        hp_proc_close(&cold);
        hp_arena_free(&ta);
    }

    unsigned retries = 0, froze = 0;
    uint64_t window_ns = 0, window_max = 0;
    int cycle;
    for (cycle = 0; cycle < CYCLES && failed == 0; cycle++) {
        hp_arena ta = HP_ARENA_INIT;
        hp_txn txn;
        hp_txn_result r;
        /* a fresh site may skip the freeze (docs/live.md): do it every other cycle */
        hp_txn_options o = { .no_freeze = cycle % 2 == 1, .max_retries = 200 };
        s = hp_txn_begin(&txn, &proc, &ta);
        for (int f = 0; f < NFN && s == HP_OK; f++)
            s = stage_apply(&txn, &proc, base, &si[f]);
        s = s == HP_OK ? hp_txn_commit(&txn, &o, &r) : (hp_txn_abort(&txn), s);
        check(s == HP_OK, "apply commit", cycle);
        if (s != HP_OK) {
            printf("  apply: %s (%s, site %u, step %s)\n", hp_status_name(s), hp_status_str(s),
                   r.failed_site, hp_txn_step_name(r.failed_step));
            hp_arena_free(&ta);
            break;
        }
        retries += r.freeze_attempts ? r.freeze_attempts - 1 : 0;
        froze += r.froze;
        window_ns += r.ns_window;
        window_max = r.ns_window > window_max ? r.ns_window : window_max;
        check(wait_all(&sh, 1), "every thread switches to the replacements", cycle);

        hp_txn_site journal[NFN];
        memcpy(journal, r.journal, sizeof journal);
        s = hp_txn_begin(&txn, &proc, &ta);
        for (int f = 0; f < NFN && s == HP_OK; f++)
            s = hp_txn_stage_revert(&txn, &journal[f]);
        s = s == HP_OK ? hp_txn_commit(&txn, &o, &r) : (hp_txn_abort(&txn), s);
        check(s == HP_OK, "revert commit", cycle);
        if (s != HP_OK) {
            printf("  revert: %s (site %u, step %s)\n", hp_status_name(s), r.failed_site,
                   hp_txn_step_name(r.failed_step));
            hp_arena_free(&ta);
            break;
        }
        check(r.froze, "revert always freezes", cycle);
        retries += r.freeze_attempts - 1;
        froze++;
        window_ns += r.ns_window;
        window_max = r.ns_window > window_max ? r.ns_window : window_max;
        check(wait_all(&sh, 0), "every thread switches back to the originals", cycle);
        for (int f = 0; f < NFN; f++) {
            uint8_t now[HP_TXN_PAD_MAX + HP_TXN_ENTRY_MAX];
            hp_proc_read(&proc, journal[f].pad_addr, now,
                         (size_t)journal[f].pad_len + journal[f].entry_len);
            check(!memcmp(now, journal[f].old_pad, journal[f].pad_len) &&
                      !memcmp(now + journal[f].pad_len, journal[f].old_entry,
                              journal[f].entry_len),
                  "original bytes restored", cycle);
            if (journal[f].aux_addr)
                hp_proc_free(&proc, journal[f].aux_addr);
        }
        hp_arena_free(&ta);
    }
    sh.stop = 1;
    WaitForMultipleObjects(NTHREADS, th, TRUE, INFINITE);
    check(sh.bad == 0, "no call returned a torn or foreign result", cycle);
    for (int f = 0; f < NFN; f++)
        check(olds[f](10) == old_result(f, 10), "originals answer after the last revert", cycle);
    long long calls = 0;
    for (int t = 0; t < NTHREADS; t++)
        calls += sh.calls[t];
    hp_proc_close(&proc);
    hp_arena_free(&arena);
    free(file);
    printf("%d cycles of apply+revert, %u freezes, %u busy retries, %lld loop rounds by %d threads; "
           "freeze window mean %.1f us, max %.1f us\n",
           cycle, froze, retries, calls, NTHREADS, froze ? window_ns / 1e3 / froze : 0.0,
           window_max / 1e3);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
