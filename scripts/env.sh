# Sourced by the repo's scripts: points the tch build at the repo venv's torch 2.11 (LIBTORCH_USE_PYTORCH).
# OpenMP's wait policy stays libgomp's default (idle threads spin about 3 ms before sleeping): a
# decoding step is hundreds of short parallel regions, and with OMP_WAIT_POLICY=PASSIVE the workers
# slept and were woken for each (rollout 13-22% slower, docs/benchmarks/peers-cpu.md). Only the test
# script, which runs several libtorch users at once, sets PASSIVE.
RLXF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VIRTUAL_ENV="$RLXF_ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1
