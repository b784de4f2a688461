#!/usr/bin/env bash
# pe/ against llvm-readobj on the Wine corpus: exports, base relocations, the x64 exception
# directory and the load config (every field readobj prints, and the SEH and CFG tables), for
# a fixed, varied list of images per architecture plus every corpus image that has a load
# config directory. pe-dump parses each image in file layout and mapped to its loaded layout.
# The comparison itself is tests/oracle/readobj_cmp.py.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

PE_DUMP="$HP_BUILD/native/pe-dump"
READOBJ="$HP_LLVM/llvm-readobj"
[ -x "$PE_DUMP" ] || { echo "test_readobj: $PE_DUMP missing: run make" >&2; exit 1; }

# Big DLLs with thousands of exports, forwarders (kernel32), relocations and .pdata; small
# stubs; EXEs; jscript.dll (empty RUNTIME_FUNCTIONs); msvcp140.dll (C++ names).
IMAGES="kernelbase.dll ntdll.dll user32.dll msvcrt.dll kernel32.dll gdi32.dll advapi32.dll
ws2_32.dll ucrtbase.dll comctl32.dll rpcrt4.dll shlwapi.dll winmm.dll version.dll psapi.dll
icmp.dll lz32.dll sfc.dll normaliz.dll wmi.dll jscript.dll msvcp140.dll notepad.exe cmd.exe
reg.exe winver.exe"

# Every corpus image whose load config directory is set (none in Wine 8's builds: GNU ld does
# not fill it), found by reading the data directory here rather than with pe/ itself.
with_loadcfg() {
    python3 - "$@" <<'EOF'
import struct, sys
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        head = f.read(4096)
    try:
        nt = struct.unpack_from("<I", head, 0x3c)[0]
        magic = struct.unpack_from("<H", head, nt + 24)[0]
        dirs = nt + 24 + (112 if magic == 0x20b else 96)
        count = struct.unpack_from("<I", head, dirs - 4)[0]
        if count > 10 and struct.unpack_from("<II", head, dirs + 8 * 10)[0]:
            print(path)
    except struct.error:
        pass
EOF
}

passed=0 failed=0
for arch in x64 x86; do
    dir=$HP_CORPUS_X64
    [ "$arch" = x86 ] && dir=$HP_CORPUS_X86
    list=()
    for name in $IMAGES; do
        if [ -f "$dir/$name" ]; then
            list+=("$dir/$name")
        else
            echo "$arch: $name missing from the corpus"
            failed=$((failed + 1))
        fi
    done
    mapfile -t lc < <(with_loadcfg "$dir"/*.dll "$dir"/*.exe)
    echo "-- $arch: ${#list[@]} listed images, ${#lc[@]} with a load config"
    out=$(python3 "$(dirname "$0")/readobj_cmp.py" --loaded "$PE_DUMP" "$READOBJ" \
          "${list[@]}" "${lc[@]}") || true
    echo "$out" | sed '$d'
    last=$(echo "$out" | tail -n 1)
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        echo "   $arch: $last"
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        echo "$arch: readobj_cmp.py did not finish: $last"
        failed=$((failed + 1))
    fi
done
hp_summary "$passed" "$failed"
