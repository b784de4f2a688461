#!/usr/bin/env bash
# The CFG plan of an apply (engine/cfg.h: is the target module CFG-instrumented, which call
# targets to make valid) on real bases: tests/oracle/cfg/cfg_target.c built with clang-cl
# /guard:cf /hotpatch and lld-link /guard:cf, and its plain twin without /guard:cf, x64 and x86,
# each with the GCC patch cfg_patch.c built twice: -O2 (replacements 16-byte aligned) and -O2
# -falign-functions=1 (one packed after the other: not aligned). cfg_plan (tests/oracle/
# cfg_plan.c) prints the plan; cfg/check_plan.py compares it with llvm-readobj (GuardFlags,
# GuardFidTable, ImageBase), the lld map (compute, label) and MinGW nm (compute_v2, label_v2).
# Outputs go to build/oracle/cfg_plan/.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$HP_ROOT/tests/oracle/cfg/build_target.sh"

PLAN="$HP_BUILD/native/oracle/cfg_plan"
OUT="$HP_BUILD/oracle/cfg_plan"
for f in "$PLAN" "$HP_BUILD/native/hotpe"; do
    [ -x "$f" ] || { echo "test_cfg_plan: $f missing: run make" >&2; exit 1; }
done
rm -rf "$OUT"
passed=0 failed=0
count() { # LAST_LINE_OF_OUTPUT: add its "N passed, M failed"
    if [[ $1 =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        echo "unexpected result line: $1"
        failed=$((failed + 1))
    fi
}

for arch in x64 x86; do
    nm=x86_64-w64-mingw32-nm
    [ $arch = x86 ] && nm=i686-w64-mingw32-nm
    for kind in cfg plain; do
        for align in aligned packed; do
            d=$OUT/$arch/$kind-$align
            flags=()
            [ $align = packed ] && flags=(-falign-functions=1)
            cfg=1
            [ $kind = plain ] && cfg=0
            echo "-- $arch $kind $align"
            mkdir -p "$d"
            if ! hp_cfg_build $arch "$d" $cfg "${flags[@]}" >"$d/build.log" 2>&1; then
                echo "FAIL build: $(head -5 "$d/build.log")"
                failed=$((failed + 1))
                continue
            fi
            "$PLAN" "$d/cfg_target.exe" "$d/patch.dll" >"$d/plan.txt" || true
            "$HP_LLVM/llvm-readobj" --file-headers --coff-load-config "$d/cfg_target.exe" >"$d/base.txt"
            "$HP_LLVM/llvm-readobj" --file-headers "$d/patch.dll" >"$d/patch.txt"
            $nm "$d/patch.dll" >"$d/nm.txt"
            out=$(python3 "$HP_ROOT/tests/oracle/cfg/check_plan.py" "$d/plan.txt" "$d/base.txt" \
                "$d/cfg_target.map" "$d/patch.txt" "$d/nm.txt" $kind 2>&1) || true
            echo "$out" | sed 's/^/   /'
            count "$(echo "$out" | tail -n 1)"
            if [ $kind = cfg ] && [ $align = packed ]; then
                # the fixture must really hold a replacement the call cannot take
                if grep -q ' unaligned$' "$d/plan.txt"; then
                    passed=$((passed + 1))
                else
                    echo "FAIL $arch: -falign-functions=1 left every replacement aligned"
                    failed=$((failed + 1))
                fi
            fi
        done
    done
done
hp_summary "$passed" "$failed"
