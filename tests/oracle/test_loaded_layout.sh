#!/usr/bin/env bash
# The MinGW builds of pe/ under Wine: modules read from process memory (loaded layout) must
# parse to the same model as their files, and named exports must match GetProcAddress.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

dlls="kernelbase.dll ntdll.dll kernel32.dll user32.dll msvcrt.dll ws2_32.dll advapi32.dll gdi32.dll"
rc=0
hp_wine_arches_note
for arch in $HP_WINE_ARCHES; do
    echo "-- $arch"
    # shellcheck disable=SC2086
    hp_wine "$HP_BUILD/$arch/tests/loaded_layout.exe" $dlls || rc=1
done
exit $rc
