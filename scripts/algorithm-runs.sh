#!/usr/bin/env bash
# The results table of docs/ALGORITHMS.md: the default recipe (same seed, task, model, steps, batch and
# learning rate) once per algorithm, each in runs/algorithms/<name>. KL to the starting model is measured
# (algorithm.measure_kl) but not penalised (beta = 0), as in the default recipe.
# Usage: scripts/algorithm-runs.sh [name ...]   (default: all of them; DPO is trained by scripts/preference-runs.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
RLXF=${RLXF:-target/release/rlxf}
source scripts/env.sh
declare -A SETTINGS=(
  [grpo]=""
  [dr_grpo]="--set algorithm.loss_aggregation=seq_mean_token_sum_norm"
  [dapo]="--set algorithm.epsilon_high=0.28 --set algorithm.dynamic_sampling=true --set algorithm.max_sampling_rounds=3"
  [rloo]=""
  [reinforce_pp]=""
  [ppo]="--set critic.kind=value_head --set critic.lr=1e-4"
  [gspo]="--set algorithm.epsilon=3e-4 --set algorithm.epsilon_high=4e-4 --set algorithm.loss_aggregation=seq_mean_token_mean"
  [cpgd]=""
  [remax]=""
  [bnpo]=""
)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(grpo dr_grpo dapo rloo reinforce_pp ppo gspo cpgd)
for name in "${names[@]}"; do
  [ -v "SETTINGS[$name]" ] || { echo "unknown algorithm $name (choose from: ${!SETTINGS[*]})" >&2; exit 2; }
  out=runs/algorithms/$name
  rm -rf "$out"
  echo "== $name -> $out"
  # shellcheck disable=SC2086
  "$RLXF" train --set run_dir="$out" --set model.threads="${THREADS:-0}" --set algorithm.name="$name" --set algorithm.measure_kl=true ${SETTINGS[$name]}
done
