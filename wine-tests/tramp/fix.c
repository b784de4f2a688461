/* The fix for wine-tests/tramp/target.c's parse_port: a port above 65535 is refused (-1).
 * The original still does the parsing, through HOTPE_ORIGINAL: the trampoline that runs its
 * moved first instructions. */
#include <hotpe/patch.h>

HOTPE_PATCH("tramp-target.exe", SEQUENCE, "parse_port: refuse ports above 65535");

HOTPE_ORIGINAL(int, parse_port, (const char *));

int parse_port_fixed(const char *s);
int parse_port_fixed(const char *s)
{
    int v = HOTPE_ORIGINAL_FN(parse_port)(s);
    return v > 65535 ? -1 : v;
}

HOTPE_REPLACE(parse_port, parse_port_fixed);
