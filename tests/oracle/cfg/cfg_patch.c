/* The patch for cfg_target.c (wine-tests/test_cfg_live.sh, tests/oracle/test_cfg_plan.sh), a
 * GCC MinGW patch DLL: compute(x) = x * 3, label(x) = x + 2000. */
#include <hotpe/patch.h>

HOTPE_PATCH("cfg_target.exe", 1, "CFG test: compute x3, label +2000");

int compute_v2(int x)
{
    return x * 3;
}

int label_v2(int x)
{
    return x + 2000;
}

HOTPE_REPLACE(compute, compute_v2);
HOTPE_REPLACE(label, label_v2);
