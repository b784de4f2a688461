/* A patch for wine-tests/live/target.c that leaves no return address into itself on any stack
 * (wine-tests/test_unload.sh): compute(x) = x * 3 calls nothing, and label(x) = the original
 * label(x + 1) through HOTPE_ORIGINAL as a tail call (a jump at -O2), so revert --unload's
 * conservative stack scan finds nothing stale to keep the DLL for. */
#include <hotpe/patch.h>

HOTPE_PATCH("target.exe", 1, "unload test: compute x3, label +1 by a tail call");

HOTPE_ORIGINAL(int, label, (int));

int compute_v2(int x)
{
    return x * 3;
}

int label_v2(int x)
{
    return HOTPE_ORIGINAL_FN(label)(x + 1);
}

HOTPE_REPLACE(compute, compute_v2);
HOTPE_REPLACE(label, label_v2);
