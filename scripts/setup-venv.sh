#!/usr/bin/env bash
# Creates the repo-local Python venv (.venv) that supplies libtorch 2.11 to the tch build and the
# reference implementations (transformers, math-verify) that the tests compare against.
# Idempotent: a venv whose pinned packages are already installed is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.rlxf-requirements.sha256"
REQ=scripts/requirements.txt
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "venv: up to date ($VENV)"
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip==24.3.1
"$VENV/bin/pip" install --quiet -r "$REQ"
"$VENV/bin/python" - <<'PY'
import torch
assert torch.__version__.startswith("2.11.0"), f"expected torch 2.11.0, got {torch.__version__}"
print("venv: torch", torch.__version__)
PY
echo "$want" > "$STAMP"
