#!/usr/bin/env bash
# What a signed patch costs an apply, x64 under Wine (docs/trust.md): the same 2-site patch of
# wine-tests/live/patch.c on bench/apply/target.exe (1 busy thread), BENCH_REPS (10) rounds of
# `apply --json` + `revert --all` each, in turns:
#   unsigned   no signer trusted (UnsignedPolicy allow, as the test prefix runs)
#   signed     signed with a fresh code-signing certificate that `hotpe trust add` trusts
# Columns, mean ms: file = reading and hashing the patch file, signature = judging its
# signature and signer (WinVerifyTrust + the trusted signers), validate and request as in
# bench_apply; wall = median of the whole hotpe.exe apply. The signer is removed on exit.
# Appends dated lines (commit, machine) to bench/results/trust.txt and prints the new ones.
set -uo pipefail
cd "$(dirname "$0")/.."
HP_LIVE_OUT=bench-trust
bench=bench_trust
source bench/lib-target.sh

results=bench/results/trust.txt
reps=${BENCH_REPS:-10}
if [ ! -s "$results" ]; then
    cat >"$results" <<'HDR'
# bench_trust: hotpe.exe apply --json of a 2-site patch, unsigned against signed by a trusted
# signer (x64 under Wine, 1 busy thread). Mean ms; wall = median of the whole hotpe.exe run.
# date (UTC)           commit        patch     rounds    file signature validate request    wall  machine
HDR
fi

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/signer.key" -out "$d/signer.pem" -days 30 \
    -subj "/CN=hotpe bench signer" -addext "extendedKeyUsage=codeSigning" 2>/dev/null &&
    osslsigncode sign -certs "$d/signer.pem" -key "$d/signer.key" -in "$d/patch.dll" \
        -out "$d/signed.dll" >/dev/null || { echo "$bench: signing failed" >&2; exit 1; }
trap 'hp x64 trust remove "$d/signer.pem" >/dev/null 2>&1; cleanup' EXIT


export HOTPE_BENCH_THREADS=1
start_target "$d" || { echo "$bench: target did not start: $(cat "$d/err")" >&2; exit 1; }
: >"$d/unsigned.json"
: >"$d/signed.json"
rc=0
# the first apply injects the shim: once, before the rounds
hp x64 apply --pid "$TPID" "$rel/patch.dll" >/dev/null 2>&1
hp x64 revert --pid "$TPID" --all >/dev/null 2>&1
for i in $(seq 1 "$reps"); do
    for kind in unsigned signed; do
        if [ $kind = signed ]; then
            hp x64 trust add "$d/signer.pem" >/dev/null 2>&1
            f=signed.dll
        else
            hp x64 trust remove "$d/signer.pem" >/dev/null 2>&1
            f=patch.dll
        fi
        t0=$(now_ns)
        a=$(hp x64 apply --pid "$TPID" "$rel/$f" --json 2>"$d/apply.err") || {
            echo "$bench: apply $kind failed: $(cat "$d/apply.err")" >&2; rc=1; break 2; }
        t1=$(now_ns)
        jq -c ". + {wall_ns: $((t1 - t0))}" <<<"$a" >>"$d/$kind.json"
        hp x64 revert --pid "$TPID" --all >/dev/null 2>&1
    done
done
echo x >&3
exec 3>&-
wait "$KID" 2>/dev/null
for kind in unsigned signed; do
    f=$d/$kind.json
    [ -s "$f" ] || continue
    printf '%-20s  %-12s  %-8s %6s %8.3f %9.3f %8.3f %7.3f %7.1f  %s\n' "$date" "$commit" "$kind" \
        "$(jq -s length "$f")" \
        "$(mean_ms "$f" '.processes[0].hotpe_ns.file')" \
        "$(mean_ms "$f" '.processes[0].hotpe_ns.signature')" \
        "$(mean_ms "$f" '.processes[0].hotpe_ns.validate')" \
        "$(mean_ms "$f" '.processes[0].hotpe_ns.request')" \
        "$(median_ms "$f" '.wall_ns')" "$machine"
done | tee -a "$results"
exit $rc
