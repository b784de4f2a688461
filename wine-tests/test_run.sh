#!/usr/bin/env bash
# hotpe run under Wine, x64 and x86 (the x86 program through the x64 hotpe's hand-off, and the
# x86 hotpe itself): a program started with patches applied before its own code runs.
#  - the first calls are already patched: HOTPE_ON_APPLY finds the base's call counter at 0
#    (g_events = 100, wine-tests/live/patch.c), direct calls and the worker threads see the new
#    results; two patches apply in order (the second supersedes the first);
#  - the program's arguments reach it, its exit code is hotpe's; hotpe's lines go to stderr;
#  - --detach prints the pid and returns; `hotpe list` then shows the patch;
#  - the same patch twice: the second is live already, and the program runs patched;
#  - a refused patch (another build) ends the program before its entry
#    point: exit 1, one line, and the program printed nothing; a program that cannot load (a
#    DLL missing) or does not exist, a DLL given as the program, bad usage, the native build,
#    the x86 hotpe asked to run an x64 program.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=run
source wine-tests/lib-live.sh

# run ARCH-OF-HOTPE STDIN ARGS... : sets rc, so (program's stdout) and se (stderr)
run() {
    local a=$1 input=$2
    shift 2
    printf '%b' "$input" | HOTPE_TARGET_SECONDS=60 hp "$a" run "$@" >"$out/stdout" 2>"$out/stderr"
    rc=${PIPESTATUS[1]}
    so=$(tr -d '\r' <"$out/stdout")
    se=$(tr -d '\r' <"$out/stderr")
}

# refused: exit 1, the refusal as the last line on stderr, nothing on stdout
refused() { # description regex (grep -x, on the last stderr line) run-arguments...
    local what=$1 re=$2
    shift 2
    run x64 'q\nx\n' "$@"
    check "$a: $what: exit 1 (rc $rc)" [ $rc -eq 1 ]
    check "$a: $what: said so ($se)" grep -qx "$re" <<<"$(tail -1 <<<"$se")"
    check "$a: $what: the program printed nothing ($so)" [ -z "$so" ]
}

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d/other" "$d/gone"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    if ! { $gcc $SDK_FLAGS -o "$d/target.exe" wine-tests/live/target.c &&
        $gcc $SDK_FLAGS -DOTHER_BUILD -o "$d/other/target.exe" wine-tests/live/target.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw1.dll" wine-tests/live/patch.c &&
        $gcc $SDK_FLAGS -shared -o "$d/raw2.dll" wine-tests/live/patch2.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw1.dll" -o "$d/patch.dll" &&
        "$hotpe" build --base "$d/target.exe" "$d/raw2.dll" -o "$d/patch2.dll" &&
        "$hotpe" build --base "$d/other/target.exe" "$d/raw1.dll" -o "$d/other.dll" &&
        printf 'int gone(void) { return 1; }\n' >"$d/gone/gone.c" &&
        $gcc -shared -o "$d/gone/gone.dll" "$d/gone/gone.c" &&
        printf 'int gone(void);\nint main(void) { return gone(); }\n' >"$d/gone/main.c" &&
        $gcc -o "$d/gone/needs-gone.exe" "$d/gone/main.c" "$d/gone/gone.dll" &&
        rm "$d/gone/gone.dll"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    rel=${d#"$HP_ROOT"/}

    # the x64 hotpe runs both arches (x86: handed to the x86 hotpe); the x86 one runs x86
    runners=x64
    [ $a = x86 ] && runners="x64 x86"
    for h in $runners; do
        run $h 'q\nw\ne\na\nx 7\n' --patch "$rel/patch.dll" -- "$rel/target.exe" "two words"
        check "$a by $h: exit code is the program's (rc $rc: $se)" [ $rc -eq 7 ]
        check "$a by $h: direct call patched ($so)" grep -qx "q compute=15 label=1006" <<<"$so"
        check "$a by $h: worker threads patched" grep -qx "w compute=15 label=1006" <<<"$so"
        check "$a by $h: applied before any call (ON_APPLY saw g_calls 0)" \
            grep -qx "e events=100" <<<"$so"
        check "$a by $h: arguments passed on" grep -qx "a argc=2 last=two words" <<<"$so"
        check "$a by $h: the applied line on stderr ($se)" \
            grep -q "^pid [0-9]* (target.exe): target.exe: applied $rel/patch.dll as patch 1 (2 sites, " <<<"$se"
        check "$a by $h: nothing of hotpe's on stdout" bash -c '! grep -q applied <<<"$1"' _ "$so"
    done

    run x64 'q\ne\nx\n' --patch "$rel/patch.dll" --patch "$rel/patch2.dll" -- "$rel/target.exe"
    check "$a: two patches, in order (rc $rc: $se)" [ $rc -eq 0 ]
    check "$a: the second supersedes the first ($so)" grep -qx "q compute=20 label=1007" <<<"$so"
    # the first's ON_APPLY before any call (100), its ON_REVERT when superseded (10)
    check "$a: the first one's callbacks ran, before any call ($so)" grep -qx "e events=110" <<<"$so"

    run x64 'q\nx\n' --patch "$rel/patch.dll" --patch "$rel/patch.dll" -- "$rel/target.exe"
    check "$a: the same patch twice: the program runs, patched (rc $rc: $so)" \
        [ $rc -eq 0 -a "$(grep -cx "q compute=15 label=1006" <<<"$so")" = 1 ]
    check "$a: the same patch twice: the second is live already ($se)" \
        grep -q "^pid [0-9]* (target.exe): target.exe: $rel/patch.dll is live already as patch 1: nothing to do$" <<<"$se"

    run x64 'q\nx\n' -- "$rel/target.exe"
    check "$a: no patch: exit 0 (rc $rc)" [ $rc -eq 0 ]
    check "$a: no patch: the program as it is ($so)" grep -qx "q compute=10 label=1005" <<<"$so"

    # refused (a program ended before its entry point printed nothing)
    refused "other build" \
        "hotpe: pid [0-9]* (target.exe): target.exe: identity: the running module is not the build the patch was made for (\(TimeDateStamp\|SizeOfImage\))" \
        --patch "$rel/other.dll" -- "$rel/target.exe"
    refused "a DLL missing" \
        "hotpe: pid [0-9]* (needs-gone.exe): program: did not reach its entry point (it exited while loading, exit code [0-9]*)" \
        -- "$rel/gone/needs-gone.exe"
    refused "no such program" "hotpe: $rel/missing.exe: program: cannot be started (no such file)" \
        --patch "$rel/patch.dll" -- "$rel/missing.exe"
    refused "a DLL as the program" \
        "hotpe: $rel/patch.dll: program: cannot be started (not a program with an entry point)" \
        -- "$rel/patch.dll"
    refused "not a patch" "hotpe: $rel/target.exe: not a patch: .*" \
        --patch "$rel/target.exe" -- "$rel/target.exe"

    # --detach: the pid at once; list sees the patch; the program goes on until told to stop
    rm -f "$d/in" "$d/out"
    mkfifo "$d/in"
    HOTPE_TARGET_SECONDS=60 timeout 90 wine "$HP_BUILD/x64/hotpe.exe" run --detach \
        --patch "$rel/patch.dll" -- "$rel/target.exe" <"$d/in" >"$d/out" 2>"$d/err" &
    KID=$!
    KIDS+=("$KID")
    exec 3>"$d/in"
    wait "$KID"
    rc=$?
    check "$a: --detach returns 0 while the program runs (rc $rc: $(cat "$d/err"))" [ $rc -eq 0 ]
    TPID=$(awk '/^pid [0-9]*$/{print $2; exit}' "$d/out" | tr -d '\r')
    check "$a: --detach prints the pid ($(head -2 "$d/out"))" [ -n "$TPID" ]
    if [ -n "$TPID" ]; then
        l=$(hp x64 list --pid "$TPID" 2>&1 | tr -d '\r')
        check "$a: list shows the patch ($l)" grep -q "patch 1  sequence 1" <<<"$l"
        r=$(ask "$d" q)
        check "$a: the detached program answers patched ($r)" [ "$r" = "q compute=15 label=1006" ]
    fi
    echo x >&3
    exec 3>&-
done

# bad usage, the native build, the x86 hotpe and an x64 program
for args in "--patch p.dll target.exe" "--patch p.dll --" "--bogus -- target.exe" "--patch"; do
    # shellcheck disable=SC2086
    msg=$(hp x64 run $args 2>&1 </dev/null)
    rc=$?
    check "usage: run $args exits 2 (rc $rc: $msg)" [ $rc -eq 2 ]
done
msg=$("$hotpe" run -- "$out/x64/target.exe" 2>&1)
rc=$?
check "native build: exit 1 ($rc)" [ $rc -eq 1 ]
check "native build: says it needs the Windows build ($msg)" \
    grep -q "live patching needs the Windows build" <<<"$msg"
if hp_wine_x86; then
    run x86 '' -- "${out#"$HP_ROOT"/}/x64/target.exe"
    check "x86 hotpe refuses an x64 program: exit 1 ($rc)" [ $rc -eq 1 ]
    check "x86 hotpe refuses an x64 program: said so ($se)" \
        grep -q "its architecture is not this hotpe's (x64 and x86 builds each patch their own) (program x64, this hotpe x86)" <<<"$se"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
