/*
 * hotpe install PATCH.dll [--image PATH]... [--json] and hotpe uninstall PATCH [--json]: a
 * patch for the whole machine (docs/install.md). install keeps a copy of the patch and names it
 * in HKLM (engine/installed.h), gives each image file of its target hotpe's import (pe/setdll.c:
 * the loader then brings hotpe-shim.dll in before the image's code runs, and the shim applies
 * what is installed), and applies it to every running process that has the target loaded.
 * uninstall undoes each step, newest first, and brings back the patch it had superseded when
 * that one is still installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"

const char hp_verb_install_help[] =
    "usage: hotpe install PATCH.dll [--image PATH]... [--json]\n"
    "\n"
    "Installs a patch for the whole machine: every running process that has its target loaded\n"
    "gets it now (as `hotpe apply --module TARGET` would do), and every process that loads the\n"
    "target later runs it from its first call. install\n"
    "  - checks the patch as apply does (its signature against `hotpe trust`, its format);\n"
    "  - keeps a copy in %ProgramData%\\hotpe\\patches\\NAME.dll and registers it under\n"
    "    HKLM\\Software\\hotpe\\Installed\\NAME with the copy's SHA-256 (NAME: `hotpe info`);\n"
    "  - places hotpe-shim.dll in the system folder, and gives each image file of the target\n"
    "    (the files running processes loaded it from, and each --image PATH) an import of\n"
    "    hotpe-shim.dll, keeping the original beside it as FILE.hotpe-orig: a process that\n"
    "    loads that file loads the shim first, which applies the installed patch before the\n"
    "    image's own code runs. An image file of another build is reported and left alone;\n"
    "  - applies the patch to every running process that has the target loaded.\n"
    "Installing what is installed already is done (exit 0), and applies it where it is not live.\n"
    "Needs an administrator (HKLM and the system folder). Every limit: docs/install.md.\n"
    "\n"
    "  --image PATH  also cover this image file of the target (repeatable): for a program no\n"
    "                process runs now\n"
    "  --json        one JSON document (docs/json.md)\n"
    "\n"
    "Exit codes: 0 installed and applied everywhere, 1 refused (nothing installed) or failed,\n"
    "2 bad usage, 3 partly done (some process refused it, or later processes are not covered:\n"
    "no image file of the target found, or one could not be given the import).\n";

const char hp_verb_uninstall_help[] =
    "usage: hotpe uninstall PATCH [--json]\n"
    "\n"
    "Uninstalls a patch installed with `hotpe install`: unregisters it, gives each image file it\n"
    "covered its original bytes back (unless another installed patch still covers it), reverts\n"
    "it in every process where it is live, and, when it had superseded another installed patch\n"
    "of the same target, applies that one again in those processes (the line says which patch\n"
    "is live now). A process started after uninstall runs the original, or that older patch.\n"
    "PATCH is the patch's name (`hotpe info`, `hotpe status`) or its file. A patch that is not\n"
    "installed: nothing to do (exit 0).\n"
    "\n"
    "  --json   one JSON document (docs/json.md)\n"
    "\n"
    "Exit codes: 0 done, 1 failed, 2 bad usage, 3 partly done (some process could not revert).\n";

/* The verbs' arguments: one operand, --json, and install's --image (repeatable). */
typedef struct inst_args {
    const char *patch;
    const char **images;
    size_t nimages;
    bool json;
} inst_args;

static int parse(int argc, char **argv, bool install, inst_args *ia)
{
    enum { JSON, IMAGE };
    hp_args_opt opts[] = { [JSON] = { "--json", false }, [IMAGE] = { "--image", true },
                           { NULL, false } };
    if (!install)
        opts[IMAGE] = opts[IMAGE + 1];
    memset(ia, 0, sizeof *ia);
    hp_args a;
    const char *v;
    int k;
    hp_args_init(&a, argc, argv);
    while ((k = hp_args_next(&a, opts, &v)) != HP_ARGS_END) {
        switch (k) {
        case HP_ARGS_BAD:
            return HP_EXIT_USAGE;
        case JSON: ia->json = true; break;
        case IMAGE: {
            const char **more = realloc(ia->images, (ia->nimages + 1) * sizeof *more);
            if (!more)
                return hp_cli_fail(argv[0], HP_E_NOMEM, NULL);
            ia->images = more;
            ia->images[ia->nimages++] = v;
            break;
        }
        case HP_ARGS_OPERAND:
            if (ia->patch)
                return hp_cli_usage(argv[0], "too many arguments");
            ia->patch = v;
            break;
        default:
            break;
        }
    }
    if (!ia->patch)
        return hp_cli_usage(argv[0], install ? "missing PATCH.dll" : "missing PATCH (a name or a file)");
    return 0;
}

#ifndef _WIN32

static int native(int argc, char **argv, bool install)
{
    inst_args ia;
    int rc = parse(argc, argv, install, &ia);
    free(ia.images);
    return rc ? rc : hp_cli_fail(argv[0], HP_E_LIVE_NEEDS_WINDOWS, NULL);
}

int hp_verb_install(int argc, char **argv) { return native(argc, argv, true); }
int hp_verb_uninstall(int argc, char **argv) { return native(argc, argv, false); }

#else /* _WIN32 */

#include <windows.h>
#include <tlhelp32.h>
#include <wchar.h>

#include "hotpe/engine/installed.h"
#include "hotpe/engine/wire.h"
#include "hotpe/pe/file.h"
#include "hotpe/pe/pe.h"
#include "install.h"
#include "print.h"
#include "shimclient.h"
#include "target.h"

#define ORIG_SUFFIX L".hotpe-orig"
#define NEW_SUFFIX L".hotpe-new"

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* %ProgramData%\hotpe\patches, created. */
static hp_status store_dir(wchar_t *out, size_t cap)
{
    wchar_t base[MAX_PATH];
    DWORD n = GetEnvironmentVariableW(L"ProgramData", base, MAX_PATH);
    if (!n || n >= MAX_PATH)
        wcscpy(base, L"C:\\ProgramData");
    if (_snwprintf(out, cap, L"%ls\\hotpe", base) < 0)
        return HP_E_ARG;
    CreateDirectoryW(out, NULL);
    if (_snwprintf(out, cap, L"%ls\\hotpe\\patches", base) < 0)
        return HP_E_ARG;
    CreateDirectoryW(out, NULL);
    DWORD attr = GetFileAttributesW(out);
    return attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY) ? HP_OK
                                                                                 : HP_E_IO_WRITE;
}

/* Move from over to, in one rename. Windows refuses to replace a file a process has mapped as
 * an image, but lets it be renamed: then the old file steps aside first (FILE.hotpe-old-N,
 * deleted when nothing maps it any more, at the latest at the next boot). */
static bool move_over(const wchar_t *from, const wchar_t *to)
{
    if (MoveFileExW(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        return true;
    wchar_t aside[HP_WIRE_PATH_MAX + 40];
    _snwprintf(aside, HP_WIRE_PATH_MAX + 40, L"%ls.hotpe-old-%llu", to,
               (unsigned long long)GetTickCount64());
    if (!MoveFileExW(to, aside, 0))
        return false;
    if (!MoveFileExW(from, to, MOVEFILE_WRITE_THROUGH)) {
        MoveFileExW(aside, to, 0);
        return false;
    }
    if (!DeleteFileW(aside))
        MoveFileExW(aside, NULL, MOVEFILE_DELAY_UNTIL_REBOOT);
    return true;
}

/* path gets these bytes as one rename: a process that has the old file mapped keeps it, one
 * that opens path later sees the new bytes whole. */
static hp_status write_replace(const wchar_t *path, const void *data, size_t n)
{
    wchar_t tmp[HP_WIRE_PATH_MAX + 16];
    if (_snwprintf(tmp, HP_WIRE_PATH_MAX + 16, L"%ls" NEW_SUFFIX, path) < 0)
        return HP_E_ARG;
    HANDLE h = CreateFileW(tmp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return HP_E_IO_WRITE;
    DWORD put = 0;
    bool ok = WriteFile(h, data, (DWORD)n, &put, NULL) && put == n && FlushFileBuffers(h);
    CloseHandle(h);
    if (!ok || !move_over(tmp, path)) {
        DeleteFileW(tmp);
        return HP_E_IO_WRITE;
    }
    return HP_OK;
}

/* A whole file (UTF-16 path), malloc'd. */
static hp_status read_w(const wchar_t *path, uint8_t **data, size_t *size)
{
    char p[HP_WIRE_PATH_MAX * 3];
    int err;
    hp_print_utf8((const uint16_t *)path, p, sizeof p);
    return hp_file_read(p, data, size, &err);
}

/* hotpe-shim.dll in the system folder, the one beside this hotpe: images name it by its file
 * name alone, and the loader looks there. */
static hp_status place_shim(void)
{
    wchar_t src[MAX_PATH], dst[MAX_PATH];
    UINT n = GetSystemDirectoryW(dst, MAX_PATH);
    if (hp_shimc_shim_path(src, MAX_PATH) != HP_OK || !n || n + 20 > MAX_PATH)
        return HP_E_INST_SHIM;
    wcscat(dst, L"\\" HP_WIRE_SHIM_NAME);
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    hp_status s = read_w(src, &a, &na);
    bool same = s == HP_OK && read_w(dst, &b, &nb) == HP_OK && na == nb && memcmp(a, b, na) == 0;
    if (s == HP_OK && !same)
        s = write_replace(dst, a, na);
    free(a);
    free(b);
    return s == HP_OK ? HP_OK : HP_E_INST_SHIM;
}

/* ------------------------------------------------------------------------------------------ */
/* The machine's registry of installed patches                                                */
/* ------------------------------------------------------------------------------------------ */

static void widen(const char *s, wchar_t *out, size_t cap)
{
    if (!MultiByteToWideChar(CP_UTF8, 0, s, -1, out, (int)cap))
        out[0] = 0;
}

#define KEY_PATH_MAX (sizeof HP_INST_KEY / sizeof(wchar_t) + HP_PATCH_NAME_MAX + 1)

/* HKLM\Software\hotpe\Installed\NAME's path below HKLM. */
static void key_path(const char *name, wchar_t sub[KEY_PATH_MAX])
{
    wchar_t wname[HP_PATCH_NAME_MAX];
    widen(name, wname, HP_PATCH_NAME_MAX);
    _snwprintf(sub, KEY_PATH_MAX, L"%ls\\%ls", HP_INST_KEY, wname);
}

/* The key, opened for writing (created) or reading. */
static hp_status key_open(const char *name, bool write, HKEY *k)
{
    wchar_t sub[KEY_PATH_MAX];
    key_path(name, sub);
    LSTATUS e = write ? RegCreateKeyExW(HKEY_LOCAL_MACHINE, sub, 0, NULL, 0,
                                        KEY_READ | KEY_SET_VALUE | KEY_WOW64_64KEY, NULL, k, NULL)
                      : RegOpenKeyExW(HKEY_LOCAL_MACHINE, sub, 0, KEY_READ | KEY_WOW64_64KEY, k);
    return e == ERROR_SUCCESS ? HP_OK : e == ERROR_FILE_NOT_FOUND ? HP_E_INST_NOT_INSTALLED
                                                                  : HP_E_INST_STORE;
}

static hp_status key_write(const char *name, const hp_apply_patch *pf, const wchar_t *file)
{
    HKEY k;
    HP_CHECK(key_open(name, true, &k));
    wchar_t target[HP_WIRE_NAME_MAX];
    widen(pf->pi.hotp.target_name, target, HP_WIRE_NAME_MAX);
    DWORD seq = pf->pi.pb.rec.Sequence, machine = pf->pi.pe.machine;
    FILETIME now;
    GetSystemTimeAsFileTime(&now);
    /* the hash last: a reader takes a key whose values are all there */
    bool ok = RegSetValueExW(k, HP_INST_TARGET, 0, REG_SZ, (const BYTE *)target,
                             (DWORD)((wcslen(target) + 1) * sizeof(wchar_t))) == ERROR_SUCCESS &&
              RegSetValueExW(k, HP_INST_SEQUENCE, 0, REG_DWORD, (const BYTE *)&seq, sizeof seq) == ERROR_SUCCESS &&
              RegSetValueExW(k, HP_INST_MACHINE, 0, REG_DWORD, (const BYTE *)&machine, sizeof machine) == ERROR_SUCCESS &&
              RegSetValueExW(k, HP_INST_FILE, 0, REG_SZ, (const BYTE *)file,
                             (DWORD)((wcslen(file) + 1) * sizeof(wchar_t))) == ERROR_SUCCESS &&
              RegSetValueExW(k, HP_INST_WHEN, 0, REG_QWORD, (const BYTE *)&now, sizeof now) == ERROR_SUCCESS &&
              RegSetValueExW(k, HP_INST_SHA256, 0, REG_BINARY, pf->sha256, HP_SHA256_LEN) == ERROR_SUCCESS;
    RegCloseKey(k);
    return ok ? HP_OK : HP_E_INST_STORE;
}

/* The image files a key lists (REG_MULTI_SZ), as one malloc'd block of NUL-separated strings
 * ending in an empty one; NULL when none. */
static wchar_t *key_images(const char *name)
{
    HKEY k;
    if (key_open(name, false, &k) != HP_OK)
        return NULL;
    DWORD type = 0, bytes = 0;
    wchar_t *v = NULL;
    if (RegQueryValueExW(k, HP_INST_IMAGES, NULL, &type, NULL, &bytes) == ERROR_SUCCESS &&
        type == REG_MULTI_SZ && bytes && (v = calloc(bytes / sizeof(wchar_t) + 2, sizeof *v)) &&
        RegQueryValueExW(k, HP_INST_IMAGES, NULL, &type, (BYTE *)v, &bytes) != ERROR_SUCCESS) {
        free(v);
        v = NULL;
    }
    RegCloseKey(k);
    return v;
}

/* Set the key's image list (len units of NUL-separated strings; a last NUL is added). */
static void key_set_images(const char *name, const wchar_t *list, size_t len)
{
    HKEY k;
    if (key_open(name, true, &k) != HP_OK)
        return;
    RegSetValueExW(k, HP_INST_IMAGES, 0, REG_MULTI_SZ, (const BYTE *)list,
                   (DWORD)((len + 1) * sizeof(wchar_t)));
    RegCloseKey(k);
}

static bool images_has(const wchar_t *list, const wchar_t *path)
{
    for (const wchar_t *p = list; p && *p; p += wcslen(p) + 1)
        if (_wcsicmp(p, path) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Image files                                                                                */
/* ------------------------------------------------------------------------------------------ */

/* A list of paths. */
typedef struct paths {
    wchar_t (*at)[HP_WIRE_PATH_MAX];
    size_t n;
} paths;

static bool paths_add(paths *p, const wchar_t *path)
{
    for (size_t i = 0; i < p->n; i++)
        if (_wcsicmp(p->at[i], path) == 0)
            return true;
    void *more = realloc(p->at, (p->n + 1) * sizeof *p->at);
    if (!more)
        return false;
    p->at = more;
    wcsncpy(p->at[p->n], path, HP_WIRE_PATH_MAX - 1);
    p->at[p->n++][HP_WIRE_PATH_MAX - 1] = 0;
    return true;
}

/* The files every process of this hotpe's width loaded target from. */
static void images_running(const char *target, paths *out)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32W pe = { .dwSize = sizeof pe };
    if (snap == INVALID_HANDLE_VALUE)
        return;
    for (BOOL more = Process32FirstW(snap, &pe); more; more = Process32NextW(snap, &pe)) {
        HANDLE ms = CreateToolhelp32Snapshot(TH32CS_SNAPMODULE, pe.th32ProcessID);
        MODULEENTRY32W me = { .dwSize = sizeof me };
        if (ms == INVALID_HANDLE_VALUE)
            continue;
        for (BOOL m = Module32FirstW(ms, &me); m; m = Module32NextW(ms, &me)) {
            char name[MAX_MODULE_NAME32 * 3 + 1];
            hp_print_utf8((const uint16_t *)me.szModule, name, sizeof name);
            if (hp_patch_same_module(name, target)) {
                paths_add(out, me.szExePath);
                break;
            }
        }
        CloseHandle(ms);
    }
    CloseHandle(snap);
}

/* What became of one image file. */
typedef struct image_outcome {
    const char *state;       /* "covered": it carried hotpe's import already; "rewritten";
                                "other-build"; "failed" */
    hp_status s;
    const char *detail;
} image_outcome;

/* Give one image file of the target hotpe's import, when it is the patch's base. */
static image_outcome cover_image(const hp_apply_patch *pf, const wchar_t *path)
{
    image_outcome o = { "failed", HP_OK, NULL };
    uint8_t *data = NULL, *out = NULL;
    size_t size = 0, out_size = 0;
    hp_arena a = HP_ARENA_INIT;
    hp_pe pe;
    hp_pe_setdll mark;
    hp_patch_failure why = { 0 };
    if ((o.s = read_w(path, &data, &size)) != HP_OK) {
        o.detail = "cannot read it";
    } else if ((o.s = hp_pe_parse(&pe, &a, data, size, HP_PE_LAYOUT_FILE)) != HP_OK) {
        o.detail = "not a PE image";
    } else if ((o.s = hp_patch_check(&pf->pi, &pe, pf->pi.hotp.target_name, NULL, &a, &why)) != HP_OK) {
        o.state = "other-build";
        o.detail = why.what;
    } else if (hp_pe_setdll_find(&pe, &mark) == HP_OK) {
        o.state = "covered";
    } else if ((o.s = hp_pe_setdll_add(&pe, HP_WIRE_SHIM_NAME, HP_WIRE_REGISTRY_EXPORT, &out,
                                       &out_size)) != HP_OK) {
        o.detail = "cannot add the import";
    } else {
        /* the original stays beside it, for uninstall; then the new bytes in one rename */
        wchar_t orig[HP_WIRE_PATH_MAX + 16];
        _snwprintf(orig, HP_WIRE_PATH_MAX + 16, L"%ls" ORIG_SUFFIX, path);
        if (!CopyFileW(path, orig, FALSE))
            o.s = HP_E_IO_WRITE, o.detail = "cannot keep the original beside it";
        else if ((o.s = write_replace(path, out, out_size)) != HP_OK)
            o.detail = "cannot replace it (in use, or no right to)";
        else
            o.state = "rewritten";
    }
    free(out);
    free(data);
    hp_arena_free(&a);
    return o;
}

/* Give path its original bytes back (FILE.hotpe-orig); HP_OK also when there is no original
 * kept (an install killed before it rewrote that file). */
static hp_status restore_image(const wchar_t *path)
{
    wchar_t orig[HP_WIRE_PATH_MAX + 16];
    _snwprintf(orig, HP_WIRE_PATH_MAX + 16, L"%ls" ORIG_SUFFIX, path);
    if (GetFileAttributesW(orig) == INVALID_FILE_ATTRIBUTES)
        return HP_OK;
    return move_over(orig, path) ? HP_OK : HP_E_IO_WRITE;
}

/* ------------------------------------------------------------------------------------------ */
/* Running processes                                                                          */
/* ------------------------------------------------------------------------------------------ */

/* apply, where a process of another build of the target is not applicable, not a failure:
 * the patch is for one build, and the machine may run others. */
static int apply_cb(const hp_target *t, const void *arg, hp_json *j)
{
    const hp_apply_patch *pf = arg;
    hp_target_verdict v = { HP_OK, "", false };
    hp_target q = *t;
    q.verdict = &v;
    int rc = hp_apply_one(&q, pf, j);
    if (v.s == HP_OK)
        return rc;
    if (v.s != HP_E_LIVE_IDENTITY)
        return hp_target_refuse_line(t, v.s, v.line);
    if (j) {
        hp_target_json_begin(t, j, "other-build");
        hp_json_key(j, "message");
        hp_json_str(j, v.line);
        hp_json_object_end(j);
    } else {
        hp_outbuf_printf(t->out, pf->out, "%s: %s: another build: not applicable (%s)\n",
                         t->object, pf->pi.hotp.target_name, v.line);
    }
    return HP_EXIT_OK;
}

int hp_install_apply_running(hp_apply_patch *pf, const uint32_t *pids, size_t npids, hp_json *j)
{
    /* what `hotpe apply --module TARGET FILE` does; its arguments are what a hand-off to the
     * 32-bit hotpe passes on */
    char file[HP_WIRE_PATH_MAX * 3];
    hp_print_utf8((const uint16_t *)pf->wpath, file, sizeof file);
    char *argv[] = { "apply", "--module", (char *)pf->pi.hotp.target_name, file, "--json", NULL };
    hp_target_opts o = { .verb = "apply", .module = pf->pi.hotp.target_name, .patch = file,
                         .json = j != NULL, .every = true, .jobs = HP_TARGET_JOBS,
                         .argc = j ? 5 : 4, .argv = argv };
    if (pids) {
        o.module = NULL;
        o.pids = (uint32_t *)pids;
        o.npids = npids;
    }
    hp_target_select(&o);
    int rc = hp_target_each(&o, apply_cb, pf, j);
    o.pids = NULL; /* not ours */
    o.npids = 0;
    hp_target_opts_free(&o);
    return rc;
}

int hp_install_restack(const char *target, uint32_t below, const uint8_t *except,
                       const uint32_t *pids, size_t npids, hp_json *j, char *live, size_t cap)
{
    hp_inst *list;
    uint32_t n;
    live[0] = 0;
    if (hp_inst_read(&list, &n) != HP_OK)
        return HP_EXIT_OK;
    const hp_inst *e = NULL;
    for (uint32_t i = 0; i < n && !e; i++) /* newest first within a target */
        if (_stricmp(list[i].target, target) == 0 && list[i].sequence < below &&
            (!except || memcmp(list[i].sha256, except, HP_SHA256_LEN) != 0))
            e = &list[i];
    int rc = HP_EXIT_OK;
    if (e) {
        char file[HP_WIRE_PATH_MAX * 3];
        const char *err;
        hp_print_utf8(e->file, file, sizeof file);
        hp_apply_patch *pf = calloc(1, sizeof *pf);
        hp_status s = pf ? hp_apply_load(pf, file, &err) : HP_E_NOMEM;
        if (s != HP_OK)
            rc = hp_cli_fail(e->name, s, err);
        else
            rc = hp_install_apply_running(pf, pids, npids, j);
        hp_apply_free(pf);
        snprintf(live, cap, "%s", e->name);
    }
    free(list);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* install                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* The worse of two exit codes: failed over partly over done. */
static int worse(int a, int b)
{
    if (a == HP_EXIT_FAILED || b == HP_EXIT_FAILED)
        return HP_EXIT_FAILED;
    return a ? a : b;
}

static int install(const inst_args *ia, int argc, char **argv)
{
    hp_apply_patch *pf = calloc(1, sizeof *pf);
    const char *err = NULL;
    hp_status s = pf ? hp_apply_load(pf, ia->patch, &err) : HP_E_NOMEM;
    if (s == HP_E_LIVE_PATCH_ARCH && sizeof(void *) == 8) {
        /* a 32-bit patch: the 32-bit hotpe installs it (its shim, its processes) */
        hp_apply_free(pf);
        hp_target_opts o = { .verb = argv[0], .argc = argc, .argv = argv };
        return hp_target_handoff(&o, true, NULL);
    }
    if (s != HP_OK) {
        hp_apply_free(pf);
        return hp_cli_fail(ia->patch, s, err);
    }
    char name[HP_PATCH_NAME_MAX];
    const char *target = pf->pi.hotp.target_name;
    hp_patch_name(name, target, pf->pi.pb.rec.Sequence, pf->sha256);

    /* 1. the copy and the key: from here a process that loads a covered image gets it */
    wchar_t file[HP_WIRE_PATH_MAX], wname[HP_PATCH_NAME_MAX];
    HKEY k;
    bool already = key_open(name, false, &k) == HP_OK;
    if (already)
        RegCloseKey(k);
    widen(name, wname, HP_PATCH_NAME_MAX);
    s = store_dir(file, HP_WIRE_PATH_MAX);
    if (s == HP_OK && wcslen(file) + wcslen(wname) + 6 > HP_WIRE_PATH_MAX)
        s = HP_E_ARG;
    if (s == HP_OK) {
        wcscat(wcscat(wcscat(file, L"\\"), wname), L".dll");
        s = write_replace(file, pf->data, pf->size);
    }
    if (s == HP_OK)
        s = place_shim();
    if (s == HP_OK)
        s = key_write(name, pf, file);
    if (s != HP_OK) {
        hp_apply_free(pf);
        return hp_cli_fail(name, s, s == HP_E_IO_WRITE ? "the patch's copy under %ProgramData%\\hotpe\\patches" : NULL);
    }
    /* the processes load the copy: the path is the same everywhere and stays */
    wcscpy(pf->wpath, file);

    hp_json jd, *j = NULL;
    if (ia->json) {
        j = &jd;
        hp_json_doc_begin(j, stdout);
        hp_json_key(j, "name");
        hp_json_str(j, name);
        hp_json_key(j, "target");
        hp_json_str(j, target);
        hp_json_key(j, "sequence");
        hp_json_u64(j, pf->pi.pb.rec.Sequence);
        hp_json_key(j, "file");
        char f8[HP_WIRE_PATH_MAX * 3];
        hp_print_utf8((const uint16_t *)file, f8, sizeof f8);
        hp_json_str(j, f8);
        hp_json_key(j, "already_installed");
        hp_json_bool(j, already);
        hp_json_key(j, "images");
        hp_json_array_begin(j);
    } else {
        printf("%s: %s %s\n", name, already ? "installed already, as" : "installed:", ia->patch);
    }

    /* 2. the image files: processes started from now on load the shim with them */
    paths imgs = { 0 };
    int rc = HP_EXIT_OK;
    for (size_t i = 0; i < ia->nimages; i++) {
        wchar_t w[HP_WIRE_PATH_MAX], full[HP_WIRE_PATH_MAX];
        if (MultiByteToWideChar(CP_ACP, 0, ia->images[i], -1, w, HP_WIRE_PATH_MAX) &&
            GetFullPathNameW(w, HP_WIRE_PATH_MAX, full, NULL))
            paths_add(&imgs, full);
    }
    wchar_t *listed = key_images(name);
    for (const wchar_t *p = listed; p && *p; p += wcslen(p) + 1) /* an earlier install's */
        paths_add(&imgs, p);
    images_running(target, &imgs);
    size_t covered = 0, list_len = 0;
    wchar_t *list = calloc(imgs.n * HP_WIRE_PATH_MAX + 1, sizeof *list);
    for (size_t i = 0; i < imgs.n; i++) {
        image_outcome o = cover_image(pf, imgs.at[i]);
        char p8[HP_WIRE_PATH_MAX * 3];
        hp_print_utf8((const uint16_t *)imgs.at[i], p8, sizeof p8);
        bool ok = strcmp(o.state, "rewritten") == 0 || strcmp(o.state, "covered") == 0;
        if (ok && list) { /* this patch's images, for uninstall: kept as each is done */
            wcscpy(list + list_len, imgs.at[i]);
            list_len += wcslen(imgs.at[i]) + 1;
            covered++;
            key_set_images(name, list, list_len);
        }
        if (j) {
            hp_json_object_begin(j);
            hp_json_key(j, "path");
            hp_json_str(j, p8);
            hp_json_key(j, "state");
            hp_json_str(j, o.state);
            hp_json_key(j, "reason");
            if (ok) {
                hp_json_null(j);
            } else {
                char m[512];
                hp_cli_message(m, sizeof m, p8, o.s != HP_OK ? o.s : HP_E_INST_OTHER_BUILD, o.detail);
                hp_json_str(j, m);
            }
            hp_json_object_end(j);
        } else if (ok) {
            printf("%s: image %s: %s\n", name, p8,
                   strcmp(o.state, "covered") == 0 || images_has(listed, imgs.at[i])
                       ? "covered already: processes started from it run the patch"
                       : "hotpe's import added: processes started from it run the patch");
        } else if (strcmp(o.state, "other-build") == 0) {
            fflush(stdout);
            hp_cli_fail(p8, HP_E_INST_OTHER_BUILD, o.detail);
        } else {
            fflush(stdout);
            hp_cli_fail(p8, o.s != HP_OK ? o.s : HP_E_INST_IMAGE, o.detail);
            rc = HP_EXIT_PARTIAL;
        }
    }
    free(listed);
    free(list);
    free(imgs.at);
    if (j) {
        hp_json_array_end(j);
        hp_json_key(j, "later_processes_covered");
        hp_json_bool(j, covered > 0);
    } else if (!covered) {
        fflush(stdout);
        hp_cli_fail(name, HP_E_INST_NO_IMAGE, target);
    }
    if (!covered)
        rc = HP_EXIT_PARTIAL;

    /* 3. the running processes */
    if (j) {
        hp_json_key(j, "processes");
        hp_json_array_begin(j);
    }
    int arc = hp_install_apply_running(pf, NULL, 0, j);
    if (j) {
        hp_json_array_end(j);
        hp_json_doc_end(j);
    }
    hp_apply_free(pf);
    return worse(rc, arc);
}

/* ------------------------------------------------------------------------------------------ */
/* uninstall                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* The installed patch PATCH names (a name, or a file with those bytes). */
static hp_status find_installed(const char *ref, hp_inst *out)
{
    uint8_t sha[HP_SHA256_LEN];
    bool by_name = hp_patch_name_shaped(ref);
    if (!by_name) {
        uint8_t *data;
        size_t size;
        const char *detail;
        hp_status s = hp_cli_read_file(ref, &data, &size, &detail);
        if (s != HP_OK)
            return s;
        s = hp_sha256_of(data, size, sha);
        free(data);
        HP_CHECK(s);
    }
    hp_inst *list;
    uint32_t n;
    HP_CHECK(hp_inst_read(&list, &n) == HP_OK ? HP_OK : HP_E_INST_STORE);
    hp_status s = HP_E_INST_NOT_INSTALLED;
    for (uint32_t i = 0; i < n && s != HP_OK; i++)
        if (by_name ? hp_patch_name_matches(ref, list[i].target, list[i].sequence, list[i].sha256)
                    : memcmp(list[i].sha256, sha, HP_SHA256_LEN) == 0) {
            *out = list[i];
            s = HP_OK;
        }
    free(list);
    return s;
}

/* Whether another installed patch still lists image path. */
static bool image_still_used(const char *except, const wchar_t *path)
{
    hp_inst *list;
    uint32_t n;
    bool used = false;
    if (hp_inst_read(&list, &n) != HP_OK)
        return true; /* unsure: leave it covered */
    for (uint32_t i = 0; i < n && !used; i++) {
        if (strcmp(list[i].name, except) == 0)
            continue;
        wchar_t *imgs = key_images(list[i].name);
        used = images_has(imgs, path);
        free(imgs);
    }
    free(list);
    return used;
}

static int uninstall(const inst_args *ia)
{
    hp_inst e;
    hp_status s = find_installed(ia->patch, &e);
    if (s == HP_E_INST_NOT_INSTALLED) {
        if (ia->json) {
            hp_json j;
            hp_json_doc_begin(&j, stdout);
            hp_json_key(&j, "name");
            hp_json_null(&j);
            hp_json_key(&j, "installed");
            hp_json_bool(&j, false);
            hp_json_doc_end(&j);
        } else {
            printf("%s is not installed: nothing to do\n", ia->patch);
        }
        return HP_EXIT_OK;
    }
    if (s != HP_OK)
        return hp_cli_fail(ia->patch, s, NULL);

    /* 1. unregistered, and the images given back: no process starts with it from here */
    wchar_t *imgs = key_images(e.name);
    wchar_t sub[KEY_PATH_MAX];
    key_path(e.name, sub);
    if (RegDeleteKeyExW(HKEY_LOCAL_MACHINE, sub, KEY_WOW64_64KEY, 0) != ERROR_SUCCESS) {
        free(imgs);
        return hp_cli_fail(e.name, HP_E_INST_STORE, NULL);
    }
    hp_json jd, *j = NULL;
    if (ia->json) {
        j = &jd;
        hp_json_doc_begin(j, stdout);
        hp_json_key(j, "name");
        hp_json_str(j, e.name);
        hp_json_key(j, "installed");
        hp_json_bool(j, true);
        hp_json_key(j, "images");
        hp_json_array_begin(j);
    } else {
        printf("%s: uninstalled\n", e.name);
    }
    int rc = HP_EXIT_OK;
    for (const wchar_t *p = imgs; p && *p; p += wcslen(p) + 1) {
        char p8[HP_WIRE_PATH_MAX * 3];
        hp_print_utf8((const uint16_t *)p, p8, sizeof p8);
        bool used = image_still_used(e.name, p);
        hp_status rs = used ? HP_OK : restore_image(p);
        const char *state = used ? "kept" : rs == HP_OK ? "restored" : "failed";
        if (j) {
            hp_json_object_begin(j);
            hp_json_key(j, "path");
            hp_json_str(j, p8);
            hp_json_key(j, "state");
            hp_json_str(j, state);
            hp_json_object_end(j);
        } else if (rs == HP_OK) {
            printf("%s: image %s: %s\n", e.name, p8,
                   used ? "kept covered (another installed patch needs it)" : "original restored");
        } else {
            fflush(stdout);
            hp_cli_fail(p8, rs, "its original (.hotpe-orig) could not be put back");
            rc = HP_EXIT_PARTIAL;
        }
    }
    free(imgs);
    if (j) {
        hp_json_array_end(j);
        hp_json_key(j, "processes");
        hp_json_array_begin(j);
    }

    /* 2. reverted wherever it is live, the patch it superseded back where still installed */
    char live[HP_PATCH_NAME_MAX];
    int vrc = hp_revert_everywhere(e.name, j, live, sizeof live);
    if (j) {
        hp_json_array_end(j);
        hp_json_key(j, "live_now");
        hp_json_str(j, live[0] ? live : NULL);
        hp_json_doc_end(j);
    }
    DeleteFileW((const wchar_t *)e.file); /* a process that still maps it keeps it */
    return worse(rc, vrc);
}

int hp_verb_install(int argc, char **argv)
{
    inst_args ia;
    int rc = parse(argc, argv, true, &ia);
    if (!rc)
        rc = install(&ia, argc, argv);
    free(ia.images);
    return rc;
}

int hp_verb_uninstall(int argc, char **argv)
{
    inst_args ia;
    int rc = parse(argc, argv, false, &ia);
    if (!rc)
        rc = uninstall(&ia);
    free(ia.images);
    return rc;
}

#endif /* _WIN32 */
