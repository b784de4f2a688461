#!/usr/bin/env bash
# The rooms as the linker sees them: hotpe-shim.dll (x64 and x86) is the in-target program and
# links engine/ and pe/ only. Read with binutils' nm and llvm-readobj (independent of pe/):
#  - it exports exactly hotpe_registry and hotpe_shim_run;
#  - it holds the engine both sides share: the admission policy, the site plan, the patch
#    checks, the transaction (the same functions the unit tests run natively);
#  - it holds no command-line code: no verb, option parser, JSON writer, target selection or
#    shim client (applier/), and no main;
#  - it holds no instruction decoder (Zydis, site analysis, the stub recipe's decoding): it
#    builds stubs from the recipe hotpe build recorded (hp_insn_stub_make), and no debug
#    sections.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

pass=0 fail=0
check() { # description command...
    local what=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}

for arch in x64 x86; do
    dll=$HP_BUILD/$arch/hotpe-shim.dll
    hp_need "$dll" || exit 1
    nm=x86_64-w64-mingw32-nm
    [ $arch = x86 ] && nm=i686-w64-mingw32-nm
    # x86 C symbols carry a leading underscore
    syms=$($nm "$dll" | awk '$2 ~ /^[TtDdBbRr]$/ {print $3}' | sed 's/^_//')
    exports=$("$HP_LLVM/llvm-readobj" --coff-exports "$dll" | awk '/Name:/ {print $2}' | sort | tr '\n' ' ')
    check "$arch: exports are hotpe_registry and hotpe_shim_run ($exports)" \
        [ "$exports" = "hotpe_registry hotpe_shim_run " ]
    for f in hp_admit hp_plan_make hp_plan_place hp_patch_check hp_patch_sites hp_txn_commit \
        hp_txn_guard hp_cfg_plan_make hp_proc_self_open hp_pe_parse; do
        check "$arch: the shared engine's $f is in the shim" grep -qx "$f" <<<"$syms"
    done
    cli=$(grep -E '^(hp_verb_|hp_cli_|hp_json_|hp_target_|hp_shimc_|hp_print_|main$)' <<<"$syms" | tr '\n' ' ' || true)
    check "$arch: no command-line code in the shim (${cli:-none})" [ -z "$cli" ]
    dec=$(grep -E '^(Zydis|Zycore|hp_site_|hp_insn_moved_of$|hp_insn_stub_build$)' <<<"$syms" | head -5 | tr '\n' ' ' || true)
    check "$arch: no instruction decoder in the shim (${dec:-none})" [ -z "$dec" ]
    check "$arch: the stub is built from the recipe" grep -qx hp_insn_stub_make <<<"$syms"
    dbg=$("$HP_LLVM/llvm-readobj" --sections "$dll" | awk '/Name: \.debug/ {print $2}' | tr '\n' ' ')
    check "$arch: no debug sections in the shim (${dbg:-none})" [ -z "$dbg" ]
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
