#!/usr/bin/env bash
# Installs what is missing, builds, and runs the local demo on the embedded devnet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec bash scripts/run-demo.sh build/node/bttnode
