#!/usr/bin/env bash
# The README's tour: every hotpe verb on the samples, with real output.
#   scan, build, info (native, offline) and list, check, apply, revert, trust, run (the Windows
#   build, on processes under Wine), first on quote-server.exe (the program's own code), then on
#   two clock.exe processes (Wine's kernelbase.dll: system code, one process patched only).
#   scripts/tour.sh [x64|x86]      (or ARCH=x86)
# Each command is printed as "$ CMD" and then run exactly as printed (its output follows), so
# the README can show this transcript and tests/oracle/test_readme.py can check it. The tour
# checks every effect; exit 0 only if all were as expected. Everything it starts is stopped on
# every exit path (EXIT/INT/TERM trap), by the pids it recorded.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source tests/lib/common.sh

ARCH=${1:-${ARCH:-x64}}
case $ARCH in x64 | x86) ;; *) echo "tour: ARCH must be x64 or x86, not '$ARCH'" >&2; exit 2 ;; esac
if [ "$ARCH" = x86 ] && ! hp_wine_x86; then
    echo "tour: ARCH=x86: this machine cannot execute 32-bit programs, so Wine cannot run x86 ones" >&2
    exit 2
fi
B=build/$ARCH
out=build/tour/$ARCH
if [ $ARCH = x64 ]; then kb=$HP_CORPUS_X64/kernelbase.dll; else kb=$HP_CORPUS_X86/kernelbase.dll; fi
WRONG="OK -1705218930" RIGHT="OK 2375000000"

hp_need build/native/hotpe $B/hotpe.exe $B/hotpe-shim.dll $B/quote-server.exe $B/quote-client.exe \
    $B/fix.dll $B/clock.exe $B/clock-fix.dll || exit 1
rm -rf "$out" && mkdir -p "$out"
hp_wine_env
t0=$SECONDS

failed=0
step=0
header() { step=$((step + 1)); printf '\n==> %d. %s\n' "$step" "$*"; }
fail() { failed=$((failed + 1)); echo "TOUR CHECK FAILED: $*"; }
# run CMD: prints "$ CMD", runs it as printed (bounded), keeps its output in $res and its exit
# code in $rc
res="" rc=0
run() {
    printf '$ %s\n' "$1"
    res=$(eval "timeout 120 $1" 2>&1)
    rc=$?
    res=$(tr -d '\r' <<<"$res")
    [ -n "$res" ] && printf '%s\n' "$res"
    return 0
}
has() { grep -qE "$1" <<<"$res" || fail "${2:-$1}: not in: $(head -3 <<<"$res")"; }

# ---- what we start: Linux pids and the write ends of their stdin fifos ----------------------
declare -A kid=() kfd=()
stop() { # name: close its stdin (all three programs stop at end of input), then kill if needed
    local pid=${kid[$1]:-} fd=${kfd[$1]:-} i
    [ -n "$fd" ] && eval "exec $fd>&-" 2>/dev/null
    kfd[$1]=""
    [ -n "$pid" ] || return 0
    kid[$1]=""
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.05
    done
    kill "$pid" 2>/dev/null
    sleep 0.5
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
untrust=""  # the signer the tour trusted, removed again on every exit path
cleanup() {
    local n
    for n in "${!kid[@]}"; do stop "$n"; done
    [ -n "$untrust" ] && timeout 60 wine "$B/hotpe.exe" trust remove "$untrust" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap '' PIPE
# start name CMD...: starts wine CMD in the background on a fifo stdin kept open
start() {
    local n=$1 fd f
    shift
    rm -f "$out/$n.in" && mkfifo "$out/$n.in"
    (
        for f in "${kfd[@]}"; do [ -n "$f" ] && eval "exec $f>&-"; done # not the others' stdin
        exec wine "$@"
    ) <"$out/$n.in" >"$out/$n.out" 2>"$out/$n.err" &
    kid[$n]=$!
    exec {fd}>"$out/$n.in"
    kfd[$n]=$fd
}
# wait_line file regex: polls (60 s: Wine starts slowly on a loaded machine) until a line matches; prints it
wait_line() {
    local i
    for ((i = 0; i < 1200; i++)); do
        if grep -Eq "$2" "$1" 2>/dev/null; then
            grep -Em1 "$2" "$1" | tr -d '\r'
            return 0
        fi
        sleep 0.05
    done
    return 1
}
# ask name line: one line to a clock.exe -i; prints "  name: REPLY" and sets $reply
reply=""
ask() {
    local n=$1 have i
    have=$(wc -l <"$out/$n.out")
    printf '%s\n' "$2" >&"${kfd[$n]}" 2>/dev/null
    reply="(no reply within 20 s)"
    for ((i = 0; i < 400; i++)); do
        if [ "$(wc -l <"$out/$n.out")" -gt "$have" ]; then
            reply=$(sed -n "$((have + 1))p" "$out/$n.out" | tr -d '\r')
            break
        fi
        sleep 0.05
    done
    printf '  clock %s: %s\n' "$n" "$reply"
}
# hours A B: A's time minus B's, in whole hours (replies "tick N  local DATE TIME")
hours() {
    python3 -c 'import re, sys, datetime
t = [datetime.datetime.strptime(re.search(r"local (\S+ \S+)$", s).group(1), "%Y-%m-%d %H:%M:%S.%f") for s in sys.argv[1:]]
print(round((t[0] - t[1]).total_seconds() / 3600))' "$1" "$2" 2>/dev/null || echo none
}
# the one process of that image with no patch live (other tests may run their own): its pid
one_pid() { # image
    awk -v img="($1):" '$1 == "pid" && $3 == img && / 0 live patches/{print $2}' <<<"$res"
}

echo "tour ($ARCH): every hotpe verb on the samples"

# ---- quote-server: the program's own code ---------------------------------------------------
header "quote-server.exe, running under Wine, gets a big order wrong"
printf '$ %s\n' "wine $B/quote-server.exe 0    # kept running: it stops when its stdin closes"
start server "$B/quote-server.exe" 0
port=""
if l=$(wait_line "$out/server.out" '^listening on [0-9]+'); then
    echo "$l"
    port=${l#listening on }
else
    fail "the server did not start: $(head -3 "$out/server.err")"
    exit 1
fi
run "wine $B/quote-client.exe $port 'PRICE widget 3' 'PRICE widget 10000000'"
has "^OK 750$" "a normal order"
has "^$WRONG$" "the wrong price (the bug)"

header "scan: which functions of the server can be patched"
run "build/native/hotpe scan $B/quote-server.exe | grep -E 'RVA|compute_price|apply_discount|^(hotpatch sites|patchable)'"
has " prologue .*compute_price" "compute_price is prologue"

header "build: stamp the fix (fix.dll, built with the SDK) against this exact server build"
run "build/native/hotpe build --base $B/quote-server.exe $B/fix.dll -o $out/quote-server-fix.dll"
[ $rc -eq 0 ] && [ -s $out/quote-server-fix.dll ] || fail "hotpe build exit $rc"

header "info: what the stamped patch says about itself"
run "build/native/hotpe info $out/quote-server-fix.dll"
has "patch for quote-server.exe" "info names the target"
has "^hooks \(2\)" "info shows 2 hooks"

header "list --name: the running server, no patch yet"
run "wine $B/hotpe.exe list --name quote-server.exe"
spid=$(one_pid quote-server.exe)
if [ "$(wc -w <<<"$spid")" -ne 1 ]; then
    fail "expected exactly one unpatched $ARCH quote-server.exe in this Wine prefix"
    exit 1
fi

header "check: a dry run of apply (identity, every validation, read from outside; nothing written)"
run "wine $B/hotpe.exe check --pid $spid $out/quote-server-fix.dll"
has "^pid $spid \(quote-server\.exe\): quote-server\.exe: .* would apply \(1 site\)$" "check says it would apply"

header "apply: the running server is fixed, no restart"
run "wine $B/hotpe.exe apply --pid $spid $out/quote-server-fix.dll"
has "^pid $spid \(quote-server\.exe\): quote-server\.exe: applied .* as patch 1 \(1 site, " "apply as patch 1"
run "wine $B/quote-client.exe $port 'PRICE widget 10000000' 'STATS'"
has "^$RIGHT$" "the right price after apply"
has "^OK requests=3 connections=2$" "STATS counts on (3 requests, 2 connections)"

header "list: what is live, with each site's original bytes (kept for revert)"
run "wine $B/hotpe.exe list --pid $spid"
has "^pid $spid \(quote-server\.exe\): 1 live patch$" "list: 1 live patch"
has "^    RVA 0x[0-9a-f]+  live +entry " "list: the site is live"

header "the same patch again: it is live already, nothing to do (exit 0: a rollout can be run twice)"
run "wine $B/hotpe.exe apply --pid $spid $out/quote-server-fix.dll; echo \"exit \$?\""
has "^exit 0$" "the same patch twice: exit 0"
has "^pid $spid \(quote-server\.exe\): quote-server\.exe: .* is live already as patch 1: nothing to do$" "live already, by pid and image"

header "revert by id: the original code is back"
run "wine $B/hotpe.exe revert --pid $spid 1"
[ $rc -eq 0 ] || fail "revert exit $rc"
run "wine $B/quote-client.exe $port 'PRICE widget 10000000'"
has "^$WRONG$" "the wrong price after revert"

header "trust: sign the fix and trust its signer; then only signed patches apply"
run "openssl req -x509 -newkey rsa:2048 -nodes -keyout $out/signer.key -out $out/signer.pem -days 30 -subj '/CN=hotpe tour signer' -addext extendedKeyUsage=codeSigning 2>/dev/null"
run "osslsigncode sign -certs $out/signer.pem -key $out/signer.key -in $out/quote-server-fix.dll -out $out/quote-server-fix-signed.dll"
has "^Succeeded$" "osslsigncode signed the patch"
untrust=$out/signer.pem
run "wine $B/hotpe.exe trust add $out/signer.pem"
has "^trusted signer [0-9a-f]{40}  hotpe tour signer$" "trust add"
run "wine $B/hotpe.exe apply --pid $spid $out/quote-server-fix.dll || echo \"exit \$?\""
has "^hotpe: $out/quote-server-fix.dll: signature: the patch is not signed, and signed patches are required " "the unsigned patch refused"
run "wine $B/hotpe.exe apply --pid $spid $out/quote-server-fix-signed.dll"
has "^pid $spid \(quote-server\.exe\): quote-server\.exe: applied .*-signed\.dll as patch 2 " "the signed patch applied"
run "wine $B/quote-client.exe $port 'PRICE widget 10000000'"
has "^$RIGHT$" "the right price from the signed patch"
run "wine $B/hotpe.exe revert --pid $spid --all && wine $B/hotpe.exe trust remove $out/signer.pem"
has "^removed signer [0-9a-f]{40}$" "trust remove"
untrust=""
stop server

header "run: a new server, started with the fix applied before its own code runs"
printf '$ %s\n' "wine $B/hotpe.exe run --patch $out/quote-server-fix.dll -- $B/quote-server.exe 0    # hotpe's line on stderr"
start server2 "$B/hotpe.exe" run --patch "$out/quote-server-fix.dll" -- "$B/quote-server.exe" 0
if l=$(wait_line "$out/server2.out" '^listening on [0-9]+'); then
    wait_line "$out/server2.err" '^pid [0-9]+ \(quote-server\.exe\): quote-server\.exe: applied ' ||
        fail "run printed no applied line: $(head -3 "$out/server2.err")"
    echo "$l"
    run "wine $B/quote-client.exe ${l#listening on } 'PRICE widget 10000000'"
    has "^$RIGHT$" "the right price from the first request"
else
    fail "run did not start the server: $(head -3 "$out/server2.err")"
fi
stop server2

# ---- clock: Wine's own kernelbase.dll -------------------------------------------------------
header "a second kind: Wine's own kernelbase.dll, whose GetLocalTime is DECLSPEC_HOTPATCH"
run "build/native/hotpe scan --detail $kb | grep -w -A2 GetLocalTime"
has " prologue .*GetLocalTime" "GetLocalTime is prologue"
run "build/native/hotpe build --base $kb $B/clock-fix.dll -o $out/clock-fix-kernelbase.dll"
[ $rc -eq 0 ] || fail "hotpe build of clock-fix exit $rc"
run "build/native/hotpe info $out/clock-fix-kernelbase.dll | sed -n '1,3p;/^hooks/,/^$/p'"
has "patch for kernelbase.dll" "clock-fix targets kernelbase.dll"

header "two clock.exe processes in the same prefix, each asked for GetLocalTime"
# start_clock name comment: starts clock.exe -i, prints its "pid N" line, sets cpid
start_clock() {
    printf '$ %s\n' "wine $B/clock.exe -i    # $2"
    start "$1" "$B/clock.exe" -i
    cpid=$(wait_line "$out/$1.out" '^pid [0-9]+') || { fail "clock.exe -i did not start: $(cat "$out/$1.err")"; exit 1; }
    echo "$cpid"
    cpid=${cpid#pid }
}
start_clock A "clock A: prints its pid, then the time for each line on its stdin (\"b\": GetLocalTime's bytes)"
apid=$cpid
start_clock B "clock B: the same, left alone"
bpid=$cpid
ask A b
ask A t; ta=$reply
ask B t
[ "$(hours "$ta" "$reply")" = 0 ] || fail "A and B disagree before the patch"

header "apply to A only: its local time is one hour ahead, B's is not"
run "wine $B/hotpe.exe apply --pid $apid $out/clock-fix-kernelbase.dll"
has "^pid $apid \(clock\.exe\): kernelbase\.dll: applied .* as patch 1 \(1 site, " "kernelbase patch applied"
ask A t; ta=$reply
ask B t
[ "$(hours "$ta" "$reply")" = 1 ] || fail "A is not one hour ahead of B after apply"
ask A b
grep -qE 'entry: eb f[89] ' <<<"$reply" || fail "A's GetLocalTime entry is not the short jump"
run "wine $B/hotpe.exe list --pid $apid"
has "^  patch 1  sequence 1  kernelbase\.dll  .*  \(1 site\)$" "list: the patch on kernelbase.dll"
run "wine $B/hotpe.exe list --pid $bpid"
has "^pid $bpid \(clock\.exe\): 0 live patches \(no shim loaded\)$" "B has no patch"

header "revert --all: A tells the real time again"
run "wine $B/hotpe.exe revert --pid $apid --all"
has "^pid $apid \(clock\.exe\): reverted 1 patch$" "revert --all"
ask A t; ta=$reply
ask B t
[ "$(hours "$ta" "$reply")" = 0 ] || fail "A and B disagree after the revert"
ask A b
grep -qE 'entry: (48 8d|8b ff) ' <<<"$reply" || fail "A's GetLocalTime entry is not original after revert"
stop A
stop B

echo
if [ $failed -eq 0 ]; then
    echo "tour ($ARCH): all checks passed in $((SECONDS - t0)) s"
    exit 0
fi
echo "tour ($ARCH): $failed check(s) failed"
exit 1
