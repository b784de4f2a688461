#!/usr/bin/env bash
# The SDK and the patch image format (issue 4): builds tests/sdk/base.c (HOTPE_PATCHABLE
# functions, a global) and tests/sdk/patch.c (every SDK macro) for x86 and x64 with MinGW GCC
# and with clang, then:
#  - hotpe scan classes the patchable functions `prologue` (GCC: ms_hook_prologue; clang: the
#    66 90 marker of patchable_function_entry(10, 8));
#  - hotpe build writes the patch; hotpe info --json shows exactly the expected target,
#    sequence, description, identity (checked against the base file), hooks, validations,
#    fixups (at the slots' symbol RVAs, read with nm), references and callbacks;
#  - tests/sdk/check_hotp.py, an independent reader, compares every validation with the base
#    file's bytes and checks fixup slots, the load config, IMAGE_HOT_PATCH_INFO and the
#    checksum (and must catch a byte changed on purpose); it computes each replaced function's
#    hash from the base file in Python (its own .reloc and .pdata parsing, hashlib), which must
#    equal the build record's and what info --json prints, and must notice one byte of
#    compute_price's body changed in a copy of the base;
#  - LIEF (lief_diff) and llvm-readobj parse the output; it loads under Wine on both arches;
#  - a base with a CodeView RSDS record (ld --build-id): the build record holds its GUID and
#    age (info --json and text), as llvm-readobj and check_hotp.py read them from the base;
#  - every refusal exits 1 with its message.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

hotpe=$HP_BUILD/native/hotpe
out=$HP_BUILD/sdk
src=tests/sdk
[ -x "$hotpe" ] || make -s "$hotpe" || exit 1
for a in x64 x86; do [ -x "$HP_BUILD/$a/tests/loadlib.exe" ] || make -s "$HP_BUILD/$a/tests/loadlib.exe" || exit 1; done
[ -x "$HP_BUILD/native/oracle/lief_diff" ] || make -s "$HP_BUILD/native/oracle/lief_diff" || exit 1
rm -rf "$out" && mkdir -p "$out"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
SDK_FLAGS="-std=c11 -Wall -Wextra -Werror -O2 -Isdk/include"

build() { # name command...
    local name=$1
    shift
    if "$@" >"$out/$name.log" 2>&1; then ok; else bad "build $name: $(head -3 "$out/$name.log")"; return 1; fi
}

# ---- build base and patch with each compiler ----------------------------------------------
variants=()
for a in x86 x64; do
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc tgt=x86_64-w64-mingw32; else gcc=i686-w64-mingw32-gcc tgt=i686-w64-mingw32; fi
    build base_gcc_$a $gcc $SDK_FLAGS -o "$out/base_gcc_$a.exe" $src/base.c &&
        build patch_gcc_$a $gcc $SDK_FLAGS -shared -o "$out/patch_gcc_$a.dll" $src/patch.c &&
        variants+=(gcc_$a)
    build base_clang_o_$a "$HP_LLVM/clang" --target=$tgt $SDK_FLAGS -c $src/base.c -o "$out/base_clang_$a.o" &&
        build base_clang_$a $gcc -o "$out/base_clang_$a.exe" "$out/base_clang_$a.o" &&
        build patch_clang_o_$a "$HP_LLVM/clang" --target=$tgt $SDK_FLAGS -c $src/patch.c -o "$out/patch_clang_$a.o" &&
        build patch_clang_$a $gcc -shared -o "$out/patch_clang_$a.dll" "$out/patch_clang_$a.o" &&
        variants+=(clang_$a)
done

# ---- per variant: scan, build, info, independent check, LIEF, llvm-readobj, Wine ---------
for v in "${variants[@]}"; do
    a=${v#*_}
    cc=${v%_*}
    base=$out/base_$v.exe patch=$out/patch_$v.dll res=$out/out_$v.dll
    if [ $a = x64 ]; then nm=x86_64-w64-mingw32-nm us=""; else nm=i686-w64-mingw32-nm us=_; fi
    want_class=prologue
    scan=$("$hotpe" scan "$base" --json) || bad "$v: scan"
    echo "$scan" >"$out/scan_$v.json"
    for f in compute_price apply_discount log_line; do
        cls=$(python3 -c 'import json,sys; d=json.load(sys.stdin); n=sys.argv[1]
print([x["class"] for x in d["functions"] if (x["name"] or "").lstrip("_")==n][0])' $f <<<"$scan")
        [ "$cls" = $want_class ] && ok || bad "$v: scan $f class '$cls', want $want_class"
    done

    if ! "$hotpe" build --base "$base" --target-name base.exe "$patch" -o "$res" 2>"$out/build_$v.err"; then
        bad "$v: hotpe build: $(cat "$out/build_$v.err")"
        continue
    fi
    ok
    # slot RVAs in the patch and replacement RVAs, read with nm (independent of pe/)
    pbase=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(); o=struct.unpack_from("<I",b,0x3c)[0]+24
print(struct.unpack_from("<Q",b,o+24)[0] if struct.unpack_from("<H",b,o)[0]==0x20b else struct.unpack_from("<I",b,o+28)[0])' "$patch")
    syms=$($nm "$patch" | python3 -c 'import sys
base, us = int(sys.argv[1]), sys.argv[2]
for l in sys.stdin:
    f = l.split()
    if len(f) == 3:
        n = f[2][1:] if us and f[2].startswith("_") else f[2]
        print("%s=%d" % (n, int(f[0], 16) - base))' "$pbase" "$us")
    "$hotpe" info "$res" --json >"$out/info_$v.json" 2>"$out/info_$v.err" && ok || bad "$v: hotpe info: $(cat "$out/info_$v.err")"
    echo "$syms" >"$out/syms_$v.txt"
    if msg=$(python3 - "$out/info_$v.json" "$base" "$a" "$cc" "$out/syms_$v.txt" <<'PY'
import json, struct, sys
info = json.load(open(sys.argv[1])); base = open(sys.argv[2], 'rb').read(); arch = sys.argv[3]; cc = sys.argv[4]
syms = dict(l.split('=') for l in open(sys.argv[5]).read().split() if '=' in l)
syms = {k: int(v) for k, v in syms.items()}
nt = struct.unpack_from('<I', base, 0x3c)[0]; opt = nt + 24
ts = struct.unpack_from('<I', base, nt + 8)[0]
soi, cs = struct.unpack_from('<I', base, opt + 56)[0], struct.unpack_from('<I', base, opt + 64)[0]
errs = []
def eq(what, got, want):
    if got != want: errs.append('%s: got %r, want %r' % (what, got, want))
eq('machine', info['machine'], arch)
eq('target', info['target'], 'base.exe')
eq('sequence', info['sequence'], 2)
eq('description', info['description'], 'fix rounding in compute_price')
eq('identity', {k: info['identity'][k] for k in ('timestamp', 'size_of_image', 'checksum')},
   {'timestamp': ts, 'size_of_image': soi, 'checksum': cs})
eq('modern', (info['modern']['sequence'], info['modern']['bases'][0]['timestamp'], info['modern']['bases'][0]['checksum']), (2, ts, cs))
eq('disagreements', info['disagreements'], [])
pad = 5 if arch == 'x86' else 6
kinds = ('X86_JMP' if arch == 'x86' else 'AMD64_IND', 'X86_JMP2B')
hooks = sorted((h['base_symbol'], h['kind'], h['size'], h.get('replacement'), h.get('disp8')) for h in info['hooks'])
want = []
for fn, rep in (('compute_price', 'compute_price_v2'), ('apply_discount', 'apply_discount_v2')):
    want += [(fn, kinds[0], pad, rep, None), (fn, 'X86_JMP2B', 2, None, -(pad + 2))]
eq('hooks', hooks, sorted(want))
for h in info['hooks']:
    if 'replacement_rva' in h:
        eq('replacement rva of ' + h['replacement'], h['replacement_rva'], syms.get(h['replacement']))
fill = 'cc' if cc == 'gcc' else '90'
marker = ('8bff' if arch == 'x86' else '488d') if cc == 'gcc' else '6690'
for v in info['validations']:
    if not v['hook_target']: errs.append('validation not hook-target')
    if len(v['bytes']) == 2 * pad:
        eq('padding validation', v['bytes'], fill * pad)
    else:
        eq('entry validation', v['bytes'], marker)
eq('validation count', len(info['validations']), 4)
ftype = 'VA32' if arch == 'x86' else 'VA64'
eq('fixups', sorted((f['rva'], f['type']) for f in info['fixups']),
   sorted((syms[n], ftype) for n in ('g_requests', 'log_line', 'hotpe_original_compute_price')))
refs = sorted((r['kind'], r['name'], r['source']) for r in info['references'])
eq('references', refs, sorted([('replace', 'compute_price', 'export'), ('replace', 'apply_discount', 'symbol'),
   ('original', 'compute_price', 'export'), ('base-func', 'log_line', 'symbol'), ('base-data', 'g_requests', 'symbol')]))
for r in info['references']:
    if r['kind'] == 'original':
        eq('original stub', r['stub'], False)  # prologue sites: past the marker
eq('callbacks', sorted((c['kind'], c['name'], c['rva']) for c in info['callbacks']),
   sorted([('on-apply', 'migrate_state', syms['migrate_state']), ('on-revert', 'unmigrate_state', syms['unmigrate_state'])]))
print('; '.join(errs))
sys.exit(1 if errs else 0)
PY
    ); then ok; else bad "$v: info --json: $msg"; fi

    python3 $src/check_hotp.py "$res" "$base" --scan "$out/scan_$v.json" >"$out/check_$v.txt" && ok ||
        bad "$v: check_hotp: $(cat "$out/check_$v.txt")"
    # the function hashes computed in Python are the ones info --json prints
    if msg=$(python3 - "$out/info_$v.json" "$out/check_$v.txt" <<'PY'
import json, sys
got = sorted((h['rva'], h['length'], h['sha256'], h['name']) for h in json.load(open(sys.argv[1]))['function_hashes'])
names = {r['base_rva']: r['name'] for r in json.load(open(sys.argv[1]))['references'] if r['kind'] == 'replace'}
want = sorted((int(f[1], 16), int(f[2]), f[3], names.get(int(f[1], 16)))
              for f in (l.split() for l in open(sys.argv[2])) if f and f[0] == 'hash')
ok = got == want and len(got) == 2 and sorted(g[3] for g in got) == ['apply_discount', 'compute_price']
print('' if ok else 'info %r, python %r' % (got, want))
sys.exit(0 if ok else 1)
PY
    ); then ok; else bad "$v: function hashes: $msg"; fi
    # one byte of compute_price's body changed in a copy of the base (not a hooked byte, not a
    # relocated field): the identity and the validations still match, the hash does not
    python3 - "$base" "$res" "$out/flipped_$v.exe" <<'PY'
import sys
sys.path.insert(0, 'tests/sdk')
import check_hotp as c
base, patch = c.PE(sys.argv[1]), c.PE(sys.argv[2])
h = [s for s in patch.secs if s[0] == b'.hotp1  '][0][2]
nhook, hookrva = patch.u('<II', h + 0x18)
masked = c.reloc_fields(base) + [(patch.u('<HHI', hookrva + 16 * i)[2], patch.u('<HHI', hookrva + 16 * i)[1] & 0x1f)
                                 for i in range(nhook)]
b = bytearray(base.b)
rva = min(c.recorded_hashes(patch))  # compute_price: the first instruction's bytes after the hook
at = next(a for a in range(rva + 4, rva + 64) if not any(f <= a < f + w for f, w in masked))
b[base.off(at)] ^= 0x01
open(sys.argv[3], 'wb').write(b)
PY
    chk=$(python3 $src/check_hotp.py "$res" "$out/flipped_$v.exe" --scan "$out/scan_$v.json")
    [ $? -eq 1 ] && grep -q "^function hash at RVA" <<<"$chk" && ! grep -q "^hook" <<<"$chk" && ok ||
        bad "$v: check_hotp missed a changed byte of compute_price: $chk"
    # the independent check must catch one validation byte changed on purpose
    python3 - "$res" "$out/corrupt_$v.dll" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read()); nt = struct.unpack_from('<I', b, 0x3c)[0]
n, osz = struct.unpack_from('<H', b, nt + 6)[0], struct.unpack_from('<H', b, nt + 20)[0]
st = nt + 24 + osz
for i in range(n):
    if b[st + 40 * i: st + 40 * i + 8] == b'.hotp1  ':
        va, roff = struct.unpack_from('<I', b, st + 40 * i + 12)[0], struct.unpack_from('<I', b, st + 40 * i + 20)[0]
        valrva = struct.unpack_from('<I', b, roff + 0x14)[0]
        src = struct.unpack_from('<I', b, roff + valrva - va)[0]
        b[roff + src - va] ^= 0xff
open(sys.argv[2], 'wb').write(b)
PY
    python3 $src/check_hotp.py "$out/corrupt_$v.dll" "$base" >/dev/null && bad "$v: check_hotp missed a changed byte" || ok

    echo "$res" | "$HP_BUILD/native/oracle/lief_diff" >"$out/lief_$v.txt" 2>&1 && ok || bad "$v: LIEF: $(head -3 "$out/lief_$v.txt")"
    ro=$("$HP_LLVM/llvm-readobj" --coff-load-config --sections "$res" 2>&1) &&
        grep -q 'Name: .hotp1' <<<"$ro" && grep -q 'LoadConfig \[' <<<"$ro" && ok ||
        bad "$v: llvm-readobj: $(head -3 <<<"$ro")"
    if [ $a = x64 ] || hp_wine_x86; then
        cp "$res" "$out/load_$v.dll"
        r=$(hp_wine "$HP_BUILD/$a/tests/loadlib.exe" "$(winepath -w "$out/load_$v.dll" 2>/dev/null)" 2>/dev/null | tr -d '\r')
        [[ $r == OK* ]] && ok || bad "$v: LoadLibrary under Wine: $r"
    fi
done

hp_wine_arches_note

# ---- refusals (GCC builds) ---------------------------------------------------------------
refuse() { # name expected-message-regex hotpe-args...
    local name=$1 re=$2
    shift 2
    local err rc
    err=$("$hotpe" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -eq 1 ] && [[ $err =~ $re ]] && [ "$(wc -l <<<"$err")" -eq 1 ]; then ok; else bad "$name: exit $rc, '$err' !~ $re"; fi
}
for a in x86 x64; do
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    base=$out/base_gcc_$a.exe
    [ -f "$base" ] || continue
    for bad_case in UNRESOLVED PLAIN DUP NOREPLACE; do
        build bad_${bad_case}_$a $gcc $SDK_FLAGS -DBAD_$bad_case -shared -o "$out/bad_${bad_case}_$a.dll" $src/patch.c
    done
    refuse "unresolved $a" "^hotpe: .*base_gcc_$a.exe!no_such_function: build: name not found in the base" \
        build --base "$base" "$out/bad_UNRESOLVED_$a.dll" -o "$out/x.dll"
    cls=$("$hotpe" scan "$base" --json | python3 -c 'import json,sys
print([f["class"] for f in json.load(sys.stdin)["functions"] if (f["name"] or "").lstrip("_")=="plain_fn"][0])')
    refuse "unpatchable $a" "^hotpe: .*!plain_fn: site: function is not hotpatchable \(see its class\) \(class $cls at RVA 0x[0-9a-f]+; no trampoline: [a-z-]+ at RVA 0x[0-9a-f]+\)$" \
        build --base "$base" "$out/bad_PLAIN_$a.dll" -o "$out/x.dll"
    refuse "duplicate $a" "!compute_price: build: the same base function is replaced twice" \
        build --base "$base" "$out/bad_DUP_$a.dll" -o "$out/x.dll"
    refuse "no replacement $a" "bad_NOREPLACE_$a.dll: build: the patch replaces no function" \
        build --base "$base" "$out/bad_NOREPLACE_$a.dll" -o "$out/x.dll"
    other=x64; [ $a = x64 ] && other=x86
    refuse "machine $a" "patch_gcc_$a.dll: build: the patch and the base are for different machines" \
        build --base "$out/base_gcc_$other.exe" "$out/patch_gcc_$a.dll" -o "$out/x.dll"
    refuse "already $a" "out_gcc_$a.dll: build: the image already has a .hotp1 section" \
        build --base "$base" "$out/out_gcc_$a.dll" -o "$out/x.dll"
    refuse "not a patch $a" "patch_gcc_$a.dll: not a patch: no .hotp1 section" info "$out/patch_gcc_$a.dll"
    # damaged .hotp1: the signature, then the hook array pointer
    for what in sig hooks; do
        python3 - "$out/out_gcc_$a.dll" "$out/damaged_${what}_$a.dll" $what <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read()); nt = struct.unpack_from('<I', b, 0x3c)[0]
n, osz = struct.unpack_from('<H', b, nt + 6)[0], struct.unpack_from('<H', b, nt + 20)[0]
st = nt + 24 + osz
for i in range(n):
    if b[st + 40 * i: st + 40 * i + 8] == b'.hotp1  ':
        roff = struct.unpack_from('<I', b, st + 40 * i + 20)[0]
        if sys.argv[3] == 'sig':
            b[roff] = ord('X')
        else:
            struct.pack_into('<I', b, roff + 0x1c, 0x7ffffff0)
open(sys.argv[2], 'wb').write(b)
PY
    done
    refuse "damaged signature $a" "damaged_sig_$a.dll: hotpatch: HOTPATCH_HEADER signature or version wrong" \
        info "$out/damaged_sig_$a.dll"
    refuse "damaged hook array $a" "damaged_hooks_$a.dll: hotpatch: hook, validation or fixup array outside the image" \
        info "$out/damaged_hooks_$a.dll" --json
done
# ---- a stripped base: names through the GNU ld map file (--map) -------------------------
for a in x86 x64; do
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    [ -f "$out/patch_gcc_$a.dll" ] || continue
    build stripped_$a $gcc $SDK_FLAGS -s "-Wl,-Map,$out/stripped_$a.map" -o "$out/stripped_$a.exe" $src/base.c || continue
    refuse "stripped without map $a" "stripped_$a.exe!apply_discount: build: name not found in the base" \
        build --base "$out/stripped_$a.exe" "$out/patch_gcc_$a.dll" -o "$out/x.dll"
    if "$hotpe" build --base "$out/stripped_$a.exe" --target-name base.exe "$out/patch_gcc_$a.dll" -o "$out/map_$a.dll" \
        --map "$out/stripped_$a.map" 2>"$out/map_$a.err"; then
        srcs=$("$hotpe" info "$out/map_$a.dll" --json | python3 -c 'import json,sys
print(" ".join(sorted("%s:%s" % (r["name"], r["source"]) for r in json.load(sys.stdin)["references"])))')
        want="apply_discount:map compute_price:export compute_price:export g_requests:map log_line:map"
        [ "$srcs" = "$want" ] && ok || bad "map $a: sources '$srcs', want '$want'"
        python3 $src/check_hotp.py "$out/map_$a.dll" "$out/stripped_$a.exe" >/dev/null && ok || bad "map $a: check_hotp"
    else
        bad "map $a: $(cat "$out/map_$a.err")"
    fi
done

# ---- CodeView identity: a base with an RSDS record (GNU ld --build-id) -------------------
bid=0123456789abcdef0123456789abcdef
for a in x86 x64; do
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    [ -f "$out/patch_gcc_$a.dll" ] || continue
    build rsds_$a $gcc $SDK_FLAGS -Wl,--build-id=0x$bid -o "$out/rsds_$a.exe" $src/base.c || continue
    # the base's own record, read by llvm-readobj: GUID bytes in file order, age
    ro=$("$HP_LLVM/llvm-readobj" --coff-debug-directory "$out/rsds_$a.exe")
    guid=$(sed -n 's/.*PDBGUID: (\(.*\))/\1/p' <<<"$ro" | tr -d ' ' | tr A-F a-f)
    age=$(sed -n 's/.*PDBAge: //p' <<<"$ro")
    # --build-id=0x0123...: GUID Data1..3 little-endian, then the last 8 bytes as given
    [ "$guid" = 67452301ab89efcd${bid:16} ] && [ "$age" = 1 ] && ok || bad "rsds $a: llvm-readobj GUID '$guid' age '$age'"
    if ! "$hotpe" build --base "$out/rsds_$a.exe" --target-name base.exe "$out/patch_gcc_$a.dll" -o "$out/rsds_out_$a.dll" 2>"$out/rsds_$a.err"; then
        bad "rsds $a: hotpe build: $(cat "$out/rsds_$a.err")"
        continue
    fi
    id=$("$hotpe" info "$out/rsds_out_$a.dll" --json | python3 -c 'import json,sys
i = json.load(sys.stdin)["identity"]; print(i["codeview_guid"], i["codeview_age"])')
    [ "$id" = "$guid $age" ] && ok || bad "rsds $a: info --json identity '$id', want '$guid $age'"
    "$hotpe" info "$out/rsds_out_$a.dll" | grep -q "CodeView $guid age $age" && ok || bad "rsds $a: info text"
    chk=$(python3 $src/check_hotp.py "$out/rsds_out_$a.dll" "$out/rsds_$a.exe") &&
        grep -qx "codeview GUID $guid age $age" <<<"$chk" && ok || bad "rsds $a: check_hotp: $chk"
    # the independent reader must notice one GUID byte of the build record changed
    python3 - "$out/rsds_out_$a.dll" "$out/rsds_bad_$a.dll" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read()); nt = struct.unpack_from('<I', b, 0x3c)[0]
n, osz = struct.unpack_from('<H', b, nt + 6)[0], struct.unpack_from('<H', b, nt + 20)[0]
st = nt + 24 + osz
for i in range(n):
    if b[st + 40 * i: st + 40 * i + 8] == b'.hotp1  ':
        b[struct.unpack_from('<I', b, st + 40 * i + 20)[0] + 0x50 + 0x20 + 5] ^= 0x01
open(sys.argv[2], 'wb').write(b)
PY
    chk=$(python3 $src/check_hotp.py "$out/rsds_bad_$a.dll" "$out/rsds_$a.exe")
    [ $? -eq 1 ] && grep -q "build record CodeView" <<<"$chk" && ok || bad "rsds $a: check_hotp missed a GUID byte: $chk"
done

"$hotpe" build --base 2>/dev/null; [ $? -eq 2 ] && ok || bad "build usage: exit code"
"$hotpe" info >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "info usage: exit code"

hp_summary $pass $fail
