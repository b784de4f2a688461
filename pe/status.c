/* hotpe: status strings, generated from the one list in status.h. */
#include "hotpe/status.h"

static const char *const messages[] = {
#define HP_STATUS_MSG(name, msg) msg,
    HP_STATUS_LIST(HP_STATUS_MSG)
#undef HP_STATUS_MSG
};

static const char *const names[] = {
#define HP_STATUS_NAME(name, msg) #name,
    HP_STATUS_LIST(HP_STATUS_NAME)
#undef HP_STATUS_NAME
};

_Static_assert(sizeof messages / sizeof *messages == HP_STATUS_COUNT, "one message per status");
_Static_assert(sizeof names / sizeof *names == HP_STATUS_COUNT, "one name per status");

const char *hp_status_str(hp_status s)
{
    return (unsigned)s < HP_STATUS_COUNT ? messages[s] : "unknown status";
}

const char *hp_status_name(hp_status s)
{
    return (unsigned)s < HP_STATUS_COUNT ? names[s] : "HP_E_UNKNOWN";
}
