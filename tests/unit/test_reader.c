/* Unit tests: the bounded reader and the arena (the status list: test_status.c). */
#include <string.h>

#include "hotpe/pe/arena.h"
#include "harness.h"
#include "hotpe/pe/reader.h"

static const uint8_t bytes[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 'h', 'i', 0 };

START_TEST(reads_little_endian)
{
    hp_rd rd = hp_rd_make(bytes, sizeof bytes);
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    ck_assert_int_eq(hp_rd_u16(&rd, 0, &u16), HP_OK);
    ck_assert_uint_eq(u16, 0x0201);
    ck_assert_int_eq(hp_rd_u32(&rd, 1, &u32), HP_OK);
    ck_assert_uint_eq(u32, 0x05040302);
    ck_assert_int_eq(hp_rd_u64(&rd, 0, &u64), HP_OK);
    ck_assert_uint_eq(u64, 0x0807060504030201ull);
}
END_TEST

START_TEST(rejects_out_of_bounds_without_writing)
{
    hp_rd rd = hp_rd_make(bytes, sizeof bytes);
    uint32_t u32 = 0xdeadbeef;
    ck_assert_int_eq(hp_rd_u32(&rd, sizeof bytes - 3, &u32), HP_E_BOUNDS);
    ck_assert_uint_eq(u32, 0xdeadbeef);
    ck_assert_int_eq(hp_rd_u32(&rd, UINT64_MAX - 1, &u32), HP_E_BOUNDS);
    ck_assert_int_eq(hp_rd_u32(&rd, (uint64_t)1 << 63, &u32), HP_E_BOUNDS);
    hp_rd sub;
    ck_assert_int_eq(hp_rd_sub(&rd, 4, UINT64_MAX, &sub), HP_E_BOUNDS);
    ck_assert_int_eq(hp_rd_sub(&rd, 4, 4, &sub), HP_OK);
    ck_assert_int_eq(hp_rd_u32(&sub, 1, &u32), HP_E_BOUNDS);
}
END_TEST

START_TEST(strings_must_end_inside_the_view)
{
    hp_rd rd = hp_rd_make(bytes, sizeof bytes);
    size_t len;
    ck_assert_int_eq(hp_rd_strlen(&rd, 8, 16, &len), HP_OK);
    ck_assert_uint_eq(len, 2);
    ck_assert_int_eq(hp_rd_strlen(&rd, 8, 2, &len), HP_E_BOUNDS);
    hp_rd cut = hp_rd_make(bytes, sizeof bytes - 1);
    ck_assert_int_eq(hp_rd_strlen(&cut, 8, 16, &len), HP_E_BOUNDS);
}
END_TEST

START_TEST(overflow_helpers)
{
    uint64_t r;
    ck_assert(!hp_add_u64(UINT64_MAX, 1, &r));
    ck_assert(!hp_mul_u64(UINT64_MAX / 2, 3, &r));
    ck_assert(hp_align_up(0x1001, 0x1000, &r) && r == 0x2000);
    ck_assert(!hp_align_up(UINT64_MAX, 0x1000, &r));
    ck_assert(!hp_align_up(5, 3, &r));
    ck_assert(!hp_range_ok(UINT64_MAX, 2, 10));
}
END_TEST

START_TEST(arena_zeroes_and_frees)
{
    hp_arena a = HP_ARENA_INIT;
    uint8_t *small = hp_arena_alloc(&a, 10);
    uint8_t *big = hp_arena_alloc(&a, 1 << 20);
    ck_assert_ptr_nonnull(small);
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_eq(big[12345], 0);
    ck_assert_ptr_null(hp_arena_array(&a, SIZE_MAX / 2, 4));
    char *s = hp_arena_strndup(&a, "abcdef", 3);
    ck_assert_str_eq(s, "abc");
    hp_arena_free(&a);
    ck_assert_ptr_null(a.head);
}
END_TEST

static Suite *reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reads_little_endian);
    tcase_add_test(tc, rejects_out_of_bounds_without_writing);
    tcase_add_test(tc, strings_must_end_inside_the_view);
    tcase_add_test(tc, overflow_helpers);
    tcase_add_test(tc, arena_zeroes_and_frees);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(reader_suite)
