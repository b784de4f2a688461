#!/usr/bin/env bash
# hp_pe_checksum against the linker: for every corpus image whose CheckSum field is set, and
# for DLLs and EXEs GNU ld links here (x86, x64), our checksum must equal the stored value.
#
# Wine's builtin images are marked by winebuild after the linker stored CheckSum ("Wine
# builtin DLL" over the DOS stub, and DllCharacteristics bit 0x10 for DLLs that prefer a
# native version), so for those the comparison is with the checksum of the file with the marks
# undone, which pe-meta prints as UNMARKED (see tests/tools/pe-meta.c). Images with CheckSum 0
# are counted only.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

PE_META="$HP_BUILD/native/pe-meta"
WORK="$HP_BUILD/oracle/checksum"
[ -x "$PE_META" ] || { echo "test_checksum: $PE_META missing: run make" >&2; exit 1; }
mkdir -p "$WORK"

# Unmarked images straight from the linker, odd sizes included (the .c differ in length).
printf 'int __declspec(dllexport) f(int x) { return x * 7; }\n' >"$WORK/d.c"
printf 'int main(void) { return 0; } /* an odd comment */\n' >"$WORK/e.c"
x86_64-w64-mingw32-gcc -O1 -shared "$WORK/d.c" -o "$WORK/d64.dll"
i686-w64-mingw32-gcc -O1 -shared "$WORK/d.c" -o "$WORK/d32.dll"
x86_64-w64-mingw32-gcc -O1 -Wl,--no-insert-timestamp "$WORK/e.c" -o "$WORK/e64.exe"
i686-w64-mingw32-gcc -O1 -s "$WORK/e.c" -o "$WORK/e32.exe"

{ hp_corpus; ls "$WORK"/*.dll "$WORK"/*.exe; } | xargs "$PE_META" --checksum >"$WORK/all.txt" || true
awk -v work="$WORK" '
    /^file /     { file = $2 }
    /^error /    { print file ": " $0; errors++ }
    /^checksum / {
        images++
        if ($2 == "0") { unset++; next }
        marked = NF >= 4
        want = marked ? $4 : $3
        if ($2 == want) {
            passed++
            if (marked) wine++
            if (index(file, work) == 1) fresh++
        } else {
            print file ": CheckSum " $2 ", computed " want (marked ? " (Wine marks undone)" : "")
            failed++
        }
    }
    END {
        printf "%d images: %d with a CheckSum (checked; %d Wine builtins with their marks undone, " \
               "%d linked here), %d with CheckSum 0, %d parse errors\n",
               images, passed + failed, wine, fresh, unset, errors
        if (passed < 1000 || fresh < 4) {
            print "too few images with a CheckSum: is the corpus installed, did the links work?"
            failed++
        }
        printf "%d passed, %d failed\n", passed, failed + errors
        exit (failed + errors) ? 1 : 0
    }' "$WORK/all.txt"
