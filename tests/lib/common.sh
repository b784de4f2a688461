# hotpe test helpers, sourced by tests/oracle/*.sh, bench/*.sh and wine-tests/*.sh.
# Paths are relative to the repository root, which every script runs from.

HP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HP_BUILD="$HP_ROOT/build"
HP_CORPUS_X64=/usr/lib/x86_64-linux-gnu/wine/x86_64-windows
HP_CORPUS_X86=/usr/lib/i386-linux-gnu/wine/i386-windows
HP_LLVM=/usr/lib/llvm-14/bin

# Every image of the Wine corpus, both architectures, one per line: DLLs and EXEs, and the
# drivers, control panels, codecs and 16-bit thunk modules, which are PE images too.
hp_corpus() {
    find "$HP_CORPUS_X64" "$HP_CORPUS_X86" -maxdepth 1 -type f | sort
}

# Build whichever of FILE... is missing, in one make run (paths may be absolute: make's rules
# are relative to the root). Returns make's status.
hp_need() {
    local f need=()
    for f in "$@"; do
        [ -e "$f" ] || need+=("${f#"$HP_ROOT"/}")
    done
    [ ${#need[@]} -eq 0 ] || make -s -C "$HP_ROOT" "${need[@]}"
}

# One Wine prefix per build tree, created on first use (6-10 s) and then reused.
hp_wine_env() {
    export WINEPREFIX="$HP_BUILD/wineprefix"
    export WINEDEBUG=-all
    export WINEDLLOVERRIDES="mscoree,mshtml="
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        mkdir -p "$WINEPREFIX"
        wineboot -i >/dev/null 2>&1 || true
        wineserver -w
    fi
}

# Run a Windows program under Wine: hp_wine PROGRAM.exe ARGS... (wine picks 32 or 64 bit)
hp_wine() {
    hp_wine_env
    wine "$@"
}

# The plain closing line every shell-driven test group prints.
hp_summary() { # passed failed
    echo "$1 passed, $2 failed"
    [ "$2" -eq 0 ]
}
