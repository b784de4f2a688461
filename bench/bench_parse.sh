#!/usr/bin/env bash
# Parse throughput over the whole Wine corpus (both arches), single thread: headers, exports,
# .pdata and load config. Appends one dated line to bench/results/parse.txt and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/common.sh

bin=build/native/bench/bench_parse
results=bench/results/parse.txt
reps=${BENCH_REPS:-5}
[ -x "$bin" ] || make -s "$bin"
mkdir -p bench/results

files=$(hp_corpus | wc -l)
[ "$files" -gt 0 ] || { echo "bench_parse: no Wine corpus found" >&2; exit 1; }
echo "bench_parse: $files images, $reps repetitions (reading them into memory first)..." >&2
kv=$(hp_corpus | "$bin" -r "$reps")
get() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$kv"; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain -- pe 2>/dev/null)" ] && commit="$commit+dirty"
mb=$(awk -v b="$(get bytes)" 'BEGIN { printf "%.0f", b / 1e6 }')

if [ ! -s "$results" ]; then
    cat >"$results" <<'HDR'
# bench_parse: Wine corpus (x64 + x86), file layout, single thread; per image: headers and
# sections, exports, .pdata, load config + CFG tables. best = fastest of the repetitions.
# date (UTC)           commit        images    MB   failed  best s  median s  images/s    MB/s  machine
HDR
fi
line=$(printf '%-20s  %-12s  %6s  %5s  %6s  %6s  %8s  %8s  %6s  nproc=%s cpu="%s"' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$(get images)" "$mb" "$(get failed)" \
    "$(get best_s)" "$(get median_s)" "$(get images_per_s)" "$(get mb_per_s)" "$(nproc)" "$cpu")
echo "$line" >>"$results"
cat "$results"
