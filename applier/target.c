/*
 * hotpe: the TARGET of the live verbs and the processes it selects (target.h).
 *
 * A 64-bit hotpe hands 32-bit processes to the 32-bit hotpe beside it (x86\hotpe.exe, else
 * ..\x86\hotpe.exe): the whole command when all are 32-bit, else their --pid's, its JSON
 * spliced into ours.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "hotpe/engine/patch.h"
#include "hotpe/engine/wire.h"
#include "target.h"

/* Append to a malloc'd array, doubled at each power of two. false: out of memory. */
static bool push_pid(uint32_t **a, size_t *n, uint32_t pid)
{
    if ((*n & (*n - 1)) == 0) {
        uint32_t *more = realloc(*a, (*n ? *n * 2 : 1) * sizeof **a);
        if (!more)
            return false;
        *a = more;
    }
    (*a)[(*n)++] = pid;
    return true;
}

static bool has_pid(const uint32_t *a, size_t n, uint32_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] == pid)
            return true;
    return false;
}

/* Decimal as Windows tools print pids, or hex with 0x (winedbg's "info proc" prints hex);
 * never octal: a zero-padded number is decimal. */
static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return false;
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    if (!isxdigit((unsigned char)*digits)) /* strtoull would take a sign or spaces */
        return false;
    unsigned long long v = strtoull(digits, &end, hex ? 16 : 10);
    if (*end || v > 0xffffffffull)
        return false;
    *out = (uint32_t)v;
    return true;
}

int hp_target_parse(int argc, char **argv, hp_target_opts *o)
{
    memset(o, 0, sizeof *o);
    o->verb = argv[0];
    o->argc = argc;
    o->argv = argv;
    o->jobs = HP_TARGET_JOBS;
    /* check takes what apply takes (PATCH.dll); --no-freeze is accepted and changes nothing */
    bool is_apply = strcmp(o->verb, "apply") == 0 || strcmp(o->verb, "check") == 0;
    bool is_revert = strcmp(o->verb, "revert") == 0;
    enum { PID, NAME, MODULE, JSON, JOBS, NO_FREEZE, UNLOAD, ALL };
    /* the table ends at its first NULL name: every verb's options first, then --no-freeze (not
     * list's), then revert's own */
    hp_args_opt opts[] = {
        [PID] = { "--pid", true }, [NAME] = { "--name", true }, [MODULE] = { "--module", true },
        [JSON] = { "--json", false }, [JOBS] = { "--jobs", true },
        [NO_FREEZE] = { "--no-freeze", false },
        [UNLOAD] = { "--unload", false }, [ALL] = { "--all", false }, { NULL, false },
    };
    if (!is_revert)
        opts[UNLOAD] = opts[ALL] = opts[ALL + 1];
    if (strcmp(o->verb, "list") == 0)
        opts[NO_FREEZE] = opts[ALL + 1];
    hp_args a;
    const char *v;
    int k;
    hp_args_init(&a, argc, argv);
    while ((k = hp_args_next(&a, opts, &v)) != HP_ARGS_END) {
        uint32_t num;
        switch (k) {
        case HP_ARGS_BAD:
            return HP_EXIT_USAGE;
        case PID:
            if (!parse_u32(v, &num))
                return hp_cli_usage(o->verb, "--pid needs a number");
            if (!has_pid(o->pids, o->npids, num) && !push_pid(&o->pids, &o->npids, num))
                return hp_cli_fail(o->verb, HP_E_NOMEM, NULL); /* the same process twice is one */
            break;
        case NAME: o->name = v; break;
        case MODULE: o->module = v; break;
        case JSON: o->json = true; break;
        case JOBS:
            if (!parse_u32(v, &num) || num < 1 || num > HP_TARGET_JOBS_MAX)
                return hp_cli_usage(o->verb, "--jobs needs a number from 1 to "
                                             HP_TARGET_STR(HP_TARGET_JOBS_MAX));
            o->jobs = num;
            break;
        case NO_FREEZE: o->no_freeze = true; break;
        case UNLOAD: o->unload = true; break;
        case ALL:
            o->patch_id = HP_WIRE_REVERT_ALL;
            o->have_id = true;
            break;
        case HP_ARGS_OPERAND:
            if (is_apply && !o->patch) {
                o->patch = v;
            } else if (is_revert && !o->have_id) {
                /* a number is an id of `hotpe list`; anything else a patch's name or file */
                if (parse_u32(v, &o->patch_id)) {
                    if (o->patch_id == 0 || o->patch_id == HP_WIRE_REVERT_ALL)
                        return hp_cli_usage(o->verb, "PATCH-ID must be a patch id from hotpe list");
                } else {
                    o->patch_ref = v;
                }
                o->have_id = true;
            } else {
                return hp_cli_usage(o->verb, "too many arguments");
            }
            break;
        default: /* "--": operands follow */
            break;
        }
    }
    if (!o->npids && !o->name && !o->module && (strcmp(o->verb, "list") == 0 || o->patch_ref)) {
        o->every = true; /* the processes hotpe served: the shim is loaded in them */
        o->module = HP_WIRE_SHIM_NAME;
    }
    if ((o->npids > 0) + (o->name != NULL) + (o->module != NULL) != 1)
        return hp_cli_usage(o->verb,
                            "give one TARGET: --pid PID (repeatable), --name IMAGE.exe or --module NAME.dll");
    if (is_apply && !o->patch)
        return hp_cli_usage(o->verb, "missing PATCH.dll");
    if (is_revert && !o->have_id)
        return hp_cli_usage(o->verb, "missing PATCH (a name, a file or an id) or --all");
    return 0;
}

void hp_target_opts_free(hp_target_opts *o)
{
    free(o->pids);
    free(o->native);
    free(o->handed);
    o->pids = o->native = o->handed = NULL;
    o->npids = o->nnative = o->nhanded = 0;
}

#ifndef _WIN32

/* The request is well-formed: it is this build that cannot do it (exit 1, not bad usage). */
int hp_target_native(int argc, char **argv)
{
    hp_target_opts o;
    int rc = hp_target_parse(argc, argv, &o);
    hp_target_opts_free(&o);
    return rc ? rc : hp_cli_fail(argv[0], HP_E_LIVE_NEEDS_WINDOWS, NULL);
}

#else /* _WIN32 */

#define PSAPI_VERSION 2
#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>

#include "print.h"
#include "shimclient.h"

/* ------------------------------------------------------------------------------------------ */
/* A target process                                                                           */
/* ------------------------------------------------------------------------------------------ */

static bool is_wow64(HANDLE h, bool *wow)
{
    BOOL w = FALSE;
    if (!IsWow64Process(h, &w))
        return false;
    *wow = w != FALSE;
    return true;
}

/* t's pid, and its image beside it in every line, so a wrong process shows at once; h: the
 * process, or NULL when it cannot be opened (the pid alone). */
static void target_name(hp_target *t, uint32_t pid, HANDLE h)
{
    char image[MAX_PATH];
    DWORD len = sizeof image;
    t->pid = pid;
    t->image[0] = 0;
    snprintf(t->object, sizeof t->object, "pid %u", pid);
    if (h && QueryFullProcessImageNameA(h, 0, image, &len)) {
        snprintf(t->image, sizeof t->image, "%s", hp_print_file_name(image));
        snprintf(t->object, sizeof t->object, "pid %u (%s)", pid, t->image);
    }
}

hp_status hp_target_open(hp_target *t, uint32_t pid)
{
    memset(t, 0, sizeof *t);
    /* DUP_HANDLE: the shim's channel (shimclient.c) */
    t->h = OpenProcess(PROCESS_CREATE_THREAD | PROCESS_QUERY_INFORMATION | PROCESS_VM_OPERATION |
                           PROCESS_VM_READ | PROCESS_VM_WRITE | PROCESS_DUP_HANDLE | SYNCHRONIZE,
                       FALSE, pid);
    DWORD err = t->h ? 0 : GetLastError();
    HANDLE q = t->h ? t->h : OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    target_name(t, pid, q);
    if (q && q != t->h)
        CloseHandle(q);
    if (!t->h) /* a process that exists but refuses these rights: its name is still known */
        return err == ERROR_ACCESS_DENIED ? HP_E_PROC_DENIED : HP_E_PROC_OPEN;
    if (!(t->sc = hp_shimc_proc_new(t->h)))
        return HP_E_NOMEM;
    bool me, it;
    if (!is_wow64(GetCurrentProcess(), &me) || !is_wow64(t->h, &it))
        return HP_E_PROC_OPEN;
    /* Same architecture: both WOW64 (32-bit on 64-bit) or neither. */
    if (me != it)
        return HP_E_LIVE_ARCH;
    return HP_OK;
}

void hp_target_close(hp_target *t)
{
    hp_shimc_proc_free(t->sc);
    t->sc = NULL;
    if (t->h)
        CloseHandle(t->h);
    t->h = NULL;
}

void hp_target_json_begin(const hp_target *t, hp_json *j, const char *status)
{
    hp_json_object_begin(j);
    hp_json_key(j, "pid");
    hp_json_u64(j, t->pid);
    hp_json_key(j, "image");
    if (t->image[0])
        hp_json_str(j, t->image);
    else
        hp_json_null(j);
    hp_json_key(j, "status");
    hp_json_str(j, status);
}

int hp_target_refuse(const hp_target *t, const char *image, const char *function, hp_status s,
                     const char *detail)
{
    char obj[256], line[1024];
    if (image && function)
        snprintf(obj, sizeof obj, "%s: %s!%s", t->object, image, function);
    else if (image)
        snprintf(obj, sizeof obj, "%s: %s", t->object, image);
    else
        snprintf(obj, sizeof obj, "%s", t->object);
    hp_cli_message(line, sizeof line, obj, s, detail);
    return hp_target_refuse_line(t, s, line);
}

int hp_target_refuse_line(const hp_target *t, hp_status s, const char *line)
{
    if (t->verdict) { /* asked, not told: the caller reports it */
        t->verdict->s = s;
        snprintf(t->verdict->line, sizeof t->verdict->line, "%s", line);
        return HP_EXIT_FAILED;
    }
    hp_outbuf_printf(t->out, stderr, "hotpe: %s\n", line);
    if (t->j) {
        hp_target_json_begin(t, t->j, "refused");
        hp_json_key(t->j, "error");
        hp_json_str(t->j, hp_status_name(s));
        hp_json_key(t->j, "code");
        hp_json_u64(t->j, (uint64_t)s);
        hp_json_key(t->j, "message");
        hp_json_str(t->j, line);
        hp_json_object_end(t->j);
    }
    return HP_EXIT_FAILED;
}

/* ------------------------------------------------------------------------------------------ */
/* Selection                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* Every process that has loaded module (one whose modules we cannot list: not). */
static size_t module_pids(const char *module, uint32_t **pids)
{
    DWORD cap = 4096 * sizeof(DWORD), bytes = 0;
    DWORD *all = NULL;
    for (;;) { /* EnumProcesses fills the whole buffer when it may be too small */
        DWORD *more = realloc(all, cap);
        if (!more || !EnumProcesses(more, cap, &bytes)) {
            free(more ? more : all);
            return 0;
        }
        all = more;
        if (bytes < cap)
            break;
        cap *= 2;
    }
    size_t n = 0;
    for (size_t i = 0; i < bytes / sizeof all[0]; i++) {
        HANDLE h;
        if (all[i] == GetCurrentProcessId() ||
            !(h = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, all[i])))
            continue;
        hp_shimc_proc *p = hp_shimc_proc_new(h);
        bool keep = p && hp_shimc_find_module(p, module, NULL) != 0;
        hp_shimc_proc_free(p);
        CloseHandle(h);
        if (keep && !push_pid(pids, &n, all[i]))
            break;
    }
    free(all);
    return n;
}

/* Every process whose image has that name. */
static size_t name_pids(const char *name, uint32_t **pids)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return 0;
    size_t n = 0;
    PROCESSENTRY32 pe;
    pe.dwSize = sizeof pe;
    for (BOOL ok = Process32First(snap, &pe); ok; ok = Process32Next(snap, &pe))
        if (pe.th32ProcessID != GetCurrentProcessId() &&
            hp_patch_same_module(pe.szExeFile, name) && !push_pid(pids, &n, pe.th32ProcessID))
            break;
    CloseHandle(snap);
    return n;
}

/* The target pids, split: this hotpe's and (64-bit hotpe) the WOW64 ones it hands on. A pid
 * that cannot be queried stays here: hp_target_open then says why. false: no process. */
static bool select_targets(hp_target_opts *o)
{
    uint32_t *found = NULL;
    size_t n = o->npids ? o->npids : o->module ? module_pids(o->module, &found)
                                               : name_pids(o->name, &found);
    const uint32_t *pids = o->npids ? o->pids : found;
    o->nnative = o->nhanded = 0;
    o->native = malloc((n ? n : 1) * sizeof *o->native);
    o->handed = malloc((n ? n : 1) * sizeof *o->handed);
    if (!o->native || !o->handed)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        bool wow = false;
#ifdef _WIN64
        HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pids[i]);
        if (h) {
            (void)is_wow64(h, &wow);
            CloseHandle(h);
        }
#endif
        if (wow)
            o->handed[o->nhanded++] = pids[i];
        else
            o->native[o->nnative++] = pids[i];
    }
    free(found);
    return n > 0;
}

bool hp_target_select(hp_target_opts *o)
{
    return select_targets(o);
}

bool hp_target_handed_whole(hp_target_opts *o, int *rc)
{
    if (!select_targets(o) || o->nnative)
        return false;
    *rc = hp_target_handoff(o, true, NULL);
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Running each process                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* what a wrong pid under Wine usually is */
#define PID_HINT                                                                                 \
    "a Windows pid is the number the program's GetCurrentProcessId returns, not a Linux pid; "  \
    "under Wine hotpe must run in the program's WINEPREFIX"

static const char *open_hint(hp_status s)
{
    if (s == HP_E_PROC_OPEN)
        return PID_HINT;
    if (s == HP_E_PROC_DENIED) /* docs/trust.md, "Who may patch" */
        return "hotpe patches only what its user could write into anyway: run it as the "
               "process's user, or as an administrator";
    if (s == HP_E_LIVE_ARCH) /* a 64-bit hotpe hands 32-bit processes on: only x86 gets here */
        return sizeof(void *) == 8 ? "process x86, this hotpe x64" : "process x64, this hotpe x86";
    return NULL;
}

/* fn on process i of o->native, its lines into out (NULL: straight out), its element into j. */
static int run_one(const hp_target_opts *o, size_t i, hp_target_fn fn, const void *arg,
                   hp_json *j, hp_outbuf *out)
{
    hp_target t;
    hp_status s = hp_target_open(&t, o->native[i]);
    t.j = j;
    t.out = out;
    int rc = s == HP_OK ? fn(&t, arg, j) : hp_target_refuse(&t, NULL, NULL, s, open_hint(s));
    hp_target_close(&t);
    return rc;
}

/* One process's result, kept until every one before it is written out. */
typedef struct slot {
    hp_outbuf out;
    hp_json part;            /* its element of "processes" (--json) */
    int rc;
    volatile LONG done;      /* set last: out, part and rc are final */
} slot;

/* What the workers share: each takes the next index until none is left. */
typedef struct pool {
    const hp_target_opts *o;
    hp_target_fn fn;
    const void *arg;
    bool json;
    slot *slots;
    volatile LONG next;      /* the next index to take */
    volatile LONG finished;  /* processes done, for the progress line */
    HANDLE wake;             /* set each time one is done (auto-reset) */
} pool;

static DWORD WINAPI pool_worker(void *arg)
{
    pool *p = arg;
    for (LONG i; (i = InterlockedIncrement(&p->next) - 1) < (LONG)p->o->nnative;) {
        slot *sl = &p->slots[i];
        sl->rc = run_one(p->o, (size_t)i, p->fn, p->arg, p->json ? &sl->part : NULL, &sl->out);
        InterlockedExchange(&sl->done, 1); /* a full barrier: the slot is written before */
        InterlockedIncrement(&p->finished);
        SetEvent(p->wake);
    }
    return 0;
}

/* "hotpe: VERB: K/N processes done" on stderr, rewritten in place while the workers run, and
 * cleared before any other output and at the end. Only on a console: a file or pipe (every
 * test) sees nothing of it; nor when --json goes to that console too (its one line would be
 * overwritten). */
typedef struct progress {
    bool on;
    int shown;               /* characters on the console's line now */
    LONG k;                  /* the count shown */
} progress;

static bool is_console(DWORD which)
{
    DWORD mode;
    HANDLE h = GetStdHandle(which);
    return h && h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode);
}

static void progress_show(progress *pr, const char *verb, LONG k, size_t n)
{
    if (!pr->on || (pr->shown && k == pr->k))
        return;
    fflush(stdout); /* what was written out before it comes first */
    int len = fprintf(stderr, "\rhotpe: %s: %ld/%zu processes done", verb, (long)k, n);
    fflush(stderr);
    pr->shown = len > 1 ? len - 1 : 0;
    pr->k = k;
}

static void progress_clear(progress *pr)
{
    if (pr->shown)
        fprintf(stderr, "\r%*s\r", pr->shown, "");
    pr->shown = 0;
}

static void tally(int rc, unsigned *ok, unsigned *bad, unsigned *partly)
{
    if (rc == HP_EXIT_PARTIAL)
        ++*partly;
    else if (rc)
        ++*bad;
    else
        ++*ok;
}

/* The workers started (nth threads at most, none: this thread works), and each process's
 * output written out in turn; then the threads ended. */
static void pool_run(pool *p, HANDLE *th, size_t nth, hp_json *j, unsigned *ok, unsigned *bad,
                     unsigned *partly)
{
    size_t n = p->o->nnative, started = 0;
    for (size_t i = 0; j && i < n; i++)
        hp_json_part(&p->slots[i].part, j, &p->slots[i].out);
    for (size_t i = 0; i < nth; i++)
        if ((th[started] = CreateThread(NULL, 0, pool_worker, p, 0, NULL)) != NULL)
            started++;
    if (!started)
        pool_worker(p);
    progress pr = { .on = n > 1 && is_console(STD_ERROR_HANDLE) &&
                          !(j && is_console(STD_OUTPUT_HANDLE)) };
    for (size_t k = 0; k < n;) {
        slot *sl = &p->slots[k];
        if (!InterlockedCompareExchange(&sl->done, 0, 0)) {
            progress_show(&pr, p->o->verb, p->finished, n);
            WaitForSingleObject(p->wake, INFINITE); /* set after any done: none is missed */
            continue;
        }
        if (j)
            hp_json_join(j, &sl->part);
        if (!hp_outbuf_empty(&sl->out)) {
            progress_clear(&pr);
            hp_outbuf_emit(&sl->out);
        }
        hp_outbuf_free(&sl->out);
        tally(sl->rc, ok, bad, partly);
        k++;
    }
    progress_clear(&pr);
    for (size_t i = 0; i < started; i++) {
        WaitForSingleObject(th[i], INFINITE);
        CloseHandle(th[i]);
    }
}

/* fn on each of o->native, o->jobs at once; each process's lines and element written out, in
 * the order of o->native, as soon as it and every one before it is done. */
static void each_native(const hp_target_opts *o, hp_target_fn fn, const void *arg, hp_json *j,
                        unsigned *ok, unsigned *bad, unsigned *partly)
{
    size_t n = o->nnative, nth = o->jobs ? o->jobs : 1;
    if (nth > n)
        nth = n;
    pool p = { .o = o, .fn = fn, .arg = arg, .json = j != NULL };
    p.slots = calloc(n, sizeof *p.slots);
    p.wake = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE *th = calloc(nth, sizeof *th);
    if (p.slots && p.wake && th) {
        pool_run(&p, th, nth, j, ok, bad, partly);
    } else { /* no memory for the pool: one after the other, straight out */
        for (size_t i = 0; i < n; i++)
            tally(run_one(o, i, fn, arg, j, NULL), ok, bad, partly);
    }
    if (p.wake)
        CloseHandle(p.wake);
    free(th);
    free(p.slots);
}

int hp_target_each(const hp_target_opts *o, hp_target_fn fn, const void *arg, hp_json *j)
{
    if (o->nnative + o->nhanded == 0 && o->every)
        return HP_EXIT_OK; /* list says so */
    if (o->nnative + o->nhanded == 0) {
        char obj[300];
        snprintf(obj, sizeof obj, "%s", o->name ? o->name : o->module ? o->module : "target");
        return hp_cli_fail(obj, HP_E_NOT_FOUND, "no such process");
    }
    unsigned ok = 0, bad = 0, partly = 0;
    if (o->nnative)
        each_native(o, fn, arg, j, &ok, &bad, &partly);
    if (o->nhanded) {
        if (j)
            fflush(j->out);
        int rc = hp_target_handoff(o, false, j);
        if (rc == HP_EXIT_OK)
            ok += (unsigned)o->nhanded;
        else if (rc == HP_EXIT_PARTIAL)
            partly++;
        else
            bad += (unsigned)o->nhanded;
    }
    if (bad == 0 && partly == 0)
        return HP_EXIT_OK;
    if (ok == 0 && partly == 0)
        return HP_EXIT_FAILED;
    if (o->nnative + o->nhanded > 1)
        fprintf(stderr, "hotpe: %s: done in %u processes, partly in %u, failed in %u\n", o->verb,
                ok, partly, bad);
    return HP_EXIT_PARTIAL;
}

int hp_target_each_doc(const hp_target_opts *o, hp_target_fn fn, const void *arg,
                       const char *patch)
{
    hp_json j;
    if (o->json) {
        hp_json_doc_begin(&j, stdout);
        if (patch) {
            hp_json_key(&j, "patch");
            hp_json_str(&j, patch);
        }
        hp_json_key(&j, "processes");
        hp_json_array_begin(&j);
    }
    int rc = hp_target_each(o, fn, arg, o->json ? &j : NULL);
    if (o->json) {
        hp_json_array_end(&j);
        hp_json_doc_end(&j);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The 64->32 hand-off                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* Where the 32-bit hotpe is: x86\hotpe.exe in this hotpe's folder (an install), then
 * ..\x86\hotpe.exe (the build tree: build/x64 and build/x86). Its hotpe-shim.dll sits beside
 * it. false: neither exists; *looked names both. */
static bool handoff_path(wchar_t *out, size_t cap, char *looked, size_t lcap)
{
    static const wchar_t *const rel[] = { L"x86\\hotpe.exe", L"..\\x86\\hotpe.exe" };
    wchar_t self[MAX_PATH], joined[MAX_PATH + 32];
    size_t k = 0;
    looked[0] = 0;
    DWORD n = GetModuleFileNameW(NULL, self, MAX_PATH);
    if (!n || n >= MAX_PATH)
        return false;
    wchar_t *slash = wcsrchr(self, L'\\');
    if (slash)
        slash[1] = 0;
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        _snwprintf(joined, sizeof joined / sizeof joined[0], L"%ls%ls", slash ? self : L"", rel[i]);
        joined[sizeof joined / sizeof joined[0] - 1] = 0;
        DWORD m = GetFullPathNameW(joined, (DWORD)cap, out, NULL);
        if (!m || m >= cap)
            continue;
        if (GetFileAttributesW(out) != INVALID_FILE_ATTRIBUTES)
            return true;
        char a[MAX_PATH * 3];
        if (WideCharToMultiByte(CP_UTF8, 0, out, -1, a, sizeof a, NULL, NULL) && k + 8 < lcap)
            k += (size_t)snprintf(looked + k, lcap - k, "%s%s", k ? ", " : "", a);
    }
    return false;
}

bool hp_target_cmd_append(wchar_t *cmd, size_t cap, size_t *len, const wchar_t *arg)
{
    size_t k = *len;
#define PUT(c) do { if (k + 2 >= cap) return false; cmd[k++] = (c); } while (0)
    if (k)
        PUT(L' ');
    PUT(L'"');
    for (const wchar_t *p = arg;; p++) {
        size_t bs = 0;
        while (*p == L'\\') {
            bs++;
            p++;
        }
        if (!*p || *p == L'"') /* before a quote (ours or the argument's): doubled */
            bs *= 2;
        for (size_t b = 0; b < bs; b++)
            PUT(L'\\');
        if (!*p)
            break;
        if (*p == L'"')
            PUT(L'\\');
        PUT(*p);
    }
    PUT(L'"');
#undef PUT
    cmd[k] = 0;
    *len = k;
    return true;
}

bool hp_target_cmd_append_a(wchar_t *cmd, size_t cap, size_t *len, const char *arg)
{
    wchar_t w[1024];
    return MultiByteToWideChar(CP_ACP, 0, arg, -1, w, 1024) &&
           hp_target_cmd_append(cmd, cap, len, w);
}

void *hp_target_inheritable(uint32_t which)
{
    HANDLE h = GetStdHandle(which), dup = NULL;
    if (!h || h == INVALID_HANDLE_VALUE ||
        !DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0, TRUE,
                         DUPLICATE_SAME_ACCESS))
        return NULL;
    return dup;
}

/* Splice the child's {"processes": [...]} elements into our array (the writer's comma state
 * is public in json.h). false: not a document of ours. */
static bool json_splice(hp_json *j, const char *doc)
{
    const char *key = "\"processes\":[";
    const char *at = strstr(doc, key);
    if (!at)
        return false;
    at += strlen(key);
    const char *end = doc + strlen(doc);
    while (end > at && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    if (end - at < 2 || end[-1] != '}' || end[-2] != ']')
        return false;
    end -= 2;
    if (end == at)
        return true;
    if (j->need_comma[j->depth])
        fputc(',', j->out);
    fwrite(at, 1, (size_t)(end - at), j->out);
    j->need_comma[j->depth] = true;
    return true;
}

enum { CMD_MAX = 32768 }; /* CreateProcessW's limit */

/* The 32-bit hotpe's path and its command line (see hp_target_handoff). */
static hp_status handoff_cmd(const hp_target_opts *o, bool all, wchar_t *exe, wchar_t *cmd,
                             char *detail, size_t dcap)
{
    char looked[MAX_PATH * 8];
    size_t len = 0;
    if (!handoff_path(exe, MAX_PATH, looked, sizeof looked)) {
        snprintf(detail, dcap, "looked for %s", looked);
        return HP_E_LIVE_HANDOFF;
    }
    bool fits = hp_target_cmd_append(cmd, CMD_MAX, &len, exe);
    for (int i = 0; fits && i < o->argc; i++) {
        if (!all && i + 1 < o->argc &&
            (strcmp(o->argv[i], "--name") == 0 || strcmp(o->argv[i], "--pid") == 0 ||
             strcmp(o->argv[i], "--module") == 0)) {
            i++; /* TARGET: replaced below */
            continue;
        }
        fits = hp_target_cmd_append_a(cmd, CMD_MAX, &len, o->argv[i]);
    }
    for (size_t i = 0; fits && !all && i < o->nhanded; i++) {
        char pid[16];
        snprintf(pid, sizeof pid, "%u", o->handed[i]);
        fits = hp_target_cmd_append_a(cmd, CMD_MAX, &len, "--pid") &&
               hp_target_cmd_append_a(cmd, CMD_MAX, &len, pid);
    }
    if (!fits) {
        snprintf(detail, dcap, "command line too long");
        return HP_E_LIVE_HANDOFF;
    }
    return HP_OK;
}

/* Start it with our standard handles; with rd, its stdout is a pipe we read from *rd. */
static hp_status handoff_start(const wchar_t *exe, wchar_t *cmd, HANDLE *rd,
                               PROCESS_INFORMATION *pi, char *detail, size_t dcap)
{
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    HANDLE in = hp_target_inheritable(STD_INPUT_HANDLE), out = NULL;
    HANDLE err = hp_target_inheritable(STD_ERROR_HANDLE);
    hp_status s = HP_OK;
    if (rd) {
        if (CreatePipe(rd, &out, &sa, 0))
            SetHandleInformation(*rd, HANDLE_FLAG_INHERIT, 0);
    } else {
        out = hp_target_inheritable(STD_OUTPUT_HANDLE);
    }
    STARTUPINFOW si = { 0 };
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in;
    si.hStdOutput = out;
    si.hStdError = err;
    fflush(stdout);
    fflush(stderr);
    if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, pi)) {
        s = HP_E_LIVE_HANDOFF;
        snprintf(detail, dcap, "cannot start it: error %lu", GetLastError());
    }
    if (in)
        CloseHandle(in);
    if (out)
        CloseHandle(out); /* ours: EOF on rd when the child exits */
    if (err)
        CloseHandle(err);
    return s;
}

/* What the child writes until it exits (*n bytes), NUL-terminated; NULL when nothing could be
 * kept. */
static char *read_all(HANDLE rd, size_t *n_out)
{
    char *doc = NULL;
    size_t n = 0, cap = 0;
    for (DWORD got = 0;;) {
        if (n + 4097 > cap) {
            char *more = realloc(doc, cap = cap * 2 + 8192);
            if (!more)
                break;
            doc = more;
        }
        if (!ReadFile(rd, doc + n, 4096, &got, NULL) || got == 0)
            break;
        n += got;
    }
    if (doc)
        doc[n] = 0;
    *n_out = n;
    return doc;
}

int hp_target_handoff(const hp_target_opts *o, bool all, hp_json *j)
{
    wchar_t exe[MAX_PATH];
    char detail[MAX_PATH * 8 + 32];
    wchar_t *cmd = malloc(CMD_MAX * sizeof *cmd);
    if (!cmd)
        return hp_cli_fail("hand-off", HP_E_NOMEM, NULL);
    HANDLE rd = NULL;
    PROCESS_INFORMATION pi = { 0 };
    hp_status s = handoff_cmd(o, all, exe, cmd, detail, sizeof detail);
    if (s == HP_OK)
        s = handoff_start(exe, cmd, j ? &rd : NULL, &pi, detail, sizeof detail);
    free(cmd);
    if (s != HP_OK) {
        if (rd)
            CloseHandle(rd);
        if (!o->nhanded) /* run: a program, no pid yet */
            hp_cli_fail(o->verb, s, detail);
        for (size_t i = 0; i < o->nhanded; i++) {
            hp_target t = { .j = j };
            HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, o->handed[i]);
            target_name(&t, o->handed[i], h);
            if (h)
                CloseHandle(h);
            hp_target_refuse(&t, NULL, NULL, s, detail);
        }
        return HP_EXIT_FAILED;
    }
    size_t n = 0;
    char *doc = rd ? read_all(rd, &n) : NULL;
    if (rd)
        CloseHandle(rd);
    DWORD code = HP_EXIT_FAILED;
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    if (j && doc && !json_splice(j, doc) && n) /* not ours: say so rather than lose it */
        fprintf(stderr, "hotpe: %s: the 32-bit hotpe's output is not its JSON document\n",
                o->verb);
    free(doc);
    return (int)code;
}

#endif /* _WIN32 */
