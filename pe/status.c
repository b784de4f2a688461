/* hotpe: status strings and lookups, generated from the per-module lists in status.h. */
#include "hotpe/status.h"

/* Compile-time checks of every row: the code fits its 8 bits, code 0 is HP_OK's alone, and the
 * generic codes 0x08..0x71 stay unused (the flat list's old ordinals, status.h). */
#define HP_STATUS_CHECK_(m, name, code, msg)                                                       \
    _Static_assert((code) <= 0xFF, #name ": code above 0xFF");                                     \
    _Static_assert((code) != 0 || (m) == HP_STATUS_MODULE_GENERIC,                                 \
                   #name ": code 0 is for HP_OK only");                                            \
    _Static_assert((m) != HP_STATUS_MODULE_GENERIC || (code) < 0x08 || (code) > 0x71,              \
                   #name ": generic codes 0x08..0x71 are the old ordinals, never used");
HP_STATUS_LIST(HP_STATUS_CHECK_)
#undef HP_STATUS_CHECK_

/* Position of each status in the tables below. */
enum {
#define HP_STATUS_INDEX_(m, name, code, msg) index_##name,
    HP_STATUS_LIST(HP_STATUS_INDEX_)
#undef HP_STATUS_INDEX_
    status_count
};

const hp_status hp_status_all[] = {
#define HP_STATUS_VALUE_(m, name, code, msg) name,
    HP_STATUS_LIST(HP_STATUS_VALUE_)
#undef HP_STATUS_VALUE_
};
const size_t hp_status_all_count = sizeof hp_status_all / sizeof *hp_status_all;

/* The one string table: name and message of each status. */
static const struct {
    const char *name;
    const char *message;
} strings[] = {
#define HP_STATUS_STRINGS_(m, name, code, msg) { #name, msg },
    HP_STATUS_LIST(HP_STATUS_STRINGS_)
#undef HP_STATUS_STRINGS_
};

_Static_assert(sizeof hp_status_all / sizeof *hp_status_all == status_count, "a value per status");
_Static_assert(sizeof strings / sizeof *strings == status_count, "a name and message per status");

/* Index of a value in the tables, -1 when no status has it. One case per status: two statuses
 * with the same value are a duplicate case, a compile error. */
static int index_of(uint32_t value)
{
    switch (value) {
    case 0x0103u: /* STILL_ACTIVE, a thread that has not ended: never a status (status.h) */
        return -1;
#define HP_STATUS_CASE_(m, name, code, msg)                                                        \
    case name:                                                                                     \
        return index_##name;
        HP_STATUS_LIST(HP_STATUS_CASE_)
#undef HP_STATUS_CASE_
    default:
        return -1;
    }
}

bool hp_status_known(uint32_t value)
{
    return index_of(value) >= 0;
}

const char *hp_status_str(hp_status s)
{
    int i = index_of((uint32_t)s);
    return i >= 0 ? strings[i].message : "unknown status";
}

const char *hp_status_name(hp_status s)
{
    int i = index_of((uint32_t)s);
    return i >= 0 ? strings[i].name : "HP_E_UNKNOWN";
}
