/*
 * hotpe-shim.dll: the channel. The first request of a process comes on a remote thread
 * (hotpe_shim_run) and offers two events and a mutex that hotpe created and duplicated into
 * this process. With no live worker, that thread publishes them with itself as the worker,
 * answers by setting `done_event`, and stays: the requester of each later request writes its
 * block as before, puts the block's address in the registry's `mailbox` and sets
 * `request_event`; the worker serves the block exactly as the remote thread did and sets
 * `done_event`. A remote thread per request costs a wineserver APC, a thread start and every
 * DLL's thread attach; a second thread for the worker would cost the process about 1 MB under
 * Wine. An offer not taken is closed by hotpe once the remote thread has ended.
 *
 * Who may ask: the handles are anonymous, so a requester must duplicate them out of this
 * process (PROCESS_DUP_HANDLE) and write a block into it (PROCESS_VM_WRITE): the rights that
 * CreateRemoteThread needs as well. Nothing here trusts the mailbox: the block it names is
 * read through the same bounded copy (request.c).
 */
#include <windows.h>
#include <string.h>

#include "shim.h"

DWORD shim_channel_serve(hp_wire_registry *r)
{
    HANDLE request = (HANDLE)(uintptr_t)r->channel.request_event;
    HANDLE done = (HANDLE)(uintptr_t)r->channel.done_event;
    SetEvent(done); /* the request that made this thread the worker */
    for (;;) {
        if (WaitForSingleObject(request, INFINITE) != WAIT_OBJECT_0)
            return 1;
        uint64_t block = __atomic_load_n(&r->channel.mailbox, __ATOMIC_ACQUIRE);
        hp_status s = shim_serve(r, (void *)(uintptr_t)block, NULL);
        /* for a block refused unanswered: its requester finds its status here */
        __atomic_store_n(&r->channel.last_status, (uint32_t)s, __ATOMIC_RELAXED);
        __atomic_store_n(&r->channel.last_block, block, __ATOMIC_RELEASE);
        SetEvent(done);
    }
}

/* A worker that ended (something in the process terminated it): its channel is dropped and
 * the next offer taken. */
static bool worker_alive(const hp_wire_channel *c)
{
    return c->worker && WaitForSingleObject((HANDLE)(uintptr_t)c->worker, 0) == WAIT_TIMEOUT;
}

/* A handle this process can wait on (an offer's values are the requester's word). */
static bool waitable(uint64_t h)
{
    return h && WaitForSingleObject((HANDLE)(uintptr_t)h, 0) != WAIT_FAILED;
}

bool shim_channel_adopt(hp_wire_registry *r, const hp_wire_request *offer)
{
    if (worker_alive(&r->channel) || !waitable(offer->offer_request) ||
        !waitable(offer->offer_done) || !offer->offer_mutex)
        return false;
    HANDLE self = NULL;
    if (!DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &self,
                         SYNCHRONIZE, FALSE, 0))
        return false;
    hp_wire_channel old = r->channel;
    shim_reg_begin(r);
    memset(&r->channel, 0, sizeof r->channel);
    r->channel.request_event = offer->offer_request;
    r->channel.done_event = offer->offer_done;
    r->channel.mutex = offer->offer_mutex;
    r->channel.worker = (uintptr_t)self;
    r->channel.worker_tid = GetCurrentThreadId();
    shim_reg_end(r);
    const uint64_t hs[] = { old.request_event, old.done_event, old.mutex, old.worker };
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        if (hs[i])
            CloseHandle((HANDLE)(uintptr_t)hs[i]);
    return true;
}
