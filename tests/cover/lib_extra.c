/* tests/oracle/test_scan_objects.sh: the library's second object. lib_clamp is a static
 * function kept out of line; lib_std is __stdcall (x86: the symbol _lib_std@8). */
#include <hotpe/patchable.h>

static __attribute__((noinline)) int lib_clamp(int x, int lo, int hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

HOTPE_PATCHABLE int lib_mix(int a, int b)
{
    return lib_clamp(a ^ b, -1000, 1000) + lib_clamp(a + b, 0, 50);
}

int __attribute__((stdcall)) lib_std(int a, int b)
{
    return lib_clamp(a - b, -5, 5) * 3;
}
