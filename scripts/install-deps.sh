#!/usr/bin/env bash
# Installs what building and testing etwire needs, from Debian's packages only.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
packages=(cmake ninja-build gcc clang libclang-rt-14-dev pkgconf libcmocka-dev
          libexpat1-dev libzstd-dev libssl-dev openssl libevent-dev librdkafka-dev jq
          tshark python3)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
