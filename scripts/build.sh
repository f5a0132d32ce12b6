#!/usr/bin/env bash
# Builds the rlxf binary (release) against the repo venv's libtorch 2.11.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-venv.sh
source scripts/env.sh
cargo build --release -p rlxf
