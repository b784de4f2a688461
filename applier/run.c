/*
 * hotpe run [--patch PATCH.dll]... [--no-freeze] [--detach] -- PROGRAM [ARGS]: start a program
 * suspended, let its loader run up to the image's entry point (held there by a jump to itself,
 * the thread suspended once it is there), apply each patch to it as apply would, and let it go.
 * A 64-bit hotpe hands a 32-bit program to the 32-bit hotpe beside it (target.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "target.h"

const char hp_verb_run_help[] =
    "usage: hotpe run [--patch PATCH.dll]... [--no-freeze] [--detach] -- PROGRAM [ARGS]\n"
    "\n"
    "Starts PROGRAM with the patches applied before its own code runs. The program is created\n"
    "suspended; its main thread runs the loader (the DLLs are loaded and initialised) and is\n"
    "held at the image's entry point; each patch is then applied in order as `hotpe apply --pid`\n"
    "would apply it (the same checks and refusals), and only then does the program go on.\n"
    "When a patch is refused, the program is ended before its entry point runs and hotpe\n"
    "exits 1. The program's TLS callbacks and its DLLs' initialisation run before the patches.\n"
    "\n"
    "The program shares hotpe's standard handles; hotpe's own lines go to stderr. Without\n"
    "--detach hotpe waits for the program and exits with its exit code; with --detach it\n"
    "prints \"pid N\" on stdout once the program runs, and exits 0.\n"
    "\n" HP_TARGET_NATIVE_HELP;

typedef struct run_opts {
    const char **patches;    /* malloc'd */
    size_t npatches;
    bool no_freeze, detach;
    int program;             /* argv index of PROGRAM */
} run_opts;

static bool add_patch(run_opts *r, const char *path)
{
    const char **more = realloc(r->patches, (r->npatches + 1) * sizeof *more);
    if (!more)
        return false;
    r->patches = more;
    r->patches[r->npatches++] = path;
    return true;
}

/* 0 on success, else an exit code; r->patches is freed by the caller either way. */
static int parse_run(int argc, char **argv, run_opts *r)
{
    static const hp_args_opt opts[] = { { "--patch", true }, { "--no-freeze", false },
                                        { "--detach", false }, { NULL, false } };
    hp_args a;
    const char *v;
    int k;
    memset(r, 0, sizeof *r);
    hp_args_init(&a, argc, argv);
    while ((k = hp_args_next(&a, opts, &v)) != HP_ARGS_END) {
        switch (k) {
        case HP_ARGS_BAD:
            return HP_EXIT_USAGE;
        case HP_ARGS_DASHDASH:
            if (a.i == argc)
                return hp_cli_usage(argv[0], "missing PROGRAM after --");
            r->program = a.i;
            return 0;
        case HP_ARGS_OPERAND:
            return hp_cli_usage(argv[0], "PROGRAM goes after --");
        case 0:
            if (!add_patch(r, v))
                return hp_cli_fail(argv[0], HP_E_NOMEM, NULL);
            break;
        case 1: r->no_freeze = true; break;
        case 2: r->detach = true; break;
        }
    }
    return hp_cli_usage(argv[0], "missing -- PROGRAM");
}

#ifndef _WIN32

int hp_verb_run(int argc, char **argv)
{
    run_opts r;
    int rc = parse_run(argc, argv, &r);
    free(r.patches);
    return rc ? rc : hp_cli_fail(argv[0], HP_E_LIVE_NEEDS_WINDOWS, NULL);
}

#else /* _WIN32 */

#include <windows.h>
#include <winternl.h>

#include "apply.h"
#include "print.h"
#include "hotpe/engine/proc.h"
#include "hotpe/engine/win.h"
#include "hotpe/pe/insn.h"

#define RUN_ENTRY_TIMEOUT_MS 60000

typedef LONG(NTAPI *query_process_fn)(HANDLE process, int cls, void *info, ULONG len, ULONG *ret);

/* The main image's base in a process that has not run yet: its PEB's ImageBaseAddress, the
 * third pointer of the PEB (the process has our bitness here). 0: unknown. */
static uint64_t run_image_base(HANDLE h, const hp_proc *p)
{
    query_process_fn query = (query_process_fn)hp_win_proc("ntdll.dll", "NtQueryInformationProcess");
    PROCESS_BASIC_INFORMATION pbi;
    void *base = NULL;
    if (!query || query(h, 0 /* ProcessBasicInformation */, &pbi, sizeof pbi, NULL) < 0 ||
        hp_proc_read(p, (uint64_t)(uintptr_t)pbi.PebBaseAddress + 2 * sizeof(void *), &base,
                     sizeof base) != HP_OK)
        return 0;
    return (uint64_t)(uintptr_t)base;
}

/*
 * Let the suspended main thread run the loader up to the entry point, where a jump to itself
 * holds it, and leave it suspended there with the entry's bytes back.
 *
 * Not a transaction (txn.h): the entry point is no patch site (nothing of a patch goes there,
 * no journal is kept), and the program's only thread is suspended by us whenever these bytes
 * change, so there is nothing to freeze and no single store is needed (hp_proc_write, not
 * store2: an entry point may straddle a cache line).
 */
static hp_status run_to_entry(const hp_proc *p, HANDLE proc, HANDLE thread, uint64_t entry,
                              char *detail, size_t cap)
{
    uint8_t orig[2], loop[2];
    if (hp_insn_jmp_rel8_encode(entry, entry, loop) != HP_OK ||
        hp_proc_read(p, entry, orig, 2) != HP_OK || hp_proc_write(p, entry, loop, 2) != HP_OK) {
        snprintf(detail, cap, "its entry point at 0x%llx cannot be written",
                 (unsigned long long)entry);
        return HP_E_RUN_ENTRY;
    }
    ResumeThread(thread);
    uint64_t t0 = hp_win_clock_ns();
    for (;;) {
        if (WaitForSingleObject(proc, 1) == WAIT_OBJECT_0) {
            DWORD code = 0;
            GetExitCodeProcess(proc, &code);
            snprintf(detail, cap, "it exited while loading, exit code %lu", (unsigned long)code);
            return HP_E_RUN_ENTRY;
        }
        if (SuspendThread(thread) == (DWORD)-1)
            continue;
        CONTEXT c;
        ZeroMemory(&c, sizeof c);
        c.ContextFlags = CONTEXT_CONTROL;
        bool ok = GetThreadContext(thread, &c);
#ifdef _WIN64
        uint64_t ip = c.Rip;
#else
        uint64_t ip = c.Eip;
#endif
        if (ok && ip == entry)
            break;
        if (hp_win_clock_ns() - t0 > RUN_ENTRY_TIMEOUT_MS * 1000000ull) {
            snprintf(detail, cap, "still loading after %u s", RUN_ENTRY_TIMEOUT_MS / 1000);
            return HP_E_RUN_ENTRY;   /* left suspended: the caller ends it */
        }
        ResumeThread(thread);
    }
    if (hp_proc_write(p, entry, orig, 2) != HP_OK) {
        snprintf(detail, cap, "its entry point's bytes cannot be put back");
        return HP_E_RUN_ENTRY;
    }
    return HP_OK;
}

/* The program's file as CreateProcess would find it (exe), its bitness and entry point. 0, or
 * the exit code after saying why. */
static int run_program_file(const char *program, wchar_t *exe, bool *x64, uint32_t *entry_rva)
{
    wchar_t wprog[MAX_PATH];
    if (!MultiByteToWideChar(CP_ACP, 0, program, -1, wprog, MAX_PATH) ||
        !SearchPathW(NULL, wprog, L".exe", MAX_PATH, exe, NULL))
        return hp_cli_fail(program, HP_E_RUN_START, "no such file");
    uint8_t *data = NULL;
    size_t size = 0;
    const char *err = NULL;
    char exe_a[MAX_PATH * 3];
    WideCharToMultiByte(CP_UTF8, 0, exe, -1, exe_a, sizeof exe_a, NULL, NULL);
    hp_status s = hp_cli_read_file(exe_a, &data, &size, &err);
    hp_arena a = HP_ARENA_INIT;
    hp_pe pe;
    if (s == HP_OK)
        s = hp_pe_parse(&pe, &a, data, size, HP_PE_LAYOUT_FILE);
    *x64 = s == HP_OK && pe.pe32plus;
    *entry_rva = s == HP_OK ? pe.entry_point : 0;
    if (s == HP_OK && (!*entry_rva || (pe.characteristics & 0x2000 /* DLL */)))
        s = HP_E_RUN_START, err = "not a program with an entry point";
    hp_arena_free(&a);
    free(data);
    return s == HP_OK ? 0 : hp_cli_fail(program, s, err);
}

/* Every patch read and checked before the program starts; pfs has r->npatches entries. */
static int run_load_patches(const run_opts *r, hp_apply_patch **pfs)
{
    for (size_t i = 0; i < r->npatches; i++) {
        const char *err;
        hp_status s;
        if (!(pfs[i] = calloc(1, sizeof *pfs[i])))
            return hp_cli_fail(r->patches[i], HP_E_NOMEM, NULL);
        if ((s = hp_apply_load(pfs[i], r->patches[i], &err)) != HP_OK)
            return hp_cli_fail(r->patches[i], s, err);
        pfs[i]->out = stderr;
        pfs[i]->no_freeze = r->no_freeze;
    }
    return HP_EXIT_OK;
}

/* Create the program suspended, sharing our standard handles. 0, or the exit code. */
static int run_start(const run_opts *r, int argc, char **argv, const wchar_t *exe,
                     PROCESS_INFORMATION *pi)
{
    enum { CMD_MAX = 32768 }; /* CreateProcessW's limit */
    const char *program = argv[r->program];
    wchar_t *cmd = malloc(CMD_MAX * sizeof *cmd);
    size_t len = 0;
    bool fits = cmd != NULL;
    for (int i = r->program; fits && i < argc; i++)
        fits = i == r->program ? hp_target_cmd_append(cmd, CMD_MAX, &len, exe)
                               : hp_target_cmd_append_a(cmd, CMD_MAX, &len, argv[i]);
    if (!fits) {
        const char *why = cmd ? "command line too long" : "out of memory";
        free(cmd);
        return hp_cli_fail(program, HP_E_RUN_START, why);
    }
    int rc = HP_EXIT_OK;
    STARTUPINFOW si = { 0 };
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = hp_target_inheritable(STD_INPUT_HANDLE);
    si.hStdOutput = hp_target_inheritable(STD_OUTPUT_HANDLE);
    si.hStdError = hp_target_inheritable(STD_ERROR_HANDLE);
    fflush(stdout);
    fflush(stderr);
    if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, pi)) {
        char detail[32];
        snprintf(detail, sizeof detail, "error %lu", GetLastError());
        rc = hp_cli_fail(program, HP_E_RUN_START, detail);
    }
    for (HANDLE *h = &si.hStdInput; h <= &si.hStdError; h++)
        if (*h)
            CloseHandle(*h);
    free(cmd);
    return rc;
}

/* Hold the new program at its entry point. 0, or the exit code after saying why. */
static int run_hold(const PROCESS_INFORMATION *pi, const char *program, uint32_t entry_rva)
{
    char detail[MAX_PATH + 64] = "";
    hp_proc p = { 0 };
    hp_status s = hp_proc_remote_open(&p, pi->dwProcessId);
    uint64_t base = s == HP_OK ? run_image_base(pi->hProcess, &p) : 0;
    s = base ? run_to_entry(&p, pi->hProcess, pi->hThread, base + entry_rva, detail, sizeof detail)
             : (snprintf(detail, sizeof detail, "its image base cannot be read"), HP_E_RUN_ENTRY);
    hp_proc_close(&p);
    if (s == HP_OK)
        return HP_EXIT_OK;
    char obj[MAX_PATH + 32];
    snprintf(obj, sizeof obj, "pid %lu (%s)", pi->dwProcessId, hp_print_file_name(program));
    return hp_cli_fail(obj, s, detail);
}

/* The patches applied to the program held at its entry, then let go (or ended when one was
 * refused, before its own code ran). Returns hotpe's exit code. */
static int run_patched(const run_opts *r, const PROCESS_INFORMATION *pi, const char *program,
                       uint32_t entry_rva, hp_apply_patch **pfs)
{
    int rc = run_hold(pi, program, entry_rva);
    for (size_t i = 0; i < r->npatches && rc == HP_EXIT_OK; i++) {
        hp_target t;
        hp_status s = hp_target_open(&t, pi->dwProcessId);
        rc = s == HP_OK ? hp_apply_one(&t, pfs[i], NULL) : hp_target_refuse(&t, NULL, NULL, s, NULL);
        hp_target_close(&t);
    }
    if (rc != HP_EXIT_OK) {
        TerminateProcess(pi->hProcess, HP_EXIT_FAILED);
        WaitForSingleObject(pi->hProcess, 5000);
        return rc;
    }
    ResumeThread(pi->hThread);
    if (r->detach) {
        printf("pid %lu\n", pi->dwProcessId);
        return rc;
    }
    DWORD code = HP_EXIT_FAILED;
    WaitForSingleObject(pi->hProcess, INFINITE);
    GetExitCodeProcess(pi->hProcess, &code);
    return (int)code;
}

/* The program's file, then the patches, then the program: a step that fails ends it. */
static int run(const run_opts *r, int argc, char **argv)
{
    const char *program = argv[r->program];
    wchar_t exe[MAX_PATH];
    bool x64 = false;
    uint32_t entry_rva = 0;
    int rc = run_program_file(program, exe, &x64, &entry_rva);
    if (rc)
        return rc;
    if (x64 != (sizeof(void *) == 8)) {
#ifdef _WIN64
        hp_target_opts o = { .verb = argv[0], .argc = argc, .argv = argv };
        return hp_target_handoff(&o, true, NULL); /* a 32-bit program: the 32-bit hotpe runs it */
#else
        return hp_cli_fail(program, HP_E_LIVE_ARCH, "program x64, this hotpe x86");
#endif
    }
    hp_apply_patch **pfs = calloc(r->npatches ? r->npatches : 1, sizeof *pfs);
    PROCESS_INFORMATION pi = { 0 };
    if (!pfs)
        rc = hp_cli_fail(program, HP_E_NOMEM, NULL);
    else if ((rc = run_load_patches(r, pfs)) == HP_EXIT_OK &&
             (rc = run_start(r, argc, argv, exe, &pi)) == HP_EXIT_OK) {
        rc = run_patched(r, &pi, program, entry_rva, pfs);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    }
    for (size_t i = 0; pfs && i < r->npatches; i++)
        hp_apply_free(pfs[i]);
    free(pfs);
    return rc;
}

int hp_verb_run(int argc, char **argv)
{
    run_opts r;
    int rc = parse_run(argc, argv, &r);
    if (!rc)
        rc = run(&r, argc, argv);
    free(r.patches);
    return rc;
}

#endif /* _WIN32 */
