#!/usr/bin/env bash
# hp_pe_setdll_add (hotpe's import section, .hotpei) on real images, checked by independent
# readers. No Wine here: whether Windows' loader brings hotpe-shim.dll in is the install
# verb's end-to-end test.
#  1. setdll_check (tests/oracle/setdll_check.c) rewrites MinGW images of this tree (the
#     samples, hotpe.exe, hotpe-shim.dll; x64 and x86), two DLLs linked here with a CodeView
#     record, the same signed with osslsigncode, and Wine DLLs and EXEs; it checks each output
#     with pe/ (imports, directories, the marker and the identity in file and loaded layout,
#     unchanged sections, checksum) and with LIEF (imports, directories, CheckSum).
#  2. llvm-readobj --coff-imports lists each output's imports as the input's, in order, plus
#     hotpe-shim.dll importing hotpe_registry last; objdump -p reads our CheckSum, which a
#     checksum computed here (Python) equals, and empty Security and Bound Import directories;
#     osslsigncode finds no signature left in a signed image's rewrite.
#  3. The identity survives the rewrite: the sample patch stamped against quote-server.exe
#     passes hp_patch_check against the rewritten one (its marker damaged or its recorded
#     CheckSum changed, it fails), and `hotpe build --base` on the rewritten one writes the
#     very same patch bytes.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

CHECK="$HP_BUILD/native/oracle/setdll_check"
HOTPE="$HP_BUILD/native/hotpe"
READOBJ="$HP_LLVM/llvm-readobj"
WORK="$HP_BUILD/oracle/setdll"
OWN=()
for a in x64 x86; do
    for f in quote-server.exe quote-client.exe clock.exe fix.dll quote-server-fix.dll hotpe.exe \
             hotpe-shim.dll; do
        OWN+=("$HP_BUILD/$a/$f")
    done
done
hp_need "$CHECK" "$HOTPE" "${OWN[@]}" || exit 1
rm -rf "$WORK"
mkdir -p "$WORK/out" "$WORK/keys"
passed=0
failed=0
note() { if [ "$1" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }

# --- inputs ---------------------------------------------------------------------------------
printf '__declspec(dllexport) int f(int x) { return x + 1; }\n' >"$WORK/own.c"
x86_64-w64-mingw32-gcc -O1 -shared -Wl,--build-id "$WORK/own.c" -o "$WORK/own64.dll"
i686-w64-mingw32-gcc -O1 -shared -Wl,--build-id "$WORK/own.c" -o "$WORK/own32.dll"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/keys/k.key" -out "$WORK/keys/k.pem" \
    -days 30 -subj '/CN=hotpe setdll test' -addext extendedKeyUsage=codeSigning 2>/dev/null
for f in own64.dll own32.dll; do
    osslsigncode sign -certs "$WORK/keys/k.pem" -key "$WORK/keys/k.key" -in "$WORK/$f" \
        -out "$WORK/signed-$f" >/dev/null
done
{
    printf '%s\n' "${OWN[@]}"
    for name in version.dll psapi.dll ws2_32.dll user32.dll kernelbase.dll msvcrt.dll \
                notepad.exe cmd.exe; do
        echo "$HP_CORPUS_X64/$name"
        echo "$HP_CORPUS_X86/$name"
    done
    ls "$WORK"/own*.dll "$WORK"/signed-*.dll
} >"$WORK/inputs.txt"

# --- 1. pe/ and LIEF ------------------------------------------------------------------------
rc=0
"$CHECK" "$WORK/out" <"$WORK/inputs.txt" >"$WORK/check.txt" || rc=$?
grep -v '^written ' "$WORK/check.txt" | grep -v '^refused: 0$' || true
grep -q '^refused ' "$WORK/check.txt" && rc=1 # every one of these images takes the rewrite
note "$rc"
grep '^written ' "$WORK/check.txt" >"$WORK/written.txt" || true
echo "setdll_check: $(wc -l <"$WORK/inputs.txt") images, $(wc -l <"$WORK/written.txt") rewritten"

# --- 2. llvm-readobj, objdump, a checksum of our own, osslsigncode --------------------------
rc=0
python3 - "$WORK/written.txt" "$READOBJ" <<'EOF' || rc=$?
import re, struct, subprocess, sys
written, readobj = sys.argv[1:3]

def imports(path):
    """llvm-readobj's Import / DelayImport blocks, as (kind, lines) in order."""
    text = subprocess.run([readobj, "--coff-imports", path], capture_output=True, text=True,
                          errors="replace", check=True).stdout
    return [(m.group(1), [l.strip() for l in m.group(2).splitlines()])
            for m in re.finditer(r"^(Import|DelayImport) \{\n(.*?)^\}", text, re.S | re.M)]

def checksum(path):
    """The PE checksum, written here from the format's description."""
    data = bytearray(open(path, "rb").read())
    size = len(data)
    field = struct.unpack_from("<I", data, 0x3c)[0] + 4 + 20 + 0x40  # OptionalHeader.CheckSum
    data[field:field + 4] = b"\0\0\0\0"
    if size % 2:
        data.append(0)
    s = sum(struct.unpack("<%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s + size

bad = ok = 0
for line in open(written):
    _, out, src, ours = line.split()
    problems = []
    a, b = imports(src), imports(out)
    plain = [i for i, (kind, _) in enumerate(b) if kind == "Import"]
    if not plain:
        problems.append("no imports listed")
    else:
        last = plain[-1]
        shim = b[last][1]
        if not (any(l == "Name: hotpe-shim.dll" for l in shim) and
                [l for l in shim if l.startswith("Symbol:")] == ["Symbol: hotpe_registry (0)"]):
            problems.append(f"last import is {shim}")
        if b[:last] + b[last + 1:] != a:
            problems.append(f"the other imports differ: {len(a)} blocks before, {len(b) - 1} after")
    dump = subprocess.run(["x86_64-w64-mingw32-objdump", "-p", out], capture_output=True,
                          text=True, errors="replace", check=True).stdout
    m = re.search(r"^CheckSum\s+([0-9a-fA-F]+)", dump, re.M)
    mine = checksum(out)
    if not m or int(m.group(1), 16) != int(ours, 16) or mine != int(ours, 16):
        problems.append(f"CheckSum: objdump {m.group(1) if m else None}, Python {mine:08x}, "
                        f"ours {ours}")
    for d in ("Security Directory", "Bound Import Directory"):
        e = re.search(r"^Entry [0-9a-f] ([0-9a-f]+) ([0-9a-f]+) " + d, dump, re.M)
        if not e or int(e.group(1), 16) or int(e.group(2), 16):
            problems.append(f"{d} not empty: {e.group(0) if e else None}")
    for p in problems:
        print(f"{out}: {p}")
    bad += bool(problems)
    ok += not problems
print(f"llvm-readobj/objdump/Python: {ok} outputs agree, {bad} disagree")
sys.exit(1 if bad or not ok else 0)
EOF
note "$rc"

for f in own64.dll own32.dll; do
    rc=0
    arch=$([ "$f" = own64.dll ] && echo x64 || echo x86)
    # (osslsigncode does not write over an existing -out file)
    osslsigncode extract-signature -in "$WORK/signed-$f" -out "$WORK/sig-in-$arch.der" \
        >/dev/null 2>&1 || { echo "signed-$f: osslsigncode finds no signature in the input"; rc=1; }
    if osslsigncode extract-signature -in "$WORK/out/$arch-signed-$f" \
        -out "$WORK/sig-out-$arch.der" >/dev/null 2>&1; then
        echo "$arch-signed-$f: a signature is still referenced after the rewrite"
        rc=1
    else
        echo "$arch-signed-$f: signed before, no signature after, as documented"
    fi
    note "$rc"
done

# --- 3. the identity survives ---------------------------------------------------------------
for arch in x64 x86; do
    rc=0
    "$CHECK" --identity "$HP_BUILD/$arch/quote-server-fix.dll" "$HP_BUILD/$arch/quote-server.exe" \
        "$WORK/out/$arch-quote-server.exe" | sed "s/^/$arch: /" || rc=1
    note "$rc"
    # hotpe build takes the module name from the base file's name
    rc=0
    mkdir -p "$WORK/$arch"
    cp "$WORK/out/$arch-quote-server.exe" "$WORK/$arch/quote-server.exe"
    "$HOTPE" build --base "$WORK/$arch/quote-server.exe" "$HP_BUILD/$arch/fix.dll" \
        -o "$WORK/$arch/quote-server-fix.dll" >/dev/null
    if cmp -s "$WORK/$arch/quote-server-fix.dll" "$HP_BUILD/$arch/quote-server-fix.dll"; then
        echo "$arch: hotpe build on the rewritten base writes the patch built on the original"
    else
        echo "$arch: hotpe build on the rewritten base writes another patch:"
        diff <("$HOTPE" info "$HP_BUILD/$arch/quote-server-fix.dll") \
            <("$HOTPE" info "$WORK/$arch/quote-server-fix.dll") || true
        rc=1
    fi
    note "$rc"
done

hp_summary "$passed" "$failed"
