/*
 * hotpe-shim.dll: revert --unload (docs/live.md). Before a patch DLL is freed no thread may be
 * in its code or about to return into it: with every other thread frozen (hp_proc_self), each
 * thread's IP and every pointer-sized word of its stack, from its SP up to its stack's top, are
 * compared with the DLL's executable sections and its stub page (conservative: any such value
 * counts, live or stale). Then the threads resume and the DLL is released.
 */
#include <windows.h>
#include <psapi.h>
#include <string.h>

#include "hotpe/engine/win.h"
#include "hotpe/pe/pe.h"
#include "shim.h"

#define UNLOAD_RANGES 24

typedef struct unload_ranges {
    uint64_t lo[UNLOAD_RANGES], hi[UNLOAD_RANGES];
    unsigned n;
} unload_ranges;

static void add_range(unload_ranges *u, uint64_t lo, uint64_t hi)
{
    if (u->n < UNLOAD_RANGES && hi > lo) {
        u->lo[u->n] = lo;
        u->hi[u->n++] = hi;
    }
}

static bool in_ranges(const unload_ranges *u, uint64_t v)
{
    for (unsigned i = 0; i < u->n; i++)
        if (v >= u->lo[i] && v < u->hi[i])
            return true;
    return false;
}

/* The executable sections of a loaded DLL, and the allocation of its stub page (0: none). */
static bool code_ranges(HMODULE dll, uint64_t stub_page, unload_ranges *u)
{
    MODULEINFO mi;
    hp_arena a = HP_ARENA_INIT;
    hp_pe pe;
    memset(u, 0, sizeof *u);
    if (!GetModuleInformation(GetCurrentProcess(), dll, &mi, sizeof mi) ||
        hp_pe_parse(&pe, &a, dll, mi.SizeOfImage, HP_PE_LAYOUT_LOADED) != HP_OK) {
        hp_arena_free(&a);
        return false;
    }
    uint64_t base = (uint64_t)(uintptr_t)dll;
    for (uint16_t i = 0; i < pe.section_count; i++)
        if (pe.sections[i].characteristics & IMAGE_SCN_MEM_EXECUTE)
            add_range(u, base + pe.sections[i].virtual_address,
                      base + pe.sections[i].virtual_address + pe.sections[i].virtual_size);
    hp_arena_free(&a);
    MEMORY_BASIC_INFORMATION mbi;
    if (stub_page && VirtualQuery((const void *)(uintptr_t)stub_page, &mbi, sizeof mbi))
        add_range(u, stub_page, (uint64_t)(uintptr_t)mbi.BaseAddress + mbi.RegionSize);
    return u->n > 0;
}

/* Whether a committed, readable word in [sp, top) lies in u (region by region: no faults). */
static bool stack_holds(const unload_ranges *u, uint64_t sp, uint64_t top)
{
    sp &= ~(uint64_t)(sizeof(void *) - 1);
    while (sp < top) {
        MEMORY_BASIC_INFORMATION mbi;
        if (!VirtualQuery((const void *)(uintptr_t)sp, &mbi, sizeof mbi))
            return false;
        uint64_t end = (uint64_t)(uintptr_t)mbi.BaseAddress + mbi.RegionSize;
        if (end > top)
            end = top;
        if (hp_win_readable(mbi.State, mbi.Protect))
            for (uint64_t at = sp; at + sizeof(void *) <= end; at += sizeof(void *))
                if (in_ranges(u, *(const uintptr_t *)(uintptr_t)at))
                    return true;
        sp = end;
    }
    return false;
}

/* 0 when no other thread is in u or returns into it, else HP_WIRE_KEPT_* (*tid: which): the
 * threads as proc_self's freeze saw them, checked while they are still frozen. */
static uint32_t threads_in(const unload_ranges *u, uint32_t *tid)
{
    enum { CAP = 4096 };
    *tid = 0;
    /* before any thread is suspended: one of them may hold the heap lock */
    hp_proc_thread *th = VirtualAlloc(NULL, CAP * sizeof *th, MEM_RESERVE | MEM_COMMIT,
                                      PAGE_READWRITE);
    hp_proc proc;
    if (!th)
        return HP_WIRE_KEPT_UNCHECKED;
    if (hp_proc_self_open(&proc) != HP_OK) {
        VirtualFree(th, 0, MEM_RELEASE);
        return HP_WIRE_KEPT_UNCHECKED;
    }
    uint32_t why = 0;
    size_t n = 0;
    if (hp_proc_freeze(&proc) != HP_OK)
        why = HP_WIRE_KEPT_UNCHECKED;
    else if (hp_proc_threads(&proc, th, CAP, &n) != HP_OK || n > CAP)
        why = HP_WIRE_KEPT_UNCHECKED;
    for (size_t i = 0; !why && i < n; i++) {
        const hp_proc_thread *t = &th[i];
        if (!t->ip)
            continue; /* not started: it has run no code */
        if (in_ranges(u, t->ip))
            why = HP_WIRE_KEPT_IP;
        else if (!t->stack_top)
            why = HP_WIRE_KEPT_UNCHECKED;
        else if (t->sp < t->stack_top && stack_holds(u, t->sp, t->stack_top))
            why = HP_WIRE_KEPT_STACK;
        if (why)
            *tid = t->tid;
    }
    if (hp_proc_thaw(&proc) != HP_OK && !why)
        why = HP_WIRE_KEPT_UNCHECKED;
    hp_proc_close(&proc);
    VirtualFree(th, 0, MEM_RELEASE);
    return why;
}

/* FreeLibrary until the DLL is gone: one reference per apply of it (a revert without unload
 * keeps its reference). false when it stays (pinned). */
static bool release_dll(HMODULE dll)
{
    wchar_t name[MAX_PATH], now[MAX_PATH];
    if (!GetModuleFileNameW(dll, name, MAX_PATH))
        return false;
    for (unsigned i = 0; i < 100000; i++) {
        HMODULE h = NULL;
        FreeLibrary(dll);
        if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                    GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                                (LPCWSTR)dll, &h) ||
            h != dll || !GetModuleFileNameW(dll, now, MAX_PATH) ||
            CompareStringOrdinal(name, -1, now, -1, TRUE) != CSTR_EQUAL)
            return true; /* unmapped (or another module there now: ours is gone) */
    }
    return false;
}

static void note_kept(shim_kept *kept, uint32_t id, uint32_t reason, uint32_t by)
{
    if (!kept->reason)
        *kept = (shim_kept){ reason, id, by };
}

void shim_unload(const hp_wire_registry *r, uint32_t id, uint64_t base, uint64_t stub_page,
                 shim_kept *kept)
{
    const hp_wire_patch *live = (const hp_wire_patch *)(uintptr_t)r->patches;
    for (uint32_t i = 0; i < r->count; i++)
        if (live[i].patch_base == base) {
            note_kept(kept, id, HP_WIRE_KEPT_SHARED, live[i].id);
            return;
        }
    HMODULE dll = (HMODULE)(uintptr_t)base;
    unload_ranges u;
    uint32_t tid = 0, why;
    if (!code_ranges(dll, stub_page, &u))
        why = HP_WIRE_KEPT_UNCHECKED;
    else
        why = threads_in(&u, &tid);
    if (why) {
        note_kept(kept, id, why, tid);
        return;
    }
    if (!release_dll(dll)) {
        note_kept(kept, id, HP_WIRE_KEPT_REFERENCED, 0);
        return;
    }
    if (stub_page) /* no thread is in it or returns into it */
        hp_win_free(GetCurrentProcess(), stub_page);
}

void shim_unload_kept(const hp_wire_registry *r, shim_kept *kept)
{
    HMODULE mods[512];
    DWORD need = 0;
    if (!EnumProcessModules(GetCurrentProcess(), mods, sizeof mods, &need))
        return;
    size_t n = need / sizeof mods[0];
    for (size_t i = 0; i < n && i < sizeof mods / sizeof mods[0]; i++) {
        MODULEINFO mi;
        hp_arena a = HP_ARENA_INIT;
        hp_pe pe;
        bool patch = mods[i] != GetModuleHandleW(NULL) &&
                     GetModuleInformation(GetCurrentProcess(), mods[i], &mi, sizeof mi) &&
                     hp_pe_parse(&pe, &a, mods[i], mi.SizeOfImage, HP_PE_LAYOUT_LOADED) == HP_OK &&
                     hp_pe_section_by_name(&pe, HP_HOTP_SECTION_NAME) != NULL;
        hp_arena_free(&a);
        if (patch)
            shim_unload(r, 0, (uint64_t)(uintptr_t)mods[i], 0, kept);
    }
}

