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
mkdir -p bench/results
stamp=$(date -u +%Y%m%d-%H%M%S)
