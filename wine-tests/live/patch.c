/* The patch for wine-tests/live/target.c (wine-tests/test_live.sh): compute(x) = x * 3, and
 * label(x) = the original label(x) + 1 through HOTPE_ORIGINAL; counts calls in the base's
 * global through HOTPE_BASE_DATA; HOTPE_ON_APPLY vetoes when built with VETO. */
#include <hotpe/patch.h>

HOTPE_PATCH("target.exe", SEQUENCE, "live test: compute x3, label +1");

HOTPE_BASE_DATA(long, g_calls);
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

static long calls_at_apply;
int on_apply(void)
{
    calls_at_apply = *g_calls;
#ifdef VETO
    return 1;
#else
    return 0;
#endif
}
void on_revert(void)
{
    calls_at_apply = 0;
}
HOTPE_ON_APPLY(on_apply);
HOTPE_ON_REVERT(on_revert);
