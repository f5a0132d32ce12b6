#!/usr/bin/env bash
# The preference rows of docs/ALGORITHMS.md: pairs made by the model itself on the default task
# (`rlxf make-pairs`), then DPO (runs/algorithms/dpo, comparable with scripts/algorithm-runs.sh) and a
# Bradley-Terry reward model (runs/reward-model) on them.
# Usage: scripts/preference-runs.sh [--problems N] [--samples K]
set -euo pipefail
cd "$(dirname "$0")/.."
problems=400 samples=8
while [ $# -gt 0 ]; do
  case $1 in
    --problems) problems=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
RLXF=${RLXF:-target/release/rlxf}
source scripts/env.sh
pairs=runs/pairs/arithmetic-pairs-$problems.jsonl
kto=runs/pairs/arithmetic-kto-$problems.jsonl
mkdir -p runs/pairs
if [ ! -s "$pairs" ]; then
  "$RLXF" make-pairs --config recipes/dpo.toml --problems "$problems" --samples "$samples" --out "$pairs" --kto-out "$kto"
fi
rm -rf runs/algorithms/dpo runs/reward-model
"$RLXF" train --config recipes/dpo.toml --set preference.data="$pairs" --set run_dir=runs/algorithms/dpo
"$RLXF" train --config recipes/reward_model.toml --set preference.data="$pairs" --set run_dir=runs/reward-model
