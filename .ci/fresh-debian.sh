#!/usr/bin/env bash
# The README's first promise on a machine that has nothing: a minimal Debian 12 (debootstrap's
# minbase, plus make and git) made from Debian's archive, this checkout cloned into it, and
# there `make deps && make demo`. Fails when either fails, so a missing install step shows here
# and not on a user's machine. Needs root (chroot, mounts). Downloaded packages are kept in
# $HOTPE_FRESH_CACHE between runs; the tree itself is made anew each time and removed after.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
root=${HOTPE_FRESH_ROOT:-/var/tmp/hotpe-fresh-debian}
cache=${HOTPE_FRESH_CACHE:-/var/cache/hotpe-fresh}
mirror=${HOTPE_FRESH_MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" = 0 ] || { echo "fresh-debian: needs root (debootstrap, chroot, mount)"; exit 1; }
command -v debootstrap >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

mounts=()
cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
    # anything still mounted below the tree must not be deleted through it
    if ! grep -q " $root/" /proc/mounts; then rm -rf "$root"; fi
}
trap cleanup EXIT
bind() { mkdir -p "$root$2"; mount --bind "$1" "$root$2"; mounts+=("$root$2"); }

cleanup
mkdir -p "$cache/debootstrap" "$cache/apt"
t0=$(date +%s)
echo "fresh-debian: debootstrap --variant=minbase bookworm into $root"
debootstrap --variant=minbase --include=make,git,ca-certificates --cache-dir="$cache/debootstrap" \
    bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log"; exit 1; }
# the suites a Debian 12 install has: main, updates and security
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
bind /proc /proc
bind /sys /sys
bind /dev /dev
bind /dev/pts /dev/pts
bind "$cache/apt" /var/cache/apt/archives
git clone -q "$src" "$root/root/hotpe"
echo "fresh-debian: tree ready in $(($(date +%s) - t0)) s; make deps && make demo inside it"
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb LANG=C.UTF-8 bash -c 'cd /root/hotpe && make deps && make demo'
echo "fresh-debian: make deps && make demo passed on a minimal Debian 12 in $(($(date +%s) - t0)) s"
