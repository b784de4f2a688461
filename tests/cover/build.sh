#!/usr/bin/env bash
# The library test image of tests/cover/: libmylib.a (lib_core.o, lib_extra.o, lib_spare.o) and
# app.dll, which links it, built with MinGW GCC for one arch. -fkeep-inline-functions keeps
# lib_square's copy in its object; without unwind tables --gc-sections drops what nothing
# calls (x64 .pdata would keep every function). Used by tests/oracle/test_scan_objects.sh and,
# for docs/scan-example.md's transcript, tests/oracle/test_readme.sh.
#
#   bash tests/cover/build.sh ARCH DIR      (from the repository root; ARCH x64 or x86)
set -euo pipefail
a=${1:?usage: build.sh ARCH DIR}
d=${2:?usage: build.sh ARCH DIR}
case $a in
x64) gcc=x86_64-w64-mingw32-gcc ;;
x86) gcc=i686-w64-mingw32-gcc ;;
*) echo "build.sh: ARCH is x64 or x86" >&2; exit 2 ;;
esac
mkdir -p "$d"
for u in lib_core lib_extra lib_spare app; do
    $gcc -std=c11 -Wall -Wextra -Werror -O2 -ffunction-sections -fkeep-inline-functions \
        -fno-asynchronous-unwind-tables -Isdk/include -c "tests/cover/$u.c" -o "$d/$u.o"
done
rm -f "$d/libmylib.a"
"${gcc%gcc}ar" rcs "$d/libmylib.a" "$d/lib_core.o" "$d/lib_extra.o" "$d/lib_spare.o"
$gcc -shared -Wl,--gc-sections -o "$d/app.dll" "$d/app.o" "$d/libmylib.a"
