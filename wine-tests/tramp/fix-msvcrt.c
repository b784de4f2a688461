/* A fix for Wine's msvcrt.dll, whose atoi was not built for hotpatching: values beyond
 * +-1000000 are clamped (a stand-in for an overflow fix). The original does the parsing,
 * through its trampoline. */
#include <hotpe/patch.h>

HOTPE_PATCH("msvcrt.dll", 1, "atoi: clamp to +-1000000");

HOTPE_ORIGINAL(int __cdecl, atoi, (const char *));

int __cdecl atoi_clamped(const char *s);
int __cdecl atoi_clamped(const char *s)
{
    int v = HOTPE_ORIGINAL_FN(atoi)(s);
    return v > 1000000 ? 1000000 : v < -1000000 ? -1000000 : v;
}

HOTPE_REPLACE(atoi, atoi_clamped);
