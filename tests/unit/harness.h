/* hotpe: shared bits of the Check unit-test runners. */
#ifndef HOTPE_TEST_HARNESS_H
#define HOTPE_TEST_HARNESS_H

#include <check.h>
#include <stdlib.h>

/* Each tests/unit/test_*.c defines its suite and ends with HP_TEST_MAIN(its_suite). */
#define HP_TEST_MAIN(suite_fn)                                   \
    int main(void)                                               \
    {                                                            \
        SRunner *sr = srunner_create(suite_fn());                \
        srunner_run_all(sr, CK_NORMAL);                          \
        int failed = srunner_ntests_failed(sr);                  \
        srunner_free(sr);                                        \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;             \
    }

#endif
