/* Unit tests: the bounded reader and writer, and the arena (the status list: test_status.c). */
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

START_TEST(writes_little_endian_in_every_width)
{
    uint8_t buf[16];
    memset(buf, 0xAA, sizeof buf);
    hp_wr wr = hp_wr_make(buf, sizeof buf);
    ck_assert_int_eq(hp_wr_uint(&wr, 0, 1, 0x1234), HP_OK); /* the low byte only */
    ck_assert_int_eq(hp_wr_u16(&wr, 1, 0x0302), HP_OK);
    ck_assert_int_eq(hp_wr_u32(&wr, 3, 0x07060504), HP_OK);
    ck_assert_int_eq(hp_wr_u64(&wr, 7, 0x0f0e0d0c0b0a0908ull), HP_OK);
    static const uint8_t want[] = { 0x34, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xAA };
    ck_assert_mem_eq(buf, want, sizeof want);

    /* Read back through the reader: the two agree on the byte order. */
    hp_rd rd = hp_rd_make(buf, sizeof buf);
    uint64_t v;
    ck_assert_int_eq(hp_rd_u64(&rd, 7, &v), HP_OK);
    ck_assert_uint_eq(v, 0x0f0e0d0c0b0a0908ull);

    ck_assert_int_eq(hp_wr_ptr(&wr, 0, false, 0x1122334455667788ull), HP_OK);
    ck_assert_int_eq(hp_rd_u64(&rd, 0, &v), HP_OK);
    ck_assert_uint_eq(v, 0x0807060555667788ull); /* x86: 4 bytes, the rest untouched */
    ck_assert_int_eq(hp_wr_ptr(&wr, 8, true, 0x1122334455667788ull), HP_OK);
    ck_assert_int_eq(hp_rd_u64(&rd, 8, &v), HP_OK);
    ck_assert_uint_eq(v, 0x1122334455667788ull);

    const uint8_t src[3] = { 'a', 'b', 'c' };
    ck_assert_int_eq(hp_wr_bytes(&wr, 13, src, 3), HP_OK); /* ends exactly at the end */
    ck_assert_mem_eq(buf + 13, src, 3);
    ck_assert_int_eq(hp_wr_bytes(&wr, 16, src, 0), HP_OK); /* empty, at the end */
}
END_TEST

START_TEST(writer_changes_nothing_on_failure)
{
    uint8_t buf[8], before[8];
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(0xF0 + i);
    memcpy(before, buf, sizeof buf);
    hp_wr wr = hp_wr_make(buf, sizeof buf);
    const uint8_t src[4] = { 1, 2, 3, 4 };

    ck_assert_int_eq(hp_wr_u32(&wr, 5, 0x11111111), HP_E_BOUNDS);   /* straddles the end */
    ck_assert_int_eq(hp_wr_u64(&wr, 1, 0x11111111), HP_E_BOUNDS);
    ck_assert_int_eq(hp_wr_u16(&wr, 8, 0x1111), HP_E_BOUNDS);       /* starts at the end */
    ck_assert_int_eq(hp_wr_u16(&wr, UINT64_MAX, 0x1111), HP_E_BOUNDS); /* off + n wraps */
    ck_assert_int_eq(hp_wr_u32(&wr, (uint64_t)1 << 63, 0x1111), HP_E_BOUNDS);
    ck_assert_int_eq(hp_wr_bytes(&wr, 6, src, 4), HP_E_BOUNDS);
    ck_assert_int_eq(hp_wr_bytes(&wr, 9, src, 0), HP_E_BOUNDS);      /* past the end */
    ck_assert_int_eq(hp_wr_ptr(&wr, 4, true, 0x11), HP_E_BOUNDS);    /* 8 bytes at 4 */
    ck_assert_int_eq(hp_wr_uint(&wr, 0, 3, 0x11), HP_E_ARG);         /* no such width */
    ck_assert_int_eq(hp_wr_uint(&wr, 0, 0, 0x11), HP_E_ARG);
    ck_assert_int_eq(hp_wr_uint(&wr, 0, 16, 0x11), HP_E_ARG);
    ck_assert_mem_eq(buf, before, sizeof buf);

    /* A view of nothing (NULL) has size 0 whatever size was given. */
    hp_wr none = hp_wr_make(NULL, 100);
    ck_assert_uint_eq(none.size, 0);
    ck_assert_int_eq(hp_wr_u16(&none, 0, 1), HP_E_BOUNDS);
}
END_TEST

/* HP_WR_FIELD writes each field at its offset in its declared width, as HP_RD_FIELD reads it. */
typedef struct wr_layout {
    uint16_t a;
    uint8_t b;
    uint8_t pad;
    uint32_t c;
    uint64_t d;
} wr_layout;

START_TEST(field_writes_follow_the_layout)
{
    uint8_t buf[4 + sizeof(wr_layout)];
    memset(buf, 0, sizeof buf);
    hp_wr wr = hp_wr_make(buf, sizeof buf);
    ck_assert_int_eq(HP_WR_FIELD(&wr, 4, wr_layout, a, 0xBEEF1234u), HP_OK); /* truncated to 16 */
    ck_assert_int_eq(HP_WR_FIELD(&wr, 4, wr_layout, b, 0x1FF), HP_OK);
    ck_assert_int_eq(HP_WR_FIELD(&wr, 4, wr_layout, c, 0xCAFEBABEu), HP_OK);
    ck_assert_int_eq(HP_WR_FIELD(&wr, 4, wr_layout, d, 0x0123456789ABCDEFull), HP_OK);
    ck_assert_uint_eq(buf[4 + offsetof(wr_layout, pad)], 0);
    hp_rd rd = hp_rd_make(buf, sizeof buf);
    uint64_t v;
    ck_assert_int_eq(HP_RD_FIELD(&rd, 4, wr_layout, a, &v), HP_OK);
    ck_assert_uint_eq(v, 0x1234);
    ck_assert_int_eq(HP_RD_FIELD(&rd, 4, wr_layout, b, &v), HP_OK);
    ck_assert_uint_eq(v, 0xFF);
    ck_assert_int_eq(HP_RD_FIELD(&rd, 4, wr_layout, c, &v), HP_OK);
    ck_assert_uint_eq(v, 0xCAFEBABEu);
    ck_assert_int_eq(HP_RD_FIELD(&rd, 4, wr_layout, d, &v), HP_OK);
    ck_assert_uint_eq(v, 0x0123456789ABCDEFull);
    /* One byte short: the last field does not fit and nothing of it is written. */
    hp_wr cut = hp_wr_make(buf, sizeof buf - 1);
    ck_assert_int_eq(HP_WR_FIELD(&cut, 4, wr_layout, d, 0), HP_E_BOUNDS);
    ck_assert_int_eq(HP_RD_FIELD(&rd, 4, wr_layout, d, &v), HP_OK);
    ck_assert_uint_eq(v, 0x0123456789ABCDEFull);
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
    tcase_add_test(tc, writes_little_endian_in_every_width);
    tcase_add_test(tc, writer_changes_nothing_on_failure);
    tcase_add_test(tc, field_writes_follow_the_layout);
    tcase_add_test(tc, overflow_helpers);
    tcase_add_test(tc, arena_zeroes_and_frees);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(reader_suite)
