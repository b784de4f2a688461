#!/usr/bin/env bash
# The three builds of `hotpe scan` agree: build/native/hotpe against build/x64/hotpe.exe and
# build/x86/hotpe.exe under Wine, `scan --json` byte for byte on kernelbase.dll of both arches,
# a spread of other corpus images, and the producer samples of test_sites.sh; plus the same
# exit code and message for bad input. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

native=$HP_BUILD/native/hotpe
out=$HP_BUILD/scan-wine
for b in "$native" "$HP_BUILD/x64/hotpe.exe" "$HP_BUILD/x86/hotpe.exe"; do
    [ -x "$b" ] || make -s "$b" || exit 1
done
mkdir -p "$out"
[ -n "$(ls "$HP_BUILD"/sites/*.dll 2>/dev/null)" ] || bash tests/oracle/test_sites.sh >/dev/null
pass=0
fail=0

files=("$HP_CORPUS_X64/kernelbase.dll" "$HP_CORPUS_X86/kernelbase.dll")
# Every 60th corpus image, both arches, plus the samples: a spread of sizes and producers.
while read -r f; do files+=("$f"); done < <(hp_corpus | awk 'NR % 60 == 1')
while read -r f; do files+=("$f"); done < <(ls "$HP_BUILD"/sites/*.dll 2>/dev/null)
head -c 4096 /dev/urandom >"$out/garbage.dll"
files+=("$out/garbage.dll")

hp_wine_env
for f in "${files[@]}"; do
    "$native" scan --json "$f" >"$out/native.json" 2>"$out/native.err"
    nrc=$?
    for arch in $HP_WINE_ARCHES; do
        # Wine maps Z: to /, and accepts the unix path as it is.
        wine "$HP_BUILD/$arch/hotpe.exe" scan --json "$f" >"$out/$arch.json" 2>"$out/$arch.err"
        wrc=$?
        if [ $wrc -ne $nrc ]; then
            fail=$((fail + 1)); echo "FAIL: $f: $arch exit $wrc, native $nrc: $(head -2 "$out/$arch.err")"
        elif ! cmp -s "$out/native.json" "$out/$arch.json"; then
            fail=$((fail + 1)); echo "FAIL: $f: $arch output differs from native"
        elif [ $nrc -ne 0 ] && ! diff -q <(sed 's/\r$//' "$out/native.err") <(sed 's/\r$//' "$out/$arch.err") >/dev/null; then
            fail=$((fail + 1)); echo "FAIL: $f: $arch message differs: $(cat "$out/$arch.err")"
        else
            pass=$((pass + 1))
        fi
    done
done
echo "scan under Wine: ${#files[@]} files, builds ${HP_WINE_ARCHES// / and } against native"
hp_wine_arches_note
hp_summary $pass $fail
