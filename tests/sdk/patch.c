/* A patch DLL for tests/sdk/base.c using every SDK macro (tests/oracle/test_sdk.sh). The
 * BAD_* macros build the broken variants the error tests need. */
#include <hotpe/patch.h>

struct order {
    long qty;
    long unit_cents;
};

#ifndef TARGET
#define TARGET "base.exe"
#endif
HOTPE_PATCH(TARGET, 2, "fix rounding in compute_price");

HOTPE_BASE_DATA(long, g_requests);
HOTPE_BASE_FUNC(int, log_line, (const char *));
HOTPE_ORIGINAL(int, compute_price, (const struct order *));

int compute_price_v2(const struct order *o)
{
    ++*g_requests;
    log_line("compute_price_v2");
    return HOTPE_ORIGINAL_FN(compute_price)(o) + 1;
}

int apply_discount_v2(int cents)
{
    return cents - cents / 5;
}

#ifndef BAD_NOREPLACE
HOTPE_REPLACE(compute_price, compute_price_v2);
HOTPE_REPLACE(apply_discount, apply_discount_v2);
#endif
#ifdef BAD_UNRESOLVED
HOTPE_REPLACE(no_such_function, apply_discount_v2);
#endif
#ifdef BAD_PLAIN
HOTPE_REPLACE(plain_fn, apply_discount_v2);
#endif
#ifdef BAD_DUP
HOTPE_REPLACE(compute_price, apply_discount_v2);
#endif

static int applied;
int migrate_state(void)
{
    applied = 1;
    return 0;
}
void unmigrate_state(void)
{
    applied = 0;
}
HOTPE_ON_APPLY(migrate_state);
HOTPE_ON_REVERT(unmigrate_state);
