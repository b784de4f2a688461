#!/usr/bin/env bash
# make demo (samples/README.md): quote-server.exe runs under Wine with ONE quote-client.exe
# connection open; the crafted order gets the wrong (wrapped) price; hotpe stamps the fix and
# applies it to the running server; the same connection now gets the right price, STATS keeps
# counting; revert brings the wrong price back. No restart, no reconnection.
#   scripts/demo.sh [x64|x86]      (or ARCH=x86; make demo ARCH=x86)
# Checks every effect; exit 0 only if all were as expected. Everything it starts is stopped on
# every exit path (EXIT/INT/TERM trap), by the pids it recorded.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source tests/lib/common.sh

ARCH=${1:-${ARCH:-x64}}
case $ARCH in x64 | x86) ;; *) echo "demo: ARCH must be x64 or x86, not '$ARCH'" >&2; exit 2 ;; esac
if [ "$ARCH" = x86 ] && ! hp_wine_x86; then
    echo "demo: ARCH=x86: this machine cannot execute 32-bit programs, so Wine cannot run x86 ones" >&2
    exit 2
fi
hotpe=build/native/hotpe
whotpe=build/$ARCH/hotpe.exe
server=build/$ARCH/quote-server.exe
client=build/$ARCH/quote-client.exe
out=build/demo/$ARCH
fix=$out/quote-server-fix.dll
CRAFTED="PRICE widget 10000000"
WRONG="OK -1705218930"  # 10,000,000 x 250 cents wrapped in a 32-bit long, then 5% off
RIGHT="OK 2375000000"

hp_need "$hotpe" "$whotpe" "build/$ARCH/hotpe-shim.dll" "$server" "$client" "build/$ARCH/fix.dll" || exit 1
rm -rf "$out" && mkdir -p "$out"
hp_wine_env
t0=$SECONDS

failed=0
step=0
header() { step=$((step + 1)); printf '\n==> %d. %s\n' "$step" "$*"; }
fail() { failed=$((failed + 1)); echo "DEMO CHECK FAILED: $*"; }
show() { printf '$ %s\n' "$*"; } # the command as a user would type it

# ---- the two processes we start: their pids and the write ends of their stdin fifos -------
srv_pid="" cli_pid="" srv_fd="" cli_fd=""
stop() { # pid fd: close its stdin (both programs stop at end of input), then kill if needed
    local pid=$1 fd=$2 i
    [ -n "$fd" ] && eval "exec $fd>&-" 2>/dev/null
    [ -n "$pid" ] || return 0
    for ((i = 0; i < 40; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.05
    done
    kill "$pid" 2>/dev/null
    sleep 0.5
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
cleanup() {
    stop "$cli_pid" "$cli_fd"
    stop "$srv_pid" "$srv_fd"
    cli_pid="" srv_pid="" cli_fd="" srv_fd=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap '' PIPE # a client that died must not kill the demo before its checks

# wait_line file regex seconds: polls until a line matches; prints it
wait_line() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        if grep -Eq "$2" "$1" 2>/dev/null; then
            grep -Em1 "$2" "$1" | tr -d '\r'
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# ask REQUEST: sends one line on the open connection, prints and returns (in $reply) its reply
nreplies=0
reply=""
ask() {
    local i
    nreplies=$((nreplies + 1))
    printf '%s\r\n' "$1" >&"$cli_fd" 2>/dev/null
    reply="(no reply within 20 s)"
    for ((i = 0; i < 400; i++)); do
        if [ "$(wc -l <"$out/client.out")" -ge $nreplies ]; then
            reply=$(sed -n "${nreplies}p" "$out/client.out" | tr -d '\r')
            break
        fi
        sleep 0.05
    done
    printf '  > %-24s < %s\n' "$1" "$reply"
}
expect() { # what want
    [ "$reply" = "$2" ] || fail "$1: got '$reply', want '$2'"
}
client_alive() { [ -n "$cli_pid" ] && kill -0 "$cli_pid" 2>/dev/null; }

# ---- 1. the server -------------------------------------------------------------------------
header "start the unpatched server ($ARCH) under Wine on a free port"
show "wine $server 0"
mkfifo "$out/server.in" "$out/client.in"
wine "$server" 0 <"$out/server.in" >"$out/server.out" 2>"$out/server.err" &
srv_pid=$!
exec {srv_fd}>"$out/server.in"
if ! l=$(wait_line "$out/server.out" '^listening on [0-9]+' 30); then
    fail "server did not start: $(head -3 "$out/server.err")"
    exit 1
fi
port=${l#listening on }
echo "$l"

# ---- 2. one client connection, kept open ------------------------------------------------------
header "open ONE client connection (kept open, fed line by line): a normal order is right, the crafted one wrapped"
show "wine $client $port    # requests on its stdin"
(
    eval "exec $srv_fd>&-" # the client must not hold the server's stdin open
    exec wine "$client" "$port"
) <"$out/client.in" >"$out/client.out" 2>"$out/client.err" &
cli_pid=$!
exec {cli_fd}>"$out/client.in"
ask "PRICE widget 3"
expect "normal order before the patch" "OK 750"
ask "$CRAFTED"
expect "crafted order before the patch (the bug)" "$WRONG"
ask "STATS"
expect "STATS before the patch" "OK requests=2 connections=1"
[ "$reply" = "OK requests=2 connections=1" ] || { echo "(the server is not answering as expected: stopping)"; exit 1; }
echo "  wrong: 10,000,000 x 250 cents less 5% is 2,375,000,000 cents"

# ---- 3. scan ---------------------------------------------------------------------------------------
header "the server binary: compute_price was built patchable (hotpe scan)"
# the function's line and the summary, by a filter shown as part of the command
pick="grep -E ' _?compute_price$|^  (prologue|padded|trampoline|total) |^(hotpatch sites|patchable)'"
show "$hotpe scan $server | $pick"
scan=$(eval "\"\$hotpe\" scan \"\$server\" | $pick" 2>&1) || fail "hotpe scan: $scan"
echo "$scan"
line=$(grep -E '^0x[0-9a-f]+ +[a-z-]+ .* _?compute_price$' <<<"$scan")
[[ $line == *" prologue "* ]] || fail "compute_price is not 'prologue' in hotpe scan"

# ---- 4. build ----------------------------------------------------------------------------------------
header "stamp the fix against this exact server build (hotpe build, native)"
show "$hotpe build --base $server build/$ARCH/fix.dll -o $fix"
if msg=$("$hotpe" build --base "$server" "build/$ARCH/fix.dll" -o "$fix" 2>&1); then
    [ -n "$msg" ] && echo "$msg"
    echo "wrote $fix ($(stat -c %s "$fix") bytes)"
else
    echo "$msg"
    fail "hotpe build"
    exit 1
fi

# ---- 5. info ------------------------------------------------------------------------------------------
header "what the patch says about itself (hotpe info, trimmed)"
show "$hotpe info $fix"
info=$("$hotpe" info "$fix" 2>&1) || fail "hotpe info: $info"
sed -n '1,/^$/p' <<<"$info" | sed '/^$/d'
sed -n '/^hooks/,/^$/p' <<<"$info" | sed '/^$/d'
grep -q "patch for quote-server.exe" <<<"$info" || fail "hotpe info: no target quote-server.exe"

# ---- 6. apply ------------------------------------------------------------------------------------------
list=$(timeout 60 wine "$whotpe" list --name quote-server.exe 2>&1 | tr -d '\r')
wpid=$(awk '/^pid [0-9]+ \(quote-server\.exe\): 0 live patches/{print $2}' <<<"$list")
if [ "$(wc -w <<<"$wpid")" -ne 1 ]; then
    fail "expected exactly one unpatched $ARCH quote-server.exe in this Wine prefix, found: $list"
    exit 1
fi
header "apply the fix to the running server (pid $wpid), the client stays connected"
show "wine $whotpe apply --name quote-server.exe $fix"
msg=$(timeout 90 wine "$whotpe" apply --name quote-server.exe "$fix" 2>&1 | tr -d '\r')
rc=${PIPESTATUS[0]}
echo "$msg"
[ "$rc" -eq 0 ] || fail "hotpe apply exit $rc"
grep -qE "^pid $wpid \(quote-server\.exe\): quote-server\.exe: applied .* as patch [0-9]" <<<"$msg" || fail "hotpe apply did not report pid $wpid patched"

# ---- 7. the same connection after the patch -------------------------------------------------------------
header "the SAME connection asks again: the right price now, STATS still counting"
client_alive || fail "the client connection was lost during apply"
ask "$CRAFTED"
expect "crafted order after the patch" "$RIGHT"
ask "PRICE widget 3"
expect "normal order after the patch" "OK 750"
ask "STATS"
expect "STATS after the patch (same connection, the fix counts in g_requests)" "OK requests=4 connections=1"
# the fix logs big orders through the server's own (unexported) log_line
echo "  server log: $(grep -m1 'patched' "$out/server.err" | tr -d '\r')"
[ "$(grep -c 'patched' "$out/server.err")" -eq 1 ] || fail "the fix did not log through the server's log_line"

# ---- 8. list ------------------------------------------------------------------------------------------
header "which patches are live (hotpe list)"
show "wine $whotpe list --pid $wpid"
msg=$(timeout 60 wine "$whotpe" list --pid "$wpid" 2>&1 | tr -d '\r')
echo "$msg"
grep -qE "^pid $wpid \(quote-server\.exe\): 1 live patch$" <<<"$msg" || fail "hotpe list: not 1 live patch"

# ---- 9. revert ------------------------------------------------------------------------------------------
header "revert the fix, live again"
show "wine $whotpe revert --pid $wpid --all"
msg=$(timeout 90 wine "$whotpe" revert --pid "$wpid" --all 2>&1 | tr -d '\r')
rc=${PIPESTATUS[0]}
echo "$msg"
[ "$rc" -eq 0 ] || fail "hotpe revert exit $rc"

# ---- 10. the wrong answer is back -----------------------------------------------------------------------
header "the SAME connection once more: the original (wrong) price is back"
client_alive || fail "the client connection was lost during revert"
ask "$CRAFTED"
expect "crafted order after the revert" "$WRONG"
ask "STATS"
expect "STATS after the revert" "OK requests=5 connections=1"
[ "$(grep -c 'patched' "$out/server.err")" -eq 1 ] || fail "the fix still ran after the revert"
ask "QUIT"
expect "QUIT" "BYE"

echo
if [ $failed -eq 0 ]; then
    echo "demo ($ARCH): all checks passed in $((SECONDS - t0)) s: wrong before, right after apply, wrong after revert, one connection throughout"
    exit 0
fi
echo "demo ($ARCH): $failed check(s) failed"
exit 1
