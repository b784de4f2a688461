/* The installed patch of wine-tests/test_machine.sh: price(x) = 3x. SEQUENCE (1) and FACTOR (3)
 * give the newer patches of its stack test. */
#include <hotpe/patch.h>

#ifndef SEQUENCE
#define SEQUENCE 1
#endif
#ifndef FACTOR
#define FACTOR 3
#endif

HOTPE_PATCH("price.dll", SEQUENCE, "machine-wide test: price times FACTOR");

int price_v2(int x)
{
    return x * FACTOR;
}

HOTPE_REPLACE(price, price_v2);
