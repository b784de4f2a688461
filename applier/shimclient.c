/*
 * hotpe: the client of hotpe-shim.dll in a target process (shimclient.h).
 */
#ifdef _WIN32

#define PSAPI_VERSION 2
#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/win.h"
#include "hotpe/pe/insn.h"
#include "shimclient.h"

#define INJECT_TIMEOUT_MS 15000
#define RUN_TIMEOUT_MS 30000

/* The process's modules, one Toolhelp snapshot (names, bases and sizes together), kept for
 * the rest of this hotpe's look at the process. Walking the list with EnumProcessModulesEx +
 * GetModuleFileNameExA costs one ReadProcessMemory chain per module from the start of the
 * list under Wine, so a lookup grew with the square of the module count (2.5 s per apply into
 * a process of 100 modules); and each snapshot is itself a few wineserver round trips, so one
 * serves every lookup of a request. A snapshot fails while a thread there loads or unloads a
 * module: tried again. false: the list cannot be read. */
static bool list_modules(hp_shimc_proc *p)
{
    DWORD pid = GetProcessId(p->h); /* 0 would snapshot this process */
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
    size_t n = 0, cap = 0;
    hp_shimc_module *v = NULL;
    bool ok = true;
    for (BOOL more = Module32First(snap, &me); more && ok; more = Module32Next(snap, &me)) {
        if (n == cap) {
            hp_shimc_module *grown = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
            if (!(ok = grown != NULL))
                break;
            v = grown;
        }
        snprintf(v[n].name, sizeof v[n].name, "%s", me.szModule);
        v[n].base = (uint64_t)(uintptr_t)me.modBaseAddr;
        v[n].size = me.modBaseSize;
        n++;
    }
    CloseHandle(snap);
    if (!ok) {
        free(v);
        return false;
    }
    free(p->mods);
    p->mods = v;
    p->nmods = n;
    p->listed = true;
    return true;
}

/* Through the loader list, one module at a time up to the one asked for: the slow walk, for a
 * 32-bit process seen from a 64-bit hotpe (--module selection), whose 32-bit modules a
 * snapshot taken from here does not list under Wine. */
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

hp_shimc_proc *hp_shimc_proc_new(void *process)
{
    hp_shimc_proc *p = calloc(1, sizeof *p);
    if (p) {
        p->h = process;
        p->other_width = -1;
    }
    return p;
}

void hp_shimc_proc_free(hp_shimc_proc *p)
{
    if (p)
        free(p->mods);
    free(p);
}

uint64_t hp_shimc_find_module(hp_shimc_proc *p, const char *name, uint32_t *size)
{
    if (p->other_width < 0) {
        BOOL wow = FALSE;
        p->other_width = sizeof(void *) == 8 && IsWow64Process(p->h, &wow) && wow;
    }
    if (p->other_width) {
        uint64_t base = 0;
        uint32_t sz = 0;
        if (!enum_find(p->h, name, &base, &sz))
            return 0;
        if (size)
            *size = sz;
        return base;
    }
    if (!p->listed && !list_modules(p))
        return 0;
    for (size_t i = 0; i < p->nmods; i++)
        if (hp_patch_same_module(p->mods[i].name, name)) {
            if (size)
                *size = p->mods[i].size;
            return p->mods[i].base;
        }
    return 0;
}

static int range_cmp(const void *a, const void *b)
{
    const hp_shimc_range *x = a, *y = b;
    return x->rva < y->rva ? -1 : x->rva > y->rva;
}

/* Parts closer than this are read as one: under Wine a read is a wineserver round trip, and
 * copying 64 KB more costs less than one. */
#define RANGE_JOIN 0x10000u

/* One run of pages: whole, or page by page when some are not readable. */
static void read_run(HANDLE h, uint64_t base, uint8_t *img, uint32_t lo, uint32_t hi)
{
    SIZE_T got = 0;
    if (ReadProcessMemory(h, (const void *)(uintptr_t)(base + lo), img + lo, hi - lo, &got) &&
        got == hi - lo)
        return;
    for (uint32_t off = lo; off < hi; off += 0x1000) {
        uint32_t n = hi - off < 0x1000 ? hi - off : 0x1000;
        if (!ReadProcessMemory(h, (const void *)(uintptr_t)(base + off), img + off, n, &got))
            memset(img + off, 0, n);
    }
}

size_t hp_shimc_read_ranges(void *process, uint64_t base, uint8_t *img, uint32_t size,
                            hp_shimc_range *r, size_t n)
{
    qsort(r, n, sizeof *r, range_cmp);
    size_t bytes = 0;
    uint64_t lo = 0, hi = 0; /* the run being gathered: [lo, hi), page aligned */
    for (size_t i = 0; i <= n; i++) {
        uint64_t a = 0, b = 0;
        if (i < n) {
            if (!r[i].len || r[i].rva >= size)
                continue;
            a = r[i].rva & ~(uint64_t)0xfff;
            b = ((uint64_t)r[i].rva + r[i].len + 0xfff) & ~(uint64_t)0xfff;
            if (b > size)
                b = size;
            if (hi > lo && a <= hi + RANGE_JOIN) {
                if (b > hi)
                    hi = b;
                continue;
            }
        }
        if (hi > lo) {
            read_run(process, base, img, (uint32_t)lo, (uint32_t)hi);
            bytes += hi - lo;
        }
        lo = a;
        hi = b;
    }
    return bytes;
}

uint8_t *hp_shimc_copy_module(void *process, uint64_t base, uint32_t size)
{
    uint8_t *buf = calloc(1, size ? size : 1);
    hp_shimc_range all = { 0, size };
    if (buf)
        hp_shimc_read_ranges(process, base, buf, size, &all, 1);
    return buf;
}

/* A copy of a module with only its headers and its export directory in place (zeros
 * elsewhere: calloc'd pages that are never touched cost nothing): two reads instead of the
 * whole image (hotpe-shim.dll is about 1 MB with its debug sections, kernel32 more). NULL when
 * out of memory or unreadable. */
static uint8_t *copy_exports(HANDLE h, uint64_t base, uint32_t size)
{
    uint8_t *img = calloc(1, size ? size : 1);
    uint32_t head = size < 0x1000 ? size : 0x1000;
    hp_arena a = HP_ARENA_INIT;
    hp_pe pe;
    bool ok = img && hp_win_read(h, base, img, head) == HP_OK &&
              hp_pe_parse(&pe, &a, img, size, HP_PE_LAYOUT_LOADED) == HP_OK;
    if (ok) {
        const hp_pe_dir *d = &pe.dirs[HP_IMAGE_DIRECTORY_ENTRY_EXPORT];
        ok = d->size && d->rva >= head && d->rva <= size && d->size <= size - d->rva &&
             hp_win_read(h, base + d->rva, img + d->rva, d->size) == HP_OK;
    }
    hp_arena_free(&a);
    if (!ok) {
        free(img);
        return NULL;
    }
    return img;
}

/* The export's address in image img of the module at base, forwarders followed. */
static uint64_t export_in(hp_shimc_proc *p, const uint8_t *img, uint64_t base, uint32_t size,
                          const char *name, int depth);

static uint64_t export_at(hp_shimc_proc *p, const char *module, const char *name, int depth)
{
    uint32_t size = 0;
    uint64_t base = hp_shimc_find_module(p, module, &size);
    if (!base || depth > 4)
        return 0;
    uint64_t addr = 0;
    uint8_t *img = copy_exports(p->h, base, size);
    if (img)
        addr = export_in(p, img, base, size, name, depth);
    free(img);
    if (!addr && (img = hp_shimc_copy_module(p->h, base, size)) != NULL) {
        addr = export_in(p, img, base, size, name, depth); /* an unusual layout: all of it */
        free(img);
    }
    return addr;
}

static uint64_t export_in(hp_shimc_proc *p, const uint8_t *img, uint64_t base, uint32_t size,
                          const char *name, int depth)
{
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
                addr = export_at(p, dll, dot + 1, depth + 1);
            }
        }
    }
    hp_arena_free(&a);
    return addr;
}

uint64_t hp_shimc_export(hp_shimc_proc *p, const char *module, const char *name)
{
    return export_at(p, module, name, 0);
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

/* The one reader of the registry's layout: header, tables (unless only the header is
 * wanted), and the seqlock around them. */
static hp_status read_registry(hp_shimc_proc *p, hp_shimc_reg *reg, bool tables)
{
    memset(reg, 0, sizeof *reg);
    HANDLE process = p->h;
    uint64_t shim = hp_shimc_find_module(p, HP_WIRE_SHIM_NAME, NULL);
    if (!shim)
        return HP_OK;
    if (p->registry_of != shim) {
        p->registry = hp_shimc_export(p, HP_WIRE_SHIM_NAME, HP_WIRE_REGISTRY_EXPORT);
        p->registry_of = shim;
    }
    uint64_t at = p->registry;
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
            hp_status s = tables ? read_tables(process, &head, reg) : HP_OK;
            HP_CHECK(hp_win_read(process, seq_at, &seq2, 4));
            if (seq1 == seq2) {
                if (s != HP_OK) { /* nothing changed: the registry itself is wrong */
                    hp_shimc_reg_free(reg);
                    return s == HP_E_PROC_READ ? HP_E_LIVE_SHIM : s;
                }
                reg->shim_base = shim;
                reg->registry = at;
                reg->channel = head.channel;
                return HP_OK;
            }
            hp_shimc_reg_free(reg); /* changed under us: read again */
        }
        Sleep(1);
    }
    return HP_E_LIVE_REGISTRY;
}

hp_status hp_shimc_registry(hp_shimc_proc *p, hp_shimc_reg *reg)
{
    return read_registry(p, reg, true);
}

hp_status hp_shimc_registry_head(hp_shimc_proc *p, hp_shimc_reg *reg)
{
    return read_registry(p, reg, false);
}

hp_status hp_shimc_shim_path(wchar_t *out, size_t cap)
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

/* The channel's handles, duplicated into this process. */
typedef struct chan {
    HANDLE request, done, mutex, worker;
} chan;

static void chan_close(chan *c)
{
    HANDLE *hs[] = { &c->request, &c->done, &c->mutex, &c->worker };
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++) {
        if (*hs[i])
            CloseHandle(*hs[i]);
        *hs[i] = NULL;
    }
}

static bool chan_open(HANDLE process, const hp_wire_channel *w, chan *c)
{
    const uint64_t from[] = { w->request_event, w->done_event, w->mutex, w->worker };
    HANDLE *to[] = { &c->request, &c->done, &c->mutex, &c->worker };
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof to / sizeof *to; i++) {
        if (!from[i] || !DuplicateHandle(process, (HANDLE)(uintptr_t)from[i],
                                         GetCurrentProcess(), to[i], 0, FALSE,
                                         DUPLICATE_SAME_ACCESS)) {
            chan_close(c);
            return false;
        }
    }
    return true;
}

/* The answer in the block, when it is this request's. */
static bool answered(HANDLE process, uint64_t block, uint64_t nonce, hp_wire_result *res)
{
    return hp_win_read(process, block + offsetof(hp_wire_request, result), res, sizeof *res) ==
               HP_OK &&
           res->done && res->nonce == nonce;
}

/* Through the worker: the mutex, the mailbox, the event; then wait for an answer that carries
 * our nonce (a done_event set for a requester that died holding the mutex is not ours).
 * *code: the status of a block the worker refused unanswered. HP_E_UNSUPPORTED: no usable
 * channel (nothing was sent). */
static hp_status via_channel(HANDLE process, const hp_shimc_reg *reg, uint64_t block,
                             uint64_t nonce, hp_wire_result *res, DWORD *code)
{
    chan c;
    if (!chan_open(process, &reg->channel, &c))
        return HP_E_UNSUPPORTED;
    if (WaitForSingleObject(c.worker, 0) != WAIT_TIMEOUT) {
        chan_close(&c); /* the worker ended: a remote thread serves, and starts another */
        return HP_E_UNSUPPORTED;
    }
    uint64_t t_end = hp_win_clock_ns() + (uint64_t)RUN_TIMEOUT_MS * 1000000u;
    DWORD w = WaitForSingleObject(c.mutex, RUN_TIMEOUT_MS);
    if (w != WAIT_OBJECT_0 && w != WAIT_ABANDONED) {
        chan_close(&c);
        return HP_E_LIVE_TIMEOUT;
    }
    uint64_t at = reg->registry + offsetof(hp_wire_registry, channel.mailbox);
    hp_status s = hp_win_write_data(process, at, &block, sizeof block);
    if (s == HP_OK && !SetEvent(c.request))
        s = HP_E_LIVE_INJECT;
    while (s == HP_OK) {
        uint64_t now = hp_win_clock_ns();
        DWORD left = now < t_end ? (DWORD)((t_end - now) / 1000000u) : 0;
        HANDLE hs[2] = { c.done, c.worker };
        w = WaitForMultipleObjects(2, hs, FALSE, left);
        if (w == WAIT_OBJECT_0 + 1) {
            s = HP_E_LIVE_SHIM; /* the worker ended */
        } else if (w != WAIT_OBJECT_0) {
            s = HP_E_LIVE_TIMEOUT;
        } else if (answered(process, block, nonce, res)) {
            break;
        } else {
            uint64_t last = 0;
            uint64_t last_at = reg->registry + offsetof(hp_wire_registry, channel.last_block);
            uint64_t st_at = reg->registry + offsetof(hp_wire_registry, channel.last_status);
            if (hp_win_read(process, last_at, &last, sizeof last) == HP_OK && last == block &&
                hp_win_read(process, st_at, code, sizeof *code) == HP_OK) {
                memset(res, 0, sizeof *res); /* refused unanswered */
                res->failing_site = HP_WIRE_NONE;
                break;
            }
        }
    }
    ReleaseMutex(c.mutex);
    chan_close(&c);
    return s;
}

/* The boot stub (insn.h) in the target: LoadLibraryW(the shim next to this hotpe.exe), then
 * hotpe_shim_run(block) on the same thread. *mem: its allocation, freed by the caller once the
 * thread has passed it. */
static hp_status boot_stub(hp_shimc_proc *p, uint64_t block, uint64_t *mem)
{
    wchar_t path[MAX_PATH];
    HP_CHECK(hp_shimc_shim_path(path, MAX_PATH));
    hp_insn_boot_args a = {
        .load_library = hp_shimc_export(p, "kernel32.dll", "LoadLibraryW"),
        .get_proc = hp_shimc_export(p, "kernel32.dll", "GetProcAddress"),
        .arg = block,
        .fail = HP_E_LIVE_INJECT,
    };
    if (!a.load_library || !a.get_proc)
        return HP_E_LIVE_INJECT;
    /* [stub][export name][path], one page */
    uint8_t page[0x1000] = { 0 };
    size_t stub_len = 0, name_at = HP_INSN_BOOT_MAX, path_at = name_at + 32;
    size_t path_bytes = (wcslen(path) + 1) * sizeof(wchar_t);
    _Static_assert(sizeof HP_WIRE_RUN_EXPORT <= 32, "run export name");
    if (path_at + path_bytes > sizeof page)
        return HP_E_LIVE_SHIM;
    void *at = VirtualAllocEx(p->h, NULL, sizeof page, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!at)
        return HP_E_LIVE_INJECT;
    uint64_t base = (uintptr_t)at;
    a.name = base + name_at;
    a.path = base + path_at;
    memcpy(page + name_at, HP_WIRE_RUN_EXPORT, sizeof HP_WIRE_RUN_EXPORT);
    memcpy(page + path_at, path, path_bytes);
    hp_status s = hp_insn_boot_encode(sizeof(void *) == 8, &a, page, &stub_len);
    DWORD old;
    if (s == HP_OK)
        s = hp_win_write_data(p->h, base, page, path_at + path_bytes);
    if (s == HP_OK && (!VirtualProtectEx(p->h, at, sizeof page, PAGE_EXECUTE_READ, &old) ||
                       !FlushInstructionCache(p->h, at, stub_len)))
        s = HP_E_PROC_PROTECT;
    if (s != HP_OK) {
        VirtualFreeEx(p->h, at, 0, MEM_RELEASE);
        return s;
    }
    *mem = base;
    return HP_OK;
}

/* The channel offered with a first request: two auto-reset events and a mutex this hotpe
 * holds until it has its answer, each also duplicated into the target (in[]). */
typedef struct offer {
    HANDLE request, done, mutex;
    uint64_t in[3];
} offer;

static void offer_close(HANDLE process, offer *o, bool in_target)
{
    HANDLE mine[3] = { o->request, o->done, o->mutex };
    if (o->mutex)
        ReleaseMutex(o->mutex);
    for (int i = 0; i < 3; i++) {
        if (in_target && o->in[i]) /* not taken: the thread that could take it has ended */
            DuplicateHandle(process, (HANDLE)(uintptr_t)o->in[i], NULL, NULL, 0, FALSE,
                            DUPLICATE_CLOSE_SOURCE);
        if (mine[i])
            CloseHandle(mine[i]);
    }
}

static bool offer_make(HANDLE process, offer *o)
{
    memset(o, 0, sizeof *o);
    o->request = CreateEventW(NULL, FALSE, FALSE, NULL);
    o->done = CreateEventW(NULL, FALSE, FALSE, NULL);
    o->mutex = CreateMutexW(NULL, TRUE, NULL);
    HANDLE mine[3] = { o->request, o->done, o->mutex };
    for (int i = 0; i < 3; i++) {
        HANDLE there = NULL;
        if (!mine[i] || !DuplicateHandle(GetCurrentProcess(), mine[i], process, &there, 0, FALSE,
                                         DUPLICATE_SAME_ACCESS)) {
            offer_close(process, o, true);
            return false;
        }
        o->in[i] = (uintptr_t)there;
    }
    return true;
}

/* On a new remote thread at hotpe_shim_run (through the boot stub when the shim is not loaded
 * yet): the first request of a process. It offers the channel; the thread answers by setting
 * the done event and stays as the worker, or (a worker is already there, or the request was
 * refused unread) ends with the status as its exit code. */
static hp_status via_thread(hp_shimc_proc *p, bool boot, uint64_t block, hp_wire_result *res,
                            DWORD *code)
{
    HANDLE process = p->h;
    uint64_t start = 0, stub = 0;
    if (boot)
        HP_CHECK(boot_stub(p, block, &stub));
    else if (!(start = hp_shimc_export(p, HP_WIRE_SHIM_NAME, HP_WIRE_RUN_EXPORT)))
        return HP_E_LIVE_SHIM;
    offer o;
    bool offered = offer_make(process, &o);
    hp_status s = HP_OK;
    if (offered)
        s = hp_win_write_data(process, block + offsetof(hp_wire_request, offer_request), o.in,
                              sizeof o.in);
    HANDLE th = NULL;
    if (s == HP_OK && !(th = CreateRemoteThread(process, NULL, 0,
                                                (LPTHREAD_START_ROUTINE)(uintptr_t)(boot ? stub : start),
                                                (void *)(uintptr_t)block, 0, NULL)))
        s = HP_E_LIVE_INJECT;
    bool ended = false, timed_out = false;
    if (s == HP_OK) {
        HANDLE hs[2] = { th, o.done };
        DWORD w = WaitForMultipleObjects(offered ? 2 : 1, hs, FALSE,
                                         RUN_TIMEOUT_MS + (boot ? INJECT_TIMEOUT_MS : 0));
        /* ended, unless it had answered as the worker and was then terminated */
        ended = w == WAIT_OBJECT_0 && !(offered && WaitForSingleObject(o.done, 0) == WAIT_OBJECT_0);
        timed_out = w != WAIT_OBJECT_0 && w != WAIT_OBJECT_0 + 1;
        if (w == WAIT_OBJECT_0)
            GetExitCodeThread(th, code);
        if (timed_out)
            s = HP_E_LIVE_TIMEOUT;
        else
            s = hp_win_read(process, block + offsetof(hp_wire_request, result), res, sizeof *res);
    }
    if (th)
        CloseHandle(th);
    if (offered)
        offer_close(process, &o, !th || ended);
    if (boot) {
        p->listed = false; /* a new module: list them again */
        if (!timed_out) /* the thread has left the stub: it ended, or jumped into the shim */
            VirtualFreeEx(process, (void *)(uintptr_t)stub, 0, MEM_RELEASE);
    }
    return s;
}

hp_status hp_shimc_request(hp_shimc_proc *p, const hp_shimc_reg *reg, hp_wire_request *req,
                           hp_wire_result *res)
{
    HANDLE process = p->h;
    memset(res, 0, sizeof *res); /* callers read it on every failure */
    res->failing_site = HP_WIRE_NONE;
    req->magic = HP_WIRE_REQUEST_MAGIC;
    req->version = HP_WIRE_VERSION;
    req->size = sizeof *req;
    /* who we are: if we die before freeing the block, the shim frees it at its next request */
    req->owner_created = hp_win_started(GetCurrentProcess());
    req->owner_pid = req->owner_created ? GetCurrentProcessId() : 0;
    req->nonce = hp_win_clock_ns() ^ ((uint64_t)GetCurrentProcessId() << 48);
    void *mem = VirtualAllocEx(process, NULL, sizeof *req, MEM_RESERVE | MEM_COMMIT,
                               PAGE_READWRITE);
    if (!mem)
        return HP_E_PROC_ALLOC;
    uint64_t block = (uintptr_t)mem;
    DWORD code = 0;
    hp_status s = hp_win_write_data(process, block, req, sizeof *req);
    if (s == HP_OK) {
        s = HP_E_UNSUPPORTED;
        bool loaded = reg && reg->shim_base;
        if (loaded && reg->channel.worker)
            s = via_channel(process, reg, block, req->nonce, res, &code);
        if (s == HP_E_UNSUPPORTED)
            s = via_thread(p, !loaded, block, res, &code);
    }
    if (s == HP_OK) {
        if (!res->done) /* the shim refused the block itself: its exit code says why */
            s = hp_status_known(code) ? (hp_status)code : HP_E_LIVE_REQUEST;
        else
            s = hp_status_known(res->status) ? (hp_status)res->status : HP_E_LIVE_REQUEST;
    }
    if (s != HP_E_LIVE_TIMEOUT) /* a late shim would still write into it */
        VirtualFreeEx(process, mem, 0, MEM_RELEASE);
    return s;
}

#endif /* _WIN32 */
