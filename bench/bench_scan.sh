#!/usr/bin/env bash
# `scan` throughput over the whole Wine corpus (both arches), single thread, and once the ratio
# against `llvm-objdump -d` on kernelbase.dll (x64). Appends one dated line to
# bench/results/scan.txt and prints the file.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/common.sh

bin=build/native/bench/bench_scan
results=bench/results/scan.txt
reps=${BENCH_REPS:-5}
[ -x "$bin" ] || make -s "$bin"
mkdir -p bench/results

files=$(hp_corpus | wc -l)
[ "$files" -gt 0 ] || { echo "bench_scan: no Wine corpus found" >&2; exit 1; }
echo "bench_scan: $files images, $reps repetitions..." >&2
kv=$(hp_corpus | "$bin" -r "$reps")
val() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$kv"; }

# The same analysis against llvm-objdump -d on one file (best of 3 each).
kb=$HP_CORPUS_X64/kernelbase.dll
kv_kb=$("$bin" -r 5 "$kb")
scan_kb=$(sed -n 's/.*\bbest_s=\([^ ]*\).*/\1/p' <<<"$kv_kb")
objdump_kb=$(for i in 1 2 3; do
    s=$(date +%s.%N); "$HP_LLVM/llvm-objdump" -d "$kb" >/dev/null; e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f\n", e - s }'
done | sort -n | head -1)
ratio=$(awk -v a="$objdump_kb" -v b="$scan_kb" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }')

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain -- pe applier 2>/dev/null)" ] && commit="$commit+dirty"
mb=$(awk -v b="$(val bytes)" 'BEGIN { printf "%.0f", b / 1e6 }')

if [ ! -s "$results" ]; then
    cat >"$results" <<'HDR'
# bench_scan: `hotpe scan`'s analysis over the Wine corpus (x64 + x86), file layout, one thread:
# headers, exports, .pdata, COFF symbols, load config + CFG table, one Zydis decode per entry.
# best/median: images in memory; mmap: each file mapped and unmapped (page cache warm).
# kernelbase: the x64 kernelbase.dll alone, and llvm-objdump -d on it (best of 3): the ratio
# says how many times faster decoding entries is than disassembling the whole image.
# date (UTC)           commit        images    MB  functions  failed  best s  median s    MB/s  functions/s  mmap s  kb scan s  kb objdump s  ratio  machine
HDR
fi
line=$(printf '%-20s  %-12s  %6s  %4s  %9s  %6s  %6s  %8s  %6s  %11s  %6s  %9s  %12s  %5s  nproc=%s cpu="%s"' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$(val images)" "$mb" "$(val functions)" \
    "$(val failed)" "$(val best_s)" "$(val median_s)" "$(val mb_per_s)" "$(val functions_per_s)" \
    "$(val mmap_best_s)" "$scan_kb" "$objdump_kb" "${ratio}x" "$(nproc)" "$cpu")
echo "$line" >>"$results"
cat "$results"
