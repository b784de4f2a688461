#!/usr/bin/env bash
# samples/fleet, the Ansible playbook an operator runs against a fleet (samples/fleet/README.md),
# run here with `ansible-playbook -i localhost, -c local` on hotpe under Wine (hotpe_windows:
# false; hotpe_command a wrapper that runs build/ARCH/hotpe.exe in the test prefix):
#  - its report, on canned `hotpe status --json` documents (a stand-in hotpe, three hosts, no
#    Wine): the install command line (--image for each of hotpe_images) and the patch copied;
#    a host with a process not-up-to-date and one failed fails, naming those two (state, patch,
#    reason) and not its hotpatched or other-build ones; a compliant host with an other-build
#    process passes and reports it; a host whose hotpe status fails (exit 1) fails with hotpe's
#    line; the summary names the hosts compliant, not compliant and without a status;
#  - x64 (and x86 where this machine runs it), two running wine-tests/live/target.c: the play
#    copies wine-tests/live/patch.c's patch and installs it: exit 0, the host compliant, both
#    processes run the fix; the play again: still exit 0 (install is idempotent);
#  - one process reverted (`hotpe revert --pid A --all`: not-up-to-date): the check alone
#    (--tags status) fails the host naming pid A, its state and the patch, not B, and does not
#    run install; the whole play in --check mode fails the same way and installs nothing;
#  - `hotpe uninstall NAME` (the name `hotpe info --json` prints): both processes run the
#    original code, `hotpe status` exits 0 with the patch no longer installed.
# Needs ansible-playbook (ansible-core: `make deps`). The patch is uninstalled and the targets
# killed on every exit path. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=fleet
source wine-tests/lib-live.sh

if ! command -v ansible-playbook >/dev/null; then
    bad "ansible-playbook not found: 'make deps' installs it (Debian's ansible-core)"
    hp_summary $pass $fail
    exit 1
fi
playbook=samples/fleet/fleet.yml
ans=$out/ansible
mkdir -p "$ans/home"
: >"$ans/ansible.cfg"
# no ansible.cfg of the user's, no temporary files outside build/, plain output
export ANSIBLE_CONFIG=$ans/ansible.cfg ANSIBLE_HOME=$ans/home ANSIBLE_LOCAL_TEMP=$ans/tmp \
    ANSIBLE_REMOTE_TEMP=$ans/tmp ANSIBLE_NOCOLOR=1 ANSIBLE_STDOUT_CALLBACK=default \
    ANSIBLE_PYTHON_INTERPRETER=auto_silent ANSIBLE_RETRY_FILES_ENABLED=0
# play OUTPUT ARGS...: ansible-playbook on the sample, its output in OUTPUT; sets prc (Ansible
# refuses to start in a locale that is not UTF-8, as LC_ALL=C is)
prc=
play() {
    local o=$1
    shift
    LC_ALL=C.UTF-8 timeout 300 ansible-playbook "$playbook" "$@" >"$o" 2>&1 </dev/null 3>&- 5>&- 6>&-
    prc=$?
}
# lines OUTPUT: the output's lines about hosts (fatal, report, summary) on one line, for the
# failure messages
lines() { grep -E '^fatal|hosts |"msg": "(NOT )?compliant' "$1" | head -8 | sed 's/^ *//' | paste -sd '|' -; }

# ---- the report, on canned status documents ------------------------------------------------
c=$out/canned
mkdir -p "$c"
cat >"$c/hotpe" <<'EOF'
#!/bin/sh
# A stand-in hotpe: hotpe DOC VERB ARGS... install logs its arguments to DOC.install; status
# prints DOC and exits with DOC.rc, or fails as hotpe does when DOC does not exist.
doc=$1
shift
case $1 in
install) printf '%s\n' "$@" >"$doc.install" && echo "installed" ;;
status)
    [ -f "$doc" ] || { echo "hotpe: status: cannot read the installed patches (access denied)" >&2; exit 1; }
    cat "$doc"
    exit "$(cat "$doc.rc")" ;;
*) exit 2 ;;
esac
EOF
chmod +x "$c/hotpe"
cat >"$c/bad.json" <<'EOF'
{"schema": 1,
 "installed": [{"name": "demo.exe#2@1a2b3c4d", "target": "demo.exe", "sequence": 2,
                "file": "C:\\ProgramData\\hotpe\\patches\\demo.exe#2@1a2b3c4d.dll", "images": []}],
 "processes": [{"pid": 11, "image": "demo.exe", "patch": "demo.exe#2@1a2b3c4d", "state": "hotpatched", "reason": null},
               {"pid": 12, "image": "demo.exe", "patch": "demo.exe#2@1a2b3c4d", "state": "not-up-to-date", "reason": null},
               {"pid": 13, "image": "demo.exe", "patch": "demo.exe#2@1a2b3c4d", "state": "failed",
                "reason": "process: cannot open it (access denied)"},
               {"pid": 14, "image": "demo.exe", "patch": "demo.exe#2@1a2b3c4d", "state": "other-build",
                "reason": "identity: another build of demo.exe"}],
 "summary": {"processes": 4, "hotpatched": 1, "not-up-to-date": 1, "failed": 1, "other-build": 1},
 "compliant": false}
EOF
echo 4 >"$c/bad.json.rc"
cat >"$c/good.json" <<'EOF'
{"schema": 1,
 "installed": [{"name": "demo.exe#2@1a2b3c4d", "target": "demo.exe", "sequence": 2,
                "file": "C:\\ProgramData\\hotpe\\patches\\demo.exe#2@1a2b3c4d.dll", "images": []}],
 "processes": [{"pid": 21, "image": "demo.exe", "patch": "demo.exe#2@1a2b3c4d", "state": "hotpatched", "reason": null},
               {"pid": 24, "image": "demo.exe", "patch": "demo.exe#2@1a2b3c4d", "state": "other-build",
                "reason": "identity: another build of demo.exe"}],
 "summary": {"processes": 2, "hotpatched": 1, "not-up-to-date": 0, "failed": 0, "other-build": 1},
 "compliant": true}
EOF
echo 0 >"$c/good.json.rc"
printf 'MZ a stand-in patch\n' >"$c/fix.dll"
cat >"$c/inventory.yml" <<EOF
all:
  vars:
    ansible_connection: local
    hotpe_windows: false
    hotpe_patch: $c/fix.dll
    hotpe_images: ['C:\\apps\\demo.exe', /srv/demo.exe]
  hosts:
    good: {hotpe_command: [$c/hotpe, $c/good.json], hotpe_stage_dir: $c/stage-good}
    bad: {hotpe_command: [$c/hotpe, $c/bad.json], hotpe_stage_dir: $c/stage-bad}
    broken: {hotpe_command: [$c/hotpe, $c/none.json], hotpe_stage_dir: $c/stage-broken}
EOF
play "$c/play.txt" -i "$c/inventory.yml"
o=$c/play.txt
check "canned: the play fails (rc $prc: $(lines "$o"))" [ "$prc" = 2 ]
check "canned: install's arguments ($(tr '\n' ' ' <"$c/good.json.install" 2>&1))" \
    [ "$(cat "$c/good.json.install" 2>&1)" = "$(printf '%s\n' install "$c/stage-good/fix.dll" \
        --image 'C:\apps\demo.exe' --image /srv/demo.exe)" ]
check "canned: the patch copied to the host" cmp -s "$c/fix.dll" "$c/stage-good/fix.dll"
f=$(grep '^fatal: \[bad\]' "$o")
check "canned: bad fails naming pid 12 not-up-to-date ($f)" \
    grep -qF 'pid 12 (demo.exe) not-up-to-date demo.exe#2@1a2b3c4d' <<<"$f"
check "canned: bad fails naming pid 13 failed and why ($f)" \
    grep -qF 'pid 13 (demo.exe) failed demo.exe#2@1a2b3c4d: process: cannot open it (access denied)' <<<"$f"
check "canned: bad's message: 2 of 4, not the hotpatched or other-build ones ($f)" \
    [ -n "$(grep -F 'NOT compliant: 2 of 4 processes' <<<"$f")" -a -z "$(grep -E 'pid 1[14] ' <<<"$f")" ]
check "canned: good passes ($(lines "$o"))" [ -z "$(grep '^fatal: \[good\]' "$o")" ]
check "canned: good's report names its other-build process ($(grep -A1 'ok: \[good\] => {' "$o" | tail -1))" \
    grep -qF 'pid 24 (demo.exe) other-build demo.exe#2@1a2b3c4d: identity: another build of demo.exe' "$o"
check "canned: broken fails with hotpe's line ($(grep '^fatal: \[broken\]' "$o"))" \
    grep -qF 'hotpe: status: cannot read the installed patches (access denied)' <<<"$(grep '^fatal: \[broken\]' "$o")"
check "canned: summary ($(lines "$o"))" [ "$(grep -cxE ' *"hosts compliant: 1 \(good\)",| *"hosts NOT compliant: 1 \(bad\)",| *"hosts without a status .*: 1 \(broken\)"' "$o")" = 3 ]

# ---- the real thing: two targets, hotpe under Wine ------------------------------------------
installed="" arch=""
uninstall_ours() { [ -z "$installed" ] || hp "$arch" uninstall "$installed" >/dev/null 2>&1; }
trap 'uninstall_ours; cleanup' EXIT
trap 'exit 130' INT TERM
# uninstall every patch of target.exe still installed in the prefix (an interrupted run's)
sweep() { # arch
    local n
    for n in $(hp "$1" status --json 2>/dev/null | tr -d '\r' | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit()
print(" ".join(p["name"] for p in d.get("installed", []) if p.get("target", "").lower() == "target.exe"))'); do
        hp "$1" uninstall "$n" >/dev/null 2>&1
    done
}

for a in $HP_WINE_ARCHES; do
    echo "-- $a"
    arch=$a
    d=$out/$a
    dA=$d/a
    dB=$d/b
    mkdir -p "$dA" "$dB"
    if [ $a = x64 ]; then gcc=x86_64-w64-mingw32-gcc; else gcc=i686-w64-mingw32-gcc; fi
    if ! { $gcc $SDK_FLAGS -o "$dA/target.exe" wine-tests/live/target.c &&
        cp "$dA/target.exe" "$dB/target.exe" &&
        $gcc $SDK_FLAGS -DSEQUENCE=1 -shared -o "$d/raw.dll" wine-tests/live/patch.c &&
        "$hotpe" build --base "$dA/target.exe" "$d/raw.dll" -o "$d/patch.dll"; } >"$d/build.log" 2>&1; then
        bad "$a: build: $(head -3 "$d/build.log")"
        continue
    fi
    name=$("$hotpe" info "$d/patch.dll" --json 2>&1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["name"])' 2>&1)
    if ! [[ $name =~ ^target\.exe#1@[^\ ]+$ ]]; then
        bad "$a: hotpe info --json: no name ($name)"
        continue
    fi
    # hotpe_command: the Windows hotpe in this prefix, whatever environment ansible gives it
    {
        echo '#!/usr/bin/env bash'
        printf 'export WINEPREFIX=%q WINEDEBUG=-all WINEDLLOVERRIDES=%q PATH=%q\n' \
            "$WINEPREFIX" "$WINEDLLOVERRIDES" "$PATH"
        printf 'exec timeout 90 wine %q "$@"\n' "$HP_BUILD/$a/hotpe.exe"
    } >"$d/hotpe"
    chmod +x "$d/hotpe"
    python3 -c 'import json, sys
print(json.dumps({"hotpe_windows": False, "hotpe_command": [sys.argv[1]], "hotpe_patch": sys.argv[2],
                  "hotpe_stage_dir": sys.argv[3]}))' "$d/hotpe" "$d/patch.dll" "$d/host" >"$d/vars.json"
    sweep $a

    # two targets: A's input on fd 5, B's on fd 6 (ask writes to fd 3)
    if ! start_target "$dA"; then
        bad "$a: target A did not start: $(cat "$dA/err")"
        continue
    fi
    TA=$TPID KA=$KID
    exec 5>&3
    if ! start_target "$dB"; then
        bad "$a: target B did not start: $(cat "$dB/err")"
        continue
    fi
    TB=$TPID KB=$KID
    exec 6>&3
    askA() { exec 3>&5; ask "$dA" "$1"; }
    askB() { exec 3>&6; ask "$dB" "$1"; }
    q0="q compute=10 label=1005"
    q1="q compute=15 label=1006"
    r=$(askA q)
    check "$a: A runs the original code ($r)" [ "$r" = "$q0" ]
    r=$(askB q)
    check "$a: B runs the original code ($r)" [ "$r" = "$q0" ]

    # ---- install through the play ----
    installed=$name
    o=$d/play-install.txt
    play "$o" -i localhost, -c local -e "@$d/vars.json"
    check "$a: the play installs and passes (rc $prc: $(lines "$o"))" [ "$prc" = 0 ]
    check "$a: the host reported compliant ($(lines "$o"))" \
        [ "$(grep -cxE ' *"hosts compliant: 1 \(localhost\)",| *"hosts NOT compliant: 0",' "$o")" = 2 ]
    check "$a: the report names the patch installed ($(lines "$o"))" \
        grep -qF "installed: " <<<"$(grep -F '"msg": "compliant: ' "$o" | grep -F "$name")"
    check "$a: the patch copied to the host" cmp -s "$d/patch.dll" "$d/host/patch.dll"
    r=$(askA q)
    check "$a: A runs the fix ($r)" [ "$r" = "$q1" ]
    r=$(askB q)
    check "$a: B runs the fix ($r)" [ "$r" = "$q1" ]
    o=$d/play-again.txt
    play "$o" -i localhost, -c local -e "@$d/vars.json"
    check "$a: the play again passes (rc $prc: $(lines "$o"))" [ "$prc" = 0 ]
    r="$(askA q), $(askB q)"
    check "$a: A and B still run the fix ($r)" [ "$r" = "$q1, $q1" ]

    # ---- A reverted: not up to date ----
    msg=$(hp $a revert --pid "$TA" --all 2>&1 | tr -d '\r')
    check "$a: revert A ($msg)" grep -qxE "pid $TA \(target\.exe\): reverted 1 patch" <<<"$msg"
    r=$(askA q)
    check "$a: A runs the original code again ($r)" [ "$r" = "$q0" ]
    for mode in tags check; do
        o=$d/play-$mode.txt
        if [ $mode = tags ]; then
            play "$o" -i localhost, -c local -e "@$d/vars.json" --tags status
        else
            play "$o" -i localhost, -c local -e "@$d/vars.json" --check
        fi
        f=$(grep '^fatal: \[localhost\]' "$o")
        check "$a: --$mode: the play fails (rc $prc: $(lines "$o"))" [ "$prc" = 2 ]
        check "$a: --$mode: the host fails naming pid $TA not-up-to-date ($f)" \
            [ -n "$(grep -F "NOT compliant: 1 of " <<<"$f" | grep -F ": pid $TA (target.exe) not-up-to-date $name")" ]
        check "$a: --$mode: not naming B, pid $TB ($f)" [ -z "$(grep -F "pid $TB (" <<<"$f")" ]
        check "$a: --$mode: the summary ($(lines "$o"))" \
            [ "$(grep -cxE ' *"hosts compliant: 0",| *"hosts NOT compliant: 1 \(localhost\)",' "$o")" = 2 ]
        if [ $mode = tags ]; then
            check "$a: --tags status runs no install" [ -z "$(grep -F 'TASK [hotpe_fleet : hotpe install]' "$o")" ]
        else
            check "$a: --check skips the install ($(grep -A1 -F 'TASK [hotpe_fleet : hotpe install]' "$o" | tail -1))" \
                grep -qx 'skipping: \[localhost\]' <<<"$(grep -A1 -F 'TASK [hotpe_fleet : hotpe install]' "$o" | tail -1)"
        fi
        r=$(askA q)
        check "$a: --$mode: A still runs the original code ($r)" [ "$r" = "$q0" ]
    done

    # ---- uninstall ----
    msg=$(hp $a uninstall "$name" 2>&1 | tr -d '\r')
    rc=$?
    check "$a: uninstall $name (rc $rc: $msg)" [ $rc -eq 0 ]
    [ $rc -eq 0 ] && installed=
    r="$(askA q), $(askB q)"
    check "$a: A and B run the original code ($r)" [ "$r" = "$q0, $q0" ]
    j=$(hp $a status --json 2>&1 | tr -d '\r')
    rc=$?
    check "$a: status after uninstall: exit 0, $name not installed (rc $rc: $j)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
sys.exit(int(sys.argv[3]) != 0 or any(p["name"] == sys.argv[2] for p in d["installed"]))' "$j" "$name" "$rc"

    for fd in 5 6; do echo x >&$fd; done
    exec 3>&- 5>&- 6>&-
    wait "$KA" "$KB" 2>/dev/null
done

hp_summary $pass $fail
