#!/usr/bin/env bash
# make demo (scripts/demo.sh), x64 and x86 under Wine: exit 0, and the transcript shows each
# effect in order: the wrong price before the patch, hotpe apply on the server's pid, the right
# price after it on the same connection (connections=1 throughout, STATS counting), list,
# revert, the wrong price again; it runs in under 2 minutes and stops the server it started.
# Then an interrupted demo (SIGTERM after it started the server) still stops its server.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source tests/lib/common.sh
hp_wine_arches_note

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
    t0=$SECONDS
    log=$(timeout 300 bash scripts/demo.sh $a 2>&1)
    rc=$?
    took=$((SECONDS - t0))
    check "$a: demo exit 0 (rc $rc): $(grep -m3 'FAILED' <<<"$log")" [ $rc -eq 0 ]
    check "$a: demo took $took s (< 120)" [ $took -lt 120 ]
    check "$a: 10 numbered steps" [ "$(grep -cE '^==> ([1-9]|10)\. ' <<<"$log")" -eq 10 ]
    wrong1=$(at '^  > PRICE widget 10000000 +< OK -1705218930$')
    apply=$(at '^==> [0-9]+\. apply the fix to the running server \(pid [0-9]+\)')
    applied=$(at '^pid [0-9]+ \(quote-server\.exe\): quote-server\.exe: applied .* as patch [0-9]+ \(1 site, ')
    right=$(at '^  > PRICE widget 10000000 +< OK 2375000000$')
    listed=$(at '^pid [0-9]+ \(quote-server\.exe\): 1 live patch$')
    reverted=$(at '^pid [0-9]+ \(quote-server\.exe\): reverted 1 patch$')
    wrong2=$(grep -nE '^  > PRICE widget 10000000 +< OK -1705218930$' <<<"$log" | sed -n 2p | cut -d: -f1)
    check "$a: wrong price before the patch" [ "$wrong1" -gt 0 ]
    check "$a: apply after it ($wrong1 < $apply < $applied)" [ "$apply" -gt "$wrong1" -a "$applied" -gt "$apply" ]
    check "$a: right price after apply ($right)" [ "$right" -gt "$applied" ]
    check "$a: list shows the patch ($listed)" [ "$listed" -gt "$right" ]
    check "$a: revert ($reverted)" [ "$reverted" -gt "$listed" ]
    check "$a: wrong price again after revert (${wrong2:-none})" [ "${wrong2:-0}" -gt "$reverted" ]
    stats=$(grep -oE '< OK requests=[0-9]+ connections=[0-9]+' <<<"$log" | tr '\n' '|')
    check "$a: STATS counting on one connection ($stats)" \
        [ "$stats" = "< OK requests=2 connections=1|< OK requests=4 connections=1|< OK requests=5 connections=1|" ]
    wpid=$(grep -oEm1 'running server \(pid [0-9]+\)' <<<"$log" | grep -oE '[0-9]+')
    check "$a: apply, list and revert name the same pid ($wpid)" \
        [ -n "$wpid" -a "$(grep -cE "^pid $wpid \(quote-server\.exe\): " <<<"$log")" -eq 3 ]
    check "$a: scan line of compute_price is prologue" grep -qE '^0x[0-9a-f]+ +prologue .*compute_price' <<<"$log"
    check "$a: fresh stamped patch under build/demo" [ -s build/demo/$a/quote-server-fix.dll ]
    check "$a: closing line" grep -q "^demo ($a): all checks passed" <<<"$log"
    check "$a: the server was stopped by the demo" grep -q 'stopping: end of stdin' build/demo/$a/server.err
    [ $rc -eq 0 ] || printf '%s\n' "$log" | tail -40
done

# an interrupted demo still stops the server it started
bash scripts/demo.sh x64 >build/demo/interrupted.log 2>&1 &
dpid=$!
for _ in $(seq 1 300); do
    grep -q '^==> 2\. ' build/demo/interrupted.log 2>/dev/null && break
    sleep 0.1
done
kill -TERM $dpid
for _ in $(seq 1 100); do
    kill -0 $dpid 2>/dev/null || break
    sleep 0.1
done
wait $dpid
rc=$?
check "interrupted demo exits non-zero (rc $rc)" [ $rc -ne 0 ]
ended=0
for _ in $(seq 1 100); do
    grep -q 'stopping: end of stdin' build/demo/x64/server.err 2>/dev/null && { ended=1; break; }
    sleep 0.1
done
check "interrupted demo stopped its server: $(tail -2 build/demo/x64/server.err 2>/dev/null)" [ $ended -eq 1 ]

hp_summary $pass $fail
