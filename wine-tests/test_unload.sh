#!/usr/bin/env bash
# hotpe revert --unload under Wine (issue 5), x64 and x86, against wine-tests/live/target.c:
#  - apply, revert --unload: the original results come back and the patch DLL is gone from the
#    target's module list (wine-tests/live/patch_leaf.c: its code leaves no return address on
#    any stack, so the conservative scan has nothing stale to find) (also after a plain revert kept it and it was applied again: every
#    reference hotpe took is released);
#  - a thread parked inside the patch (wine-tests/live/patch_block.c: compute(7) waits in Sleep
#    until the target's "r" command): revert --unload reverts (original results, list empty)
#    but keeps the DLL, exit 3, one line naming the DLL and that thread; once the thread has
#    left, `revert --all --unload` frees the kept DLL;
#  - padded sites (clang -fms-hotpatch, explicit attributes as in test_live_padded.sh: clang's
#    HOTPE_PATCHABLE gives prologue sites): the HOTPE_ORIGINAL stub page is freed with the DLL.
# Targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=unload
source wine-tests/lib-live.sh

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d/padded"
    if [ $a = x64 ]; then tgt=x86_64-w64-mingw32; else tgt=i686-w64-mingw32; fi
    gcc=$tgt-gcc
    if ! { $gcc $SDK_FLAGS -o "$d/target.exe" wine-tests/live/target.c &&
        $gcc $SDK_FLAGS -shared -o "$d/raw1.dll" wine-tests/live/patch_leaf.c &&
        $gcc $SDK_FLAGS -shared -o "$d/rawblock.dll" wine-tests/live/patch_block.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw1.dll" -o "$d/patch.dll" &&
        "$hotpe" build --base "$d/target.exe" "$d/rawblock.dll" -o "$d/block.dll" &&
        "$HP_LLVM/clang" --target=$tgt $SDK_FLAGS -fms-hotpatch -c wine-tests/live/target.c -o "$d/padded/target.o" \
            "-DHOTPE_PATCHABLE=__attribute__((patchable_function_entry(8, 8), noinline))" &&
        $gcc "$d/padded/target.o" -o "$d/padded/target.exe" &&
        "$hotpe" build --base "$d/padded/target.exe" "$d/raw1.dll" -o "$d/padded/stubbed.dll"; } >"$d/build.log" 2>&1; then
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

    # apply, revert --unload: original results, DLL gone
    msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" 2>&1)
    rc=$?
    check "$a: apply (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: patched ($r)" [ "$r" = "q compute=15 label=1006" ]
    r=$(ask "$d" "m patch.dll")
    check "$a: patch.dll loaded while live ($r)" [ "$r" = "m patch.dll loaded" ]
    msg=$(hp $a revert --pid "$TPID" 1 --unload 2>&1)
    rc=$?
    check "$a: revert --unload exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    check "$a: revert --unload says unloaded ($msg)" grep -qx "pid $TPID (target.exe): reverted patch 1 (freeze .* us), patch DLL unloaded" <<<"$msg"
    r=$(ask "$d" q)
    check "$a: original after revert --unload ($r)" [ "$r" = "q compute=10 label=1005" ]
    r=$(ask "$d" w)
    check "$a: original in the threads after revert --unload ($r)" [ "$r" = "w compute=10 label=1005" ]
    r=$(ask "$d" "m patch.dll")
    check "$a: patch.dll unloaded ($r)" [ "$r" = "m patch.dll absent" ]

    # a plain revert keeps the DLL (and its reference); applied again and reverted with
    # --unload, it is gone: every reference is released
    hp $a apply --pid "$TPID" "$rel/patch.dll" >/dev/null 2>&1
    msg=$(hp $a revert --pid "$TPID" --all 2>&1)
    rc=$?
    check "$a: plain revert (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" "m patch.dll")
    check "$a: plain revert keeps patch.dll ($r)" [ "$r" = "m patch.dll loaded" ]
    msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" 2>&1)
    rc=$?
    check "$a: apply over the kept DLL (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: patched again ($r)" [ "$r" = "q compute=15 label=1006" ]
    msg=$(hp $a revert --pid "$TPID" --all --unload --json 2>"$d/stderr")
    rc=$?
    check "$a: revert --all --unload --json (rc $rc: $msg $(cat "$d/stderr"))" python3 -c '
import json, sys
d = json.loads(sys.argv[1]); p = d["processes"][0]
assert p["reverted"] == 1 and p["unloaded"] is True and p["kept"] is None, p' "$msg"
    r=$(ask "$d" "m patch.dll")
    check "$a: patch.dll unloaded after two applies ($r)" [ "$r" = "m patch.dll absent" ]
    r=$(ask "$d" q)
    check "$a: original again ($r)" [ "$r" = "q compute=10 label=1005" ]

    # a thread inside the patch: the revert stands, the DLL is kept, the message says why
    msg=$(hp $a apply --pid "$TPID" "$rel/block.dll" 2>&1)
    rc=$?
    check "$a: apply block.dll (rc $rc: $msg)" [ $rc -eq 0 ]
    id=$(sed -n 's/.* as patch \([0-9]*\) .*/\1/p' <<<"$msg")
    r=$(ask "$d" "c 7")
    tid=$(sed -n 's/^c started tid \([0-9]*\)$/\1/p' <<<"$r")
    check "$a: blocking thread started ($r)" [ -n "$tid" ]
    sleep 1 # it enters compute_v2 and waits in Sleep
    msg=$(hp $a revert --pid "$TPID" "$id" --unload 2>&1)
    rc=$?
    check "$a: revert --unload with a thread inside: exit 3 (rc $rc: $msg)" [ $rc -eq 3 ]
    check "$a: revert stands, DLL kept ($msg)" grep -qx "pid $TPID (target.exe): reverted patch $id (freeze .* us), a patch DLL kept loaded" <<<"$msg"
    check "$a: kept: one line naming the DLL and the thread ($msg)" \
        grep -qx "hotpe: pid $TPID (target.exe): block.dll: kept loaded: a return address into it on thread $tid's stack" <<<"$msg"
    r=$(ask "$d" q)
    check "$a: original results while the thread waits ($r)" [ "$r" = "q compute=10 label=1005" ]
    l=$(hp $a list --pid "$TPID" 2>&1)
    check "$a: list empty after the kept revert ($l)" grep -qx "pid $TPID (target.exe): 0 live patches" <<<"$l"
    r=$(ask "$d" "m block.dll")
    check "$a: block.dll kept loaded ($r)" [ "$r" = "m block.dll loaded" ]
    r=$(ask "$d" r)
    check "$a: the thread finishes in the patch's code ($r)" [ "$r" = "r compute=21" ]
    # later: revert --all --unload frees DLLs earlier reverts kept
    msg=$(hp $a revert --pid "$TPID" --all --unload 2>&1)
    rc=$?
    check "$a: revert --all --unload frees the kept DLL (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" "m block.dll")
    check "$a: block.dll unloaded ($r)" [ "$r" = "m block.dll absent" ]
    r=$(ask "$d" w)
    check "$a: threads still fine ($r)" [ "$r" = "w compute=10 label=1005" ]
    msg=$(hp $a revert --pid "$TPID" 1 2>&1)
    rc=$?
    check "$a: revert of a gone id still refused (rc $rc)" [ $rc -eq 1 ]
    hp $a list --pid "$TPID" --unload >/dev/null 2>&1
    rc=$?
    check "$a: list --unload is bad usage (rc $rc)" [ $rc -eq 2 ]
    check "$a: target stops cleanly" stop_target "$d"

    # padded sites: the HOTPE_ORIGINAL stub page goes with the DLL
    if ! start_target "$d/padded"; then
        bad "$a: padded target did not start: $(cat "$d/padded/err")"
        continue
    fi
    msg=$(hp $a apply --pid "$TPID" "$rel/padded/stubbed.dll" 2>&1)
    rc=$?
    check "$a: padded: apply (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d/padded" q)
    check "$a: padded: patched, label through its stub ($r)" [ "$r" = "q compute=15 label=1006" ]
    stub=$(hp $a list --pid "$TPID" --json | python3 -c '
import json, sys
print("%x" % json.load(sys.stdin)["processes"][0]["patches"][0]["stub_page"])')
    r=$(ask "$d/padded" "v $stub")
    check "$a: padded: stub page $stub committed ($r)" [ "$r" = "v $stub committed" ]
    msg=$(hp $a revert --pid "$TPID" --all --unload 2>&1)
    rc=$?
    check "$a: padded: revert --all --unload (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d/padded" q)
    check "$a: padded: original ($r)" [ "$r" = "q compute=10 label=1005" ]
    r=$(ask "$d/padded" "v $stub")
    check "$a: padded: stub page freed ($r)" [ "$r" = "v $stub free" ]
    r=$(ask "$d/padded" "m stubbed.dll")
    check "$a: padded: DLL unloaded ($r)" [ "$r" = "m stubbed.dll absent" ]
    check "$a: padded target stops cleanly" stop_target "$d/padded"
done

hp_summary $pass $fail
