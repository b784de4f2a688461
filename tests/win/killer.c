/*
 * killer: `hotpe apply` and `hotpe revert` killed at random moments, from one process, for
 * wine-tests/test_killed.sh (docs/live.md: a killed hotpe never leaves a half-written
 * site, and the next hotpe sees the true state).
 *
 *   killer HOTPE.exe PID PATCH.dll APPLIES SEED RVA:LEN...
 *
 * RVA:LEN are the target.exe sites (padding through the entry's first 2 bytes). The target
 * (wine-tests/live/target_rb.c) exports g_calls and g_seen_compute (compute(5) as its busy
 * threads last saw it: 10 original, 15 patched). First one apply and one revert run to the end
 * (their times bound the random delays, and the apply shows what a patched site looks like);
 * then, until APPLIES applies and APPLIES/5 reverts were started: apply when the target is
 * original, revert when patched, TerminateProcess after a random delay of 0.3 to 1.1 times the run (after
 * 3 runs in a row that changed nothing, one runs to its end). After
 * each kill, once the target is settled (registry unlocked and bytes unchanged over 200 ms):
 * the target still runs and its threads still call compute() with the result of the state;
 * every site is entirely original or entirely patched (padding jump to the replacement and
 * the entry's short jump), all sites alike; `hotpe list --json` lists the patch iff the sites
 * are patched, with every site "live". Prints a line per failure and a summary; exit status 0
 * when there were none, 1 otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <psapi.h>

#include "hotpe/engine/wire.h"
#include "hotpe/pe/pe.h"

#define PAD_MAX 8                       /* longest padding jump (FF 25 disp32 is 6) */

#define MAX_SITES 16

typedef struct site {
    uint32_t rva, len;                  /* padding through the entry's 2 bytes */
    uint8_t orig[PAD_MAX + 2], patched_entry[2];
    uint64_t dest;                      /* where the patched padding jump goes */
} site;

static HANDLE target;
static uint64_t base;                   /* target.exe in the target */
static site sites[MAX_SITES];
static int nsites, failures;

static void fail(int run, const char *fmt, const char *detail)
{
    printf("FAIL run %d: ", run);
    printf(fmt, detail);
    printf("\n");
    failures++;
}

static uint64_t module_base(const char *name, uint32_t *size)
{
    HMODULE mods[1024];
    DWORD need = 0;
    for (int i = 0; i < 50 && !EnumProcessModulesEx(target, mods, sizeof mods, &need, LIST_MODULES_ALL); i++)
        Sleep(1);
    for (size_t i = 0; i < need / sizeof mods[0] && i < 1024; i++) {
        char n[MAX_PATH];
        MODULEINFO mi;
        if (GetModuleBaseNameA(target, mods[i], n, sizeof n) && _stricmp(n, name) == 0 &&
            GetModuleInformation(target, mods[i], &mi, sizeof mi)) {
            if (size)
                *size = mi.SizeOfImage;
            return (uint64_t)(uintptr_t)mods[i];
        }
    }
    return 0;
}

/* An export's address in the target, from its copy of the module. */
static uint64_t remote_export(const char *module, const char *name)
{
    uint32_t size = 0;
    uint64_t b = module_base(module, &size), addr = 0;
    uint8_t *img = b ? calloc(1, size) : NULL;
    if (!img)
        return 0;
    for (uint32_t off = 0; off < size; off += 0x1000)
        ReadProcessMemory(target, (void *)(uintptr_t)(b + off), img + off,
                          size - off < 0x1000 ? size - off : 0x1000, NULL);
    hp_arena a = HP_ARENA_INIT;
    hp_pe pe;
    hp_pe_exports ex;
    const hp_pe_export *e = NULL;
    if (hp_pe_parse(&pe, &a, img, size, HP_PE_LAYOUT_LOADED) == HP_OK &&
        hp_pe_exports_parse(&pe, &a, &ex) == HP_OK && hp_pe_exports_resolve(&ex, name, &e) == HP_OK &&
        e && e->rva && !e->forwarder)
        addr = b + e->rva;
    hp_arena_free(&a);
    free(img);
    return addr;
}

static bool peek(uint64_t at, void *buf, size_t n)
{
    SIZE_T got = 0;
    return ReadProcessMemory(target, (void *)(uintptr_t)at, buf, n, &got) && got == n;
}

/* Where a padding jump goes: E9 rel32 (x86), FF 25 disp32 through its slot (x64); 0: neither. */
static uint64_t jump_dest(uint64_t at, const uint8_t *p, uint32_t padlen)
{
    int32_t d;
    if (padlen >= 5 && p[0] == 0xe9) {
        memcpy(&d, p + 1, 4);
        return (uint64_t)((int64_t)at + 5 + d) & (sizeof(void *) == 8 ? ~0ull : 0xffffffffull);
    }
    if (padlen >= 6 && p[0] == 0xff && p[1] == 0x25) {
        uint64_t slot = 0;
        memcpy(&d, p + 2, 4);
        if (!peek((uint64_t)((int64_t)at + 6 + d), &slot, sizeof(void *)))
            return 0;
        return slot;
    }
    return 0;
}

enum { ORIG = 0, PATCHED = 1, MIXED = 2, UNREADABLE = 3 };
static const char *state_names[] = { "original", "patched", "mixed", "unreadable" };

/* The state of all sites together; bytes: the raw bytes, for the stability check. */
static int sites_state(uint8_t *bytes, char *why, size_t cap)
{
    int st = -1;
    size_t k = 0;
    for (int i = 0; i < nsites; i++) {
        uint8_t b[PAD_MAX + 2];
        site *s = &sites[i];
        uint32_t pad = s->len - 2;
        if (!peek(base + s->rva, b, s->len))
            return UNREADABLE;
        memcpy(bytes + k, b, s->len);
        k += s->len;
        int this;
        if (memcmp(b, s->orig, s->len) == 0)
            this = ORIG;
        else if (memcmp(b + pad, s->patched_entry, 2) == 0 && s->dest &&
                 jump_dest(base + s->rva, b, pad) == s->dest)
            this = PATCHED;
        else
            this = MIXED;
        if (this == MIXED || (st >= 0 && this != st)) {
            snprintf(why, cap, "site %d (RVA 0x%x) %s, others %s", i, s->rva, state_names[this],
                     st < 0 ? "-" : state_names[st]);
            return MIXED;
        }
        st = this;
    }
    return st;
}

/* The registry's lock, seq and count (all 0 without the shim). */
static bool registry(uint64_t reg, uint32_t *lock, uint32_t *seq, uint32_t *count)
{
    *lock = *seq = *count = 0;
    return !reg || (peek(reg + offsetof(hp_wire_registry, lock), lock, 4) &&
                    peek(reg + offsetof(hp_wire_registry, seq), seq, 4) &&
                    peek(reg + offsetof(hp_wire_registry, count), count, 4));
}

/* Run hotpe with args; kill_ms < 0: to the end (its time in *ms). Output to NUL, or (out) a pipe. */
static DWORD run_hotpe(const char *hotpe, const char *args, int kill_ms, DWORD *ms, char *out,
                       size_t cap, bool *killed)
{
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    HANDLE nul = CreateFileA("NUL", GENERIC_WRITE, FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0, NULL);
    HANDLE rd = NULL, wr = NULL;
    if (out)
        CreatePipe(&rd, &wr, &sa, 1 << 16);
    if (rd)
        SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = NULL;
    si.hStdOutput = out ? wr : nul;
    si.hStdError = nul;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "\"%s\" %s", hotpe, args);
    DWORD t0 = GetTickCount(), code = 0xffffffff;
    *killed = false;
    if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        printf("killer: CreateProcess %s: error %lu\n", cmd, GetLastError());
        CloseHandle(nul);
        return code;
    }
    if (wr)
        CloseHandle(wr);
    if (kill_ms >= 0 && WaitForSingleObject(pi.hProcess, (DWORD)kill_ms) == WAIT_TIMEOUT) {
        TerminateProcess(pi.hProcess, 99);
        *killed = true;
    }
    size_t n = 0;
    while (out && n + 1 < cap) {
        DWORD got = 0;
        if (!ReadFile(rd, out + n, (DWORD)(cap - 1 - n), &got, NULL) || !got)
            break;
        n += got;
    }
    if (out)
        out[n] = 0;
    WaitForSingleObject(pi.hProcess, 120000);
    GetExitCodeProcess(pi.hProcess, &code);
    if (ms)
        *ms = GetTickCount() - t0;
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    if (rd)
        CloseHandle(rd);
    CloseHandle(nul);
    return code;
}

static int count_of(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* Request blocks (VirtualAllocEx'd by hotpe) still in the target: a killed hotpe never frees
 * its own. *answered: those the shim answered (which the shim frees at its next request once
 * their hotpe is gone); the others were never handed to it. */
static int leaked_requests(int *answered)
{
    int n = 0;
    *answered = 0;
    MEMORY_BASIC_INFORMATION mbi;
    for (uint8_t *at = NULL; VirtualQueryEx(target, at, &mbi, sizeof mbi) == sizeof mbi;
         at = (uint8_t *)mbi.BaseAddress + mbi.RegionSize) {
        uint32_t head[3];
        if (mbi.State == MEM_COMMIT && mbi.Type == MEM_PRIVATE && mbi.Protect == PAGE_READWRITE &&
            mbi.RegionSize >= sizeof(hp_wire_request) && peek((uint64_t)(uintptr_t)mbi.BaseAddress, head, sizeof head) &&
            head[0] == HP_WIRE_REQUEST_MAGIC && head[2] == sizeof(hp_wire_request)) {
            uint32_t done = 0;
            n++;
            peek((uint64_t)(uintptr_t)mbi.BaseAddress + offsetof(hp_wire_request, result.done),
                 &done, sizeof done);
            *answered += done == 1;
        }
        if ((uint8_t *)mbi.BaseAddress + mbi.RegionSize < at)
            break;
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: killer HOTPE.exe PID PATCH.dll APPLIES SEED RVA:LEN...\n");
        return 2;
    }
    const char *hotpe = argv[1], *patch = argv[3];
    DWORD pid = strtoul(argv[2], NULL, 0);
    int want_applies = atoi(argv[4]);
    srand((unsigned)strtoul(argv[5], NULL, 0));
    target = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ | SYNCHRONIZE, FALSE, pid);
    if (!target || !(base = module_base("target.exe", NULL))) {
        printf("killer: pid %lu: cannot open it or find target.exe\n", pid);
        return 1;
    }
    for (int i = 6; i < argc && nsites < MAX_SITES; i++) {
        char *c;
        site *s = &sites[nsites++];
        s->rva = strtoul(argv[i], &c, 0);
        s->len = *c == ':' ? strtoul(c + 1, NULL, 0) : 0;
        if (s->len < 7 || s->len > PAD_MAX + 2 || !peek(base + s->rva, s->orig, s->len)) {
            printf("killer: bad site %s\n", argv[i]);
            return 2;
        }
    }
    uint64_t calls_at = remote_export("target.exe", "g_calls");
    uint64_t seen_at = remote_export("target.exe", "g_seen_compute");
    if (!calls_at || !seen_at) {
        printf("killer: target.exe exports no g_calls / g_seen_compute\n");
        return 1;
    }
    char apply_args[1024], revert_args[64], list_args[64], why[160], out[1 << 16];
    snprintf(apply_args, sizeof apply_args, "apply --pid %lu \"%s\"", pid, patch);
    snprintf(revert_args, sizeof revert_args, "revert --pid %lu --all", pid);
    snprintf(list_args, sizeof list_args, "list --pid %lu --json", pid);

    /* one apply and one revert to the end: their times, and what a patched site looks like */
    DWORD apply_ms = 0, revert_ms = 0;
    bool killed;
    if (run_hotpe(hotpe, apply_args, -1, &apply_ms, NULL, 0, &killed) != 0) {
        printf("killer: the first apply failed\n");
        return 1;
    }
    for (int i = 0; i < nsites; i++) {
        uint8_t b[PAD_MAX + 2];
        site *s = &sites[i];
        peek(base + s->rva, b, s->len);
        memcpy(s->patched_entry, b + s->len - 2, 2);
        s->dest = jump_dest(base + s->rva, b, s->len - 2);
        if (!s->dest || memcmp(b, s->orig, s->len) == 0) {
            printf("killer: site RVA 0x%x not patched by the first apply\n", s->rva);
            return 1;
        }
    }
    /* the shim is in now: the times that the kills race with */
    if (run_hotpe(hotpe, revert_args, -1, &revert_ms, NULL, 0, &killed) != 0 ||
        run_hotpe(hotpe, apply_args, -1, &apply_ms, NULL, 0, &killed) != 0 ||
        run_hotpe(hotpe, revert_args, -1, &revert_ms, NULL, 0, &killed) != 0) {
        printf("killer: the first revert or apply failed\n");
        return 1;
    }
    printf("killer: apply %lu ms, revert %lu ms to the end\n", apply_ms, revert_ms);

    uint64_t reg = 0;
    int applies = 0, reverts = 0, kills = 0, late = 0, states[4] = { 0 }, run = 0;
    uint8_t bytes[MAX_SITES * (PAD_MAX + 2)], again[sizeof bytes];
    int state = ORIG, same = 0; /* runs in a row that left the state as it was */
    while ((applies < want_applies || reverts < want_applies / 5) && run < 4 * want_applies) {
        run++;
        bool apply = state != PATCHED;
        DWORD full = apply ? apply_ms : revert_ms, took = 0;
        /* after 3 runs that changed nothing, one runs to its end */
        int delay = same >= 3 ? -1 : (int)((0.3 + 0.8 * rand() / RAND_MAX) * full);
        run_hotpe(hotpe, apply ? apply_args : revert_args, delay, &took, NULL, 0, &killed);
        if (!killed) /* the delays follow the runs' times (the machine is shared) */
            *(apply ? &apply_ms : &revert_ms) = (3 * full + took) / 4;
        applies += apply;
        reverts += !apply;
        kills += killed;
        int before = state;

        /* settled: registry unlocked and even, and the same bytes over 200 ms */
        uint32_t lock, seq, count, seq2;
        bool settled = false;
        for (int tries = 0; tries < 150 && !settled; tries++) {
            if (!reg)
                reg = remote_export(HP_WIRE_SHIM_NAME, HP_WIRE_REGISTRY_EXPORT);
            state = sites_state(bytes, why, sizeof why);
            registry(reg, &lock, &seq, &count);
            Sleep(200);
            int s2 = sites_state(again, why, sizeof why);
            registry(reg, &lock, &seq2, &count);
            settled = s2 == state && state <= PATCHED && !lock && !(seq & 1) && seq == seq2 &&
                      memcmp(bytes, again, sizeof bytes) == 0;
        }
        if (WaitForSingleObject(target, 0) != WAIT_TIMEOUT) {
            fail(run, "%s", "the target is gone");
            break;
        }
        if (!settled) {
            fail(run, "not settled after 30 s: %s", state > PATCHED ? why : "registry locked or changing");
            state = state > PATCHED ? ORIG : state;
            continue;
        }
        states[state]++;
        same = state == before ? same + 1 : 0;
        late += killed && state != before; /* killed after its request reached the shim */
        /* the busy threads call compute() and see the state's result */
        long c1 = 0, c2 = 0, seen = 0;
        peek(calls_at, &c1, sizeof c1);
        Sleep(100);
        peek(calls_at, &c2, sizeof c2);
        peek(seen_at, &seen, sizeof seen);
        long want = state == PATCHED ? 15 : 10;
        if (c2 == c1 || seen != want) {
            snprintf(why, sizeof why, "calls %ld -> %ld, compute(5) %ld, want %ld", c1, c2, seen, want);
            fail(run, "the target's threads: %s", why);
        }
        /* hotpe list --json tells the truth */
        DWORD rc = run_hotpe(hotpe, list_args, -1, NULL, out, sizeof out, &killed);
        int listed = count_of(out, "\"id\":"), live = count_of(out, "\"live\"");
        int odd = count_of(out, "\"writing\"") + count_of(out, "\"reverting\"");
        if (rc != 0 || listed != (state == PATCHED) || odd || (state == PATCHED && live != nsites)) {
            snprintf(why, sizeof why, "rc %lu, %d patches, %d live sites, %d mid-change, sites %s",
                     rc, listed, live, odd, state_names[state]);
            fail(run, "hotpe list: %s", why);
        }
    }
    printf("killer: %d runs (%d apply, %d revert), %d killed before their end (%d of them after "
           "the shim took the request, which still completed); after them the sites were "
           "original %d times, patched %d times; %d failures\n",
           run, applies, reverts, kills, late, states[ORIG], states[PATCHED], failures);
    /* two more requests to their end: the shim frees the answered blocks of killed hotpes */
    int answered = 0, left = leaked_requests(&answered), answered_after = 0;
    if (state == PATCHED)
        run_hotpe(hotpe, revert_args, -1, NULL, NULL, 0, &killed);
    if (run_hotpe(hotpe, apply_args, -1, NULL, NULL, 0, &killed) != 0 ||
        run_hotpe(hotpe, revert_args, -1, NULL, NULL, 0, &killed) != 0)
        fail(run, "%s", "the final apply and revert failed");
    int left_after = leaked_requests(&answered_after);
    printf("killer: %d request blocks left in the target (%d answered by the shim); after two "
           "more requests %d (%d answered)\n", left, answered, left_after, answered_after);
    if (answered_after) {
        char n[16];
        snprintf(n, sizeof n, "%d", answered_after);
        fail(run, "%s answered request blocks of killed hotpes were not freed", n);
    }
    return failures ? 1 : 0;
}
