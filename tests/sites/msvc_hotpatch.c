/* Site sample: clang-cl /hotpatch /guard:cf for the MSVC target, linked by lld-link with CFG:
 * the image has a real CFG function table (its own _load_config_used, no CRT). */
#include <stddef.h>
#include <stdint.h>

typedef int (*fnp)(int);

__declspec(dllexport) __declspec(noinline) int msvc_inc(int x) { return x + 1; }
__declspec(dllexport) __declspec(noinline) int msvc_twice(int x) { return 2 * x; }

static __declspec(noinline) int not_exported(int x) { return x ^ 0x55; }

/* Address-taken functions land in the CFG table. */
__declspec(dllexport) fnp msvc_pick(int i)
{
    return i == 0 ? msvc_inc : i == 1 ? msvc_twice : not_exported;
}

/* A load config with the CFG fields; the linker fills the Guard* fields it knows. */
/* Defined by lld-link /guard:cf. There are no indirect calls, so no check functions. */
extern uintptr_t __guard_fids_table, __guard_fids_count;

typedef struct {
    uint32_t Size, TimeDateStamp;
    uint16_t MajorVersion, MinorVersion;
    uint32_t GlobalFlagsClear, GlobalFlagsSet, CriticalSectionDefaultTimeout;
    uintptr_t DeCommitFreeBlockThreshold, DeCommitTotalFreeThreshold, LockPrefixTable,
        MaximumAllocationSize, VirtualMemoryThreshold, ProcessAffinityMask;
    uint32_t ProcessHeapFlags;
    uint16_t CSDVersion, DependentLoadFlags;
    uintptr_t EditList, SecurityCookie, SEHandlerTable, SEHandlerCount;
    uintptr_t GuardCFCheckFunctionPointer, GuardCFDispatchFunctionPointer, GuardCFFunctionTable,
        GuardCFFunctionCount;
    uint32_t GuardFlags;
} load_config;

static uintptr_t cookie = 0x2B992DDF;
const load_config _load_config_used = {
    sizeof(load_config), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    (uintptr_t)&cookie, 0, 0,
    0, 0,
    (uintptr_t)&__guard_fids_table, (uintptr_t)&__guard_fids_count,
    0x10500, /* CF_INSTRUMENTED | CF_FUNCTION_TABLE_PRESENT | stride 1 byte: lld's layout */
};
