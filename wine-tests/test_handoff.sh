#!/usr/bin/env bash
# The 64->32 hand-off under Wine (issue 5): build/x64/hotpe.exe given a 32-bit target runs
# build/x86/hotpe.exe (..\x86\hotpe.exe from its folder) with the same arguments, passing on
# the output and the exit code:
#  - --pid of an x86 target: check, apply, list (text and --json), a refused apply (exit 1),
#    revert --unload, each with its effect in the target checked;
#  - --name matching an x64 and an x86 target.exe: the x64 hotpe does its own process and
#    hands on the other; --json gives one document holding both; an x86 patch applies to the
#    x86 process and is refused for the x64 one (exit 3);
#  - no 32-bit hotpe beside the x64 one: one line per 32-bit process naming the paths looked
#    for, exit 1.
# (The x86 hotpe still refuses an x64 target: wine-tests/test_live.sh.)
# Targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=handoff
source tests/lib/common.sh
hp_wine_need_x86
source wine-tests/lib-live.sh

d32=$out/x86
d64=$out/x64
mkdir -p "$d32" "$d64" "$out/lonely"
if ! { i686-w64-mingw32-gcc $SDK_FLAGS -o "$d32/target.exe" wine-tests/live/target.c &&
    x86_64-w64-mingw32-gcc $SDK_FLAGS -o "$d64/target.exe" wine-tests/live/target.c &&
    i686-w64-mingw32-gcc $SDK_FLAGS -shared -o "$d32/raw.dll" wine-tests/live/patch_leaf.c &&
    "$hotpe" build --base "$d32/target.exe" "$d32/raw.dll" -o "$d32/patch.dll" &&
    cp "$HP_BUILD/x64/hotpe.exe" "$HP_BUILD/x64/hotpe-shim.dll" "$out/lonely/"; } >"$out/build.log" 2>&1; then
    bad "build: $(head -3 "$out/build.log")"
    hp_summary $pass $fail
    exit 1
fi
ok
rel=${d32#"$HP_ROOT"/}

# two targets: the x86 one's input on fd 5, the x64 one's on fd 6 (ask writes to fd 3)
start_target "$d32" || bad "x86 target did not start: $(cat "$d32/err")"
T32=$TPID
exec 5>&3
start_target "$d64" || bad "x64 target did not start: $(cat "$d64/err")"
T64=$TPID
exec 6>&3
ask32() { exec 3>&5; ask "$d32" "$1"; }
ask64() { exec 3>&6; ask "$d64" "$1"; }

# --pid of the x86 target, through the x64 hotpe
msg=$(hp x64 check --pid "$T32" "$rel/patch.dll" 2>&1)
rc=$?
check "check handed on (rc $rc: $msg)" [ $rc -eq 0 ]
check "check: the x86 hotpe's answer ($msg)" grep -qx "pid $T32 (target.exe): target.exe: .*patch.dll would apply (2 sites)" <<<"$msg"
r=$(ask32 "m hotpe-shim.dll")
check "check injected nothing ($r)" [ "$r" = "m hotpe-shim.dll absent" ]
msg=$(hp x64 apply --pid "$T32" "$rel/patch.dll" 2>&1)
rc=$?
check "apply handed on (rc $rc: $msg)" [ $rc -eq 0 ]
check "apply: the x86 hotpe's answer ($msg)" grep -qx "pid $T32 (target.exe): target.exe: applied .*patch.dll as patch 1 (2 sites, .*)" <<<"$msg"
r=$(ask32 q)
check "x86 target patched ($r)" [ "$r" = "q compute=15 label=1006" ]
r=$(ask32 w)
check "x86 target's threads patched ($r)" [ "$r" = "w compute=15 label=1006" ]
l=$(hp x64 list --pid "$T32" 2>&1)
check "list handed on ($l)" grep -q "patch 1  sequence 1  target.exe  .*patch.dll  (2 sites)" <<<"$l"
lj=$(hp x64 list --pid "$T32" --json 2>"$out/stderr")
check "list --json handed on: one document ($lj $(cat "$out/stderr"))" python3 -c '
import json, sys
d = json.loads(sys.argv[1]); p = d["processes"]
assert len(p) == 1 and p[0]["pid"] == int(sys.argv[2]) and len(p[0]["patches"]) == 1, d
assert p[0]["patches"][0]["target_base"] < 2**32, p' "$lj" "$T32"
msg=$(hp x64 apply --pid "$T32" "$rel/patch.dll" 2>&1)
rc=$?
check "the same patch again: the child's exit code 0 (rc $rc: $msg)" [ $rc -eq 0 ]
check "the same patch again: the child's line ($msg)" grep -qx "pid $T32 (target.exe): target.exe: $rel/patch.dll is live already as patch 1: nothing to do" <<<"$msg"
msg=$(hp x64 revert --pid "$T32" 1 --unload 2>&1)
rc=$?
check "revert --unload handed on (rc $rc: $msg)" [ $rc -eq 0 ]
r=$(ask32 q)
check "x86 target original after revert ($r)" [ "$r" = "q compute=10 label=1005" ]
r=$(ask32 "m patch.dll")
check "x86 target: patch.dll unloaded ($r)" [ "$r" = "m patch.dll absent" ]

# --name matching both: the x64 process here, the x86 one handed on, one JSON document
lj=$(hp x64 list --name target.exe --json 2>"$out/stderr")
rc=$?
check "list --name, both architectures: one document (rc $rc: $lj $(cat "$out/stderr"))" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert sorted(p["pid"] for p in d["processes"]) == sorted([int(sys.argv[2]), int(sys.argv[3])]), d
assert all(p["patches"] == [] for p in d["processes"]), d' "$lj" "$T32" "$T64"
check "list --name, both: exit 0 (rc $rc)" [ $rc -eq 0 ]
msg=$(hp x64 apply --name target.exe "$rel/patch.dll" 2>&1)
rc=$?
check "x86 patch over both: exit 3, partly done (rc $rc: $msg)" [ $rc -eq 3 ]
check "x86 patch over both: the x64 process refused ($msg)" grep -q "^hotpe: pid $T64 (target.exe): .*patch.dll: patch: built for another architecture than the process (patch x86, process x64)" <<<"$msg"
check "x86 patch over both: applied in the x86 one ($msg)" grep -q "^pid $T32 (target.exe): target.exe: applied .*patch.dll as patch 2" <<<"$msg"
check "x86 patch over both: summary ($msg)" grep -qx "hotpe: apply: done in 1 processes, partly in 0, failed in 1" <<<"$msg"
r=$(ask32 q)
check "x86 target patched by --name ($r)" [ "$r" = "q compute=15 label=1006" ]
r=$(ask64 q)
check "x64 target unchanged ($r)" [ "$r" = "q compute=10 label=1005" ]
r=$(ask64 "m hotpe-shim.dll")
check "x64 target: nothing injected ($r)" [ "$r" = "m hotpe-shim.dll absent" ]
msg=$(hp x64 revert --name target.exe --all --json 2>"$out/stderr")
rc=$?
check "revert --all over both: one document (rc $rc: $msg $(cat "$out/stderr"))" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
got = {p["pid"]: p["reverted"] for p in d["processes"]}
assert got == {int(sys.argv[2]): 1, int(sys.argv[3]): 0}, d' "$msg" "$T32" "$T64"
r=$(ask32 q)
check "x86 target original again ($r)" [ "$r" = "q compute=10 label=1005" ]

# no 32-bit hotpe beside this one
msg=$(timeout 90 wine "$out/lonely/hotpe.exe" list --pid "$T32" 2>&1)
rc=$?
check "no 32-bit hotpe: exit 1 (rc $rc: $msg)" [ $rc -eq 1 ]
check "no 32-bit hotpe: one line naming the paths looked for ($msg)" \
    grep -qx "hotpe: pid $T32 (target.exe): process: 32-bit, and no 32-bit hotpe.exe beside this one to hand it to (looked for .*lonely.x86.hotpe.exe, .*handoff.x86.hotpe.exe)" <<<"$msg"
msg=$(timeout 90 wine "$out/lonely/hotpe.exe" list --pid "$T64" 2>&1)
rc=$?
check "the lonely x64 hotpe still does x64 targets (rc $rc: $msg)" [ $rc -eq 0 ]

r=$(ask32 w)
check "x86 target alive and original ($r)" [ "$r" = "w compute=10 label=1005" ]
r=$(ask64 w)
check "x64 target alive and original ($r)" [ "$r" = "w compute=10 label=1005" ]

hp_summary $pass $fail
