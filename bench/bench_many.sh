#!/usr/bin/env bash
# One `hotpe apply --name target.exe` over many running processes, x64 under Wine: N (BENCH_N,
# "1 10 50 100") copies of bench/apply/target.exe (BENCH_THREADS, 0, busy threads each: idle
# targets, so the numbers are hotpe's and not the scheduler's), the 2-site patch of
# wine-tests/live/patch.c, with the default pool (--jobs 8) and with --jobs 1 (one process after
# the other). For each N and each pool, fresh targets, settled 2 s + N/20 s after they print
# their pid (a Wine process goes on starting after its main() runs): "first" is the apply that
# injects the shim into every one of them; "apply" and "revert" (--all) are medians over
# BENCH_REPS (3) later rounds. wall = ms of the whole hotpe.exe run (Wine's start of it included); extra =
# (wall(N) - wall(1)) / (N - 1), ms per process beyond the first (needs 1 in BENCH_N).
# list (while the patch is live): what every verb pays per process before its own work (open
# the process, find the shim, read its registry), the floor the others are compared with.
# Every run's exit code and its count of "applied"/"reverted" lines are checked. Every target
# is stopped on every exit path.
# Appends dated lines (commit, machine) to bench/results/many.txt and prints the new ones.
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=bench-many
bench=bench_many
source bench/lib-target.sh

results=bench/results/many.txt
reps=${BENCH_REPS:-3}
sizes=${BENCH_N:-"1 10 50 100"}
export HOTPE_BENCH_THREADS=${BENCH_THREADS:-0}
if [ ! -s "$results" ]; then
    cat >"$results" <<'HDR'
# bench_many: one hotpe.exe apply --name target.exe (2-site patch) and revert --all over N running
# bench/apply/target.exe (x64 under Wine, idle), with --jobs 8 (the default) and --jobs 1.
# Fresh targets per N and pool: first = the apply that injects the shim; apply, revert = medians
# of the later rounds. wall: ms of the whole hotpe.exe run; extra: (wall(N) - wall(1)) / (N - 1),
# ms per process beyond the first; x: wall with --jobs 1 / wall with --jobs 8.
# date (UTC)           commit        verb      N rounds  wall_j8  wall_j1  extra_j8 extra_j1     x  machine
HDR
fi

# A hotpe.exe run bounded for 100 processes one after the other (lib-live's hp allows 90 s).
hpm() { timeout 900 wine "$HP_BUILD/x64/hotpe.exe" "$@" 3>&-; }

# N targets on one FIFO: each waits on its stdin, and all exit on its end (fd 3, its only
# writer, closed: no child may hold it).
start_many() { # n
    local n=$1 i deadline
    rm -f "$d/in" "$d"/out.* && mkfifo "$d/in"
    exec 3<>"$d/in"
    for i in $(seq 1 "$n"); do
        HOTPE_TARGET_SECONDS=1800 timeout 1900 wine "$d/target.exe" <"$d/in" >"$d/out.$i" 2>/dev/null 3>&- &
        KIDS+=($!)
    done
    deadline=$((SECONDS + 60 + 3 * n))
    for i in $(seq 1 "$n"); do
        until grep -q '^pid ' "$d/out.$i" 2>/dev/null; do
            [ $SECONDS -lt $deadline ] || { echo "$bench: target $i of $n did not start" >&2; return 1; }
            sleep 0.2
        done
    done
    sleep "$(awk -v n="$n" 'BEGIN {print 2 + n / 20}')" # a new Wine process goes on starting
}

stop_many() {
    local p
    exec 3>&-
    for p in "${KIDS[@]}"; do
        timeout 30 tail --pid="$p" -f /dev/null 2>/dev/null || kill "$p" 2>/dev/null
    done
    KIDS=()
}

# Time one hotpe run into $wall (ms); its stdout in $d/run.out. false: it failed, or it did not
# print one "VERB" line per process.
timed() { # n word args...
    local n=$1 word=$2 t0 rc lines
    shift 2
    t0=$(now_ns)
    hpm "$@" >"$d/run.out" 2>"$d/run.err"
    rc=$?
    wall=$(( ($(now_ns) - t0) / 1000 ))
    lines=$(grep -cE ": $word " "$d/run.out")
    [ $rc -eq 0 ] && [ "$lines" -eq "$n" ] && return 0
    echo "$bench: $* (N $n): exit $rc, $lines of $n '$word' lines: $(head -2 "$d/run.err")" >&2
    return 1
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR ? (v[int((NR+1)/2)] + v[int(NR/2)+1]) / 2 : 0)}'; }

declare -A W # W[verb,N,jobs] = wall in us
rc=0
for n in $sizes; do
    for jobs in 8 1; do
        echo "$bench: $n targets, --jobs $jobs..." >&2
        if ! start_many "$n"; then
            rc=1
            stop_many
            continue
        fi
        : >"$d/apply.us"
        : >"$d/revert.us"
        : >"$d/list.us"
        ok=1
        timed "$n" applied apply --jobs "$jobs" --name target.exe "$rel/patch.dll" && W[first,$n,$jobs]=$wall || ok=0
        timed "$n" reverted revert --jobs "$jobs" --name target.exe --all || ok=0
        for _ in $(seq 1 "$reps"); do
            [ $ok = 1 ] || break
            timed "$n" applied apply --jobs "$jobs" --name target.exe "$rel/patch.dll" && echo "$wall" >>"$d/apply.us" || ok=0
            timed "$n" "[0-9]+ live" list --jobs "$jobs" --name target.exe && echo "$wall" >>"$d/list.us" || ok=0
            timed "$n" reverted revert --jobs "$jobs" --name target.exe --all && echo "$wall" >>"$d/revert.us" || ok=0
        done
        [ $ok = 1 ] || rc=1
        [ -s "$d/apply.us" ] && W[apply,$n,$jobs]=$(median <"$d/apply.us")
        [ -s "$d/revert.us" ] && W[revert,$n,$jobs]=$(median <"$d/revert.us")
        [ -s "$d/list.us" ] && W[list,$n,$jobs]=$(median <"$d/list.us")
        stop_many
    done
done

# ms from W (or -), and the per-process extra against N = 1
ms() { [ -n "${W[$1]:-}" ] && awk -v v="${W[$1]}" 'BEGIN {printf "%.1f", v / 1000}' || echo -; }
extra() { # verb n jobs
    [ "$2" != 1 ] && [ -n "${W[$1,$2,$3]:-}" ] && [ -n "${W[$1,1,$3]:-}" ] || { echo -; return; }
    awk -v a="${W[$1,$2,$3]}" -v b="${W[$1,1,$3]}" -v n="$2" 'BEGIN {printf "%.1f", (a - b) / (n - 1) / 1000}'
}
ratio() { # verb n
    [ -n "${W[$1,$2,8]:-}" ] && [ -n "${W[$1,$2,1]:-}" ] || { echo -; return; }
    awk -v a="${W[$1,$2,1]}" -v b="${W[$1,$2,8]}" 'BEGIN {printf "%.2f", a / b}'
}
for n in $sizes; do
    for verb in first apply revert list; do
        [ -n "${W[$verb,$n,8]:-}${W[$verb,$n,1]:-}" ] || continue
        r=$([ $verb = first ] && echo 1 || echo "$reps")
        printf '%-20s  %-12s  %-6s %4s %6s %8s %8s %9s %8s %5s  %s\n' "$date" "$commit" "$verb" \
            "$n" "$r" "$(ms "$verb,$n,8")" "$(ms "$verb,$n,1")" "$(extra $verb "$n" 8)" \
            "$(extra $verb "$n" 1)" "$(ratio $verb "$n")" "$machine"
    done
done | tee -a "$results"
exit $rc
