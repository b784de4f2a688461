#!/usr/bin/env bash
# The CodeView part of a patch's identity check under Wine (issue 4), x64 and x86. The target
# (wine-tests/live/target.c) is linked with a CodeView RSDS record (GNU ld --build-id=GUID), the
# patch is built against it, so its build record holds that GUID and age. Then, with TimeDateStamp,
# SizeOfImage and CheckSum made equal to the patch's base (bytes copied with Python):
#  - the same build: hotpe check --pid accepts the patch;
#  - a rebuild with another build-id: check and apply refuse it (exit 1), naming the CodeView
#    GUID, and nothing is loaded into the target;
#  - the same build with another age in its RSDS record: check refuses it, naming the age.
# Targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=live_identity
source wine-tests/lib-live.sh

BID_A=0123456789abcdef0123456789abcdef
BID_B=fedcba9876543210fedcba9876543210

# Copy TimeDateStamp and CheckSum of FROM into each IMAGE; with "age N", set its RSDS age first.
# Prints nothing; exits 1 when an image has no RSDS record.
stamp() { # FROM IMAGE [age N]
    python3 - "$@" <<'PY'
import struct, sys
src = open(sys.argv[1], 'rb').read()
path = sys.argv[2]
b = bytearray(open(path, 'rb').read())
def heads(x):
    nt = struct.unpack_from('<I', x, 0x3c)[0]
    return nt, nt + 24
nt, opt = heads(b)
if len(sys.argv) > 4 and sys.argv[3] == 'age':
    plus = struct.unpack_from('<H', b, opt)[0] == 0x20b
    rva, size = struct.unpack_from('<II', b, opt + (112 if plus else 96) + 8 * 6)
    nsec, osz = struct.unpack_from('<H', b, nt + 6)[0], struct.unpack_from('<H', b, nt + 20)[0]
    d = None
    for i in range(nsec):
        vs, va, rs, ro = struct.unpack_from('<IIII', b, opt + osz + 40 * i + 8)
        if va <= rva < va + max(vs, rs):
            d = ro + rva - va
    raw = struct.unpack_from('<I', b, d + 24)[0] if d is not None else 0
    if not raw or b[raw:raw + 4] != b'RSDS':
        sys.exit('no RSDS record in ' + path)
    struct.pack_into('<I', b, raw + 20, int(sys.argv[4]))
snt, sopt = heads(src)
b[nt + 8:nt + 12] = src[snt + 8:snt + 12]
b[opt + 64:opt + 68] = src[sopt + 64:sopt + 68]
open(path, 'wb').write(b)
PY
}

# "TS SOI CS GUID AGE" of an image: the headers read with Python (llvm-readobj 14 does not
# print the optional header's CheckSum), the RSDS record by llvm-readobj.
ident() {
    python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read(); nt = struct.unpack_from("<I", b, 0x3c)[0]
print("0x%x 0x%x 0x%x" % (struct.unpack_from("<I", b, nt + 8)[0], struct.unpack_from("<I", b, nt + 24 + 56)[0],
      struct.unpack_from("<I", b, nt + 24 + 64)[0]), end=" ")' "$1"
    "$HP_LLVM/llvm-readobj" --coff-debug-directory "$1" | awk '
        /PDBGUID:/ { sub(/.*\(/, ""); sub(/\).*/, ""); gsub(/ /, ""); guid = $0 }
        /PDBAge:/ { age = $2 }
        END { print guid, age }'
}

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d/other" "$d/age"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    if ! { $gcc $SDK_FLAGS -Wl,--build-id=0x$BID_A -o "$d/target.exe" wine-tests/live/target.c &&
        $gcc $SDK_FLAGS -Wl,--build-id=0x$BID_B -o "$d/other/target.exe" wine-tests/live/target.c &&
        cp "$d/target.exe" "$d/age/target.exe" &&
        stamp "$d/target.exe" "$d/other/target.exe" &&
        stamp "$d/target.exe" "$d/age/target.exe" age 2 &&
        $gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw1.dll" wine-tests/live/patch.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw1.dll" -o "$d/patch.dll"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    # only the CodeView GUID (other) or age (age) differs from the patch's base
    read -r ts soi cs guid age <<<"$(ident "$d/target.exe")"
    read -r ts2 soi2 cs2 guid2 age2 <<<"$(ident "$d/other/target.exe")"
    read -r ts3 soi3 cs3 guid3 age3 <<<"$(ident "$d/age/target.exe")"
    check "$a: bases differ only in the GUID ($ts $soi $cs $guid $age / $ts2 $soi2 $cs2 $guid2 $age2)" \
        [ "$ts $soi $cs $age" = "$ts2 $soi2 $cs2 $age2" -a -n "$guid" -a "$guid" != "$guid2" ]
    check "$a: and only in the age ($ts3 $soi3 $cs3 $guid3 $age3)" \
        [ "$ts $soi $cs $guid" = "$ts3 $soi3 $cs3 $guid3" -a "$age" = 1 -a "$age3" = 2 ]
    id=$("$hotpe" info "$d/patch.dll" --json | python3 -c 'import json,sys
i = json.load(sys.stdin)["identity"]; print(i["codeview_guid"], i["codeview_age"])')
    check "$a: the patch records the base's GUID and age ($id)" [ "$id" = "${guid,,} $age" ]
    rel=${d#"$HP_ROOT"/}

    # the same build: accepted
    if start_target "$d"; then
        msg=$(hp $a check --pid "$TPID" "$rel/patch.dll" 2>&1)
        rc=$?
        check "$a: same build: check exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
        check "$a: same build: would apply ($msg)" grep -qx "pid $TPID (target.exe): target.exe: .*patch.dll would apply (2 sites)" <<<"$msg"
        check "$a: same build: target stops cleanly" stop_target "$d"
    else
        bad "$a: target did not start: $(cat "$d/err")"
    fi

    # another build-id: refused by check and apply, naming the GUID; nothing loaded
    if start_target "$d/other"; then
        want="hotpe: pid $TPID (target.exe): target.exe: identity: the running module is not the build the patch was made for (CodeView GUID)"
        msg=$(hp $a check --pid "$TPID" "$rel/patch.dll" 2>&1)
        rc=$?
        check "$a: other GUID: check exit 1 (rc $rc: $msg)" [ $rc -eq 1 ]
        check "$a: other GUID: check names the CodeView GUID ($msg)" [ "$msg" = "$want" ]
        msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" 2>&1)
        rc=$?
        check "$a: other GUID: apply exit 1 (rc $rc: $msg)" [ $rc -eq 1 ]
        check "$a: other GUID: apply names the CodeView GUID ($msg)" [ "$msg" = "$want" ]
        r=$(ask "$d/other" "m hotpe-shim.dll")
        check "$a: other GUID: shim not injected ($r)" [ "$r" = "m hotpe-shim.dll absent" ]
        r=$(ask "$d/other" q)
        check "$a: other GUID: results unchanged ($r)" [ "$r" = "q compute=10 label=1005" ]
        check "$a: other GUID: target stops cleanly" stop_target "$d/other"
    else
        bad "$a: other target did not start: $(cat "$d/other/err")"
    fi

    # another age: refused, naming the age
    if start_target "$d/age"; then
        msg=$(hp $a check --pid "$TPID" "$rel/patch.dll" 2>&1)
        rc=$?
        check "$a: other age: check exit 1 (rc $rc: $msg)" [ $rc -eq 1 ]
        check "$a: other age: check names the CodeView age ($msg)" \
            [ "$msg" = "hotpe: pid $TPID (target.exe): target.exe: identity: the running module is not the build the patch was made for (CodeView age)" ]
        check "$a: other age: target stops cleanly" stop_target "$d/age"
    else
        bad "$a: age target did not start: $(cat "$d/age/err")"
    fi
done

hp_summary $pass $fail
