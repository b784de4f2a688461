/* Unit tests: the status list, its pinned values and the lookups for values from elsewhere. */
#include <string.h>

#include "harness.h"
#include "hotpe/status.h"

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The module a status belongs to by its name, written independently of the lists. */
static uint32_t module_by_name(const char *name)
{
    static const char *const generic[] = { "HP_OK",         "HP_E_ARG",         "HP_E_NOMEM",
                                           "HP_E_IO",       "HP_E_BOUNDS",      "HP_E_OVERFLOW",
                                           "HP_E_UNSUPPORTED", "HP_E_NOT_FOUND", "HP_E_IO_WRITE" };
    for (size_t i = 0; i < sizeof generic / sizeof *generic; i++)
        if (strcmp(name, generic[i]) == 0)
            return HP_STATUS_MODULE_GENERIC;
    if (strcmp(name, "HP_E_LIVE_NEEDS_WINDOWS") == 0 || strcmp(name, "HP_E_LIVE_ARCH") == 0 ||
        strcmp(name, "HP_E_LIVE_HANDOFF") == 0 || strcmp(name, "HP_E_LIVE_PATCH_ARCH") == 0 || starts_with(name, "HP_E_RUN_") ||
        starts_with(name, "HP_E_SCAN_"))
        return HP_STATUS_MODULE_CLI;
    if (starts_with(name, "HP_E_LIVE_"))
        return HP_STATUS_MODULE_LIVE;
    if (starts_with(name, "HP_E_TRUST_"))
        return HP_STATUS_MODULE_TRUST;
    if (starts_with(name, "HP_E_INST_"))
        return HP_STATUS_MODULE_INSTALL;
    if (starts_with(name, "HP_E_TXN_"))
        return HP_STATUS_MODULE_TXN;
    if (starts_with(name, "HP_E_PROC_"))
        return HP_STATUS_MODULE_PROC;
    if (starts_with(name, "HP_E_BUILD_"))
        return HP_STATUS_MODULE_BUILD;
    if (starts_with(name, "HP_E_SITE_") || starts_with(name, "HP_E_INSN_"))
        return HP_STATUS_MODULE_SITE;
    if (starts_with(name, "HP_E_WRITE_") || starts_with(name, "HP_E_SETDLL_"))
        return HP_STATUS_MODULE_WRITER;
    if (starts_with(name, "HP_E_HOTP_") || starts_with(name, "HP_E_PATCH") ||
        strcmp(name, "HP_E_NOT_A_PATCH") == 0)
        return HP_STATUS_MODULE_HOTPATCH;
    return HP_STATUS_MODULE_PE;
}

START_TEST(every_status_is_known_named_and_described)
{
    ck_assert_uint_gt(hp_status_all_count, 0);
    for (size_t i = 0; i < hp_status_all_count; i++) {
        hp_status s = hp_status_all[i];
        const char *name = hp_status_name(s), *msg = hp_status_str(s);
        ck_assert_msg(hp_status_known((uint32_t)s), "0x%04x not known", (unsigned)s);
        ck_assert_msg(starts_with(name, "HP_") && strcmp(name, "HP_E_UNKNOWN") != 0,
                      "0x%04x: name %s", (unsigned)s, name);
        ck_assert_msg(msg[0] != '\0' && strcmp(msg, "unknown status") != 0, "%s: message '%s'",
                      name, msg);
    }
    ck_assert_str_eq(hp_status_name(HP_E_LFANEW), "HP_E_LFANEW");
    ck_assert_str_eq(hp_status_str(HP_E_LFANEW), "DOS header: e_lfanew points outside the file");
    ck_assert_str_eq(hp_status_str(HP_OK), "success");
}
END_TEST

START_TEST(values_and_names_are_unique)
{
    for (size_t i = 0; i < hp_status_all_count; i++)
        for (size_t j = i + 1; j < hp_status_all_count; j++) {
            ck_assert_msg(hp_status_all[i] != hp_status_all[j], "%s and %s share 0x%04x",
                          hp_status_name(hp_status_all[i]), hp_status_name(hp_status_all[j]),
                          (unsigned)hp_status_all[i]);
            ck_assert_str_ne(hp_status_name(hp_status_all[i]), hp_status_name(hp_status_all[j]));
        }
}
END_TEST

START_TEST(module_and_code_fit_the_scheme)
{
    for (size_t i = 0; i < hp_status_all_count; i++) {
        hp_status s = hp_status_all[i];
        const char *name = hp_status_name(s);
        ck_assert_msg((uint32_t)s <= 0xFFFFu, "%s: 0x%x past 16 bits", name, (unsigned)s);
        ck_assert_uint_eq(HP_STATUS_MAKE(HP_STATUS_MODULE(s), HP_STATUS_CODE(s)), (uint32_t)s);
        ck_assert_msg(HP_STATUS_MODULE(s) == module_by_name(name), "%s: module 0x%02x, want 0x%02x",
                      name, (unsigned)HP_STATUS_MODULE(s), (unsigned)module_by_name(name));
        ck_assert_msg(HP_STATUS_CODE(s) != 0 || s == HP_OK, "%s: code 0", name);
        ck_assert_msg((uint32_t)s != 0x0103u, "%s is STILL_ACTIVE", name);
        if (HP_STATUS_MODULE(s) == HP_STATUS_MODULE_PROC)
            ck_assert_msg(starts_with(hp_status_str(s), "process: "), "%s", name);
        if (HP_STATUS_MODULE(s) == HP_STATUS_MODULE_TXN)
            ck_assert_msg(starts_with(hp_status_str(s), "transaction: "), "%s", name);
        if (HP_STATUS_MODULE(s) == HP_STATUS_MODULE_BUILD)
            ck_assert_msg(starts_with(hp_status_str(s), "build: "), "%s", name);
        if (HP_STATUS_MODULE(s) == HP_STATUS_MODULE_WRITER)
            ck_assert_msg(starts_with(hp_status_str(s), "writer: ") ||
                              starts_with(hp_status_str(s), ".hotpei: "),
                          "%s", name);
    }
}
END_TEST

/* hp_status_all and the strings follow the lists row by row. */
START_TEST(the_tables_follow_the_lists)
{
    size_t row = 0;
#define CHECK_ROW(m, name, code, msg)                                                              \
    do {                                                                                           \
        ck_assert_uint_lt(row, hp_status_all_count);                                               \
        ck_assert_int_eq(hp_status_all[row], name);                                                \
        ck_assert_uint_eq(HP_STATUS_MODULE(name), (uint32_t)(m));                                  \
        ck_assert_uint_eq(HP_STATUS_CODE(name), (uint32_t)(code));                                 \
        ck_assert_str_eq(hp_status_name(name), #name);                                             \
        ck_assert_str_eq(hp_status_str(name), msg);                                                \
        row++;                                                                                     \
    } while (0);
    HP_STATUS_LIST(CHECK_ROW)
#undef CHECK_ROW
    ck_assert_uint_eq(row, hp_status_all_count);
}
END_TEST

/* The values are a protocol with shims already injected: these numbers never change. */
START_TEST(values_are_pinned)
{
    static const struct {
        hp_status s;
        uint32_t value;
    } pinned[] = {
        { HP_OK, 0x0000 },
        { HP_E_ARG, 0x0001 },
        { HP_E_NOT_FOUND, 0x0007 },
        { HP_E_DOS_TRUNCATED, 0x0101 },
        { HP_E_LFANEW, 0x0104 },
        { HP_E_CODEVIEW, 0x0129 },
        { HP_E_COFF_HEADER, 0x012A },
        { HP_E_AR_THIN, 0x0130 },
        { HP_E_HOTP_SECTION, 0x0201 },
        { HP_E_NOT_A_PATCH, 0x020C },
        { HP_E_WRITE_LAYOUT, 0x0301 },
        { HP_E_WRITE_NAME, 0x0303 },
        { HP_E_SETDLL_ALREADY, 0x0304 },
        { HP_E_SETDLL_MARKER, 0x0305 },
        { HP_E_SITE_NOT_PATCHABLE, 0x0401 },
        { HP_E_INSN_RELOC_RANGE, 0x0405 },
        { HP_E_BUILD_NO_PATCH, 0x0501 },
        { HP_E_BUILD_MAP, 0x0509 },
        { HP_E_PROC_OPEN, 0x0601 },
        { HP_E_PROC_THREADS, 0x060C },
        { HP_E_PROC_DENIED, 0x060D },
        { HP_E_TXN_STATE, 0x0701 },
        { HP_E_TXN_UNDO, 0x0705 },
        { HP_E_LIVE_MODULE, 0x0801 },
        { HP_E_LIVE_REQUEST, 0x080A },
        { HP_E_LIVE_KEPT, 0x080F },
        { HP_E_LIVE_FILE_CHANGED, 0x0810 },
        { HP_E_TRUST_UNSIGNED, 0x0A01 },
        { HP_E_TRUST_NOT_LISTED, 0x0A0A },
        { HP_E_INST_STORE, 0x0B01 },
        { HP_E_INST_SHIM, 0x0B06 },
        { HP_E_LIVE_FUNC_HASH, 0x0811 },
        { HP_E_LIVE_NEEDS_WINDOWS, 0x0901 },
        { HP_E_RUN_ENTRY, 0x0905 },
        { HP_E_SCAN_NOT_PATCHABLE, 0x0909 },
    };
    for (size_t i = 0; i < sizeof pinned / sizeof *pinned; i++)
        ck_assert_msg((uint32_t)pinned[i].s == pinned[i].value, "%s is 0x%04x, pinned 0x%04x",
                      hp_status_name(pinned[i].s), (unsigned)pinned[i].s,
                      (unsigned)pinned[i].value);
    ck_assert_int_eq(HP_STATUS_MODULE_GENERIC, 0x00);
    ck_assert_int_eq(HP_STATUS_MODULE_PE, 0x01);
    ck_assert_int_eq(HP_STATUS_MODULE_HOTPATCH, 0x02);
    ck_assert_int_eq(HP_STATUS_MODULE_WRITER, 0x03);
    ck_assert_int_eq(HP_STATUS_MODULE_SITE, 0x04);
    ck_assert_int_eq(HP_STATUS_MODULE_BUILD, 0x05);
    ck_assert_int_eq(HP_STATUS_MODULE_PROC, 0x06);
    ck_assert_int_eq(HP_STATUS_MODULE_TXN, 0x07);
    ck_assert_int_eq(HP_STATUS_MODULE_LIVE, 0x08);
    ck_assert_int_eq(HP_STATUS_MODULE_CLI, 0x09);
    ck_assert_int_eq(HP_STATUS_MODULE_TRUST, 0x0A);
    ck_assert_int_eq(HP_STATUS_MODULE_INSTALL, 0x0B);
    ck_assert_uint_eq(HP_STATUS_MAKE(0x06u, 0x01u), 0x0601u);
}
END_TEST

START_TEST(unknown_values_are_not_statuses)
{
    static const uint32_t unknown[] = {
        0xFFFFu,
        0x7F00u,
        0x0100u,     /* code 0 of pe */
        0x0103u,     /* STILL_ACTIVE */
        0x0C01u,     /* a module past install */
        0x0B00u,     /* code 0 of install */
        0x0A00u,     /* code 0 of trust */
        0x10001u,    /* HP_E_ARG with bits above 16 */
        0xFFFFFFFFu,
        0x0008u,     /* the first and last old ordinal past the generic ones */
        0x0071u,
    };
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        ck_assert_msg(!hp_status_known(unknown[i]), "0x%x known", (unsigned)unknown[i]);
        ck_assert_str_eq(hp_status_str((hp_status)unknown[i]), "unknown status");
        ck_assert_str_eq(hp_status_name((hp_status)unknown[i]), "HP_E_UNKNOWN");
    }
    /* a shim from before the values were pinned answers with ordinals 0..113: 0..7 mean the
     * same, the rest are unknown rather than another status */
    for (uint32_t v = 0x08; v <= 0x71; v++)
        ck_assert_msg(!hp_status_known(v), "old ordinal %u is known", (unsigned)v);
    for (uint32_t v = 0; v < 0x08; v++)
        ck_assert(hp_status_known(v));
}
END_TEST

static Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_status_is_known_named_and_described);
    tcase_add_test(tc, values_and_names_are_unique);
    tcase_add_test(tc, module_and_code_fit_the_scheme);
    tcase_add_test(tc, the_tables_follow_the_lists);
    tcase_add_test(tc, values_are_pinned);
    tcase_add_test(tc, unknown_values_are_not_statuses);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(status_suite)
