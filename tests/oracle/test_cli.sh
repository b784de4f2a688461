#!/usr/bin/env bash
# The command line as a new user meets it, offline (the native build; the Windows builds for
# --version): every option error names the option, `--opt=value` works, files that are missing,
# directories or not PE say so, `build` catches a HOTPE_PATCH naming another module and hints at
# --map for a stripped base, scan/info --json start with "schema" and print only keys
# docs/json.md lists (scan --names --require's too), `--version` tells builds apart, help fits
# 100 columns. Each refusal
# is one line on stderr with exit 2 (usage) or 1 (refused), nothing on stdout.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

hotpe=$HP_BUILD/native/hotpe
out=$HP_BUILD/cli
hp_need "$hotpe" "$HP_BUILD/x64/hotpe.exe" "$HP_BUILD/x86/hotpe.exe" || exit 1
mkdir -p "$out"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# refused RC REGEX hotpe-args...: exit RC, one stderr line matching REGEX, empty stdout
refused() {
    local want=$1 re=$2
    shift 2
    "$hotpe" "$@" >"$out/o" 2>"$out/e"
    local rc=$? err
    err=$(cat "$out/e")
    if [ $rc -eq "$want" ] && [ "$(wc -l <"$out/e")" -eq 1 ] && [[ $err =~ $re ]] && [ ! -s "$out/o" ]; then
        ok
    else
        bad "hotpe $*: exit $rc (want $want), '$err' !~ $re"
    fi
}

# ---- a base and its patch ----------------------------------------------------------------
cat >"$out/base.c" <<'EOF'
#include <hotpe/patchable.h>
HOTPE_PATCHABLE __declspec(dllexport) int twice(int x) { return 2 * x; }
HOTPE_PATCHABLE int hidden(int x) { return x + 1; }
HOTPE_PATCHABLE __declspec(dllexport) int
a_function_whose_name_is_longer_than_the_name_column_of_the_scan_table_can_hold_on_one_row(int x)
{
    return x - 1;
}
EOF
cat >"$out/fix.c" <<'EOF'
#include <hotpe/patch.h>
HOTPE_PATCH("base.dll", 1, "twice: three times");
int thrice(int x) { return 3 * x; }
HOTPE_REPLACE(twice, thrice);
EOF
cat >"$out/fix_cb.c" <<'EOF'
#include <hotpe/patch.h>
HOTPE_PATCH("base.dll", 2, "twice: three times, through the original, with a callback");
HOTPE_ORIGINAL(int, twice, (int));
int thrice(int x) { return HOTPE_ORIGINAL_FN(twice)(x) + x; }
HOTPE_REPLACE(twice, thrice);
static int on_apply(void) { return 0; }
HOTPE_ON_APPLY(on_apply);
EOF
sed 's/HOTPE_REPLACE(twice, thrice)/HOTPE_REPLACE(hidden, thrice)/' "$out/fix.c" >"$out/fix_hidden.c"
sed 's/"base.dll"/"Base"/' "$out/fix.c" >"$out/fix_noext.c"
sed 's/"base.dll"/"other.dll"/' "$out/fix.c" >"$out/fix_other.c"
gcc=x86_64-w64-mingw32-gcc
SDK_FLAGS="-std=c11 -Wall -Wextra -Werror -O2 -Isdk/include"
mkdir -p "$out/stripped" "$out/cv"
built=1
$gcc $SDK_FLAGS -shared -o "$out/base.dll" "$out/base.c" || built=0
$gcc $SDK_FLAGS -shared -Wl,--build-id -o "$out/cv/base.dll" "$out/base.c" || built=0
$gcc $SDK_FLAGS -shared -s -o "$out/stripped/base.dll" "$out/base.c" || built=0
for f in fix fix_hidden fix_noext fix_other fix_cb; do
    $gcc $SDK_FLAGS -shared -o "$out/$f.dll" "$out/$f.c" || built=0
done
if [ $built = 0 ]; then
    bad "building the base and patches"
    hp_summary $pass $fail
    exit 1
fi
cp "$out/base.dll" "$out/renamed.dll"

# ---- options ------------------------------------------------------------------------------
refused 2 "^hotpe: scan: unknown option '--jsn'; did you mean --json\? " scan --jsn "$out/base.dll"
refused 2 "^hotpe: build: option '-o' needs a value " build --base "$out/base.dll" "$out/fix.dll" -o
refused 2 "^hotpe: scan: option '--json' takes no value " scan --json=yes "$out/base.dll"
refused 2 "^hotpe: apply: unknown option '--nmae'; did you mean --name\? " apply --nmae x.exe p.dll
refused 2 "^hotpe: revert: option '--pid' needs a value " revert --pid
refused 2 "^hotpe: list: unknown option '--no-freeze' " list --pid 4 --no-freeze
refused 2 "^hotpe: run: unknown option '--xyzzy' " run --xyzzy -- a.exe
refused 2 "^hotpe: info: PATCH.dll missing " info
# --opt=value is the same as --opt value
if "$hotpe" build --base="$out/base.dll" "$out/fix.dll" -o "$out/eq.dll" 2>"$out/e" &&
    "$hotpe" build --base "$out/base.dll" "$out/fix.dll" -o "$out/sp.dll" 2>>"$out/e" &&
    cmp -s "$out/eq.dll" "$out/sp.dll"; then ok; else bad "build --base=FILE: $(cat "$out/e")"; fi

# ---- files --------------------------------------------------------------------------------
refused 1 "^hotpe: $out/missing.dll: cannot read the file \(No such file or directory\)$" scan "$out/missing.dll"
refused 1 "^hotpe: $out: cannot read the file \(Is a directory\)$" scan "$out"
echo "just text" >"$out/text.dll"
refused 1 "^hotpe: $out/text.dll: not a PE file: shorter than the 64-byte DOS header$" scan "$out/text.dll"
head -c 4096 /dev/zero >"$out/zeros.dll"
refused 1 "^hotpe: $out/zeros.dll: not a PE file: no MZ signature at its start$" info "$out/zeros.dll"
refused 1 "not a PE file" build --base "$out/text.dll" "$out/fix.dll" -o "$out/x.dll"

# ---- build: the module HOTPE_PATCH names --------------------------------------------------
refused 1 "^hotpe: $out/fix_other.dll: build: HOTPE_PATCH names another module than the base \(HOTPE_PATCH\(\"other.dll\"\), base $out/base.dll; --target-name NAME if the file was renamed\)$" \
    build --base "$out/base.dll" "$out/fix_other.dll" -o "$out/x.dll"
refused 1 "build: HOTPE_PATCH names another module than the base" \
    build --base "$out/renamed.dll" "$out/fix.dll" -o "$out/x.dll"
"$hotpe" build --base "$out/renamed.dll" --target-name base.dll "$out/fix.dll" -o "$out/x.dll" 2>"$out/e" &&
    ok || bad "build --target-name base.dll of a renamed base: $(cat "$out/e")"
"$hotpe" build --base "$out/base.dll" "$out/fix_noext.dll" -o "$out/x.dll" 2>"$out/e" &&
    ok || bad "HOTPE_PATCH(\"Base\") against base.dll (case, no extension): $(cat "$out/e")"
[ ! -e "$out/never.dll" ] && { "$hotpe" build --base "$out/base.dll" "$out/fix_other.dll" -o "$out/never.dll" 2>/dev/null; [ ! -e "$out/never.dll" ]; } &&
    ok || bad "a refused build wrote its output"

# ---- build: a name only the symbols know -------------------------------------------------
"$hotpe" build --base "$out/base.dll" "$out/fix_hidden.dll" -o "$out/x.dll" 2>"$out/e" &&
    ok || bad "hidden (a COFF symbol) with symbols: $(cat "$out/e")"
refused 1 "^hotpe: $out/stripped/base.dll!hidden: build: name not found in the base .*; the base has no symbols: build it without -s, or give --map\)$" \
    build --base "$out/stripped/base.dll" "$out/fix_hidden.dll" -o "$out/x.dll"

# ---- --json documents start with their schema -------------------------------------------
"$hotpe" build --base "$out/base.dll" "$out/fix.dll" -o "$out/stamped.dll" 2>/dev/null
for cmd in "scan $out/base.dll" "info $out/stamped.dll"; do
    # shellcheck disable=SC2086
    first=$("$hotpe" $cmd --json | python3 -c 'import json, sys
d = json.load(sys.stdin); print(list(d)[0], d["schema"])' 2>&1)
    [ "$first" = "schema 1" ] && ok || bad "hotpe $cmd --json: first key and schema: $first"
done

# ---- docs/json.md holds every key scan and info print, with its type ----------------------
"$hotpe" build --base "$out/cv/base.dll" "$out/fix_cb.dll" -o "$out/cv/stamped.dll" 2>"$out/e" ||
    bad "build against a base with a CodeView record: $(cat "$out/e")"
mkdir -p "$out/json"
n=0
kb=$HP_CORPUS_X64/kernelbase.dll
for f in "$out/base.dll" "$HP_BUILD/x64/quote-server.exe" "$HP_BUILD/x86/quote-server.exe" "$kb"; do
    n=$((n + 1))
    "$hotpe" scan --json "$f" >"$out/json/scan-$n.json" || bad "scan --json $f"
done
# scan's keys of --names and --require (tests/oracle/test_scan_objects.sh tests them in depth)
printf 'twice\nhidden  # a COFF symbol\nnot_there\n' >"$out/base-names.txt"
n=$((n + 1))
"$hotpe" scan --json "$out/base.dll" --names "$out/base-names.txt" --require twice,not_there \
    >"$out/json/scan-$n.json" 2>"$out/e"
[ $? -eq 1 ] && [ "$(wc -l <"$out/e")" -eq 1 ] || bad "scan --json --names --require: $(cat "$out/e")"
for f in "$out/stamped.dll" "$out/cv/stamped.dll" "$HP_BUILD/x86/quote-server-fix.dll"; do
    n=$((n + 1))
    "$hotpe" info --json "$f" >"$out/json/info-$n.json" || bad "info --json $f"
done
for verb in scan info; do
    msg=$(python3 tests/lib/json_doc.py docs/json.md $verb "$out/json/$verb"-*.json 2>&1)
    [ -z "$msg" ] && ok || bad "$verb --json against docs/json.md: $msg"
done
# one hex style: every byte string is lowercase hex pairs
msg=$(python3 -c 'import json, re, sys
for f in sys.argv[1:]:
    d = json.load(open(f))
    fs = d.get("functions", [])
    vals = [x["first_insn"] for x in fs] + [v["bytes"] for v in d.get("validations", [])] + \
        [x["write"]["entry"] for x in fs if x["write"] and x["write"]["entry"]]
    for v in vals:
        if not re.fullmatch(r"([0-9a-f]{2})*", v): print(f, repr(v))' "$out/json/"*.json 2>&1)
[ -z "$msg" ] && ok || bad "bytes not in lowercase hex pairs: $msg"

# ---- scan's rows fit 100 columns; a long name wraps under itself -------------------------
for f in "$out/base.dll" "$HP_BUILD/x64/quote-server.exe" "$kb"; do
    for flag in "" --detail; do
        # shellcheck disable=SC2086
        long=$("$hotpe" scan $flag "$f" | awk 'length > 100' | head -2)
        [ -z "$long" ] && ok || bad "scan $flag $f: lines over 100 columns: $long"
    done
done
msg=$("$hotpe" scan "$out/base.dll" | python3 -c 'import sys
lines = sys.stdin.read().split("\n")
at = lines[2].index("NAME")
name = "a_function_whose_name_is_longer_than_the_name_column_of_the_scan_table_can_hold_on_one_row"
row = next(i for i, l in enumerate(lines) if l[at:].startswith("a_function_whose"))
got, k = lines[row][at:], row + 1
while k < len(lines) and lines[k][:at].strip() == "" and lines[k][at:]:
    got, k = got + lines[k][at:], k + 1
fields = lines[row].split()
if got != name or fields[1] not in ("prologue", "padded") or lines[row].index(fields[1]) != 12:
    print(repr(lines[row]), repr(got))' 2>&1)
[ -z "$msg" ] && ok || bad "scan: a long name wraps under the NAME column, the row keeps its columns: $msg"

# ---- --version: commit and build ---------------------------------------------------------
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
v=$("$hotpe" --version)
[[ $v =~ ^hotpe\ [0-9.]+\ \($commit,\ native\ build ]] && ok || bad "native --version: '$v' (commit $commit)"
for a in $HP_WINE_ARCHES; do
    hp_wine_env
    v=$(wine "$HP_BUILD/$a/hotpe.exe" --version 2>/dev/null | tr -d '\r')
    [[ $v =~ ^hotpe\ [0-9.]+\ \($commit,\ $a\ Windows\ build\)$ ]] && ok || bad "$a --version: '$v'"
done

# ---- help fits 100 columns ---------------------------------------------------------------
for verb in "" scan info build check apply list revert run; do
    # shellcheck disable=SC2086
    long=$("$hotpe" $verb --help | awk 'length > 100' | head -3)
    [ -z "$long" ] && ok || bad "hotpe $verb --help has lines over 100 columns: $long"
done

hp_summary $pass $fail
