/*
 * hotpe-shim.dll: injected into a target by `hotpe apply`, the emulation of ntdll's
 * LdrHotPatchRoutine (docs/live.md). Exports exactly two things (hotpe-shim.def): the registry
 * `hotpe_registry` (wire.h: every live patch and its undo journal, read by `hotpe list` with
 * ReadProcessMemory alone) and the entry point `hotpe_shim_run(request)`, which hotpe starts
 * with CreateRemoteThread on a request block it wrote into this process, the first time; that
 * thread stays as the worker, and later requests come through its channel (channel.c).
 * Loaded by an image `hotpe install` rewrote (or injected), its DllMain applies the machine's
 * installed patches (installed.c). The shim prints nothing: it answers in the request's result
 * part and through the thread's exit code (an hp_status). The stages are listed in shim.h.
 */
#include <windows.h>
#include <string.h>

#include "hotpe/engine/win.h"
#include "shim.h"

DWORD WINAPI hotpe_shim_run(void *request); /* exported by hotpe-shim.def */

/* One request at a time (two hotpe on one process): false when the lock stays taken. */
static bool lock(hp_wire_registry *r)
{
    for (int spins = 0; spins <= 5000; spins++) {
        uint32_t unlocked = 0;
        if (__atomic_compare_exchange_n(&r->lock, &unlocked, 1u, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return true;
        Sleep(1);
    }
    return false;
}

hp_status shim_serve(hp_wire_registry *r, void *request, bool *worker)
{
    bool via_channel = !worker;
    hp_wire_request req;
    hp_wire_result res;
    uint64_t t0 = hp_win_clock_ns();
    bool answer;
    memset(&res, 0, sizeof res);
    res.failing_site = HP_WIRE_NONE;

    hp_status s = shim_read_request(request, &req, &answer);
    if (s != HP_OK && !answer)
        return s; /* no result block to trust */
    bool locked = s == HP_OK && lock(r);
    if (s == HP_OK && !locked)
        s = HP_E_LIVE_REGISTRY;
    if (locked) {
        shim_sweep_pending(r);
        hp_arena arena = HP_ARENA_INIT;
        if (req.verb == HP_WIRE_VERB_APPLY)
            s = shim_apply(r, &req, &res, &arena);
        else
            s = shim_revert(r, &req, &res, &arena);
        hp_arena_free(&arena);
        r->requests++;
    }
    res.status = (uint32_t)s;
    res.nonce = req.nonce;
    res.via_channel = via_channel;
    res.phase_ns[HP_WIRE_PH_TOTAL] = hp_win_clock_ns() - t0;
    res.done = 1;
    if (answer) /* a read-only block gets the exit code alone */
        memcpy((uint8_t *)request + offsetof(hp_wire_request, result), &res, sizeof res);
    if (locked) {
        /* the block is not touched after this: a later request may free it */
        if (answer)
            shim_note_pending(r, request, &req);
        /* a remote thread that offers a channel serves the next requests */
        if (worker)
            *worker = shim_channel_adopt(r, &req);
        __atomic_store_n(&r->lock, 0u, __ATOMIC_RELEASE);
    }
    return s;
}

DWORD WINAPI hotpe_shim_run(void *request)
{
    bool worker = false;
    hp_status s = shim_serve(&hotpe_registry, request, &worker);
    return worker ? shim_channel_serve(&hotpe_registry) : (DWORD)s;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH) {
        DisableThreadLibraryCalls(inst);
        /* reserved: loaded at process start, as an import of a covered image */
        shim_installed_attach(&hotpe_registry, reserved != NULL);
    }
    return TRUE;
}
