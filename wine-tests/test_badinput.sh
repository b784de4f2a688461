#!/usr/bin/env bash
# Bad input and the peers' bugs (issue 5, docs/live.md), x64 and x86, against a running
# target (wine-tests/live/target_rb.c) and its patch (wine-tests/live/patch_rb.c):
#  - refusals: a patch for another build, the other architecture's patch, a patch whose module
#    is not loaded, a pid that does not exist, non-patch DLLs, damaged .hotp1 (counts and RVAs
#    out of range), revert of an unknown id, the same patch twice, a lower and an equal
#    sequence, a thread parked (SetThreadContext) inside the first 2 bytes of an entry or in
#    the padding ("busy" after the bounded retries). Each exits 1 with one line naming the
#    object and the reason, the target's bytes at every site (padding and entry, read from
#    outside with tests/win/peek.exe) are the same before and after, and the target still
#    answers as before;
#  - the peers' bugs that apply to us (peers.md section 9 item 9), each with its effect checked:
#    threads created during the freeze, the heap lock and the loader lock held by busy threads
#    (apply/revert cycles, no deadlock), recursion (rec switches at its next call), a loop that
#    never leaves its function, a __chkstk (64 KiB frame) function, and on x64 endbr64 first
#    instructions (clang -fms-hotpatch -fcf-protection=full: padded sites);
#  - malformed request blocks handed to hotpe_shim_run itself (tests/win/shimreq.exe).
# Targets are killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=badinput
source wine-tests/lib-live.sh
for a in x64 x86; do
    for t in peek shimreq; do
        make -s "build/$a/tests/$t.exe" || exit 1
    done
done

ORIG="q compute=10 label=1005"
PATCHED="q compute=15 label=1006"

# Damaged copies of a stamped patch: damage PATCH.dll OUTDIR -> OUTDIR/bad_*.dll, one field each.
damage() {
    python3 - "$@" <<'PY'
import struct, sys
src, outdir = sys.argv[1], sys.argv[2]
data = bytearray(open(src, 'rb').read())
lfanew = struct.unpack_from('<I', data, 0x3c)[0]
nsec, = struct.unpack_from('<H', data, lfanew + 6)
optsz, = struct.unpack_from('<H', data, lfanew + 20)
secs = []
for i in range(nsec):
    o = lfanew + 24 + optsz + 40 * i
    vsize, va, rawsize, rawptr = struct.unpack_from('<IIII', data, o + 8)
    secs.append((bytes(data[o:o + 8]).rstrip(b'\0'), va, max(vsize, rawsize), rawptr))
def off(rva):
    return [raw + rva - va for n, va, sz, raw in secs if va <= rva < va + sz][0]
hdr = [raw for n, va, sz, raw in secs if n.startswith(b'.hotp1')][0]
valrva, hookrva = struct.unpack_from('<I', data, hdr + 0x14)[0], struct.unpack_from('<I', data, hdr + 0x1c)[0]
cases = {  # HOTPATCH_HEADER fields, then the first hook's and validation's target RVA
    'fixupcount': ('<I', hdr + 0x08, 0x0fffffff), 'valcount': ('<I', hdr + 0x10, 0x0fffffff),
    'hookcount': ('<I', hdr + 0x18, 0x00ffffff), 'hookarray': ('<I', hdr + 0x1c, 0x7ffffff0),
    'hooktarget': ('<I', off(hookrva) + 4, 0x7fff0000), 'valtarget': ('<I', off(valrva) + 4, 0x7fff0000),
    'valbytes': ('<H', off(valrva) + 8, 0xffff),
}
for name, (fmt, at, v) in cases.items():
    d = bytearray(data)
    struct.pack_into(fmt, d, at, v)
    open('%s/bad_%s.dll' % (outdir, name), 'wb').write(d)
PY
}

# Build both architectures first: each target's loop uses the other's patch.
for a in x64 x86; do
    d=$out/$a
    mkdir -p "$d/other" "$d/ghost" "$d/bad"
    if [ $a = x64 ]; then tgt=x86_64-w64-mingw32; else tgt=i686-w64-mingw32; fi
    gcc=$tgt-gcc
    if ! { $gcc $SDK_FLAGS -o "$d/target.exe" wine-tests/live/target_rb.c &&
        $gcc $SDK_FLAGS -DOTHER_BUILD -o "$d/other/target.exe" wine-tests/live/target_rb.c &&
        $gcc $SDK_FLAGS -o "$d/ghost/ghost.exe" wine-tests/live/target_rb.c &&
        $gcc $SDK_FLAGS -shared -o "$d/raw1.dll" wine-tests/live/patch_rb.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=2 -shared -o "$d/raw2.dll" wine-tests/live/patch_rb.c &&
        $gcc $SDK_FLAGS -DSEQUENCE=2 "-DDESCRIPTION=\"another patch, sequence 2\"" -shared \
            -o "$d/raw2b.dll" wine-tests/live/patch_rb.c &&
        $gcc $SDK_FLAGS -DTARGET='"ghost.exe"' -shared -o "$d/ghost/raw.dll" wine-tests/live/patch_rb.c &&
        "$hotpe" build --base "$d/target.exe" "$d/raw1.dll" -o "$d/patch1.dll" &&
        "$hotpe" build --base "$d/target.exe" "$d/raw2.dll" -o "$d/patch2.dll" &&
        "$hotpe" build --base "$d/target.exe" "$d/raw2b.dll" -o "$d/patch2b.dll" &&
        "$hotpe" build --base "$d/other/target.exe" "$d/raw1.dll" -o "$d/other.dll" &&
        "$hotpe" build --base "$d/ghost/ghost.exe" "$d/ghost/raw.dll" -o "$d/ghost.dll" &&
        damage "$d/patch1.dll" "$d/bad"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    if [ $a = x64 ]; then # endbr64 first instructions: clang's -fms-hotpatch with CET
        mkdir -p "$d/cet"
        if "$HP_LLVM/clang" --target=$tgt $SDK_FLAGS -fms-hotpatch -fcf-protection=full \
            -c wine-tests/live/target_rb.c -o "$d/cet/target.o" >>"$d/build.log" 2>&1 &&
            $gcc "$d/cet/target.o" -o "$d/cet/target.exe" >>"$d/build.log" 2>&1 &&
            "$hotpe" build --base "$d/cet/target.exe" "$d/raw1.dll" -o "$d/cet/patch.dll" >>"$d/build.log" 2>&1; then
            ok
        else
            bad "$a: cet build: $(tail -3 "$d/build.log")"
        fi
    fi
    ok
done

# The sites' ranges (padding through the entry's first 2 bytes) as peek arguments.
site_ranges() { # target.exe
    "$hotpe" scan "$1" --json | python3 -c '
import json, sys
fs = {f["name"].lstrip("_"): f for f in json.load(sys.stdin)["functions"] if f.get("name")}
print(" ".join("%#x:%d" % (fs[n]["write"]["padding_rva"], fs[n]["rva"] + 2 - fs[n]["write"]["padding_rva"])
               for n in ("compute", "label", "rec", "spin", "big")))'
}
peek() { timeout 30 wine "$HP_BUILD/$a/tests/peek.exe" "$TPID" target.exe $RANGES 2>&1 | tr -d '\r'; }
one_line() { # regex message
    [ "$(printf '%s\n' "$2" | wc -l)" -eq 1 ] && grep -qE "$1" <<<"$2"
}

# refused WHAT REGEX COMMAND...: exit 1, one line matching REGEX, sites unchanged, answers as $expect
refused() {
    local what=$1 re=$2 before after msg rc r
    shift 2
    before=$(peek)
    msg=$("$@" 2>&1)
    rc=$?
    after=$(peek)
    check "$a: $what: exit 1 (rc $rc: $msg)" [ $rc -eq 1 ]
    check "$a: $what: one line naming object and reason ($msg)" one_line "$re" "$msg"
    check "$a: $what: sites unchanged ($before / $after)" [ -n "$before" -a "$before" = "$after" ]
    r=$(ask "$d" q)
    check "$a: $what: target still answers ($r)" [ "$r" = "$expect" ]
}

# applied WHAT COMMAND...: exit 0 and the target answers as $expect (set by the caller)
applied() {
    local what=$1 msg rc r
    shift
    msg=$("$@" 2>&1)
    rc=$?
    check "$a: $what: exit 0 (rc $rc: $msg)" [ $rc -eq 0 ]
    r=$(ask "$d" q)
    check "$a: $what: answers ($r)" [ "$r" = "$expect" ]
}

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    d=$out/$a
    [ -e "$d/patch1.dll" ] || continue
    if [ $a = x64 ]; then o=x86; else o=x64; fi
    rel=${d#"$HP_ROOT"/}
    orel=$out/$o
    orel=${orel#"$HP_ROOT"/}
    RANGES=$(site_ranges "$d/target.exe")
    if ! start_target "$d"; then
        bad "$a: target did not start: $(cat "$d/err")"
        continue
    fi
    ok
    expect=$ORIG
    r=$(ask "$d" q)
    check "$a: original results ($r)" [ "$r" = "$ORIG" ]
    P="pid $TPID \(target\.exe\)" # an ERE: how hotpe names the target in every line

    # ---- refusals while nothing is applied ----
    refused "another build" "^hotpe: $P: target.exe: identity: " hp $a apply --pid "$TPID" "$rel/other.dll"
    refused "the other architecture's patch" "^hotpe: ($P: )?$orel/patch1.dll: .*architecture" \
        hp $a apply --pid "$TPID" "$orel/patch1.dll"
    refused "module not loaded" "^hotpe: $P: ghost.exe: .*(not loaded|module)" hp $a apply --pid "$TPID" "$rel/ghost.dll"
    refused "no such pid" "^hotpe: pid 4194300: process: cannot open it \(no such pid or access denied\) \(a Windows pid is the number the program's GetCurrentProcessId returns, not a Linux pid; under Wine hotpe must run in the program's WINEPREFIX\)$" \
        hp $a apply --pid 4194300 "$rel/patch1.dll"
    refused "unstamped SDK DLL" "^hotpe: $rel/raw1.dll: " hp $a apply --pid "$TPID" "$rel/raw1.dll"
    refused "a DLL that is no patch" "^hotpe: build/$a/hotpe-shim.dll: " hp $a apply --pid "$TPID" "build/$a/hotpe-shim.dll"
    for f in "$d"/bad/bad_*.dll; do
        n=$(basename "$f" .dll)
        refused "damaged .hotp1 ($n)" "^hotpe: ($rel/bad/$n.dll|$P: target.exe)(!|: )" hp $a apply --pid "$TPID" "$rel/bad/$n.dll"
    done
    refused "a validation outside the module, said so" \
        "^hotpe: $P: target.exe: the patch's validation of [0-9]+ bytes at RVA 0x7fff0000 lies outside the module's sections$" \
        hp $a check --pid "$TPID" "$rel/bad/bad_valtarget.dll"
    refused "revert of an unknown id, no shim" "^hotpe: $P: .*77" hp $a revert --pid "$TPID" 77
    r=$(ask "$d" "m hotpe-shim.dll")
    check "$a: nothing injected by the refusals ($r)" [ "$r" = "m hotpe-shim.dll absent" ]

    # ---- a live patch (sequence 2), then what must be refused over it ----
    expect=$PATCHED
    applied "apply sequence 2" hp $a apply --pid "$TPID" "$rel/patch2.dll"
    applied "the same patch twice: live already, nothing done" hp $a apply --pid "$TPID" "$rel/patch2.dll"
    refused "a lower sequence" "^hotpe: $P: target.exe: .*sequence.*patch id 1 has sequence 2" hp $a apply --pid "$TPID" "$rel/patch1.dll"
    refused "an equal sequence" "^hotpe: $P: target.exe: .*sequence.*patch id 1 has sequence 2" hp $a apply --pid "$TPID" "$rel/patch2b.dll"
    refused "revert of an unknown id" "^hotpe: $P: .*patch id 77" hp $a revert --pid "$TPID" 77
    for f in "$d"/bad/bad_hooktarget.dll "$d"/bad/bad_valtarget.dll; do
        n=$(basename "$f" .dll)
        refused "damaged .hotp1 over a live patch ($n)" "^hotpe: ($rel/bad/$n.dll|$P: target.exe)(!|: )" hp $a apply --pid "$TPID" "$rel/bad/$n.dll"
    done
    expect=$ORIG
    applied "revert" hp $a revert --pid "$TPID" --all

    # ---- a thread parked where bytes would change: busy, nothing written ----
    for off in 1 -3; do
        r=$(ask "$d" "p $off")
        check "$a: thread parked at compute$off ($r)" grep -q "^p at " <<<"$r"
        refused "IP parked at compute+($off)" "^hotpe: $P: target.exe!_?compute: .*(busy|keeps executing)" hp $a apply --pid "$TPID" "$rel/patch1.dll"
        r=$(ask "$d" P)
        check "$a: parked thread released ($r)" [ "$r" = "P released" ]
    done
    l=$(hp $a list --pid "$TPID" 2>&1)
    check "$a: list empty after the busy refusals ($l)" grep -qx "pid $TPID (target.exe): 0 live patches" <<<"$l"
    expect=$PATCHED
    applied "apply once the thread left" hp $a apply --pid "$TPID" "$rel/patch1.dll"
    expect=$ORIG
    applied "revert" hp $a revert --pid "$TPID" --all

    # ---- the peers' bugs: threads created during the freeze, heap lock, loader lock ----
    for load in t h l; do
        case $load in t) what="threads created all the time" ;; h) what="heap hammered" ;; l) what="LoadLibrary/FreeLibrary loop" ;; esac
        r=$(ask "$d" "$load")
        check "$a: $what: started ($r)" [ "$r" = "$load started" ]
        for i in 1 2 3; do
            expect=$PATCHED
            applied "$what: apply $i" hp $a apply --pid "$TPID" "$rel/patch1.dll"
            r=$(ask "$d" w)
            check "$a: $what: busy threads patched ($r)" [ "$r" = "w compute=15 label=1006" ]
            expect=$ORIG
            applied "$what: revert $i" hp $a revert --pid "$TPID" --all
        done
        up=$(tr a-z A-Z <<<"$load")
        r=$(ask "$d" "$up")
        check "$a: $what: stopped, it ran ($r)" grep -qE "^$up [a-z]+=[1-9][0-9]*$" <<<"$r"
    done

    # ---- recursion: levels already running stay old, the next call is new ----
    r=$(ask "$d" r)
    r2=$(ask "$d" R)
    check "$a: recursion unpatched ($r, $r2)" [ "$r $r2" = "r paused R result=5" ]
    r=$(ask "$d" r)
    check "$a: recursion paused at level 3 ($r)" [ "$r" = "r paused" ]
    expect=$PATCHED
    applied "apply under a paused recursion" hp $a apply --pid "$TPID" "$rel/patch1.dll"
    r=$(ask "$d" R)
    check "$a: levels 5-3 old, 2-1 new ($r)" [ "$r" = "R result=203" ]

    # ---- a loop that never leaves its function; a __chkstk function ----
    r=$(ask "$d" k)
    check "$a: big() patched, 64 KiB frames ($r)" [ "$r" = "k big=7" ]
    expect=$ORIG
    applied "revert" hp $a revert --pid "$TPID" --all
    r=$(ask "$d" k)
    check "$a: big() original ($r)" [ "$r" = "k big=6" ]
    r=$(ask "$d" b)
    check "$a: a thread spins inside spin() ($r)" [ "$r" = "b spinning" ]
    expect=$PATCHED
    applied "apply while a thread never leaves spin()" hp $a apply --pid "$TPID" "$rel/patch1.dll"
    r=$(ask "$d" B)
    check "$a: the running call stays old, a new call is new ($r)" [ "$r" = "B old=1 new=2" ]
    expect=$ORIG
    applied "revert" hp $a revert --pid "$TPID" --all
    check "$a: target stops cleanly" stop_target "$d"

    # ---- endbr64 first instructions (x64, clang -fcf-protection=full) ----
    if [ $a = x64 ] && [ -e "$d/cet/patch.dll" ]; then
        scan=$("$hotpe" scan "$d/cet/target.exe")
        check "$a: cet: compute and label start with endbr64" [ "$(grep -cE ' padded .* endbr64 .* (compute|label)$' <<<"$scan")" -eq 2 ]
        d=$d/cet
        if start_target "$d"; then
            expect=$PATCHED
            applied "cet: apply (label's HOTPE_ORIGINAL stub runs the moved endbr64)" hp $a apply --pid "$TPID" "$rel/cet/patch.dll"
            expect=$ORIG
            applied "cet: revert" hp $a revert --pid "$TPID" --all
            check "$a: cet target stops cleanly" stop_target "$d"
        else
            bad "$a: cet target did not start: $(cat "$d/err")"
        fi
    fi
done

# ---- malformed request blocks handed to the shim itself (tests/win/shimreq.c) ----
for a in $HP_WINE_ARCHES; do
    msg=$(timeout 120 wine "$HP_BUILD/$a/tests/shimreq.exe" "build\\$a\\hotpe-shim.dll" 2>&1 | tr -d '\r')
    rc=$?
    grep "^FAIL" <<<"$msg"
    check "$a: shimreq: every malformed block refused, no crash, registry unchanged (rc $rc: $(tail -1 <<<"$msg"))" \
        grep -q "^shimreq: [1-9][0-9]* passed, 0 failed$" <<<"$msg"
done

hp_summary $pass $fail
