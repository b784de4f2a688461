#!/usr/bin/env bash
# The load config and CFG tables on real linker output: a small DLL (tests/oracle/cfg/) built
# with clang-cl /hotpatch /guard:cf and lld-link /guard:cf,longjmp,ehcont for x64 and x86, with
# our own _load_config_used. For each architecture:
#   - pe-dump must agree with llvm-readobj (load config fields, GuardFlags, the function, IAT,
#     longjmp and EH continuation tables with their metadata bytes, SEH table; also exports,
#     relocations, .pdata), in file and loaded layout (readobj_cmp.py);
#   - the tables must hold exactly what lld-link's map says: every address-taken or exported
#     function and not the one only called directly, the imported function's IAT slot, the
#     setjmp return label, the catch continuation label (cfg/check_cfg.py);
#   - a DLL whose Size stops after GuardFlags must show no later field or table;
#   - the directory size set to 64 (what MSVC writes for x86) must still parse on x86, using the
#     structure's Size, and must be refused on x64 with HP_E_LOADCFG_SIZE.
# Outputs go to build/oracle/cfg/.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

SRC="$HP_ROOT/tests/oracle/cfg"
OUT="$HP_BUILD/oracle/cfg"
PE_DUMP="$HP_BUILD/native/pe-dump"
[ -x "$PE_DUMP" ] || { echo "test_cfg: $PE_DUMP missing: run make" >&2; exit 1; }

passed=0 failed=0
count() { # LAST_LINE_OF_OUTPUT: add its "N passed, M failed"
    if [[ $1 =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        echo "unexpected result line: $1"
        failed=$((failed + 1))
    fi
}
run_counted() { # COMMAND...: run a checker, show its output, count its closing line
    local out
    out=$("$@" 2>&1) || true
    echo "$out" | sed 's/^/   /'
    count "$(echo "$out" | tail -n 1)"
}
one() { # DESCRIPTION OK(0/1)
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok   $1"
    else
        failed=$((failed + 1))
        echo "FAIL $1"
    fi
}

build() { # ARCH: objects, import library, full and short DLLs; 0 on success
    local arch=$1 target machine lcsrc short seh=() o="$OUT/$1"
    if [ "$arch" = x64 ]; then
        target=x86_64-pc-windows-msvc machine=i386:x86-64 lcsrc=loadcfg64.S short=0x94
    else
        target=i686-pc-windows-msvc machine=i386 lcsrc=loadcfg32.S short=0x5c seh=(/safeseh)
    fi
    local cl=("$HP_LLVM/clang-cl" "--target=$target" /nologo /O2 /GS- /hotpatch /guard:cf /c)
    rm -rf "$o" && mkdir -p "$o"
    # Inputs after "--": clang-cl would read an absolute path such as /work/... as /w.
    "${cl[@]}" "/Fo$o/cfgdll.obj" -- "$SRC/cfgdll.c" &&
        "${cl[@]}" /EHsc -Xclang -ehcontguard "/Fo$o/cfgeh.obj" -- "$SRC/cfgeh.cpp" &&
        "${cl[@]}" /EHsc "/Fo$o/cfgthrow.obj" -- "$SRC/cfgthrow.cpp" &&
        "$HP_LLVM/clang" "--target=$target" -c "$SRC/$lcsrc" -o "$o/loadcfg.obj" &&
        "$HP_LLVM/clang" "--target=$target" -c "$SRC/$lcsrc" -DLC_SIZE=$short \
            -o "$o/loadcfg-short.obj" &&
        "$HP_LLVM/llvm-dlltool" -m "$machine" -d "$SRC/cfgext.def" -l "$o/cfgext.lib" || return 1
    local link=("$HP_LLVM/lld-link" /nologo /dll /guard:cf,longjmp,ehcont "${seh[@]}" /noentry
                /nodefaultlib "$o/cfgdll.obj" "$o/cfgeh.obj" "$o/cfgthrow.obj" "$o/cfgext.lib")
    "${link[@]}" "$o/loadcfg.obj" "/map:$o/cfgdll.map" "/out:$o/cfgdll.dll" &&
        "${link[@]}" "$o/loadcfg-short.obj" "/out:$o/cfgdll-short.dll"
}

for arch in x64 x86; do
    o="$OUT/$arch"
    echo "-- $arch"
    if ! build "$arch"; then
        one "$arch: build the CFG test DLL" 1
        continue
    fi
    one "$arch: build the CFG test DLL" 0

    # Directory size 64 with the structure's Size left as is.
    python3 "$SRC/check_cfg.py" dirsize "$o/cfgdll.dll" "$o/cfgdll-dir64.dll" 64
    images=("$o/cfgdll.dll" "$o/cfgdll-short.dll")
    [ "$arch" = x86 ] && images+=("$o/cfgdll-dir64.dll")

    echo "   llvm-readobj comparison:"
    run_counted python3 "$HP_ROOT/tests/oracle/readobj_cmp.py" --loaded "$PE_DUMP" \
        "$HP_LLVM/llvm-readobj" "${images[@]}"
    echo "   tables against the linker map:"
    run_counted python3 "$SRC/check_cfg.py" full "$PE_DUMP" "$o/cfgdll.dll" "$o/cfgdll.map"
    echo "   Size through GuardFlags:"
    run_counted python3 "$SRC/check_cfg.py" short "$PE_DUMP" "$o/cfgdll-short.dll" "$o/cfgdll.dll"

    dir64=$("$PE_DUMP" --loadcfg "$o/cfgdll-dir64.dll" || true)
    if [ "$arch" = x86 ]; then
        # Everything but the directory size reads as in the original.
        same=1
        diff <("$PE_DUMP" --loadcfg "$o/cfgdll.dll" | sed 's/^loadcfg dir_size [^ ]*//') \
             <(echo "$dir64" | sed 's/^loadcfg dir_size [^ ]*//') >/dev/null && same=0
        one "$arch: directory size 64 (legacy x86) parses to the same load config" $same
    else
        grep -q '^error loadcfg HP_E_LOADCFG_SIZE' <<<"$dir64"
        one "$arch: directory size 64 below Size is refused (HP_E_LOADCFG_SIZE)" $?
    fi
done
hp_summary "$passed" "$failed"
