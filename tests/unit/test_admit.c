/* hotpe: the one admission policy (engine/admit.c), which hotpe runs from outside and the shim
 * runs again in the target: already live, sequence, supersede, new. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "hotpe/engine/admit.h"
#include "hotpe/engine/patch.h"

/* A live patch record: id, sequence, target, path (ASCII, widened). */
static hp_wire_patch rec(uint32_t id, uint32_t sequence, const char *target, const char *path)
{
    hp_wire_patch p;
    memset(&p, 0, sizeof p);
    p.id = id;
    p.sequence = sequence;
    strncpy(p.target_name, target, HP_WIRE_NAME_MAX - 1);
    for (size_t i = 0; path[i] && i + 1 < HP_WIRE_PATH_MAX; i++)
        p.path[i] = (uint8_t)path[i];
    return p;
}

typedef struct candidate {
    uint16_t path[HP_WIRE_PATH_MAX];
    hp_admit_patch p;
} candidate;

static void make(candidate *c, const char *target, uint32_t sequence, const char *path)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; path[i] && i + 1 < HP_WIRE_PATH_MAX; i++)
        c->path[i] = (uint8_t)path[i];
    c->p = (hp_admit_patch){ c->path, NULL, target, sequence };
}

START_TEST(nothing_live_is_new)
{
    candidate c;
    uint32_t at = 7;
    make(&c, "server.exe", 1, "C:\\p\\fix.dll");
    ck_assert_int_eq(hp_admit(NULL, 0, &c.p, &at), HP_OK);
    ck_assert_uint_eq(at, HP_WIRE_NONE);
    hp_wire_patch other = rec(1, 5, "client.exe", "C:\\p\\other.dll");
    ck_assert_int_eq(hp_admit(&other, 1, &c.p, &at), HP_OK);
    ck_assert_uint_eq(at, HP_WIRE_NONE);
}
END_TEST

START_TEST(same_file_is_already_live)
{
    hp_wire_patch live[2] = { rec(3, 1, "client.exe", "C:\\p\\a.dll"),
                              rec(4, 1, "server.exe", "C:\\p\\fix.dll") };
    candidate c;
    uint32_t at;
    make(&c, "server.exe", 9, "c:\\P\\FIX.DLL"); /* paths compare case-insensitively */
    ck_assert_int_eq(hp_admit(live, 2, &c.p, &at), HP_E_LIVE_ALREADY);
    ck_assert_uint_eq(at, 1);
    /* the same file wins over a sequence refusal of another patch of that target */
    hp_wire_patch both[2] = { rec(5, 9, "server.exe", "C:\\p\\newer.dll"),
                              rec(6, 1, "client.exe", "C:\\p\\fix.dll") };
    ck_assert_int_eq(hp_admit(both, 2, &c.p, &at), HP_E_LIVE_ALREADY);
    ck_assert_uint_eq(at, 1);
}
END_TEST

/* The same bytes from another path: the same patch (a copy, another share, a rollout's cache). */
START_TEST(same_bytes_elsewhere_is_already_live)
{
    hp_wire_patch live[2] = { rec(3, 1, "client.exe", "C:\\p\\a.dll"),
                              rec(4, 2, "server.exe", "C:\\p\\fix.dll") };
    memset(live[0].file_sha256, 0x11, sizeof live[0].file_sha256);
    memset(live[1].file_sha256, 0x22, sizeof live[1].file_sha256);
    uint8_t same[32], other[32];
    memset(same, 0x22, sizeof same);
    memset(other, 0x33, sizeof other);
    candidate c;
    uint32_t at;
    make(&c, "server.exe", 2, "D:\\cache\\fix-copy.dll");
    c.p.sha256 = same;
    ck_assert_int_eq(hp_admit(live, 2, &c.p, &at), HP_E_LIVE_ALREADY);
    ck_assert_uint_eq(at, 1);
    /* other bytes at another path: the sequence decides (equal: refused) */
    c.p.sha256 = other;
    ck_assert_int_eq(hp_admit(live, 2, &c.p, &at), HP_E_LIVE_SEQUENCE);
    ck_assert_uint_eq(at, 1);
    /* without a hash, by path alone */
    c.p.sha256 = NULL;
    ck_assert_int_eq(hp_admit(live, 2, &c.p, &at), HP_E_LIVE_SEQUENCE);
}
END_TEST

START_TEST(sequence_not_above_is_refused)
{
    hp_wire_patch live = rec(8, 3, "Server.EXE", "C:\\p\\fix3.dll");
    candidate c;
    uint32_t at;
    make(&c, "server.exe", 3, "C:\\p\\fix3b.dll"); /* equal */
    ck_assert_int_eq(hp_admit(&live, 1, &c.p, &at), HP_E_LIVE_SEQUENCE);
    ck_assert_uint_eq(at, 0);
    make(&c, "server.exe", 2, "C:\\p\\fix2.dll"); /* lower */
    ck_assert_int_eq(hp_admit(&live, 1, &c.p, &at), HP_E_LIVE_SEQUENCE);
}
END_TEST

START_TEST(higher_sequence_supersedes)
{
    hp_wire_patch live[3] = { rec(1, 1, "a.dll", "C:\\p\\a1.dll"),
                              rec(2, 4, "server.exe", "C:\\p\\fix4.dll"),
                              rec(3, 1, "b.dll", "C:\\p\\b1.dll") };
    candidate c;
    uint32_t at;
    make(&c, "SERVER.exe", 5, "C:\\p\\fix5.dll");
    ck_assert_int_eq(hp_admit(live, 3, &c.p, &at), HP_OK);
    ck_assert_uint_eq(at, 1);
    /* the target is compared by file name: a path in the record does not matter */
    hp_wire_patch pathy = rec(9, 1, "C:\\app\\server.exe", "C:\\p\\x.dll");
    ck_assert_int_eq(hp_admit(&pathy, 1, &c.p, &at), HP_OK);
    ck_assert_uint_eq(at, 0);
}
END_TEST

START_TEST(hundreds_of_live_patches)
{
    enum { N = 500 };
    static hp_wire_patch live[N];
    char name[32], path[64];
    for (uint32_t i = 0; i < N; i++) {
        snprintf(name, sizeof name, "lib%03u.dll", i);
        snprintf(path, sizeof path, "C:\\p\\fix%03u.dll", i);
        live[i] = rec(i + 1, 1, name, path);
    }
    candidate c;
    uint32_t at;
    make(&c, "lib421.dll", 2, "C:\\p\\fix421-2.dll");
    ck_assert_int_eq(hp_admit(live, N, &c.p, &at), HP_OK);
    ck_assert_uint_eq(at, 421);
    make(&c, "lib999.dll", 1, "C:\\p\\new.dll");
    ck_assert_int_eq(hp_admit(live, N, &c.p, &at), HP_OK);
    ck_assert_uint_eq(at, HP_WIRE_NONE);
    make(&c, "lib007.dll", 1, "C:\\p\\fix499.dll");
    ck_assert_int_eq(hp_admit(live, N, &c.p, &at), HP_E_LIVE_ALREADY);
    ck_assert_uint_eq(at, 499);
}
END_TEST

START_TEST(untrusted_records)
{
    /* a record's name or path without its NUL (a damaged copy) matches nothing */
    hp_wire_patch live = rec(1, 1, "server.exe", "C:\\p\\fix.dll");
    memset(live.target_name, 'x', sizeof live.target_name);
    for (uint32_t i = 0; i < HP_WIRE_PATH_MAX; i++)
        live.path[i] = 'y';
    candidate c;
    uint32_t at;
    make(&c, "server.exe", 1, "C:\\p\\fix.dll");
    ck_assert_int_eq(hp_admit(&live, 1, &c.p, &at), HP_OK);
    ck_assert_uint_eq(at, HP_WIRE_NONE);
    ck_assert_int_eq(hp_admit(NULL, 1, &c.p, &at), HP_E_ARG);
    ck_assert_int_eq(hp_admit(&live, 1, NULL, &at), HP_E_ARG);
    ck_assert_int_eq(hp_admit(&live, 1, &c.p, NULL), HP_E_ARG);
}
END_TEST


/* A patch's name is the same wherever it is live, and what users type back finds it. */
START_TEST(patch_names)
{
    uint8_t sha[HP_SHA256_LEN];
    for (unsigned i = 0; i < sizeof sha; i++)
        sha[i] = (uint8_t)(0x3f + i * 17);
    char name[HP_PATCH_NAME_MAX];
    hp_patch_name(name, "server.exe", 2, sha);
    ck_assert_str_eq(name, "server.exe#2@3f5061728394");
    ck_assert(hp_patch_name_shaped(name));
    ck_assert(hp_patch_name_matches(name, "server.exe", 2, sha));
    ck_assert(hp_patch_name_matches("SERVER.EXE#2@3F5061728394", "server.exe", 2, sha));
    ck_assert(hp_patch_name_matches("server.exe#2@3f506172", "server.exe", 2, sha));
    ck_assert(!hp_patch_name_matches("server.exe#2@3f50617", "server.exe", 2, sha)); /* < 8 */
    ck_assert(!hp_patch_name_matches(name, "server.exe", 3, sha));
    ck_assert(!hp_patch_name_matches(name, "client.exe", 2, sha));
    ck_assert(!hp_patch_name_matches("server.exe#2@3f5061728395", "server.exe", 2, sha));
    ck_assert(!hp_patch_name_matches("server#2@3f5061728394", "server.exe.bak", 2, sha));
    /* ids, files and junk are not names */
    ck_assert(!hp_patch_name_shaped("12"));
    ck_assert(!hp_patch_name_shaped("C:\\p\\fix.dll"));
    ck_assert(!hp_patch_name_shaped("#2@3f5061728394"));
    ck_assert(!hp_patch_name_shaped("a#@3f5061728394"));
    ck_assert(!hp_patch_name_shaped("a#99999999999@3f5061728394"));
    ck_assert(!hp_patch_name_shaped("a#2@3f5061728g94"));
    /* a target name too long for the registry is cut, never overflows */
    char longt[200];
    memset(longt, 'x', sizeof longt - 1);
    longt[sizeof longt - 1] = 0;
    hp_patch_name(name, longt, 4294967295u, sha);
    ck_assert_uint_lt(strlen(name), HP_PATCH_NAME_MAX);
}
END_TEST

static Suite *admit_suite(void)
{
    Suite *s = suite_create("admit");
    TCase *tc = tcase_create("admit");
    tcase_add_test(tc, nothing_live_is_new);
    tcase_add_test(tc, same_file_is_already_live);
    tcase_add_test(tc, same_bytes_elsewhere_is_already_live);
    tcase_add_test(tc, sequence_not_above_is_refused);
    tcase_add_test(tc, higher_sequence_supersedes);
    tcase_add_test(tc, hundreds_of_live_patches);
    tcase_add_test(tc, untrusted_records);
    tcase_add_test(tc, patch_names);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(admit_suite)
