/* A patch for wine-tests/live/target.c whose compute blocks (wine-tests/test_unload.sh): for
 * x == 7 it waits, in Sleep, until the base's g_release is set (target command "r"), so a
 * thread sits with a return address into this DLL on its stack; then compute(x) = x * 3. */
#include <windows.h>

#include <hotpe/patch.h>

HOTPE_PATCH("target.exe", 1, "unload test: compute x3, blocks for 7 until released");

HOTPE_BASE_DATA(volatile long, g_release);

int compute_v2(int x)
{
    while (x == 7 && !*g_release)
        Sleep(10);
    return x * 3;
}

HOTPE_REPLACE(compute, compute_v2);
