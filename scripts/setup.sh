#!/usr/bin/env bash
# Installs everything bttnode needs to build and to run its tests on Debian 12, as root.
# Idempotent: when every package is present it only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev
  libssl-dev libsecp256k1-dev libcrypto++-dev nlohmann-json3-dev
  libprotobuf-dev protobuf-compiler libsqlite3-dev
  libgtest-dev libgmock-dev libspdlog-dev libcli11-dev
  prometheus-cpp-dev libminiupnpc-dev libnatpmp-dev
)
# Real programs the tests run against.
test_packages=(
  clang libclang-rt-14-dev
  aria2 transmission-cli python3-libtorrent rtorrent opentracker
  transmission-daemon chromium prometheus
)

missing=()
for pkg in "${build_packages[@]}" "${test_packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
# Node.js and npm run the tronweb tests; a Node.js from elsewhere that ships npm is fine.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# JavaScript test tools, pinned by tests/js/package-lock.json.
if [ -f tests/js/package-lock.json ]; then
  if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules/.package-lock.json ]; then
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
