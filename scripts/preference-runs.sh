#!/usr/bin/env bash
# The preference rows of docs/ALGORITHMS.md: pairs made by the model itself on the default task
# (`rlxf make-pairs`), then DPO (runs/algorithms/dpo, comparable with scripts/algorithm-runs.sh) and a
# Bradley-Terry reward model (runs/reward-model) on them.
# Usage: scripts/preference-runs.sh [--problems N] [--samples K] [--max-pairs P] [--only dpo|reward_model]
# The doc's DPO row: --problems 400 --max-pairs 2; its reward-model row: --problems 1000 --max-pairs 4.
set -euo pipefail
cd "$(dirname "$0")/.."
problems=400 samples=8 max_pairs=2 only=""
while [ $# -gt 0 ]; do
  case $1 in
    --problems) problems=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --max-pairs) max_pairs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
case $only in ""|dpo|reward_model) ;; *) echo "--only takes dpo or reward_model" >&2; exit 2 ;; esac
RLXF=${RLXF:-target/release/rlxf}
source scripts/env.sh
suffix=$problems
[ "$max_pairs" = 2 ] || suffix=${problems}x$max_pairs
pairs=runs/pairs/arithmetic-pairs-$suffix.jsonl
kto=runs/pairs/arithmetic-kto-$suffix.jsonl
mkdir -p runs/pairs
if [ ! -s "$pairs" ]; then
  "$RLXF" make-pairs --config recipes/dpo.toml --problems "$problems" --samples "$samples" --max-pairs "$max_pairs" \
    --out "$pairs" --kto-out "$kto"
fi
if [ "$only" != reward_model ]; then
  rm -rf runs/algorithms/dpo
  "$RLXF" train --config recipes/dpo.toml --set preference.data="$pairs" --set run_dir=runs/algorithms/dpo
fi
if [ "$only" != dpo ]; then
  rm -rf runs/reward-model
  "$RLXF" train --config recipes/reward_model.toml --set preference.data="$pairs" --set run_dir=runs/reward-model
fi
