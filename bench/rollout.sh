#!/usr/bin/env bash
# Rollout throughput, rlxf's sampler vs transformers `generate`, in one run on this machine:
# SmolLM2-135M-Instruct (f32, CPU), 128 prompt tokens, exactly 256 new tokens per row, temperature 1,
# batch sizes 8, 32 and 64, 5 timed runs each. Engines alternate run by run (one process per run, each
# with its own warm-up; which engine goes first alternates too), so a host that speeds up or slows
# down during the benchmark shifts both engines' medians alike.
# Usage: bench/rollout.sh [--threads N] [--batches "8 32 64"] [--repeats 5] [--model DIR] [--device cuda] [--dtype bf16]
#        [--autocast bf16]   (mixed precision on both sides: f32 weights, bf16 products; needs --dtype f32)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2 batches="8 32 64" repeats=5 model=models/smollm2-135m-instruct device=cpu dtype=f32 new_tokens=256 autocast=()
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --dtype) dtype=$2; shift 2 ;;
    --new-tokens) new_tokens=$2; shift 2 ;;
    --autocast) autocast=(--autocast "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -d "$model" ] || { echo "$model missing: run scripts/fetch-models.sh" >&2; exit 1; }
source bench/lib.sh
require_python_modules transformers
prompts=bench/results/prompts-$stamp.json
out=bench/results/rollout-$stamp.jsonl
"$PY" bench/peers/make_prompts.py --model "$model" --rows 64 --tokens 128 --out "$prompts"
for batch in $batches; do
  for run in $(seq 1 "$repeats"); do
    engines="rlxf transformers"
    [ $((run % 2)) -eq 0 ] && engines="transformers rlxf"
    for engine in $engines; do
      echo "batch $batch, run $run/$repeats: $engine" >&2
      if [ "$engine" = rlxf ]; then
        "$RLXF" bench rollout --model "$model" --prompts "$prompts" --batch "$batch" --new-tokens "$new_tokens" \
          --repeats 1 --threads "$threads" --device "$device" --dtype "$dtype" "${autocast[@]}"
      else
        "$PY" bench/peers/hf_generate.py --model "$model" --prompts "$prompts" --batch "$batch" --new-tokens "$new_tokens" \
          --repeats 1 --threads "$threads" --device "$device" --dtype "$dtype" "${autocast[@]}"
      fi | tee -a "$out"
    done
  done
done
echo "results: $out" >&2
"$PY" bench/summarize.py "$out"
