/*
 * hotpe apply / list / revert: live patching of running processes (PRODUCT.md sections 2, 6).
 *
 *   apply  TARGET PATCH.dll [--json] [--no-freeze]
 *   list   TARGET [--json]
 *   revert TARGET (PATCH-ID | --all) [--unload] [--json] [--no-freeze]
 *   run    [--patch PATCH.dll]... [--no-freeze] [--detach] -- PROGRAM [ARGS]
 *   TARGET: --pid PID (repeatable) | --name IMAGE.exe | --module NAME.dll
 *
 * apply validates from outside first: the target module's bytes are copied with
 * ReadProcessMemory and checked (machine, target name, identity, every validation, hook
 * pairing, the registry for the same patch or a sequence not above a live one), so a patch
 * that would be refused loads nothing into the target. A live patch of the same module with a
 * lower sequence is superseded: the validations are checked against its journal's bytes. Then hotpe-shim.dll (next to hotpe.exe)
 * is injected once per process (CreateRemoteThread at the target's LoadLibraryW), the request
 * block (live.h) is written with VirtualAllocEx/WriteProcessMemory, and hotpe_shim_run is run
 * with CreateRemoteThread (its address: the shim's base in the target + the export's RVA read
 * from the target's copy of the shim); the result is read back after a bounded wait.
 * list reads the shim's exported registry with ReadProcessMemory only. revert --unload asks the
 * shim to free the reverted patches' DLLs (docs/live.md: when, and exit 3 when one is kept).
 * A 64-bit hotpe hands 32-bit processes to the 32-bit hotpe beside it (x86\hotpe.exe, else
 * ..\x86\hotpe.exe): the whole command when all are 32-bit, else their --pid's, its JSON
 * spliced into ours. run starts a program suspended, lets its loader run up to the image's
 * entry point (held there by a jump to itself, the thread suspended once it is there), applies
 * each patch to it as apply would, and lets it go.
 *
 * These verbs need the Windows builds (build/x64/hotpe.exe, build/x86/hotpe.exe); the native
 * build says so and exits 1: the request is well-formed, it is this build that cannot do it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/cfg.h"
#include "cli.h"
#include "hotpe/pe/insn.h"
#include "json.h"
#include "hotpe/engine/live.h"
#include "hotpe/engine/proc.h"
#include "hotpe/engine/win.h"

#define TARGET_HELP                                                                          \
    "TARGET is --pid PID (a Windows pid; under Wine the small numbers GetCurrentProcessId\n" \
    "returns; repeat it for several), --name IMAGE.exe (every process whose image has\n"   \
    "that name) or --module NAME.dll (every process that has loaded NAME.dll).\n"

#define NATIVE_HELP                                                                          \
    "Needs the Windows build (build/x64/hotpe.exe or build/x86/hotpe.exe, also under Wine):\n" \
    "the native build/native/hotpe prints one line saying so and exits 1 (refused, not bad\n" \
    "usage: the same command works with the Windows build). A 64-bit hotpe hands 32-bit\n"  \
    "processes to the 32-bit hotpe beside it (x86\\hotpe.exe in its folder, else\n"          \
    "..\\x86\\hotpe.exe), passing on the arguments, output and exit code; a 32-bit hotpe\n"   \
    "refuses 64-bit processes.\n"

const char hp_verb_apply_help[] =
    "usage: hotpe apply TARGET PATCH.dll [--json] [--no-freeze]\n"
    "\n"
    "Applies a patch image (made with `hotpe build`) to running processes without restarting\n"
    "them. First, from outside, it reads the target module's bytes and checks the machine, the\n"
    "target name, the identity (TimeDateStamp, SizeOfImage, CheckSum, CodeView GUID and age)\n"
    "and every validation; a refused patch loads nothing into the target. Then it injects\n"
    "hotpe-shim.dll (found next to hotpe.exe, once per process), which loads the patch,\n"
    "re-validates, applies fixups, runs HOTPE_ON_APPLY (non-zero vetoes), and writes every\n"
    "site as one transaction: threads frozen, padding jumps, then the 2-byte entry jumps.\n"
    "\n" TARGET_HELP
    "  --json        one JSON document: {\"patch\", \"processes\": [{\"pid\", \"status\",\n"
    "                \"patch_id\", \"sites\", \"froze\", \"freeze_ns\", \"phases_ns\",\n"
    "                \"hotpe_ns\": {\"validate\", \"inject\", \"request\"}, \"cfg\",\n"
    "                \"cfg_error\", \"site_cfg\": [{\"entry_rva\", \"function\", \"cfg\"}]}]};\n"
    "                cfg says what was done for Control Flow Guard (docs/live.md):\n"
    "                not-instrumented, registered, no-api, failed, unaligned, not-enforced\n"
    "  --no-freeze   do not suspend threads when every site is fresh (padding all CC)\n"
    "\n" NATIVE_HELP
    "Exit codes: 0 applied, 1 refused or failed (one line: pid, image!function, reason),\n"
    "2 bad usage, 3 applied in some processes only.\n";

const char hp_verb_check_help[] =
    "usage: hotpe check TARGET PATCH.dll [--json]\n"
    "\n"
    "A dry run of `hotpe apply`: everything apply checks from outside (a live patch with the\n"
    "same file or an equal or higher sequence, the target module's machine, name, identity and\n"
    "every validation), read with ReadProcessMemory alone. Nothing is injected, loaded or\n"
    "written.\n"
    "\n" TARGET_HELP
    "  --json   one JSON document: {\"patch\", \"processes\": [{\"pid\", \"status\",\n"
    "           \"sites\", \"supersedes\"}]}\n"
    "\n" NATIVE_HELP
    "Exit codes: 0 every process would accept the patch, 1 refused (one line: pid,\n"
    "image!function, reason), 2 bad usage, 3 some processes only.\n";

const char hp_verb_list_help[] =
    "usage: hotpe list TARGET [--json]\n"
    "\n"
    "Lists the patches live in the target processes, read from hotpe-shim.dll's registry with\n"
    "ReadProcessMemory alone: id, sequence, target module, patch DLL, and each site (entry RVA\n"
    "and address, state, original bytes kept for revert, and what was done for CFG).\n"
    "\n" TARGET_HELP
    "  --json   {\"processes\": [{\"pid\", \"shim\", \"patches\": [{\"id\", \"sequence\",\n"
    "           \"target\", \"target_base\", \"patch\", \"patch_base\", \"sites\": [...]}]}]}\n"
    "\n" NATIVE_HELP
    "Exit codes: 0 done, 1 failed, 2 bad usage, 3 some processes could not be read.\n";

const char hp_verb_revert_help[] =
    "usage: hotpe revert TARGET (PATCH-ID | --all) [--unload] [--json] [--no-freeze]\n"
    "\n"
    "Reverts live patches (ids from `hotpe list`): in the target, the shim restores each site\n"
    "from its journal, the entry bytes first and then the padding, with the other threads\n"
    "frozen, and runs HOTPE_ON_REVERT. --all reverts every live patch, newest first. Without\n"
    "--unload the patch DLL stays loaded (threads may still run its code).\n"
    "\n"
    "  --unload   then free each reverted patch's DLL and its HOTPE_ORIGINAL stubs, only when\n"
    "             no thread is in its code or has a return address into it on its stack\n"
    "             (threads frozen, stacks scanned from SP to their base) and no other live\n"
    "             patch is that DLL. Otherwise the revert stands, the DLL stays loaded, and\n"
    "             one line says why. With --all, also the patch DLLs earlier reverts kept\n"
    "             loaded: `revert TARGET --all --unload` is how a kept DLL is freed later.\n"
    "\n" TARGET_HELP "\n" NATIVE_HELP
    "Exit codes: 0 reverted (and unloaded), 1 refused or failed, 2 bad usage, 3 partly done\n"
    "(some processes failed, or reverted but a patch DLL was kept loaded).\n";

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
    "\n" NATIVE_HELP;

/* ------------------------------------------------------------------------------------------ */
/* Options shared by the three verbs                                                          */
/* ------------------------------------------------------------------------------------------ */

#define LIVE_MAX_PIDS 256

typedef struct live_opts {
    const char *verb;
    uint32_t pids[LIVE_MAX_PIDS]; /* --pid, repeatable */
    size_t npids;
    const char *name;
    const char *module;      /* --module NAME.dll */
    const char *patch;       /* apply */
    uint32_t patch_id;       /* revert; HP_LIVE_REVERT_ALL for --all */
    bool have_id;
    bool json;
    bool no_freeze;
    bool unload;             /* revert --unload */
    /* the processes: this hotpe's, and the 32-bit ones a 64-bit hotpe hands on (select_targets) */
    uint32_t native[LIVE_MAX_PIDS], handed[LIVE_MAX_PIDS];
    size_t nnative, nhanded;
    int argc;                /* the verb's arguments, passed on by a hand-off */
    char **argv;
} live_opts;

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    if (!s || !*s)
        return false;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || v > 0xffffffffull)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* 0 on success, else an exit code. */
static int parse_opts(int argc, char **argv, live_opts *o)
{
    memset(o, 0, sizeof *o);
    o->verb = argv[0];
    o->argc = argc;
    o->argv = argv;
    /* check takes what apply takes (PATCH.dll); --no-freeze is accepted and changes nothing */
    bool is_apply = strcmp(o->verb, "apply") == 0 || strcmp(o->verb, "check") == 0;
    bool is_revert = strcmp(o->verb, "revert") == 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--pid") == 0 && i + 1 < argc) {
            if (o->npids == LIVE_MAX_PIDS)
                return hp_cli_usage(o->verb, "too many --pid");
            if (!parse_u32(argv[++i], &o->pids[o->npids]))
                return hp_cli_usage(o->verb, "--pid needs a number");
            o->npids++;
        } else if (strcmp(a, "--name") == 0 && i + 1 < argc) {
            o->name = argv[++i];
        } else if (strcmp(a, "--module") == 0 && i + 1 < argc) {
            o->module = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--no-freeze") == 0 && strcmp(o->verb, "list") != 0) {
            o->no_freeze = true;
        } else if (strcmp(a, "--unload") == 0 && is_revert) {
            o->unload = true;
        } else if (strcmp(a, "--all") == 0 && is_revert) {
            o->patch_id = HP_LIVE_REVERT_ALL;
            o->have_id = true;
        } else if (a[0] == '-' && a[1]) {
            return hp_cli_usage(o->verb, "unknown option");
        } else if (is_apply && !o->patch) {
            o->patch = a;
        } else if (is_revert && !o->have_id) {
            if (!parse_u32(a, &o->patch_id) || o->patch_id == 0 || o->patch_id == HP_LIVE_REVERT_ALL)
                return hp_cli_usage(o->verb, "PATCH-ID must be a patch id from hotpe list");
            o->have_id = true;
        } else {
            return hp_cli_usage(o->verb, "too many arguments");
        }
    }
    if ((o->npids > 0) + (o->name != NULL) + (o->module != NULL) != 1)
        return hp_cli_usage(o->verb,
                            "give one TARGET: --pid PID (repeatable), --name IMAGE.exe or --module NAME.dll");
    if (is_apply && !o->patch)
        return hp_cli_usage(o->verb, "missing PATCH.dll");
    if (is_revert && !o->have_id)
        return hp_cli_usage(o->verb, "missing PATCH-ID or --all");
    return 0;
}

#define RUN_MAX_PATCHES 32

typedef struct run_opts {
    const char *patches[RUN_MAX_PATCHES];
    size_t npatches;
    bool no_freeze, detach;
    int program;             /* argv index of PROGRAM */
} run_opts;

/* 0 on success, else an exit code. */
static int parse_run(int argc, char **argv, run_opts *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            if (i + 1 == argc)
                return hp_cli_usage(argv[0], "missing PROGRAM after --");
            r->program = i + 1;
            return 0;
        }
        if (strcmp(a, "--patch") == 0 && i + 1 < argc) {
            if (r->npatches == RUN_MAX_PATCHES)
                return hp_cli_usage(argv[0], "too many --patch");
            r->patches[r->npatches++] = argv[++i];
        } else if (strcmp(a, "--no-freeze") == 0) {
            r->no_freeze = true;
        } else if (strcmp(a, "--detach") == 0) {
            r->detach = true;
        } else {
            return hp_cli_usage(argv[0], a[0] == '-' ? "unknown option"
                                                     : "PROGRAM goes after --");
        }
    }
    return hp_cli_usage(argv[0], "missing -- PROGRAM");
}

#ifndef _WIN32

int hp_verb_run(int argc, char **argv)
{
    run_opts r;
    int rc = parse_run(argc, argv, &r);
    return rc ? rc : hp_cli_fail(argv[0], HP_E_LIVE_NEEDS_WINDOWS, NULL);
}

static int native_only(int argc, char **argv)
{
    live_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    return hp_cli_fail(argv[0], HP_E_LIVE_NEEDS_WINDOWS, NULL);
}

int hp_verb_apply(int argc, char **argv) { return native_only(argc, argv); }
int hp_verb_check(int argc, char **argv) { return native_only(argc, argv); }
int hp_verb_list(int argc, char **argv) { return native_only(argc, argv); }
int hp_verb_revert(int argc, char **argv) { return native_only(argc, argv); }

#else /* _WIN32 */

#define PSAPI_VERSION 2
#include <windows.h>
#include <psapi.h>
#include <winternl.h>
#include <tlhelp32.h>

#define INJECT_TIMEOUT_MS 15000
#define RUN_TIMEOUT_MS 30000
#define MAX_PIDS 256

/* ------------------------------------------------------------------------------------------ */
/* A target process                                                                           */
/* ------------------------------------------------------------------------------------------ */

typedef struct target {
    uint32_t pid;
    HANDLE h;
    char object[64];         /* "pid N" */
} target;

static void hex_bytes(char *out, size_t cap, const uint8_t *p, uint32_t n)
{
    size_t k = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < n && i < 4 && k + 4 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%02x", i ? " " : "", p[i]);
    if (n > 4 && k + 4 < cap)
        snprintf(out + k, cap - k, " ..");
}

/* `hotpe: pid N[: image[!function]]: reason[ (detail)]` */
static int refuse(const target *t, const char *image, const char *function, hp_status s,
                  const char *detail)
{
    char obj[256];
    if (image && function)
        snprintf(obj, sizeof obj, "%s: %s!%s", t->object, image, function);
    else if (image)
        snprintf(obj, sizeof obj, "%s: %s", t->object, image);
    else
        snprintf(obj, sizeof obj, "%s", t->object);
    return hp_cli_fail(obj, s, detail);
}

static bool self_is_wow64(HANDLE h, bool *wow)
{
    BOOL w = FALSE;
    if (!IsWow64Process(h, &w))
        return false;
    *wow = w != FALSE;
    return true;
}

static hp_status open_target(target *t, uint32_t pid)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    snprintf(t->object, sizeof t->object, "pid %u", pid);
    t->h = OpenProcess(PROCESS_CREATE_THREAD | PROCESS_QUERY_INFORMATION | PROCESS_VM_OPERATION |
                           PROCESS_VM_READ | PROCESS_VM_WRITE | SYNCHRONIZE,
                       FALSE, pid);
    if (!t->h)
        return HP_E_PROC_OPEN;
    bool me, it;
    if (!self_is_wow64(GetCurrentProcess(), &me) || !self_is_wow64(t->h, &it))
        return HP_E_PROC_OPEN;
    /* Same architecture: both WOW64 (32-bit on 64-bit) or neither. */
    if (me != it)
        return HP_E_LIVE_ARCH;
    return HP_OK;
}

static void close_target(target *t)
{
    if (t->h)
        CloseHandle(t->h);
    t->h = NULL;
}

/* The base and size of the module named name (file name, case-insensitive), or 0. */
static uint64_t find_module(const target *t, const char *name, uint32_t *size)
{
    HMODULE mods[1024];
    DWORD need = 0;
    /* the walk of the target's loader list fails while a thread there loads or unloads */
    int tries = 0;
    while (!EnumProcessModulesEx(t->h, mods, sizeof mods, &need, LIST_MODULES_ALL))
        if (++tries == 50)
            return 0;
        else
            Sleep(1);
    size_t n = need / sizeof mods[0];
    if (n > sizeof mods / sizeof mods[0])
        n = sizeof mods / sizeof mods[0];
    for (size_t i = 0; i < n; i++) {
        char path[MAX_PATH];
        if (!GetModuleFileNameExA(t->h, mods[i], path, sizeof path))
            continue;
        if (!hp_live_same_module_name(path, name))
            continue;
        MODULEINFO mi;
        if (!GetModuleInformation(t->h, mods[i], &mi, sizeof mi))
            return 0;
        if (size)
            *size = mi.SizeOfImage;
        return (uint64_t)(uintptr_t)mods[i];
    }
    return 0;
}

/* A copy of a module's image, page by page (unreadable pages become zeros). */
static uint8_t *copy_module(const target *t, uint64_t base, uint32_t size)
{
    uint8_t *buf = calloc(1, size ? size : 1);
    for (uint64_t off = 0; buf && off < size; off += 0x1000) {
        SIZE_T got = 0;
        size_t n = size - off < 0x1000 ? (size_t)(size - off) : 0x1000;
        ReadProcessMemory(t->h, (const void *)(uintptr_t)(base + off), buf + off, n, &got);
    }
    return buf;
}

/* The address of an export of a module in the target, following forwarders to other
 * modules (read from the target's own copies, so nothing assumes equal bases). */
static uint64_t remote_export(const target *t, const char *module, const char *name, int depth)
{
    uint32_t size = 0;
    uint64_t base = find_module(t, module, &size);
    if (!base || depth > 4)
        return 0;
    uint8_t *img = copy_module(t, base, size);
    if (!img)
        return 0;
    hp_arena a = HP_ARENA_INIT;
    hp_pe pe;
    hp_pe_exports ex;
    const hp_pe_export *e = NULL;
    uint64_t addr = 0;
    if (hp_pe_parse(&pe, &a, img, size, HP_PE_LAYOUT_LOADED) == HP_OK &&
        hp_pe_exports_parse(&pe, &a, &ex) == HP_OK &&
        hp_pe_exports_resolve(&ex, name, &e) == HP_OK && e && e->rva) {
        if (!e->forwarder) {
            addr = base + e->rva;
        } else {
            const char *dot = strrchr(e->forwarder, '.');
            char dll[128];
            if (dot && (size_t)(dot - e->forwarder) + 5 < sizeof dll && dot[1] != '#') {
                memcpy(dll, e->forwarder, (size_t)(dot - e->forwarder));
                strcpy(dll + (dot - e->forwarder), ".dll");
                addr = remote_export(t, dll, dot + 1, depth + 1);
            }
        }
    }
    hp_arena_free(&a);
    free(img);
    return addr;
}

/* Read the shim's registry (seqlock: retried while it changes). shim_base 0: no shim. */
static hp_status read_registry(const target *t, uint64_t *shim_base, hp_live_registry *reg)
{
    *shim_base = find_module(t, HP_LIVE_SHIM_NAME, NULL);
    if (!*shim_base)
        return HP_OK;
    uint64_t at = remote_export(t, HP_LIVE_SHIM_NAME, HP_LIVE_REGISTRY_EXPORT, 0);
    if (!at)
        return HP_E_LIVE_SHIM;
    for (int i = 0; i < 200; i++) {
        uint32_t seq1 = 0, seq2 = 0;
        SIZE_T got = 0;
        const void *p = (const void *)(uintptr_t)at;
        if (!ReadProcessMemory(t->h, (const uint8_t *)p + offsetof(hp_live_registry, seq), &seq1,
                               4, &got) ||
            !ReadProcessMemory(t->h, p, reg, sizeof *reg, &got) || got != sizeof *reg ||
            !ReadProcessMemory(t->h, (const uint8_t *)p + offsetof(hp_live_registry, seq), &seq2,
                               4, &got))
            return HP_E_PROC_READ;
        if (seq1 == seq2 && !(seq1 & 1u)) {
            if (reg->magic != HP_LIVE_REGISTRY_MAGIC || reg->version != HP_LIVE_VERSION ||
                reg->size != sizeof *reg || reg->count > HP_LIVE_MAX_PATCHES)
                return HP_E_LIVE_SHIM;
            for (uint32_t k = 0; k < reg->count; k++) {
                hp_live_patch *pt = &reg->patches[k];
                if (pt->site_count > HP_LIVE_MAX_SITES)
                    return HP_E_LIVE_SHIM;
                pt->target_name[HP_LIVE_NAME_MAX - 1] = 0;
                pt->path[HP_LIVE_PATH_MAX - 1] = 0;
            }
            return HP_OK;
        }
        Sleep(1);
    }
    return HP_E_LIVE_REGISTRY;
}

/* Run a remote thread at start(arg) and wait for it; *code gets its exit code. */
static hp_status remote_call(const target *t, uint64_t start, uint64_t arg, DWORD timeout_ms,
                             DWORD *code)
{
    HANDLE th = CreateRemoteThread(t->h, NULL, 0, (LPTHREAD_START_ROUTINE)(uintptr_t)start,
                                   (void *)(uintptr_t)arg, 0, NULL);
    if (!th)
        return HP_E_LIVE_INJECT;
    DWORD w = WaitForSingleObject(th, timeout_ms);
    if (w != WAIT_OBJECT_0) {
        CloseHandle(th);
        return HP_E_LIVE_TIMEOUT;
    }
    GetExitCodeThread(th, code);
    CloseHandle(th);
    return HP_OK;
}

/* The shim next to this hotpe.exe, as a wide path. */
static hp_status shim_path(wchar_t *out, size_t cap)
{
    DWORD n = GetModuleFileNameW(NULL, out, (DWORD)cap);
    if (!n || n >= cap)
        return HP_E_LIVE_SHIM;
    wchar_t *slash = wcsrchr(out, L'\\');
    if (!slash)
        slash = wcsrchr(out, L'/');
    size_t dir = slash ? (size_t)(slash - out + 1) : 0;
    const wchar_t *name = L"" HP_LIVE_SHIM_NAME;
    if (dir + wcslen(name) + 1 > cap)
        return HP_E_LIVE_SHIM;
    wcscpy(out + dir, name);
    return GetFileAttributesW(out) == INVALID_FILE_ATTRIBUTES ? HP_E_LIVE_SHIM : HP_OK;
}

/* Load hotpe-shim.dll into the target unless it is there. */
static hp_status inject_shim(const target *t, uint64_t *shim_base)
{
    *shim_base = find_module(t, HP_LIVE_SHIM_NAME, NULL);
    if (*shim_base)
        return HP_OK;
    wchar_t path[MAX_PATH];
    HP_CHECK(shim_path(path, MAX_PATH));
    uint64_t load = remote_export(t, "kernel32.dll", "LoadLibraryW", 0);
    if (!load)
        return HP_E_LIVE_INJECT;
    size_t bytes = (wcslen(path) + 1) * sizeof(wchar_t);
    void *mem = VirtualAllocEx(t->h, NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!mem)
        return HP_E_LIVE_INJECT;
    hp_status s = HP_OK;
    DWORD code = 0;
    if (!WriteProcessMemory(t->h, mem, path, bytes, NULL))
        s = HP_E_PROC_WRITE;
    else
        s = remote_call(t, load, (uint64_t)(uintptr_t)mem, INJECT_TIMEOUT_MS, &code);
    if (s != HP_E_LIVE_TIMEOUT)
        VirtualFreeEx(t->h, mem, 0, MEM_RELEASE);
    if (s != HP_OK)
        return s;
    *shim_base = find_module(t, HP_LIVE_SHIM_NAME, NULL);
    return *shim_base ? HP_OK : HP_E_LIVE_INJECT;
}

/* Write a request, run hotpe_shim_run on it, read the result. */
static hp_status run_request(const target *t, hp_live_request *req, hp_live_result *res)
{
    memset(res, 0, sizeof *res); /* callers read it on every failure */
    res->failing_site = 0xffffffffu;
    uint64_t run = remote_export(t, HP_LIVE_SHIM_NAME, HP_LIVE_RUN_EXPORT, 0);
    if (!run)
        return HP_E_LIVE_SHIM;
    req->magic = HP_LIVE_REQUEST_MAGIC;
    req->version = HP_LIVE_VERSION;
    req->size = sizeof *req;
    /* who we are: if we die before freeing the block, the shim frees it at its next request */
    LARGE_INTEGER now;
    req->owner_created = hp_win_started(GetCurrentProcess());
    if (req->owner_created && QueryPerformanceCounter(&now)) {
        req->owner_pid = GetCurrentProcessId();
        req->nonce = (uint64_t)now.QuadPart;
    }
    void *mem = VirtualAllocEx(t->h, NULL, sizeof *req, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!mem)
        return HP_E_PROC_ALLOC;
    DWORD code = 0;
    hp_status s = WriteProcessMemory(t->h, mem, req, sizeof *req, NULL) ? HP_OK : HP_E_PROC_WRITE;
    if (s == HP_OK)
        s = remote_call(t, run, (uint64_t)(uintptr_t)mem, RUN_TIMEOUT_MS, &code);
    if (s == HP_OK) {
        SIZE_T got = 0;
        if (!ReadProcessMemory(t->h, (uint8_t *)mem + offsetof(hp_live_request, result), res,
                               sizeof *res, &got) || got != sizeof *res)
            s = HP_E_PROC_READ;
        else if (!res->done) /* the shim refused the block itself: its exit code says why */
            s = hp_status_known(code) ? (hp_status)code : HP_E_LIVE_REQUEST;
        else
            s = hp_status_known(res->status) ? (hp_status)res->status : HP_E_LIVE_REQUEST;
    }
    if (s != HP_E_LIVE_TIMEOUT) /* a late shim would still write into it */
        VirtualFreeEx(t->h, mem, 0, MEM_RELEASE);
    return s;
}

/* Pids of the TARGET option. */
static size_t target_pids(const live_opts *o, uint32_t *pids, size_t cap)
{
    if (o->npids) {
        size_t n = o->npids < cap ? o->npids : cap;
        memcpy(pids, o->pids, n * sizeof *pids);
        return n;
    }
    size_t n = 0;
    if (o->module) { /* every process that has loaded it (one whose modules we cannot list: not) */
        DWORD all[4096], bytes = 0;
        if (!EnumProcesses(all, sizeof all, &bytes))
            return 0;
        for (size_t i = 0; i < bytes / sizeof all[0] && n < cap; i++) {
            target t = { .pid = all[i] };
            if (all[i] == GetCurrentProcessId() ||
                !(t.h = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, all[i])))
                continue;
            if (find_module(&t, o->module, NULL))
                pids[n++] = all[i];
            CloseHandle(t.h);
        }
        return n;
    }
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return 0;
    PROCESSENTRY32 pe;
    pe.dwSize = sizeof pe;
    for (BOOL ok = Process32First(snap, &pe); ok && n < cap; ok = Process32Next(snap, &pe))
        if (pe.th32ProcessID != GetCurrentProcessId() &&
            hp_live_same_module_name(pe.szExeFile, o->name))
            pids[n++] = pe.th32ProcessID;
    CloseHandle(snap);
    return n;
}

static void to_utf8(const uint16_t *w, char *out, size_t cap)
{
    if (!WideCharToMultiByte(CP_UTF8, 0, (const wchar_t *)w, -1, out, (int)cap, NULL, NULL))
        out[0] = 0;
}

static const char *phase_names[HP_LIVE_PH_COUNT] = { "validate", "load",   "fixup",
                                                    "callback", "commit", "total" };

/* ------------------------------------------------------------------------------------------ */
/* apply                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct patch_file {
    const char *path;
    wchar_t wpath[HP_LIVE_PATH_MAX];
    uint8_t *data;
    size_t size;
    hp_arena arena;
    hp_live_patchinfo pi;
    hp_live_site_plan plan[HP_LIVE_MAX_SITES];
    uint32_t nsites;
    bool no_freeze;
    bool dry_run;            /* hotpe check: stop after the outside validation */
    FILE *out;               /* the text lines (run: stderr, the program has stdout) */
} patch_file;

/* Check one process from outside; HP_OK when the shim may be asked. Prints the refusal.
 * under: a live patch the new one supersedes (registry copy), or NULL. */
static int check_outside(const target *t, const patch_file *pf, const char *name,
                         const hp_live_patch *under)
{
    uint32_t size = 0;
    uint64_t base = find_module(t, name, &size);
    if (!base)
        return refuse(t, name, NULL, HP_E_LIVE_MODULE, NULL);
    uint8_t *img = copy_module(t, base, size);
    if (!img)
        return refuse(t, name, NULL, HP_E_NOMEM, NULL);
    hp_arena a = HP_ARENA_INIT;
    hp_pe pe;
    hp_live_failure why;
    int rc = 0;
    hp_status s = hp_pe_parse(&pe, &a, img, size, HP_PE_LAYOUT_LOADED);
    if (s != HP_OK) {
        rc = refuse(t, name, NULL, s, "the running module");
    } else if ((s = hp_live_check_under(&pf->pi, &pe, name, &a, &why, under)) != HP_OK) {
        if (s == HP_E_TXN_VALIDATION) {
            char exp[32], got[32];
            hex_bytes(exp, sizeof exp, why.expected, why.count);
            hex_bytes(got, sizeof got, why.found, why.count);
            char obj[256];
            if (why.function)
                snprintf(obj, sizeof obj, "%s: %s!%s", t->object, name, why.function);
            else
                snprintf(obj, sizeof obj, "%s: %s", t->object, name);
            if (why.what)
                fprintf(stderr, "hotpe: %s: the patch's validation of %u bytes at RVA 0x%x lies %s\n",
                        obj, why.count, why.rva, why.what);
            else
                fprintf(stderr,
                        "hotpe: %s: bytes at RVA 0x%x differ from the patch's validation "
                        "(%s expected, %s found)\n",
                        obj, why.rva, exp, got);
            rc = HP_EXIT_FAILED;
        } else {
            rc = refuse(t, name, NULL, s, why.what);
        }
    }
    hp_arena_free(&a);
    free(img);
    return rc;
}

/* Control Flow Guard, once per patch in the text output when the target module is
 * CFG-instrumented (docs/live.md): what was done for its replacement entries. */
static void print_cfg(FILE *out, const char *prefix, const uint8_t *states, uint32_t n,
                      uint32_t win32_error)
{
    uint32_t by[8] = { 0 };
    for (uint32_t k = 0; k < n; k++)
        by[states[k] < 8 ? states[k] : 0]++;
    if (by[HP_LIVE_CFG_REGISTERED])
        fprintf(out, "%sCFG: %u replacement entr%s made valid call targets\n", prefix,
               by[HP_LIVE_CFG_REGISTERED], by[HP_LIVE_CFG_REGISTERED] == 1 ? "y" : "ies");
    if (by[HP_LIVE_CFG_NO_API])
        fprintf(out, "%sCFG: the module is CFG-instrumented, but this system lacks "
               "SetProcessValidCallTargets: %u replacement entr%s not registered\n", prefix,
               by[HP_LIVE_CFG_NO_API], by[HP_LIVE_CFG_NO_API] == 1 ? "y" : "ies");
    if (by[HP_LIVE_CFG_NOT_ENFORCED])
        fprintf(out, "%sCFG: the module is CFG-instrumented, but the process runs without CFG: "
               "nothing to register\n", prefix);
    if (by[HP_LIVE_CFG_FAILED]) {
        fprintf(out, "%sCFG: making %u replacement entr%s valid call targets failed", prefix,
               by[HP_LIVE_CFG_FAILED], by[HP_LIVE_CFG_FAILED] == 1 ? "y" : "ies");
        if (win32_error)
            fprintf(out, " (error %u)", win32_error);
        fputc('\n', out);
    }
    if (by[HP_LIVE_CFG_UNALIGNED])
        fprintf(out, "%sCFG: %u replacement entr%s not 16-byte aligned: not registered\n", prefix,
               by[HP_LIVE_CFG_UNALIGNED], by[HP_LIVE_CFG_UNALIGNED] == 1 ? "y is" : "ies are");
}

/* Per site CFG state of a patch just applied, from the registry the shim wrote (the result's
 * one state for every site when the registry cannot be read). */
static void applied_cfg(const target *t, const patch_file *pf, const hp_live_result *res,
                        uint8_t *states, uint32_t *rvas)
{
    for (uint32_t k = 0; k < pf->nsites; k++) {
        states[k] = (uint8_t)res->cfg;
        rvas[k] = pf->plan[k].entry_rva;
    }
    hp_live_registry *reg = calloc(1, sizeof *reg);
    uint64_t shim = 0;
    if (reg && read_registry(t, &shim, reg) == HP_OK && shim)
        for (uint32_t i = 0; i < reg->count; i++)
            if (reg->patches[i].id == res->patch_id && reg->patches[i].site_count == pf->nsites)
                for (uint32_t k = 0; k < pf->nsites; k++) {
                    states[k] = reg->patches[i].sites[k].cfg;
                    rvas[k] = reg->patches[i].sites[k].entry_rva;
                }
    free(reg);
}

static int apply_one(const target *t, const patch_file *pf, hp_json *j)
{
    const char *name = pf->pi.hotp.target_name;
    uint64_t t_start = hp_win_clock_ns();
    uint64_t shim = 0;
    hp_live_registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return refuse(t, NULL, NULL, HP_E_NOMEM, NULL);
    hp_status s = read_registry(t, &shim, reg);
    char detail[64] = "";
    const hp_live_patch *under = NULL; /* a lower sequence: superseded */
    for (uint32_t i = 0; s == HP_OK && shim && i < reg->count && i < HP_LIVE_MAX_PATCHES; i++) {
        const hp_live_patch *p = &reg->patches[i];
        if (CompareStringOrdinal((const wchar_t *)p->path, -1, pf->wpath, -1, TRUE) == CSTR_EQUAL) {
            snprintf(detail, sizeof detail, "patch id %u", p->id);
            s = HP_E_LIVE_ALREADY;
        } else if (hp_live_same_module_name(p->target_name, name) &&
                   p->sequence >= pf->pi.pb.rec.Sequence) {
            snprintf(detail, sizeof detail, "patch id %u has sequence %u", p->id, p->sequence);
            s = HP_E_LIVE_SEQUENCE;
        } else if (hp_live_same_module_name(p->target_name, name)) {
            under = p;
        }
    }
    if (s != HP_OK) {
        free(reg);
        return refuse(t, name, NULL, s, detail[0] ? detail : NULL);
    }
    uint32_t superseded = under ? under->id : 0;
    int rc = check_outside(t, pf, name, under);
    free(reg);
    if (rc)
        return rc;
    if (pf->dry_run) {
        if (j) {
            hp_json_object_begin(j);
            hp_json_key(j, "pid");
            hp_json_u64(j, t->pid);
            hp_json_key(j, "status");
            hp_json_str(j, "would apply");
            hp_json_key(j, "sites");
            hp_json_u64(j, pf->nsites);
            hp_json_key(j, "supersedes");
            if (superseded)
                hp_json_u64(j, superseded);
            else
                hp_json_null(j);
            hp_json_object_end(j);
        } else if (superseded) {
            fprintf(pf->out, "pid %u: %s: %s would apply (%u sites), superseding patch %u\n",
                    t->pid, name, pf->path, pf->nsites, superseded);
        } else {
            fprintf(pf->out, "pid %u: %s: %s would apply (%u sites)\n", t->pid, name, pf->path,
                    pf->nsites);
        }
        return 0;
    }

    uint64_t t_validated = hp_win_clock_ns();
    if ((s = inject_shim(t, &shim)) != HP_OK)
        return refuse(t, HP_LIVE_SHIM_NAME, NULL, s, NULL);
    uint64_t t_injected = hp_win_clock_ns();
    hp_live_request *req = calloc(1, sizeof *req);
    hp_live_result res;
    if (!req)
        return refuse(t, NULL, NULL, HP_E_NOMEM, NULL);
    req->verb = HP_LIVE_VERB_APPLY;
    req->flags = pf->no_freeze ? HP_LIVE_REQ_F_NO_FREEZE : 0;
    memcpy(req->path, pf->wpath, sizeof req->path);
    s = run_request(t, req, &res);
    uint64_t t_done = hp_win_clock_ns();
    free(req);
    if (s != HP_OK) {
        const char *fn = NULL;
        if (s == HP_E_TXN_VALIDATION || res.failing_site != 0xffffffffu)
            fn = hp_live_function_at(&pf->pi, res.failing_rva);
        char d[96] = "";
        if (res.win32_error)
            snprintf(d, sizeof d, "error %u", res.win32_error);
        else if (s == HP_E_LIVE_ALREADY || s == HP_E_LIVE_SEQUENCE)
            snprintf(d, sizeof d, "patch id %u", res.patch_id);
        return refuse(t, name, fn, s, d[0] ? d : NULL);
    }
    uint8_t cfg_states[HP_LIVE_MAX_SITES];
    uint32_t cfg_rvas[HP_LIVE_MAX_SITES];
    applied_cfg(t, pf, &res, cfg_states, cfg_rvas);
    if (j) {
        hp_json_object_begin(j);
        hp_json_key(j, "pid");
        hp_json_u64(j, t->pid);
        hp_json_key(j, "status");
        hp_json_str(j, "applied");
        hp_json_key(j, "patch_id");
        hp_json_u64(j, res.patch_id);
        hp_json_key(j, "sites");
        hp_json_u64(j, pf->nsites);
        hp_json_key(j, "froze");
        hp_json_bool(j, (res.flags & HP_LIVE_RES_F_FROZE) != 0);
        hp_json_key(j, "freeze_ns");
        hp_json_u64(j, res.freeze_ns);
        hp_json_key(j, "phases_ns");
        hp_json_object_begin(j);
        for (unsigned k = 0; k < HP_LIVE_PH_COUNT; k++) {
            hp_json_key(j, phase_names[k]);
            hp_json_u64(j, res.phase_ns[k]);
        }
        hp_json_object_end(j);
        hp_json_key(j, "cfg");
        hp_json_str(j, hp_cfg_state_name((uint8_t)res.cfg));
        hp_json_key(j, "cfg_error"); /* GetLastError of a failed SetProcessValidCallTargets */
        if (res.cfg == HP_LIVE_CFG_FAILED && res.win32_error)
            hp_json_u64(j, res.win32_error);
        else
            hp_json_null(j);
        hp_json_key(j, "site_cfg");
        hp_json_array_begin(j);
        for (uint32_t k = 0; k < pf->nsites; k++) {
            hp_json_object_begin(j);
            hp_json_key(j, "entry_rva");
            hp_json_u64(j, cfg_rvas[k]);
            const char *fn = hp_live_function_at(&pf->pi, cfg_rvas[k]);
            hp_json_key(j, "function");
            hp_json_str(j, fn);
            hp_json_key(j, "cfg");
            hp_json_str(j, hp_cfg_state_name(cfg_states[k]));
            hp_json_object_end(j);
        }
        hp_json_array_end(j);
        /* hotpe's side: outside validation, injecting the shim, the request (the shim's
         * phases above, and the remote thread around them) */
        hp_json_key(j, "hotpe_ns");
        hp_json_object_begin(j);
        hp_json_key(j, "validate");
        hp_json_u64(j, t_validated - t_start);
        hp_json_key(j, "inject");
        hp_json_u64(j, t_injected - t_validated);
        hp_json_key(j, "request");
        hp_json_u64(j, t_done - t_injected);
        hp_json_object_end(j);
        hp_json_object_end(j);
    } else {
        fprintf(pf->out,
                "pid %u: %s: applied %s as patch %u (%u sites, %s, freeze %.1f us, total %.1f ms)\n",
                t->pid, name, pf->path, res.patch_id, pf->nsites,
                (res.flags & HP_LIVE_RES_F_FROZE) ? "threads frozen" : "no freeze",
                (double)res.freeze_ns / 1e3, (double)res.phase_ns[HP_LIVE_PH_TOTAL] / 1e6);
        char prefix[96];
        snprintf(prefix, sizeof prefix, "pid %u: %s: ", t->pid, name);
        print_cfg(pf->out, prefix, cfg_states, pf->nsites, res.win32_error);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Target selection and the 64->32 hand-off                                                   */
/* ------------------------------------------------------------------------------------------ */

/* The target pids, split: this hotpe's and (64-bit hotpe) the WOW64 ones it hands on. A pid
 * that cannot be queried stays here: open_target then says why. false: no process. */
static bool select_targets(live_opts *o)
{
    uint32_t pids[MAX_PIDS];
    size_t n = target_pids(o, pids, MAX_PIDS);
    o->nnative = o->nhanded = 0;
    for (size_t i = 0; i < n; i++) {
        bool wow = false;
#ifdef _WIN64
        HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pids[i]);
        if (h) {
            (void)self_is_wow64(h, &wow);
            CloseHandle(h);
        }
#endif
        if (wow)
            o->handed[o->nhanded++] = pids[i];
        else
            o->native[o->nnative++] = pids[i];
    }
    return n > 0;
}

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

/* Append one argument, quoted the way the C runtime splits it (backslashes before a quote
 * doubled). false: no room. */
static bool append_arg(wchar_t *cmd, size_t cap, size_t *len, const wchar_t *arg)
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

static bool append_arg_a(wchar_t *cmd, size_t cap, size_t *len, const char *arg)
{
    wchar_t w[1024];
    return MultiByteToWideChar(CP_ACP, 0, arg, -1, w, 1024) && append_arg(cmd, cap, len, w);
}

/* An inheritable copy of a standard handle, for the child. */
static HANDLE inheritable(DWORD which)
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

/*
 * Run the 32-bit hotpe on o->handed (all: the whole command as given; else the same arguments
 * with TARGET replaced by --pid for each), standard handles passed on; with j, its stdout is
 * read and its processes spliced into j. Returns its exit code, or 1 after one refusal per
 * process when it is missing or cannot start.
 */
static int handoff(const live_opts *o, bool all, hp_json *j)
{
    wchar_t exe[MAX_PATH];
    char looked[MAX_PATH * 8];
    hp_status s = HP_OK;
    char detail[MAX_PATH * 8 + 32];
    enum { CMD_MAX = 32768 }; /* CreateProcessW's limit */
    wchar_t *cmd = malloc(CMD_MAX * sizeof *cmd);
    size_t len = 0;
    if (!cmd)
        return refuse(&(target){ .object = "hand-off" }, NULL, NULL, HP_E_NOMEM, NULL);
    if (!handoff_path(exe, MAX_PATH, looked, sizeof looked)) {
        s = HP_E_LIVE_HANDOFF;
        snprintf(detail, sizeof detail, "looked for %s", looked);
    }
    bool fits = s == HP_OK && append_arg(cmd, CMD_MAX, &len, exe);
    for (int i = 0; fits && i < o->argc; i++) {
        if (!all && i + 1 < o->argc &&
            (strcmp(o->argv[i], "--name") == 0 || strcmp(o->argv[i], "--pid") == 0 ||
             strcmp(o->argv[i], "--module") == 0)) {
            i++; /* TARGET: replaced below */
            continue;
        }
        fits = append_arg_a(cmd, CMD_MAX, &len, o->argv[i]);
    }
    for (size_t i = 0; fits && !all && i < o->nhanded; i++) {
        char pid[16];
        snprintf(pid, sizeof pid, "%u", o->handed[i]);
        fits = append_arg_a(cmd, CMD_MAX, &len, "--pid") && append_arg_a(cmd, CMD_MAX, &len, pid);
    }
    if (s == HP_OK && !fits)
        s = HP_E_LIVE_HANDOFF, snprintf(detail, sizeof detail, "command line too long");

    HANDLE in = NULL, out = NULL, err = NULL, rd = NULL;
    PROCESS_INFORMATION pi = { 0 };
    if (s == HP_OK) {
        SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
        in = inheritable(STD_INPUT_HANDLE);
        err = inheritable(STD_ERROR_HANDLE);
        if (j) {
            if (CreatePipe(&rd, &out, &sa, 0))
                SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
        } else {
            out = inheritable(STD_OUTPUT_HANDLE);
        }
        STARTUPINFOW si = { 0 };
        si.cb = sizeof si;
        si.dwFlags = STARTF_USESTDHANDLES;
        si.hStdInput = in;
        si.hStdOutput = out;
        si.hStdError = err;
        fflush(stdout);
        fflush(stderr);
        if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
            s = HP_E_LIVE_HANDOFF;
            snprintf(detail, sizeof detail, "cannot start it: error %lu", GetLastError());
        }
        if (in)
            CloseHandle(in);
        if (out)
            CloseHandle(out); /* ours: EOF on rd when the child exits */
        if (err)
            CloseHandle(err);
    }
    free(cmd);
    if (s != HP_OK) {
        if (rd)
            CloseHandle(rd);
        if (!o->nhanded) /* run: a program, no pid yet */
            hp_cli_fail(o->verb, s, detail);
        for (size_t i = 0; i < o->nhanded; i++) {
            target t = { .pid = o->handed[i] };
            snprintf(t.object, sizeof t.object, "pid %u", t.pid);
            refuse(&t, NULL, NULL, s, detail);
        }
        return HP_EXIT_FAILED;
    }
    char *doc = NULL;
    size_t n = 0, cap = 0;
    for (DWORD got = 0; rd;) {
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
    if (rd)
        CloseHandle(rd);
    DWORD code = HP_EXIT_FAILED;
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    if (j && doc) {
        doc[n] = 0;
        if (!json_splice(j, doc) && n) /* not ours: say so rather than lose it */
            fprintf(stderr, "hotpe: %s: the 32-bit hotpe's output is not its JSON document\n",
                    o->verb);
    }
    free(doc);
    return (int)code;
}

/* Runs fn on every process of this hotpe, then hands the 32-bit ones on; exit code per
 * PRODUCT.md (3: some failed, or partly done). fn returns 0, 1 or 3 (partly done). */
typedef int (*per_process_fn)(const target *t, const void *arg, hp_json *j);

static int for_each_process(const live_opts *o, per_process_fn fn, const void *arg, hp_json *j)
{
    if (o->nnative + o->nhanded == 0) {
        char obj[300];
        snprintf(obj, sizeof obj, "%s", o->name ? o->name : o->module ? o->module : "target");
        return hp_cli_fail(obj, HP_E_NOT_FOUND, "no such process");
    }
    unsigned ok = 0, bad = 0, partly = 0;
    for (size_t i = 0; i < o->nnative; i++) {
        target t;
        hp_status s = open_target(&t, o->native[i]);
        int rc = s == HP_OK ? fn(&t, arg, j) : refuse(&t, NULL, NULL, s, NULL);
        close_target(&t);
        if (rc == HP_EXIT_PARTIAL)
            partly++;
        else if (rc)
            bad++;
        else
            ok++;
    }
    if (o->nhanded) {
        if (j)
            fflush(j->out);
        int rc = handoff(o, false, j);
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

/* for_each_process inside the verbs' one JSON document: {["patch",] "processes": [...]} */
static int for_each_process_doc(const live_opts *o, per_process_fn fn, const void *arg,
                                const char *patch)
{
    hp_json j;
    if (o->json) {
        hp_json_init(&j, stdout);
        hp_json_object_begin(&j);
        if (patch) {
            hp_json_key(&j, "patch");
            hp_json_str(&j, patch);
        }
        hp_json_key(&j, "processes");
        hp_json_array_begin(&j);
    }
    int rc = for_each_process(o, fn, arg, o->json ? &j : NULL);
    if (o->json) {
        hp_json_array_end(&j);
        hp_json_object_end(&j);
        hp_json_finish(&j);
    }
    return rc;
}

/* Select the processes; when every one is 32-bit and this hotpe is 64-bit, the whole command
 * goes to the 32-bit hotpe (true, *rc its exit code). */
static bool handed_whole(live_opts *o, int *rc)
{
    if (!select_targets(o) || o->nnative)
        return false;
    *rc = handoff(o, true, NULL);
    return true;
}

/* A patch that cannot be used by this hotpe while 32-bit processes go on: one refusal each. */
typedef struct patch_refusal {
    const char *patch;
    hp_status s;
    const char *detail;
} patch_refusal;

static int patch_refused_cb(const target *t, const void *arg, hp_json *j)
{
    (void)j;
    const patch_refusal *pr = arg;
    return refuse(t, pr->patch, NULL, pr->s, pr->detail);
}

static int apply_cb(const target *t, const void *arg, hp_json *j)
{
    return apply_one(t, arg, j);
}

/* Read a patch image and check what needs no process: format, sites, target name, this
 * hotpe's architecture. *err: a detail for the refusal, or NULL. */
static hp_status load_patch(patch_file *pf, const char *path, const char **err)
{
    pf->path = path;
    pf->out = stdout;
    *err = NULL;
    hp_status s = hp_cli_read_file(path, &pf->data, &pf->size, err);
    wchar_t wrel[HP_LIVE_PATH_MAX];
    if (s == HP_OK &&
        (!MultiByteToWideChar(CP_ACP, 0, path, -1, wrel, HP_LIVE_PATH_MAX) ||
         !GetFullPathNameW(wrel, HP_LIVE_PATH_MAX, pf->wpath, NULL)))
        s = HP_E_ARG, *err = "path too long";
    if (s == HP_OK)
        s = hp_live_patch_load(&pf->pi, &pf->arena, pf->data, pf->size);
    if (s == HP_OK)
        s = hp_live_sites(&pf->pi, pf->plan, HP_LIVE_MAX_SITES, &pf->nsites);
    if (s == HP_OK && !pf->pi.hotp.target_name)
        s = HP_E_LIVE_TARGET_NAME;
    if (s == HP_OK && pf->pi.pe.pe32plus != (sizeof(void *) == 8))
        s = HP_E_LIVE_ARCH, *err = "the patch is for the other architecture";
    return s;
}

static void free_patch(patch_file *pf)
{
    if (!pf)
        return;
    hp_arena_free(&pf->arena);
    free(pf->data);
    free(pf);
}

static int apply_or_check(int argc, char **argv, bool dry_run)
{
    live_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc || handed_whole(&o, &rc))
        return rc;
    patch_file *pf = calloc(1, sizeof *pf);
    if (!pf)
        return hp_cli_fail(o.patch, HP_E_NOMEM, NULL);
    const char *err;
    hp_status s = load_patch(pf, o.patch, &err);
    if (s == HP_OK) {
        pf->no_freeze = o.no_freeze;
        pf->dry_run = dry_run;
        rc = for_each_process_doc(&o, apply_cb, pf, o.patch);
    } else if (o.nhanded || s == HP_E_LIVE_ARCH) { /* per process: which ones refused it */
        patch_refusal pr = { o.patch, s, err };
        rc = for_each_process_doc(&o, patch_refused_cb, &pr, o.patch);
    } else {
        rc = hp_cli_fail(o.patch, s, err);
    }
    free_patch(pf);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* list                                                                                       */
/* ------------------------------------------------------------------------------------------ */

int hp_verb_apply(int argc, char **argv)
{
    return apply_or_check(argc, argv, false);
}

int hp_verb_check(int argc, char **argv)
{
    return apply_or_check(argc, argv, true);
}

static const char *site_state(uint8_t s)
{
    switch (s) {
    case HP_LIVE_SITE_WRITING: return "writing";
    case HP_LIVE_SITE_LIVE: return "live";
    case HP_LIVE_SITE_REVERTING: return "reverting";
    default: return "empty";
    }
}

static int list_cb(const target *t, const void *arg, hp_json *j)
{
    (void)arg;
    hp_live_registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return refuse(t, NULL, NULL, HP_E_NOMEM, NULL);
    uint64_t shim = 0;
    hp_status s = read_registry(t, &shim, reg);
    if (s != HP_OK) {
        free(reg);
        return refuse(t, HP_LIVE_SHIM_NAME, NULL, s, NULL);
    }
    uint32_t count = shim ? reg->count : 0;
    char path[HP_LIVE_PATH_MAX * 3];
    if (j) {
        hp_json_object_begin(j);
        hp_json_key(j, "pid");
        hp_json_u64(j, t->pid);
        hp_json_key(j, "shim");
        hp_json_bool(j, shim != 0);
        hp_json_key(j, "patches");
        hp_json_array_begin(j);
    } else {
        printf("pid %u: %u live patch%s%s\n", t->pid, count, count == 1 ? "" : "es",
               shim ? "" : " (no shim loaded)");
    }
    for (uint32_t i = 0; i < count; i++) {
        const hp_live_patch *p = &reg->patches[i];
        to_utf8(p->path, path, sizeof path);
        if (j) {
            hp_json_object_begin(j);
            hp_json_key(j, "id");
            hp_json_u64(j, p->id);
            hp_json_key(j, "sequence");
            hp_json_u64(j, p->sequence);
            hp_json_key(j, "target");
            hp_json_str(j, p->target_name);
            hp_json_key(j, "target_base");
            hp_json_u64(j, p->target_base);
            hp_json_key(j, "patch");
            hp_json_str(j, path);
            hp_json_key(j, "patch_base");
            hp_json_u64(j, p->patch_base);
            hp_json_key(j, "stub_page");
            hp_json_u64(j, p->slot_page);
            hp_json_key(j, "froze");
            hp_json_bool(j, (p->flags & HP_LIVE_PATCH_F_FROZE) != 0);
            hp_json_key(j, "sites");
            hp_json_array_begin(j);
        } else {
            printf("  patch %u  sequence %u  %s  %s  (%u sites)\n", p->id, p->sequence,
                   p->target_name, path, p->site_count);
        }
        for (uint32_t k = 0; k < p->site_count; k++) {
            const hp_live_site *st = &p->sites[k];
            char ob[40], nb[40];
            hex_bytes(ob, sizeof ob, st->orig_entry, 2);
            hex_bytes(nb, sizeof nb, st->new_entry, 2);
            if (j) {
                hp_json_object_begin(j);
                hp_json_key(j, "entry_rva");
                hp_json_u64(j, st->entry_rva);
                hp_json_key(j, "entry");
                hp_json_u64(j, st->entry_va);
                hp_json_key(j, "replacement");
                hp_json_u64(j, st->replacement_va);
                hp_json_key(j, "slot");
                hp_json_u64(j, st->slot_va);
                hp_json_key(j, "state");
                hp_json_str(j, site_state(st->state));
                hp_json_key(j, "original_entry");
                hp_json_str(j, ob);
                hp_json_key(j, "cfg");
                hp_json_str(j, hp_cfg_state_name(st->cfg));
                hp_json_object_end(j);
            } else {
                printf("    RVA 0x%08x  %-9s  entry %s -> %s  replacement 0x%llx\n", st->entry_rva,
                       site_state(st->state), ob, nb, (unsigned long long)st->replacement_va);
            }
        }
        if (j) {
            hp_json_array_end(j);
            hp_json_object_end(j);
        } else {
            uint8_t states[HP_LIVE_MAX_SITES];
            for (uint32_t k = 0; k < p->site_count; k++)
                states[k] = p->sites[k].cfg;
            print_cfg(stdout, "    ", states, p->site_count, 0);
        }
    }
    if (j) {
        hp_json_array_end(j);
        hp_json_object_end(j);
    }
    free(reg);
    return 0;
}

int hp_verb_list(int argc, char **argv)
{
    live_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc || handed_whole(&o, &rc))
        return rc;
    return for_each_process_doc(&o, list_cb, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* revert                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* Why a patch DLL stayed loaded (shim: HP_LIVE_KEPT_*, who: thread or patch id). */
static void kept_reason(char *out, size_t cap, uint32_t reason, uint32_t who)
{
    switch (reason) {
    case HP_LIVE_KEPT_IP:
        snprintf(out, cap, "thread %u is executing its code", who);
        break;
    case HP_LIVE_KEPT_STACK:
        snprintf(out, cap, "a return address into it on thread %u's stack", who);
        break;
    case HP_LIVE_KEPT_SHARED:
        snprintf(out, cap, "live patch %u is the same DLL", who);
        break;
    case HP_LIVE_KEPT_REFERENCED:
        snprintf(out, cap, "still loaded after releasing every reference (pinned)");
        break;
    default:
        snprintf(out, cap, "the threads could not be frozen or read");
        break;
    }
}

/* The file name of live patch id's DLL, from a registry copy taken before the revert. */
static void patch_dll_name(const hp_live_registry *reg, uint32_t id, char *out, size_t cap)
{
    snprintf(out, cap, "a patch DLL kept by an earlier revert");
    for (uint32_t i = 0; id && reg && i < reg->count && i < HP_LIVE_MAX_PATCHES; i++) {
        if (reg->patches[i].id != id)
            continue;
        char path[HP_LIVE_PATH_MAX * 3];
        to_utf8(reg->patches[i].path, path, sizeof path);
        const char *base = path;
        for (const char *c = path; *c; c++)
            if (*c == '\\' || *c == '/')
                base = c + 1;
        snprintf(out, cap, "%s", base);
    }
}

static int revert_cb(const target *t, const void *arg, hp_json *j)
{
    const live_opts *o = arg;
    uint64_t shim = find_module(t, HP_LIVE_SHIM_NAME, NULL);
    char detail[32];
    snprintf(detail, sizeof detail, "patch id %u", o->patch_id);
    if (!shim) {
        if (o->patch_id == HP_LIVE_REVERT_ALL) {
            if (j) {
                hp_json_object_begin(j);
                hp_json_key(j, "pid");
                hp_json_u64(j, t->pid);
                hp_json_key(j, "reverted");
                hp_json_u64(j, 0);
                hp_json_object_end(j);
            } else {
                printf("pid %u: no live patches\n", t->pid);
            }
            return 0;
        }
        return refuse(t, NULL, NULL, HP_E_LIVE_NO_PATCH, detail);
    }
    hp_live_request *req = calloc(1, sizeof *req);
    hp_live_registry *reg = o->unload ? calloc(1, sizeof *reg) : NULL;
    hp_live_result res;
    uint64_t shim_again = 0;
    if (!req || (o->unload && !reg)) {
        free(req);
        free(reg);
        return refuse(t, NULL, NULL, HP_E_NOMEM, NULL);
    }
    if (reg && read_registry(t, &shim_again, reg) != HP_OK)
        reg->count = 0; /* names only: the DLL is then "a patch DLL" */
    req->verb = HP_LIVE_VERB_REVERT;
    req->flags = (o->no_freeze ? HP_LIVE_REQ_F_NO_FREEZE : 0) | (o->unload ? HP_LIVE_REQ_F_UNLOAD : 0);
    req->patch_id = o->patch_id;
    hp_status s = run_request(t, req, &res);
    free(req);
    if (s != HP_OK && s != HP_E_LIVE_KEPT) {
        free(reg);
        return refuse(t, NULL, NULL, s, o->patch_id == HP_LIVE_REVERT_ALL ? NULL : detail);
    }
    bool kept = s == HP_E_LIVE_KEPT;
    char dll[HP_LIVE_PATH_MAX * 3], why[96] = "";
    if (kept) {
        patch_dll_name(reg, res.failing_site, dll, sizeof dll);
        kept_reason(why, sizeof why, res.failing_rva, res.win32_error);
    }
    free(reg);
    if (j) {
        hp_json_object_begin(j);
        hp_json_key(j, "pid");
        hp_json_u64(j, t->pid);
        hp_json_key(j, "reverted");
        hp_json_u64(j, res.patch_id);
        hp_json_key(j, "freeze_ns");
        hp_json_u64(j, res.freeze_ns);
        if (o->unload) {
            hp_json_key(j, "unloaded");
            hp_json_bool(j, !kept);
            hp_json_key(j, "kept");
            if (kept) {
                hp_json_object_begin(j);
                hp_json_key(j, "patch_id");
                hp_json_u64(j, res.failing_site);
                hp_json_key(j, "dll");
                hp_json_str(j, dll);
                hp_json_key(j, "reason");
                hp_json_str(j, why);
                hp_json_object_end(j);
            } else {
                hp_json_null(j);
            }
        }
        hp_json_object_end(j);
    } else {
        const char *unl = !o->unload ? "" : kept ? ", a patch DLL kept loaded" : ", patch DLL unloaded";
        if (o->patch_id == HP_LIVE_REVERT_ALL)
            printf("pid %u: reverted %u patch%s%s\n", t->pid, res.patch_id,
                   res.patch_id == 1 ? "" : "es", unl);
        else
            printf("pid %u: reverted patch %u (freeze %.1f us)%s\n", t->pid, o->patch_id,
                   (double)res.freeze_ns / 1e3, unl);
    }
    if (!kept)
        return HP_EXIT_OK;
    fflush(stdout);
    fprintf(stderr, "hotpe: pid %u: %s: kept loaded: %s\n", t->pid, dll, why);
    return HP_EXIT_PARTIAL;
}

int hp_verb_revert(int argc, char **argv)
{
    live_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc || handed_whole(&o, &rc))
        return rc;
    return for_each_process_doc(&o, revert_cb, &o, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* run                                                                                        */
/* ------------------------------------------------------------------------------------------ */

#define RUN_ENTRY_TIMEOUT_MS 60000

typedef LONG(NTAPI *query_process_fn)(HANDLE process, int cls, void *info, ULONG len, ULONG *ret);

/* The main image's base in a process that has not run yet: its PEB's ImageBaseAddress, the
 * third pointer of the PEB (the process has our bitness here). 0: unknown. */
static uint64_t run_image_base(HANDLE h)
{
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    FARPROC fp = ntdll ? GetProcAddress(ntdll, "NtQueryInformationProcess") : NULL;
    query_process_fn query = (query_process_fn)(void (*)(void))fp;
    PROCESS_BASIC_INFORMATION pbi;
    void *base = NULL;
    SIZE_T got = 0;
    if (!query || query(h, 0 /* ProcessBasicInformation */, &pbi, sizeof pbi, NULL) < 0 ||
        !ReadProcessMemory(h, (const uint8_t *)pbi.PebBaseAddress + 2 * sizeof(void *), &base,
                           sizeof base, &got) ||
        got != sizeof base)
        return 0;
    return (uint64_t)(uintptr_t)base;
}

/* Let the suspended main thread run the loader up to the entry point, where a jump to itself
 * holds it, and leave it suspended there with the entry's bytes back. */
static hp_status run_to_entry(HANDLE proc, HANDLE thread, uint64_t entry, char *detail,
                              size_t cap)
{
    uint8_t orig[2], loop[2];
    bool cfg_flags = true;
    if (hp_insn_jmp_rel8_encode(entry, entry, loop) != HP_OK ||
        hp_win_read(proc, entry, orig, 2) != HP_OK ||
        hp_win_write(proc, &cfg_flags, entry, loop, 2) != HP_OK) {
        snprintf(detail, cap, "its entry point at 0x%llx cannot be written",
                 (unsigned long long)entry);
        return HP_E_RUN_ENTRY;
    }
    ResumeThread(thread);
    DWORD t0 = GetTickCount();
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
        if (GetTickCount() - t0 > RUN_ENTRY_TIMEOUT_MS) {
            snprintf(detail, cap, "still loading after %u s", RUN_ENTRY_TIMEOUT_MS / 1000);
            return HP_E_RUN_ENTRY;   /* left suspended: the caller ends it */
        }
        ResumeThread(thread);
    }
    if (hp_win_write(proc, &cfg_flags, entry, orig, 2) != HP_OK) {
        snprintf(detail, cap, "its entry point's bytes cannot be put back");
        return HP_E_RUN_ENTRY;
    }
    return HP_OK;
}

int hp_verb_run(int argc, char **argv)
{
    run_opts r;
    int rc = parse_run(argc, argv, &r);
    if (rc)
        return rc;
    const char *program = argv[r.program];
    char detail[MAX_PATH + 64] = "";

    /* the program's file, as CreateProcess would find it, and its bitness and entry */
    wchar_t wprog[MAX_PATH], exe[MAX_PATH];
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
    bool x64 = s == HP_OK && pe.pe32plus;
    uint32_t entry_rva = s == HP_OK ? pe.entry_point : 0;
    if (s == HP_OK && (!entry_rva || (pe.characteristics & 0x2000 /* DLL */)))
        s = HP_E_RUN_START, err = "not a program with an entry point";
    hp_arena_free(&a);
    free(data);
    if (s != HP_OK)
        return hp_cli_fail(program, s, err);
    if (x64 != (sizeof(void *) == 8)) {
#ifdef _WIN64
        live_opts o = { .verb = argv[0], .argc = argc, .argv = argv };
        return handoff(&o, true, NULL); /* a 32-bit program: the 32-bit hotpe runs it all */
#else
        return hp_cli_fail(program, HP_E_LIVE_ARCH, NULL);
#endif
    }

    /* every patch is read and checked before the program starts */
    patch_file *pfs[RUN_MAX_PATCHES] = { 0 };
    rc = HP_EXIT_OK;
    for (size_t i = 0; i < r.npatches && rc == HP_EXIT_OK; i++) {
        if (!(pfs[i] = calloc(1, sizeof *pfs[i]))) {
            rc = hp_cli_fail(r.patches[i], HP_E_NOMEM, NULL);
        } else if ((s = load_patch(pfs[i], r.patches[i], &err)) != HP_OK) {
            rc = hp_cli_fail(r.patches[i], s, err);
        } else {
            pfs[i]->out = stderr;
            pfs[i]->no_freeze = r.no_freeze;
        }
    }

    enum { CMD_MAX = 32768 };
    wchar_t *cmd = rc == HP_EXIT_OK ? malloc(CMD_MAX * sizeof *cmd) : NULL;
    size_t len = 0;
    bool fits = cmd != NULL;
    for (int i = r.program; fits && i < argc; i++)
        fits = i == r.program ? append_arg(cmd, CMD_MAX, &len, exe)
                              : append_arg_a(cmd, CMD_MAX, &len, argv[i]);
    PROCESS_INFORMATION pi = { 0 };
    if (rc == HP_EXIT_OK && !fits) {
        rc = hp_cli_fail(program, HP_E_RUN_START, cmd ? "command line too long" : "out of memory");
    } else if (rc == HP_EXIT_OK) {
        STARTUPINFOW si = { 0 };
        si.cb = sizeof si;
        si.dwFlags = STARTF_USESTDHANDLES;
        si.hStdInput = inheritable(STD_INPUT_HANDLE);
        si.hStdOutput = inheritable(STD_OUTPUT_HANDLE);
        si.hStdError = inheritable(STD_ERROR_HANDLE);
        fflush(stdout);
        fflush(stderr);
        if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi)) {
            snprintf(detail, sizeof detail, "error %lu", GetLastError());
            rc = hp_cli_fail(program, HP_E_RUN_START, detail);
        }
        for (HANDLE *h = &si.hStdInput; h <= &si.hStdError; h++)
            if (*h)
                CloseHandle(*h);
    }
    free(cmd);

    if (rc == HP_EXIT_OK) {
        target t = { .pid = pi.dwProcessId };
        snprintf(t.object, sizeof t.object, "pid %lu", pi.dwProcessId);
        uint64_t base = run_image_base(pi.hProcess);
        s = base ? run_to_entry(pi.hProcess, pi.hThread, base + entry_rva, detail, sizeof detail)
                 : (snprintf(detail, sizeof detail, "its image base cannot be read"),
                    HP_E_RUN_ENTRY);
        if (s != HP_OK) {
            char obj[MAX_PATH + 32];
            snprintf(obj, sizeof obj, "%s: %s", t.object, program);
            rc = hp_cli_fail(obj, s, detail);
        }
        for (size_t i = 0; i < r.npatches && rc == HP_EXIT_OK; i++) {
            s = open_target(&t, pi.dwProcessId);
            rc = s == HP_OK ? apply_one(&t, pfs[i], NULL) : refuse(&t, NULL, NULL, s, NULL);
            close_target(&t);
        }
        if (rc != HP_EXIT_OK) {
            TerminateProcess(pi.hProcess, HP_EXIT_FAILED); /* before its own code ran */
            WaitForSingleObject(pi.hProcess, 5000);
        } else {
            ResumeThread(pi.hThread);
            if (r.detach) {
                printf("pid %lu\n", pi.dwProcessId);
            } else {
                DWORD code = HP_EXIT_FAILED;
                WaitForSingleObject(pi.hProcess, INFINITE);
                GetExitCodeProcess(pi.hProcess, &code);
                rc = (int)code;
            }
        }
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    }
    for (size_t i = 0; i < r.npatches; i++)
        free_patch(pfs[i]);
    return rc;
}

#endif /* _WIN32 */
