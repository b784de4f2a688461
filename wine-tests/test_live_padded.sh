#!/usr/bin/env bash
# Live patching of clang bases under Wine (issue 5), x64 and x86. `padded` sites (the first
# instruction is real code; the target is built with patchable_function_entry(8, 8), noinline and
# -fms-hotpatch in place of HOTPE_PATCHABLE), so HOTPE_ORIGINAL goes through a stub the shim
# builds near the target (the first instruction moved, then a jump back):
#  - hotpe scan classes compute and label `padded`, hotpe info marks the ORIGINAL as a stub;
#  - apply changes the running target's results, label through HOTPE_ORIGINAL (the stub);
#  - supersede: sequence 2 applied over the live sequence 1 replaces it in one transaction
#    (results change again, list shows only sequence 2), sequence 1 again is refused, revert
#    brings back the original results;
#  - x64, hand-made sites (wine-tests/live/target5.c): a padding of exactly 5 (E9 to a near stub)
#    and a RIP-relative first instruction moved into its HOTPE_ORIGINAL stub.
# And the same target built with clang's HOTPE_PATCHABLE (66 90 marker: `prologue`, optnone):
# the busy threads' loops see the patched compute() too, and the original after revert (with
# the old padded-only macro clang hoisted compute() out of those loops).
# And built as a whole program by GCC with no marker at all, -fpatchable-function-entry=10,8
# (x86 7,5): compute and label are `nop-pair` sites (90 90 at the entry), patched with busy
# threads calling them (a thread between the two NOPs is the IP check's to catch), label's
# HOTPE_ORIGINAL skips the pair, revert brings them back; that patch reaches the base's globals
# through HOTPE_BASE_DATA_AS (slots named apart from them).
# Targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=live_padded
source wine-tests/lib-live.sh

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d"
    if [ $a = x64 ]; then tgt=x86_64-w64-mingw32; else tgt=i686-w64-mingw32; fi
    gcc=$tgt-gcc
    if ! { "$HP_LLVM/clang" --target=$tgt $SDK_FLAGS -fms-hotpatch -c wine-tests/live/target.c -o "$d/target.o" \
        "-DHOTPE_PATCHABLE=__attribute__((patchable_function_entry(8, 8), noinline))" &&
        $gcc "$d/target.o" -o "$d/target.exe" &&
        $gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw1.dll" wine-tests/live/patch.c &&
        $gcc $SDK_FLAGS -shared -o "$d/raw2.dll" wine-tests/live/patch2.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw1.dll" -o "$d/patch1.dll" &&
        "$hotpe" build --base "$d/target.exe" "$d/raw2.dll" -o "$d/patch2.dll"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    scan=$("$hotpe" scan "$d/target.exe")
    check "$a: compute and label are padded" [ "$(grep -cE ' padded .* _?(compute|label)$' <<<"$scan")" -eq 2 ]
    check "$a: info marks the ORIGINAL as a stub" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
refs = [r for r in d["references"] if r.get("stub")]
assert len(refs) == 1, d["references"]' "$("$hotpe" info "$d/patch1.dll" --json)"
    rel=${d#"$HP_ROOT"/}

    if ! start_target "$d"; then
        bad "$a: target did not start: $(cat "$d/err")"
        continue
    fi
    ok
    r=$(ask "$d" q)
    check "$a: original results ($r)" [ "$r" = "q compute=10 label=1005" ]

    msg=$(hp $a apply --pid "$TPID" "$rel/patch1.dll" 2>&1)
    rc=$?
    check "$a: apply seq 1 exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: seq 1 results, label through the stub ($r)" [ "$r" = "q compute=15 label=1006" ]
    # threads: label only. Without optnone clang infers compute() readnone and hoists its call
    # out of the worker loop, so the loop never re-enters it (the HOTPE_PATCHABLE case below).
    r=$(ask "$d" w)
    check "$a: seq 1 label in the busy threads ($r)" grep -q "^w compute=[0-9]* label=1006$" <<<"$r"

    # supersede: sequence 2 over the live sequence 1, one transaction
    msg=$(hp $a apply --pid "$TPID" "$rel/patch2.dll" --json 2>&1)
    rc=$?
    check "$a: seq 2 supersedes seq 1 (rc $rc: $msg)" python3 -c '
import json, sys
d = json.loads(sys.argv[1]); p = d["processes"][0]
assert p["status"] == "applied" and p["patch_id"] == 2 and p["froze"], p' "$msg"
    r=$(ask "$d" q)
    check "$a: seq 2 results ($r)" [ "$r" = "q compute=20 label=1007" ]
    r=$(ask "$d" w)
    check "$a: seq 2 label in the busy threads ($r)" grep -q "^w compute=[0-9]* label=1007$" <<<"$r"
    lj=$(hp $a list --pid "$TPID" --json 2>&1)
    check "$a: list shows only seq 2 ($lj)" python3 -c '
import json, sys
p = json.loads(sys.argv[1])["processes"][0]
assert len(p["patches"]) == 1, p
q = p["patches"][0]
assert q["id"] == 2 and q["sequence"] == 2 and len(q["sites"]) == 2, q
assert all(s["state"] == "live" for s in q["sites"]), q' "$lj"
    msg=$(hp $a apply --pid "$TPID" "$rel/patch1.dll" 2>&1)
    rc=$?
    check "$a: lower sequence refused (rc $rc: $msg)" [ $rc -eq 1 ]
    check "$a: lower sequence: reason ($msg)" grep -q "equal or higher sequence" <<<"$msg"
    r=$(ask "$d" q)
    check "$a: still seq 2 after the refusal ($r)" [ "$r" = "q compute=20 label=1007" ]

    msg=$(hp $a revert --pid "$TPID" --all 2>&1)
    rc=$?
    check "$a: revert (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: original results after revert ($r)" [ "$r" = "q compute=10 label=1005" ]
    r=$(ask "$d" w)
    check "$a: original label in the threads after revert ($r)" grep -q "^w compute=[0-9]* label=1005$" <<<"$r"
    l=$(hp $a list --pid "$TPID" 2>&1)
    check "$a: list empty after revert ($l)" grep -qx "pid $TPID (target.exe): 0 live patches" <<<"$l"
    msg=$(hp $a apply --pid "$TPID" "$rel/patch1.dll" 2>&1)
    rc=$?
    check "$a: apply again after revert (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: patched again ($r)" [ "$r" = "q compute=15 label=1006" ]
    check "$a: target stops cleanly" stop_target "$d"
done

for a in $HP_WINE_ARCHES; do
    echo "-- $a clang HOTPE_PATCHABLE"
    d=$out/${a}_sdk
    mkdir -p "$d"
    if [ $a = x64 ]; then tgt=x86_64-w64-mingw32; else tgt=i686-w64-mingw32; fi
    if ! { "$HP_LLVM/clang" --target=$tgt $SDK_FLAGS -c wine-tests/live/target.c -o "$d/target.o" &&
        $tgt-gcc "$d/target.o" -o "$d/target.exe" &&
        $tgt-gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw1.dll" wine-tests/live/patch.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw1.dll" -o "$d/patch1.dll"; } >"$d/build.log" 2>&1; then
        bad "$a sdk: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    scan=$("$hotpe" scan "$d/target.exe")
    check "$a sdk: compute and label are prologue (66 90)" \
        [ "$(grep -cE ' prologue .* nop .* _?(compute|label)$' <<<"$scan")" -eq 2 ]
    rel=${d#"$HP_ROOT"/}
    if ! start_target "$d"; then
        bad "$a sdk: target did not start: $(cat "$d/err")"
        continue
    fi
    ok
    r=$(ask "$d" w)
    check "$a sdk: original results in the busy threads ($r)" [ "$r" = "w compute=10 label=1005" ]
    msg=$(hp $a apply --pid "$TPID" "$rel/patch1.dll" 2>&1)
    rc=$?
    check "$a sdk: apply (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a sdk: patched results ($r)" [ "$r" = "q compute=15 label=1006" ]
    r=$(ask "$d" w)
    check "$a sdk: the busy threads see the patched compute ($r)" [ "$r" = "w compute=15 label=1006" ]
    msg=$(hp $a revert --pid "$TPID" --all 2>&1)
    rc=$?
    check "$a sdk: revert (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" w)
    check "$a sdk: original results in the threads after revert ($r)" [ "$r" = "w compute=10 label=1005" ]
    check "$a sdk: target stops cleanly" stop_target "$d"
done

for a in $HP_WINE_ARCHES; do
    echo "-- $a GCC -fpatchable-function-entry (nop-pair)"
    d=$out/${a}_pair
    mkdir -p "$d"
    if [ $a = x64 ]; then tgt=x86_64-w64-mingw32 pfe=10,8; else tgt=i686-w64-mingw32 pfe=7,5; fi
    if ! { $tgt-gcc $SDK_FLAGS -fpatchable-function-entry=$pfe -o "$d/target.exe" \
        "-DHOTPE_PATCHABLE=__attribute__((noipa))" wine-tests/live/target.c &&
        $tgt-gcc $SDK_FLAGS -DSEQUENCE=1 -DALIAS -shared -o "$d/raw1.dll" wine-tests/live/patch.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw1.dll" -o "$d/patch1.dll"; } >"$d/build.log" 2>&1; then
        bad "$a pair: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    scan=$("$hotpe" scan "$d/target.exe")
    check "$a pair: compute and label are nop-pair" \
        [ "$(grep -cE ' nop-pair .* _?(compute|label)$' <<<"$scan")" -eq 2 ]
    check "$a pair: no function of target.c is short-first" \
        [ "$(grep -cE ' short-first .* _?(compute|label|main)$' <<<"$scan")" -eq 0 ]
    rel=${d#"$HP_ROOT"/}
    if ! start_target "$d"; then
        bad "$a pair: target did not start: $(cat "$d/err")"
        continue
    fi
    ok
    r=$(ask "$d" w)
    check "$a pair: original results in the busy threads ($r)" [ "$r" = "w compute=10 label=1005" ]
    for round in 1 2 3; do
        msg=$(hp $a apply --pid "$TPID" "$rel/patch1.dll" 2>&1)
        rc=$?
        check "$a pair: apply $round (rc $rc: $msg)" [ $rc -eq 0 ]
        r=$(ask "$d" w)
        check "$a pair: the busy threads see the patch, label through ORIGINAL $round ($r)" \
            [ "$r" = "w compute=15 label=1006" ]
        msg=$(hp $a revert --pid "$TPID" --all 2>&1)
        rc=$?
        check "$a pair: revert $round (rc $rc: $msg)" [ $rc -eq 0 ]
        r=$(ask "$d" w)
        check "$a pair: original results after revert $round ($r)" [ "$r" = "w compute=10 label=1005" ]
    done
    r=$(ask "$d" e)
    check "$a pair: callbacks wrote the base's globals through HOTPE_BASE_DATA_AS ($r)" \
        [ "$r" = "e events=33" ]
    check "$a pair: target stops cleanly" stop_target "$d"
done

echo "-- x64 E9 stub form, RIP-relative ORIGINAL"
d=$out/x64_5
mkdir -p "$d"
if ! { x86_64-w64-mingw32-gcc $SDK_FLAGS -o "$d/target5.exe" wine-tests/live/target5.c &&
    x86_64-w64-mingw32-gcc $SDK_FLAGS -shared -o "$d/raw5.dll" wine-tests/live/patch5.c &&
    "$hotpe" build --base "$d/target5.exe" "$d/raw5.dll" -o "$d/patch5.dll"; } >"$d/build.log" 2>&1; then
    bad "x64_5: build: $(head -3 "$d/build.log")"
else
    ok
    info=$("$hotpe" info "$d/patch5.dll")
    check "x64_5: five has the 5-byte form" grep -q "five .*AMD64_IND 5 bytes" <<<"$info"
    rel=${d#"$HP_ROOT"/}
    if start_target "$d" target5.exe; then
        r=$(ask "$d" q)
        check "x64_5: original results ($r)" [ "$r" = "q five=15 rip=105" ]
        msg=$(hp x64 apply --pid "$TPID" "$rel/patch5.dll" 2>&1)
        rc=$?
        check "x64_5: apply (rc $rc: $msg)" [ $rc -eq 0 ]
        r=$(ask "$d" q)
        check "x64_5: patched results, ripf through its relocated stub ($r)" [ "$r" = "q five=25 rip=1105" ]
        l=$(hp x64 list --pid "$TPID" 2>&1)
        check "x64_5: list ($l)" grep -q "patch 1  sequence 1  target5.exe  .*(2 sites)" <<<"$l"
        msg=$(hp x64 revert --pid "$TPID" --all 2>&1)
        rc=$?
        check "x64_5: revert (rc $rc: $msg)" [ $rc -eq 0 ]
        r=$(ask "$d" q)
        check "x64_5: original results after revert ($r)" [ "$r" = "q five=15 rip=105" ]
        check "x64_5: target stops cleanly" stop_target "$d"
    else
        bad "x64_5: target did not start: $(cat "$d/err")"
    fi
fi

hp_summary $pass $fail
