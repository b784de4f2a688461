/* Sequence 2 of the patch for wine-tests/live/target.c (wine-tests/test_live_padded.sh, supersede):
 * compute(x) = x * 4, label(x) = the original label(x) + 2 through HOTPE_ORIGINAL. */
#include <hotpe/patch.h>

HOTPE_PATCH("target.exe", 2, "live test: compute x4, label +2");

HOTPE_ORIGINAL(int, label, (int));

int compute_v3(int x)
{
    return x * 4;
}

int label_v3(int x)
{
    return HOTPE_ORIGINAL_FN(label)(x) + 2;
}

HOTPE_REPLACE(compute, compute_v3);
HOTPE_REPLACE(label, label_v3);
