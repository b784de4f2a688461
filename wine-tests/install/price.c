/* The library wine-tests/test_machine.sh installs a patch for: price(x) = 2x, hotpatchable. */
#include <hotpe/patchable.h>

__declspec(dllexport) HOTPE_PATCHABLE int price(int x)
{
    return x * 2;
}
