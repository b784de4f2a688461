#!/usr/bin/env bash
# The freeze window of the transaction under Wine x64 (tests/win/bench_freeze.c): 1, 10, 100,
# 1000 hotpatch sites applied and reverted through proc_self + txn while 1 and 8 threads call
# them; the commit by phase; the no-freeze path; apply_cold (a proc_self opened per commit, as
# the shim does per request); the cost per call patched vs unpatched. The machine column ends
# with the load average: on 2 cores, other processes' load inflates the 8-thread windows most.
# Yardstick, same run, same functions, same busy threads: MinHook v1.3.4
# (bench/third_party/minhook) enabling and disabling hooks on the first 1, 10, 100, 1000
# functions, rows minhook_enable / minhook_disable: commits = MH_EnableHook/MH_DisableHook
# (MH_ALL_HOOKS) calls, win_min/win_mean/win_max = the whole call in us (MinHook's enumeration,
# suspend, writes and resume together; it reports no window of its own), commit = the mean whole
# call again (compare it with hotpe's commit column, the window with hotpe's window); froze,
# retries and the phases are "-". The program checks every function's result after each call.
# Appends dated lines (commit, machine) to bench/results/freeze.txt and prints the new ones.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/common.sh

exe=build/x64/tests/bench_freeze.exe
results=bench/results/freeze.txt
reps=${BENCH_REPS:-10}
[ -f "$exe" ] || make -s "$exe"
mkdir -p bench/results

# BENCH_FREEZE_INPUT=FILE: record a saved run of the program instead (e.g. an older build),
# under BENCH_FREEZE_LABEL in the commit column
if [ -n "${BENCH_FREEZE_INPUT:-}" ]; then
    out=$(tr -d '\r' <"$BENCH_FREEZE_INPUT")
else
    echo "bench_freeze: x64 under Wine, $reps repetitions..." >&2
    out=$(hp_wine "$exe" "$reps" | tr -d '\r') || true
fi
errors=$(grep '^error' <<<"$out" || true)
[ -n "$errors" ] && echo "$errors" >&2

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain -- pe applier tests/win/bench_freeze.c bench/third_party 2>/dev/null)" ] && commit="$commit+dirty"
commit=${BENCH_FREEZE_LABEL:-$commit}
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
machine="nproc=$(nproc) cpu=\"$cpu\" $(wine --version 2>/dev/null || echo wine) load=$(cut -d' ' -f1 /proc/loadavg)"

if [ ! -s "$results" ]; then
    cat >"$results" <<'HDR'
# bench_freeze: tests/win/bench_freeze.exe, x64 under Wine. Window: first suspend to last resume
# of the freeze that wrote (hp_txn_result.ns_window), in us, min/mean/max over the commits.
# Phases: mean us per commit (validate, freeze incl. busy retries, write, thaw; commit = stage +
# commit). apply_nofreeze: fresh sites with no_freeze (froze must be 0). call: ns per call
# through the patched entry (padding jump + FF 25 slot) against the unpatched function.
# call_entry: a plain -O2 function patched in the entry form (E9 + stub) to a trivial
# replacement; call_entry_orig: the replacement calls the original through its trampoline.
# minhook_enable/minhook_disable: MinHook v1.3.4 on the same functions and threads, the whole
# MH_EnableHook/MH_DisableHook(MH_ALL_HOOKS) call in the window columns and (mean) in commit.
# date (UTC)           commit        case            sites thr commits froze retries  win_min  win_mean   win_max  validate    freeze     write      thaw    commit  machine
HDR
fi
val() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }
# a results file begun before the MinHook rows gets their legend once
if grep -q '^case=minhook_' <<<"$out" && ! grep -q '^# .*minhook_enable/minhook_disable' "$results"; then
    legend="minhook_enable/minhook_disable (from here on): MinHook v1.3.4 on the same functions"
    legend+=" and threads, the whole MH_EnableHook/MH_DisableHook(MH_ALL_HOOKS) call in the"
    legend+=" window columns and (mean) in commit; froze, retries, phases \"-\""
    echo "# $date  $commit  $legend" | tee -a "$results"
fi
if grep -q '^case=call_entry' <<<"$out" && ! grep -q '^# .*call_entry' "$results"; then
    legend="call_entry (from here on): a plain -O2 function patched in the entry form (E9 + stub)"
    legend+=" to a trivial replacement; call_entry_orig: the replacement calls the original"
    legend+=" through its trampoline"
    echo "# $date  $commit  $legend" | tee -a "$results"
fi
{
    while read -r l; do
        case $l in
        case=call*)
            printf '%-20s  %-12s  %-14s  unpatched_ns=%s patched_ns=%s extra_ns=%s  %s\n' "$date" "$commit" \
                "$(val "$l" case)" "$(val "$l" unpatched_ns)" "$(val "$l" patched_ns)" "$(val "$l" extra_ns)" "$machine" ;;
        case=minhook_*)  # the case in 15 columns, one space less before sites: rows stay aligned
            printf '%-20s  %-12s  %-15s %5s %3s %7s %5s %7s %8s %9s %9s %9s %9s %9s %9s %9s  %s\n' \
                "$date" "$commit" "$(val "$l" case)" "$(val "$l" sites)" "$(val "$l" threads)" \
                "$(val "$l" calls)" - - "$(val "$l" min_us)" "$(val "$l" mean_us)" "$(val "$l" max_us)" \
                - - - - "$(val "$l" mean_us)" "$machine" ;;
        error*)
            printf '# %s  %s  %s\n' "$date" "$commit" "$l" ;;
        case=*)
            printf '%-20s  %-12s  %-14s  %5s %3s %7s %5s %7s %8s %9s %9s %9s %9s %9s %9s %9s  %s\n' \
                "$date" "$commit" "$(val "$l" case)" "$(val "$l" sites)" "$(val "$l" threads)" \
                "$(val "$l" commits)" "$(val "$l" froze)" "$(val "$l" retries)" \
                "$(val "$l" window_min_us)" "$(val "$l" window_mean_us)" "$(val "$l" window_max_us)" \
                "$(val "$l" validate_us)" "$(val "$l" freeze_us)" "$(val "$l" write_us)" \
                "$(val "$l" thaw_us)" "$(val "$l" commit_us)" "$machine" ;;
        esac
    done <<<"$out"
} | tee -a "$results"
# a failed commit (e.g. HP_E_TXN_BUSY) is recorded above; only a live run fails on it
[ -z "$errors" ] || [ -n "${BENCH_FREEZE_INPUT:-}" ]
