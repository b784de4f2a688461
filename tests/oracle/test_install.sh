#!/usr/bin/env bash
# make install and make uninstall (Makefile), into a scratch folder under build/:
#  - under PREFIX, and under DESTDIR + PREFIX=/usr, exactly the eight files land, with the
#    build's own bytes and their modes;
#  - the Windows builds stay side by side, lib/hotpe/x64 and lib/hotpe/x86: hotpe.exe injects
#    the hotpe-shim.dll of its own folder, and the 64-bit one hands 32-bit processes to
#    ..\x86\hotpe.exe (applier/target.c); both names are checked in the installed x64 hotpe.exe;
#  - the installed hotpe runs, and a patch built with -I PREFIX/include stamps and reads back;
#  - make uninstall leaves no file and no hotpe folder (bin/, lib/, include/ stay: /usr/local's
#    may have been there, empty, before).
# MAKE may add options, e.g. MAKE="make -o build/native/hotpe" to install a build as it is.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
cd "$HP_ROOT"
read -r -a make <<<"${MAKE:-make}"

pass=0 fail=0
check() { # description command...
    local what=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}

hp_need build/x64/quote-server.exe || exit 1
tmp=$(mktemp -d "$HP_BUILD/install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# installed path, the build's file, mode
table="bin/hotpe build/native/hotpe 755
include/hotpe/descriptor.h sdk/include/hotpe/descriptor.h 644
include/hotpe/patch.h sdk/include/hotpe/patch.h 644
include/hotpe/patchable.h sdk/include/hotpe/patchable.h 644
lib/hotpe/x64/hotpe-shim.dll build/x64/hotpe-shim.dll 644
lib/hotpe/x64/hotpe.exe build/x64/hotpe.exe 755
lib/hotpe/x86/hotpe-shim.dll build/x86/hotpe-shim.dll 644
lib/hotpe/x86/hotpe.exe build/x86/hotpe.exe 755"
want=$(cut -d' ' -f1 <<<"$table")

files_under() { (cd "$1" && find . -type f | sed 's|^\./||' | sort); }
dirs_under() { (cd "$1" && find . -mindepth 1 -type d | sed 's|^\./||' | sort | tr '\n' ' '); }

# the installed files against the build's: same bytes, same mode
check_files() { # root label
    local root=$1 label=$2 path src mode
    check "$label: exactly the 8 files ($(files_under "$root" | tr '\n' ' '))" \
        [ "$(files_under "$root")" = "$want" ]
    while read -r path src mode; do
        [ -e "$root/$path" ] || continue
        check "$label: $path is $src" cmp -s "$src" "$root/$path"
        check "$label: $path mode $mode ($(stat -c %a "$root/$path"))" \
            [ "$(stat -c %a "$root/$path")" = "$mode" ]
    done <<<"$table"
}

has_utf16() { # file string: the string is in the file as UTF-16LE (a wchar_t literal)
    python3 -c 'import sys; sys.exit(sys.argv[2].encode("utf-16-le") not in open(sys.argv[1], "rb").read())' "$1" "$2"
}

# 1. PREFIX
p=$tmp/prefix
check "make install PREFIX=$p" "${make[@]}" -s install PREFIX="$p"
check_files "$p" "PREFIX"
help=$("$p/bin/hotpe" --help 2>&1) && rc=0 || rc=$?
check "bin/hotpe --help: exit $rc" [ "$rc" -eq 0 ]
check "bin/hotpe --help: the usage line" grep -q '^usage: hotpe VERB' <<<"$help"
check "x64 hotpe.exe looks for ..\\x86\\hotpe.exe, where the x86 one is" \
    has_utf16 "$p/lib/hotpe/x64/hotpe.exe" '..\x86\hotpe.exe'
check "x64 hotpe.exe injects hotpe-shim.dll from its own folder" \
    has_utf16 "$p/lib/hotpe/x64/hotpe.exe" 'hotpe-shim.dll'
check "a patch compiles with -I PREFIX/include" x86_64-w64-mingw32-gcc -O2 -I"$p/include" -shared \
    samples/quote-server-fix/fix.c -o "$tmp/fix.dll"
check "the installed hotpe stamps it" "$p/bin/hotpe" build --base build/x64/quote-server.exe \
    "$tmp/fix.dll" -o "$tmp/fix-hp.dll"
info=$("$p/bin/hotpe" info "$tmp/fix-hp.dll" 2>&1 || true)
check "the installed hotpe reads it back" grep -q 'x64 patch for quote-server.exe' <<<"$info"

# 2. DESTDIR + PREFIX: everything under DESTDIR, nothing in /usr itself
d=$tmp/dest
before=$(ls -d /usr/bin/hotpe /usr/lib/hotpe /usr/include/hotpe 2>/dev/null || true)
check "make install DESTDIR=$d PREFIX=/usr" "${make[@]}" -s install DESTDIR="$d" PREFIX=/usr
check "DESTDIR: only usr/ ($(ls "$d" | tr '\n' ' '))" [ "$(ls "$d")" = usr ]
check_files "$d/usr" "DESTDIR"
check "nothing written to /usr itself" \
    [ "$(ls -d /usr/bin/hotpe /usr/lib/hotpe /usr/include/hotpe 2>/dev/null || true)" = "$before" ]
echo "make install DESTDIR=$d PREFIX=/usr wrote:"
(cd "$d" && find . -type f -printf '  %M %P\n' | sort -k2)

# 3. uninstall, twice (the second finds nothing and still succeeds)
for run in 1 2; do
    check "make uninstall PREFIX (run $run)" "${make[@]}" -s uninstall PREFIX="$p"
    check "make uninstall DESTDIR (run $run)" "${make[@]}" -s uninstall DESTDIR="$d" PREFIX=/usr
done
check "uninstall PREFIX: no file left ($(files_under "$p" | tr '\n' ' '))" [ -z "$(files_under "$p")" ]
check "uninstall PREFIX: only bin lib include left ($(dirs_under "$p"))" \
    [ "$(dirs_under "$p")" = "bin include lib " ]
check "uninstall DESTDIR: no file left ($(files_under "$d" | tr '\n' ' '))" [ -z "$(files_under "$d")" ]
check "uninstall DESTDIR: only usr/bin lib include left ($(dirs_under "$d"))" \
    [ "$(dirs_under "$d")" = "usr usr/bin usr/include usr/lib " ]

hp_summary "$pass" "$fail"
