#!/usr/bin/env bash
# Functions never built for hotpatching, patched live in the entry form (issue 17), x64 and x86:
# wine-tests/tramp/target.c built with plain -O2, and Wine's own msvcrt.dll.
#  - scan classes parse_port and msvcrt!atoi `trampoline`; hotpe build refuses each refuse_*
#    function with its reason (too-short, branch-into, unmovable, undecodable) and writes nothing;
#  - with 4 threads calling both functions in loops: apply the fix of parse_port (its original
#    runs through the trampoline), then the msvcrt fix; results change, the entry holds E9; a
#    second sequence supersedes the first; 20 apply/revert cycles of both; revert --all brings
#    back the original results and bytes; the threads saw no result that is neither the
#    original's nor the fix's;
#  - the target exits normally.
# Targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=tramp
source wine-tests/lib-live.sh

CYCLES=20
for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc corpus=$HP_CORPUS_X64; else gcc=i686-w64-mingw32-gcc corpus=$HP_CORPUS_X86; fi
    if ! { $gcc $SDK_FLAGS -o "$d/tramp-target.exe" wine-tests/tramp/target.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw1.dll" wine-tests/tramp/fix.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=2 -shared -o "$d/raw2.dll" wine-tests/tramp/fix.c &&
        $gcc $SDK_FLAGS -shared -o "$d/rawm.dll" wine-tests/tramp/fix-msvcrt.c &&
        "$hotpe" build --base "$d/tramp-target.exe" "$d/raw1.dll" -o "$d/fix1.dll" &&
        "$hotpe" build --base "$d/tramp-target.exe" "$d/raw2.dll" -o "$d/fix2.dll" &&
        "$hotpe" build --base "$corpus/msvcrt.dll" "$d/rawm.dll" -o "$d/fixm.dll"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    scan=$("$hotpe" scan "$d/tramp-target.exe")
    check "$a: parse_port is a trampoline site" grep -qE ' trampoline .* _?parse_port$' <<<"$scan"
    r=$("$hotpe" scan "$corpus/msvcrt.dll" --json | python3 -c 'import json,sys
print(*[f["class"] for f in json.load(sys.stdin)["functions"] if f["name"] == "atoi"])')
    check "$a: msvcrt!atoi is a trampoline site ($r)" [ "$r" = trampoline ]
    r=$(python3 -c 'import json,sys
d = json.loads(sys.argv[1]); print([(r["class"], r.get("stub")) for r in d["references"] if r["kind"] == "original"])' \
        "$("$hotpe" info "$d/fix1.dll" --json)" 2>&1)
    check "$a: info: the ORIGINAL is a trampoline stub ($r)" [ "$r" = "[('trampoline', True)]" ]

    # every refusal built on purpose: exit 1, one line naming the function and why, no output
    for c in "refuse_short too-short" "refuse_loop branch-into" "refuse_loopinsn unmovable" \
        "refuse_undecodable undecodable"; do
        fn=${c% *} why=${c#* }
        $gcc $SDK_FLAGS -DWHICH=$fn -shared -o "$d/raw-$fn.dll" wine-tests/tramp/refuse.c
        msg=$("$hotpe" build --base "$d/tramp-target.exe" "$d/raw-$fn.dll" -o "$d/out-$fn.dll" 2>&1)
        rc=$?
        check "$a: build $fn refused, exit 1 (rc $rc)" [ $rc -eq 1 ]
        check "$a: build $fn says why ($msg)" grep -qE "^hotpe: .*tramp-target.exe!$fn: .*no trampoline: $why at RVA 0x[0-9a-f]+" <<<"$msg"
        check "$a: build $fn wrote nothing" [ ! -e "$d/out-$fn.dll" ]
    done

    rel=${d#"$HP_ROOT"/}
    if ! start_target "$d" tramp-target.exe; then
        bad "$a: target did not start: $(cat "$d/err")"
        continue
    fi
    ok
    check "$a: parse_port before" [ "$(ask "$d" 'p 99999')" = "p 99999" ]
    check "$a: atoi before" [ "$(ask "$d" 'a 5000000')" = "a 5000000" ]
    orig=$(ask "$d" b)
    check "$a: hammer starts" [ "$(ask "$d" 'h 4')" = "h 4" ]

    # a patch whose entry-form jump is not marked as one (HOTPE_REF_F_TRAMP cleared): refused,
    # nothing changes
    python3 - "$d/fix1.dll" "$d/unmarked.dll" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
pe = struct.unpack_from("<I", data, 0x3C)[0]
nsec, optsize = struct.unpack_from("<H", data, pe + 6)[0], struct.unpack_from("<H", data, pe + 20)[0]
for i in range(nsec):
    h = pe + 24 + optsize + 40 * i
    if data[h:h + 8].rstrip(b"\0 ") == b".hotp1":
        rec = struct.unpack_from("<I", data, h + 20)[0] + 0x50
        count, refs = struct.unpack_from("<II", data, rec + 0x38)
        for k in range(count):
            r = rec + refs + 0x14 * k
            if struct.unpack_from("<H", data, r)[0] == 2:  # HOTPE_DESC_REPLACE
                struct.pack_into("<H", data, r + 2, struct.unpack_from("<H", data, r + 2)[0] & ~2)
open(sys.argv[2], "wb").write(data)
PY
    msg=$(hp $a apply --pid "$TPID" "$rel/unmarked.dll" 2>&1 | tr -d '\r')
    rc=${PIPESTATUS[0]}
    check "$a: an unmarked entry-form hook is refused (rc $rc: $msg)" \
        grep -q "entry-form jump" <<<"$msg"
    check "$a: ... with a failure exit" [ "$rc" -ne 0 ]
    check "$a: ... and nothing changed" [ "$(ask "$d" b)" = "$orig" ]
    check "$a: ... parse_port as before" [ "$(ask "$d" 'p 99999')" = "p 99999" ]

    msg=$(hp $a apply --pid "$TPID" "$rel/fix1.dll" 2>&1 | tr -d '\r')
    check "$a: apply the fix of parse_port ($msg)" grep -qE "^pid $TPID \(tramp-target\.exe\): tramp-target\.exe: applied .* as patch [0-9]+ \(1 site, " <<<"$msg"
    check "$a: fixed: a port above 65535 refused" [ "$(ask "$d" 'p 99999')" = "p -1" ]
    check "$a: fixed: 8080 still parsed, through the trampoline" [ "$(ask "$d" 'p 8080')" = "p 8080" ]
    r=$(ask "$d" b)
    check "$a: parse_port's entry is E9 now, the rest as before ($r | $orig)" \
        python3 -c 'import sys; n, o = sys.argv[1][2:].split(" | ")[0].split(), sys.argv[2][2:].split(" | ")[0].split()
sys.exit(not (n[0] == "e9" and n[5:] == o[5:]))' "$r" "$orig"
    msg=$(hp $a list --pid "$TPID" 2>&1 | tr -d '\r')
    check "$a: list: the site live, 5 bytes changed ($msg)" grep -qE "live +entry ([0-9a-f]{2} ){4}[0-9a-f]{2} -> e9( [0-9a-f]{2}){4}  replacement" <<<"$msg"

    msg=$(hp $a apply --pid "$TPID" "$rel/fixm.dll" 2>&1 | tr -d '\r')
    check "$a: apply the msvcrt fix ($msg)" grep -qE "^pid $TPID \(tramp-target\.exe\): msvcrt\.dll: applied " <<<"$msg"
    check "$a: atoi clamped" [ "$(ask "$d" 'a 5000000')" = "a 1000000" ]
    check "$a: atoi 42 through its trampoline" [ "$(ask "$d" 'a 42')" = "a 42" ]

    msg=$(hp $a apply --pid "$TPID" "$rel/fix2.dll" 2>&1 | tr -d '\r')
    check "$a: sequence 2 supersedes 1 ($msg)" grep -qE "^pid $TPID \(tramp-target\.exe\): tramp-target\.exe: applied .* as patch [0-9]+ \(1 site, " <<<"$msg"
    check "$a: superseded: still fixed" [ "$(ask "$d" 'p 99999')" = "p -1" ]
    msg=$(hp $a list --pid "$TPID" 2>&1 | tr -d '\r')
    check "$a: list: sequence 2 and msvcrt's ($msg)" [ "$(grep -cE '^  patch [0-9]+  sequence (2  tramp-target.exe|1  msvcrt.dll)' <<<"$msg")" -eq 2 ]

    fails=0
    for ((i = 0; i < CYCLES; i++)); do
        hp $a revert --pid "$TPID" --all >/dev/null 2>&1 || fails=$((fails + 1))
        hp $a apply --pid "$TPID" "$rel/fix1.dll" >/dev/null 2>&1 || fails=$((fails + 1))
        hp $a apply --pid "$TPID" "$rel/fixm.dll" >/dev/null 2>&1 || fails=$((fails + 1))
    done
    check "$a: $CYCLES revert/apply cycles under the hammer ($fails failed)" [ $fails -eq 0 ]
    msg=$(hp $a revert --pid "$TPID" --all 2>&1 | tr -d '\r')
    check "$a: revert --all ($msg)" grep -qx "pid $TPID (tramp-target.exe): reverted 2 patches" <<<"$msg"
    check "$a: reverted: parse_port's original result" [ "$(ask "$d" 'p 99999')" = "p 99999" ]
    check "$a: reverted: atoi's" [ "$(ask "$d" 'a 5000000')" = "a 5000000" ]
    r=$(ask "$d" b)
    check "$a: reverted: original bytes ($r)" [ "$r" = "$orig" ]
    s=$(ask "$d" s)
    check "$a: the hammer saw both versions, nothing else ($s)" \
        python3 -c 'import sys; f = sys.argv[1].split(); c, b, o, n = (int(f[i]) for i in (2, 4, 6, 8))
sys.exit(not (c > 0 and b == 0 and o > 0 and n > 0))' "$s"
    check "$a: the target exits normally" [ "$(ask "$d" x)" = "x bye" ]
done

hp_summary $pass $fail
