#!/usr/bin/env bash
# Live patching at scale under Wine, x64 and x86, through the hotpe command line:
#  - scale.exe (wine-tests/scale/scale.c) has FUNCS HOTPE_PATCHABLE functions f_k(x) = x + k
#    (FUNCS = the largest size, 10,000 by default), called all the time by 4 worker threads
#    that count every result that is neither the original nor a patched value (anomalies).
#  - Patches (wine-tests/scale/patch.c) replace the first N functions for each N of
#    HOTPE_SCALE_SIZES ("1 33 1000 10000"), the i-th size with sequence i (f_k(x) = x + k +
#    i * 1000000). For each size, with the workers running: check (exit 0, "would apply (N
#    sites)"), apply (exit 0; the first one with --json, "sites": N), list and list --json (one
#    patch, N sites, all live), the target's own calls see exactly functions 0..N-1 patched by
#    that sequence, the workers too and no anomaly, revert (exit 0), then nothing patched.
#  - A supersede chain: every size applied in turn without revert (sequence 1, 2, ...; each
#    supersedes the one before: list shows one patch, the target sees the new size and
#    sequence), then revert --all, nothing patched, the workers never saw a wrong value.
#  - info of the largest patch (native and Windows hotpe): 2 hooks and 2 validations a site.
#  - mods.exe (scale.c -DMODULES) loads HOTPE_SCALE_MODULES (100) copies of one DLL
#    (wine-tests/scale/lib.c: lib000.dll ...), each its own module; one patch per module
#    (wine-tests/scale/libpatch.c built with that module's name: lib_fn(x) = x + 7 + 1000000 +
#    its index), one hotpe apply each (stopping at the first refusal): all patched, each by its
#    own patch, list shows them all, revert --all reverts them all, all original again. Its workers pause 1 ms between passes
#    (of 100 calls): busy ones starve wineserver, and each hotpe command, which makes hundreds
#    of ReadProcessMemory round trips per module lookup in a process of 100 modules, took
#    several times longer.
# Sources are generated under build/scale (the function lists, "S(0) S(1) ..."), compiled with
# SDK_FLAGS, HOTPE_SCALE_JOBS (2) at a time, and stamped with the native hotpe build.
# Environment: HOTPE_SCALE_SIZES, HOTPE_SCALE_MODULES, HOTPE_SCALE_FUNCS (scale.exe's function
# count, default the largest size), HOTPE_SCALE_ARCHES ("x64 x86"), HOTPE_SCALE_TIMEOUT (120 s,
# per hotpe command). Prints the time each part took ("time: ..."). Every wait is bounded and
# the targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=scale
source wine-tests/lib-live.sh

SIZES=${HOTPE_SCALE_SIZES:-1 33 1000 10000}
MODULES=${HOTPE_SCALE_MODULES:-100}
ARCHES=${HOTPE_SCALE_ARCHES:-$HP_WINE_ARCHES}
JOBS=${HOTPE_SCALE_JOBS:-2}
TMO=${HOTPE_SCALE_TIMEOUT:-120}
LIFE=900 # the targets' own watchdog (s); they are killed at the end anyway
read -r -a sizes <<<"$SIZES"
max=0
for n in "${sizes[@]}"; do
    if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
        echo "HOTPE_SCALE_SIZES: not a positive number: $n" >&2
        exit 2
    fi
    [ "$n" -gt $max ] && max=$n
done
FUNCS=${HOTPE_SCALE_FUNCS:-$max}
if [ ${#sizes[@]} -lt 1 ] || [ ${#sizes[@]} -gt 9 ] || [ "$FUNCS" -lt $max ] || ! [[ $MODULES =~ ^[0-9]+$ ]] || [ "$MODULES" -gt 999 ]; then
    echo "test_scale.sh: 1 to 9 sizes, HOTPE_SCALE_FUNCS >= the largest, 0-999 modules" >&2
    exit 2
fi
echo "sizes: $SIZES; scale.exe functions: $FUNCS; modules: $MODULES; arches: $ARCHES"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
declare -a TIMES=()
timing() { # text
    TIMES+=("$1")
    echo "time: $1"
}

# A Windows hotpe, bounded: hpt ARCH ARGS... (stdout and stderr together, exit code kept)
hpt() {
    local a=$1
    shift
    timeout "$TMO" wine "$HP_BUILD/$a/hotpe.exe" "$@" 2>&1
}

# Start a target: dir pause exe [args...] (pause: the workers' Sleep between passes, ms);
# sets TPID and KID, commands go to fd 3.
start_scale() {
    local d=$1 pause=$2 exe=$3
    shift 3
    rm -f "$d/in" "$d/out"
    mkfifo "$d/in"
    (cd "$d" && HOTPE_TARGET_SECONDS=$LIFE HOTPE_SCALE_PAUSE_MS=$pause exec timeout $((LIFE + 10)) wine "$exe" "$@") \
        <"$d/in" >"$d/out" 2>"$d/err" &
    KID=$!
    KIDS+=("$KID")
    exec 3>"$d/in"
    TPID=
    for _ in $(seq 1 300); do
        TPID=$(awk '/^pid /{print $2; exit}' "$d/out" 2>/dev/null)
        [ -n "$TPID" ] && return 0
        grep -q '^error' "$d/out" 2>/dev/null && return 1
        kill -0 "$KID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# the target's answers: expect_c DIR PATCHED SEQ WHAT, expect_w DIR PATCHED WHAT
expect_c() {
    local r
    r=$(ask "$1" c)
    check "$4: the target's own calls: $2 patched, functions 0..$(($2 - 1)), sequence $3 ($r)" \
        [ "$r" = "c patched=$2 prefix=1 seq=$3 bad=0" ]
}
expect_w() {
    local r
    r=$(ask "$1" w)
    check "$3: the workers: $2 patched, no anomaly ($r)" grep -qx "w calls=[0-9]* passes=[0-9]* anomalies=0 patched=$2\.\.$2" <<<"$r"
}

# Checks of outputs too long to pass as one argument to a program (10,000 sites): they get
# them on stdin or as shell function arguments.
# list --json on stdin: pid, then "target:sequence:sites" of each patch; all sites live
list_json_is() { # pid expected... <json
    python3 -c '
import json, sys
d = json.load(sys.stdin); p = d["processes"][0]
assert p["pid"] == int(sys.argv[1]), p["pid"]
got = sorted("%s:%d:%d" % (q["target"], q["sequence"], len(q["sites"])) for q in p["patches"])
want = sorted(sys.argv[2:])
assert got == want, (got[:5], len(got), want[:5], len(want))
bad = [s for q in p["patches"] for s in q["sites"] if s["state"] != "live"]
assert not bad, bad[:3]' "$@" 2>&1 | tail -1
}
# "1 site", "N sites": as hotpe counts them
sites() { if [ "$1" -eq 1 ]; then echo "1 site"; else echo "$1 sites"; fi; }
# list: exactly one patch, of sequence s with n sites
list_one() { # list-output s n
    [ "$(grep -c "^  patch " <<<"$1")" -eq 1 ] &&
        grep -q "^  patch [0-9]*  sequence $2  scale.exe  .*patch$2.dll  ($(sites "$3"))" <<<"$1"
}
# info: sequence s, 2 n hooks and validations, n entry jumps of functions f_k
info_is() { # info-output s n
    grep -qx "sequence *$2" <<<"$1" && grep -qx "hooks ($(($3 * 2)))" <<<"$1" &&
        grep -qx "validations ($(($3 * 2)))" <<<"$1" &&
        [ "$(grep -c "^  _\?f_[0-9]*  *RVA .* X86_JMP2B" <<<"$1")" -eq "$3" ]
}
# list of the modules' patches: m patches of sequence 1, one live site each
list_mods() { # list-output m
    [ "$(grep -c "^  patch [0-9]*  sequence 1  lib[0-9]*\.dll  .*patch-lib[0-9]*\.dll  (1 site)$" <<<"$1")" -eq "$2" ] &&
        [ "$(grep -c "^    RVA 0x[0-9a-f]*  live " <<<"$1")" -eq "$2" ]
}

# ---- build, per arch: generated lists, then every compile HOTPE_SCALE_JOBS at a time ----------
build_arch() { # arch dir -> 0 when everything is built and stamped
    local a=$1 d=$2 gcc i n s m
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    mkdir -p "$d/gen" "$d/mods"
    seq 0 $((FUNCS - 1)) | sed 's/.*/S(&)/' >"$d/gen/funcs.inc"
    : >"$d/gen/jobs"
    # the longest first: scale.exe and the largest patches
    echo "$gcc $SDK_FLAGS -DFUNCS_INC='\"$d/gen/funcs.inc\"' -o $d/scale.exe wine-tests/scale/scale.c" >>"$d/gen/jobs"
    s=0
    for n in "${sizes[@]}"; do
        s=$((s + 1))
        seq 0 $((n - 1)) | sed 's/.*/S(&)/' >"$d/gen/patch$s.inc"
        echo "$n $gcc $SDK_FLAGS -DSEQUENCE=$s -DFUNCS_INC='\"$d/gen/patch$s.inc\"' -shared -o $d/gen/raw$s.dll wine-tests/scale/patch.c"
    done | sort -rn | cut -d' ' -f2- >>"$d/gen/jobs"
    echo "$gcc $SDK_FLAGS -DMODULES -o $d/mods/mods.exe wine-tests/scale/scale.c" >>"$d/gen/jobs"
    echo "$gcc $SDK_FLAGS -shared -o $d/gen/lib.dll wine-tests/scale/lib.c" >>"$d/gen/jobs"
    for ((i = 0; i < MODULES; i++)); do
        m=$(printf lib%03d $i)
        echo "$gcc $SDK_FLAGS -DTARGET='\"$m.dll\"' -DMODULE_INDEX=$i -shared -o $d/gen/raw-$m.dll wine-tests/scale/libpatch.c"
    done >>"$d/gen/jobs"
    # each line one command; xargs exits non-zero when one failed
    xargs -P "$JOBS" -d '\n' -n 1 bash -c 'eval "$1" || { echo "FAILED: $1"; exit 255; }' _ <"$d/gen/jobs" || return 1
    s=0
    for n in "${sizes[@]}"; do
        s=$((s + 1))
        "$hotpe" build --base "$d/scale.exe" "$d/gen/raw$s.dll" -o "$d/patch$s.dll" || return 1
    done
    for ((i = 0; i < MODULES; i++)); do
        m=$(printf lib%03d $i)
        cp "$d/gen/lib.dll" "$d/mods/$m.dll" &&
            "$hotpe" build --base "$d/mods/$m.dll" "$d/gen/raw-$m.dll" -o "$d/mods/patch-$m.dll" || return 1
    done
}

for a in $ARCHES; do
    echo "-- $a"
    d=$out/$a
    rel=${d#"$HP_ROOT"/}
    mkdir -p "$d"
    t=$(now)
    if ! build_arch $a "$d" >"$d/build.log" 2>&1; then
        bad "$a: build: $(grep -m3 -e FAILED -e error "$d/build.log" || tail -3 "$d/build.log")"
        continue
    fi
    ok
    timing "$a: build ($FUNCS functions, ${#sizes[@]} patches, $MODULES modules and their patches): $(since "$t") s"

    # ---- each size on its own: check, apply, list, revert, with the workers running --------
    if ! start_scale "$d" 0 scale.exe; then
        bad "$a: scale.exe did not start: $(cat "$d/out" "$d/err")"
        continue
    fi
    ok
    r=$(ask "$d" c)
    check "$a: scale.exe: $FUNCS functions, none patched ($r)" [ "$r" = "c patched=0 prefix=1 seq=0 bad=0" ]
    s=0
    for n in "${sizes[@]}"; do
        s=$((s + 1))
        p=$rel/patch$s.dll
        w="$a: $(sites "$n")"
        t=$(now)
        msg=$(hpt $a check --pid "$TPID" "$p")
        rc=$?
        check "$w: check exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
        check "$w: check would apply ($msg)" grep -qx "pid $TPID (scale.exe): scale.exe: $p would apply ($(sites "$n"))" <<<"$msg"
        tc=$(since "$t")
        t=$(now)
        if [ $s -eq 1 ]; then
            msg=$(hpt $a apply --pid "$TPID" "$p" --json)
            rc=$?
            check "$w: apply --json exit 0, \"sites\": $n (rc $rc: $msg)" python3 -c '
import json, sys
p = json.loads(sys.argv[1])["processes"][0]
assert p["status"] == "applied" and p["sites"] == int(sys.argv[2]), p' "$msg" "$n"
            id=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["processes"][0]["patch_id"])' "$msg" 2>/dev/null)
            fr=$(python3 -c 'import json, sys; p = json.loads(sys.argv[1])["processes"][0]; print("freeze %.1f us" % (p["freeze_ns"] / 1e3))' "$msg" 2>/dev/null)
        else
            msg=$(hpt $a apply --pid "$TPID" "$p")
            rc=$?
            check "$w: apply exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
            check "$w: applied ($msg)" grep -q "^pid $TPID (scale.exe): scale.exe: applied $p as patch [0-9]* ($(sites "$n"), " <<<"$msg"
            id=$(sed -n 's/.* as patch \([0-9]*\) (.*/\1/p' <<<"$msg")
            fr=$(grep -o 'freeze [0-9.]* us, total [0-9.]* ms' <<<"$msg")
        fi
        ta=$(since "$t")
        if [ $rc -ne 0 ]; then
            r=$(ask "$d" c)
            check "$w: a refused apply wrote nothing ($r)" [ "$r" = "c patched=0 prefix=1 seq=0 bad=0" ]
            timing "$w: check $tc s, apply (refused) $ta s"
            continue
        fi
        expect_c "$d" "$n" $s "$w"
        expect_w "$d" "$n" "$w"
        t=$(now)
        l=$(hpt $a list --pid "$TPID")
        rc=$?
        check "$w: list exit 0, one patch (rc $rc: $(head -3 <<<"$l"))" grep -qx "pid $TPID (scale.exe): 1 live patch" <<<"$l"
        check "$w: list shows patch $id, $n sites ($(head -3 <<<"$l"))" \
            grep -q "^  patch $id  sequence $s  scale.exe  .*patch$s.dll  ($(sites "$n"))" <<<"$l"
        live=$(grep -c '^    RVA 0x[0-9a-f]*  live ' <<<"$l")
        check "$w: list: $n sites live ($live)" [ "$live" -eq "$n" ]
        lj=$(hpt $a list --pid "$TPID" --json)
        rc=$?
        check "$w: list --json: one patch, $n sites, all live (rc $rc: ${lj:0:300})" \
            list_json_is "$TPID" "scale.exe:$s:$n" <<<"$lj"
        tl=$(since "$t")
        t=$(now)
        msg=$(hpt $a revert --pid "$TPID" "$id")
        rc=$?
        check "$w: revert exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
        check "$w: reverted ($msg)" grep -q "^pid $TPID (scale.exe): reverted patch $id " <<<"$msg"
        tr=$(since "$t")
        expect_c "$d" 0 0 "$w: after revert"
        expect_w "$d" 0 "$w: after revert"
        l=$(hpt $a list --pid "$TPID")
        check "$w: list empty after revert ($l)" grep -qx "pid $TPID (scale.exe): 0 live patches" <<<"$l"
        timing "$w: check $tc s, apply $ta s ($fr), list + list --json $tl s, revert $tr s"
    done

    # ---- the supersede chain: sequence 1, 2, ... applied one after the other ----------------
    t=$(now)
    s=0
    for n in "${sizes[@]}"; do
        s=$((s + 1))
        p=$rel/patch$s.dll
        w="$a: chain: sequence $s ($(sites "$n"))"
        msg=$(hpt $a apply --pid "$TPID" "$p")
        rc=$?
        check "$w: apply exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
        [ $rc -eq 0 ] || continue
        echo "  $w: $(grep -o 'freeze [0-9.]* us, total [0-9.]* ms' <<<"$msg")"
        expect_c "$d" "$n" $s "$w"
        l=$(hpt $a list --pid "$TPID")
        check "$w: list shows only it ($(head -2 <<<"$l"))" \
            list_one "$l" $s "$n"
    done
    expect_w "$d" "${sizes[-1]}" "$a: chain: the last one"
    msg=$(hpt $a revert --pid "$TPID" --all)
    rc=$?
    check "$a: chain: revert --all (rc $rc: $msg)" [ $rc -eq 0 ]
    check "$a: chain: reverted one patch ($msg)" grep -qx "pid $TPID (scale.exe): reverted 1 patch" <<<"$msg"
    expect_c "$d" 0 0 "$a: chain: after revert --all"
    expect_w "$d" 0 "$a: chain: after revert --all (never a wrong value)"
    timing "$a: supersede chain $SIZES and revert --all: $(since "$t") s"
    check "$a: scale.exe stops cleanly" stop_target "$d"

    # ---- info of the largest patch -------------------------------------------------------
    t=$(now)
    s=0
    for n in "${sizes[@]}"; do
        s=$((s + 1))
        [ "$n" -eq $max ] && break
    done
    for h in native $a; do
        if [ $h = native ]; then
            msg=$("$hotpe" info "$rel/patch$s.dll" 2>&1)
        else
            msg=$(hpt $a info "$rel/patch$s.dll")
        fi
        rc=$?
        check "$a: info ($h) of the $max-site patch: exit 0 (rc $rc: $(head -3 <<<"$msg"))" [ $rc -eq 0 ]
        check "$a: info ($h): $((2 * max)) hooks and validations, sequence $s ($(head -8 <<<"$msg"))" \
            info_is "$msg" $s "$max"
    done
    timing "$a: info of the $max-site patch, native and Windows: $(since "$t") s"

    # ---- many patches live in one process: one module and one patch each --------------------
    [ "$MODULES" -gt 0 ] || continue
    t=$(now)
    names=()
    for ((i = 0; i < MODULES; i++)); do names+=("$(printf lib%03d.dll $i)"); done
    if ! start_scale "$d/mods" 1 mods.exe "${names[@]}"; then
        bad "$a: mods.exe did not start: $(cat "$d/mods/out" "$d/mods/err")"
        continue
    fi
    ok
    r=$(ask "$d/mods" c)
    check "$a: mods.exe: $MODULES modules, none patched ($r)" [ "$r" = "c patched=0 prefix=1 seq=0 bad=0" ]
    # one hotpe apply each; the applies stop at the first refusal (each takes seconds)
    nok=0
    first=
    for ((i = 0; i < MODULES; i++)); do
        m=$(printf lib%03d $i)
        msg=$(hpt $a apply --pid "$TPID" "$rel/mods/patch-$m.dll")
        rc=$?
        if [ $rc -ne 0 ] || ! grep -q "^pid $TPID (mods.exe): $m.dll: applied .*patch-$m.dll as patch [0-9]* (1 site, " <<<"$msg"; then
            first="; patch $i of 0..$((MODULES - 1)) refused (rc $rc: $msg), the rest not tried"
            i=$((i + 1))
            break
        fi
        nok=$((nok + 1))
    done
    check "$a: $MODULES patches applied, one hotpe apply each ($nok applied$first)" [ $nok -eq "$MODULES" ]
    ta=$(since "$t")
    r=$(ask "$d/mods" c)
    check "$a: mods.exe sees all $MODULES modules patched, each by its own patch ($r)" \
        [ "$r" = "c patched=$MODULES prefix=1 seq=1 bad=0" ]
    expect_w "$d/mods" "$MODULES" "$a: mods.exe"
    t=$(now)
    l=$(hpt $a list --pid "$TPID")
    rc=$?
    check "$a: list: $MODULES live patches (rc $rc: $(head -1 <<<"$l"))" \
        grep -qx "pid $TPID (mods.exe): $MODULES live patch\(es\)\?" <<<"$l"
    check "$a: list: $MODULES patch lines, one live site each" list_mods "$l" "$MODULES"
    lj=$(hpt $a list --pid "$TPID" --json)
    want=()
    for ((i = 0; i < MODULES; i++)); do want+=("$(printf lib%03d.dll:1:1 $i)"); done
    check "$a: list --json: $MODULES patches, each of its own module, live (${lj:0:200})" \
        list_json_is "$TPID" "${want[@]}" <<<"$lj"
    tl=$(since "$t")
    t=$(now)
    msg=$(hpt $a revert --pid "$TPID" --all)
    rc=$?
    check "$a: revert --all of $MODULES patches: exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    check "$a: reverted $MODULES patches ($msg)" grep -qx "pid $TPID (mods.exe): reverted $MODULES patch\(es\)\?" <<<"$msg"
    tr=$(since "$t")
    r=$(ask "$d/mods" c)
    check "$a: mods.exe: all original again ($r)" [ "$r" = "c patched=0 prefix=1 seq=0 bad=0" ]
    expect_w "$d/mods" 0 "$a: mods.exe after revert --all"
    l=$(hpt $a list --pid "$TPID")
    check "$a: list empty after revert --all ($l)" grep -qx "pid $TPID (mods.exe): 0 live patches" <<<"$l"
    check "$a: mods.exe stops cleanly" stop_target "$d/mods"
    timing "$a: $MODULES modules: start and $i applies $ta s, list + list --json $tl s, revert --all $tr s"
done

echo "timings:"
for x in "${TIMES[@]}"; do echo "  $x"; done
hp_summary $pass $fail
