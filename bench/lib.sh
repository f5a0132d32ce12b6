# Sourced by the bench scripts after argument parsing: the two programs under test, the repo's
# environment (libtorch), `threads` intra-op threads for both, and a time stamp for the results files.
RLXF=${RLXF:-target/release/rlxf}
PY=${PY:-.venv/bin/python}
[ -x "$RLXF" ] || { echo "$RLXF missing: run scripts/build.sh" >&2; exit 1; }
require_python_modules() {
  "$PY" -c "import $1" 2>/dev/null || { echo "python modules $1 missing: run bench/setup.sh" >&2; exit 1; }
}
source scripts/env.sh
export OMP_NUM_THREADS=$threads
# Both engines run under the same OpenMP settings; libgomp's default wait policy unless set here.
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset (libgomp default)}" >&2
mkdir -p bench/results
stamp=$(date -u +%Y%m%d-%H%M%S)
