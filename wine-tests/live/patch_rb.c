/* The patch for wine-tests/live/target_rb.c (wine-tests/test_badinput.sh, test_killed.sh):
 * compute(x) = x * 3, label(x) = the original + 1 (HOTPE_ORIGINAL), rec adds 100 per level,
 * spin(x) = x + 2, big(x) = x + 2 (again with a 64 KiB frame). TARGET (default "target.exe")
 * and SEQUENCE (default 1) are set by the test; DESCRIPTION makes another patch of the same
 * sequence (other bytes); BASIC replaces compute and label only. */
#include <hotpe/patch.h>

#ifndef TARGET
#define TARGET "target.exe"
#endif
#ifndef SEQUENCE
#define SEQUENCE 1
#endif

#ifndef DESCRIPTION
#define DESCRIPTION "robustness test patch"
#endif
HOTPE_PATCH(TARGET, SEQUENCE, DESCRIPTION);

HOTPE_ORIGINAL(int, label, (int));

int compute_v2(int x)
{
    return x * 3;
}

int label_v2(int x)
{
    return HOTPE_ORIGINAL_FN(label)(x) + 1;
}

HOTPE_REPLACE(compute, compute_v2);
HOTPE_REPLACE(label, label_v2);

#ifndef BASIC
int rec_v2(int n)
{
    int (*volatile self)(int) = rec_v2;
    return n == 0 ? 0 : self(n - 1) + 100;
}

int spin_v2(int x)
{
    return x + 2;
}

int big_v2(int x)
{
    volatile char buf[65536];
    buf[0] = (char)x;
    buf[sizeof buf - 1] = 2;
    return buf[0] + buf[sizeof buf - 1];
}

HOTPE_REPLACE(rec, rec_v2);
HOTPE_REPLACE(spin, spin_v2);
HOTPE_REPLACE(big, big_v2);
#endif
