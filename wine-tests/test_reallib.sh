#!/usr/bin/env bash
# A real library built plainly, fixed live with its real upstream fix (issue 17), x64 and x86:
# zlib 1.2.13 from Debian's source package, built by tests/reallib/zlib.sh with MinGW GCC -O2
# and nothing for hotpatching, and zpipe.exe (tests/reallib/zuse.c) using it. The fix is zlib
# 1.3's deflateBound() change (wine-tests/reallib/deflatebound-fix.c, compiled against zlib's
# own deflate.h): level 0 with memLevel 9 was given the fixed-block bound, too small for short
# input, so a deflate into a buffer of that size could not finish.
#  - scan classes deflateBound `trampoline`; build makes a patch of it;
#  - with 2 threads calling deflateBound and compress in loops: before, a 1-byte deflate at
#    level 0 / memLevel 9 does not fit its bound; apply; it fits, the default settings' bound is
#    unchanged, compress/crc32 answer as before; 20 revert/apply cycles; revert: the old bound
#    and failure are back; the threads saw only the two bounds and no failed roundtrip;
#  - the target exits normally.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=reallib-live
source wine-tests/lib-live.sh

if ! bash tests/reallib/zlib.sh >"$out/zlib.log" 2>&1; then
    bad "zlib: $(tail -1 "$out/zlib.log")"
    hp_summary $pass $fail
    exit 1
fi
zsrc=$HP_BUILD/deps/zlib-src
# Wine has a builtin zlib1.dll and prefers it to the one beside the program. Native for
# zpipe.exe only: Wine's own user32.dll imports zlib1.dll, and its processes need the builtin.
wine reg add 'HKCU\Software\Wine\AppDefaults\zpipe.exe\DllOverrides' /v zlib1 /d native /f >/dev/null 2>&1
CYCLES=20
for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    z=$HP_BUILD/reallib/$a
    mkdir -p "$d"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    if ! { cp "$z/zlib1.dll" "$z/zpipe.exe" "$d/" &&
        $gcc $SDK_FLAGS -I"$zsrc" -shared -o "$d/raw.dll" wine-tests/reallib/deflatebound-fix.c &&
        "$hotpe" build --base "$d/zlib1.dll" "$d/raw.dll" -o "$d/fix.dll"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    scan=$("$hotpe" scan "$d/zlib1.dll" --json | python3 -c 'import json,sys
print(*[f["class"] for f in json.load(sys.stdin)["functions"] if f["name"] == "deflateBound"])')
    check "$a: deflateBound is a trampoline site ($scan)" [ "$scan" = trampoline ]

    rel=${d#"$HP_ROOT"/}
    if ! start_target "$d" zpipe.exe; then
        bad "$a: zpipe did not start: $(cat "$d/err")"
        continue
    fi
    ok
    before=$(ask "$d" 'b 0 9 1')
    check "$a: before: level 0 memLevel 9 does not fit its bound ($before)" [ "$before" = "b 11 short" ]
    dflt=$(ask "$d" 'b 6 8 200')
    check "$a: default settings fit ($dflt)" grep -qE '^b [0-9]+ end$' <<<"$dflt"
    crc=$(ask "$d" 'c hello')
    check "$a: crc32 ($crc)" [ "$crc" = "c 3610a686" ]
    check "$a: hammer starts" [ "$(ask "$d" 't 2')" = "t 2" ]

    msg=$(hp $a apply --pid "$TPID" "$rel/fix.dll" 2>&1 | tr -d '\r')
    check "$a: apply ($msg)" grep -qE "^pid $TPID \(zpipe\.exe\): zlib1\.dll: applied .* as patch [0-9]+ \(1 site, " <<<"$msg"
    r=$(ask "$d" 'b 0 9 1')
    check "$a: fixed: the bound fits ($r)" [ "$r" = "b 14 end" ]
    check "$a: fixed: default settings' bound unchanged" [ "$(ask "$d" 'b 6 8 200')" = "$dflt" ]
    check "$a: fixed: crc32 as before" [ "$(ask "$d" 'c hello')" = "$crc" ]
    r=$(ask "$d" 'z the quick brown fox jumps over the lazy dog')
    check "$a: fixed: compress and uncompress ($r)" grep -qE '^z ok [0-9]+$' <<<"$r"
    msg=$(hp $a list --pid "$TPID" 2>&1 | tr -d '\r')
    check "$a: list: the site live, 5 bytes changed ($msg)" grep -qE "live +entry ([0-9a-f]{2} ){4}[0-9a-f]{2} -> e9( [0-9a-f]{2}){4}  replacement" <<<"$msg"

    fails=0
    for ((i = 0; i < CYCLES; i++)); do
        hp $a revert --pid "$TPID" --all >/dev/null 2>&1 || fails=$((fails + 1))
        hp $a apply --pid "$TPID" "$rel/fix.dll" >/dev/null 2>&1 || fails=$((fails + 1))
    done
    check "$a: $CYCLES revert/apply cycles under the hammer ($fails failed)" [ $fails -eq 0 ]
    msg=$(hp $a revert --pid "$TPID" --all 2>&1 | tr -d '\r')
    check "$a: revert --all ($msg)" grep -qx "pid $TPID (zpipe.exe): reverted 1 patch" <<<"$msg"
    r=$(ask "$d" 'b 0 9 1')
    check "$a: reverted: the old bound again ($r)" [ "$r" = "$before" ]
    s=$(ask "$d" s)
    check "$a: the threads saw the two bounds and no failed roundtrip ($s)" \
        python3 -c 'import sys; f = sys.argv[1].split()
sys.exit(not (int(f[2]) > 0 and sorted(f[4:-2]) == ["11", "14"] and f[-1] == "0"))' "$s"
    echo q >&3
    exec 3>&-
    ended=0
    for _ in $(seq 1 100); do
        kill -0 "$KID" 2>/dev/null || { ended=1; break; }
        sleep 0.1
    done
    check "$a: zpipe exits normally" [ $ended -eq 1 ]
done

hp_summary $pass $fail
