/*
 * hotpe: the client of hotpe-shim.dll in a target process (shimclient.h).
 */
#ifdef _WIN32

#define PSAPI_VERSION 2
#include <windows.h>
#include <psapi.h>

#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/win.h"
#include "shimclient.h"

#define INJECT_TIMEOUT_MS 15000
#define RUN_TIMEOUT_MS 30000

/* The process's modules, malloc'd, *n of them; NULL when they cannot be listed. */
static HMODULE *list_modules(HANDLE h, size_t *n)
{
    DWORD cap = 1024 * sizeof(HMODULE), need = 0;
    HMODULE *mods = malloc(cap);
    /* the walk of the target's loader list fails while a thread there loads or unloads */
    for (int tries = 0; mods;) {
        if (EnumProcessModulesEx(h, mods, cap, &need, LIST_MODULES_ALL)) {
            if (need <= cap)
                break;
            HMODULE *more = realloc(mods, cap = need + 64 * sizeof(HMODULE));
            if (!more)
                break;
            mods = more;
        } else if (++tries == 50) {
            free(mods);
            return NULL;
        } else {
            Sleep(1);
        }
    }
    *n = (need < cap ? need : cap) / sizeof(HMODULE);
    return mods;
}

uint64_t hp_shimc_find_module(void *process, const char *name, uint32_t *size)
{
    size_t n = 0;
    HMODULE *mods = list_modules(process, &n);
    uint64_t base = 0;
    for (size_t i = 0; mods && i < n; i++) {
        char path[MAX_PATH];
        if (!GetModuleFileNameExA(process, mods[i], path, sizeof path))
            continue;
        if (!hp_live_same_module_name(path, name))
            continue;
        MODULEINFO mi;
        if (!GetModuleInformation(process, mods[i], &mi, sizeof mi))
            break;
        if (size)
            *size = mi.SizeOfImage;
        base = (uint64_t)(uintptr_t)mods[i];
        break;
    }
    free(mods);
    return base;
}

uint8_t *hp_shimc_copy_module(void *process, uint64_t base, uint32_t size)
{
    uint8_t *buf = calloc(1, size ? size : 1);
    for (uint64_t off = 0; buf && off < size; off += 0x1000) {
        SIZE_T got = 0;
        size_t n = size - off < 0x1000 ? (size_t)(size - off) : 0x1000;
        ReadProcessMemory(process, (const void *)(uintptr_t)(base + off), buf + off, n, &got);
    }
    return buf;
}

static uint64_t export_at(HANDLE h, const char *module, const char *name, int depth)
{
    uint32_t size = 0;
    uint64_t base = hp_shimc_find_module(h, module, &size);
    if (!base || depth > 4)
        return 0;
    uint8_t *img = hp_shimc_copy_module(h, base, size);
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
                addr = export_at(h, dll, dot + 1, depth + 1);
            }
        }
    }
    hp_arena_free(&a);
    free(img);
    return addr;
}

uint64_t hp_shimc_export(void *process, const char *module, const char *name)
{
    return export_at(process, module, name, 0);
}

/* The one reader of the registry's layout: the shim's exported block copied whole, checked,
 * its strings bounded. */
hp_status hp_shimc_registry(void *process, uint64_t *shim_base, hp_live_registry *reg)
{
    *shim_base = hp_shimc_find_module(process, HP_LIVE_SHIM_NAME, NULL);
    if (!*shim_base)
        return HP_OK;
    uint64_t at = hp_shimc_export(process, HP_LIVE_SHIM_NAME, HP_LIVE_REGISTRY_EXPORT);
    if (!at)
        return HP_E_LIVE_SHIM;
    for (int i = 0; i < 200; i++) {
        uint32_t seq1 = 0, seq2 = 0;
        SIZE_T got = 0;
        const void *p = (const void *)(uintptr_t)at;
        if (!ReadProcessMemory(process, (const uint8_t *)p + offsetof(hp_live_registry, seq),
                               &seq1, 4, &got) ||
            !ReadProcessMemory(process, p, reg, sizeof *reg, &got) || got != sizeof *reg ||
            !ReadProcessMemory(process, (const uint8_t *)p + offsetof(hp_live_registry, seq),
                               &seq2, 4, &got))
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
static hp_status remote_call(HANDLE h, uint64_t start, uint64_t arg, DWORD timeout_ms,
                             DWORD *code)
{
    HANDLE th = CreateRemoteThread(h, NULL, 0, (LPTHREAD_START_ROUTINE)(uintptr_t)start,
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

hp_status hp_shimc_inject(void *process, uint64_t *shim_base)
{
    *shim_base = hp_shimc_find_module(process, HP_LIVE_SHIM_NAME, NULL);
    if (*shim_base)
        return HP_OK;
    wchar_t path[MAX_PATH];
    HP_CHECK(shim_path(path, MAX_PATH));
    uint64_t load = hp_shimc_export(process, "kernel32.dll", "LoadLibraryW");
    if (!load)
        return HP_E_LIVE_INJECT;
    size_t bytes = (wcslen(path) + 1) * sizeof(wchar_t);
    void *mem = VirtualAllocEx(process, NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!mem)
        return HP_E_LIVE_INJECT;
    hp_status s = HP_OK;
    DWORD code = 0;
    if (!WriteProcessMemory(process, mem, path, bytes, NULL))
        s = HP_E_PROC_WRITE;
    else
        s = remote_call(process, load, (uint64_t)(uintptr_t)mem, INJECT_TIMEOUT_MS, &code);
    if (s != HP_E_LIVE_TIMEOUT)
        VirtualFreeEx(process, mem, 0, MEM_RELEASE);
    if (s != HP_OK)
        return s;
    *shim_base = hp_shimc_find_module(process, HP_LIVE_SHIM_NAME, NULL);
    return *shim_base ? HP_OK : HP_E_LIVE_INJECT;
}

hp_status hp_shimc_request(void *process, hp_live_request *req, hp_live_result *res)
{
    memset(res, 0, sizeof *res); /* callers read it on every failure */
    res->failing_site = 0xffffffffu;
    uint64_t run = hp_shimc_export(process, HP_LIVE_SHIM_NAME, HP_LIVE_RUN_EXPORT);
    if (!run)
        return HP_E_LIVE_SHIM;
    req->magic = HP_LIVE_REQUEST_MAGIC;
    req->version = HP_LIVE_VERSION;
    req->size = sizeof *req;
    /* who we are: if we die before freeing the block, the shim frees it at its next request */
    req->owner_created = hp_win_started(GetCurrentProcess());
    if (req->owner_created) {
        req->owner_pid = GetCurrentProcessId();
        req->nonce = hp_win_clock_ns();
    }
    void *mem = VirtualAllocEx(process, NULL, sizeof *req, MEM_RESERVE | MEM_COMMIT,
                               PAGE_READWRITE);
    if (!mem)
        return HP_E_PROC_ALLOC;
    DWORD code = 0;
    hp_status s = WriteProcessMemory(process, mem, req, sizeof *req, NULL) ? HP_OK
                                                                           : HP_E_PROC_WRITE;
    if (s == HP_OK)
        s = remote_call(process, run, (uint64_t)(uintptr_t)mem, RUN_TIMEOUT_MS, &code);
    if (s == HP_OK) {
        SIZE_T got = 0;
        if (!ReadProcessMemory(process, (uint8_t *)mem + offsetof(hp_live_request, result), res,
                               sizeof *res, &got) || got != sizeof *res)
            s = HP_E_PROC_READ;
        else if (!res->done) /* the shim refused the block itself: its exit code says why */
            s = hp_status_known(code) ? (hp_status)code : HP_E_LIVE_REQUEST;
        else
            s = hp_status_known(res->status) ? (hp_status)res->status : HP_E_LIVE_REQUEST;
    }
    if (s != HP_E_LIVE_TIMEOUT) /* a late shim would still write into it */
        VirtualFreeEx(process, mem, 0, MEM_RELEASE);
    return s;
}

#endif /* _WIN32 */
