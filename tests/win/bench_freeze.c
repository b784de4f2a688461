/*
 * hotpe benchmark (run by bench/bench_freeze.sh under Wine): the freeze window of the
 * transaction in its own process. 1000 functions with hotpatch prologues; 1 and 8 threads call
 * them in tight loops while the main thread applies and reverts 1, 10, 100 and 1000 of them
 * through proc_self + txn, REPS times each. Prints one key=value line per case: the window
 * (first suspend to last resume, as the transaction measures it) min/mean/max, the commit by
 * phase, busy retries; then a no-freeze line per size, a "cold" line per size (each apply
 * through a newly opened proc_self, as the shim does per request: no thread known yet), and
 * the cost per call patched/unpatched. After hotpe's cases at each thread count, the same for
 * MinHook v1.3.4 (bench/third_party/minhook, a yardstick only) on the same functions with the same
 * busy threads: hooks to the same replacement created for the first 1, 10, 100, 1000 (not
 * timed), MH_EnableHook(MH_ALL_HOOKS) and MH_DisableHook(MH_ALL_HOOKS) timed as whole calls
 * (MinHook's own freeze, writes and thaw together), hooks removed (not timed); the main thread
 * checks every function's result after each call.
 * Usage: bench_freeze.exe [REPS]. Exit status 1 when a commit or a MinHook call fails or a
 * function returns a wrong result.
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
#include "hotpe/pe/site.h"
#include "hotpe/pe/tramp.h"
#include "hotpe/engine/txn.h"

#include "MinHook.h"

#define HOOKABLE __attribute__((ms_hook_prologue, noipa, noinline))
#define PLAIN __attribute__((noipa, noinline))
#define NFN 1000
#define MAXTHREADS 8
#define SLOT 16

/* f000..f999: distinct bodies (hex constants) so that nothing folds them together */
#define F(n) HOOKABLE int f##n(int x) { return x + 0x##n; }
#define F10(n) F(n##0) F(n##1) F(n##2) F(n##3) F(n##4) F(n##5) F(n##6) F(n##7) F(n##8) F(n##9)
#define F100(n) F10(n##0) F10(n##1) F10(n##2) F10(n##3) F10(n##4) F10(n##5) F10(n##6) \
    F10(n##7) F10(n##8) F10(n##9)
F100(0) F100(1) F100(2) F100(3) F100(4) F100(5) F100(6) F100(7) F100(8) F100(9)

#define P(n) f##n,
#define P10(n) P(n##0) P(n##1) P(n##2) P(n##3) P(n##4) P(n##5) P(n##6) P(n##7) P(n##8) P(n##9)
#define P100(n) P10(n##0) P10(n##1) P10(n##2) P10(n##3) P10(n##4) P10(n##5) P10(n##6) \
    P10(n##7) P10(n##8) P10(n##9)

typedef int (*fn_t)(int);
static const fn_t fns[NFN] = { P100(0) P100(1) P100(2) P100(3) P100(4) P100(5) P100(6) P100(7)
                               P100(8) P100(9) };

PLAIN int repl(int x) { return x - 1; }

/* The entry form's call cost: a plain function, never built for hotpatching, patched to
 * repl (the jump alone) and to repl_orig (the replacement calls the original through its
 * trampoline, as a fix does). */
PLAIN int plain_fn(int x) { return ((x * 7 + 3) ^ (x >> 2)) + 0x5a5a; }
static fn_t volatile plain_orig;
PLAIN int repl_orig(int x) { return plain_orig(x) - 1; }

/* what fns[i](CHECK_ARG) returns unpatched, recorded before anything is patched */
#define CHECK_ARG 12345
static int expect[NFN];

typedef struct shared {
    volatile LONG stop;
    volatile LONG calls;
} shared;

static DWORD WINAPI worker(void *p)
{
    shared *sh = p;
    fn_t volatile *table = (fn_t volatile *)fns;
    long n = 0;
    for (unsigned i = 0; !sh->stop; i++) {
        (void)table[i % NFN]((int)i);
        n++;
    }
    InterlockedExchangeAdd(&sh->calls, n);
    return 0;
}

typedef struct bench {
    hp_proc proc;
    hp_site_ctx ctx;
    uint64_t base;
    hp_site sites[NFN];
    uint64_t slots;          /* NFN slots of SLOT bytes near the image (x64) */
    hp_txn_site journal[NFN];
} bench;

/* Stage fns[i] -> repl as the shim does (plan.h), with the aux of this bench's own slots, so that
 * no allocation is timed. */
static hp_status stage_apply(hp_txn *txn, bench *b, int i)
{
    hp_plan_site ps = { .entry = b->base + b->sites[i].rva, .replacement = (uintptr_t)repl };
    hp_txn_site ts;
    HP_CHECK(hp_plan_form_for(b->proc.x64, b->sites[i].padding, &ps.form));
    if (hp_plan_aux_len(ps.form))
        ps.aux = b->slots + (uint64_t)i * SLOT;
    HP_CHECK(hp_plan_make(&ps, &ts));
    HP_CHECK(hp_plan_expect_current(&b->proc, &ts));
    return hp_txn_stage_site(txn, &ts);
}

typedef struct stats {
    unsigned n, froze, retries;
    uint64_t wmin, wmax, wsum, validate, freeze, write, thaw, total;
} stats;

static void add(stats *st, const hp_txn_result *r, uint64_t total)
{
    st->n++;
    st->froze += r->froze;
    st->retries += r->freeze_attempts ? r->freeze_attempts - 1 : 0;
    if (r->froze) {
        if (!st->wmin || r->ns_window < st->wmin)
            st->wmin = r->ns_window;
        if (r->ns_window > st->wmax)
            st->wmax = r->ns_window;
        st->wsum += r->ns_window;
    }
    st->validate += r->ns_validate;
    st->freeze += r->ns_freeze;
    st->write += r->ns_write;
    st->thaw += r->ns_thaw;
    st->total += total;
}

/* One commit of n sites: apply (revert = false) or revert the journal. cold: through a
 * proc_self opened for this commit alone. */
static hp_status commit(bench *b, int n, bool revert, bool no_freeze, bool cold, stats *st)
{
    hp_proc warm = b->proc;
    if (cold && hp_proc_self_open(&b->proc) != HP_OK) {
        b->proc = warm;
        printf("error: cannot open self\n");
        return HP_E_NOMEM;
    }
    hp_arena ta = HP_ARENA_INIT;
    hp_txn txn;
    hp_txn_result r;
    memset(&r, 0, sizeof r);
    hp_txn_options o = { .no_freeze = no_freeze, .max_retries = 1000 };
    uint64_t t0 = hp_proc_clock_ns(&b->proc);
    hp_status s = hp_txn_begin(&txn, &b->proc, &ta);
    for (int i = 0; i < n && s == HP_OK; i++)
        s = revert ? hp_txn_stage_revert(&txn, &b->journal[i]) : stage_apply(&txn, b, i);
    s = s == HP_OK ? hp_txn_commit(&txn, &o, &r) : (hp_txn_abort(&txn), s);
    uint64_t t1 = hp_proc_clock_ns(&b->proc);
    if (s == HP_OK) {
        if (!revert)
            memcpy(b->journal, r.journal, (size_t)n * sizeof *r.journal);
        add(st, &r, t1 - t0);
    } else {
        printf("error: %s commit of %d sites: %s (site %u, step %s)\n",
               revert ? "revert" : "apply", n, hp_status_name(s), r.failed_site,
               hp_txn_step_name(r.failed_step));
    }
    hp_arena_free(&ta);
    if (cold) {
        hp_proc_close(&b->proc);
        b->proc = warm;
    }
    return s;
}

static void print_stats(const char *what, int sites, int threads, const stats *st)
{
    double n = st->n ? st->n : 1;
    unsigned f = st->froze ? st->froze : 1;
    printf("case=%s sites=%d threads=%d commits=%u froze=%u retries=%u window_min_us=%.1f "
           "window_mean_us=%.1f window_max_us=%.1f validate_us=%.1f freeze_us=%.1f "
           "write_us=%.1f thaw_us=%.1f commit_us=%.1f\n",
           what, sites, threads, st->n, st->froze, st->retries, st->wmin / 1e3,
           st->wsum / 1e3 / f, st->wmax / 1e3, st->validate / 1e3 / n, st->freeze / 1e3 / n,
           st->write / 1e3 / n, st->thaw / 1e3 / n, st->total / 1e3 / n);
    fflush(stdout);
}

/* Calls every function once from this thread: the first n must go to repl, the rest to their
 * own bodies. Returns how many did not. */
static unsigned wrong_results(int n)
{
    fn_t volatile *table = (fn_t volatile *)fns;
    unsigned wrong = 0;
    for (int i = 0; i < NFN; i++)
        wrong += table[i](CHECK_ARG) != (i < n ? repl(CHECK_ARG) : expect[i]);
    return wrong;
}

typedef struct mh_stats {
    unsigned n, wrong;
    uint64_t min, max, sum;
} mh_stats;

static void mh_add(mh_stats *st, uint64_t ns, unsigned wrong)
{
    if (!st->n || ns < st->min)
        st->min = ns;
    if (ns > st->max)
        st->max = ns;
    st->sum += ns;
    st->n++;
    st->wrong += wrong;
}

static void mh_print(const char *what, int sites, int threads, const mh_stats *st)
{
    double n = st->n ? st->n : 1;
    printf("case=%s sites=%d threads=%d calls=%u wrong=%u min_us=%.1f mean_us=%.1f max_us=%.1f\n",
           what, sites, threads, st->n, st->wrong, st->min / 1e3, st->sum / 1e3 / n,
           st->max / 1e3);
    fflush(stdout);
}

/* One MinHook round over the first n functions: create the hooks (not timed), time
 * MH_EnableHook(MH_ALL_HOOKS) and MH_DisableHook(MH_ALL_HOOKS) as whole calls, checking the
 * results after each, remove the hooks (not timed). Returns 0, or 1 after an error line. */
static int minhook_round(bench *b, int n, mh_stats *en, mh_stats *dis)
{
    MH_STATUS s = MH_OK;
    int created = 0;
    for (; created < n && s == MH_OK; created++)
        s = MH_CreateHook((LPVOID)fns[created], (LPVOID)repl, NULL);
    if (s != MH_OK) {
        printf("error: minhook create of f%03d: %s\n", created - 1, MH_StatusToString(s));
        created--;
    } else {
        uint64_t t0 = hp_proc_clock_ns(&b->proc);
        s = MH_EnableHook(MH_ALL_HOOKS);
        uint64_t t1 = hp_proc_clock_ns(&b->proc);
        if (s == MH_OK) {
            mh_add(en, t1 - t0, wrong_results(n));
            t0 = hp_proc_clock_ns(&b->proc);
            s = MH_DisableHook(MH_ALL_HOOKS);
            t1 = hp_proc_clock_ns(&b->proc);
            if (s == MH_OK)
                mh_add(dis, t1 - t0, wrong_results(0));
            else
                printf("error: minhook disable of %d hooks: %s\n", n, MH_StatusToString(s));
        } else {
            printf("error: minhook enable of %d hooks: %s\n", n, MH_StatusToString(s));
        }
    }
    for (int i = 0; i < created; i++) {
        MH_STATUS r = MH_RemoveHook((LPVOID)fns[i]);
        if (r != MH_OK) {
            printf("error: minhook remove of f%03d: %s\n", i, MH_StatusToString(r));
            s = r;
        }
    }
    return s != MH_OK;
}

/* ns per call of f through a volatile pointer (no busy threads). */
static double per_call(fn_t f)
{
    fn_t volatile fp = f;
    enum { CALLS = 20000000 };
    LARGE_INTEGER q, a, z;
    QueryPerformanceFrequency(&q);
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        QueryPerformanceCounter(&a);
        for (int i = 0; i < CALLS; i++)
            (void)fp(i);
        QueryPerformanceCounter(&z);
        double ns = (double)(z.QuadPart - a.QuadPart) * 1e9 / (double)q.QuadPart / CALLS;
        best = ns < best ? ns : best;
    }
    return best;
}

/* Patch plain_fn in the entry form to `to` (or revert *j when to is 0), frozen. */
static hp_status entry_commit(const hp_proc *proc, uint64_t to, hp_txn_site *j)
{
    hp_arena ta = HP_ARENA_INIT;
    hp_txn txn;
    hp_txn_result r;
    hp_status s = hp_txn_begin(&txn, proc, &ta);
    hp_plan_site ps = { hp_plan_entry_form(proc->x64), (uintptr_t)plain_fn, to, 0 };
    hp_txn_site ts;
    if (s == HP_OK && to) {
        s = hp_plan_place(&txn, &ta, &ps, 1, NULL, NULL);
        if (s == HP_OK)
            s = hp_plan_make(&ps, &ts);
        if (s == HP_OK)
            s = hp_plan_expect_current(proc, &ts);
        if (s == HP_OK)
            s = hp_txn_stage_site(&txn, &ts);
    } else if (s == HP_OK) {
        s = hp_txn_stage_revert(&txn, j);
    }
    s = s == HP_OK ? hp_txn_commit(&txn, NULL, &r) : (hp_txn_abort(&txn), s);
    if (s == HP_OK && to)
        *j = r.journal[0];
    else if (s == HP_OK && j->aux_addr)
        hp_proc_free(proc, j->aux_addr);
    hp_arena_free(&ta);
    return s;
}

/* ns per call of plain_fn: unpatched; patched to repl; patched to repl_orig, which calls the
 * original through the trampoline. The trampoline's plan comes from pe/tramp.c on the
 * function's own bytes (its bounds: the next 64 bytes, enough for this one). */
static int entry_form_calls(const hp_proc *proc)
{
    hp_tramp_plan plan;
    uint8_t tramp[HP_INSN_TRAMP_MAX];
    size_t len = 0;
    uint64_t at = 0;
    hp_txn_site j;
    const uint8_t *code = (const uint8_t *)(uintptr_t)plain_fn;
    hp_status s = hp_tramp_analyze(proc->x64, code, 64, 0, NULL, 0, &plan);
    if (s == HP_OK && plan.verdict != HP_TRAMP_MOVABLE)
        s = HP_E_SITE_NOT_PATCHABLE;
    if (s == HP_OK)
        s = hp_proc_alloc_near(proc, (uintptr_t)plain_fn, HP_INSN_TRAMP_MAX, &at);
    if (s == HP_OK)
        s = hp_insn_tramp_make(proc->x64, code, plan.len, plan.moved, plan.count,
                               (uintptr_t)plain_fn, at, tramp, &len);
    if (s == HP_OK)
        s = hp_proc_write(proc, at, tramp, len);
    if (s == HP_OK)
        s = hp_proc_flush_icache(proc, at, len);
    plain_orig = (fn_t)(uintptr_t)at;
    int want = ((CHECK_ARG * 7 + 3) ^ (CHECK_ARG >> 2)) + 0x5a5a;
    double unpatched = 0, jump = 0, orig = 0;
    if (s == HP_OK) {
        unpatched = per_call(plain_fn);
        s = entry_commit(proc, (uintptr_t)repl, &j);
    }
    if (s == HP_OK) {
        jump = per_call(plain_fn);
        s = entry_commit(proc, 0, &j);
    }
    if (s == HP_OK)
        s = entry_commit(proc, (uintptr_t)repl_orig, &j);
    if (s == HP_OK && ((fn_t volatile)plain_fn)(CHECK_ARG) != want - 1)
        s = HP_E_TXN_VALIDATION;
    if (s == HP_OK) {
        orig = per_call(plain_fn);
        s = entry_commit(proc, 0, &j);
    }
    if (s != HP_OK || ((fn_t volatile)plain_fn)(CHECK_ARG) != want) {
        printf("error: entry form: %s\n", hp_status_name(s));
        return 1;
    }
    printf("case=call_entry unpatched_ns=%.2f patched_ns=%.2f extra_ns=%.2f\n", unpatched, jump,
           jump - unpatched);
    printf("case=call_entry_orig unpatched_ns=%.2f patched_ns=%.2f extra_ns=%.2f\n", unpatched,
           orig, orig - unpatched);
    return 0;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 20;
    static bench b;
    HMODULE mod = GetModuleHandleA(NULL);
    MODULEINFO mi;
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    if (!GetModuleInformation(GetCurrentProcess(), mod, &mi, sizeof mi) ||
        hp_pe_parse(&pe, &arena, mod, mi.SizeOfImage, HP_PE_LAYOUT_LOADED) != HP_OK ||
        hp_site_ctx_init(&b.ctx, &pe) != HP_OK) {
        printf("error: cannot parse own image\n");
        return 1;
    }
    b.base = (uintptr_t)mod;
    for (int i = 0; i < NFN; i++)
        expect[i] = ((fn_t volatile *)fns)[i](CHECK_ARG);
    for (int i = 0; i < NFN; i++) {
        hp_status s = hp_site_examine(&b.ctx, &pe, (uint32_t)((uintptr_t)fns[i] - b.base),
                                      &b.sites[i]);
        if (s != HP_OK || !hp_site_class_patchable(b.sites[i].cls)) {
            printf("error: f%03d is not patchable (%s)\n", i, hp_status_name(s));
            return 1;
        }
    }
    if (hp_proc_self_open(&b.proc) != HP_OK ||
        (b.proc.x64 && hp_proc_alloc_near(&b.proc, b.base, NFN * SLOT, &b.slots) != HP_OK)) {
        printf("error: cannot open self\n");
        return 1;
    }
    MH_STATUS mhs = MH_Initialize();
    if (mhs != MH_OK) {
        printf("error: minhook init: %s\n", MH_StatusToString(mhs));
        return 1;
    }
    printf("arch=%s padding=%u reps=%d\n", b.proc.x64 ? "x64" : "x86", b.sites[0].padding, reps);

    /* cost per call: unpatched, then patched (padding jump, slot), no other thread running */
    stats scratch = { 0 };
    double plain = per_call(fns[0]);
    if (commit(&b, 1, false, false, false, &scratch) != HP_OK)
        return 1;
    double patched = per_call(fns[0]);
    if (commit(&b, 1, true, false, false, &scratch) != HP_OK)
        return 1;
    printf("case=call unpatched_ns=%.2f patched_ns=%.2f extra_ns=%.2f\n", plain, patched,
           patched - plain);
    if (entry_form_calls(&b.proc))
        return 1;

    static const int sizes[] = { 1, 10, 100, 1000 };
    static const int nthreads[] = { 1, 8 };
    int rc = 0;
    for (int ti = 0; ti < 2 && !rc; ti++) {
        shared sh = { 0, 0 };
        HANDLE th[MAXTHREADS];
        for (int t = 0; t < nthreads[ti]; t++)
            th[t] = CreateThread(NULL, 0, worker, &sh, 0, NULL);
        Sleep(50);
        for (int si = 0; si < 4 && !rc; si++) {
            int n = sizes[si];
            int r = n >= 1000 ? (reps + 3) / 4 : reps;
            stats apply = { 0 }, revert = { 0 }, nofreeze = { 0 }, cold = { 0 }, scratch2 = { 0 };
            for (int k = 0; k < r && !rc; k++) {
                rc = commit(&b, n, false, false, false, &apply) != HP_OK ||
                     commit(&b, n, true, false, false, &revert) != HP_OK;
                rc = rc || commit(&b, n, false, true, false, &nofreeze) != HP_OK ||
                     commit(&b, n, true, false, false, &revert) != HP_OK;
                rc = rc || commit(&b, n, false, false, true, &cold) != HP_OK ||
                     commit(&b, n, true, false, false, &scratch2) != HP_OK;
            }
            print_stats("apply", n, nthreads[ti], &apply);
            print_stats("revert", n, nthreads[ti], &revert);
            print_stats("apply_nofreeze", n, nthreads[ti], &nofreeze);
            print_stats("apply_cold", n, nthreads[ti], &cold);
        }
        /* MinHook, same functions, same busy threads, as many rounds as hotpe's commits */
        for (int si = 0; si < 4 && !rc; si++) {
            int n = sizes[si];
            int r = n >= 1000 ? (reps + 3) / 4 : reps;
            mh_stats en = { 0 }, dis = { 0 };
            for (int k = 0; k < r && !rc; k++)
                rc = minhook_round(&b, n, &en, &dis);
            mh_print("minhook_enable", n, nthreads[ti], &en);
            mh_print("minhook_disable", n, nthreads[ti], &dis);
            if (en.wrong || dis.wrong) {
                printf("error: minhook %d hooks: %u wrong results while enabled, "
                       "%u after disable\n", n, en.wrong, dis.wrong);
                rc = 1;
            }
        }
        sh.stop = 1;
        WaitForMultipleObjects((DWORD)nthreads[ti], th, TRUE, INFINITE);
        for (int t = 0; t < nthreads[ti]; t++)
            CloseHandle(th[t]);
    }
    MH_Uninitialize();
    hp_proc_close(&b.proc);
    hp_arena_free(&arena);
    return rc;
}
