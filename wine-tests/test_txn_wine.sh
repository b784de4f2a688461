#!/usr/bin/env bash
# The transaction engine in a live process under Wine, x64 and x86: tests/win/txn_self.c
# applies and reverts hotpatchable functions 1000 times while 8 threads call them.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/common.sh

rc=0
for arch in x64 x86; do
    echo "-- $arch"
    hp_wine "$HP_BUILD/$arch/tests/txn_self.exe" || rc=1
done
exit $rc
