/*
 * hotpe-shim.dll: the channel. The first request of a process comes on a remote thread
 * (hotpe_shim_run); it also starts one worker thread here, which serves every later request:
 * the requester writes its block as before, puts the block's address in the registry's
 * `mailbox` and sets `request_event`; the worker serves the block exactly as the remote
 * thread would and sets `done_event`. A remote thread per request costs a wineserver APC, a
 * thread start and every DLL's thread attach; the channel costs two events.
 *
 * Who may ask: the handles are anonymous, so a requester must duplicate them out of this
 * process (PROCESS_DUP_HANDLE) and write a block into it (PROCESS_VM_WRITE): the rights that
 * CreateRemoteThread needs as well. Nothing here trusts the mailbox: the block it names is
 * read through the same bounded copy (request.c).
 */
#include <windows.h>
#include <string.h>

#include "shim.h"

static DWORD WINAPI worker(void *arg)
{
    hp_wire_registry *r = arg;
    HANDLE request = (HANDLE)(uintptr_t)r->channel.request_event;
    HANDLE done = (HANDLE)(uintptr_t)r->channel.done_event;
    for (;;) {
        if (WaitForSingleObject(request, INFINITE) != WAIT_OBJECT_0)
            return 1;
        uint64_t block = __atomic_load_n(&r->channel.mailbox, __ATOMIC_ACQUIRE);
        hp_status s = shim_serve(r, (void *)(uintptr_t)block, true);
        /* for a block refused unanswered: its requester finds its status here */
        __atomic_store_n(&r->channel.last_status, (uint32_t)s, __ATOMIC_RELAXED);
        __atomic_store_n(&r->channel.last_block, block, __ATOMIC_RELEASE);
        SetEvent(done);
    }
}

/* A worker that ended (something in the process terminated it): its channel is dropped and
 * a new one started. */
static bool worker_alive(const hp_wire_channel *c)
{
    return c->worker && WaitForSingleObject((HANDLE)(uintptr_t)c->worker, 0) == WAIT_TIMEOUT;
}

static void drop(hp_wire_registry *r)
{
    hp_wire_channel c = r->channel;
    if (!c.request_event && !c.done_event && !c.mutex && !c.worker)
        return; /* none yet */
    shim_reg_begin(r);
    memset(&r->channel, 0, sizeof r->channel);
    shim_reg_end(r);
    const uint64_t hs[] = { c.request_event, c.done_event, c.mutex, c.worker };
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        if (hs[i])
            CloseHandle((HANDLE)(uintptr_t)hs[i]);
}

void shim_channel_start(hp_wire_registry *r)
{
    if (worker_alive(&r->channel))
        return;
    drop(r);
    HANDLE request = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE done = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE mutex = CreateMutexW(NULL, FALSE, NULL);
    HANDLE th = NULL;
    DWORD tid = 0;
    if (request && done && mutex) {
        shim_reg_begin(r);
        r->channel.request_event = (uintptr_t)request;
        r->channel.done_event = (uintptr_t)done;
        r->channel.mutex = (uintptr_t)mutex;
        shim_reg_end(r);
        /* a small stack: it runs the same stages as a remote thread, which gets the default */
        th = CreateThread(NULL, 256 * 1024, worker, r, STACK_SIZE_PARAM_IS_A_RESERVATION, &tid);
    }
    if (!th) { /* no channel: every request keeps coming on a remote thread */
        r->channel.request_event = (uintptr_t)request;
        r->channel.done_event = (uintptr_t)done;
        r->channel.mutex = (uintptr_t)mutex;
        drop(r);
        return;
    }
    shim_reg_begin(r);
    r->channel.worker = (uintptr_t)th;
    r->channel.worker_tid = tid;
    shim_reg_end(r);
}
