/*
 * hotpe-shim.dll: Control Flow Guard (engine/cfg.h, docs/live.md). The transaction's CFG step,
 * run after validation and before the freeze and the first write: from the first redirected
 * call on, the replacement is already a valid target, and the system call (which takes the
 * address space lock) stays out of the freeze window. A failed call does not refuse the apply:
 * the redirection itself passes no CFG check (callers check the original entry, which the
 * module's own table keeps valid; the padding jumps are direct), so the state only matters to
 * code that calls a replacement through a pointer; it is reported per site.
 */
#include <windows.h>

#include "hotpe/engine/win.h"
#include "shim.h"

typedef BOOL(WINAPI *set_valid_call_targets_fn)(HANDLE, PVOID, SIZE_T, ULONG,
                                                PCFG_CALL_TARGET_INFO);
typedef BOOL(WINAPI *get_mitigation_fn)(HANDLE, PROCESS_MITIGATION_POLICY, PVOID, SIZE_T);

/* An export of kernelbase.dll (where Windows 10 has these), else of kernel32.dll, or NULL. */
static void (*system_proc(const char *name))(void)
{
    void (*f)(void) = hp_win_proc("kernelbase.dll", name);
    return f ? f : hp_win_proc("kernel32.dll", name);
}

/* A CFG module in a process without CFG (an exe built without /guard:cf): the call would
 * fail, and nothing checks targets anyway. */
static bool cfg_not_enforced(void)
{
    get_mitigation_fn get_policy = (get_mitigation_fn)system_proc("GetProcessMitigationPolicy");
    PROCESS_MITIGATION_CONTROL_FLOW_GUARD_POLICY pol;
    memset(&pol, 0, sizeof pol);
    return get_policy &&
           get_policy(GetCurrentProcess(), ProcessControlFlowGuardPolicy, &pol, sizeof pol) &&
           !pol.EnableControlFlowGuard;
}

/* The call wants offsets from the start of an executable region: one call per region
 * (VirtualQuery), the targets being ascending. */
static void register_targets(shim_cfg *c, set_valid_call_targets_fn set_valid)
{
    const hp_cfg_plan *plan = c->plan;
    CFG_CALL_TARGET_INFO *info = hp_arena_array(c->arena, plan->count, sizeof *info);
    if (!info) {
        c->error = ERROR_NOT_ENOUGH_MEMORY;
        c->outcome = HP_WIRE_CFG_FAILED;
        return;
    }
    c->outcome = HP_WIRE_CFG_REGISTERED;
    for (uint32_t i = 0; i < plan->count;) {
        MEMORY_BASIC_INFORMATION mbi;
        uint64_t va = c->pbase + plan->targets[i].offset;
        if (!VirtualQuery((void *)(uintptr_t)va, &mbi, sizeof mbi)) {
            c->error = GetLastError();
            c->outcome = HP_WIRE_CFG_FAILED;
            return;
        }
        uint64_t rb = (uint64_t)(uintptr_t)mbi.BaseAddress, re = rb + mbi.RegionSize;
        ULONG n = 0;
        for (; i < plan->count && (va = c->pbase + plan->targets[i].offset) < re; i++) {
            info[n].Offset = (ULONG_PTR)(va - rb);
            info[n].Flags = (ULONG_PTR)plan->targets[i].flags;
            n++;
        }
        if (!set_valid(GetCurrentProcess(), mbi.BaseAddress, mbi.RegionSize, n, info)) {
            c->error = GetLastError();
            c->outcome = HP_WIRE_CFG_FAILED;
            return;
        }
    }
}

hp_status shim_cfg_step(void *ctx)
{
    shim_cfg *c = ctx;
    if (!c->plan->instrumented) {
        c->outcome = HP_WIRE_CFG_NOT_INSTRUMENTED;
        return HP_OK;
    }
    if (!c->plan->count) { /* every replacement entry unaligned: nothing the call can take */
        c->outcome = HP_WIRE_CFG_UNALIGNED;
        return HP_OK;
    }
    set_valid_call_targets_fn set_valid =
        (set_valid_call_targets_fn)system_proc("SetProcessValidCallTargets");
    if (!set_valid) {
        c->no_api = true;
        c->outcome = HP_WIRE_CFG_NO_API;
        return HP_OK;
    }
    if (cfg_not_enforced()) {
        c->outcome = HP_WIRE_CFG_NOT_ENFORCED;
        return HP_OK;
    }
    register_targets(c, set_valid);
    return HP_OK;
}
