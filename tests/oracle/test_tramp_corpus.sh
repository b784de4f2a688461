#!/usr/bin/env bash
# The trampoline check (pe/tramp.c) on the Wine corpus. (1) Every image, both arches, is
# analysed by tests/tools/pe-tramp without an error, and the exported functions that could be
# patched through a trampoline are counted per arch (the coverage docs/trampolines.md quotes):
# at least 90% each. (2) For kernelbase.dll and 11 more images per architecture, every
# entry's verdict, bytes moved and deciding instruction agree with tramp_objdump.py, which
# decides them again from llvm-objdump's disassembly.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

tool=$HP_BUILD/native/pe-tramp
out=$HP_BUILD/tramp-corpus
[ -x "$tool" ] || make -s "$tool" || exit 1
mkdir -p "$out"
pass=0
fail=0

# (1) the whole corpus: no error, coverage of the exports per arch
if hp_corpus | xargs "$tool" >"$out/all.txt"; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: pe-tramp: $(grep -m1 -B1 '^error' "$out/all.txt" | tr '\n' ' ')"
fi
while read -r arch movable total; do
    pct=$(awk -v m="$movable" -v t="$total" 'BEGIN {printf "%.1f", t ? 100 * m / t : 0}')
    echo "$arch: $movable of $total exported functions movable through a trampoline ($pct%)"
    if awk -v m="$movable" -v t="$total" 'BEGIN {exit !(t > 0 && m >= 0.9 * t)}'; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $arch: coverage under 90%"
    fi
done < <(awk '/^file/ {m = $3} /^exports/ {mv[m] += $3; for (i = 3; i <= NF; i += 2) t[m] += $i}
              END {for (m in t) print m, mv[m], t[m]}' "$out/all.txt" | sort)

# (2) every entry against llvm-objdump
images="kernelbase.dll ntdll.dll kernel32.dll user32.dll gdi32.dll advapi32.dll msvcrt.dll
        ucrtbase.dll rpcrt4.dll combase.dll shlwapi.dll ws2_32.dll"
for dir in "$HP_CORPUS_X64" "$HP_CORPUS_X86"; do
    for name in $images; do
        f=$dir/$name
        [ -f "$f" ] || { fail=$((fail + 1)); echo "FAIL: $f: missing"; continue; }
        "$tool" "$f" >"$out/$name.txt" || { fail=$((fail + 1)); echo "FAIL: pe-tramp $f"; continue; }
        if python3 tests/oracle/tramp_objdump.py "$HP_LLVM/llvm-objdump" "$f" "$out/$name.txt" >"$out/$name.cmp"; then
            pass=$((pass + 1))
            head -1 "$out/$name.cmp"
        else
            fail=$((fail + 1))
            echo "FAIL: verdicts differ:"
            cat "$out/$name.cmp"
        fi
    done
done
hp_summary $pass $fail
