/*
 * The module of wine-tests/test_scale.sh's "many patches" part: one HOTPE_PATCHABLE export,
 * lib_fn(x) = x + 7. The test copies it to lib000.dll, lib001.dll, ...; identical copies load
 * as modules of their own (wine-tests/scale/scale.c built with -DMODULES loads them).
 */
#include <hotpe/patchable.h>

__declspec(dllexport) HOTPE_PATCHABLE int lib_fn(int x)
{
    return x + 7;
}
