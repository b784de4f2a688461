#!/usr/bin/env bash
# `hotpe scan` on the Wine corpus. (1) Every image, both arches, scans with exit 0 and valid
# JSON (no crash, no refusal). (2) For kernelbase.dll and 10 more images per architecture, the
# counts by class agree with an independent decoder: scan_objdump.py classifies every listed
# entry from llvm-objdump's disassembly and its own reading of the section table.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

hotpe=$HP_BUILD/native/hotpe
out=$HP_BUILD/scan-corpus
[ -x "$hotpe" ] || make -s "$hotpe" || exit 1
mkdir -p "$out"
pass=0
fail=0

# (1) the whole corpus, in one Python process (an interpreter per file costs minutes)
summary=$(hp_corpus | python3 -c '
import json, subprocess, sys
hotpe = sys.argv[1]
total = failed = functions = 0
for f in sys.stdin.read().split("\n"):
    if not f:
        continue
    total += 1
    r = subprocess.run([hotpe, "scan", "--json", f], capture_output=True)
    try:
        err = r.stderr.decode("ascii", "replace").strip()
        assert r.returncode == 0, f"exit {r.returncode}: {err}"
        functions += len(json.loads(r.stdout)["functions"])
    except Exception as e:
        failed += 1
        print(f"FAIL: {f}: {e}")
print(f"whole corpus: {total} images, {functions} functions, {failed} failed")
' "$hotpe")
echo "$summary"
if grep -q '^whole corpus: .* 0 failed$' <<<"$summary"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

# (2) class counts against llvm-objdump
images="kernelbase.dll ntdll.dll kernel32.dll user32.dll gdi32.dll advapi32.dll msvcrt.dll
        ucrtbase.dll rpcrt4.dll combase.dll shlwapi.dll ws2_32.dll"
for dir in "$HP_CORPUS_X64" "$HP_CORPUS_X86"; do
    for name in $images; do
        f=$dir/$name
        [ -f "$f" ] || { fail=$((fail + 1)); echo "FAIL: $f: missing"; continue; }
        "$hotpe" scan --json "$f" >"$out/$name.json" || { fail=$((fail + 1)); continue; }
        if python3 tests/oracle/scan_objdump.py "$HP_LLVM/llvm-objdump" "$f" "$out/$name.json" >"$out/$name.cmp"; then
            pass=$((pass + 1))
            head -1 "$out/$name.cmp"
        else
            fail=$((fail + 1))
            echo "FAIL: class counts differ:"
            cat "$out/$name.cmp"
        fi
    done
done
hp_summary $pass $fail
