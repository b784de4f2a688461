#!/usr/bin/env bash
# Machine-wide patches under Wine (docs/install.md): hotpe install, status, uninstall, and patch
# names across processes. wine-tests/install/: price.dll (price(x) = 2x), host.exe (imports it:
# its first call is main's), late.exe (loads it on command), patches of price.dll: fix1
# (sequence 1, 3x) and fix2 (sequence 2, 4x); another build of price.dll beside another host.
#  - 3 hosts run; install fix1: applied in the 3, price.dll given hotpe's import; 3 hosts started
#    after it run 3x from their first call; a late.exe loading price.dll runs 3x from its first
#    call; status --json: 7 hotpatched, compliant, exit 0; a host of the other build is
#    other-build with nothing injected into it;
#  - install again, apply of the live patch: exit 0, nothing changes;
#  - install fix2 (the stack): all 7 run 4x; revert by name with no TARGET: exit 0, fix1 is
#    live again everywhere (the line says so); status: not-up-to-date, exit 4; uninstall fix2:
#    status compliant again;
#  - uninstall fix1: all 7 run 2x, price.dll is its original bytes again, a host started after
#    it runs 2x;
#  - install killed by SIGKILL while it applies: every process is either patched or not, and
#    status says which (each row checked against what the process computes).
# Processes are killed and patches uninstalled on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=machine
source wine-tests/lib-live.sh

declare -A FD=() WPID=() FIRST=()
# Start process i from EXE; sets WPID[i] (Windows pid) and FIRST[i] (its first price(5)).
start_proc() { # i exe
    local i=$1 exe=$2 p=$run/p$1 fd
    mkdir -p "$p"
    rm -f "$p/in" "$p/out"
    mkfifo "$p/in"
    timeout 160 wine "$exe" <"$p/in" >"$p/out" 2>"$p/err" &
    KIDS+=("$!")
    exec {fd}>"$p/in"
    FD[$i]=$fd
    for _ in $(seq 1 150); do
        local l
        l=$(grep -m1 '^pid ' "$p/out" 2>/dev/null | tr -d '\r')
        if [ -n "$l" ]; then
            WPID[$i]=$(awk '{print $2}' <<<"$l")
            FIRST[$i]=${l##*first=}
            return 0
        fi
        sleep 0.1
    done
    return 1
}
askp() { # i command -> the reply line
    local i=$1 cmd=$2 p=$run/p$1 n
    n=$(grep -c "^${cmd%% *} " "$p/out")
    echo "$cmd" >&"${FD[$i]}"
    for _ in $(seq 1 100); do
        if [ "$(grep -c "^${cmd%% *} " "$p/out")" -gt "$n" ]; then
            grep "^${cmd%% *} " "$p/out" | tail -1 | tr -d '\r'
            return 0
        fi
        sleep 0.1
    done
    echo "(no reply to $cmd)"
}
stopp() { # i
    echo x >&"${FD[$1]}" 2>/dev/null
    eval "exec ${FD[$1]}>&-" 2>/dev/null
    unset "FD[$1]"
}
stop_all() {
    for i in "${!FD[@]}"; do stopp "$i"; done
    sleep 0.5
}
# price(5) in processes ... (all of them by default) equals want
all_price() { # want [i...]
    local want=$1 bad_ones=""
    shift
    local ids=("$@")
    [ ${#ids[@]} -eq 0 ] && ids=("${!FD[@]}")
    for i in "${ids[@]}"; do
        local r
        r=$(askp "$i" q)
        [ "$r" = "q price=$want" ] || bad_ones+=" p$i:${r}"
    done
    [ -z "$bad_ones" ] || { echo "  differ:$bad_ones"; return 1; }
}

installed_names=()
uninstall_all() {
    for n in "${installed_names[@]}"; do
        timeout 90 wine "$HP_BUILD/x64/hotpe.exe" uninstall "$n" >/dev/null 2>&1
    done
}
trap 'uninstall_all; cleanup' EXIT

status_json() { hp x64 status --json 2>"$run/status.err"; }
# count rows of state S in a status document for patch N
rows() { # json state [patch]
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(sum(1 for r in d["processes"] if r["state"] == sys.argv[2] and (len(sys.argv) < 4 or r["patch"] == sys.argv[3])))' "$@"
}

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    run=$out/$a
    app=$run/app
    oth=$run/other
    mkdir -p "$app" "$oth"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    if ! { $gcc $SDK_FLAGS -shared -o "$app/price.dll" wine-tests/install/price.c &&
        $gcc $SDK_FLAGS -o "$app/host.exe" wine-tests/install/host.c "$app/price.dll" &&
        $gcc $SDK_FLAGS -DLATE -o "$app/late.exe" wine-tests/install/host.c &&
        $gcc $SDK_FLAGS -shared -o "$oth/price.dll" -x c - <<<"__declspec(dllexport) int price(int x) { return x * 2 + 0; } char other_build[65536] = { 1 };" &&
        cp "$app/host.exe" "$oth/host.exe" &&
        cp "$app/price.dll" "$run/price.orig.dll" &&
        $gcc $SDK_FLAGS -shared -o "$run/raw1.dll" wine-tests/install/price_fix.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=2 -DFACTOR=4 -shared -o "$run/raw2.dll" wine-tests/install/price_fix.c &&
        "$hotpe" build --base "$app/price.dll" "$run/raw1.dll" -o "$run/fix1.dll" &&
        "$hotpe" build --base "$app/price.dll" "$run/raw2.dll" -o "$run/fix2.dll"; } >"$run/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$run/build.log")"
        continue
    fi
    ok
    n1=$("$hotpe" info "$run/fix1.dll" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')
    n2=$("$hotpe" info "$run/fix2.dll" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')
    check "$a: names ($n1, $n2)" grep -qE '^price\.dll#1@[0-9a-f]{12} price\.dll#2@[0-9a-f]{12}$' <<<"$n1 $n2"
    rel=${run#"$HP_ROOT"/}

    # ---- three hosts, then install -------------------------------------------------------
    for i in 1 2 3; do start_proc $i "$app/host.exe" || bad "$a: host $i did not start"; done
    check "$a: the hosts start unpatched" all_price 10
    installed_names+=("$n1")
    msg=$(hp $a install "$rel/fix1.dll" --json 2>"$run/err")
    rc=$?
    check "$a: install: exit 0 (rc $rc: $(cat "$run/err"))" [ $rc -eq 0 ]
    check "$a: install --json: price.dll rewritten, 3 processes applied ($msg)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["schema"] == 1 and d["name"] == sys.argv[2] and not d["already_installed"], d
assert [i["state"] for i in d["images"]] == ["rewritten"], d["images"]
assert d["later_processes_covered"] is True
assert sorted(p["status"] for p in d["processes"]) == ["applied"] * 3, d["processes"]' "$msg" "$n1"
    js=$run/json
    mkdir -p "$js"
    echo "$msg" >"$js/install-1.json"
    check "$a: the 3 running hosts run the fix" all_price 15
    r=$(llvm-readobj --coff-imports "$app/price.dll" 2>&1 | grep "Name: " | tr -d ' ' | tr '\n' ' ')
    check "$a: price.dll now imports hotpe-shim.dll after its own (llvm-readobj: $r)" \
        [ "$r" = "Name:KERNEL32.dll Name:msvcrt.dll Name:hotpe-shim.dll " ]
    check "$a: the original is kept beside it" cmp -s "$app/price.dll.hotpe-orig" "$run/price.orig.dll"

    # ---- three more, and a late loader: patched from their first call --------------------
    for i in 4 5 6; do start_proc $i "$app/host.exe" || bad "$a: host $i did not start: $(cat "$run/p$i/err")"; done
    check "$a: hosts started after install: first call patched (${FIRST[4]:-} ${FIRST[5]:-} ${FIRST[6]:-})" \
        [ "${FIRST[4]:-}" = 15 -a "${FIRST[5]:-}" = 15 -a "${FIRST[6]:-}" = 15 ]
    start_proc 7 "$app/late.exe" || bad "$a: late.exe did not start"
    r=$(askp 7 "m price.dll")
    check "$a: late.exe has no price.dll yet ($r)" [ "$r" = "m price.dll absent" ]
    r=$(askp 7 "l $(winepath -w "$app/price.dll")")
    check "$a: late.exe: LoadLibrary returns it patched, first call 3x ($r)" [ "$r" = "l first=15" ]
    check "$a: all seven run the fix" all_price 15 1 2 3 4 5 6 7
    # another build: not patched, nothing injected, reported other-build
    start_proc 8 "$oth/host.exe" || bad "$a: the other build did not start"
    r=$(askp 8 q)
    check "$a: the other build runs its own code ($r)" [ "$r" = "q price=10" ]
    r=$(askp 8 "m hotpe-shim.dll")
    check "$a: nothing injected into the other build ($r)" [ "$r" = "m hotpe-shim.dll absent" ]
    st=$(status_json)
    rc=$?
    check "$a: status: exit 0, compliant (rc $rc: $(cat "$run/status.err"))" [ $rc -eq 0 ]
    echo "$st" >"$js/status-1.json"
    check "$a: status: 7 hotpatched, 1 other-build, counts add up ($st)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
s = d["summary"]
assert s["hotpatched"] == 7 and s["other-build"] == 1 and s["failed"] == 0 and s["not-up-to-date"] == 0, s
assert s["processes"] == len(d["processes"]) == 8 and d["compliant"] is True, d
assert [i["name"] for i in d["installed"]] == [sys.argv[2]], d["installed"]
ob = [r for r in d["processes"] if r["state"] == "other-build"]
assert ob[0]["pid"] == int(sys.argv[3]) and ob[0]["reason"], ob' "$st" "$n1" "${WPID[8]:-0}"
    l=$(hp $a list 2>&1)
    check "$a: list with no TARGET names the patch in every process ($l)" [ "$(grep -c "^    name $n1$" <<<"$l")" -eq 7 ]

    # ---- idempotence -----------------------------------------------------------------------
    msg=$(hp $a install "$rel/fix1.dll" 2>&1)
    rc=$?
    check "$a: install again: exit 0 ($msg)" [ $rc -eq 0 ]
    check "$a: install again: says so ($msg)" grep -q "^$n1: installed already" <<<"$msg"
    check "$a: install again: the other build is not applicable, not a failure ($msg)" \
        grep -q "^pid ${WPID[8]:-} (host.exe): price.dll: another build: not applicable" <<<"$msg"
    r=$(askp 8 "m hotpe-shim.dll")
    check "$a: still nothing injected into the other build ($r)" [ "$r" = "m hotpe-shim.dll absent" ]
    stopp 8
    msg=$(hp $a apply --module price.dll "$rel/fix1.dll" 2>&1)
    rc=$?
    check "$a: apply of the live patch: exit 0 ($msg)" [ $rc -eq 0 ]
    check "$a: ... live already in all 7 ($msg)" [ "$(grep -c "is live already as patch" <<<"$msg")" -eq 7 ]

    # ---- the stack: fix2 over fix1, reverted by name, uninstalled ------------------------------
    installed_names+=("$n2")
    msg=$(hp $a install "$rel/fix2.dll" 2>&1)
    rc=$?
    check "$a: install fix2: exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    check "$a: fix2 supersedes fix1 in all seven" all_price 20 1 2 3 4 5 6 7
    msg=$(hp $a revert "$n2" 2>&1)
    rc=$?
    check "$a: revert by name, no TARGET: exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    check "$a: ... reverted in 7 ($msg)" [ "$(grep -c ": reverted $n2 (patch " <<<"$msg")" -eq 7 ]
    check "$a: ... says fix1 is live now ($msg)" grep -q "^$n1 is live now where $n2 was reverted$" <<<"$msg"
    check "$a: fix1 is back in all seven" all_price 15 1 2 3 4 5 6 7
    st=$(status_json)
    rc=$?
    check "$a: status with fix2 installed and not live: exit 4 (rc $rc)" [ $rc -eq 4 ]
    check "$a: ... 7 not-up-to-date for fix2 ($st)" [ "$(rows "$st" not-up-to-date "$n2")" = 7 ]
    echo "$st" >"$js/status-2.json"
    msg=$(hp $a revert "$n2" 2>&1)
    rc=$?
    check "$a: revert of a patch live nowhere: exit 0, nothing to do (rc $rc: $msg)" \
        [ $rc -eq 0 -a "$msg" = "$n2 is not live in any process: nothing to do" ]
    msg=$(hp $a uninstall "$n2" --json 2>"$run/err")
    rc=$?
    echo "$msg" >"$js/uninstall-1.json"
    check "$a: uninstall fix2: exit 0 (rc $rc: $msg $(cat "$run/err"))" [ $rc -eq 0 ]
    check "$a: ... kept the image (fix1 covers it), fix2 was live nowhere ($msg)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["installed"] and d["name"] == sys.argv[2] and d["processes"] == [] and d["live_now"] is None, d
assert [i["state"] for i in d["images"]] == ["kept"], d["images"]' "$msg" "$n2"
    # docs/json.md: install, uninstall, status (their "processes" are apply's and revert's)
    for v in install uninstall status; do
        python3 - "$js" $v <<'PY'
import glob, json, sys
js, verb = sys.argv[1], sys.argv[2]
for f in glob.glob("%s/%s-*.json" % (js, verb)):
    d = json.load(open(f))
    if verb != "status":
        json.dump({"schema": 1, "processes": d["processes"]}, open(f.replace(verb + "-", "procs-" + verb + "-"), "w"))
        d["processes"] = []
    json.dump(d, open(f.replace(verb + "-", "top-" + verb + "-"), "w"))
PY
        msg=$(python3 tests/lib/json_doc.py docs/json.md $v "$js/top-$v"-*.json 2>&1)
        check "$a: $v --json matches docs/json.md ($msg)" [ -z "$msg" ]
    done
    msg=$(python3 tests/lib/json_doc.py --no-cover docs/json.md apply "$js/procs-install"-*.json 2>&1)
    check "$a: install --json's processes are apply's ($msg)" [ -z "$msg" ]
    st=$(status_json)
    rc=$?
    check "$a: status: compliant again, 7 hotpatched (rc $rc: $st)" [ $rc -eq 0 -a "$(rows "$st" hotpatched "$n1")" = 7 ]

    # ---- uninstall: every process back, the image back, later starts original -------------------
    msg=$(hp $a uninstall "$rel/fix1.dll" 2>&1)
    rc=$?
    check "$a: uninstall by file: exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    check "$a: ... original restored ($msg)" grep -q "image .*price.dll: original restored" <<<"$msg"
    check "$a: all seven run the original" all_price 10 1 2 3 4 5 6 7
    check "$a: price.dll is its original bytes" cmp -s "$app/price.dll" "$run/price.orig.dll"
    start_proc 9 "$app/host.exe" || bad "$a: host 9 did not start"
    check "$a: a host started after uninstall runs the original (${FIRST[9]:-})" [ "${FIRST[9]:-}" = 10 ]
    msg=$(hp $a uninstall "$n1" 2>&1)
    rc=$?
    check "$a: uninstall again: exit 0, nothing to do (rc $rc: $msg)" [ $rc -eq 0 -a "$msg" = "$n1 is not installed: nothing to do" ]
    st=$(status_json)
    rc=$?
    check "$a: status with nothing installed: exit 0 ($st)" [ $rc -eq 0 ]

    # ---- install killed while it applies: all or nothing per process, status tells -------------
    # (where the kill lands varies from run to run: what is checked holds at any point)
    wine "$HP_BUILD/$a/hotpe.exe" install "$rel/fix1.dll" >"$run/killed.out" 2>&1 &
    k=$!
    sleep 1.5
    kill -9 $k 2>/dev/null
    wait $k 2>/dev/null
    st=$(status_json)
    check "$a: after the kill: every row hotpatched or not-up-to-date ($st)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert all(r["state"] in ("hotpatched", "not-up-to-date", "other-build") for r in d["processes"]), d' "$st"
    mism=""
    for i in 1 2 3 4 5 6 7 9; do
        want=$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
r = [r for r in d["processes"] if r["pid"] == int(sys.argv[2])]
print({"hotpatched": 15}.get(r[0]["state"], 10) if r else "none")' "$st" "${WPID[$i]:-0}")
        r=$(askp $i q)
        [ "$r" = "q price=$want" ] || mism+=" p$i:$want/$r"
    done
    check "$a: after the kill: each process computes what its status row says ($(cat "$run/killed.out" | head -3))" [ -z "$mism" ]
    msg=$(hp $a uninstall "$n1" 2>&1)
    check "$a: uninstall after the kill: all back ($msg)" all_price 10 1 2 3 4 5 6 7 9
    stop_all
done
hp_summary $pass $fail
[ $fail -eq 0 ]
