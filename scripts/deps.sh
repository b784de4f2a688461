#!/usr/bin/env bash
# Install everything hotpe needs from Debian's archive, idempotently.
#
#   MinGW-w64 .................. cross compilers for build/x64 and build/x86
#   wine, wine64, wine32:i386 .. runs the Windows builds and the end-to-end suite
#   libzydis-dev, libzycore-dev  instruction decoding (native build; headers for MinGW)
#   zydis source package ....... Zydis has no MinGW package: the Makefile builds it from this
#   liblief-dev, g++ ........... LIEF, the independent PE reader of the oracle tests (C++)
#   llvm/clang 14 .............. llvm-readobj/objdump as oracles; clang-cl (clang-tools-14) and
#                                lld-link build the CFG test DLL; libclang-rt gives libFuzzer and ASan
#   check, pkg-config .......... unit tests
#   ansible-core ............... wine-tests/test_fleet.sh runs samples/fleet's playbook
#
# A second run checks and returns in about a second. Runs as root or through sudo.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src_dir="$top/build/deps"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

native_pkgs=(make gcc g++ pkg-config check libzydis-dev libzycore-dev zydis-tools liblief-dev
             mingw-w64 clang-14 clang-tools-14 lld-14 llvm-14 libclang-rt-14-dev dpkg-dev
             xz-utils python3 ca-certificates libssl-dev osslsigncode ansible-core)
wine_pkgs=(wine wine64 wine32:i386 libwine:amd64 libwine:i386)

missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
  done
}

zydis_src_present() { ls "$src_dir"/zydis_*.orig.tar.gz >/dev/null 2>&1; }

need=$(missing "${native_pkgs[@]}" "${wine_pkgs[@]}")
if [ -z "$need" ] && zydis_src_present; then
  echo "deps: everything is installed"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
updated=0
# The security suite of this mirror serves amd64 indexes only (its i386 index fails to
# download), so an update that fails there is reported and tolerated: the main suite is enough.
apt_update() {
  [ "$updated" = 1 ] && return 0
  $SUDO apt-get update -qq || echo "deps: apt-get update reported errors (see above); going on"
  updated=1
}

# i386 for 32-bit Wine, and deb-src for Zydis' source package.
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  $SUDO dpkg --add-architecture i386
fi
if [ ! -f /etc/apt/sources.list.d/hotpe-src.sources ]; then
  $SUDO tee /etc/apt/sources.list.d/hotpe-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt_update

need=$(missing "${native_pkgs[@]}")
if [ -n "$need" ]; then
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $need
fi

if [ -n "$(missing "${wine_pkgs[@]}")" ]; then
  # wine32:i386 must come in the same command as wine64, or apt removes wine64.
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${wine_pkgs[@]}"; then
    # The security suite may serve amd64 only, leaving amd64 libraries newer than their
    # i386 twins ("held broken packages"). Prefer the main suite so both sides match.
    echo "deps: plain Wine install failed; pinning the security suite below main and retrying"
    $SUDO tee /etc/apt/preferences.d/hotpe-wine32 >/dev/null <<'PIN'
Package: *
Pin: release l=Debian-Security
Pin-Priority: 100
PIN
    $SUDO apt-get install -y -qq --allow-downgrades --no-install-recommends "${wine_pkgs[@]}" \
      libgstreamer-plugins-base1.0-0:amd64 libgstreamer-plugins-base1.0-0:i386
  fi
fi

if ! zydis_src_present; then
  mkdir -p "$src_dir"
  (cd "$src_dir" && apt-get source --download-only zydis >/dev/null)
  zydis_src_present
fi
echo "deps: done"
