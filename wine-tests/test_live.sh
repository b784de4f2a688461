#!/usr/bin/env bash
# Live patching under Wine (issue 5), x64 and x86: hotpe apply / list / revert and the loader
# shim against a running multi-threaded target (wine-tests/live/target.c) and a patch made with the
# SDK (wine-tests/live/patch.c, stamped with the native hotpe build):
#  - a patch made for another build of target.exe is refused and loads nothing (no shim, no
#    patch DLL in the target's module list);
#  - apply changes the results of the running target, both from direct calls and in the busy
#    worker threads, without a restart; HOTPE_ORIGINAL and HOTPE_BASE_DATA work;
#  - list shows the patch and its sites, also as JSON;
#  - the same patch applied twice is refused; a patch whose HOTPE_ON_APPLY vetoes writes
#    nothing; revert brings back the original results; apply again after a revert works;
#    revert --all; bad usage exits 2; the native build says it needs the Windows build;
#    the x64 hotpe hands an x86 target to the x86 hotpe, the x86 hotpe refuses an x64 one.
# Every wait has a timeout; the targets are killed at the end even on failure.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=live
source wine-tests/lib-live.sh

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d/other"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    # base, another build of it, and patches (sequence 1 and 2, a vetoing one, one for the other build)
    if ! { $gcc $SDK_FLAGS -o "$d/target.exe" wine-tests/live/target.c &&
        $gcc $SDK_FLAGS -DOTHER_BUILD -o "$d/other/target.exe" wine-tests/live/target.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw1.dll" wine-tests/live/patch.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=3 -DVETO -shared -o "$d/rawveto.dll" wine-tests/live/patch.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw1.dll" -o "$d/patch.dll" &&
        "$hotpe" build --base "$d/target.exe" "$d/rawveto.dll" -o "$d/veto.dll" &&
        "$hotpe" build --base "$d/other/target.exe" "$d/raw1.dll" -o "$d/other.dll"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    rel=${d#"$HP_ROOT"/}

    if ! start_target "$d"; then
        bad "$a: target did not start: $(cat "$d/err")"
        continue
    fi
    ok
    r=$(ask "$d" q)
    check "$a: original results ($r)" [ "$r" = "q compute=10 label=1005" ]

    # a patch for another build: refused from outside, nothing loaded (not even the shim)
    msg=$(hp $a apply --pid "$TPID" "$rel/other.dll" 2>&1)
    rc=$?
    check "$a: other build refused with exit 1 (rc $rc: $msg)" [ $rc -eq 1 ]
    check "$a: other build: one line naming pid and image ($msg)" \
        grep -qx "hotpe: pid $TPID (target.exe): target.exe: identity: the running module is not the build the patch was made for (\(TimeDateStamp\|SizeOfImage\))" <<<"$msg"
    r=$(ask "$d" "m other.dll")
    check "$a: other.dll not loaded ($r)" [ "$r" = "m other.dll absent" ]
    r=$(ask "$d" "m hotpe-shim.dll")
    check "$a: shim not injected for a refused patch ($r)" [ "$r" = "m hotpe-shim.dll absent" ]

    # check: the dry run accepts the right patch, refuses the other build, loads nothing
    msg=$(hp $a check --pid "$TPID" "$rel/patch.dll" 2>&1)
    rc=$?
    check "$a: check exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    check "$a: check says it would apply ($msg)" grep -qx "pid $TPID (target.exe): target.exe: .*patch.dll would apply (2 sites)" <<<"$msg"
    msg=$(hp $a check --pid "$TPID" "$rel/other.dll" 2>&1)
    rc=$?
    check "$a: check refuses the other build (rc $rc: $msg)" [ $rc -eq 1 ]
    r=$(ask "$d" "m hotpe-shim.dll")
    check "$a: check injected nothing ($r)" [ "$r" = "m hotpe-shim.dll absent" ]
    r=$(ask "$d" q)
    check "$a: check changed nothing ($r)" [ "$r" = "q compute=10 label=1005" ]

    # apply
    msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" 2>&1)
    rc=$?
    check "$a: apply exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: patched results from direct calls ($r)" [ "$r" = "q compute=15 label=1006" ]
    r=$(ask "$d" w)
    check "$a: patched results in the busy threads ($r)" [ "$r" = "w compute=15 label=1006" ]
    r=$(ask "$d" e)
    check "$a: HOTPE_ON_APPLY ran, read g_calls and wrote g_events through HOTPE_BASE_DATA ($r)" [ "$r" = "e events=1" ]

    # list
    l=$(hp $a list --pid "$TPID" 2>&1)
    check "$a: list shows the patch ($l)" grep -q "patch 1  sequence 1  target.exe  .*patch.dll  (2 sites)" <<<"$l"
    lj=$(hp $a list --pid "$TPID" --json 2>&1)
    check "$a: list --json" python3 -c '
import json, sys
d = json.loads(sys.argv[1]); p = d["processes"][0]
assert p["pid"] == int(sys.argv[2]) and p["shim"] and len(p["patches"]) == 1, p
q = p["patches"][0]
assert q["id"] == 1 and q["sequence"] == 1 and q["target"] == "target.exe", q
assert len(q["sites"]) == 2 and all(s["state"] == "live" for s in q["sites"]), q' "$lj" "$TPID"

    # the same patch twice (also as a copy elsewhere): live already, done; a vetoing patch
    cp "$d/patch.dll" "$d/patch-copy.dll"
    for p in patch.dll patch-copy.dll; do
        msg=$(hp $a apply --pid "$TPID" "$rel/$p" 2>&1)
        rc=$?
        check "$a: $p again: live already, exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
        check "$a: $p again: says so ($msg)" \
            grep -qx "pid $TPID (target.exe): target.exe: $rel/$p is live already as patch 1: nothing to do" <<<"$msg"
    done
    msg=$(hp $a check --pid "$TPID" "$rel/patch.dll" 2>&1)
    rc=$?
    check "$a: check of a live patch: live already, exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    msg=$(hp $a apply --pid "$TPID" "$rel/veto.dll" 2>&1)
    rc=$?
    # sequence 3 would supersede patch 1, but its HOTPE_ON_APPLY vetoes: refused, patch 1 stays
    check "$a: vetoing supersede refused while patch 1 is live (rc $rc: $msg)" [ $rc -eq 1 ]
    check "$a: vetoing supersede: reason ($msg)" grep -qi "veto" <<<"$msg"
    r=$(ask "$d" e)
    check "$a: the veto wrote nothing, patch 1's callbacks did not run again ($r)" [ "$r" = "e events=1" ]
    hp $a apply "$rel/patch.dll" >/dev/null 2>&1
    rc=$?
    check "$a: apply without TARGET is bad usage (rc $rc)" [ $rc -eq 2 ]

    # revert
    msg=$(hp $a revert --pid "$TPID" 1 2>&1)
    rc=$?
    check "$a: revert exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: original results after revert ($r)" [ "$r" = "q compute=10 label=1005" ]
    r=$(ask "$d" w)
    check "$a: original results in the threads after revert ($r)" [ "$r" = "w compute=10 label=1005" ]
    r=$(ask "$d" e)
    check "$a: HOTPE_ON_REVERT ran once ($r)" [ "$r" = "e events=11" ]
    l=$(hp $a list --pid "$TPID" 2>&1)
    check "$a: list empty after revert ($l)" grep -qx "pid $TPID (target.exe): 0 live patches" <<<"$l"
    msg=$(hp $a revert --pid "$TPID" 1 2>&1)
    rc=$?
    check "$a: revert of a gone patch refused (rc $rc: $msg)" [ $rc -eq 1 ]

    # veto: nothing written
    msg=$(hp $a apply --pid "$TPID" "$rel/veto.dll" 2>&1)
    rc=$?
    check "$a: vetoed apply exit 1 (rc $rc: $msg)" [ $rc -eq 1 ]
    check "$a: vetoed apply reason ($msg)" grep -q "HOTPE_ON_APPLY callback vetoed" <<<"$msg"
    r=$(ask "$d" q)
    check "$a: nothing written after a veto ($r)" [ "$r" = "q compute=10 label=1005" ]
    r=$(ask "$d" "m veto.dll")
    check "$a: vetoed patch unloaded ($r)" [ "$r" = "m veto.dll absent" ]
    r=$(ask "$d" e)
    check "$a: nothing written by a vetoed apply ($r)" [ "$r" = "e events=11" ]

    # apply again (the DLL stayed loaded after revert: fixups must not double), --no-freeze, --all
    msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" --no-freeze --json 2>&1)
    rc=$?
    check "$a: apply again --no-freeze --json (rc $rc: $msg)" python3 -c '
import json, sys
d = json.loads(sys.argv[1]); p = d["processes"][0]
assert p["status"] == "applied" and p["patch_id"] == 2 and p["sites"] == 2 and not p["froze"], p
assert p["channel"], "a later request goes through the shim channel, not a remote thread"' "$msg"
    r=$(ask "$d" q)
    check "$a: patched again ($r)" [ "$r" = "q compute=15 label=1006" ]
    r=$(ask "$d" e)
    check "$a: the kept DLL's base-data slot not fixed up twice ($r)" [ "$r" = "e events=12" ]
    msg=$(hp $a revert --pid "$TPID" --all 2>&1)
    rc=$?
    check "$a: revert --all (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: original after revert --all ($r)" [ "$r" = "q compute=10 label=1005" ]
    r=$(ask "$d" e)
    check "$a: HOTPE_ON_REVERT ran for revert --all ($r)" [ "$r" = "e events=22" ]

    # by name
    l=$(hp $a list --name target.exe 2>&1)
    rc=$?
    check "$a: list --name (rc $rc: $l)" grep -qx "pid $TPID (target.exe): 0 live patches" <<<"$l"
    l=$(hp $a list --name TARGET 2>&1)
    rc=$?
    check "$a: list --name without .exe, another case (rc $rc: $l)" grep -qx "pid $TPID (target.exe): 0 live patches" <<<"$l"
    l=$(hp $a list --pid "$TPID" --pid="$TPID" 2>&1)
    rc=$?
    check "$a: the same --pid twice is one process (rc $rc: $l)" [ "$rc:$l" = "0:pid $TPID (target.exe): 0 live patches" ]

    # the other architecture's hotpe: the x64 one hands an x86 target to build/x86/hotpe.exe
    # (wine-tests/test_handoff.sh does the rest); the x86 one refuses an x64 target
    if [ $a = x64 ] && hp_wine_x86; then
        msg=$(hp x86 list --pid "$TPID" 2>&1)
        rc=$?
        check "$a: x86 hotpe refuses a $a target (rc $rc: $msg)" [ $rc -eq 1 ]
        check "$a: x86 hotpe names the architecture ($msg)" grep -q "^hotpe: pid $TPID (target.exe): process: its architecture is not this hotpe.s (x64 and x86 builds each patch their own) (process x64, this hotpe x86)" <<<"$msg"
    elif [ $a = x86 ]; then
        msg=$(hp x64 list --pid "$TPID" 2>&1)
        rc=$?
        check "$a: x64 hotpe hands a $a target to the x86 one (rc $rc: $msg)" [ $rc -eq 0 ]
        check "$a: x64 hotpe: the x86 one's answer ($msg)" grep -qx "pid $TPID (target.exe): 0 live patches" <<<"$msg"
    fi

    check "$a: target stops cleanly" stop_target "$d"
done

msg=$("$hotpe" apply --pid 1 x.dll 2>&1)
rc=$?
check "native build: needs the Windows build (rc $rc: $msg)" [ $rc -eq 1 ]
grep -q "needs the Windows build" <<<"$msg" && ok || bad "native message: $msg"

hp_summary $pass $fail
