#!/usr/bin/env bash
# TARGET --module NAME.dll under Wine (issue 5): every process that has loaded NAME.dll.
# Three targets (wine-tests/live/target.c): A (x64) and C (x86) load marker.dll (target command
# "l"), B (x64) does not. Through the x64 hotpe (C is handed to the x86 one):
#  - list --module marker.dll --json: one document with A and C, not B;
#  - apply --module marker.dll of an x64 patch: applied in A, refused in C (other
#    architecture): exit 3 and a summary line; B unchanged;
#  - revert --module marker.dll --all: exit 0, A original again;
#  - a module no process has loaded: exit 1, one line.
# Targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=module
source tests/lib/common.sh
hp_wine_need_x86
source wine-tests/lib-live.sh

dA=$out/a
dB=$out/b
dC=$out/c
mkdir -p "$dA" "$dB" "$dC"
marker='int marker(void) { return 1; }'
if ! { x86_64-w64-mingw32-gcc $SDK_FLAGS -o "$dA/target.exe" wine-tests/live/target.c &&
    cp "$dA/target.exe" "$dB/target.exe" &&
    i686-w64-mingw32-gcc $SDK_FLAGS -o "$dC/target.exe" wine-tests/live/target.c &&
    x86_64-w64-mingw32-gcc $SDK_FLAGS -shared -x c -o "$dA/marker.dll" - <<<"$marker" &&
    i686-w64-mingw32-gcc $SDK_FLAGS -shared -x c -o "$dC/marker.dll" - <<<"$marker" &&
    x86_64-w64-mingw32-gcc $SDK_FLAGS -shared -o "$dA/raw.dll" wine-tests/live/patch_leaf.c &&
    "$hotpe" build --base "$dA/target.exe" "$dA/raw.dll" -o "$dA/patch.dll"; } >"$out/build.log" 2>&1; then
    bad "build: $(head -3 "$out/build.log")"
    hp_summary $pass $fail
    exit 1
fi
ok
rel=${dA#"$HP_ROOT"/}

# three targets: input of A on fd 5, B on fd 6, C on fd 7 (ask writes to fd 3)
start_target "$dA" || bad "A did not start: $(cat "$dA/err")"
TA=$TPID
exec 5>&3
start_target "$dB" || bad "B did not start: $(cat "$dB/err")"
TB=$TPID
exec 6>&3
start_target "$dC" || bad "C did not start: $(cat "$dC/err")"
TC=$TPID
exec 7>&3
askA() { exec 3>&5; ask "$dA" "$1"; }
askB() { exec 3>&6; ask "$dB" "$1"; }
askC() { exec 3>&7; ask "$dC" "$1"; }
r=$(askA "l $(winepath -w "$dA/marker.dll")")
check "A loads marker.dll ($r)" grep -q " loaded$" <<<"$r"
r=$(askC "l $(winepath -w "$dC/marker.dll")")
check "C loads marker.dll ($r)" grep -q " loaded$" <<<"$r"

lj=$(hp x64 list --module marker.dll --json 2>"$out/stderr")
rc=$?
check "list --module: A and C, not B (rc $rc: $lj $(cat "$out/stderr"))" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert sorted(p["pid"] for p in d["processes"]) == sorted([int(sys.argv[2]), int(sys.argv[3])]), d' "$lj" "$TA" "$TC"
check "list --module: exit 0 (rc $rc)" [ $rc -eq 0 ]

msg=$(hp x64 apply --module marker.dll "$rel/patch.dll" 2>&1)
rc=$?
check "apply --module: exit 3, some failed (rc $rc: $msg)" [ $rc -eq 3 ]
check "apply --module: applied in A ($msg)" grep -q "^pid $TA (target.exe): target.exe: applied .*patch.dll as patch 1 (2 sites, " <<<"$msg"
check "apply --module: C refused, other architecture ($msg)" grep -q "^hotpe: pid $TC (target.exe): .*patch: built for another architecture than the process (patch x[0-9]*, process x[0-9]*)" <<<"$msg"
check "apply --module: summary ($msg)" grep -qx "hotpe: apply: done in 1 processes, partly in 0, failed in 1" <<<"$msg"
r=$(askA q)
check "A patched ($r)" [ "$r" = "q compute=15 label=1006" ]
r=$(askB q)
check "B unchanged ($r)" [ "$r" = "q compute=10 label=1005" ]
r=$(askC q)
check "C unchanged ($r)" [ "$r" = "q compute=10 label=1005" ]
r=$(askB "m hotpe-shim.dll")
check "B: nothing injected ($r)" [ "$r" = "m hotpe-shim.dll absent" ]

msg=$(hp x64 revert --module marker.dll --all 2>&1)
rc=$?
check "revert --module --all: exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
r=$(askA q)
check "A original ($r)" [ "$r" = "q compute=10 label=1005" ]

msg=$(hp x64 list --module nothere.dll 2>&1)
rc=$?
check "--module of a DLL nobody loaded: exit 1 (rc $rc: $msg)" [ $rc -eq 1 ]
check "--module of a DLL nobody loaded: one line ($msg)" grep -qx "hotpe: nothere.dll: .* (no such process)" <<<"$msg"
hp x64 list --module marker.dll --pid "$TA" >/dev/null 2>&1
rc=$?
check "--module with --pid: bad usage (rc $rc)" [ $rc -eq 2 ]

hp_summary $pass $fail
