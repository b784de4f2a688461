/*
 * hotpe-shim.dll: the request block. hotpe writes it into this process and starts
 * hotpe_shim_run on it; its bytes are untrusted, so they are copied out field by field through
 * the bounded reader, within the block's own memory region. hotpe frees the block once it has
 * read the answer; a hotpe killed mid-request cannot, so each answered block is noted in the
 * registry's pending table and freed at a later request once its requester is gone
 * (docs/live.md).
 */
#include <windows.h>
#include <string.h>

#include "hotpe/engine/win.h"
#include "hotpe/pe/reader.h"
#include "shim.h"

hp_status shim_read_request(const void *block, hp_wire_request *out, bool *answer)
{
    MEMORY_BASIC_INFORMATION mbi;
    *answer = false;
    if (!block || !VirtualQuery(block, &mbi, sizeof mbi) ||
        !hp_win_readable(mbi.State, mbi.Protect))
        return HP_E_LIVE_REQUEST;
    uint64_t avail = (uint64_t)(uintptr_t)mbi.BaseAddress + mbi.RegionSize -
                     (uint64_t)(uintptr_t)block;
    hp_rd rd = hp_rd_make(block, avail < sizeof *out ? (size_t)avail : sizeof *out);
    uint32_t magic, version, size;
    if (hp_rd_u32(&rd, offsetof(hp_wire_request, magic), &magic) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_wire_request, version), &version) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_wire_request, size), &size) != HP_OK ||
        magic != HP_WIRE_REQUEST_MAGIC || version != HP_WIRE_VERSION ||
        size != sizeof(hp_wire_request) || rd.size != sizeof(hp_wire_request))
        return HP_E_LIVE_REQUEST;
    *answer = (mbi.Protect & (PAGE_READWRITE | PAGE_EXECUTE_READWRITE)) != 0;
    memset(out, 0, sizeof *out);
    if (hp_rd_u32(&rd, offsetof(hp_wire_request, verb), &out->verb) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_wire_request, flags), &out->flags) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_wire_request, patch_id), &out->patch_id) != HP_OK ||
        hp_rd_bytes(&rd, offsetof(hp_wire_request, path), sizeof out->path, out->path) != HP_OK ||
        hp_rd_bytes(&rd, offsetof(hp_wire_request, file_sha256), sizeof out->file_sha256,
                    out->file_sha256) != HP_OK ||
        hp_rd_u32(&rd, offsetof(hp_wire_request, owner_pid), &out->owner_pid) != HP_OK ||
        hp_rd_u64(&rd, offsetof(hp_wire_request, owner_created), &out->owner_created) != HP_OK ||
        hp_rd_u64(&rd, offsetof(hp_wire_request, nonce), &out->nonce) != HP_OK ||
        hp_rd_u64(&rd, offsetof(hp_wire_request, offer_request), &out->offer_request) != HP_OK ||
        hp_rd_u64(&rd, offsetof(hp_wire_request, offer_done), &out->offer_done) != HP_OK ||
        hp_rd_u64(&rd, offsetof(hp_wire_request, offer_mutex), &out->offer_mutex) != HP_OK)
        return HP_E_LIVE_REQUEST;
    bool nul = false;
    for (unsigned i = 0; i < HP_WIRE_PATH_MAX && !nul; i++)
        nul = out->path[i] == 0;
    if (out->verb == HP_WIRE_VERB_APPLY && (!nul || out->path[0] == 0))
        return HP_E_LIVE_REQUEST;
    if (out->verb != HP_WIRE_VERB_APPLY && out->verb != HP_WIRE_VERB_REVERT)
        return HP_E_LIVE_REQUEST;
    return HP_OK;
}

/* Whether the process that made a request is gone (not merely out of our reach). */
static bool owner_gone(const hp_wire_pending *e)
{
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, e->owner_pid);
    if (!h)
        return GetLastError() == ERROR_INVALID_PARAMETER; /* no such process */
    bool gone = hp_win_started(h) != e->owner_created ||
                WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
    CloseHandle(h);
    return gone;
}

/* The block at e->block is still e's request: its own allocation, and the same owner and
 * nonce. Read with ReadProcessMemory, which fails rather than faults: its requester may free
 * it at any moment. */
static bool still_the_block(const hp_wire_pending *e)
{
    MEMORY_BASIC_INFORMATION mbi;
    hp_wire_request now;
    const void *at = (const void *)(uintptr_t)e->block;
    return VirtualQuery(at, &mbi, sizeof mbi) && mbi.AllocationBase == at &&
           mbi.State == MEM_COMMIT &&
           hp_win_read(GetCurrentProcess(), e->block, &now, sizeof now) == HP_OK &&
           now.magic == HP_WIRE_REQUEST_MAGIC && now.owner_pid == e->owner_pid &&
           now.owner_created == e->owner_created && now.nonce == e->nonce;
}

void shim_sweep_pending(hp_wire_registry *r)
{
    for (uint32_t i = 0; i < HP_WIRE_MAX_PENDING; i++) {
        hp_wire_pending *e = &r->pending[i];
        if (!e->block)
            continue;
        if (still_the_block(e)) {
            if (!owner_gone(e))
                continue;
            VirtualFree((void *)(uintptr_t)e->block, 0, MEM_RELEASE);
        }
        memset(e, 0, sizeof *e);
    }
}

void shim_note_pending(hp_wire_registry *r, const void *block, const hp_wire_request *req)
{
    if (!req->owner_pid)
        return;
    for (uint32_t i = 0; i < HP_WIRE_MAX_PENDING; i++) {
        hp_wire_pending *e = &r->pending[i];
        if (e->block)
            continue;
        *e = (hp_wire_pending){ (uint64_t)(uintptr_t)block, req->owner_created, req->nonce,
                                req->owner_pid, 0 };
        return;
    }
    /* a full table: the block stays its requester's alone */
}
