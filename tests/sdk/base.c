/* A base program for the SDK tests (tests/oracle/test_sdk.sh): HOTPE_PATCHABLE functions, one
 * of them exported, the others found through COFF symbols; a global; one plain function that
 * cannot be patched. */
#include <stdio.h>
#include <stdlib.h>

#include <hotpe/patchable.h>

struct order {
    long qty;
    long unit_cents;
};

long g_requests = 1;

HOTPE_PATCHABLE int log_line(const char *s)
{
    return printf("log: %s\n", s);
}

__declspec(dllexport) HOTPE_PATCHABLE int compute_price(const struct order *o)
{
    g_requests++;
    return (int)(o->qty * o->unit_cents);
}

HOTPE_PATCHABLE int apply_discount(int cents)
{
    return cents - cents / 10;
}

/* Neither a hotpatch site nor long enough for the entry form (xor eax, eax; ret): build
 * refuses to replace it. */
int plain_fn(void)
{
    return 0;
}

int main(int argc, char **argv)
{
    struct order o = { argc > 1 ? atol(argv[1]) : 2, 150 };
    int p = apply_discount(compute_price(&o));
    log_line("done");
    printf("price %d plain %d requests %ld\n", p, plain_fn(), g_requests);
    return 0;
}
