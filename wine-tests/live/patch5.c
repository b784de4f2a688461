/* The patch for wine-tests/live/target5.c: five(x) = x * 5 (an x64 site with 5 bytes of padding),
 * ripf(x) = the original ripf(x) + 1000 through HOTPE_ORIGINAL (a stub that relocates the
 * RIP-relative first instruction). */
#include <hotpe/patch.h>

HOTPE_PATCH("target5.exe", 1, "live test: five x5, ripf +1000");

HOTPE_ORIGINAL(int, ripf, (int));

int five_v2(int x)
{
    return x * 5;
}

int ripf_v2(int x)
{
    return HOTPE_ORIGINAL_FN(ripf)(x) + 1000;
}

HOTPE_REPLACE(five, five_v2);
HOTPE_REPLACE(ripf, ripf_v2);
