#!/usr/bin/env bash
# The main job on a fresh machine: venv, build, model fetch, then `rlxf train` (the built-in GRPO
# recipe unless arguments are given, e.g. scripts/train.sh --config recipes/x.toml --set optimizer.lr=2e-5).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
./scripts/fetch-models.sh
source scripts/env.sh
exec target/release/rlxf train "$@"
