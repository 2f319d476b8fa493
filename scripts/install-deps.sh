#!/usr/bin/env bash
# Installs what building and testing etwire needs, from Debian's packages only.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# The i386 build (scripts/test.sh) uses gcc's multilib support and the 32-bit libraries.
packages=(cmake ninja-build gcc clang libclang-rt-14-dev pkgconf libcmocka-dev
          libexpat1-dev libzstd-dev libssl-dev openssl libevent-dev librdkafka-dev jq
          gcc-multilib libcmocka-dev:i386 libexpat1-dev:i386 libzstd-dev:i386 libssl-dev:i386
          librdkafka-dev:i386 tshark python3 inotify-tools)
new_arch=0
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  $SUDO dpkg --add-architecture i386
  new_arch=1
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ $new_arch = 1 ]; then
  $SUDO apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
