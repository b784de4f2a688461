#!/usr/bin/env bash
# What a patch costs the target in memory, x64 under Wine: bench/apply/target.c (1 busy thread)
# before any patch, after the first patch (wine-tests/live/patch.c, 2 sites: this injects
# hotpe-shim.dll, starts its worker and loads the patch DLL), after a revert, and after the
# same patch applied again (a later patch: the DLL is still loaded). Read from Linux, where the
# Wine process lives: /proc/PID/smaps_rollup's Rss and Private (Private_Clean + Private_Dirty:
# the pages only this process has), in KB, each the median of BENCH_REPS (5) fresh targets.
# Beside them the file sizes of hotpe-shim.dll and of the patch DLL.
# Appends dated lines (commit, machine) to bench/results/memory.txt and prints the new ones.
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=bench-memory
bench=bench_memory
source bench/lib-target.sh

results=bench/results/memory.txt
reps=${BENCH_REPS:-5}
shim_kb=$(( $(stat -c %s "$HP_BUILD/x64/hotpe-shim.dll") / 1024 ))
patch_kb=$(( $(stat -c %s "$d/patch.dll") / 1024 ))
if [ ! -s "$results" ]; then
    cat >"$results" <<'HDR'
# bench_memory: bench/apply/target.exe (x64 under Wine, 1 busy thread) and the 2-site patch of
# wine-tests/live/patch.c. KB from /proc/PID/smaps_rollup, medians over the targets: Rss and
# Private (Private_Clean + Private_Dirty) before any patch, and what the first apply (shim
# injected, worker started, patch DLL loaded), a revert, and the same patch applied again add.
# shim/patch: file sizes of hotpe-shim.dll and of the patch DLL.
# date (UTC)           commit         reps  rss0  priv0  +rss1 +priv1  +rss_rev +priv_rev  +rss2 +priv2  shim  patch  machine
HDR
fi

# Rss and Private of a Linux pid, in KB
mem() { awk '/^Rss:/ {r=$2} /^Private_(Clean|Dirty):/ {p+=$2} END {print r, p}' "/proc/$1/smaps_rollup"; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR ? (v[int((NR+1)/2)] + v[int(NR/2)+1]) / 2 : 0)}'; }

export HOTPE_BENCH_THREADS=1
: >"$d/rows"
rc=0
for i in $(seq 1 "$reps"); do
    if ! start_target "$d"; then
        echo "bench_memory: target did not start: $(cat "$d/err")" >&2
        rc=1
        break
    fi
    lpid=$(pgrep -n -x target.exe) # the Wine process itself (the launcher execs into it)
    sleep 1
    read -r r0 p0 < <(mem "$lpid")
    hp x64 apply --pid "$TPID" "$rel/patch.dll" >/dev/null 2>&1 || { echo "bench_memory: apply failed" >&2; rc=1; }
    sleep 0.5
    read -r r1 p1 < <(mem "$lpid")
    hp x64 revert --pid "$TPID" --all >/dev/null 2>&1 || rc=1
    sleep 0.5
    read -r r2 p2 < <(mem "$lpid")
    hp x64 apply --pid "$TPID" "$rel/patch.dll" >/dev/null 2>&1 || rc=1
    sleep 0.5
    read -r r3 p3 < <(mem "$lpid")
    echo "$r0 $p0 $((r1 - r0)) $((p1 - p0)) $((r2 - r1)) $((p2 - p1)) $((r3 - r2)) $((p3 - p2))" >>"$d/rows"
    echo x >&3
    exec 3>&-
    wait "$KID" 2>/dev/null
done
col() { awk -v c="$1" '{print $c}' "$d/rows" | median; }
printf '%-20s  %-13s  %4s %5s %6s  %5s %6s  %8s %9s  %5s %6s  %4s %6s  %s\n' "$date" "$commit" \
    "$(wc -l <"$d/rows")" "$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)" "$(col 6)" \
    "$(col 7)" "$(col 8)" "$shim_kb" "$patch_kb" "$machine" | tee -a "$results"
exit $rc
