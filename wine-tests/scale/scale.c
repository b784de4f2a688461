/*
 * The target of wine-tests/test_scale.sh: many patchable functions, called all the time.
 *
 * Built two ways:
 *  - scale.exe: FUNCS_INC names a generated list "S(0) S(1) ... S(N-1)" (test_scale.sh writes it
 *    under build/); each S(k) becomes HOTPE_PATCHABLE int f_k(int x) { return x + k; }. A patch
 *    of sequence s (wine-tests/scale/patch.c) makes f_k(x) = x + k + s * 1000000.
 *  - mods.exe (-DMODULES): loads the modules named on its command line (lib000.dll ...), each
 *    a copy of wine-tests/scale/lib.c, whose HOTPE_PATCHABLE lib_fn(x) = x + 7; the patch of
 *    module i (wine-tests/scale/libpatch.c) makes it x + 7 + 1000000 + i.
 * Function k's result minus its original is its "delta": 0 means original; a patched delta is
 * s * 1000000 (s = 1..9) in scale.exe and exactly 1000000 + k in mods.exe. Anything else is
 * an anomaly (a torn or misdirected call).
 *
 * WORKERS threads call every function in turn, pass after pass, each with its own x, and count
 * calls, passes and anomalies. The main thread answers one line per command on stdin:
 *   c   call every function once from this thread:
 *       "c patched=P prefix=0|1 seq=S bad=B": P functions patched, prefix=1 when they are
 *       exactly functions 0..P-1, S the sequence the patched ones show (0 if none, -1 if
 *       they differ), B anomalies in this pass
 *   w   wait (at most 5 s) until every worker has finished a pass started after this
 *       command, then "w calls=C passes=P anomalies=A patched=LO..HI": calls and anomalies
 *       since start, and the fewest and most functions patched in those fresh passes
 *   x   exit (also on end of input); a watchdog exits with 3 after HOTPE_TARGET_SECONDS (300)
 * Between passes a worker sleeps HOTPE_SCALE_PAUSE_MS (0: Sleep(0), a yield: as busy as it can).
 * It first prints "pid N functions F threads T" with its Windows pid.
 */
#include <windows.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hotpe/patchable.h>

#define WORKERS 4
#define STEP 1000000

typedef int (*fn_t)(int);

#ifdef MODULES
static fn_t *fns;
static int nfns;
static int delta_seq(int k, int d) /* 1: patched (as the patch of module k), -1: anomaly */
{
    return d == STEP + k ? 1 : -1;
}
#else
#define S(k) \
    HOTPE_PATCHABLE int f_##k(int x) { return x + k; }
#include FUNCS_INC
#undef S
#define S(k) f_##k,
static fn_t fns_table[] = {
#include FUNCS_INC
};
#undef S
static fn_t *fns = fns_table;
static const int nfns = (int)(sizeof fns_table / sizeof fns_table[0]);
static int delta_seq(int k, int d) /* the sequence s of a patched delta, -1: anomaly */
{
    (void)k;
    return d % STEP == 0 && d / STEP >= 1 && d / STEP <= 9 ? d / STEP : -1;
}
#endif

static int base_value(int k)
{
#ifdef MODULES
    (void)k;
    return 7;
#else
    return k;
#endif
}

/* One pass over every function: patched count, anomalies, sequence seen (0, s, or -1 mixed). */
static void pass(int x, LONG *patched, LONG *bad, int *seq)
{
    LONG p = 0, b = 0;
    int s = 0;
    for (int k = 0; k < nfns; k++) {
        int d = fns[k](x) - x - base_value(k);
        if (d == 0)
            continue;
        int q = delta_seq(k, d);
        if (q < 0) {
            b++;
            continue;
        }
        p++;
        s = s == 0 || s == q ? q : -1;
    }
    *patched = p;
    *bad = b;
    if (seq)
        *seq = s;
}

static DWORD pause_ms; /* between passes: HOTPE_SCALE_PAUSE_MS (0: Sleep(0), a yield) */
static volatile LONG stop, generation;
static volatile LONG64 calls, passes;
static volatile LONG anomalies;
static volatile LONG done_gen[WORKERS], done_patched[WORKERS];

static DWORD WINAPI worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    int x = me * 1000;
    while (!stop) {
        LONG gen = generation, patched, bad;
        pass(x, &patched, &bad, NULL);
        x = (x + 1) & 0xffff;
        InterlockedAdd64(&calls, nfns);
        InterlockedIncrement64(&passes);
        if (bad)
            InterlockedAdd(&anomalies, bad);
        done_patched[me] = patched;
        InterlockedExchange(&done_gen[me], gen);
        Sleep(pause_ms);
    }
    return 0;
}

static DWORD WINAPI watchdog(void *arg)
{
    Sleep((DWORD)(uintptr_t)arg * 1000);
    ExitProcess(3);
}

int main(int argc, char **argv)
{
    const char *env = getenv("HOTPE_TARGET_SECONDS");
    uintptr_t secs = env ? (uintptr_t)atoi(env) : 300;
    CreateThread(NULL, 0, watchdog, (void *)(secs ? secs : 300), 0, NULL);
    env = getenv("HOTPE_SCALE_PAUSE_MS");
    pause_ms = env ? (DWORD)atoi(env) : 0;
#ifdef MODULES
    nfns = argc - 1;
    fns = calloc(nfns ? nfns : 1, sizeof *fns);
    for (int i = 0; i < nfns; i++) {
        HMODULE m = LoadLibraryA(argv[i + 1]);
        fns[i] = m ? (fn_t)(void (*)(void))GetProcAddress(m, "lib_fn") : NULL;
        if (!fns[i]) {
            printf("error: %s: cannot load lib_fn (%lu)\n", argv[i + 1], GetLastError());
            return 2;
        }
    }
#else
    (void)argc;
    (void)argv;
#endif
    HANDLE th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        done_gen[i] = -1;
        th[i] = CreateThread(NULL, 0, worker, (void *)(intptr_t)i, 0, NULL);
    }
    printf("pid %lu functions %d threads %d\n", (unsigned long)GetCurrentProcessId(), nfns, WORKERS);
    fflush(stdout);
    char line[300];
    int x = 12345;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "c") == 0) {
            LONG patched, bad;
            int seq, prefix = 1;
            pass(x++, &patched, &bad, &seq);
            /* exactly 0..patched-1: each of those patched, each after it original */
            for (int k = 0; k < nfns && prefix; k++)
                prefix = (fns[k](x) != x + base_value(k)) == (k < patched);
            printf("c patched=%ld prefix=%d seq=%d bad=%ld\n", (long)patched, prefix, seq, (long)bad);
        } else if (strcmp(line, "w") == 0) {
            LONG gen = InterlockedIncrement(&generation), lo = LONG_MAX, hi = -1;
            for (int t = 0; t < 500; t++) {
                int all = 1;
                for (int i = 0; i < WORKERS; i++)
                    all &= done_gen[i] >= gen;
                if (all)
                    break;
                Sleep(10);
            }
            for (int i = 0; i < WORKERS; i++) {
                if (done_gen[i] < gen) { /* a worker that did not finish a fresh pass */
                    lo = -1;
                    continue;
                }
                lo = done_patched[i] < lo ? done_patched[i] : lo;
                hi = done_patched[i] > hi ? done_patched[i] : hi;
            }
            printf("w calls=%lld passes=%lld anomalies=%ld patched=%ld..%ld\n", (long long)calls,
                   (long long)passes, (long)anomalies, (long)lo, (long)hi);
        } else if (strcmp(line, "x") == 0) {
            break;
        }
        fflush(stdout);
    }
    stop = 1;
    WaitForMultipleObjects(WORKERS, th, TRUE, 5000);
    return 0;
}
