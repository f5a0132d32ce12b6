# Sourced by the repo's scripts: points the tch build at the repo venv's torch 2.11 (LIBTORCH_USE_PYTORCH)
# and keeps OpenMP from oversubscribing shared cores.
RLXF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VIRTUAL_ENV="$RLXF_ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
