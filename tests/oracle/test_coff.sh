#!/usr/bin/env bash
# COFF objects and static archives (pe/coff.c, pe/archive.c) against llvm-nm and MinGW's nm.
# Builds objects from the repository's test sources with MinGW GCC (-O2; -O0, whose static
# functions stay; -ffunction-sections; -Wa,-mbig-obj), clang for MinGW and clang-cl, for x86
# and x64, and archives of them (GNU ar, llvm-lib's MS format, llvm-ar's BSD format); adds
# zlib's objects (tests/reallib/zlib.sh builds them, fetching Debian's source once; skipped
# with a note when that fails). For every object and archive member, the functions
# tests/tools/coff-syms reports (pe/ reading it) must be exactly the code symbols both nm
# print (T and t, without section symbols: names starting with '.'), and every object of an
# archive the member nm names. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

syms=$HP_BUILD/native/coff-syms
out=$HP_BUILD/oracle/coff
hp_need "$syms" || exit 1
rm -rf "$out" && mkdir -p "$out"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# ---- zlib's source and objects, fetched and built once (zuse.c below includes zlib.h) -------
zsrc=tests/reallib/zuse.c
if ! compgen -G "$HP_BUILD/reallib/x64/obj/*.o" >/dev/null &&
    ! bash tests/reallib/zlib.sh >"$out/zlib.log" 2>&1; then
    echo "note: zlib's objects and $zsrc skipped: tests/reallib/zlib.sh failed: $(tail -1 "$out/zlib.log")"
    zsrc=
fi

# ---- objects -----------------------------------------------------------------------------
build() { # output command... (the command writes output)
    local o=$1
    shift
    "$@" >"$o.log" 2>&1 && objs+=("$o") || bad "build $(basename "$o"): $(head -3 "$o.log")"
}
sources="tests/sites/hook_gcc.c tests/sites/plain_o2.c tests/sites/patchable_entry.c
         tests/sites/hotpatch_clang.c samples/quote-server/quote-server.c
         samples/quote-server-fix/fix.c samples/clock/clock.c $zsrc"
objs=()
for a in x86 x64; do
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc gnu=x86_64-w64-windows-gnu msvc=x86_64-pc-windows-msvc
    else gcc=i686-w64-mingw32-gcc gnu=i686-w64-windows-gnu msvc=i686-pc-windows-msvc; fi
    for src in $sources; do
        n=$(basename "$src" .c)
        inc="-Isdk/include -Ibuild/deps/zlib-src"
        o=$out/$n
        build "$o-gcc-$a.o" $gcc -O2 $inc -c "$src" -o "$o-gcc-$a.o"
        build "$o-gcc-O0-$a.o" $gcc -O0 $inc -c "$src" -o "$o-gcc-O0-$a.o"
        build "$o-gcc-fs-$a.o" $gcc -O2 -ffunction-sections -fkeep-inline-functions $inc -c "$src" \
            -o "$o-gcc-fs-$a.o"
        build "$o-gcc-big-$a.o" $gcc -O1 -Wa,-mbig-obj $inc -c "$src" -o "$o-gcc-big-$a.o"
        build "$o-clang-$a.o" "$HP_LLVM/clang" --target=$gnu -O1 -w $inc -c "$src" -o "$o-clang-$a.o"
    done
    # clang-cl reads /work/... as an option: the source goes after --.
    for src in tests/sites/msvc_hotpatch.c tests/sites/plain_o2.c tests/sites/hook_gcc.c; do
        n=$(basename "$src" .c)
        build "$out/$n-cl-$a.obj" "$HP_LLVM/clang-cl" --target=$msvc /O2 /GS- -w /c "/Fo$out/$n-cl-$a.obj" -- "$src"
    done
done

# ---- archives ----------------------------------------------------------------------------
archives=()
for a in x86 x64; do
    gnu_objs=("$out"/*-gcc-"$a".o "$out"/*-gcc-big-"$a".o)
    x86_64-w64-mingw32-ar rcs "$out/libgcc-$a.a" "${gnu_objs[@]}" && archives+=("$out/libgcc-$a.a")
    "$HP_LLVM/llvm-lib" "/out:$out/cl-$a.lib" "$out"/*-cl-"$a".obj && archives+=("$out/cl-$a.lib")
    "$HP_LLVM/llvm-ar" --format=bsd rcs "$out/libclang-$a.a" "$out"/*-clang-"$a".o &&
        archives+=("$out/libclang-$a.a")
done
[ ${#archives[@]} -eq 6 ] && ok || bad "building the archives (${#archives[@]} of 6)"

# ---- zlib --------------------------------------------------------------------------------
zlib=0
for a in x64 x86; do
    for o in "$HP_BUILD/reallib/$a/obj/"*.o; do
        [ -f "$o" ] && objs+=("$o") && zlib=$((zlib + 1))
    done
done

# ---- compare -----------------------------------------------------------------------------
# coff-syms and each nm, as lines "MEMBER NAME CLASS", sorted; MEMBER "-" for an object.
compare() { # file
    local f=$1
    python3 - "$f" "$syms" "$HP_LLVM/llvm-nm" <<'EOF'
import subprocess, sys
f, syms, llvm_nm = sys.argv[1], sys.argv[2], sys.argv[3]
archive = open(f, "rb").read(8) == b"!<arch>\n"
machines = set()

def ours():
    got, members, member = [], [], "-"
    for line in subprocess.run([syms, f], capture_output=True, text=True, check=False).stdout.splitlines():
        w = line.split()
        if w[0] == "object":
            machines.add(w[2])
            member = w[1] if archive else "-"
            members.append(member)
        elif w[0] == "func":
            got.append((member, w[1], w[2]))
        elif w[0] == "error":
            print("coff-syms:", line)
            sys.exit(1)
    return sorted(got), members

def nm(tool):
    r = subprocess.run([tool, "-a", f], capture_output=True, text=True)
    got, members, member = [], [], "-"
    for line in r.stdout.splitlines():
        if archive and line.endswith(":") and " " not in line:
            member = line[:-1]
            members.append(member)
            continue
        w = line.split()
        if len(w) == 3 and w[1] in ("T", "t") and not w[2].startswith("."):
            got.append((member, w[2], w[1]))
    return sorted(got), members

mine, my_members = ours()
# binutils reads only its own target's /bigobj objects: the nm of the objects' machine
gnu_nm = "i686-w64-mingw32-nm" if machines == {"x86"} else "x86_64-w64-mingw32-nm"
problems = 0
for tool in (llvm_nm, gnu_nm):
    theirs, their_members = nm(tool)
    if mine != theirs:
        problems += 1
        a, b = set(mine), set(theirs)
        print(f"{f}: differs from {tool.split('/')[-1]}: only ours {sorted(a - b)[:5]}, only nm's {sorted(b - a)[:5]}")
    # every object member nm lists is one of ours (nm also lists import members, we skip them)
    if archive and not set(my_members) <= set(their_members):
        problems += 1
        print(f"{f}: members {sorted(set(my_members) - set(their_members))} not in {tool}'s list")
print(f"{len(mine)} functions")
sys.exit(1 if problems else 0)
EOF
}
functions=0
for f in "${objs[@]}" "${archives[@]}"; do
    if res=$(compare "$f" 2>&1); then
        ok
        functions=$((functions + $(tail -1 <<<"$res" | awk '{print $1}')))
    else
        bad "$res"
    fi
done
echo "compared ${#objs[@]} objects ($zlib of zlib) and ${#archives[@]} archives with llvm-nm and MinGW nm: $functions functions"

# ---- refusals ------------------------------------------------------------------------------
expect_error() { # file status
    local got
    got=$("$syms" "$1" | awk '/^error/ {print $3}' | tr -d :)
    [ "$got" = "$2" ] && ok || bad "$(basename "$1"): $got, expected $2"
}
echo "not an object" >"$out/text.o"
expect_error "$out/text.o" HP_E_COFF_MACHINE
expect_error "$HP_CORPUS_X64/version.dll" HP_E_COFF_MACHINE
printf '!<thin>\n' >"$out/thin.a"
expect_error "$out/thin.a" HP_E_AR_THIN
"$HP_LLVM/clang" --target=x86_64-w64-windows-gnu -flto -w -c tests/sites/plain_o2.c -o "$out/bitcode.o" &&
    expect_error "$out/bitcode.o" HP_E_COFF_MACHINE
# an import library: every member skipped, none an error
"$syms" /usr/x86_64-w64-mingw32/lib/libversion.a >"$out/implib.txt"
if [ $? -eq 0 ] && ! grep -q '^object' "$out/implib.txt" && grep -q '^skipped' "$out/implib.txt"; then ok
else bad "libversion.a: expected only skipped members: $(head -3 "$out/implib.txt")"; fi

hp_summary $pass $fail
