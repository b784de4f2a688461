/*
 * shimreq: malformed request blocks handed to hotpe-shim.dll's hotpe_shim_run, in this process
 * (LoadLibrary + GetProcAddress: the code path a CreateRemoteThread from hotpe runs), for
 * wine-tests/test_badinput.sh:
 *
 *   shimreq PATH\hotpe-shim.dll
 *
 * NULL, a wild pointer, reserved, PAGE_NOACCESS and guard pages; wrong magic, version and
 * size, a block cut short by the end of its region; an unknown verb, an apply whose path has
 * no NUL or is empty; a read-only block; a registry lock left held. Each must be refused with
 * its status as the exit code, in the result part when the header is valid and the block
 * writable (else the block is left untouched), without a crash; the registry (the exported
 * hotpe_registry) must be the same afterwards but for its request counter. Then the answered
 * blocks of requesters (hotpe) that ended without freeing them: freed by the shim at its next
 * request, unlike those of a live requester and blocks that are no longer the request's. Then
 * the channel: a request on a thread that offers one stays as its worker (it answers through
 * the done event, serves blocks, refuses malformed ones); a second offer is not taken while
 * that worker lives, and is taken again after it was terminated.
 * Prints one line per case and "shimreq: N passed, M failed"; exit status 0 when all passed, 1
 * otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include <windows.h>

#include "hotpe/engine/wire.h"
#include "hotpe/engine/proc.h"
#include "hotpe/engine/win.h"

typedef DWORD(WINAPI *run_fn)(void *);

static int passed, failed;
static run_fn run;
static hp_wire_registry *reg;

static void expect(const char *what, bool ok, const char *detail)
{
    printf("%s: %s%s%s\n", ok ? "ok" : "FAIL", what, detail ? ": " : "", detail ? detail : "");
    if (ok)
        passed++;
    else
        failed++;
}

/* A well-formed block: revert of patch id 12345 (none is live here). */
static void well_formed(hp_wire_request *r)
{
    memset(r, 0, sizeof *r);
    r->magic = HP_WIRE_REQUEST_MAGIC;
    r->version = HP_WIRE_VERSION;
    r->size = sizeof *r;
    r->verb = HP_WIRE_VERB_REVERT;
    r->patch_id = 12345;
    memset(&r->result, 0xa5, sizeof r->result);
}

static bool untouched(const hp_wire_result *res)
{
    const uint8_t *p = (const uint8_t *)res;
    for (size_t i = 0; i < sizeof *res; i++)
        if (p[i] != 0xa5)
            return false;
    return true;
}

/* Run one block; want: the exit code; answered: the result part must hold it, else (when it
 * is ours to read: a well_formed block edited) be untouched. */
static void one(const char *what, void *block, hp_status want, bool answered)
{
    MEMORY_BASIC_INFORMATION mbi;
    bool ours = block && VirtualQuery(block, &mbi, sizeof mbi) && mbi.Protect == PAGE_READWRITE &&
                (uint8_t *)mbi.BaseAddress + mbi.RegionSize >= (uint8_t *)block + sizeof(hp_wire_request);
    char d[160];
    DWORD code = run(block);
    const hp_wire_result *res = ours ? &((hp_wire_request *)block)->result : NULL;
    bool ok = code == (DWORD)want;
    if (res && answered)
        ok = ok && res->done == 1 && res->status == (uint32_t)want;
    else if (res)
        ok = ok && untouched(res);
    snprintf(d, sizeof d, "exit %lu (%s), want %u", (unsigned long)code,
             hp_status_known(code) ? hp_status_str((hp_status)code) : "?", (unsigned)want);
    expect(what, ok, d);
}

/* A process that has ended: this program with bad usage (exit 2 at once). */
static bool ended_process(uint32_t *pid, uint64_t *created)
{
    char self[MAX_PATH], cmd[MAX_PATH + 16];
    if (!GetModuleFileNameA(NULL, self, MAX_PATH))
        return false;
    snprintf(cmd, sizeof cmd, "\"%s\" x y", self);
    STARTUPINFOA si = { .cb = sizeof si, .dwFlags = STARTF_USESTDHANDLES };
    PROCESS_INFORMATION pi;
    if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        return false;
    bool ok = WaitForSingleObject(pi.hProcess, 30000) == WAIT_OBJECT_0;
    *pid = pi.dwProcessId;
    *created = hp_win_started(pi.hProcess);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return ok && *created;
}

/* A well-formed block of its own allocation, made by (pid, created). */
static hp_wire_request *owned(uint32_t pid, uint64_t created, uint64_t nonce)
{
    hp_wire_request *b = VirtualAlloc(NULL, sizeof *b, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (b) {
        well_formed(b);
        b->owner_pid = pid;
        b->owner_created = created;
        b->nonce = nonce;
    }
    return b;
}

static bool freed(const void *p)
{
    MEMORY_BASIC_INFORMATION mbi;
    return VirtualQuery(p, &mbi, sizeof mbi) && mbi.State == MEM_FREE;
}

static unsigned pending(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < HP_WIRE_MAX_PENDING; i++)
        n += reg->pending[i].block != 0;
    return n;
}

static void abandoned_blocks(hp_wire_request *plain)
{
    uint32_t dead_pid, me = GetCurrentProcessId();
    uint64_t dead_created, my_created = hp_win_started(GetCurrentProcess());
    if (!ended_process(&dead_pid, &dead_created)) {
        expect("a process that has ended, for the owner cases", false, NULL);
        return;
    }
    hp_wire_request *dead = owned(dead_pid, dead_created, 1), *live = owned(me, my_created, 2),
                    *moved = owned(dead_pid, dead_created, 3),
                    *reused_pid = owned(me, my_created + 1, 4);
    if (!dead || !live || !moved || !reused_pid) {
        expect("allocate the owner cases' blocks", false, NULL);
        return;
    }
    one("a block whose requester has ended", dead, HP_E_LIVE_NO_PATCH, true);
    expect("it is kept for the next request", pending() == 1 && !freed(dead), NULL);
    one("a block whose requester runs", live, HP_E_LIVE_NO_PATCH, true);
    expect("the next request freed the ended requester's block", freed(dead), NULL);
    expect("the running requester's block stays", !freed(live) && pending() == 1, NULL);
    one("a block of an ended requester, then no longer that request's", moved, HP_E_LIVE_NO_PATCH,
        true);
    moved->nonce = 99; /* as if its requester had freed it and the memory were another's */
    one("a block of a pid now used by another process", reused_pid, HP_E_LIVE_NO_PATCH, true);
    well_formed(plain);
    one("a block with no owner", plain, HP_E_LIVE_NO_PATCH, true);
    expect("a block no longer the request's is left alone", !freed(moved), NULL);
    expect("a pid reused by another process counts as ended", freed(reused_pid), NULL);
    expect("only the running requester's block is still pending", pending() == 1, NULL);
    VirtualFree(live, 0, MEM_RELEASE); /* as hotpe does once it has read the result */
    well_formed(plain);
    one("one more request", plain, HP_E_LIVE_NO_PATCH, true);
    expect("a block its requester freed is forgotten", pending() == 0, NULL);
    VirtualFree(moved, 0, MEM_RELEASE);
}

/* One request through the channel, as hotpe sends it: mailbox, request event, done event. */
static bool via_channel(void *block)
{
    __atomic_store_n(&reg->channel.mailbox, (uint64_t)(uintptr_t)block, __ATOMIC_RELEASE);
    return SetEvent((HANDLE)(uintptr_t)reg->channel.request_event) &&
           WaitForSingleObject((HANDLE)(uintptr_t)reg->channel.done_event, 10000) == WAIT_OBJECT_0;
}

/* A request on its own thread (as hotpe's remote thread) offering a channel: true when the
 * thread answered as the worker (done set, still running); else *code is its exit code. */
static bool offered(hp_wire_request *r, DWORD *code, HANDLE *done_out)
{
    HANDLE ev[3] = { CreateEventW(NULL, FALSE, FALSE, NULL), CreateEventW(NULL, FALSE, FALSE, NULL),
                     CreateMutexW(NULL, FALSE, NULL) };
    r->offer_request = (uintptr_t)ev[0];
    r->offer_done = (uintptr_t)ev[1];
    r->offer_mutex = (uintptr_t)ev[2];
    HANDLE th = CreateThread(NULL, 0, (LPTHREAD_START_ROUTINE)run, r, 0, NULL);
    HANDLE hs[2] = { th, ev[1] };
    DWORD w = WaitForMultipleObjects(2, hs, FALSE, 10000);
    *code = STILL_ACTIVE;
    if (w == WAIT_OBJECT_0) {
        GetExitCodeThread(th, code);
        for (int i = 0; i < 3; i++) /* not taken: ours to close, as hotpe does */
            CloseHandle(ev[i]);
    }
    CloseHandle(th);
    *done_out = ev[1];
    return w == WAIT_OBJECT_0 + 1;
}

/* The channel: the first request that offers one makes its thread the worker; it serves a
 * block, echoing its nonce; it refuses a malformed one unanswered, with the status in the
 * channel; a second offer is not taken while it lives; once it is terminated, the next offer
 * is taken. */
static void channel(hp_wire_request *r)
{
    char d[96];
    DWORD code;
    HANDLE done;
    expect("no channel before a request offers one", reg->channel.worker == 0, NULL);
    well_formed(r);
    r->nonce = 0x42;
    bool worker = offered(r, &code, &done);
    hp_wire_channel c = reg->channel;
    snprintf(d, sizeof d, "exit %lu, done %u status %u", (unsigned long)code, r->result.done,
             r->result.status);
    expect("a request offering a channel is answered through its done event by the thread, "
           "which stays as the worker",
           worker && r->result.done == 1 && r->result.status == HP_E_LIVE_NO_PATCH &&
           r->result.nonce == 0x42 && r->result.via_channel == 0, d);
    expect("the channel is published with that thread as its worker",
           c.worker && c.worker_tid && c.request_event == r->offer_request &&
           c.done_event == (uintptr_t)done && c.mutex == r->offer_mutex, NULL);
    well_formed(r);
    r->nonce = 0x1234567890abcdefull;
    bool ok = via_channel(r);
    snprintf(d, sizeof d, "done %u status %u nonce %llx via %u", r->result.done,
             r->result.status, (unsigned long long)r->result.nonce, r->result.via_channel);
    expect("a request through the channel is answered with its nonce",
           ok && r->result.done == 1 && r->result.status == HP_E_LIVE_NO_PATCH &&
           r->result.nonce == r->nonce && r->result.via_channel == 1, d);
    well_formed(r);
    r->magic ^= 1;
    ok = via_channel(r);
    expect("a malformed block through the channel: refused unanswered, status in the channel",
           ok && untouched(&r->result) && reg->channel.last_block == (uintptr_t)r &&
           reg->channel.last_status == HP_E_LIVE_REQUEST, NULL);
    well_formed(r);
    worker = offered(r, &code, &done);
    snprintf(d, sizeof d, "exit %lu", (unsigned long)code);
    expect("a second offer while the worker lives: served, the thread ends, channel unchanged",
           !worker && code == HP_E_LIVE_NO_PATCH && r->result.done == 1 &&
           reg->channel.worker_tid == c.worker_tid, d);
    HANDLE th = OpenThread(THREAD_TERMINATE | SYNCHRONIZE, FALSE, c.worker_tid);
    expect("the worker can be terminated", th && TerminateThread(th, 9) &&
           WaitForSingleObject(th, 5000) == WAIT_OBJECT_0, NULL);
    if (th)
        CloseHandle(th);
    well_formed(r);
    worker = offered(r, &code, &done);
    snprintf(d, sizeof d, "worker %d exit %lu, tid %lu (was %lu)", worker, (unsigned long)code,
             (unsigned long)reg->channel.worker_tid, (unsigned long)c.worker_tid);
    expect("after the worker was terminated, the next offer is taken by a new worker",
           worker && reg->channel.worker_tid && reg->channel.worker_tid != c.worker_tid, d);
    well_formed(r);
    ok = via_channel(r);
    expect("the new worker answers", ok && r->result.done == 1 && r->result.via_channel == 1,
           NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: shimreq PATH\\hotpe-shim.dll\n");
        return 2;
    }
    HMODULE shim = LoadLibraryA(argv[1]);
    if (!shim) {
        printf("FAIL: LoadLibrary %s: error %lu\n", argv[1], GetLastError());
        return 1;
    }
    run = (run_fn)(void (*)(void))GetProcAddress(shim, HP_WIRE_RUN_EXPORT);
    reg = (hp_wire_registry *)(void *)GetProcAddress(shim, HP_WIRE_REGISTRY_EXPORT);
    if (!run || !reg) {
        printf("FAIL: the shim's exports are missing\n");
        return 1;
    }
    hp_wire_registry *before = VirtualAlloc(NULL, sizeof *before, MEM_COMMIT, PAGE_READWRITE);
    memcpy(before, reg, sizeof *before);

    SYSTEM_INFO si;
    GetSystemInfo(&si);
    size_t page = si.dwPageSize, span = (sizeof(hp_wire_request) + page - 1) / page * page;
    /* blocks: [span RW][page NOACCESS], a reserved range, a guard page */
    uint8_t *mem = VirtualAlloc(NULL, span + page, MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    VirtualProtect(mem + span, page, PAGE_NOACCESS, &old);
    uint8_t *reserved = VirtualAlloc(NULL, page, MEM_RESERVE, PAGE_NOACCESS);
    uint8_t *guard = VirtualAlloc(NULL, span, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    hp_wire_request *r = (hp_wire_request *)mem;

    one("NULL", NULL, HP_E_LIVE_REQUEST, false);
    one("a wild pointer (0x10)", (void *)(uintptr_t)0x10, HP_E_LIVE_REQUEST, false);
    one("reserved memory", reserved, HP_E_LIVE_REQUEST, false);
    one("PAGE_NOACCESS memory", mem + span, HP_E_LIVE_REQUEST, false);
    one("a guard page", guard, HP_E_LIVE_REQUEST, false);
    well_formed(r);
    r->magic ^= 1;
    one("wrong magic", r, HP_E_LIVE_REQUEST, false);
    well_formed(r);
    r->version = HP_WIRE_VERSION + 1;
    one("wrong version", r, HP_E_LIVE_REQUEST, false);
    well_formed(r);
    r->size = 16;
    one("size too small", r, HP_E_LIVE_REQUEST, false);
    well_formed(r);
    r->size = 0x10000;
    one("size too large", r, HP_E_LIVE_REQUEST, false);
    /* a valid header whose block runs into the PAGE_NOACCESS page */
    hp_wire_request *cut = (hp_wire_request *)(mem + span - offsetof(hp_wire_request, result));
    memset(cut, 0, offsetof(hp_wire_request, result));
    cut->magic = HP_WIRE_REQUEST_MAGIC;
    cut->version = HP_WIRE_VERSION;
    cut->size = sizeof *cut;
    cut->verb = HP_WIRE_VERB_REVERT;
    one("a block cut short by its region", cut, HP_E_LIVE_REQUEST, false);
    well_formed(r);
    r->verb = 0;
    one("verb 0", r, HP_E_LIVE_REQUEST, true);
    well_formed(r);
    r->verb = 99;
    one("verb 99", r, HP_E_LIVE_REQUEST, true);
    well_formed(r);
    r->verb = HP_WIRE_VERB_APPLY;
    for (unsigned i = 0; i < HP_WIRE_PATH_MAX; i++)
        r->path[i] = 'A';
    one("apply: path without NUL", r, HP_E_LIVE_REQUEST, true);
    well_formed(r);
    r->verb = HP_WIRE_VERB_APPLY;
    one("apply: empty path", r, HP_E_LIVE_REQUEST, true);
    well_formed(r);
    r->verb = HP_WIRE_VERB_APPLY;
    memcpy(r->path, L"C:\\no\\such\\patch.dll", sizeof L"C:\\no\\such\\patch.dll");
    one("apply: no such file", r, HP_E_IO, true);
    /* well-formed requests: a revert of an unknown id, also from a read-only block */
    well_formed(r);
    one("revert of an unknown id", r, HP_E_LIVE_NO_PATCH, true);
    well_formed(r);
    VirtualProtect(mem, span, PAGE_READONLY, &old);
    one("read-only block (exit code only)", r, HP_E_LIVE_NO_PATCH, false);
    VirtualProtect(mem, span, PAGE_READWRITE, &old);
    expect("read-only block untouched", untouched(&r->result), NULL);
    /* a lock left held (a request thread killed inside the shim): refused after ~5 s */
    reg->lock = 1;
    well_formed(r);
    one("registry lock held", r, HP_E_LIVE_REGISTRY, true);
    reg->lock = 0;

    /* the well-formed requests above were served (on this thread: none offered a channel) */
    before->requests = reg->requests;
    before->seq = reg->seq;
    before->channel = reg->channel;
    expect("registry unchanged but for its request counter and channel",
           memcmp(before, reg, sizeof *reg) == 0, NULL);
    expect("registry: unlocked, stable, empty", reg->lock == 0 && !(reg->seq & 1) && reg->count == 0, NULL);
    abandoned_blocks(r);
    channel(r);
    printf("shimreq: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
