#!/usr/bin/env bash
# Function hashes under Wine (docs/live.md "Function hashes"), x64 and x86: a patch records the
# SHA-256 of each replaced function's bytes, and hotpe (from outside, before injecting anything)
# and the shim (in the target, before its first write) refuse a module whose replaced function
# differs from the base's anywhere, not only in the bytes the validations see.
#  (a) the target the patch was built for: check would apply, apply applies, list shows it;
#  (b) a copy of that target.exe with one byte of compute's body changed in the file (x64:
#      lea eax,[rcx+rcx] becomes [rcx+rcx*4], compute(5) = 25; x86: add eax,eax becomes
#      xor eax,eax, 0): headers, identity and every validated byte are the base's. check and
#      apply refuse it with HP_E_LIVE_FUNC_HASH's one line naming target.exe!compute, exit 1;
#      nothing is injected and the results stay the copy's own;
#  (c) the same with --json: the process is "refused" with "error": "HP_E_LIVE_FUNC_HASH";
#  (d) the shim alone, with no check from outside: the target hands the apply request to
#      hotpe-shim.dll's hotpe_shim_run itself (target.c built with HOTPE_SHIM_SELF, command
#      "s"). In the changed copy the shim answers 0x0811 (HP_E_LIVE_FUNC_HASH) at compute's
#      RVA and writes nothing (list: no live patch; results unchanged); in the original it
#      applies (compute(5) = 15) and list shows the patch.
# Targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=live_funchash
source wine-tests/lib-live.sh

matches() { [[ $1 =~ $2 ]]; }

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d/flip"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc changed=25; else gcc=i686-w64-mingw32-gcc changed=0; fi
    if ! { $gcc $SDK_FLAGS -Iinclude -DHOTPE_SHIM_SELF -o "$d/target.exe" wine-tests/live/target.c -lbcrypt &&
        $gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw1.dll" wine-tests/live/patch.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw1.dll" -o "$d/patch.dll" &&
        cp "$d/target.exe" "$d/flip/target.exe" &&
        rva=$(flip_compute "$d/flip/target.exe" "$d/patch.dll" $a); } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    rel=${d#"$HP_ROOT"/}
    ndiff=$(cmp -l "$d/target.exe" "$d/flip/target.exe" | wc -l)
    check "$a: the copy differs in one byte, inside compute (RVA $(printf 0x%x "$rva"))" [ "$ndiff" -eq 1 ]
    hashes=$("$hotpe" info "$d/patch.dll" | grep -c "^hash  \(compute\|label\)  RVA 0x")
    check "$a: info prints the two function hashes ($hashes)" [ "$hashes" -eq 2 ]
    shim_w=$(winepath -w "$HP_BUILD/$a/hotpe-shim.dll" 2>/dev/null)
    patch_w=$(winepath -w "$d/patch.dll" 2>/dev/null)
    want="^hotpe: pid PID \(target\.exe\): target\.exe!compute: validation: a replaced function's bytes are not the base's the patch was built for \([0-9]+ bytes at RVA $(printf 0x%x "$rva"): sha256 [0-9a-f]{16}\.\. expected, [0-9a-f]{16}\.\. found\)$"

    # (b), (c): the changed copy, refused from outside
    if start_target "$d/flip"; then
        r=$(ask "$d/flip" q)
        check "$a: the changed copy runs its own compute ($r)" [ "$r" = "q compute=$changed label=1005" ]
        re=${want//PID/$TPID}
        msg=$(hp $a check --pid "$TPID" "$rel/patch.dll" 2>&1)
        rc=$?
        check "$a: changed copy: check exit 1 (rc $rc)" [ $rc -eq 1 ]
        check "$a: changed copy: check's one line names target.exe!compute ($msg)" matches "$msg" "$re"
        msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" 2>&1)
        rc=$?
        check "$a: changed copy: apply exit 1 (rc $rc)" [ $rc -eq 1 ]
        check "$a: changed copy: apply's one line names target.exe!compute ($msg)" matches "$msg" "$re"
        j=$(hp $a apply --pid "$TPID" "$rel/patch.dll" --json 2>/dev/null)
        check "$a: changed copy: --json has the refused process with HP_E_LIVE_FUNC_HASH ($j)" python3 -c '
import json, sys
p = json.loads(sys.argv[1])["processes"]
assert len(p) == 1 and p[0]["pid"] == int(sys.argv[2]) and p[0]["status"] == "refused", p
assert p[0]["error"] == "HP_E_LIVE_FUNC_HASH" and p[0]["code"] == 0x0811, p
assert "target.exe!compute: validation: " in p[0]["message"], p' "$j" "$TPID"
        r=$(ask "$d/flip" "m hotpe-shim.dll")
        check "$a: changed copy: shim not injected ($r)" [ "$r" = "m hotpe-shim.dll absent" ]
        r=$(ask "$d/flip" q)
        check "$a: changed copy: results unchanged ($r)" [ "$r" = "q compute=$changed label=1005" ]
        r=$(ask "$d/flip" w)
        check "$a: changed copy: the busy threads' results unchanged ($r)" [ "$r" = "w compute=$changed label=1005" ]

        # (d) the shim alone refuses it too, before writing anything
        r=$(ask "$d/flip" "s $shim_w $patch_w")
        check "$a: changed copy: the shim alone answers HP_E_LIVE_FUNC_HASH at compute ($r)" \
            [ "$r" = "s status=0x0811 rva=$(printf 0x%x "$rva")" ]
        l=$(hp $a list --pid "$TPID" 2>&1)
        check "$a: changed copy: no live patch after the shim's refusal ($l)" \
            grep -qx "pid $TPID (target.exe): 0 live patches" <<<"$l"
        r=$(ask "$d/flip" q)
        check "$a: changed copy: results unchanged after the shim's refusal ($r)" [ "$r" = "q compute=$changed label=1005" ]
        check "$a: changed copy: target stops cleanly" stop_target "$d/flip"
    else
        bad "$a: changed copy did not start: $(cat "$d/flip/err")"
    fi

    # (a): the base the patch was built for, from outside
    if start_target "$d"; then
        r=$(ask "$d" q)
        check "$a: original results ($r)" [ "$r" = "q compute=10 label=1005" ]
        msg=$(hp $a check --pid "$TPID" "$rel/patch.dll" 2>&1)
        rc=$?
        check "$a: base: check exit 0 ($msg)" [ $rc -eq 0 ]
        check "$a: base: would apply ($msg)" grep -qx "pid $TPID (target.exe): target.exe: .*patch.dll would apply (2 sites)" <<<"$msg"
        msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" 2>&1)
        rc=$?
        check "$a: base: apply exit 0 ($msg)" [ $rc -eq 0 ]
        r=$(ask "$d" q)
        check "$a: base: patched results ($r)" [ "$r" = "q compute=15 label=1006" ]
        l=$(hp $a list --pid "$TPID" 2>&1)
        check "$a: base: list shows the patch ($l)" grep -q "patch 1  sequence 1  target.exe  .*patch.dll  (2 sites)" <<<"$l"
        check "$a: base: target stops cleanly" stop_target "$d"
    else
        bad "$a: target did not start: $(cat "$d/err")"
    fi

    # (d): the base, through the shim alone: applied
    if start_target "$d"; then
        r=$(ask "$d" "s $shim_w $patch_w")
        check "$a: base: the shim alone applies ($r)" [ "$r" = "s status=0x0000 rva=0x0" ]
        r=$(ask "$d" q)
        check "$a: base: patched through the shim alone ($r)" [ "$r" = "q compute=15 label=1006" ]
        l=$(hp $a list --pid "$TPID" 2>&1)
        check "$a: base: list shows the shim's patch ($l)" grep -q "patch 1  sequence 1  target.exe  .*patch.dll  (2 sites)" <<<"$l"
        check "$a: base: target stops cleanly" stop_target "$d"
    else
        bad "$a: target did not start: $(cat "$d/err")"
    fi
done

hp_summary $pass $fail
