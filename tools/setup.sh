#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine to build and run scopegate: installs the Debian
# packages that are missing (as root, or through sudo; chromium is the browser the console
# test drives), the npm peers from the lock file in tools/, and builds into build/ (or
# $BUILD_DIR). Safe to run again: it only does what is not done yet.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential meson ninja-build pkg-config libjansson-dev libuv1-dev libsqlite3-dev
          libpcre2-dev libssl-dev libjwt-dev libhttp-parser-dev libcurl4-openssl-dev sqlite3 socat ca-certificates clang libclang-rt-14-dev
          chromium)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >&2
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# npm peers: reinstall when the lock file changed since the last install.
if [ ! -f tools/node_modules/.package-lock.json ] || ! cmp -s tools/package-lock.json tools/node_modules/.setup-lock; then
  echo "setup: installing npm packages from tools/package-lock.json" >&2
  (cd tools && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp tools/package-lock.json tools/node_modules/.setup-lock
fi

build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" ${MESON_ARGS:-} >&2
fi
ninja -C "$build" >&2
