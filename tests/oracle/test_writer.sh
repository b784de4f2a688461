#!/usr/bin/env bash
# hp_pe_add_section on real images, checked by independent readers and by the Windows loader.
#  1. writer_check (tests/oracle/writer_check.c) adds a ".hotpe" section to 10 varied corpus
#     images per architecture, every corpus image under 40 KB, and two DLLs linked here with a
#     CodeView record (--build-id); it checks each output with pe/ and with LIEF.
#  2. llvm-readobj --file-headers --sections lists the new section at our RVA and size, with
#     the new SectionCount and SizeOfImage; objdump -p reads a CheckSum equal to ours.
#  3. Rewritten DLLs, copied under new names, load under Wine (x64 and x86) with
#     tests/win/loadlib.c, which finds the new section mapped with the bytes written; a
#     truncated copy must fail to load (the check can fail).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

CHECK="$HP_BUILD/native/oracle/writer_check"
READOBJ="$HP_LLVM/llvm-readobj"
WORK="$HP_BUILD/oracle/writer"
for f in "$CHECK" "$HP_BUILD/x64/tests/loadlib.exe" "$HP_BUILD/x86/tests/loadlib.exe"; do
    [ -e "$f" ] || { echo "test_writer: $f missing: run make" >&2; exit 1; }
done
rm -rf "$WORK"
mkdir -p "$WORK/out"
passed=0
failed=0
note() { if [ "$1" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }

# --- inputs ---------------------------------------------------------------------------------
printf '__declspec(dllexport) int f(int x) { return x + 1; }\n' >"$WORK/own.c"
x86_64-w64-mingw32-gcc -O1 -shared -Wl,--build-id "$WORK/own.c" -o "$WORK/own64.dll"
i686-w64-mingw32-gcc -O1 -shared -Wl,--build-id "$WORK/own.c" -o "$WORK/own32.dll"
{
    for name in kernelbase.dll ntdll.dll user32.dll msvcrt.dll version.dll ws2_32.dll \
                comctl32.dll psapi.dll notepad.exe cmd.exe; do
        echo "$HP_CORPUS_X64/$name"
        echo "$HP_CORPUS_X86/$name"
    done
    hp_corpus | xargs ls -l | awk '$5 < 40000 { print $NF }'
    echo "$WORK/own64.dll"
    echo "$WORK/own32.dll"
} | sort -u >"$WORK/inputs.txt"

# --- 1. pe/ and LIEF ------------------------------------------------------------------------
rc=0
"$CHECK" "$WORK/out" <"$WORK/inputs.txt" >"$WORK/check.txt" || rc=$?
grep -v '^written ' "$WORK/check.txt" || true
note "$rc"
grep '^written ' "$WORK/check.txt" >"$WORK/written.txt" || true
echo "writer_check: $(wc -l <"$WORK/inputs.txt") images, $(wc -l <"$WORK/written.txt") rewritten"

# --- 2. llvm-readobj and objdump ------------------------------------------------------------
rc=0
python3 - "$WORK/written.txt" "$READOBJ" <<'EOF' || rc=$?
import re, subprocess, sys
written, readobj = sys.argv[1:3]
bad = ok = 0
for line in open(written):
    _, path, checksum, rva, vsize = line.split()
    text = subprocess.run([readobj, "--file-headers", "--sections", path], capture_output=True,
                          text=True, errors="replace", check=True).stdout
    arch = "x86_64" if "x64-" in path.rsplit("/", 1)[1][:4] else "i686"
    dump = subprocess.run([f"{arch}-w64-mingw32-objdump", "-p", path], capture_output=True,
                          text=True, errors="replace", check=True).stdout
    problems = []
    count = int(re.search(r"SectionCount: (\d+)", text).group(1))
    sections = re.findall(r"Section \{\s+Number: (\d+)\s+Name: (\S+).*?VirtualSize: (0x[0-9A-F]+)"
                          r"\s+VirtualAddress: (0x[0-9A-F]+)", text, re.S)
    if len(sections) != count:
        problems.append(f"SectionCount {count} but {len(sections)} sections listed")
    last = sections[-1] if sections else None
    if not last or last[1] != ".hotpe" or int(last[0]) != count:
        problems.append(f"last section is {last}, not .hotpe")
    elif int(last[3], 16) != int(rva, 16) or int(last[2], 16) != int(vsize, 16):
        problems.append(f".hotpe at {last[3]} size {last[2]}, ours {rva} size {vsize}")
    image = int(re.search(r"SizeOfImage: (\d+)", text).group(1))
    if last and image < int(last[3], 16) + int(last[2], 16):
        problems.append(f"SizeOfImage {image:#x} does not cover .hotpe")
    m = re.search(r"^CheckSum\s+([0-9a-fA-F]+)", dump, re.M)
    if not m or int(m.group(1), 16) != int(checksum, 16):
        problems.append(f"objdump CheckSum {m.group(1) if m else None}, ours {checksum}")
    for p in problems:
        print(f"{path}: {p}")
    bad += bool(problems)
    ok += not problems
print(f"llvm-readobj/objdump: {ok} outputs agree, {bad} disagree")
sys.exit(1 if bad or not ok else 0)
EOF
note "$rc"

# --- 3. the Windows loader under Wine -------------------------------------------------------
pattern=078a0d901396199c1fa225a82bae31b4 # first 16 bytes writer_check puts in .hotpe
load() { # ARCH DLL-IN-OUT SHOULD-LOAD
    local arch=$1 src=$2 want=$3 copy out
    copy="$WORK/hpw_${arch}_$([ "$want" = yes ] || echo bad_)$(basename "$src" | sed 's/^x[0-9]*-//')"
    cp "$src" "$copy"
    [ "$want" = yes ] || truncate -s 2000 "$copy"
    # Into a file, not a pipe: a wineserver started by this call would hold a pipe open
    # for its 3-second linger.
    hp_wine "$HP_BUILD/$arch/tests/loadlib.exe" "Z:$copy" .hotpe >"$WORK/load.txt" 2>&1 || true
    out=$(tr -d '\r' <"$WORK/load.txt")
    if [ "$want" = yes ]; then
        if grep -q "^OK .*$(basename "$copy")" <<<"$out" && grep -q " $pattern\$" <<<"$out"; then
            echo "$arch: $(basename "$copy") loads, .hotpe mapped"
            return 0
        fi
    elif grep -q '^FAIL .*LoadLibrary error' <<<"$out"; then
        echo "$arch: truncated $(basename "$copy") refused, as it must be"
        return 0
    fi
    echo "$arch: $(basename "$copy"): unexpected loader result: $out"
    return 1
}
hp_wine_arches_note
for arch in $HP_WINE_ARCHES; do
    for dll in version.dll psapi.dll own"${arch#x}".dll; do
        [ "$dll" = own86.dll ] && dll=own32.dll
        rc=0
        load "$arch" "$WORK/out/$arch-$dll" yes || rc=1
        note "$rc"
    done
    rc=0
    load "$arch" "$WORK/out/$arch-version.dll" no || rc=1
    note "$rc"
done

hp_summary "$passed" "$failed"
