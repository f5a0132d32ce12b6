#!/usr/bin/env bash
# One GRPO step end to end (sample G=8 for 8 prompts, score, log-probs, backward, AdamW step), rlxf vs
# TRL's GRPOTrainer with matched settings: SmolLM2-135M-Instruct f32 on CPU, the default task's
# problems (from `rlxf problems`), beta = 0, token-mean loss, lr 1e-5, micro-batch 16, temperature 0.7,
# every completion exactly --new-tokens long (min = max new tokens). --steps steps each; the table
# reports medians and the time split. Usage: bench/grpo_step.sh [--steps 6] [--new-tokens 64] [--threads 2]
# [--model DIR] [--device cuda] [--dtype bf16] (weights in DTYPE on both sides; TRL takes the GPU when there is one)
# [--autocast bf16] (mixed precision on both sides: f32 weights, bf16 products; TRL's bf16=True)
# [--rlxf-set KEY=VALUE]... (rlxf only, e.g. model.autocast_rounding=stochastic, which TRL has no counterpart of)
# [--trl-gradient-checkpointing on|off] (GRPOConfig's default is on: TRL recomputes activations in the
# backward, trading time for memory; rlxf keeps them)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=6 new_tokens=64 threads=2 model=models/smollm2-135m-instruct device=cpu dtype=f32 autocast= trl_checkpointing=on
rlxf_only=()
while [ $# -gt 0 ]; do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --new-tokens) new_tokens=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --dtype) dtype=$2; shift 2 ;;
    --autocast) autocast=$2; shift 2 ;;
    --rlxf-set) rlxf_only+=(--set "$2"); shift 2 ;;
    --trl-gradient-checkpointing) trl_checkpointing=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source bench/lib.sh
require_python_modules trl
out=bench/results/grpo-step-$stamp.jsonl
problems=bench/results/problems-$stamp.jsonl
common=(--set "model.path=$model" --set "model.threads=$threads" --set "model.device=$device" --set "model.dtype=$dtype"
  --set algorithm.steps="$steps")
peer_precision=(--dtype "$dtype")
if [ -n "$autocast" ]; then
  common+=(--set "model.autocast=$autocast")
  peer_precision+=(--autocast "$autocast")
fi
"$RLXF" problems "${common[@]}" --split train --count $((8 * steps)) > "$problems"
run=bench/results/rlxf-run-$stamp
echo "rlxf: $steps steps" >&2
"$RLXF" train "${common[@]}" ${rlxf_only[@]+"${rlxf_only[@]}"} --set run_dir="$run" --set eval.held_out=1 --set checkpoint.every=0 \
  --set sampling.max_new_tokens="$new_tokens" --set sampling.min_new_tokens="$new_tokens" >&2
"$PY" - "$run/metrics.jsonl" >> "$out" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    print(json.dumps({"engine": "rlxf", "task": "grpo_step", "step": m["step"], "step_seconds": m["step_seconds"],
                      "generation_seconds": m["generation_seconds"], "scoring_seconds": m["scoring_seconds"],
                      "training_seconds": m["training_seconds"], "peak_rss_mb": m["peak_rss_mb"],
                      "completion_tokens_mean": m["completion_tokens_mean"],
                      **{k: m[k] for k in ("cuda_max_allocated_mb", "cuda_max_reserved_mb") if k in m}}))
PYEOF
echo "TRL: $steps steps" >&2
"$PY" bench/peers/trl_grpo.py --model "$model" --problems "$problems" --steps "$steps" --max-new-tokens "$new_tokens" \
  --fixed-length --threads "$threads" "${peer_precision[@]}" --gradient-checkpointing "$trl_checkpointing" --out "$out" >&2
echo "results: $out" >&2
"$PY" bench/summarize.py "$out"
