#!/usr/bin/env bash
# The live verbs as a new user meets them, x64 (and x86 where this machine runs it), against a
# running wine-tests/live/target.c:
#  - every line about a process names its image beside its pid, in apply, check, list, revert;
#  - a pid that is no process (a Linux pid, another prefix's) is refused with what a Windows pid
#    is and that hotpe must share the program's WINEPREFIX;
#  - list with no target shows every process with live patches, each site's function named;
#    "no process has live patches" when none has;
#  - --name accepts the image without .exe, in any case; --pid given twice is one process;
#    --pid 0x.. is hex, a zero-padded pid is decimal;
#  - a patch of the other architecture names both architectures;
#  - several processes at once (--jobs 8) print exactly what --jobs 1 prints, stdout and stderr,
#    text and --json, each process in the order given; --jobs 0 is bad usage;
#  - --json: "schema" first, "image" beside "pid", status "would-apply", and a refused process
#    (a refused patch, a pid that is no process) as an element with its error and its line;
#  - every key of check, apply, list and revert --json is in docs/json.md with its type, and
#    every key documented there is in these outputs (tests/lib/json_doc.py);
#  - check says what apply will need: with no hotpe-shim.dll beside hotpe.exe it refuses and
#    names the path it looked at, and apply then refuses the same way, the target unchanged.
# Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=cli-live
source wine-tests/lib-live.sh
both_same() { cmp -s "$1" "$2" && cmp -s "$3" "$4"; }

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc other=i686-w64-mingw32-gcc oa=x86
    else gcc=i686-w64-mingw32-gcc other=x86_64-w64-mingw32-gcc oa=x64; fi
    if ! { $gcc $SDK_FLAGS -o "$d/target.exe" wine-tests/live/target.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw.dll" wine-tests/live/patch.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw.dll" -o "$d/patch.dll" &&
        $gcc $SDK_FLAGS -shared -o "$d/rawblock.dll" wine-tests/live/patch_block.c &&
        "$hotpe" build --base "$d/target.exe" "$d/rawblock.dll" -o "$d/block.dll" &&
        $other $SDK_FLAGS -o "$d/target_$oa.exe" wine-tests/live/target.c &&
        $other $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw_$oa.dll" wine-tests/live/patch.c &&
        "$hotpe" build --base "$d/target_$oa.exe" --target-name target.exe "$d/raw_$oa.dll" \
            -o "$d/patch_$oa.dll"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    rel=${d#"$HP_ROOT"/}
    if ! start_target "$d"; then
        bad "$a: target did not start: $(cat "$d/err")"
        continue
    fi
    q0=$(ask "$d" q)
    who="pid $TPID \\(target\\.exe\\)"

    # ---- no shim beside hotpe.exe (first: a shim once loaded stays): check and apply both say
    # where they looked ----
    mkdir -p "$d/noshim"
    cp "$HP_BUILD/$a/hotpe.exe" "$d/noshim/"
    for verb in check apply; do
        msg=$(timeout 60 wine "$d/noshim/hotpe.exe" $verb --pid "$TPID" "$rel/patch.dll" 2>&1 | tr -d '\r')
        check "$a: $verb without hotpe-shim.dll names the path ($msg)" \
            grep -qE "^hotpe: $who: hotpe-shim.dll: shim: hotpe-shim.dll is missing, damaged or of another version \(looked for .*noshim.hotpe-shim\.dll\)$" <<<"$msg"
    done
    check "$a: refused without the shim: the target runs its original code" [ "$(ask "$d" q)" = "$q0" ]

    # ---- the image beside the pid, in every verb ----
    msg=$(hp $a check --pid "$TPID" "$rel/patch.dll" 2>&1 | tr -d '\r')
    check "$a: check names the image ($msg)" grep -qE "^$who: target.exe: $rel/patch.dll would apply \(2 sites\)$" <<<"$msg"
    msg=$(hp $a apply --pid "$TPID" --pid "$TPID" "$rel/patch.dll" 2>&1 | tr -d '\r')
    check "$a: apply, the same pid twice, applies once ($msg)" \
        [ "$(grep -cE "^$who: target.exe: applied $rel/patch.dll as patch 1 \(2 sites, " <<<"$msg")" = 1 \
        -a "$(wc -l <<<"$msg")" = 1 ]
    msg=$(hp $a list 2>&1 | tr -d '\r')
    check "$a: list with no target: the process with live patches, its functions named ($msg)" \
        [ "$(grep -cE "^$who: 1 live patch" <<<"$msg")" = 1 -a \
          "$(grep -cE '^    RVA 0x[0-9a-f]{8}  live .*  (compute|label)$' <<<"$msg")" = 2 ]
    msg=$(hp $a list --name TARGET 2>&1 | tr -d '\r')
    check "$a: list --name TARGET (no .exe, other case) finds it, image named ($msg)" \
        grep -qE "^$who: 1 live patch" <<<"$msg"
    msg=$(hp $a list --pid "0x$(printf %x "$TPID")" 2>&1 | tr -d '\r')
    check "$a: --pid 0x$(printf %x "$TPID") is the same process ($msg)" grep -qE "^$who: 1 live patch" <<<"$msg"
    msg=$(hp $a list --pid "000$TPID" 2>&1 | tr -d '\r')
    check "$a: --pid 000$TPID is decimal, not octal ($msg)" grep -qE "^$who: 1 live patch" <<<"$msg"
    msg=$(hp $a revert --name target --all 2>&1 | tr -d '\r')
    check "$a: revert names the image ($msg)" grep -qxE "$who: reverted 1 patch" <<<"$msg"
    msg=$(hp $a list 2>&1 | tr -d '\r')
    check "$a: list with no target, nothing live ($msg)" [ "$msg" = "no process has live patches" ]

    # ---- a pid that is no Windows process here ----
    lp=$KID
    msg=$(hp $a list --pid "$lp" 2>&1 | tr -d '\r')
    check "$a: a Linux pid ($lp) is explained ($msg)" grep -qxE "hotpe: pid $lp: process: cannot open it \(no such pid or access denied\) \(a Windows pid is the number the program's GetCurrentProcessId returns, not a Linux pid; under Wine hotpe must run in the program's WINEPREFIX\)" <<<"$msg"

    # ---- several processes at once (--jobs, default 8): the same output as one after the
    # other, each process's lines in the order given (pids that are no process finish first) ----
    many=(--pid 4194300 --pid "$TPID" --pid 4194304 --pid 4194308 --pid "$lp")
    for run in "list" "list --json" "check $rel/patch.dll" "check $rel/patch.dll --json"; do
        for jobs in 1 8; do
            # shellcheck disable=SC2086
            hp $a $run "${many[@]}" --jobs $jobs >"$d/jobs$jobs.out" 2>"$d/jobs$jobs.err"
            echo "rc $?" >>"$d/jobs$jobs.out"
        done
        check "$a: $run over 5 processes: --jobs 8 prints what --jobs 1 does ($(tr -d '\r' <"$d/jobs8.err" | head -c 300))" \
            both_same "$d/jobs1.out" "$d/jobs8.out" "$d/jobs1.err" "$d/jobs8.err"
        order=$(grep -oE '^hotpe: pid [0-9]+' "$d/jobs8.err" | awk '{print $3}' | tr '\n' ' ')
        check "$a: $run: the refusals in the order given ($order)" [ "$order" = "4194300 4194304 4194308 $lp " ]
    done
    check "$a: check over 5 processes, 4 refused: exit 3, one summary ($(tail -1 "$d/jobs8.out"))" \
        [ "$(tail -1 "$d/jobs8.out")" = "rc 3" -a \
          "$(grep -cx 'hotpe: check: done in 1 processes, partly in 0, failed in 4' "$d/jobs8.err")" = 1 ]
    hp $a list --pid "$TPID" --jobs 0 >/dev/null 2>&1
    rc=$?
    check "$a: --jobs 0 is bad usage (rc $rc)" [ $rc -eq 2 ]

    # ---- --json: a schema, the image, and refused processes with their reason ----
    jcheck() { # description JSON python-expression-on-d [ARG: sys.argv[3]]
        check "$1 ($2)" python3 -c 'import json, sys
d = json.loads(sys.argv[1]); sys.exit(not eval(sys.argv[2]))' "$2" "$3" "${4:-}"
    }
    j=$(hp $a check --pid "$TPID" "$rel/patch.dll" --json 2>/dev/null | tr -d '\r')
    jcheck "$a: check --json: schema 1, pid, image, would-apply" "$j" \
        "list(d)[0] == 'schema' and d['schema'] == 1 and [(p['pid'], p['image'], p['status'], p['sites']) for p in d['processes']] == [($TPID, 'target.exe', 'would-apply', 2)]"
    j=$(hp $a apply --pid "$TPID" "$rel/patch_$oa.dll" --json 2>"$d/stderr" | tr -d '\r')
    jcheck "$a: apply --json of a refused patch: the process, its error and the stderr line" "$j" \
        "d['schema'] == 1 and [(p['pid'], p['image'], p['status'], p['error'], 'hotpe: ' + p['message']) for p in d['processes']] == [($TPID, 'target.exe', 'refused', 'HP_E_LIVE_PATCH_ARCH', sys.argv[3])]" \
        "$(tr -d '\r' <"$d/stderr")"
    j=$(hp $a list --pid "$KID" --pid "$TPID" --json 2>/dev/null | tr -d '\r')
    jcheck "$a: list --json, a pid that is no process and one that is" "$j" \
        "[(p['pid'], p['image'], p['status'], len(p.get('patches', []))) for p in d['processes']] == [($KID, None, 'refused', 0), ($TPID, 'target.exe', 'listed', 0)] and d['processes'][0]['error'] == 'HP_E_PROC_OPEN'"

    # ---- the other architecture's patch ----
    msg=$(hp $a apply --pid "$TPID" "$rel/patch_$oa.dll" 2>&1 | tr -d '\r')
    check "$a: an $oa patch names both architectures ($msg)" \
        grep -qE "^hotpe: $who: $rel/patch_$oa.dll: patch: built for another architecture than the process \(patch $oa, process $a\)$" <<<"$msg"

    # ---- docs/json.md: each verb's JSON, applied and refused, every key documented ----
    js=$d/json
    mkdir -p "$js"
    hp $a check --pid "$TPID" "$rel/patch.dll" --json >"$js/check-1.json" 2>/dev/null
    hp $a check --pid "$KID" "$rel/patch.dll" --json >"$js/check-2.json" 2>/dev/null
    hp $a apply --pid "$TPID" "$rel/patch.dll" --json >"$js/apply-1.json" 2>/dev/null
    hp $a apply --pid "$TPID" "$rel/patch.dll" --json >"$js/apply-3.json" 2>/dev/null
    hp $a check --pid "$TPID" "$rel/patch.dll" --json >"$js/check-3.json" 2>/dev/null
    jcheck "$a: apply --json of a live patch: already, its id" "$(cat "$js/apply-3.json")" \
        "[(p['status'], p['patch_id']) for p in d['processes']] == [('already', json.loads(sys.argv[3])['processes'][0]['patch_id'])]" \
        "$(cat "$js/apply-1.json")"
    hp $a apply --pid "$TPID" "$rel/patch_$oa.dll" --json >"$js/apply-2.json" 2>/dev/null
    hp $a list --pid "$TPID" --pid "$KID" --json >"$js/list-1.json" 2>/dev/null
    hp $a list --json >"$js/list-2.json" 2>/dev/null
    hp $a revert --pid "$TPID" "$rel/patch.dll" --json >"$js/revert-1.json" 2>/dev/null
    hp $a revert --pid "$KID" --all --json >"$js/revert-2.json" 2>/dev/null
    # a DLL kept loaded (a thread waits inside block.dll's compute), then freed
    hp $a apply --pid "$TPID" "$rel/block.dll" >/dev/null 2>&1
    r=$(ask "$d" "c 7")
    sleep 1
    hp $a revert --pid "$TPID" --all --unload --json >"$js/revert-3.json" 2>/dev/null
    r=$(ask "$d" r)
    hp $a revert --pid "$TPID" --all --unload --json >"$js/revert-4.json" 2>/dev/null
    for verb in check apply list revert; do
        msg=$(python3 tests/lib/json_doc.py docs/json.md $verb "$js/$verb"-*.json 2>&1)
        check "$a: $verb --json matches docs/json.md ($msg)" [ -z "$msg" ]
    done
    msg=$(python3 tests/lib/json_doc.py --no-cover --cover refused docs/json.md check \
        "$js/check-2.json" "$js/apply-2.json" 2>&1)
    check "$a: a refused process's keys match docs/json.md ($msg)" [ -z "$msg" ]

    check "$a: reverted: the target runs its original code" [ "$(ask "$d" q)" = "$q0" ]
    msg=$(hp $a list --pid "$TPID" 2>&1 | tr -d '\r')
    check "$a: nothing live after the refusals ($msg)" grep -qE "^$who: 0 live patches" <<<"$msg"
    echo x >&3
    exec 3>&-
    wait "$KID" 2>/dev/null
done

hp_summary $pass $fail
