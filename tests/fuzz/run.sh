#!/usr/bin/env bash
# Run one libFuzzer harness for a fixed wall time: tests/fuzz/run.sh BINARY SECONDS
#
# - replays every input under tests/fuzz/regressions/ first (each must run clean);
# - seeds build/fuzz/corpus-NAME (kept between runs, so coverage accumulates) with the 20
#   smallest distinct DLLs of each Wine corpus arch and the synthetic mkpe sample images;
# - fuzzes on one worker (CI has 2 cores) with ASan+UBSan, RSS limit 2 GB, 10 s per input;
# - prints executions, exec/s and coverage, and exits non-zero on a crash, leak or timeout,
#   whose input is kept under build/fuzz/artifacts-NAME/.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/common.sh

bin=${1:?usage: run.sh BINARY SECONDS}
seconds=${2:?usage: run.sh BINARY SECONDS}
name=$(basename "$bin")
out=build/fuzz
corpus=$out/corpus-$name
seeds=$out/seeds-$name
artifacts=$out/artifacts-$name
log=$out/$name.log
run_log=$out/$name.log.$$ # this run only: make test may fuzz at the same time
max_len=131072 # the smallest Wine DLLs are 50-60 KB; longer inputs only slow it down
mkdir -p "$corpus" "$seeds" "$artifacts"

fail=0
pass=0

# 1. Regression inputs: each must run without a report.
shopt -s nullglob
regressions=(tests/fuzz/regressions/*)
if [ ${#regressions[@]} -gt 0 ]; then
    if "$bin" -rss_limit_mb=2048 -timeout=10 "${regressions[@]}" >"$out/$name-regressions.log.$$" 2>&1; then
        echo "$name: ${#regressions[@]} regression inputs run clean"
        pass=$((pass + 1))
    else
        echo "$name: a regression input fails again (see $out/$name-regressions.log):" >&2
        grep -a -E "ERROR|SUMMARY|Running:" "$out/$name-regressions.log.$$" | tail -5 >&2
        fail=$((fail + 1))
    fi
    mv -f "$out/$name-regressions.log.$$" "$out/$name-regressions.log"
fi

# 2. Seeds: small real images of both arches (distinct contents), plus synthetic ones.
mkseeds=$out/mkseeds.$$
gcc -std=c11 -Wall -Wextra -Werror -O1 -Iinclude -Isdk/include -Itests/unit tests/fuzz/mkseeds.c -o "$mkseeds" &&
    "$mkseeds" "$seeds" || { echo "$name: cannot build the synthetic seeds" >&2; exit 1; }
rm -f "$mkseeds"
for dir in "$HP_CORPUS_X64" "$HP_CORPUS_X86"; do
    [ -d "$dir" ] || continue
    find "$dir" -maxdepth 1 -type f -name '*.dll' -printf '%s %p\n' | sort -n | awk '{print $2}' |
        while read -r f; do md5sum "$f"; done | awk '!seen[$1]++ {print $2}' | head -20 |
        while read -r f; do cp -n "$f" "$seeds/$(basename "$(dirname "$f")")-$(basename "$f")"; done
done
# Real COFF objects and an archive of each toolchain, when built (make builds build/x64 and
# build/x86; test_coff.sh the clang and clang-cl ones): the smallest 10 objects of each.
for dir in "$HP_BUILD"/x64/obj/pe "$HP_BUILD"/x86/obj/pe "$HP_BUILD"/oracle/coff; do
    [ -d "$dir" ] || continue
    tag=$(tr / - <<<"${dir#"$HP_BUILD"/}")
    find "$dir" -maxdepth 1 -type f \( -name '*.o' -o -name '*.obj' \) -size -128k -printf '%s %p\n' |
        sort -n | head -10 | awk '{print $2}' |
        while read -r f; do cp -n "$f" "$seeds/$tag-$(basename "$f")"; done
done
for f in "$HP_BUILD"/oracle/coff/*.a "$HP_BUILD"/oracle/coff/*.lib; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -le $max_len ] && cp -n "$f" "$seeds/ar-$(basename "$f")"
done
# Stamped patch images, when the SDK test has built them (make test runs it first): they
# carry .hotp1, hotpe's record, the .hotpe descriptors and IMAGE_HOT_PATCH_INFO.
for f in "$HP_BUILD"/sdk/out_*.dll; do
    [ -f "$f" ] && cp -n "$f" "$seeds/sdk-$(basename "$f")"
done
echo "$name: $(ls "$seeds" | wc -l) seeds, $(ls "$corpus" | wc -l) inputs already in $corpus"

# 3. Fuzz. New inputs go to $corpus; seeds are read from $seeds.
start=$(date +%s)
"$bin" "$corpus" "$seeds" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -max_len=$max_len -print_final_stats=1 -artifact_prefix="$artifacts/" \
    -close_fd_mask=1 >"$run_log" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))

stat() { grep -a -m1 "^stat::$1:" "$run_log" | awk '{print $2}'; }
execs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
units=$(stat new_units_added)
rss=$(stat peak_rss_mb)
last=$(grep -a -E '^#[0-9]+' "$run_log" | tail -1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
echo "$name: ${elapsed}s, ${execs:-?} executions, ${rate:-?} exec/s, coverage ${cov:-?} edges" \
     "(${ft:-?} features), corpus ${corp:-?}, ${units:-?} new inputs, peak RSS ${rss:-?} MB"

found=$(find "$artifacts" -type f -newermt "@$start" | head -5)
if [ $rc -ne 0 ] || [ -n "$found" ]; then
    echo "$name: libFuzzer reported a problem (exit $rc); log: $log" >&2
    grep -a -E "^(==[0-9]+==ERROR|SUMMARY|fuzz_pe:|.*runtime error)" "$run_log" | head -5 >&2
    grep -a -E "^    #[0-9]+ " "$run_log" | head -12 >&2
    [ -n "$found" ] && echo "$name: input kept: $found" >&2
    fail=$((fail + 1))
else
    pass=$((pass + 1))
fi
mv -f "$run_log" "$log"
hp_summary $pass $fail
