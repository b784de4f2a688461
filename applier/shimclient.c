/*
 * hotpe: the client of hotpe-shim.dll in a target process (shimclient.h).
 */
#ifdef _WIN32

#define PSAPI_VERSION 2
#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>

#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/win.h"
#include "shimclient.h"

#define INJECT_TIMEOUT_MS 15000
#define RUN_TIMEOUT_MS 30000

/* One walk of the process's module list (a Toolhelp snapshot: names, bases and sizes together).
 * Walking it with EnumProcessModulesEx + GetModuleFileNameExA costs one ReadProcessMemory
 * chain per module from the start of the list under Wine, so a lookup grew with the square of
 * the module count (2.5 s per apply into a process of 100 modules). A snapshot fails while a
 * thread there loads or unloads a module: tried again. false: the list cannot be read. */
static bool snapshot_find(HANDLE h, const char *name, uint64_t *base, uint32_t *size)
{
    DWORD pid = GetProcessId(h); /* 0 would snapshot this process */
    HANDLE snap = INVALID_HANDLE_VALUE;
    if (!pid)
        return false;
    for (int tries = 0; snap == INVALID_HANDLE_VALUE && tries < 50; tries++) {
        snap = CreateToolhelp32Snapshot(TH32CS_SNAPMODULE, pid);
        if (snap == INVALID_HANDLE_VALUE && GetLastError() != ERROR_BAD_LENGTH)
            return false;
        if (snap == INVALID_HANDLE_VALUE)
            Sleep(1);
    }
    if (snap == INVALID_HANDLE_VALUE)
        return false;
    MODULEENTRY32 me;
    me.dwSize = sizeof me;
    *base = 0;
    for (BOOL ok = Module32First(snap, &me); ok; ok = Module32Next(snap, &me))
        if (hp_patch_same_module(me.szModule, name)) {
            *base = (uint64_t)(uintptr_t)me.modBaseAddr;
            *size = me.modBaseSize;
            break;
        }
    CloseHandle(snap);
    return true;
}

/* The same through the loader list, one module at a time: the slow walk, for a 32-bit
 * process seen from a 64-bit hotpe (--module selection), whose 32-bit modules a snapshot
 * taken from here does not list under Wine. */
static bool enum_find(HANDLE h, const char *name, uint64_t *base, uint32_t *size)
{
    DWORD cap = 1024 * sizeof(HMODULE), need = 0;
    HMODULE *mods = malloc(cap);
    for (int tries = 0; mods;) {
        if (EnumProcessModulesEx(h, mods, cap, &need, LIST_MODULES_ALL)) {
            if (need <= cap)
                break;
            HMODULE *more = realloc(mods, cap = need + 64 * sizeof(HMODULE));
            if (!more)
                break;
            mods = more;
        } else if (++tries == 50) {
            break;
        } else {
            Sleep(1);
        }
    }
    *base = 0;
    size_t n = mods ? (need < cap ? need : cap) / sizeof(HMODULE) : 0;
    for (size_t i = 0; i < n; i++) {
        char path[MAX_PATH];
        MODULEINFO mi;
        if (!GetModuleFileNameExA(h, mods[i], path, sizeof path) ||
            !hp_patch_same_module(path, name))
            continue;
        if (GetModuleInformation(h, mods[i], &mi, sizeof mi)) {
            *base = (uint64_t)(uintptr_t)mods[i];
            *size = mi.SizeOfImage;
        }
        break;
    }
    bool listed = mods != NULL;
    free(mods);
    return listed;
}

uint64_t hp_shimc_find_module(void *process, const char *name, uint32_t *size)
{
    uint64_t base = 0;
    uint32_t sz = 0;
    BOOL wow = FALSE;
    bool other_width = sizeof(void *) == 8 && IsWow64Process(process, &wow) && wow;
    if (!(other_width ? enum_find : snapshot_find)(process, name, &base, &sz))
        return 0;
    if (size)
        *size = sz;
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

void hp_shimc_reg_free(hp_shimc_reg *reg)
{
    for (uint32_t i = 0; reg->sites && i < reg->count; i++)
        free(reg->sites[i]);
    free(reg->sites);
    free(reg->patches);
    memset(reg, 0, sizeof *reg);
}

hp_patch_live hp_shimc_live(const hp_shimc_reg *reg, uint32_t i)
{
    hp_patch_live l = { &reg->patches[i], reg->sites[i] };
    return l;
}

/* A header this hotpe can read: its version and layout, and counts a registry can have. */
static bool header_ok(const hp_wire_registry *h)
{
    return h->magic == HP_WIRE_REGISTRY_MAGIC && h->version == HP_WIRE_VERSION &&
           h->size == sizeof *h && h->patch_size == sizeof(hp_wire_patch) &&
           h->site_size == sizeof(hp_wire_site) && h->count <= h->capacity &&
           h->capacity <= HP_WIRE_READ_MAX_PATCHES && (h->patches || !h->count);
}

/* One read of the tables the header names. HP_E_PROC_READ: a table went away meanwhile (or
 * never was); the caller tells which by the seqlock. */
static hp_status read_tables(HANDLE h, const hp_wire_registry *head, hp_shimc_reg *reg)
{
    uint32_t n = head->count;
    reg->count = n;
    reg->patches = calloc(n ? n : 1, sizeof *reg->patches);
    reg->sites = calloc(n ? n : 1, sizeof *reg->sites);
    if (!reg->patches || !reg->sites)
        return HP_E_NOMEM;
    HP_CHECK(hp_win_read(h, head->patches, reg->patches, (size_t)n * sizeof *reg->patches));
    for (uint32_t i = 0; i < n; i++) {
        hp_wire_patch *p = &reg->patches[i];
        if (p->site_count > HP_WIRE_READ_MAX_SITES || (p->site_count && !p->sites))
            return HP_E_LIVE_SHIM;
        if (!(reg->sites[i] = calloc(p->site_count ? p->site_count : 1, sizeof **reg->sites)))
            return HP_E_NOMEM;
        HP_CHECK(hp_win_read(h, p->sites, reg->sites[i],
                             (size_t)p->site_count * sizeof **reg->sites));
        p->target_name[HP_WIRE_NAME_MAX - 1] = 0;
        p->path[HP_WIRE_PATH_MAX - 1] = 0;
    }
    return HP_OK;
}

/* The one reader of the registry's layout: header, tables, and the seqlock around them. */
hp_status hp_shimc_registry(void *process, hp_shimc_reg *reg)
{
    memset(reg, 0, sizeof *reg);
    uint64_t shim = hp_shimc_find_module(process, HP_WIRE_SHIM_NAME, NULL);
    if (!shim)
        return HP_OK;
    uint64_t at = hp_shimc_export(process, HP_WIRE_SHIM_NAME, HP_WIRE_REGISTRY_EXPORT);
    if (!at)
        return HP_E_LIVE_SHIM;
    uint64_t seq_at = at + offsetof(hp_wire_registry, seq);
    for (int i = 0; i < 200; i++) {
        uint32_t seq1 = 0, seq2 = 0;
        hp_wire_registry head;
        HP_CHECK(hp_win_read(process, seq_at, &seq1, 4));
        if (!(seq1 & 1u)) {
            HP_CHECK(hp_win_read(process, at, &head, sizeof head));
            if (!header_ok(&head))
                return HP_E_LIVE_SHIM;
            hp_status s = read_tables(process, &head, reg);
            HP_CHECK(hp_win_read(process, seq_at, &seq2, 4));
            if (seq1 == seq2) {
                if (s != HP_OK) { /* nothing changed: the registry itself is wrong */
                    hp_shimc_reg_free(reg);
                    return s == HP_E_PROC_READ ? HP_E_LIVE_SHIM : s;
                }
                reg->shim_base = shim;
                return HP_OK;
            }
            hp_shimc_reg_free(reg); /* changed under us: read again */
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
    const wchar_t *name = L"" HP_WIRE_SHIM_NAME;
    if (dir + wcslen(name) + 1 > cap)
        return HP_E_LIVE_SHIM;
    wcscpy(out + dir, name);
    return GetFileAttributesW(out) == INVALID_FILE_ATTRIBUTES ? HP_E_LIVE_SHIM : HP_OK;
}

hp_status hp_shimc_inject(void *process, uint64_t *shim_base)
{
    *shim_base = hp_shimc_find_module(process, HP_WIRE_SHIM_NAME, NULL);
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
    *shim_base = hp_shimc_find_module(process, HP_WIRE_SHIM_NAME, NULL);
    return *shim_base ? HP_OK : HP_E_LIVE_INJECT;
}

hp_status hp_shimc_request(void *process, hp_wire_request *req, hp_wire_result *res)
{
    memset(res, 0, sizeof *res); /* callers read it on every failure */
    res->failing_site = HP_WIRE_NONE;
    uint64_t run = hp_shimc_export(process, HP_WIRE_SHIM_NAME, HP_WIRE_RUN_EXPORT);
    if (!run)
        return HP_E_LIVE_SHIM;
    req->magic = HP_WIRE_REQUEST_MAGIC;
    req->version = HP_WIRE_VERSION;
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
        if (!ReadProcessMemory(process, (uint8_t *)mem + offsetof(hp_wire_request, result), res,
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
