#!/usr/bin/env bash
# COFF symbols and the debug directory (CodeView RSDS) against llvm-readobj.
#  1. Every corpus image: pe/ parses its symbol table and debug directory without error.
#  2. A fixed list of corpus images per architecture plus small DLLs built here (MinGW GCC with
#     --build-id, clang-cl + lld-link /debug, x86 and x64): the number of primary symbols, every
#     function symbol (RVA and name, in table order), every debug entry and the RSDS GUID, age
#     and path must equal what llvm-readobj --sections --symbols --coff-debug-directory prints.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

PE_META="$HP_BUILD/native/pe-meta"
READOBJ="$HP_LLVM/llvm-readobj"
WORK="$HP_BUILD/oracle/symbols"
[ -x "$PE_META" ] || { echo "test_symbols: $PE_META missing: run make" >&2; exit 1; }
mkdir -p "$WORK"
passed=0
failed=0

# --- 1. the whole corpus parses -------------------------------------------------------------
hp_corpus | xargs "$PE_META" --symbols --debug >"$WORK/corpus.txt" || true
errors=$(grep -c '^error' "$WORK/corpus.txt" || true)
files=$(grep -c '^file' "$WORK/corpus.txt")
with_syms=$(awk '/^symbols/ && $2 > 0 {n++} END {print n + 0}' "$WORK/corpus.txt")
funcs=$(grep -c '^func' "$WORK/corpus.txt" || true)
with_debug=$(awk '/^file/ {f = 0} /^debug/ && !f {n++; f = 1} END {print n + 0}' "$WORK/corpus.txt")
echo "corpus: $files images, $with_syms with a COFF symbol table ($funcs function symbols)," \
     "$with_debug with a debug directory, $errors parse errors"
if [ "$errors" -eq 0 ] && [ "$files" -gt 1000 ] && [ "$with_syms" -gt 0 ]; then
    passed=$((passed + 1))
else
    grep '^error' -B1 "$WORK/corpus.txt" | grep -v '^--' | head -20
    failed=$((failed + 1))
fi

# --- 2. small DLLs with CodeView records, built here ----------------------------------------
cat >"$WORK/t.c" <<'EOF'
__declspec(dllexport) int f(int x) { return x + 1; }
static int a_static_function_with_a_name_longer_than_eight(int x) { return x * 3; }
__declspec(dllexport) int h(int x) { return a_static_function_with_a_name_longer_than_eight(x) + 2; }
EOF
built=()
x86_64-w64-mingw32-gcc -O1 -shared -Wl,--build-id "$WORK/t.c" -o "$WORK/gcc64.dll" && built+=("$WORK/gcc64.dll")
i686-w64-mingw32-gcc -O1 -shared -Wl,--build-id "$WORK/t.c" -o "$WORK/gcc32.dll" && built+=("$WORK/gcc32.dll")
for t in x86_64:x64 i686:x86; do
    triple=${t%%:*} machine=${t##*:}
    # "--": clang-cl would read an absolute path (/work/...) as an option.
    "$HP_LLVM/clang-cl" --target="$triple-pc-windows-msvc" /c /Z7 /O1 \
        /Fo"$WORK/cl-$machine.obj" -- "$WORK/t.c" >/dev/null &&
    "$HP_LLVM/lld-link" /machine:"$machine" /dll /noentry /nodefaultlib /debug \
        /pdb:"$WORK/cl-$machine.pdb" /out:"$WORK/cl-$machine.dll" "$WORK/cl-$machine.obj" &&
    built+=("$WORK/cl-$machine.dll")
done
if [ "${#built[@]}" -ne 4 ]; then
    echo "could not build the CodeView test DLLs (${#built[@]} of 4)"
    failed=$((failed + 1))
fi

# --- 3. against llvm-readobj ----------------------------------------------------------------
images=("${built[@]}")
for name in kernelbase.dll ntdll.dll msvcrt.dll version.dll ws2_32.dll notepad.exe; do
    images+=("$HP_CORPUS_X64/$name" "$HP_CORPUS_X86/$name")
done

compare() { # IMAGE: prints disagreements, exits non-zero on any
    python3 - "$1" "$PE_META" "$READOBJ" <<'EOF'
import re, subprocess, sys
path, pe_meta, readobj = sys.argv[1:4]

ours = {"count": None, "funcs": [], "debug": [], "rsds": None}
# Names are bytes: latin-1 keeps every one (readobj prints raw aux file records too).
for line in subprocess.run([pe_meta, "--symbols", "--debug", path], capture_output=True,
                           encoding="latin-1").stdout.splitlines():
    kind, _, rest = line.partition(" ")
    if kind == "symbols":
        ours["count"] = int(rest)
    elif kind == "func":
        rva, _, name = rest.partition(" ")
        ours["funcs"].append((int(rva, 16), name))
    elif kind == "debug":
        ours["debug"].append(tuple(int(v, 16) for v in rest.split()))
    elif kind == "rsds":
        guid, age, pdb = rest.split(" ", 2)
        ours["rsds"] = (guid, int(age, 16), "" if pdb == "-" else pdb)
    elif kind == "error":
        print(f"{path}: pe/ failed: {rest}")
        sys.exit(1)

text = subprocess.run([readobj, "--sections", "--symbols", "--coff-debug-directory", path],
                      capture_output=True, encoding="latin-1", check=True).stdout
theirs = {"count": 0, "funcs": [], "debug": [], "rsds": None}
section_va = {}
block, fields = None, {}

def close(block, f):
    if block == "Section":
        section_va[int(f["Number"])] = int(f["VirtualAddress"], 16)
    elif block == "Symbol":
        theirs["count"] += 1
        num = int(re.search(r"\((-?\d+)\)\s*$", f["Section"]).group(1))
        if "(0x2)" in f["ComplexType"] and num >= 1:
            theirs["funcs"].append((section_va[num] + int(f["Value"]), f["Name"]))
    elif block == "DebugEntry":
        theirs["debug"].append((int(re.search(r"\((0x[0-9A-Fa-f]+)\)", f["Type"]).group(1), 16),
                                int(f["SizeOfData"], 16), int(f["AddressOfRawData"], 16),
                                int(f["PointerToRawData"], 16)))
        if "PDBGUID" in f and theirs["rsds"] is None:
            guid = "".join(f["PDBGUID"].strip("()").split()).lower()
            theirs["rsds"] = (guid, int(f["PDBAge"]), f.get("PDBFileName", ""))

for line in text.splitlines():
    m = re.match(r"^  (Section|Symbol|DebugEntry) \{$", line)
    if m:
        block, fields = m.group(1), {}
        continue
    if line == "  }" and block:
        close(block, fields)
        block = None
        continue
    m = re.match(r"^\s+(\w+): ?(.*)$", line)
    if block and m and m.group(1) not in fields:
        fields[m.group(1)] = m.group(2)

bad = 0
for key in ("count", "debug", "rsds"):
    if ours[key] != theirs[key]:
        print(f"{path}: {key}: ours {ours[key]} vs llvm-readobj {theirs[key]}")
        bad += 1
if ours["funcs"] != theirs["funcs"]:
    a, b = ours["funcs"], theirs["funcs"]
    first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    print(f"{path}: function symbols: ours {len(a)} vs llvm-readobj {len(b)}, first difference "
          f"at {first}: {a[first:first + 1]} vs {b[first:first + 1]}")
    bad += 1
print(f"{path}: {ours['count']} symbols, {len(ours['funcs'])} functions, "
      f"{len(ours['debug'])} debug entries, RSDS {ours['rsds'] is not None}"
      + ("" if bad else ": ok"))
sys.exit(1 if bad else 0)
EOF
}

for img in "${images[@]}"; do
    if compare "$img"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

# The built DLLs must really carry what is compared above: RSDS records, paths for lld's.
rsds=$(for d in "${built[@]}"; do "$PE_META" --debug "$d"; done | grep -c '^rsds' || true)
paths=$(for d in "${built[@]}"; do "$PE_META" --debug "$d"; done | grep -c '^rsds .*\.pdb$' || true)
if [ "$rsds" -eq 4 ] && [ "$paths" -eq 2 ]; then
    passed=$((passed + 1))
else
    echo "expected 4 RSDS records (2 with a .pdb path), found $rsds ($paths)"
    failed=$((failed + 1))
fi

hp_summary "$passed" "$failed"
