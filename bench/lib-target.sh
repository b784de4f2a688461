# Sourced by the benchmarks that patch a running bench/apply/target.exe (x64 under Wine):
# builds it and the 2-site patch of wine-tests/live/patch.c into $d (target.exe, patch.dll),
# sets rel (that folder relative to the checkout, as hotpe.exe is given it), and the columns
# every result line carries: date, commit (+dirty when the product or the target changed),
# machine. Set HP_LIVE_OUT and the caller's name (bench) before sourcing.
source wine-tests/lib-live.sh

d=$out/x64
mkdir -p "$d" bench/results
if ! { x86_64-w64-mingw32-gcc $SDK_FLAGS -o "$d/target.exe" bench/apply/target.c &&
    x86_64-w64-mingw32-gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw.dll" wine-tests/live/patch.c &&
    "$hotpe" build --base "$d/target.exe" "$d/raw.dll" -o "$d/patch.dll"; } >"$d/build.log" 2>&1; then
    echo "$bench: build failed: $(head -3 "$d/build.log")" >&2
    exit 1
fi
rel=${d#"$HP_ROOT"/}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain -- pe engine applier loader-shim bench/apply 2>/dev/null)" ] && commit="$commit+dirty"
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
machine="nproc=$(nproc) cpu=\"$cpu\" $(wine --version 2>/dev/null || echo wine) load=$(cut -d' ' -f1 /proc/loadavg)"

# over the JSON documents in a file, one per line: the mean and the median of a jq expression
# (nanoseconds), in ms; and the clock the benchmarks time whole runs with
mean_ms() { jq -s "[.[] | ($2 // 0)] | if length == 0 then 0 else (add / length / 1e6) end" "$1"; }
median_ms() { jq -s "[.[] | ($2 // 0)] | sort | if length == 0 then 0 else (.[(length - 1) / 2 | floor] + .[length / 2 | floor]) / 2 / 1e6 end" "$1"; }
now_ns() { date +%s%N; }
