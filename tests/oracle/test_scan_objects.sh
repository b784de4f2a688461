#!/usr/bin/env bash
# `hotpe scan --objects`, `--names` and `--require` end to end, x86 and x64. Builds a DLL that
# links a static library (tests/cover/build.sh: libmylib.a of three objects, with functions built for
# hotpatching, plain ones, a static inline inlined away, one that is a lone `ret`, one nothing
# calls, and an object nothing uses), then checks the text (rows, the names not in the image,
# the LIB line), the JSON (python3: rows against the library's names, counts, every row as
# the plain scan has it, "require"), the exit codes and refusals, against docs/json.md's keys;
# then zlib's objects (tests/reallib/zlib.sh) against zlib1.dll: every exported function is
# one of zlib's and found. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

hotpe=$HP_BUILD/native/hotpe
out=$HP_BUILD/scan-objects
hp_need "$hotpe" || exit 1
rm -rf "$out" && mkdir -p "$out"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run RC COMMAND...: the exit code must be RC; stdout in $out/o, stderr in $out/e
run() {
    local want=$1
    shift
    "$@" >"$out/o" 2>"$out/e"
    local rc=$?
    [ $rc -eq "$want" ] && return 0
    bad "$* (in $(pwd)): exit $rc, expected $want: $(head -3 "$out/e")"
    return 1
}
# stderr is exactly the lines given
stderr_is() { # what expected
    [ "$(cat "$out/e")" = "$2" ] && ok || bad "$1: stderr '$(cat "$out/e")', expected '$2'"
}

for a in x64 x86; do
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    d=$out/$a
    bash tests/cover/build.sh $a "$d" >"$out/build-$a.log" 2>&1 ||
        { bad "$a: building the test DLL: $(tail -3 "$out/build-$a.log")"; continue; }
    dll=$d/app.dll

    # ---- text ------------------------------------------------------------------------------
    run 0 "$hotpe" scan "$dll" --objects "$d/libmylib.a" && ok
    cp "$out/o" "$d/objects.txt"
    [ ! -s "$out/e" ] && ok || bad "$a: stderr not empty: $(cat "$out/e")"
    tail -1 "$d/objects.txt" | grep -qx 'libmylib: 10 functions, 5 patchable (50.0%), 4 not in the image' &&
        ok || bad "$a: last line: $(tail -1 "$d/objects.txt")"
    head -1 "$d/objects.txt" | grep -qE "^$dll: $a, [0-9]+ functions, 6 of them libmylib's$" &&
        ok || bad "$a: first line: $(head -1 "$d/objects.txt")"
    missing=$(sed -n '/^not in the image (inlined or discarded): /,/^$/p' "$d/objects.txt" |
        awk 'NF == 2 && $1 != "not" {print $1, $2}')
    want="lib_spare_one $d/libmylib.a(lib_spare.o)
lib_spare_two $d/libmylib.a(lib_spare.o)
lib_square $d/libmylib.a(lib_core.o)
lib_unused $d/libmylib.a(lib_core.o)"
    [ "$missing" = "$want" ] && ok || bad "$a: not in the image: '$missing'"
    rows=$(awk '/^0x/ {print $2, $NF}' "$d/objects.txt" | sed 's/ _/ /; s/@[0-9]*$//' | sort -k2)
    want="prologue lib_checksum
$(awk '/^0x/ && $NF ~ /lib_clamp$/ {print $2}' "$d/objects.txt") lib_clamp
prologue lib_mix
short-first lib_reset
$(awk '/^0x/ && $NF ~ /lib_scale$/ {print $2}' "$d/objects.txt") lib_scale
$(awk '/^0x/ && $NF ~ /lib_std(@8)?$/ {print $2}' "$d/objects.txt") lib_std"
    [ "$rows" = "$want" ] && ok || bad "$a: rows: '$rows'"
    # the loose objects: LIB is their names' common beginning, "lib"
    run 0 "$hotpe" scan "$dll" --objects "$d/lib_core.o" "$d/lib_extra.o" "$d/lib_spare.o" &&
        tail -1 "$out/o" | grep -qx 'lib: 10 functions, 5 patchable (50.0%), 4 not in the image' &&
        ok || bad "$a: loose objects: $(tail -1 "$out/o")"

    # ---- JSON --------------------------------------------------------------------------------
    run 0 "$hotpe" scan --json "$dll" && cp "$out/o" "$d/plain.json"
    run 1 "$hotpe" scan --json "$dll" --objects "$d/libmylib.a" --require lib_checksum,lib_reset \
        --require lib_spare_one && cp "$out/o" "$d/objects.json"
    msg=$(python3 - "$d/plain.json" "$d/objects.json" <<'EOF'
import json, sys
plain, doc = (json.load(open(f)) for f in sys.argv[1:3])
by_rva = {f["rva"]: f for f in plain["functions"]}
lib = doc["library"]
names = {n["name"]: n for n in lib["names"]}
problems = []
def check(cond, what):
    if not cond:
        problems.append(what)
check(list(doc)[:7] == ["schema", "image", "machine", "functions", "summary", "library", "require"], f"keys {list(doc)}")
check("library" not in plain and "require" not in plain, "a plain scan has no library or require")
check(lib["name"] == "libmylib" and lib["image_symbols"] is True, "name, image_symbols")
check(sorted(names) == ["lib_checksum", "lib_clamp", "lib_mix", "lib_reset", "lib_scale", "lib_spare_one",
                        "lib_spare_two", "lib_square", "lib_std", "lib_unused"], f"names {sorted(names)}")
check((lib["functions"], lib["in_image"], lib["patchable"], lib["not_in_image"]) == (10, 6, 5, 4), "counts")
check(lib["functions"] == len(names) and lib["in_image"] == sum(n["in_image"] for n in names.values()), "counts add up")
check(lib["patchable"] == sum(n["patchable"] for n in names.values()), "patchable adds up")
for n in names.values():
    check(n["in_image"] == bool(n["rvas"]) and (n["class"] is None) == (not n["rvas"]), f"{n['name']}: in_image")
    check(n["defined_in"].endswith(".a(lib_core.o)") or n["defined_in"].endswith(".a(lib_extra.o)")
          or n["defined_in"].endswith(".a(lib_spare.o)"), f"{n['name']}: defined_in")
    for r in n["rvas"]:
        check(by_rva[r]["class"] == n["class"], f"{n['name']}: class as the plain scan's")
check(not names["lib_square"]["in_image"] and not names["lib_unused"]["in_image"], "dropped")
check(names["lib_reset"]["class"] == "short-first" and not names["lib_reset"]["patchable"], "lib_reset")
check(names["lib_checksum"]["class"] == "prologue" and names["lib_mix"]["class"] == "prologue", "prologue")
rows = sorted(f["rva"] for f in doc["functions"])
check(rows == sorted(r for n in names.values() for r in n["rvas"]), "rows are the names' sites")
for f in doc["functions"]:
    check(f == by_rva[f["rva"]], f"row {f['rva']:#x} differs from the plain scan's")
s = doc["summary"]
check(s["total"] == len(doc["functions"]) == sum(s["classes"].values()), "summary total")
check(s["patchable"] == lib["patchable"], "summary patchable")
req = doc["require"]
check([r["name"] for r in req] == ["lib_checksum", "lib_reset", "lib_spare_one"], "require names")
check(req[0] == {"name": "lib_checksum", "ok": True, "class": "prologue", "reason": None}, f"require[0] {req[0]}")
check(not req[1]["ok"] and req[1]["class"] == "short-first" and
      req[1]["reason"].startswith("not patchable (class short-first; no trampoline: too-short at 0x"), f"require[1] {req[1]}")
check(req[2] == {"name": "lib_spare_one", "ok": False, "class": None,
                 "reason": "not in the image (inlined or discarded)"}, f"require[2] {req[2]}")
print("\n".join(problems))
EOF
)
    [ -z "$msg" ] && ok || bad "$a: JSON: $msg"
    grep -cE "^hotpe: $dll!lib_reset: not patchable \(class short-first; no trampoline: too-short at 0x[0-9a-f]+\)$" "$out/e" |
        grep -qx 1 && grep -qx "hotpe: $dll!lib_spare_one: not in the image (inlined or discarded)" "$out/e" &&
        [ "$(wc -l <"$out/e")" -eq 2 ] && ok || bad "$a: --json --require stderr: $(cat "$out/e")"
    msg=$(python3 tests/lib/json_doc.py docs/json.md scan "$d/plain.json" "$d/objects.json" 2>&1)
    [ -z "$msg" ] && ok || bad "$a: against docs/json.md: $msg"

    # ---- --require, the CI gate ------------------------------------------------------------
    run 0 "$hotpe" scan "$dll" --require lib_checksum,lib_mix --require lib_scale && ok
    [ ! -s "$out/e" ] && tail -1 "$out/o" | grep -qx 'required functions patchable: 3 of 3' &&
        ok || bad "$a: --require all patchable: $(tail -1 "$out/o") $(cat "$out/e")"
    # without --objects the table is the whole image's
    n_all=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["functions"]))' "$d/plain.json")
    grep -q "^  total  *$n_all$" "$out/o" && ok || bad "$a: --require alone: not the whole table"
    run 1 "$hotpe" scan "$dll" --require lib_reset && [ -n "$(cat "$out/o")" ] &&
        stderr_is "$a: --require lib_reset" \
            "hotpe: $dll!lib_reset: not patchable (class short-first; no trampoline: too-short at $(awk '/^0x/ && $NF ~ /lib_reset$/ {sub(/^0x0*/, "0x", $1); print $1}' "$d/objects.txt"))"
    run 1 "$hotpe" scan "$dll" --objects "$d/libmylib.a" --require lib_square &&
        stderr_is "$a: --require lib_square" "hotpe: $dll!lib_square: not in the image (inlined or discarded)"
    run 1 "$hotpe" scan "$dll" --require no_such_function &&
        stderr_is "$a: --require no_such_function" "hotpe: $dll!no_such_function: not in the image (inlined or discarded)"
    # decorated x86 names are the same function; x64 has no decorations
    if [ $a = x86 ]; then
        run 0 "$hotpe" scan "$dll" --require lib_std@8,lib_std,_lib_std@8,_lib_checksum && ok
    else
        run 0 "$hotpe" scan "$dll" --require lib_std && ok
        run 1 "$hotpe" scan "$dll" --require _lib_std && ok
    fi
    printf '# the functions our hotfixes need\nlib_checksum\n\n  lib_mix   # mixing\nlib_unused\n' >"$d/required.txt"
    run 1 "$hotpe" scan "$dll" --require-file "$d/required.txt" &&
        stderr_is "$a: --require-file" "hotpe: $dll!lib_unused: not in the image (inlined or discarded)"
    grep -qx 'required functions patchable: 2 of 3' "$out/o" && ok || bad "$a: --require-file count"

    # ---- --names -----------------------------------------------------------------------------
    printf '# mylib API\nlib_checksum\nlib_scale  # inlines lib_square\nlib_square\nlib_reset\n' >"$d/mylib-api.txt"
    run 0 "$hotpe" scan "$dll" --names "$d/mylib-api.txt" &&
        tail -1 "$out/o" | grep -qx 'mylib-api: 4 functions, 2 patchable (50.0%), 1 not in the image' &&
        grep -qE '^  lib_square$' "$out/o" && ok || bad "$a: --names: $(tail -1 "$out/o")"

    # ---- a stripped image: only its exports have names ------------------------------------
    "${gcc%gcc}strip" -o "$d/stripped.dll" "$dll"
    run 0 "$hotpe" scan "$d/stripped.dll" --objects "$d/libmylib.a" &&
        grep -qx "note: $d/stripped.dll has no COFF symbols: only its exported functions can be found" "$out/o" &&
        tail -1 "$out/o" | grep -qx 'libmylib: 10 functions, 0 patchable (0.0%), 10 not in the image' &&
        ok || bad "$a: stripped image: $(grep note "$out/o"; tail -1 "$out/o")"
    # found by its export (patchable or not: the stripped image's bounds differ)
    "$hotpe" scan "$d/stripped.dll" --require app_run >/dev/null 2>"$out/e"
    ! grep -q "not in the image" "$out/e" && ok || bad "$a: stripped: app_run not found: $(cat "$out/e")"

    # ---- refusals ----------------------------------------------------------------------------
    run 1 "$hotpe" scan "$dll" --objects "$d/missing.o" &&
        stderr_is "$a: missing object" "hotpe: $d/missing.o: cannot read the file (No such file or directory)"
    echo "not an object" >"$d/text.o"
    run 1 "$hotpe" scan "$dll" --objects "$d/text.o" &&
        stderr_is "$a: text as an object" "hotpe: $d/text.o: COFF object: not an x86 or x64 object (Machine is neither i386 nor AMD64)"
    other=$out/$([ $a = x64 ] && echo x86 || echo x64)/lib_core.o
    other_arch=$([ $a = x64 ] && echo x86 || echo x64)
    if [ -f "$other" ]; then
        run 1 "$hotpe" scan "$dll" --objects "$other" &&
            stderr_is "$a: object of the other machine" "hotpe: $other: object: built for another machine than the image (object $other_arch, image $a)"
    fi
    printf '!<thin>\n' >"$d/thin.a"
    run 1 "$hotpe" scan "$dll" --objects "$d/thin.a" &&
        stderr_is "$a: thin archive" "hotpe: $d/thin.a: archive: a thin archive (its members are other files: give those)"
    implib=$($gcc -print-file-name=libversion.a)
    run 1 "$hotpe" scan "$dll" --objects "$implib" &&
        stderr_is "$a: import library" "hotpe: $implib: COFF object: an import library's member, no code of its own (give the static library or its objects)"
    run 1 "$hotpe" scan "$dll" --names "$d/missing.txt" && grep -q "^hotpe: $d/missing.txt: cannot read the file" "$out/e" && ok
    run 2 "$hotpe" scan "$dll" --objects && grep -q "option '--objects' needs a value" "$out/e" && ok
    run 2 "$hotpe" scan "$dll" --require && grep -q "option '--require' needs a value" "$out/e" && ok
    run 2 "$hotpe" scan "$dll" "$dll" && grep -q "one IMAGE only" "$out/e" && ok
    run 2 "$hotpe" scan --objects "$d/libmylib.a" && grep -q "IMAGE missing" "$out/e" && ok
done

# ---- zlib: a real library's objects in its own DLL -------------------------------------------
if ! compgen -G "$HP_BUILD/reallib/x64/obj/*.o" >/dev/null; then
    bash tests/reallib/zlib.sh >"$out/zlib.log" 2>&1 ||
        echo "note: zlib skipped: tests/reallib/zlib.sh failed: $(tail -1 "$out/zlib.log")"
fi
for a in x64 x86; do
    z=$HP_BUILD/reallib/$a
    [ -f "$z/zlib1.dll" ] || continue
    rm -f "$out/libz-$a.a"
    ar rcs "$out/libz-$a.a" "$z"/obj/*.o
    run 0 "$hotpe" scan --json "$z/zlib1.dll" --objects "$out/libz-$a.a" --require deflateBound,inflate &&
        cp "$out/o" "$out/zlib-$a.json" || continue
    run 0 "$hotpe" scan --json "$z/zlib1.dll" && cp "$out/o" "$out/zlib-plain-$a.json"
    msg=$(python3 - "$out/zlib-plain-$a.json" "$out/zlib-$a.json" <<'EOF'
import json, sys
plain, doc = (json.load(open(f)) for f in sys.argv[1:3])
lib = doc["library"]
rows = {f["rva"] for f in doc["functions"]}
exported = {f["rva"] for f in plain["functions"] if "export" in f["sources"]}
problems = []
if lib["name"] != "libz-" + doc["machine"] or lib["functions"] < 100:
    problems.append(f"name {lib['name']}, {lib['functions']} functions")
if not exported <= rows:
    problems.append(f"exports not among zlib's rows: {sorted(exported - rows)[:5]}")
if not all(r["ok"] for r in doc["require"]):
    problems.append(f"require {doc['require']}")
print("\n".join(problems) or f"{lib['functions']} functions, {lib['patchable']} patchable, {lib['not_in_image']} not in the image")
EOF
)
    if grep -q ' functions, ' <<<"$msg"; then ok; echo "zlib $a: $msg"; else bad "zlib $a: $msg"; fi
done

hp_summary $pass $fail
