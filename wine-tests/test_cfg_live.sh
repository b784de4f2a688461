#!/usr/bin/env bash
# Control Flow Guard during apply (issue 5, deliverable 5), under Wine, x64 and x86:
#  - a CFG-instrumented target (tests/oracle/cfg/cfg_target.c: clang-cl /guard:cf /hotpatch
#    /Gy, lld-link /guard:cf, no CRT) and its plain twin (same source, no /guard:cf), each with
#    a GCC MinGW patch (cfg_patch.c) stamped by hotpe build (tests/oracle/cfg/build_target.sh);
#  - the images are what the test expects: GuardFlags CF_INSTRUMENTED, the GUARD_CF DLL
#    characteristic and both patched functions in the function table (llvm-readobj) for the
#    CFG build, none of it for the plain one; compute and label are padded sites;
#  - apply --json changes the running target's results and says per site what was done for
#    CFG: "no-api" where the system lacks SetProcessValidCallTargets (Wine 8's kernelbase;
#    "registered" if the Wine under test exports it), "not-instrumented" for the plain twin;
#    list --json keeps the same per-site state, list's text says it once per patch; revert
#    brings the original results back;
#  - the CFG build with a patch built -falign-functions=1: the unaligned replacement entry is
#    "unaligned" (SetProcessValidCallTargets takes 16-byte aligned offsets only), the other as
#    above, and the patch works.
# Targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=cfg_live
source wine-tests/lib-live.sh

source tests/oracle/cfg/build_target.sh
readobj=$HP_LLVM/llvm-readobj

# Whether the Wine under test exports SetProcessValidCallTargets decides the expected state.
declare -A expect
for a in $HP_WINE_ARCHES; do
    dll=/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/kernelbase.dll
    [ $a = x86 ] && dll=/usr/lib/i386-linux-gnu/wine/i386-windows/kernelbase.dll
    expect[$a]=no-api
    if "$readobj" --coff-exports "$dll" 2>/dev/null | grep -q 'Name: SetProcessValidCallTargets$'; then
        expect[$a]=registered
    fi
    echo "$a: expected CFG state on this Wine: ${expect[$a]}"
done

# json_states JSON KEY: the per-site "cfg" values of apply (site_cfg) or list (sites), one line.
json_states() {
    python3 -c '
import json, sys
d = json.loads(sys.argv[1]); p = d["processes"][0]
if sys.argv[2] == "apply":
    assert p["status"] == "applied" and p["cfg_error"] is None, p
    print(p["cfg"], *sorted(s["function"] + ":" + s["cfg"] for s in p["site_cfg"]))
else:
    assert len(p["patches"]) == 1, p
    print(*[hex(s["entry_rva"]) + ":" + s["cfg"] for s in p["patches"][0]["sites"]])' "$1" "$2"
}

# expected_sites DIR STATE: "TOP compute:S label:S" as apply --json should say it, where S is
# STATE, or "unaligned" for a replacement entry (per the patch's COFF symbols) that is not
# 16-byte aligned in an instrumented module; TOP is STATE unless every entry is unaligned.
expected_sites() {
    local d=$1 state=$2 nm=x86_64-w64-mingw32-nm
    [[ $d == */x86/* ]] && nm=i686-w64-mingw32-nm
    local ib
    ib=$("$readobj" --file-headers "$d/patch.dll" | awk '/ImageBase:/{print $2; exit}')
    $nm "$d/patch.dll" | python3 -c '
import sys
state, ib = sys.argv[1], int(sys.argv[2], 0)
got = {}
for line in sys.stdin:
    w = line.split()
    if len(w) == 3 and w[2].lstrip("_") in ("compute_v2", "label_v2"):
        rva = int(w[0], 16) - ib
        got[w[2].lstrip("_")[:-3]] = state if state == "not-instrumented" or rva % 16 == 0 else "unaligned"
top = state if state in got.values() else "unaligned"
print(top, *sorted(k + ":" + v for k, v in got.items()))' "$state" "$ib"
}

for a in $HP_WINE_ARCHES; do
    # packed: the cfg build with a patch built -falign-functions=1 (a replacement unaligned)
    for kind in cfg plain packed; do
        echo "-- $a $kind"
        d=$out/$a/$kind
        cfg=1 gflags=()
        [ $kind = plain ] && cfg=0
        [ $kind = packed ] && gflags=(-falign-functions=1)
        mkdir -p "$d"
        if ! hp_cfg_build $a "$d" $cfg "${gflags[@]}" >"$d.build.log" 2>&1; then
            bad "$a $kind: build: $(head -5 "$d.build.log")"
            continue
        fi
        ok
        lc=$("$readobj" --coff-load-config "$d/cfg_target.exe")
        hdr=$("$readobj" --file-headers "$d/cfg_target.exe")
        flags=$(awk '/GuardFlags:/{print $2; exit}' <<<"$lc")
        scan=$("$hotpe" scan "$d/cfg_target.exe")
        check "$a $kind: compute and label are padded sites" \
            [ "$(grep -cE ' padded .* _?(compute|label)$' <<<"$scan")" -eq 2 ]
        if [ $kind != plain ]; then
            check "$a cfg: GuardFlags has CF_INSTRUMENTED ($flags)" [ $((flags & 0x100)) -ne 0 ]
            check "$a cfg: DllCharacteristics has GUARD_CF" grep -q 'IMAGE_DLL_CHARACTERISTICS_GUARD_CF' <<<"$hdr"
            # both patched functions are in the function table (their VAs from the map file)
            for fn in compute label; do
                va=$(awk -v f="$fn" '$2 == f || $2 == "_" f {print $3; exit}' "$d/cfg_target.map")
                va=$(printf '0x%X' "$((16#${va:-0}))")
                check "$a cfg: $fn ($va) in the function table" \
                    grep -qix " *$va" <<<"$(sed -n '/GuardFidTable/,/]/p' <<<"$lc")"
            done
        else
            check "$a plain: GuardFlags without CF_INSTRUMENTED (${flags:-none})" \
                [ $(( ${flags:-0} & 0x100 )) -eq 0 ]
            check "$a plain: no GUARD_CF" bash -c '! grep -q GUARD_CF <<<"$1"' _ "$hdr"
        fi
        want=${expect[$a]}
        [ $kind = plain ] && want=not-instrumented
        exp_sites=$(expected_sites "$d" "$want")
        exp_states=$(tr ' ' '\n' <<<"${exp_sites#* }" | sed 's/.*://' | sort | tr '\n' ' ')
        nstates=$(tr ' ' '\n' <<<"$exp_states" | grep -v '^$' | sort -u | wc -l)
        [ $kind = plain ] && nstates=0
        [ $kind = packed ] && { grep -q unaligned <<<"$exp_sites" ||
            bad "$a packed: -falign-functions=1 left every replacement aligned ($exp_sites)"; }

        if ! start_target "$d" cfg_target.exe; then
            bad "$a $kind: target did not start: $(cat "$d/err")"
            continue
        fi
        ok
        rel=${d#"$HP_ROOT"/}
        r=$(ask "$d" q)
        check "$a $kind: original results ($r)" [ "$r" = "q compute=10 label=1005" ]
        msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" --json 2>&1)
        rc=$?
        check "$a $kind: apply exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
        st=$(json_states "$msg" apply 2>&1)
        check "$a $kind: apply --json says $exp_sites ($st)" [ "$st" = "$exp_sites" ]
        r=$(ask "$d" q)
        check "$a $kind: patched results ($r)" [ "$r" = "q compute=15 label=2005" ]
        lj=$(hp $a list --pid "$TPID" --json 2>&1)
        st=$(json_states "$lj" list 2>&1)
        got_states=$(tr ' ' '\n' <<<"$st" | sed 's/.*://' | grep -v '^$' | sort | tr '\n' ' ')
        check "$a $kind: list --json keeps the states ($st)" [ "$got_states" = "$exp_states" ]
        l=$(hp $a list --pid "$TPID" 2>&1)
        n=$(grep -c 'CFG:' <<<"$l")
        check "$a $kind: list text has $nstates CFG line(s), once per patch and state ($l)" \
            [ "$n" -eq "$nstates" ]
        msg=$(hp $a revert --pid "$TPID" --all 2>&1)
        rc=$?
        check "$a $kind: revert (rc $rc: $msg)" [ $rc -eq 0 ]
        r=$(ask "$d" q)
        check "$a $kind: original results after revert ($r)" [ "$r" = "q compute=10 label=1005" ]
        # text output of apply: one CFG line for the CFG build, none for the plain one
        msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" 2>&1)
        rc=$?
        n=$(grep -c 'CFG:' <<<"$msg")
        check "$a $kind: apply text has $nstates CFG line(s) (rc $rc: $msg)" \
            [ "$rc:$n" = "0:$nstates" ]
        r=$(ask "$d" q)
        check "$a $kind: patched again ($r)" [ "$r" = "q compute=15 label=2005" ]
        check "$a $kind: target stops cleanly" stop_target "$d"
    done
done

hp_summary $pass $fail
