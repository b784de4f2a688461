#!/usr/bin/env bash
# A system DLL patched live (issue 5's kernelbase item, issue 6's second sample), x64 and x86:
# two clock.exe -i processes (samples/clock) in the same Wine prefix answer with the time
# GetLocalTime gives them; Wine's kernelbase.dll exports GetLocalTime as DECLSPEC_HOTPATCH
# (`prologue`), and build/ARCH/clock-fix-kernelbase.dll, stamped against the installed file,
# moves it one hour ahead.
#  - check says it would apply and writes nothing; apply --pid A succeeds;
#  - A's time is now B's + 1 h (full date-times compared, so a day wrap is handled), its tick
#    count runs on, and the bytes at kernelbase!GetLocalTime in A are the jumps (EB F8/F9 at the
#    entry, FF 25 / E9 in the padding) while B's are untouched;
#  - list shows the patch on kernelbase.dll at GetLocalTime's RVA (text and JSON), B has none;
#  - revert brings the real time back (A agrees with B and with the host's clock) and the
#    original bytes; apply again and revert --all work; both processes end normally.
# Every wait has a deadline; the processes are killed at the end on every exit path.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=kernelbase
source wine-tests/lib-live.sh
hp_need "$HP_BUILD"/{x64,x86}/{clock.exe,clock-fix-kernelbase.dll} || exit 1

# ---- clock.exe -i processes: name -> Linux pid, stdin fd, Windows pid ----------------------
declare -A cfd=() cwpid=() ckid=()
start_clock() { # name arch
    local n=$1 a=$2 fd i
    rm -f "$out/$n.in" && mkfifo "$out/$n.in"
    timeout 300 wine "$HP_BUILD/$a/clock.exe" -i <"$out/$n.in" >"$out/$n.out" 2>"$out/$n.err" &
    ckid[$n]=$!
    KIDS+=("$!")
    exec {fd}>"$out/$n.in"
    cfd[$n]=$fd
    cwpid[$n]=""
    for ((i = 0; i < 300; i++)); do
        cwpid[$n]=$(awk '/^pid /{print $2; exit}' "$out/$n.out" | tr -d '\r')
        [ -n "${cwpid[$n]}" ] && return 0
        sleep 0.1
    done
    return 1
}
# clock name line: sends one line, prints the reply (one line) or "(no reply)"
clock() {
    local n=$1 have i
    have=$(wc -l <"$out/$n.out")
    printf '%s\n' "$2" >&"${cfd[$n]}" 2>/dev/null
    for ((i = 0; i < 200; i++)); do
        if [ "$(wc -l <"$out/$n.out")" -gt "$have" ]; then
            sed -n "$((have + 1))p" "$out/$n.out" | tr -d '\r'
            return 0
        fi
        sleep 0.05
    done
    echo "(no reply)"
    return 1
}
stop_clock() { # name: "q", then wait for a normal exit
    local n=$1 i
    printf 'q\n' >&"${cfd[$n]}" 2>/dev/null
    eval "exec ${cfd[$n]}>&-"
    for ((i = 0; i < 200; i++)); do
        kill -0 "${ckid[$n]}" 2>/dev/null || { wait "${ckid[$n]}"; return; }
        sleep 0.05
    done
    return 124
}
# seconds from the date-time in reply $2 to the one in reply $1 ("tick N  local D T"); a line
# without one gives "none". The host's clock is "host".
tdiff() {
    python3 - "$1" "$2" "$(date '+local %Y-%m-%d %H:%M:%S.000')" <<'PY'
import re, sys, datetime
def t(s):
    m = re.search(r"local (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})$", s)
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f") if m else None
a, b = (t(sys.argv[3] if x == "host" else x) for x in sys.argv[1:3])
print("none" if a is None or b is None else round((a - b).total_seconds()))
PY
}
# near value want: value within 300 s of want (two processes asked one after the other under
# a loaded Wine; an hour is 3600)
near() { [ "$1" != none ] && [ "$1" -ge $(($2 - 300)) ] && [ "$1" -le $(($2 + 300)) ]; }
ticks() { sed -E 's/^tick ([0-9]+) .*/\1/' <<<"$1"; }

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    fix=build/$a/clock-fix-kernelbase.dll
    if [ $a = x64 ]; then kb=$HP_CORPUS_X64/kernelbase.dll jmp2b="eb f8" pad="ff 25"; else kb=$HP_CORPUS_X86/kernelbase.dll jmp2b="eb f9" pad="e9"; fi
    rva=$("$hotpe" scan "$kb" --json | python3 -c 'import json,sys
print(" ".join(str(f["rva"]) for f in json.load(sys.stdin)["functions"] if f["name"]=="GetLocalTime" and f["class"]=="prologue"))')
    check "$a: GetLocalTime is one prologue site in $kb ($rva)" grep -qxE '[0-9]+' <<<"$rva"

    if ! start_clock A_$a $a || ! start_clock B_$a $a; then
        bad "$a: clock.exe -i did not start: $(cat "$out/A_$a.err" "$out/B_$a.err")"
        continue
    fi
    ok
    A=${cwpid[A_$a]} B=${cwpid[B_$a]}
    ta=$(clock A_$a t) tb=$(clock B_$a t)
    d=$(tdiff "$ta" "$tb")
    check "$a: before: A and B agree ($ta | $tb: $d s)" near "$d" 0
    d=$(tdiff "$tb" host)
    check "$a: before: B tells the host's time ($tb: $d s)" near "$d" 0
    orig=$(clock A_$a b)
    check "$a: before: original bytes in A ($orig)" grep -qE "^bytes kernelbase!GetLocalTime -6: (cc|90)( (cc|90)){5}  entry: $(cut -c1-5 <<<"${orig#*entry: }")" <<<"$orig"
    case $a in x64) check "$a: x64 entry is lea rsp,[rsp+0] ($orig)" grep -q 'entry: 48 8d a4 24 00 00 00 00$' <<<"$orig" ;;
    x86) check "$a: x86 entry is mov edi,edi ($orig)" grep -q 'entry: 8b ff ' <<<"$orig" ;; esac
    tick0=$(ticks "$ta")

    # check: a dry run, nothing written
    msg=$(hp $a check --pid "$A" "$fix" 2>&1 | tr -d '\r')
    check "$a: check would apply ($msg)" grep -qx "pid $A (clock.exe): kernelbase.dll: $fix would apply (1 site)" <<<"$msg"
    r=$(clock A_$a b)
    check "$a: check wrote nothing ($r)" [ "$r" = "$orig" ]

    # apply to A only
    msg=$(hp $a apply --pid "$A" "$fix" 2>&1 | tr -d '\r')
    rc=${PIPESTATUS[0]}
    check "$a: apply exit 0 (rc $rc: $msg)" [ "$rc" -eq 0 ]
    check "$a: apply names pid, module, patch id ($msg)" grep -qE "^pid $A \(clock\.exe\): kernelbase\.dll: applied $fix as patch [0-9]+ \(1 site, " <<<"$msg"
    ta=$(clock A_$a t) tb=$(clock B_$a t)
    d=$(tdiff "$ta" "$tb")
    check "$a: patched: A is one hour ahead of B ($ta | $tb: $d s)" near "$d" 3600
    d=$(tdiff "$tb" host)
    check "$a: patched: B still tells the host's time ($tb: $d s)" near "$d" 0
    tick1=$(ticks "$ta")
    check "$a: patched: A's tick count runs on ($tick0 -> $tick1)" [ "$tick1" -ge "$tick0" ]
    r=$(clock A_$a b)
    check "$a: patched: A's bytes are the jumps ($r)" grep -qE "^bytes kernelbase!GetLocalTime -6: .*$pad[ 0-9a-f]*  entry: $jmp2b " <<<"$r"
    check "$a: patched: only the first 2 entry bytes changed ($r)" [ "${r#*entry: ?? ??}" = "${orig#*entry: ?? ??}" ]
    r=$(clock B_$a b)
    check "$a: patched: B's bytes untouched ($r)" [ "$r" = "$orig" ]

    # list: the patch on kernelbase.dll, at GetLocalTime
    msg=$(hp $a list --pid "$A" 2>&1 | tr -d '\r')
    check "$a: list: 1 live patch ($msg)" grep -qx "pid $A (clock.exe): 1 live patch" <<<"$msg"
    check "$a: list: on kernelbase.dll ($msg)" grep -qE '^  patch [0-9]+  sequence 1  kernelbase.dll  .*clock-fix-kernelbase.dll  \(1 site\)$' <<<"$msg"
    check "$a: list: the site is GetLocalTime, live ($msg)" grep -qE "^    RVA $(printf '0x%08x' "${rva:-0}")  live +entry $(cut -c1-5 <<<"${orig#*entry: }") -> $jmp2b " <<<"$msg"
    js=$(hp $a list --pid "$A" --json 2>&1 | tr -d '\r')
    r=$(python3 -c 'import json,sys
d=json.loads(sys.argv[1]); p=d["processes"][0]["patches"]
print(len(p), p[0]["target"], p[0]["sequence"], [(s["entry_rva"], s["state"]) for s in p[0]["sites"]])' "$js" 2>&1)
    check "$a: list --json ($r)" [ "$r" = "1 kernelbase.dll 1 [(${rva:-0}, 'live')]" ]
    msg=$(hp $a list --pid "$B" 2>&1 | tr -d '\r')
    check "$a: list of B: nothing ($msg)" grep -qx "pid $B (clock.exe): 0 live patches (no shim loaded)" <<<"$msg"
    id=$(hp $a list --pid "$A" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["processes"][0]["patches"][0]["id"])')

    # revert by id: the real time and the original bytes come back
    msg=$(hp $a revert --pid "$A" "$id" 2>&1 | tr -d '\r')
    rc=${PIPESTATUS[0]}
    check "$a: revert $id exit 0 (rc $rc: $msg)" [ "$rc" -eq 0 ]
    ta=$(clock A_$a t) tb=$(clock B_$a t)
    d=$(tdiff "$ta" "$tb")
    check "$a: reverted: A agrees with B again ($ta | $tb: $d s)" near "$d" 0
    d=$(tdiff "$ta" host)
    check "$a: reverted: A tells the host's time ($ta: $d s)" near "$d" 0
    r=$(clock A_$a b)
    check "$a: reverted: A's original bytes back ($r)" [ "$r" = "$orig" ]
    msg=$(hp $a list --pid "$A" 2>&1 | tr -d '\r')
    check "$a: reverted: list shows none ($msg)" grep -qx "pid $A (clock.exe): 0 live patches" <<<"$msg"

    # again: the patch DLL stayed loaded, a second apply must not fix it up twice
    # (--json: hotpe read a few pages of kernelbase.dll from outside, not the whole image)
    js=$(hp $a apply --pid "$A" "$fix" --json 2>&1 | tr -d '\r')
    r=$(python3 -c 'import json,sys; p=json.loads(sys.argv[1])["processes"][0]; print(p["status"], p["module_read"])' "$js" 2>&1)
    check "$a: apply again ($r)" grep -qE "^applied [0-9]+$" <<<"$r"
    kb_size=$(x86_64-w64-mingw32-objdump -p "$kb" | sed -n 's/^SizeOfImage[[:space:]]*/0x/p')
    check "$a: validation read ${r#* } bytes of kernelbase.dll ($kb_size), at most 128 KB" \
        python3 -c 'import sys; n = int(sys.argv[1]); sys.exit(not 0 < n <= 131072)' "${r#* }"
    ta=$(clock A_$a t) tb=$(clock B_$a t)
    d=$(tdiff "$ta" "$tb")
    check "$a: applied again: one hour ahead ($d s)" near "$d" 3600
    msg=$(hp $a revert --pid "$A" --all 2>&1 | tr -d '\r')
    check "$a: revert --all ($msg)" grep -qx "pid $A (clock.exe): reverted 1 patch" <<<"$msg"
    ta=$(clock A_$a t) tb=$(clock B_$a t)
    d=$(tdiff "$ta" "$tb")
    check "$a: reverted again: A agrees with B ($d s)" near "$d" 0
    r=$(clock A_$a b)
    check "$a: reverted again: original bytes ($r)" [ "$r" = "$orig" ]

    stop_clock A_$a
    rc=$?
    check "$a: A ran to the end, exit 0 (rc $rc)" [ $rc -eq 0 ]
    stop_clock B_$a
    rc=$?
    check "$a: B exit 0 (rc $rc)" [ $rc -eq 0 ]
done

hp_summary $pass $fail
