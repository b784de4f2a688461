#!/usr/bin/env bash
# The transaction engine in a live process under Wine, x64 and x86: tests/win/txn_self.c
# applies and reverts hotpatchable functions 1000 times while 8 threads call them, and
# tests/win/tramp_self.c does the same with plain -O2 functions in the entry form (one of the
# replacements calling its original through the trampoline).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/common.sh
hp_wine_arches_note

rc=0
for arch in $HP_WINE_ARCHES; do
    echo "-- $arch"
    hp_wine "$HP_BUILD/$arch/tests/txn_self.exe" || rc=1
    hp_wine "$HP_BUILD/$arch/tests/tramp_self.exe" || rc=1
done
exit $rc
