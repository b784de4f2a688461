/*
 * The patch of module MODULE_INDEX (lib000.dll, ...) for wine-tests/test_scale.sh:
 * lib_fn(x) = x + 7 + 1000000 + MODULE_INDEX, so the target sees that each module got its own
 * patch. TARGET is the module's name ("lib042.dll"), given with -D.
 */
#include <hotpe/patch.h>

HOTPE_PATCH(TARGET, 1, "scale test: one patch per module");

int lib_fn_v(int x)
{
    return x + 7 + 1000000 + MODULE_INDEX;
}
HOTPE_REPLACE(lib_fn, lib_fn_v);
