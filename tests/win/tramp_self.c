/* hotpe: tests/win/txn_self.c on plain -O2 functions, patched in the entry form (issue 17). */
#define HOTPE_ENTRY_FORM 1
#include "txn_self.c"
