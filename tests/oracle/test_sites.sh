#!/usr/bin/env bash
# Site analysis against real producers: builds tests/sites/*.c with each compiler's hotpatch
# option (GCC ms_hook_prologue, clang -fms-hotpatch, clang-cl /hotpatch + lld-link /guard:cf,
# -fpatchable-function-entry, plain -O2) for x86 and x64, then checks the class, padding and
# first instruction `hotpe scan --json` reports for named functions. Also the command line's
# bad-input and usage behaviour. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

hotpe=$HP_BUILD/native/hotpe
out=$HP_BUILD/sites
src=tests/sites
[ -x "$hotpe" ] || make -s "$hotpe" || exit 1
mkdir -p "$out"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# ---- build the samples -------------------------------------------------------------------
build() { # name command...
    local name=$1
    shift
    if ! "$@" >"$out/$name.log" 2>&1; then
        bad "build $name: $(head -3 "$out/$name.log")"
        return 1
    fi
}
for a in x86 x64; do
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc gnu=x86_64-w64-windows-gnu msvc=x86_64-pc-windows-msvc
    else gcc=i686-w64-mingw32-gcc gnu=i686-w64-windows-gnu msvc=i686-pc-windows-msvc; fi
    build hook_gcc_$a $gcc -O2 -shared -o "$out/hook_gcc_$a.dll" $src/hook_gcc.c
    build clang_o_$a "$HP_LLVM/clang" --target=$gnu -O2 -fms-hotpatch -fno-omit-frame-pointer \
        -c $src/hotpatch_clang.c -o "$out/hotpatch_clang_$a.o" &&
        build hotpatch_clang_$a $gcc -shared -o "$out/hotpatch_clang_$a.dll" "$out/hotpatch_clang_$a.o"
    build pfe_$a $gcc -O2 -fpatchable-function-entry=7,5 -shared -o "$out/pfe_$a.dll" $src/patchable_entry.c
    build pfe10_$a $gcc -O3 -fpatchable-function-entry=10,8 -shared -o "$out/pfe10_$a.dll" $src/patchable_entry.c
    build pfe1_$a $gcc -O2 -fpatchable-function-entry=6,5 -shared -o "$out/pfe1_$a.dll" $src/patchable_entry.c
    build plain_$a $gcc -O2 -shared -o "$out/plain_$a.dll" $src/plain_o2.c
    # clang-cl reads /work/... as an option: the source goes after --.
    build msvc_o_$a "$HP_LLVM/clang-cl" --target=$msvc /O2 /hotpatch /guard:cf /GS- /c \
        "/Fo$out/msvc_$a.obj" -- $src/msvc_hotpatch.c &&
        build msvc_$a "$HP_LLVM/lld-link" /dll /noentry /nodefaultlib /guard:cf /functionpadmin \
            /machine:$a "/out:$out/msvc_$a.dll" "$out/msvc_$a.obj"
done

# ---- expectations ------------------------------------------------------------------------
# file  function  class  padding  first_insn_len  first_insn  sources
#   class: a class name, !NAME (anything else), or marker / long: prologue / padded when
#          padding >= 5, no-padding otherwise (GNU ld adds no padding: alignment decides);
#   padding: N, >=N or *;  first_insn: hex bytes or *;  sources: comma list that must be
#   included, or *.  A function "-" names the entries without a name.
expect=$(cat <<'TABLE'
hook_gcc_x86        hook_add      prologue     >=16  2  8bff              export
hook_gcc_x86        hook_mul      prologue     >=16  2  8bff              export
hook_gcc_x86        plain_sum     short-first  *     1  55                export
hook_gcc_x64        hook_add      prologue     >=32  8  488da42400000000  export,pdata
hook_gcc_x64        hook_mul      prologue     >=32  8  488da42400000000  export,pdata
hook_gcc_x64        plain_sum     !prologue    *     *  *                 export,pdata
hotpatch_clang_x86  hp_pushes     marker       *     2  6690              export
hotpatch_clang_x86  hp_leaf       marker       *     2  6690              export
hotpatch_clang_x64  hp_pushes     long         *     2  fff5              export,pdata
hotpatch_clang_x64  hp_leaf       long         *     2  fff5              export,pdata
pfe_x86             pfe_add       nop-pair     >=5   2  9090              export
pfe_x86             pfe_sub       nop-pair     >=5   2  9090              export
pfe_x64             pfe_add       nop-pair     >=5   2  9090              export,pdata
pfe_x64             pfe_sub       nop-pair     >=5   2  9090              export,pdata
pfe10_x86           pfe_add       nop-pair     >=8   2  9090              export
pfe10_x64           pfe_sub       nop-pair     >=8   2  9090              export,pdata
pfe1_x86            pfe_add       !nop-pair    >=5   *  *                 export
pfe1_x64            pfe_sub       !nop-pair    >=5   *  *                 export,pdata
plain_x86           plain_add     !prologue    *     *  *                 export
plain_x86           plain_calls   short-first  *     1  55                export
plain_x64           plain_add     !prologue    *     *  *                 export,pdata
plain_x64           plain_calls   short-first  *     1  55                export,pdata
msvc_x86            msvc_inc      no-padding   0     4  8b442404          export,cfg
msvc_x86            msvc_twice    padded       >=5   4  8b442404          export,cfg
msvc_x86            msvc_pick     padded       >=5   *  *                 export,cfg
msvc_x86            -             *            *     *  *                 cfg
msvc_x64            msvc_inc      no-padding   0     *  *                 export,cfg
msvc_x64            msvc_twice    padded       >=5   *  *                 export,cfg
msvc_x64            msvc_pick     padded       >=5   *  *                 export,cfg
msvc_x64            -             *            *     *  *                 cfg
TABLE
)

for f in $(awk '{print $1}' <<<"$expect" | sort -u); do
    dll=$out/$f.dll
    [ -f "$dll" ] || { bad "$f: not built"; continue; }
    if ! "$hotpe" scan --json "$dll" >"$out/$f.json" 2>"$out/$f.err"; then
        bad "$f: hotpe scan failed: $(cat "$out/$f.err")"
        continue
    fi
    res=$(grep "^$f " <<<"$expect" | python3 tests/oracle/sites_check.py "$out/$f.json")
    grep -v '^RESULT' <<<"$res" | grep '^FAIL' || true
    [ -n "${HP_VERBOSE:-}" ] && grep '^ok' <<<"$res"
    read -r _ o b < <(grep '^RESULT' <<<"$res")
    pass=$((pass + ${o:-0}))
    fail=$((fail + ${b:-1}))
done

# ---- command line: usage, bad input ------------------------------------------------------
run() { # expected-rc description command...
    local want=$1 what=$2
    shift 2
    "$@" >"$out/cli.out" 2>"$out/cli.err"
    local rc=$?
    if [ $rc -ne "$want" ]; then bad "$what: exit $rc, expected $want"; return 1; fi
    ok
}
run 0 "--version" "$hotpe" --version && grep -q '^hotpe [0-9]' "$out/cli.out" || bad "--version output"
run 0 "scan --help" "$hotpe" scan --help && grep -q 'usage: hotpe scan' "$out/cli.out" || bad "scan --help output"
run 2 "no verb" "$hotpe"
run 2 "unknown verb" "$hotpe" frobnicate
run 2 "scan without IMAGE" "$hotpe" scan
run 2 "scan bad option" "$hotpe" scan --bogus "$out/plain_x64.dll"
head -c 100000 /dev/urandom >"$out/garbage.bin"
head -c 700 "$out/plain_x64.dll" >"$out/truncated.dll"
: >"$out/empty.dll"
for f in garbage.bin truncated.dll empty.dll missing.dll; do
    if run 1 "scan $f" "$hotpe" scan "$out/$f"; then
        if [ "$(wc -l <"$out/cli.err")" -ne 1 ] || ! grep -q "^hotpe: $out/$f: " "$out/cli.err" ||
            [ -s "$out/cli.out" ]; then
            bad "scan $f: expected one line 'hotpe: FILE: reason' on stderr, got: $(cat "$out/cli.err")"
        fi
    fi
done
[ -n "${HP_VERBOSE:-}" ] && cat "$out/cli.err"

hp_summary $pass $fail
