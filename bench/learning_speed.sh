#!/usr/bin/env bash
# Learning speed, rlxf vs TRL's GRPOTrainer on the same work: the default task's training problems in the
# same order (`rlxf problems`), the same model, reward, group size (8), prompts per step (8), learning rate,
# micro-batch, loss aggregation, temperature and completion budget; greedy held-out accuracy on the same
# 100 problems every --eval-every steps. Evaluation time is excluded from the wall-clock axis on both sides.
# Writes bench/results/learning-<stamp>.jsonl, a table and a chart (docs/benchmarks/learning_speed.png);
# the steps' time split is summarized by bench/summarize.py (completion lengths free, unlike grpo_step.sh).
# rlxf's steps are cheaper, so --rlxf-steps lets it use the wall time TRL's --steps take (the learning rate is
# constant, so its first steps are the same either way). --peer-results FILE reuses the TRL lines of an earlier
# learning-*.jsonl made with the same --steps and held-out set instead of running TRL again.
# --trl-gradient-checkpointing off runs TRL keeping its activations, as rlxf does by default (GRPOConfig's
# default recomputes them).
# Usage: bench/learning_speed.sh [--steps 12] [--rlxf-steps N] [--eval-every 2] [--threads 2] [--held-out 100]
#                                [--peer-results FILE] [--trl-gradient-checkpointing on|off]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=12 rlxf_steps= eval_every=2 threads=2 held_out=100 model=models/smollm2-135m-instruct peer_results= trl_checkpointing=on
while [ $# -gt 0 ]; do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --rlxf-steps) rlxf_steps=$2; shift 2 ;;
    --peer-results) peer_results=$2; shift 2 ;;
    --eval-every) eval_every=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --held-out) held_out=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --trl-gradient-checkpointing) trl_checkpointing=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
rlxf_steps=${rlxf_steps:-$steps}
most_steps=$((rlxf_steps > steps ? rlxf_steps : steps))
source bench/lib.sh
require_python_modules trl,matplotlib
out=bench/results/learning-$stamp.jsonl
train=bench/results/train-problems-$stamp.jsonl
held=bench/results/held-out-problems-$stamp.jsonl
common=(--set "model.path=$model" --set "model.threads=$threads")
"$RLXF" problems "${common[@]}" --split train --count $((8 * most_steps)) > "$train"
"$RLXF" problems "${common[@]}" --split held_out --count "$held_out" > "$held"
run=bench/results/rlxf-learning-$stamp
echo "rlxf: $rlxf_steps steps, held-out accuracy every $eval_every" >&2
"$RLXF" train "${common[@]}" --set algorithm.steps="$rlxf_steps" --set run_dir="$run" --set eval.held_out="$held_out" --set eval.every="$eval_every" \
  --set checkpoint.every=0 >&2
"$PY" - "$run" >> "$out" <<'PYEOF'
import json, sys
run = sys.argv[1]
summary = json.load(open(f"{run}/summary.json"))
print(json.dumps({"engine": "rlxf", "task": "held_out", "step": 0, "train_seconds_total": 0.0,
                  "eval_accuracy": summary["before"]["accuracy"]}))
total = 0.0
rows = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
for m in rows:
    total += m["step_seconds"]
    record = {"engine": "rlxf", "task": "grpo_step", "step": m["step"], "step_seconds": m["step_seconds"],
              "generation_seconds": m["generation_seconds"], "scoring_seconds": m["scoring_seconds"],
              "training_seconds": m["training_seconds"], "train_seconds_total": total,
              "peak_rss_mb": m["peak_rss_mb"], "reward_mean": m["reward_mean"],
              "completion_tokens_mean": m["completion_tokens_mean"]}
    if m["step"] == len(rows):
        record["eval_accuracy"] = summary["after"]["accuracy"]
    elif m.get("eval_accuracy") is not None:
        record["eval_accuracy"] = m["eval_accuracy"]
    print(json.dumps(record))
PYEOF
if [ -n "$peer_results" ]; then
  echo "TRL: reusing the TRL lines of $peer_results" >&2
  grep '"engine": "trl"' "$peer_results" >> "$out"
else
  echo "TRL: $steps steps, held-out accuracy every $eval_every" >&2
  "$PY" bench/peers/trl_grpo.py --model "$model" --problems "$train" --held-out "$held" --steps "$steps" \
    --eval-every "$eval_every" --threads "$threads" --gradient-checkpointing "$trl_checkpointing" --out "$out" >&2
fi
echo "results: $out" >&2
"$PY" bench/learning_speed.py "$out" --chart docs/benchmarks/learning_speed.png
"$PY" bench/summarize.py "$out"
