#!/usr/bin/env bash
# Whole `hotpe apply` and `hotpe revert` on a running process, by phase, x64 under Wine:
# bench/apply/target.c with 1, 5 and 8 busy threads, the patch of wine-tests/live/patch.c
# (2 sites), BENCH_REPS (10) apply+revert rounds per thread count. Phases, mean ms: hotpe's
# side (validate from outside, inject the shim - once per process, so only the first apply
# pays it -, request = the shim's work and the remote thread around it) from --json
# "hotpe_ns"; the shim's side (validate, load, fixup, callback, commit = freeze + IP check +
# write + resume) from "phases_ns"; window = every other thread suspended ("freeze_ns");
# wall = the whole hotpe.exe run under Wine (process start included); start = the median wall of
# `hotpe --version` timed in turn with each round (Wine's own cost of a hotpe.exe process
# under the same load); beyond = median wall - start: what the verb itself costs.
# Appends dated lines (commit, machine) to bench/results/apply.txt and prints the new ones.
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=bench-apply
bench=bench_apply
source bench/lib-target.sh

results=bench/results/apply.txt
reps=${BENCH_REPS:-10}
if [ ! -s "$results" ]; then
    cat >"$results" <<'HDR'
# bench_apply: hotpe.exe apply/revert --json on bench/apply/target.exe (x64 under Wine, 2 sites).
# Mean ms over the rounds; "first" = the first apply (it injects the shim). hotpe side:
# validate (outside), inject, request; shim side: s_validate, load, fixup, callback, commit
# (freeze + IP check + write + resume), s_total; window = threads suspended; wall = hotpe.exe.
# revert: window and wall only (its JSON has no phases: 0 in those columns).
# date (UTC)           commit        verb    thr rounds validate  inject request s_validate   load  fixup callback commit s_total  window    wall   start  beyond  machine
HDR
fi

row() { # verb threads file
    local f=$3 n wall start
    n=$(jq -s length "$f")
    wall=$(median_ms "$f" '.wall_ns')
    start=$(median_ms "$d/version.json" '.wall_ns')
    printf '%-20s  %-12s  %-6s %4s %6s %8.3f %7.3f %7.3f %10.3f %6.3f %6.3f %8.3f %6.3f %7.3f %7.3f %7.1f %7.1f %7.1f  %s\n' \
        "$date" "$commit" "$1" "$2" "$n" \
        "$(mean_ms "$f" '.processes[0].hotpe_ns.validate')" \
        "$(mean_ms "$f" '.processes[0].hotpe_ns.inject')" \
        "$(mean_ms "$f" '.processes[0].hotpe_ns.request')" \
        "$(mean_ms "$f" '.processes[0].phases_ns.validate')" \
        "$(mean_ms "$f" '.processes[0].phases_ns.load')" \
        "$(mean_ms "$f" '.processes[0].phases_ns.fixup')" \
        "$(mean_ms "$f" '.processes[0].phases_ns.callback')" \
        "$(mean_ms "$f" '.processes[0].phases_ns.commit')" \
        "$(mean_ms "$f" '.processes[0].phases_ns.total')" \
        "$(mean_ms "$f" '.processes[0].freeze_ns')" \
        "$(mean_ms "$f" '.wall_ns')" "$start" "$(jq -n "$wall - $start")" "$machine"
}

rc=0
for threads in 1 5 8; do
    export HOTPE_BENCH_THREADS=$threads
    if ! start_target "$d"; then
        echo "bench_apply: target did not start: $(cat "$d/err")" >&2
        rc=1
        continue
    fi
    : >"$d/first.json"; : >"$d/apply.json"; : >"$d/revert.json"; : >"$d/version.json"
    echo "bench_apply: $threads busy threads, $reps rounds..." >&2
    for i in $(seq 1 "$reps"); do
        t0=$(now_ns)
        a=$(hp x64 apply --pid "$TPID" "$rel/patch.dll" --json 2>"$d/apply.err") || {
            echo "bench_apply: apply failed: $(cat "$d/apply.err")" >&2; rc=1; break; }
        t1=$(now_ns)
        r=$(hp x64 revert --pid "$TPID" --all --json 2>"$d/revert.err") || {
            echo "bench_apply: revert failed: $(cat "$d/revert.err")" >&2; rc=1; break; }
        t2=$(now_ns)
        [ "$i" = 1 ] && f=first.json || f=apply.json
        jq -c ". + {wall_ns: $((t1 - t0))}" <<<"$a" >>"$d/$f"
        jq -c ". + {wall_ns: $((t2 - t1))}" <<<"$r" >>"$d/revert.json"
        for k in 1 2; do # Wine's start of a hotpe.exe, under the same load
            t3=$(now_ns)
            hp x64 --version >/dev/null 2>&1
            echo "{\"wall_ns\": $(($(now_ns) - t3))}" >>"$d/version.json"
        done
    done
    echo x >&3
    exec 3>&-
    wait "$KID" 2>/dev/null
    {
        [ -s "$d/first.json" ] && row first "$threads" "$d/first.json"
        [ -s "$d/apply.json" ] && row apply "$threads" "$d/apply.json"
        [ -s "$d/revert.json" ] && row revert "$threads" "$d/revert.json"
    } | tee -a "$results"
done
exit $rc
