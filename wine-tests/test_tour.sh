#!/usr/bin/env bash
# The README's tour and its transcripts, under Wine:
#  - scripts/tour.sh x64 and x86 exit 0 and show each effect in order: the wrong price, scan
#    classes compute_price prologue, check, apply, the right price, list, the same patch
#    again (live already, exit 0), revert, the wrong price again; then kernelbase.dll: apply to
#    clock A, list on A and nothing on B, revert;
#  - every "$ " command the README shows is checked: tests/oracle/test_readme.py runs the
#    offline ones and matches the transcript blocks against the saved output of
#    scripts/tour.sh x64 and scripts/demo.sh x64 (the demo is run here for that);
#  - an interrupted tour (SIGTERM once both clocks run) still stops everything it started.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source tests/lib/common.sh
hp_wine_arches_note
out=build/tour-test
rm -rf "$out" && mkdir -p "$out"
hp_wine_env

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description command...
    local what=$1
    shift
    if "$@"; then ok; else bad "$what"; fi
}
# line number of the first transcript line matching an ERE (0: none)
at() { grep -nEm1 "$1" <<<"$log" | cut -d: -f1 | grep . || echo 0; }

for a in $HP_WINE_ARCHES; do
    log=$(timeout 300 bash scripts/tour.sh $a 2>&1)
    rc=$?
    printf '%s\n' "$log" >"$out/tour-$a.log"
    check "$a: tour exit 0 (rc $rc): $(grep -m3 'FAILED' <<<"$log")" [ $rc -eq 0 ]
    check "$a: closing line" grep -q "^tour ($a): all checks passed" <<<"$log"
    wrong1=$(at '^OK -1705218930$')
    scan=$(at '^0x[0-9a-f]+ +prologue .* _?compute_price$')
    chk=$(at '^pid [0-9]+ \(quote-server\.exe\): quote-server\.exe: .* would apply \(1 site\)$')
    applied=$(at '^pid [0-9]+ \(quote-server\.exe\): quote-server\.exe: applied .* as patch 1 \(1 site, ')
    right=$(at '^OK 2375000000$')
    listed=$(at '^pid [0-9]+ \(quote-server\.exe\): 1 live patch$')
    refused=$(at '^pid [0-9]+ \(quote-server\.exe\): quote-server\.exe: .* is live already as patch 1: nothing to do$')
    reverted=$(at '^pid [0-9]+ \(quote-server\.exe\): reverted patch 1 ')
    wrong2=$(grep -nE '^OK -1705218930$' <<<"$log" | sed -n 2p | cut -d: -f1)
    check "$a: order wrong < scan < check < apply < right < list < already < revert < wrong ($wrong1 $scan $chk $applied $right $listed $refused $reverted ${wrong2:-none})" \
        [ "$wrong1" -gt 0 -a "$scan" -gt "$wrong1" -a "$chk" -gt "$scan" -a "$applied" -gt "$chk" -a "$right" -gt "$applied" \
        -a "$listed" -gt "$right" -a "$refused" -gt "$listed" -a "$reverted" -gt "$refused" -a "${wrong2:-0}" -gt "$reverted" ]
    exit0=$(at '^exit 0$')
    check "$a: live already exits 0 ($exit0)" [ "$exit0" -eq $((refused + 1)) ]
    kapplied=$(at '^pid [0-9]+ \(clock\.exe\): kernelbase\.dll: applied .* as patch 1 \(1 site, ')
    klisted=$(at '^  patch 1  sequence 1  kernelbase\.dll  .*  \(1 site\)$')
    kreverted=$(at '^pid [0-9]+ \(clock\.exe\): reverted 1 patch$')
    check "$a: kernelbase: apply < list < revert ($kapplied $klisted $kreverted)" \
        [ "$kapplied" -gt "$wrong2" -a "$klisted" -gt "$kapplied" -a "$kreverted" -gt "$klisted" ]
    nb=$(grep -c '^  clock A: bytes kernelbase!GetLocalTime' <<<"$log")
    check "$a: A's GetLocalTime bytes shown before, patched, after ($nb)" [ "$nb" -eq 3 ]
    [ $rc -eq 0 ] || printf '%s\n' "$log" | tail -30
done
check "x64: B (not patched) listed with no shim" grep -qE '^pid [0-9]+ \(clock\.exe\): 0 live patches \(no shim loaded\)$' "$out/tour-x64.log"

# the README: offline commands run, transcript blocks against the tour's and the demo's output
timeout 300 bash scripts/demo.sh x64 >"$out/demo-x64.log" 2>&1
rc=$?
check "demo x64 exit 0 (rc $rc)" [ $rc -eq 0 ]
r=$(python3 tests/oracle/test_readme.py --transcript "scripts/tour.sh x64=$out/tour-x64.log" \
    --transcript "scripts/demo.sh x64=$out/demo-x64.log" 2>&1)
rc=$?
check "README: every command checked (rc $rc)" [ $rc -eq 0 ]
check "README: no command left unchecked" [ "$(grep -c 'need Wine' <<<"$r")" -eq 0 ]
check "README: the transcript blocks were checked" grep -q 'transcript of scripts/tour.sh x64' <<<"$r"
[ $rc -eq 0 ] || printf '%s\n' "$r" | grep -A3 FAIL

# an interrupted tour still stops what it started
bash scripts/tour.sh x64 >"$out/interrupted.log" 2>&1 &
tpid=$!
for _ in $(seq 1 600); do
    grep -q '^  clock B: ' "$out/interrupted.log" 2>/dev/null && break
    sleep 0.1
done
check "interrupted tour reached the clocks" grep -q '^  clock B: ' "$out/interrupted.log"
kill -TERM $tpid
for _ in $(seq 1 100); do
    kill -0 $tpid 2>/dev/null || break
    sleep 0.1
done
wait $tpid
rc=$?
check "interrupted tour exits non-zero (rc $rc)" [ $rc -ne 0 ]
gone=0
for _ in $(seq 1 50); do
    r=$(timeout 60 wine build/x64/hotpe.exe list --name clock.exe 2>&1 | tr -d '\r')
    grep -q 'not found (no such process)' <<<"$r" && { gone=1; break; }
    sleep 0.2
done
check "interrupted tour stopped both clock.exe: $r" [ $gone -eq 1 ]

hp_summary $pass $fail
