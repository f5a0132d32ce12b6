#!/usr/bin/env bash
# The whole test suite on a fresh machine: venv (torch, transformers), build, model fetch, then every
# test including the integration tests that need the real model (marked #[ignore] for plain `cargo test`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
./scripts/fetch-models.sh all
source scripts/env.sh
export RLXF_TEST_THREADS="${RLXF_TEST_THREADS:-1}"
# Two tests run at once on two cores: threads that spin while idle would take the other's core.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
# Integration tests each use libtorch threads of their own; two at a time fits two cores.
cargo test --release --workspace --no-fail-fast -- --include-ignored --test-threads 2
