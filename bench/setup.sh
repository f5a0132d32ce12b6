#!/usr/bin/env bash
# Installs the peers' packages (bench/requirements.txt) into the repo venv, keeping its torch.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || ./scripts/setup-python.sh
torch_pin=$(grep '^torch==' scripts/requirements.txt)
.venv/bin/pip install -q -r bench/requirements.txt -c <(echo "$torch_pin")
