#!/usr/bin/env bash
# Only trusted patches run (docs/trust.md), x64 (and x86 where this machine runs it), against a
# running wine-tests/live/target.c. The matrix: each kind of patch file, applied with no
# trusted signer configured and then with signer A trusted (`hotpe trust add`):
#   unsigned                      none: applied, one warning line   A: refused, unsigned
#   signed by A                   none: applied, no warning         A: applied
#   signed by B                   none: applied                     A: refused, signer not trusted
#   signed by A, then one byte    none: refused, tampered           A: refused, tampered
#     of its code changed
#   signed by A, an expired       none: refused, expired            A: refused, expired
#     certificate (no timestamp)
#   signed by A, swapped for      none: refused by the shim, the    A: the same
#     another file between          file changed, nothing loaded
#     hotpe's check and the load
#     (hotpe-testhooks.exe)
#   signed by A, on a base with   none: refused, a replaced         A: the same
#     one byte of compute's body    function's bytes are not the
#     changed (its identity and     base's (the function hashes)
#     validated bytes the same)
# Every refusal is one line naming the patch and the reason, exit 1, the target's results
# unchanged and the patch DLL not loaded. Who may patch: once the target gives itself an
# empty DACL, apply, list and revert are refused "access denied" (hotpe has no rights of its
# own: it can neither write a request block nor reach the shim's channel or registry). Also: `trust add/list/remove` by certificate file,
# signed file and thumbprint, the trust store shared by both builds, and `check` refusing as
# apply does. The table of outcomes is printed. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=trust
source wine-tests/lib-live.sh

keys=$out/keys
mkdir -p "$keys"
# signer A, signer B, and an expired one (openssl ca: a validity period in the past)
mkcert() { # name subject
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$keys/$1.key" -out "$keys/$1.pem" -days 30 \
        -subj "/CN=$2" -addext "extendedKeyUsage=codeSigning" 2>/dev/null
}
if ! { mkcert a "hotpe test signer A" && mkcert b "hotpe test signer B" &&
    mkdir -p "$keys/ca/new" && : >"$keys/ca/index.txt" && echo 01 >"$keys/ca/serial" &&
    printf '%s\n' '[ca]' 'default_ca=d' '[d]' "dir=$keys/ca" "database=$keys/ca/index.txt" \
        "new_certs_dir=$keys/ca/new" "serial=$keys/ca/serial" 'default_md=sha256' 'policy=p' \
        'x509_extensions=e' '[p]' 'commonName=supplied' '[e]' 'extendedKeyUsage=codeSigning' \
        >"$keys/ca.cnf" &&
    openssl req -new -newkey rsa:2048 -nodes -keyout "$keys/x.key" -out "$keys/x.csr" \
        -subj "/CN=hotpe test signer A, expired" 2>/dev/null &&
    openssl ca -batch -config "$keys/ca.cnf" -selfsign -keyfile "$keys/x.key" -in "$keys/x.csr" \
        -out "$keys/x.pem" -startdate 20200101000000Z -enddate 20210101000000Z >/dev/null 2>&1; }; then
    bad "making the test certificates"
fi
thumb() { openssl x509 -in "$keys/$1.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f; }
TA=$(thumb a)

# the trusted signers live in the prefix's registry: leave them as found
untrust() { for a in $HP_WINE_ARCHES; do hp $a trust remove "$TA" >/dev/null 2>&1; break; done; }
trap 'untrust; hp_wine_unsigned_allow; cleanup' EXIT

sign() { # key in out
    osslsigncode sign -certs "$keys/$1.pem" -key "$keys/$1.key" -in "$2" -out "$3" >/dev/null
}

declare -A table=()
for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    rm -f "$d"/*.dll
    if ! { $gcc $SDK_FLAGS -o "$d/target.exe" wine-tests/live/target.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw.dll" wine-tests/live/patch.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw.dll" -o "$d/unsigned.dll" &&
        sign a "$d/unsigned.dll" "$d/by-a.dll" && sign b "$d/unsigned.dll" "$d/by-b.dll" &&
        sign x "$d/unsigned.dll" "$d/expired.dll" &&
        cp "$d/by-a.dll" "$d/tampered.dll" &&
        python3 - "$d/tampered.dll" <<'EOF'
import struct, sys
# one byte of the first section's raw data (code the signature covers) changed
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
lfanew = struct.unpack_from('<I', b, 0x3c)[0]
nsec, optsize = struct.unpack_from('<H', b, lfanew + 6)[0], struct.unpack_from('<H', b, lfanew + 20)[0]
sec = lfanew + 24 + optsize
raw = struct.unpack_from('<I', b, sec + 20)[0]
b[raw + 16] ^= 0xff
open(p, 'wb').write(b)
EOF
    }; then
        bad "$a: building and signing the patches"
        continue
    fi
    rel=${d#"$HP_ROOT"/}
    if ! start_target "$d"; then
        bad "$a: target did not start: $(cat "$d/err")"
        continue
    fi
    q0=$(ask "$d" q)
    who="pid $TPID \\(target\\.exe\\)"
    n=0

    # cell KIND CONFIG EXPECT [ERROR-REGEX]: apply a fresh copy of $d/KIND.dll; EXPECT applied
    # (WARN: with the unsigned warning) or refused with the line matching ERROR-REGEX
    cell() {
        local kind=$1 config=$2 want=$3 re=${4:-} exe=hotpe.exe
        n=$((n + 1))
        local name=c$n-$kind.dll
        local env=()
        if [ $kind != swapped ]; then
            cp "$d/$kind.dll" "$d/$name"
        else
            cp "$d/by-a.dll" "$d/$name"
            cp "$d/by-b.dll" "$d/swap-$n.dll"
            env=(HOTPE_TEST_SWAP="$rel/swap-$n.dll")
            exe=hotpe-testhooks.exe
        fi
        local msg rc
        msg=$(env "${env[@]}" timeout 90 wine "$HP_BUILD/$a/$exe" apply --pid "$TPID" "$rel/$name" 2>&1 | tr -d '\r')
        rc=${PIPESTATUS[0]}
        local got q m
        q=$(ask "$d" q)
        m=$(ask "$d" "m $name")
        if grep -qE "^$who: target.exe: applied $rel/$name as patch" <<<"$msg"; then
            got=applied
            grep -q "warning: not signed" <<<"$msg" && got="applied, warning"
        else
            got="refused: $(sed -n 's/.*: \(signature\|patch\): \(.*\)$/\2/p' <<<"$msg" | head -1)"
        fi
        table["$kind|$config"]=$got
        case $want in
        applied | warn)
            check "$a: $kind, $config: applied (rc $rc: $msg)" [ $rc -eq 0 ]
            check "$a: $kind, $config: the target runs the patch ($q)" [ "$q" != "$q0" ]
            if [ $want = warn ]; then
                check "$a: $kind, $config: one warning line ($msg)" \
                    grep -qx "hotpe: $rel/$name: warning: not signed; accepted because no trusted signer is configured (hotpe trust add)" <<<"$msg"
            else
                check "$a: $kind, $config: no warning ($msg)" [ "$(grep -c warning <<<"$msg")" = 0 ]
            fi
            hp $a revert --pid "$TPID" --all >/dev/null 2>&1
            ;;
        refused)
            check "$a: $kind, $config: refused, exit 1 (rc $rc)" [ $rc -eq 1 ]
            check "$a: $kind, $config: one line, the reason ($msg)" \
                [ "$(wc -l <<<"$msg")" = 1 -a -n "$(grep -E "$re" <<<"$msg")" ]
            check "$a: $kind, $config: target unchanged ($q)" [ "$q" = "$q0" ]
            check "$a: $kind, $config: nothing loaded ($m)" [ "$m" = "m $name absent" ]
            ;;
        esac
    }

    # ---- no trusted signer configured, the default policy for unsigned patches ----
    untrust
    l=$(hp $a trust list 2>&1 | tr -d '\r')
    check "$a: trust list, allowed quietly as the tests set it ($l)" grep -qx "no trusted signers: unsigned patches are accepted (without a warning: trust unsigned allow)" <<<"$l"
    msg=$(hp $a trust unsigned warn 2>&1 | tr -d '\r')
    check "$a: trust unsigned warn ($msg)" grep -qx "unsigned patches, while no signer is trusted: accepted with a warning" <<<"$msg"
    l=$(hp $a trust list 2>&1 | tr -d '\r')
    check "$a: trust list, none ($l)" grep -qx "no trusted signers: unsigned patches are accepted (with a warning)" <<<"$l"
    cell unsigned none warn
    cell by-a none applied
    cell by-b none applied
    cell tampered none refused "^hotpe: $rel/c[0-9]+-tampered.dll: signature: the file's bytes changed after it was signed \(WinVerifyTrust 0x80096010"
    cell expired none refused "^hotpe: $rel/c[0-9]+-expired.dll: signature: the signing certificate has expired or is not valid yet \(signer hotpe test signer A, expired, not valid after 2021-01-01, and the signature has no timestamp\)$"
    cell swapped none refused "^hotpe: $who: target.exe: patch: the file changed after hotpe checked it; nothing loaded$"

    # ---- signer A trusted ----
    msg=$(hp $a trust add "$keys/a.pem" 2>&1 | tr -d '\r')
    check "$a: trust add a.pem ($msg)" grep -qx "trusted signer $TA  hotpe test signer A" <<<"$msg"
    l=$(hp $a trust list --json 2>/dev/null | tr -d '\r')
    echo "$l" >"$d/trust-list.json"
    msg=$(python3 tests/lib/json_doc.py docs/json.md trust "$d/trust-list.json" 2>&1)
    check "$a: trust list --json matches docs/json.md ($msg)" [ -z "$msg" ]
    check "$a: trust list --json ($l)" python3 -c 'import json, sys
d = json.loads(sys.argv[1]); sys.exit(not (d["schema"] == 1 and d["unsigned"] == "warn" and d["signers"] == [{"thumbprint": sys.argv[2], "subject": "hotpe test signer A"}]))' "$l" "$TA"
    cell unsigned A refused "^hotpe: $rel/c[0-9]+-unsigned.dll: signature: the patch is not signed, and signed patches are required"
    cell by-a A applied
    cell by-b A refused "^hotpe: $rel/c[0-9]+-by-b.dll: signature: signed by a signer that is not trusted \(hotpe trust list\) \(signer hotpe test signer B, thumbprint $(thumb b)\)$"
    cell tampered A refused "signature: the file's bytes changed after it was signed"
    cell expired A refused "signature: the signing certificate has expired or is not valid yet"
    cell swapped A refused "patch: the file changed after hotpe checked it; nothing loaded$"
    msg=$(hp $a check --pid "$TPID" "$rel/by-b.dll" 2>&1 | tr -d '\r')
    check "$a: check refuses as apply does ($msg)" grep -q "signature: signed by a signer that is not trusted" <<<"$msg"

    # ---- the trust verb itself ----
    msg=$(hp $a trust remove "$TA" 2>&1 | tr -d '\r')
    check "$a: trust remove by thumbprint ($msg)" grep -qx "removed signer $TA" <<<"$msg"
    msg=$(hp $a trust add "$rel/by-a.dll" 2>&1 | tr -d '\r')
    check "$a: trust add by a signed file: its signer ($msg)" grep -qx "trusted signer $TA  hotpe test signer A" <<<"$msg"
    msg=$(hp $a trust remove "$TA" 2>&1; hp $a trust remove "$TA" 2>&1)
    check "$a: removing it twice: the second is refused ($msg)" grep -qx "hotpe: $TA: trust: no such trusted signer" <<<"$(tr -d '\r' <<<"$msg")"
    msg=$(hp $a trust add "$rel/unsigned.dll" 2>&1 | tr -d '\r')
    check "$a: trust add of an unsigned file is refused ($msg)" grep -qx "hotpe: $rel/unsigned.dll: trust: not a certificate, a signed file or a 40-digit SHA-1 thumbprint" <<<"$msg"
    # ---- who may patch: a process that does not let this user write into it ----
    msg=$(hp $a apply --pid "$TPID" "$rel/by-a.dll" 2>&1 | tr -d '\r')
    hp $a revert --pid "$TPID" --all >/dev/null 2>&1
    check "$a: before the DACL, hotpe may patch it ($msg)" grep -q "applied" <<<"$msg"
    r=$(ask "$d" d)
    check "$a: the target denies every other process ($r)" [ "$r" = "d denied 0" ]
    for verb in "apply --pid $TPID $rel/by-a.dll" "list --pid $TPID" "revert --pid $TPID --all"; do
        # shellcheck disable=SC2086
        msg=$(hp $a $verb 2>&1 | tr -d '\r')
        check "$a: ${verb%% *}: refused, access denied (no name: it may not even be queried) ($msg)" \
            grep -qx "hotpe: pid $TPID: process: access denied: it does not let this user write into it (hotpe patches only what its user could write into anyway: run it as the process's user, or as an administrator)" <<<"$msg"
    done
    check "$a: refused: the target unchanged ($(ask "$d" q))" [ "$(ask "$d" q)" = "$q0" ]
    echo x >&3
    exec 3>&-
    wait "$KID" 2>/dev/null

    # ---- the wrong base: the signed patch on a copy whose compute differs past its entry ----
    mkdir -p "$d/flip"
    cp "$d/target.exe" "$d/flip/target.exe"
    if ! flip_compute "$d/flip/target.exe" "$d/by-a.dll" $a >"$d/flip.log" 2>&1 || ! start_target "$d/flip"; then
        bad "$a: the changed base: $(head -3 "$d/flip.log") $(cat "$d/flip/err" 2>/dev/null)"
    else
        qf=$(ask "$d/flip" q)
        for config in none A; do
            if [ $config = none ]; then untrust; else hp $a trust add "$keys/a.pem" >/dev/null 2>&1; fi
            msg=$(hp $a apply --pid "$TPID" "$rel/by-a.dll" 2>&1 | tr -d '\r')
            rc=$?
            table["wrong-base|$config"]="refused: $(sed -n 's/.*: validation: \(.*\) (.*/\1/p' <<<"$msg")"
            check "$a: wrong base, $config: one line naming target.exe!compute ($msg)" \
                grep -qxE "hotpe: pid $TPID \(target\.exe\): target\.exe!compute: validation: a replaced function's bytes are not the base's the patch was built for \(.*\)" <<<"$msg"
            check "$a: wrong base, $config: target unchanged" [ "$(ask "$d/flip" q)" = "$qf" ]
            check "$a: wrong base, $config: nothing loaded" [ "$(ask "$d/flip" "m hotpe-shim.dll")" = "m hotpe-shim.dll absent" ]
        done
        untrust
        echo x >&3
        exec 3>&-
        wait "$KID" 2>/dev/null
    fi

    echo "$a: outcome by patch (rows) and trusted signers (columns):"
    for kind in unsigned by-a by-b tampered expired swapped wrong-base; do
        printf '  %-9s none: %s\n  %-9s A:    %s\n' "$kind" "${table[$kind|none]:-?}" "" "${table[$kind|A]:-?}"
    done
done

# both builds share the store (the 64-bit registry view)
if [[ " $HP_WINE_ARCHES " == *" x86 "* && " $HP_WINE_ARCHES " == *" x64 "* ]]; then
    hp x64 trust add "$keys/a.pem" >/dev/null 2>&1
    l=$(hp x86 trust list 2>&1 | tr -d '\r')
    check "the x86 hotpe sees the signer the x64 one added ($l)" grep -q "^$TA " <<<"$l"
    untrust
fi

hp_summary $pass $fail
