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

# The Windows architectures this machine runs, x64 first. Wine runs an x86 program as a 32-bit
# Linux process, and some kernels (virtual machines among them) cannot execute 32-bit code: then
# /usr/bin/wine, which always starts through the 32-bit loader, fails even for x64 programs.
# There the x86 halves of the Wine tests are skipped, said once per script, and programs run
# through the 64-bit loader directly (a `wine` for it goes first on PATH).
HP_WINE32=/usr/lib/wine/wine
HP_WINE64=/usr/lib/wine/wine64
if [ -z "${HP_WINE_ARCHES:-}" ]; then
    if "$HP_WINE32" --version >/dev/null 2>&1; then
        HP_WINE_ARCHES="x64 x86"
    else
        HP_WINE_ARCHES="x64"
    fi
    export HP_WINE_ARCHES
fi
hp_wine_x86() { [[ " $HP_WINE_ARCHES " == *" x86 "* ]]; }
if ! hp_wine_x86 && [ -x "$HP_WINE64" ]; then
    HP_WINE64_BIN="$HP_BUILD/wine64-only"
    if [ ! -x "$HP_WINE64_BIN/wine" ]; then
        mkdir -p "$HP_WINE64_BIN"
        printf '#!/bin/sh\nexport WINELOADER=%s\nexec %s "$@"\n' "$HP_WINE64" "$HP_WINE64" >"$HP_WINE64_BIN/wine"
        chmod +x "$HP_WINE64_BIN/wine"
        ln -sf wine "$HP_WINE64_BIN/wine-stable"
    fi
    case ":$PATH:" in *":$HP_WINE64_BIN:"*) ;; *) export PATH="$HP_WINE64_BIN:$PATH" ;; esac
fi
hp_wine_arches_note() {
    hp_wine_x86 || echo "x86: skipped: this machine cannot execute 32-bit programs ($HP_WINE32 fails)"
}
# For a group about x86 and x64 processes together: without x86 it says so and exits.
hp_wine_need_x86() {
    hp_wine_x86 && return 0
    hp_wine_arches_note
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
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

# The tests apply unsigned patches and count the lines hotpe prints: in the test prefix an
# administrator's `hotpe trust unsigned allow` (docs/trust.md) silences the warning each such
# apply prints by default. wine-tests/test_trust.sh checks the default and restores this.
hp_wine_unsigned_allow() {
    hp_wine_env
    local a
    for a in $HP_WINE_ARCHES; do
        wine "$HP_BUILD/$a/hotpe.exe" trust unsigned allow >/dev/null 2>&1
        return
    done
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
