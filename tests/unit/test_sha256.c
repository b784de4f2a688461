/* Unit tests: SHA-256 through the platform's library (engine/sha256.c), on FIPS 180-2's test
 * vectors, in one call and fed in pieces. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "hotpe/engine/sha256.h"

static void hex(const uint8_t *d, char out[2 * HP_SHA256_LEN + 1])
{
    for (unsigned i = 0; i < HP_SHA256_LEN; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

START_TEST(known_vectors)
{
    static const struct {
        const char *in, *want;
    } v[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        uint8_t d[HP_SHA256_LEN];
        char got[2 * HP_SHA256_LEN + 1];
        ck_assert_int_eq(hp_sha256_of(v[i].in, strlen(v[i].in), d), HP_OK);
        hex(d, got);
        ck_assert_str_eq(got, v[i].want);
    }
}
END_TEST

START_TEST(pieces_equal_one_call)
{
    static uint8_t buf[100000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + (i >> 8));
    uint8_t one[HP_SHA256_LEN], parts[HP_SHA256_LEN];
    ck_assert_int_eq(hp_sha256_of(buf, sizeof buf, one), HP_OK);
    hp_sha256 h;
    ck_assert_int_eq(hp_sha256_begin(&h), HP_OK);
    for (size_t at = 0, step = 1; at < sizeof buf; at += step, step = step * 3 + 1) {
        size_t n = at + step > sizeof buf ? sizeof buf - at : step;
        ck_assert_int_eq(hp_sha256_add(&h, buf + at, n), HP_OK);
    }
    ck_assert_int_eq(hp_sha256_end(&h, parts), HP_OK);
    ck_assert_mem_eq(one, parts, HP_SHA256_LEN);
    /* a hash abandoned half-way frees its state (ASan's leak check) */
    ck_assert_int_eq(hp_sha256_begin(&h), HP_OK);
    ck_assert_int_eq(hp_sha256_add(&h, buf, 10), HP_OK);
    hp_sha256_abort(&h);
    hp_sha256_abort(&h);
}
END_TEST

static Suite *sha256_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, known_vectors);
    tcase_add_test(tc, pieces_equal_one_call);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(sha256_suite)
