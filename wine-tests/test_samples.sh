#!/usr/bin/env bash
# The quote-server sample (issue 6), x64 and x86 under Wine (samples/README.md):
#  - quote-server.exe starts on port 0 and prints the port it got;
#  - quote-client.exe on ONE connection, fed line by line through a pipe that stays open, gets
#    the right price for normal orders and the wrong (wrapped) price for the crafted big order,
#    while a second client is served at the same time; STATS counts requests and connections;
#  - hotpe scan classes compute_price (and apply_discount) `prologue`;
#  - hotpe build of fix.dll against the server gives the expected hook and base-data reference
#    (RVAs checked with nm), and the same bytes as the Makefile's quote-server-fix.dll;
#  - the server stops cleanly (exit 0) on SHUTDOWN and on end of stdin;
#  - clock.exe (a second kind of sample: its patchable code is Wine's kernelbase.dll) runs,
#    also on request (-i); the live patch of kernelbase.dll is wine-tests/test_kernelbase.sh;
#    GetLocalTime in the corpus kernelbase.dll is `prologue`, the prefix's kernelbase.dll is
#    the same file, and clock-fix stamped against it shows the hook and the original.
# Every server and client started here is stopped by the EXIT trap, even when a step fails.
# Every wait polls with a deadline. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source tests/lib/common.sh
hp_wine_arches_note

hotpe=$HP_BUILD/native/hotpe
out=$HP_BUILD/samples-test
want_files=()
for a in $HP_WINE_ARCHES; do
    for f in quote-server.exe quote-client.exe fix.dll quote-server-fix.dll clock.exe clock-fix.dll clock-fix-kernelbase.dll; do
        want_files+=("$HP_BUILD/$a/$f")
    done
done
make -s "$hotpe" "${want_files[@]}" || exit 1
rm -rf "$out" && mkdir -p "$out"
hp_wine_unsigned_allow
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# ---- background processes: each has a pid and a write end on its stdin fifo --------------
declare -A bg_pid=() bg_fd=()
bg_start() { # name fifo-stdin outfile errfile program args...
    local name=$1 in=$2 o=$3 e=$4 fd
    shift 4
    rm -f "$in" && mkfifo "$in"
    # the child must not hold the other processes' stdin write ends (their end of file)
    (
        for fd in "${bg_fd[@]}"; do [ -n "$fd" ] && eval "exec $fd>&-"; done
        exec wine "$@"
    ) <"$in" >"$o" 2>"$e" &
    bg_pid[$name]=$!
    exec {fd}>"$in"
    bg_fd[$name]=$fd
}
bg_close_stdin() { # name
    local fd=${bg_fd[$1]:-}
    [ -n "$fd" ] && exec {fd}>&-
    bg_fd[$1]=""
}
bg_send() { # name line
    local fd=${bg_fd[$1]:-}
    [ -n "$fd" ] && printf '%s\r\n' "$2" >&"$fd"
}
# bg_wait name seconds: waits for the process to end and sets bg_rc to its exit code;
# returns 1 on timeout (not in $(...): wait only works in the shell that started it)
bg_rc=""
bg_wait() {
    local pid=${bg_pid[$1]:-} i
    bg_rc=""
    [ -n "$pid" ] || return 1
    for ((i = 0; i < $2 * 20; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            bg_rc=$?
            bg_pid[$1]=""
            return 0
        fi
        sleep 0.05
    done
    return 1
}
bg_kill() { # name: close stdin, give it 3 s, then kill it
    bg_close_stdin "$1"
    local pid=${bg_pid[$1]:-}
    [ -n "$pid" ] || return 0
    bg_wait "$1" 3 && return 0
    kill "$pid" 2>/dev/null
    bg_wait "$1" 2 || { kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
    bg_pid[$1]=""
}
cleanup() {
    local n
    for n in "${!bg_pid[@]}"; do bg_kill "$n"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_line file regex seconds: polls until a line of file matches; prints the first match
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
# wait_lines file count seconds: polls until file has count lines
wait_lines() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
expect() { # what got want
    [ "$2" = "$3" ] && ok || bad "$1: got '$2', want '$3'"
}

# server_start name arch: starts quote-server on port 0; sets port (empty on failure)
server_start() {
    local name=$1 a=$2
    port=""
    bg_start "$name" "$out/$name.in" "$out/$name.out" "$out/$name.err" "$HP_BUILD/$a/quote-server.exe" 0
    local l
    if l=$(wait_line "$out/$name.out" '^listening on [0-9]+' 30); then
        port=${l#listening on }
        [ "$port" -gt 0 ] && ok || bad "$name: port '$port'"
    else
        bad "$name: no 'listening on' within 30 s: $(cat "$out/$name.out" "$out/$name.err" 2>/dev/null | head -3)"
    fi
}

for a in $HP_WINE_ARCHES; do
    exe=$HP_BUILD/$a/quote-server.exe client=$HP_BUILD/$a/quote-client.exe
    if [ $a = x64 ]; then nm=x86_64-w64-mingw32-nm us=""; else nm=i686-w64-mingw32-nm us=_; fi

    # ---- hotpe scan: the patchable functions ---------------------------------------------
    scan=$("$hotpe" scan "$exe" --json) && ok || bad "$a: scan"
    for f in compute_price apply_discount; do
        cls=$(python3 -c 'import json,sys; d=json.load(sys.stdin); n=sys.argv[1]
print(" ".join(x["class"] for x in d["functions"] if (x["name"] or "").lstrip("_")==n))' $f <<<"$scan")
        expect "$a: scan class of $f" "$cls" prologue
    done

    # ---- hotpe build + info of the fix ---------------------------------------------------
    res=$out/quote-server-fix_$a.dll
    if "$hotpe" build --base "$exe" "$HP_BUILD/$a/fix.dll" -o "$res" 2>"$out/build_$a.err"; then
        ok
        cmp -s "$res" "$HP_BUILD/$a/quote-server-fix.dll" && ok || bad "$a: hotpe build output differs from make's quote-server-fix.dll"
        ibase=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(); o=struct.unpack_from("<I",b,0x3c)[0]+24
print(struct.unpack_from("<Q",b,o+24)[0] if struct.unpack_from("<H",b,o)[0]==0x20b else struct.unpack_from("<I",b,o+28)[0])' "$exe")
        syms=$($nm "$exe" | python3 -c 'import sys
base, us = int(sys.argv[1]), sys.argv[2]
for l in sys.stdin:
    f = l.split()
    if len(f) == 3:
        n = f[2][1:] if us and f[2].startswith("_") else f[2]
        if n in ("compute_price", "g_requests", "log_line", "apply_discount"):
            print("%s=%d" % (n, int(f[0], 16) - base))' "$ibase" "$us")
        "$hotpe" info "$res" --json >"$out/info_$a.json" 2>"$out/info_$a.err" && ok || bad "$a: hotpe info: $(cat "$out/info_$a.err")"
        if msg=$(python3 - "$out/info_$a.json" "$a" $syms <<'PY'
import json, sys
info = json.load(open(sys.argv[1])); arch = sys.argv[2]
syms = {k: int(v) for k, v in (s.split('=') for s in sys.argv[3:])}
errs = []
def eq(what, got, want):
    if got != want: errs.append('%s: got %r, want %r' % (what, got, want))
eq('machine', info['machine'], arch)
eq('target', info['target'], 'quote-server.exe')
eq('sequence', info['sequence'], 1)
eq('modern sequence', info['modern']['sequence'], 1)
eq('disagreements', info['disagreements'], [])
entry = syms['compute_price']
pad_kind = 'AMD64_IND' if arch == 'x64' else 'X86_JMP'
pad_size = 6 if arch == 'x64' else 5
eq('hooks', sorted((h['base_symbol'], h['entry_rva'], h['rva'], h['kind'], h['size'], h.get('replacement')) for h in info['hooks']),
   sorted([('compute_price', entry, entry - pad_size, pad_kind, pad_size, 'compute_price_fixed'),
           ('compute_price', entry, entry, 'X86_JMP2B', 2, None)]))
eq('validations', sorted((v['target_rva'], v['bytes']) for v in info['validations']),
   sorted([(entry - pad_size, 'cc' * pad_size), (entry, '488d' if arch == 'x64' else '8bff')]))
refs = sorted((r['kind'], r['name'], r['base_rva'], r['source']) for r in info['references'])
eq('references', refs, sorted([('replace', 'compute_price', entry, 'symbol'), ('original', 'compute_price', entry, 'symbol'),
   ('base-func', 'apply_discount', syms['apply_discount'], 'symbol'), ('base-func', 'log_line', syms['log_line'], 'symbol'),
   ('base-data', 'g_requests', syms['g_requests'], 'symbol')]))
eq('fixups', len(info['fixups']) >= 4, True)
print('; '.join(errs))
sys.exit(1 if errs else 0)
PY
        ); then ok; else bad "$a: info --json: $msg"; fi
    else
        bad "$a: hotpe build: $(cat "$out/build_$a.err")"
    fi

    # ---- the running service -------------------------------------------------------------
    server_start srv_$a $a
    if [ -n "$port" ]; then
        # client A: one connection, requests sent one at a time through its stdin
        bg_start cla_$a "$out/cla_$a.in" "$out/cla_$a.out" "$out/cla_$a.err" "$client" "$port"
        n=0
        ask() { # request expected-reply
            n=$((n + 1))
            bg_send cla_$a "$1"
            if wait_lines "$out/cla_$a.out" $n 20; then
                expect "$a: '$1' on connection A" "$(sed -n "${n}p" "$out/cla_$a.out" | tr -d '\r')" "$2"
            else
                bad "$a: no reply to '$1' within 20 s: $(cat "$out/cla_$a.err")"
                n=$((n - 1))
            fi
        }
        ask "PRICE widget 3" "OK 750"
        ask "PRICE gadget 2" "OK 3998"
        ask "PRICE widget 100" "OK 23750"      # 5% off from 100 pieces
        ask "PRICE flange 101" "OK 118402"     # 124634 * 0.95 = 118402.3
        # the crafted order: 10,000,000 x 250 = 2,500,000,000 cents does not fit a 32-bit long.
        # Right: 2375000000. The bug wraps to -1794967296 before the discount.
        ask "PRICE widget 10000000" "OK -1705218930"
        ask "PRICE nothing 1" "ERR unknown item nothing"
        ask "PRICE widget -4" "ERR bad quantity"
        ask "STATS" "OK requests=5 connections=1"

        # client B, while A's connection stays open: served at the same time
        r=$(timeout 30 wine "$client" "$port" "PRICE gizmo 7" "STATS" "QUIT" 2>"$out/clb_$a.err" | tr -d '\r')
        expect "$a: client B (while A is connected)" "$(tr '\n' '|' <<<"$r")" "OK 35|OK requests=6 connections=2|BYE|"

        # A again, same connection, after B came and went
        ask "PRICE sprocket 4" "OK 300"
        ask "STATS" "OK requests=7 connections=2"
        ask "QUIT" "BYE"
        bg_wait cla_$a 10 && expect "$a: client A exit code after QUIT" "$bg_rc" 0 || bad "$a: client A still running 10 s after QUIT"

        # SHUTDOWN stops the whole server, cleanly
        r=$(timeout 30 wine "$client" "$port" "SHUTDOWN" 2>"$out/cls_$a.err" | tr -d '\r')
        expect "$a: SHUTDOWN reply" "$r" "BYE"
        bg_wait srv_$a 10 && expect "$a: server exit code after SHUTDOWN" "$bg_rc" 0 || bad "$a: server still running 10 s after SHUTDOWN"
        grep -q 'stopping: SHUTDOWN command' "$out/srv_$a.err" && ok || bad "$a: server log: $(cat "$out/srv_$a.err")"
        grep -q 'stopped: 7 requests priced, 3 connections' "$out/srv_$a.err" && ok || bad "$a: server final log: $(tail -1 "$out/srv_$a.err")"
    fi
    bg_kill cla_$a
    bg_kill srv_$a

    # ---- end of stdin stops the server too ------------------------------------------------
    server_start eof_$a $a
    if [ -n "$port" ]; then
        r=$(timeout 30 wine "$client" "$port" "PRICE widget 1" 2>/dev/null | tr -d '\r')
        expect "$a: second server answers" "$r" "OK 250"
        bg_close_stdin eof_$a
        bg_wait eof_$a 10 && expect "$a: server exit code at end of stdin" "$bg_rc" 0 || bad "$a: server still running 10 s after its stdin closed"
        grep -q 'stopping: end of stdin' "$out/eof_$a.err" && ok || bad "$a: server log: $(cat "$out/eof_$a.err")"
    fi
    bg_kill eof_$a
done

# ---- clock: a patch for Wine's kernelbase.dll ---------------------------------------------
for a in $HP_WINE_ARCHES; do
    if [ $a = x64 ]; then kb=$HP_CORPUS_X64/kernelbase.dll pkb=$WINEPREFIX/drive_c/windows/system32/kernelbase.dll
    else kb=$HP_CORPUS_X86/kernelbase.dll pkb=$WINEPREFIX/drive_c/windows/syswow64/kernelbase.dll; fi
    r=$(timeout 30 wine "$HP_BUILD/$a/clock.exe" 3 20 </dev/null 2>&1 | tr -d '\r')
    [ "$(grep -cE '^tick [0-9]+  local 2[0-9]{3}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}$' <<<"$r")" -eq 3 ] &&
        ok || bad "$a: clock.exe output: $r"
    # -i (on request, used by wine-tests/test_kernelbase.sh and scripts/tour.sh): its pid, a
    # time line per line read, the bytes at kernelbase!GetLocalTime for "b", ends at "q"
    r=$(printf 't\nb\nq\nt\n' | timeout 30 wine "$HP_BUILD/$a/clock.exe" -i 2>&1 | tr -d '\r')
    [ $? -eq 0 ] && grep -qE '^pid [0-9]+$' <<<"$(sed -n 1p <<<"$r")" &&
        grep -qE '^tick [0-9]+  local [0-9-]+ [0-9:.]+$' <<<"$(sed -n 2p <<<"$r")" &&
        grep -qE '^bytes kernelbase!GetLocalTime -6: (cc|90)( (cc|90)){5}  entry: (48 8d a4 24 00 00 00 00|8b ff( [0-9a-f]{2}){6})$' <<<"$(sed -n 3p <<<"$r")" &&
        [ "$(wc -l <<<"$r")" -eq 3 ] && ok || bad "$a: clock.exe -i output: $r"
    cmp -s "$kb" "$pkb" && ok || bad "$a: the prefix's kernelbase.dll ($pkb) differs from $kb"
    cls=$("$hotpe" scan "$kb" --json | python3 -c 'import json,sys
print(" ".join(f["class"] for f in json.load(sys.stdin)["functions"] if f["name"]=="GetLocalTime"))')
    expect "$a: kernelbase GetLocalTime class" "$cls" prologue
    res=$out/clock-fix-kernelbase_$a.dll
    if "$hotpe" build --base "$kb" "$HP_BUILD/$a/clock-fix.dll" -o "$res" 2>"$out/clock_build_$a.err"; then
        ok
        cmp -s "$res" "$HP_BUILD/$a/clock-fix-kernelbase.dll" && ok || bad "$a: clock-fix: hotpe build output differs from make's"
        entry=$("$hotpe" scan "$kb" --json | python3 -c 'import json,sys
print([f["rva"] for f in json.load(sys.stdin)["functions"] if f["name"]=="GetLocalTime"][0])')
        if msg=$("$hotpe" info "$res" --json | python3 -c 'import json,sys
info, arch, entry = json.load(sys.stdin), sys.argv[1], int(sys.argv[2])
pad = 6 if arch == "x64" else 5
errs = []
def eq(what, got, want):
    if got != want: errs.append("%s: got %r, want %r" % (what, got, want))
eq("target", info["target"], "kernelbase.dll")
eq("hooks", sorted((h["base_symbol"], h["rva"], h["size"], h.get("replacement")) for h in info["hooks"]),
   [("GetLocalTime", entry - pad, pad, "GetLocalTime_plus_hour"), ("GetLocalTime", entry, 2, None)])
eq("references", sorted((r["kind"], r["name"], r["base_rva"], r["source"], r.get("stub")) for r in info["references"]),
   [("original", "GetLocalTime", entry, "export", False), ("replace", "GetLocalTime", entry, "export", None)])
eq("disagreements", info["disagreements"], [])
print("; ".join(errs)); sys.exit(1 if errs else 0)' $a "$entry"); then ok; else bad "$a: clock-fix info --json: $msg"; fi
        # the identity recorded is the kernelbase file's (TimeDateStamp at PE header + 8)
        ts=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(); print(struct.unpack_from("<I",b,struct.unpack_from("<I",b,0x3c)[0]+8)[0])' "$kb")
        its=$("$hotpe" info "$res" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["identity"]["timestamp"])')
        expect "$a: clock-fix identity timestamp" "$its" "$ts"
    else
        bad "$a: clock-fix hotpe build: $(cat "$out/clock_build_$a.err")"
    fi
done

# usage errors
r=$(timeout 30 wine "$HP_BUILD/x64/quote-server.exe" 2>&1 </dev/null)
[ $? -eq 2 ] && [[ $r == usage:* ]] && ok || bad "server usage: '$r'"
r=$(timeout 30 wine "$HP_BUILD/x64/quote-client.exe" 0 2>&1 </dev/null)
[ $? -eq 2 ] && ok || bad "client bad port: '$r'"

hp_summary $pass $fail
