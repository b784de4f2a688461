#!/usr/bin/env bash
# The transaction engine in a live process under Wine, x64 and x86: tests/win/txn_self.c
# patches and reverts 4 hotpatchable functions 200 times while 4 threads call them.
# (Belongs in wine-tests/ once `make test` runs that folder.)
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

rc=0
for arch in x64 x86; do
    echo "-- $arch"
    hp_wine "$HP_BUILD/$arch/tests/txn_self.exe" || rc=1
done
exit $rc
