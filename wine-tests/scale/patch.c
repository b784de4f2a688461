/*
 * A patch for wine-tests/scale/scale.c (wine-tests/test_scale.sh): replaces every function the
 * generated list FUNCS_INC names ("S(0) S(1) ... S(N-1)"), f_k(x) = x + k, with
 * f_k(x) = x + k + SEQUENCE * 1000000, so the target can tell which sequence each call ran.
 */
#include <hotpe/patch.h>

HOTPE_PATCH("scale.exe", SEQUENCE, "scale test: the first functions + sequence * 1000000");

#define S(k)                                                                  \
    int f_##k##_v(int x) { return x + k + SEQUENCE * 1000000; }               \
    HOTPE_REPLACE(f_##k, f_##k##_v);
#include FUNCS_INC
