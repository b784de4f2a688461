#!/usr/bin/env bash
# A killed hotpe (issue 5, docs/live.md), x64 and x86: tests/win/killer.exe, one Windows
# process, starts `hotpe apply` (and `hotpe revert` when the target is patched) against a running
# target (wine-tests/live/target_rb.c, 4 busy threads) at least KILL_APPLIES times (default 50)
# and kills each after a random delay. After every kill it checks that the target still runs
# and its threads see the result of its state, that every site is entirely original or entirely
# patched, and that `hotpe list --json` lists the patch iff the sites are patched. Then the
# target still answers, and a last apply and revert work, after which no request block the shim
# answered is left in the target (the shim frees those of killed hotpes). Prints "N passed, M
# failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=killed
source wine-tests/lib-live.sh
KILL_APPLIES=${KILL_APPLIES:-50}

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    mkdir -p "$d"
    make -s "build/$a/tests/killer.exe" || exit 1
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    if ! { $gcc $SDK_FLAGS -o "$d/target.exe" wine-tests/live/target_rb.c &&
        $gcc $SDK_FLAGS -shared -o "$d/raw.dll" wine-tests/live/patch_rb.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw.dll" -o "$d/patch.dll"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    ok
    # every site: padding through the entry's first 2 bytes
    ranges=$("$hotpe" scan "$d/target.exe" --json | python3 -c '
import json, sys
fs = {f["name"].lstrip("_"): f for f in json.load(sys.stdin)["functions"] if f.get("name")}
print(" ".join("%#x:%d" % (fs[n]["write"]["padding_rva"], fs[n]["rva"] + 2 - fs[n]["write"]["padding_rva"])
               for n in ("compute", "label", "rec", "spin", "big")))')
    rel=${d#"$HP_ROOT"/}
    if ! HOTPE_TARGET_SECONDS=1500 start_target "$d"; then
        bad "$a: target did not start: $(cat "$d/err")"
        continue
    fi
    ok
    r=$(ask "$d" q)
    check "$a: original results ($r)" [ "$r" = "q compute=10 label=1005" ]
    seed=${KILL_SEED:-$RANDOM}
    timeout 1200 wine "$HP_BUILD/$a/tests/killer.exe" "build\\$a\\hotpe.exe" "$TPID" \
        "$(tr / '\\' <<<"$rel")\\patch.dll" "$KILL_APPLIES" "$seed" $ranges >"$d/killer.log" 2>&1
    rc=$?
    tr -d '\r' <"$d/killer.log" | grep -E "^(FAIL|killer:)" | head -20
    check "$a: killer: no failures (rc $rc, seed $seed)" [ $rc -eq 0 ]
    check "$a: killer: at least $KILL_APPLIES applies, some reverts, some killed" python3 -c '
import re, sys
m = re.search(r"(\d+) runs \((\d+) apply, (\d+) revert\), (\d+) killed", open(sys.argv[1]).read())
assert m and int(m[2]) >= int(sys.argv[2]) and int(m[3]) > 0 and int(m[4]) > 0, m and m.groups()' "$d/killer.log" "$KILL_APPLIES"

    # afterwards: the target answers, and hotpe still works on it
    msg=$(hp $a revert --pid "$TPID" --all 2>&1)
    rc=$?
    check "$a: revert --all after the kills (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: original results ($r)" [ "$r" = "q compute=10 label=1005" ]
    msg=$(hp $a apply --pid "$TPID" "$rel/patch.dll" 2>&1)
    rc=$?
    check "$a: apply after the kills (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" w)
    check "$a: patched results in the busy threads ($r)" [ "$r" = "w compute=15 label=1006" ]
    msg=$(hp $a revert --pid "$TPID" --all 2>&1)
    rc=$?
    check "$a: revert (rc $rc: $msg)" [ $rc -eq 0 ]
    check "$a: target stops cleanly" stop_target "$d"
done

hp_summary $pass $fail
