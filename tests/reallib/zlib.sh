#!/usr/bin/env bash
# A real C library for live patching tests: zlib from Debian's bookworm source package, built
# plainly by MinGW GCC -O2 (no hotpatch padding, no hook prologue, COFF symbols kept: not
# stripped) as zlib1.dll for x64 and x86, with zpipe.exe (tests/reallib/zuse.c) using it.
#
#   bash tests/reallib/zlib.sh      from the repository root; prints the paths it produced
#
# The source is fetched once into build/deps (like Zydis' in scripts/deps.sh) and unpacked into
# build/deps/zlib-src; an arch is rebuilt only when an output is missing or older than the
# source, this script or zuse.c. Outputs, per ARCH in x64 x86:
#   build/reallib/ARCH/zlib1.dll   exports zlib's API (ZLIB_DLL, as upstream's CMake build does)
#   build/reallib/ARCH/libz.dll.a  its import library
#   build/reallib/ARCH/zpipe.exe   next to the DLL, which it imports
#   build/reallib/ARCH/obj/*.o     zlib's objects (their symbols name zlib's own functions)
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

deps="$HP_BUILD/deps"
src="$deps/zlib-src"
out="$HP_BUILD/reallib"
here="$HP_ROOT/tests/reallib"
self="$here/zlib.sh"
units=(adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate
       inftrees trees uncompr zutil)

die() { echo "reallib: $*" >&2; exit 1; }
need_tool() { command -v "$1" >/dev/null 2>&1 || die "$1 not found ($2): run 'make deps'"; }

need_tool apt-get "APT"
need_tool dpkg-source "package dpkg-dev"
need_tool x86_64-w64-mingw32-gcc "package mingw-w64"
need_tool i686-w64-mingw32-gcc "package mingw-w64"
[ -f "$here/zuse.c" ] || die "$here/zuse.c missing"

newest_dsc() { { find "$deps" -maxdepth 1 -name 'zlib_*.dsc' 2>/dev/null || true; } | sort -V | tail -n 1; }

# 1. Debian's source package, downloaded once
dsc=$(newest_dsc)
if [ -z "$dsc" ]; then
    mkdir -p "$deps"
    if ! log=$(cd "$deps" && apt-get source --download-only zlib 2>&1); then
        err=$(grep -m1 '^E:' <<<"$log" || true)
        die "apt-get source zlib failed (deb-src configured? run 'make deps'): ${err:-see apt-get}"
    fi
    dsc=$(newest_dsc)
    [ -n "$dsc" ] || die "apt-get source zlib left no zlib_*.dsc in $deps"
fi

# 2. unpacked once per .dsc (dpkg-source checks the tarballs against it, applies Debian's patches)
if [ ! -f "$src/.stamp" ] || [ "$(cat "$src/.stamp")" != "$(basename "$dsc")" ]; then
    rm -rf "$src" "$src.tmp"
    dpkg-source -x "$dsc" "$src.tmp" >/dev/null 2>&1 \
        || die "dpkg-source -x $dsc failed (incomplete download? delete $deps/zlib_* and rerun)"
    for u in "${units[@]}"; do
        [ -f "$src.tmp/$u.c" ] || die "$dsc has no $u.c: not the zlib layout this script expects"
    done
    mv "$src.tmp" "$src"
    basename "$dsc" >"$src/.stamp"
fi

# 3. per arch: objects, zlib1.dll and its import library, zpipe.exe
build_arch() { # ARCH TRIPLET
    local arch=$1 cc=$2-gcc d="$out/$1" u f stale=0 objs=()
    for f in "$d/zlib1.dll" "$d/libz.dll.a" "$d/zpipe.exe"; do
        if [ ! -f "$f" ] || [ "$src/.stamp" -nt "$f" ] || [ "$self" -nt "$f" ] \
           || [ "$here/zuse.c" -nt "$f" ]; then
            stale=1
        fi
    done
    [ "$stale" = 1 ] || return 0
    rm -rf "$d" && mkdir -p "$d/obj"
    for u in "${units[@]}"; do
        "$cc" -O2 -DZLIB_DLL -I"$src" -c "$src/$u.c" -o "$d/obj/$u.o" \
            || die "$arch: compiling zlib's $u.c failed"
        objs+=("$d/obj/$u.o")
    done
    "$cc" -shared -o "$d/zlib1.dll" "${objs[@]}" -Wl,--out-implib,"$d/libz.dll.a" \
        || die "$arch: linking zlib1.dll failed"
    "$cc" -O2 -Wall -Wextra -DZLIB_DLL -I"$src" "$here/zuse.c" "$d/libz.dll.a" -o "$d/zpipe.exe" \
        || die "$arch: building zpipe.exe failed"
}

build_arch x64 x86_64-w64-mingw32
build_arch x86 i686-w64-mingw32

for arch in x64 x86; do
    for f in zlib1.dll libz.dll.a zpipe.exe; do
        [ -f "$out/$arch/$f" ] || die "$out/$arch/$f missing after the build"
        echo "${out#"$HP_ROOT"/}/$arch/$f"
    done
done
