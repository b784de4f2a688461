#!/usr/bin/env bash
# Differential test against LIEF 0.9 over every .dll and .exe of the Wine corpus (x64 and x86):
# headers, data directories, section table and imports must agree field by field (see
# tests/oracle/lief_diff.c). Then a self-test: a value of ours altered on purpose must be
# caught, so an empty or broken comparison cannot pass.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

tool="$HP_BUILD/native/oracle/lief_diff"
[ -x "$tool" ] || { echo "missing $tool: run make" >&2; exit 1; }

passed=0
failed=0
files=$(hp_corpus)
nfiles=$(grep -c . <<<"$files")
if [ "$nfiles" -lt 1000 ]; then
    echo "corpus: only $nfiles files under $HP_CORPUS_X64 and $HP_CORPUS_X86 (expected ~1300)"
    failed=$((failed + 1))
fi

start=$SECONDS
out=$("$tool" <<<"$files")
rc=$?
# Disagreements, the totals line and the tool's own "N passed, M failed" (files).
grep -v ' passed, .* failed$' <<<"$out"
last=$(tail -n 1 <<<"$out")
if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    [ "${BASH_REMATCH[1]}" -eq "$nfiles" ] || [ "$rc" -ne 0 ] ||
        { echo "lief_diff checked ${BASH_REMATCH[1]} of $nfiles files"; failed=$((failed + 1)); }
else
    echo "lief_diff: no summary line (exit $rc)"
    failed=$((failed + 1))
fi
[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=$((failed + 1))
echo "corpus: $nfiles files in $((SECONDS - start)) s"

# Self-test on one file of each architecture: each altered field must be reported.
for arch_dir in "$HP_CORPUS_X64" "$HP_CORPUS_X86"; do
    f="$arch_dir/kernel32.dll"
    for field in dos.e_lfanew file.TimeDateStamp opt.CheckSum 'dirs[1].Size' \
                 'sections[0].Characteristics' 'sections[1].Name' 'imports[0].Name' \
                 'imports[0](' 'imports[1](ntdll.dll)[0].iat_slot'; do
        got=$("$tool" --inject "$field" <<<"$f")
        if [ $? -ne 0 ] && grep -qF ": $field" <<<"$got" && grep -q '^0 passed, 1 failed$' <<<"$got"; then
            passed=$((passed + 1))
        else
            echo "self-test: altering $field in $f was not reported"
            failed=$((failed + 1))
        fi
    done
done

# Delay-load imports: the Wine corpus has none (GNU ld does not make them), so link two small
# DLLs with lld-link /delayload, x64 and x86, importing by name and by ordinal from two DLLs,
# and compare with llvm-readobj. The same DLLs also go through the LIEF comparison above.
work="$HP_BUILD/oracle/delay"
mkdir -p "$work"
cat >"$work/user.c" <<'C'
__declspec(dllimport) int OrdOnly(void);
__declspec(dllimport) int ByName(int);
__declspec(dllimport) int Second(void);
__declspec(dllimport) int Plain(void);
__declspec(dllexport) int entry(void) { return OrdOnly() + ByName(3) + Second() + Plain(); }
/* The real helper lives in the CRT; linking needs only its symbol. */
#ifdef _M_IX86
void *__stdcall __delayLoadHelper2(const void *desc, void **slot) { (void)desc; return *slot; }
#else
void *__delayLoadHelper2(const void *desc, void **slot) { (void)desc; return *slot; }
#endif
C
printf 'LIBRARY other.dll\nEXPORTS\nOrdOnly @7 NONAME\nByName @8\n' >"$work/other.def"
printf 'LIBRARY second.dll\nEXPORTS\nSecond\n' >"$work/second.def"
printf 'LIBRARY plain.dll\nEXPORTS\nPlain\n' >"$work/plain.def"

# llvm-readobj --coff-imports, delay-load part, in lief_diff --delay's form. mawk has no
# strtonum: hex() parses the RVAs.
readobj_delay() {
    "$HP_LLVM/llvm-readobj" --coff-imports "$1" | awk '
        function hex(s,   i, v) {
            s = tolower(s); sub(/^0x/, "", s); v = 0
            for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
            return v
        }
        /^AddressSize:/ { w = ($2 == "64bit") ? 8 : 4 }
        /^DelayImport \{/ { in_delay = 1; n = 0; next }
        /^Import \{/ { in_delay = 0 }
        in_delay && /^  Name:/ { name = $2 }
        in_delay && /^  ImportAddressTable:/ { iat = hex($2) }
        in_delay && /^  ImportNameTable:/ { printf "delay %s int 0x%x iat 0x%x\n", name, hex($2), iat }
        in_delay && /^    Symbol:/ {
            if ($2 ~ /^\(/) printf "import #%d slot 0x%x\n", substr($2, 2, length($2) - 2), iat + n * w
            else printf "import %s slot 0x%x\n", $2, iat + n * w
            n++
        }'
}

for arch in x86_64 i686; do
    machine=$([ $arch = x86_64 ] && echo i386:x86-64 || echo i386)
    dll="$work/user-$arch.dll"
    built=1
    # clang-cl reads a leading "/" as an option: the source path goes after "--".
    "$HP_LLVM/clang-cl" --target=$arch-pc-windows-msvc /c /O1 /GS- /Fo"$work/user-$arch.obj" \
        -- "$work/user.c" >"$work/build.log" 2>&1 || built=0
    for lib in other second plain; do
        "$HP_LLVM/llvm-dlltool" -m $machine -d "$work/$lib.def" -l "$work/$lib-$arch.lib" \
            >>"$work/build.log" 2>&1 || built=0
    done
    [ $built = 1 ] && "$HP_LLVM/lld-link" /dll /noentry /nodefaultlib /safeseh:no \
        "$work/user-$arch.obj" "$work/other-$arch.lib" "$work/second-$arch.lib" \
        "$work/plain-$arch.lib" /delayload:other.dll /delayload:second.dll \
        /out:"$dll" >>"$work/build.log" 2>&1 || built=0
    if [ $built = 0 ]; then
        echo "delay-load ($arch): cannot build the test DLL:"; cat "$work/build.log"
        failed=$((failed + 1))
        continue
    fi
    ours=$("$tool" --delay "$dll")
    theirs=$(readobj_delay "$dll")
    if [ "$ours" = "$theirs" ] && [ "$(grep -c '^import' <<<"$ours")" -eq 3 ]; then
        passed=$((passed + 1))
    else
        echo "delay-load ($arch): ours vs llvm-readobj:"
        diff <(echo "$ours") <(echo "$theirs")
        failed=$((failed + 1))
    fi
    if "$tool" <<<"$dll" >"$work/lief-$arch.txt"; then
        passed=$((passed + 1))
    else
        grep -v ' passed, .* failed$' "$work/lief-$arch.txt"
        failed=$((failed + 1))
    fi
done

hp_summary "$passed" "$failed"
