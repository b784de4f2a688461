/*
 * The live fix for samples/quote-server: compute_price multiplied quantity by unit price in
 * 32-bit `long` (LLP64 Windows) and big orders wrapped to a negative or tiny price.
 *
 * Orders whose subtotal fits in 32 bits go to the original code (HOTPE_ORIGINAL), which is
 * right for them and counts them. Bigger ones are priced here in 64 bits; the fix counts them
 * itself in the base's g_requests (HOTPE_BASE_DATA) and logs through the base's unexported
 * log_line (HOTPE_BASE_FUNC).
 *
 *   x86_64-w64-mingw32-gcc -O2 -Isdk/include -shared -o fix.dll fix.c
 *   hotpe build --base quote-server.exe fix.dll -o quote-server-fix.dll
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <hotpe/patch.h>

struct order { /* as in quote-server.c */
    char item[32];
    long qty;
    long unit_cents;
};

HOTPE_PATCH("quote-server.exe", 1, "compute_price: multiply in 64 bits (big orders wrapped)");

HOTPE_BASE_DATA(long, g_requests);
HOTPE_BASE_FUNC(int, log_line, (const char *));
HOTPE_BASE_FUNC(long long, apply_discount, (long long, long));
HOTPE_ORIGINAL(long long, compute_price, (const struct order *));

long long compute_price_fixed(const struct order *o)
{
    long long subtotal = (long long)o->qty * o->unit_cents;
    if (subtotal >= -0x7fffffffLL && subtotal <= 0x7fffffffLL)
        return HOTPE_ORIGINAL_FN(compute_price)(o);
    InterlockedIncrement(g_requests);
    log_line("compute_price (patched): big order priced in 64 bits");
    return apply_discount(subtotal, o->qty);
}
HOTPE_REPLACE(compute_price, compute_price_fixed);
