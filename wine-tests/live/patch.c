/* The patch for wine-tests/live/target.c (wine-tests/test_live.sh): compute(x) = x * 3, and
 * label(x) = the original label(x) + 1 through HOTPE_ORIGINAL; counts calls in the base's
 * global through HOTPE_BASE_DATA (HOTPE_BASE_DATA_AS, slots named apart from the base's
 * globals, when built with ALIAS); HOTPE_ON_APPLY vetoes when built with VETO. */
#include <hotpe/patch.h>

HOTPE_PATCH("target.exe", SEQUENCE, "live test: compute x3, label +1");

#ifdef ALIAS
HOTPE_BASE_DATA_AS(long, base_calls, "g_calls");
HOTPE_BASE_DATA_AS(volatile long, base_events, "g_events");
#else
HOTPE_BASE_DATA(long, g_calls);
HOTPE_BASE_DATA(volatile long, g_events);
#define base_calls g_calls
#define base_events g_events
#endif
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

/* The callbacks leave their mark in the base's g_events (test_live.sh reads it with "e"):
 * apply adds 1 when it read the base's g_calls (non-zero: the workers run), 100 when not;
 * revert adds 10. A vetoing build writes nothing. */
int on_apply(void)
{
#ifdef VETO
    return 1;
#else
    *base_events += *base_calls > 0 ? 1 : 100;
    return 0;
#endif
}
void on_revert(void)
{
    *base_events += 10;
}
HOTPE_ON_APPLY(on_apply);
HOTPE_ON_REVERT(on_revert);
