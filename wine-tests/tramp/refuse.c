/* A patch for one of target.c's refuse_* functions (-DWHICH=name): hotpe build must refuse it,
 * naming why its first instructions cannot move. */
#include <hotpe/patch.h>

HOTPE_PATCH("tramp-target.exe", 1, "a function the entry form cannot take");

int replacement(void);
int replacement(void)
{
    return 7;
}

/* through a second macro, so that WHICH is expanded before HOTPE_REPLACE names it */
#define REPLACE(base_fn, fn) HOTPE_REPLACE(base_fn, fn)
REPLACE(WHICH, replacement);
