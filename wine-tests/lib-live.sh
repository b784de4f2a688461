# Shared by the live-patching tests (wine-tests/test_live*.sh): the hotpe builds they need,
# pass/fail counters, the targets they start (killed on every exit path), and the target's
# command protocol (wine-tests/live/target.c: "pid N" at start, one reply line per command).
# Set HP_LIVE_OUT (a folder name under build/) before sourcing; sources common.sh itself.
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/common.sh"

hotpe=$HP_BUILD/native/hotpe
out=$HP_BUILD/${HP_LIVE_OUT:?set HP_LIVE_OUT before sourcing live.sh}
hp_need "$hotpe" "$HP_BUILD/x64/hotpe.exe" "$HP_BUILD/x86/hotpe.exe" "$HP_BUILD/x64/hotpe-shim.dll" \
    "$HP_BUILD/x86/hotpe-shim.dll" || exit 1
rm -rf "$out" && mkdir -p "$out"
hp_wine_unsigned_allow
hp_wine_arches_note
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description command...
    local what=$1
    shift
    if "$@"; then ok; else bad "$what"; fi
}

# ---- the targets we start, killed on every exit path ---------------------------------------
declare -a KIDS=()
cleanup() {
    exec 3>&- 2>/dev/null
    for p in "${KIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    sleep 0.5
    for p in "${KIDS[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
}
trap cleanup EXIT

SDK_FLAGS="-std=c11 -Wall -Wextra -Werror -O2 -Isdk/include"

# Run a Windows hotpe with a timeout: hp ARCH ARGS...
hp() {
    local a=$1
    shift
    timeout 90 wine "$HP_BUILD/$a/hotpe.exe" "$@"
}

# Start the target: sets TPID (Windows pid) and KID (Linux pid); commands go to fd 3.
start_target() { # dir [exe]
    local d=$1 exe=${2:-target.exe}
    rm -f "$d/in" "$d/out"
    mkfifo "$d/in"
    HOTPE_TARGET_SECONDS=150 timeout 160 wine "$d/$exe" <"$d/in" >"$d/out" 2>"$d/err" &
    KID=$!
    KIDS+=("$KID")
    exec 3>"$d/in"
    TPID=
    for _ in $(seq 1 150); do
        TPID=$(awk '/^pid /{print $2; exit}' "$d/out" 2>/dev/null | tr -d '\r')
        [ -n "$TPID" ] && return 0
        sleep 0.1
    done
    return 1
}

# Send a command and wait (at most 10 s) for the reply line starting with its letter.
ask() { # dir command -> prints the reply line
    local d=$1 cmd=$2 n
    n=$(grep -c "^${cmd%% *} " "$d/out")
    echo "$cmd" >&3
    for _ in $(seq 1 100); do
        if [ "$(grep -c "^${cmd%% *} " "$d/out")" -gt "$n" ]; then
            grep "^${cmd%% *} " "$d/out" | tail -1 | tr -d '\r'
            return 0
        fi
        sleep 0.1
    done
    echo "(no reply to $cmd)"
    return 1
}

stop_target() { # dir
    echo x >&3 2>/dev/null
    exec 3>&-
    for _ in $(seq 1 100); do
        kill -0 "$KID" 2>/dev/null || return 0
        sleep 0.1
    done
    kill "$KID" 2>/dev/null
    return 1
}

# Change one byte of wine-tests/live/target.c's compute body in IMAGE, in place, by arch (its
# headers, identity and the bytes a patch validates stay the same); print compute's RVA. The
# function's bytes are the hashed ones `hotpe info --json` lists for PATCH.
flip_compute() { # IMAGE PATCH ARCH
    python3 - "$1" "$3" "$("$hotpe" info "$2" --json)" <<'PY'
import json, struct, sys
path, arch = sys.argv[1], sys.argv[2]
h = [f for f in json.loads(sys.argv[3])['function_hashes'] if f['name'] == 'compute'][0]
b = bytearray(open(path, 'rb').read())
nt = struct.unpack_from('<I', b, 0x3c)[0]
nsec, osz = struct.unpack_from('<HH', b, nt + 6)[0], struct.unpack_from('<H', b, nt + 20)[0]
for i in range(nsec):
    vs, va, rs, ro = struct.unpack_from('<IIII', b, nt + 24 + osz + 40 * i + 8)
    if va <= h['rva'] < va + vs:
        at = ro + h['rva'] - va
old, new = (b'\x8d\x04\x09', b'\x8d\x04\x89') if arch == 'x64' else (b'\x01\xc0', b'\x31\xc0')
k = bytes(b[at:at + h['length']]).find(old)
if k < 8:  # past the hotpatch marker and its 2 hooked bytes
    sys.exit('compute has no %s past its entry: %s' % (old.hex(), b[at:at + h['length']].hex()))
b[at + k:at + k + len(old)] = new
open(path, 'wb').write(b)
print(h['rva'])
PY
}
