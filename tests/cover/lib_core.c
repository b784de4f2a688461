/* tests/oracle/test_scan_objects.sh: one of the library's objects. lib_checksum is built for
 * hotpatching; lib_scale is plain; lib_square is a static inline that lib_scale inlines (the
 * object keeps a copy only because the test builds with -fkeep-inline-functions, and the
 * linker drops that unused copy); lib_reset is one `ret` (class short-first, not patchable);
 * nothing calls lib_unused, so the linker drops it (--gc-sections). */
#include <hotpe/patchable.h>

static inline int lib_square(int x)
{
    return x * x;
}

HOTPE_PATCHABLE int lib_checksum(const unsigned char *p, int n)
{
    int sum = 0;
    for (int i = 0; i < n; i++)
        sum = sum * 31 + p[i];
    return sum;
}

int lib_scale(int x, int k)
{
    return lib_square(x) * k + x;
}

void lib_reset(void)
{
}

int lib_unused(int x)
{
    return x - 7;
}
