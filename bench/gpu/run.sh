#!/usr/bin/env bash
# The GPU benchmarks, run on the device machine from the repo root (docs/BENCHMARKS.md, "GPU runs").
# Needs .gpu/ from bench/gpu/pack.sh carried along, except for `receive`. Results go to $OUT (or
# bench/results when run elsewhere).
#
#   bench/gpu/run.sh smoke [MODEL] [DTYPE]
#       a minute's check before the long runs: a short rollout with tokens chosen on the host and on
#       the device, and one under bf16 autocast; each record must carry the allocator's memory
#       figures when DEVICE is cuda
#   bench/gpu/run.sh rollout [MODEL] [DTYPE] [REPEATS] [BATCHES]
#       rlxf vs transformers generate, 128 prompt + 256 new tokens, random weights of MODEL's
#       architecture (default qwen2.5-coder-0.5b-instruct, bf16, 5 runs, batches "8 32 64")
#   bench/gpu/run.sh grpo-step [MODEL] [DTYPE] [STEPS] [AUTOCAST] [CHECKPOINTING]
#       one GRPO step, rlxf vs TRL GRPOTrainer (bench/grpo_step.sh), random weights (default
#       qwen2.5-coder-0.5b-instruct, f32, 6 steps); AUTOCAST bf16 = mixed precision on both sides
#       (f32 weights, bf16 products: rlxf's model.autocast, TRL's bf16=True); CHECKPOINTING: `default`
#       (each side's: TRL recomputes activations, rlxf keeps them), `on` or `off` (both sides)
#   bench/gpu/run.sh receive MODEL NN
#       appends piece NN of MODEL's GGUF (carried as .gpu-parts/MODEL-NN) to the machine's copy; pieces
#       must come in order, on a machine kept warm between calls
#   bench/gpu/run.sh recipe MODEL [--set KEY=VALUE ...]
#       the built-in GRPO recipe on the GPU with MODEL's real weights (all pieces received), in bf16
#       mixed precision: held-out accuracy before and after, and time; further arguments go to `rlxf train`
#       (LABEL=NAME adds NAME to the result files' names, to keep variants apart)
#
# DEVICE (default cuda) and GPU_WORK (default /tmp/rlxf-gpu) may be set, e.g. to try this on a CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
device=${DEVICE:-cuda}
work=${GPU_WORK:-/tmp/rlxf-gpu}
results=${OUT:-bench/results}
mkdir -p "$work" "$results"
command=${1:-}
[ -n "$command" ] || { sed -n '2,25p' "$0" >&2; exit 2; }
shift

# Appending a piece needs nothing but the shell, so it runs before the Python set-up below.
if [ "$command" = receive ]; then
  model=${1:?model name}; piece=${2:?piece number}
  source_file=.gpu-parts/$model-$piece/piece
  [ -f "$source_file" ] || { echo "$source_file missing: carry .gpu-parts/$model-$piece" >&2; exit 1; }
  received=$work/$model.received
  expected=$(printf '%02d' "$(cat "$received" 2>/dev/null || echo 0)")
  [ "$piece" = "$expected" ] || { echo "piece $piece of $model arrived, $expected expected (machine restarted? start again at 00)" >&2; exit 1; }
  cat "$source_file" >> "$work/$model.gguf"
  echo $((10#$piece + 1)) > "$received"
  echo "$model: $((10#$piece + 1)) pieces, $(stat -c %s "$work/$model.gguf") bytes" >&2
  exit 0
fi

[ -x .gpu/rlxf ] || { echo ".gpu/rlxf missing: run bench/gpu/pack.sh here and carry .gpu" >&2; exit 1; }
export PY=${PY:-python3}
export RLXF=.gpu/rlxf
# The packed wheels (trl and what it needs beyond the machine's packages), outside the machine's
# site-packages; the binary links the machine's libtorch 2.11 and its libgomp.
wheels_needed() {
  PYTHONPATH=$work/site${PYTHONPATH:+:$PYTHONPATH} "$PY" -c 'import trl, transformers; assert transformers.__version__ == "5.23.0"' 2>/dev/null && return 1
  return 0
}
if wheels_needed; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$work/site" .gpu/whl/*.whl
fi
export PYTHONPATH=$work/site${PYTHONPATH:+:$PYTHONPATH}
torch_lib=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
"$PY" -c 'import torch, transformers, trl; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "transformers", transformers.__version__, "trl", trl.__version__)' >&2
[ "$device" = cpu ] || nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2 || true

random_model() {
  local model=$1 dtype=$2 dir=$work/models/$1-random-$2
  if [ ! -f "$dir/model.safetensors" ]; then
    "$PY" bench/gpu/random_weights.py --config-dir ".gpu/models/$model" --out "$dir" --dtype "$dtype" >&2
  fi
  echo "$dir"
}

# The newest results file of a bench script (bench/results/PREFIX-STAMP.jsonl), copied to $results.
keep_latest() {
  local prefix=$1 label=$2 latest
  latest=$(ls -t bench/results/"$prefix"-*.jsonl | head -1)
  cp "$latest" "$results/gpu-$label-$(basename "$latest")"
}

case $command in
  smoke)
    model=${1:-qwen2.5-coder-0.5b-instruct} dtype=${2:-bf16}
    dir=$(random_model "$model" "$dtype")
    prompts=$work/smoke-prompts.json
    "$PY" bench/peers/make_prompts.py --model "$dir" --rows 4 --tokens 32 --out "$prompts" >&2
    for site in host device; do
      "$RLXF" bench rollout --model "$dir" --prompts "$prompts" --batch 4 --new-tokens 16 --repeats 1 \
        --device "$device" --dtype "$dtype" --choose-on "$site" | tee -a "$results/gpu-smoke-$model-$dtype.jsonl"
    done
    # bf16 mixed precision (f32 weights) as the GRPO step and the recipe use it.
    f32_dir=$(random_model "$model" f32)
    "$RLXF" bench rollout --model "$f32_dir" --prompts "$prompts" --batch 4 --new-tokens 16 --repeats 1 \
      --device "$device" --dtype f32 --autocast bf16 | tee -a "$results/gpu-smoke-$model-$dtype.jsonl"
    # One training step under autocast with stochastically rounded weights: on a GPU their rounding
    # noise comes from the device's generator, a path the CPU machine cannot run.
    "$RLXF" train --set model.path="$f32_dir" --set model.device="$device" --set model.dtype=f32 \
      --set model.autocast=bf16 --set model.autocast_rounding=stochastic --set algorithm.steps=1 \
      --set algorithm.prompts_per_step=2 --set algorithm.group_size=2 --set optimizer.micro_batch_size=4 \
      --set sampling.max_new_tokens=16 --set eval.held_out=0 --set run_dir="$work/runs/smoke-stochastic" \
      2>&1 | tail -3 >&2
    if [ "$device" != cpu ] && ! grep -q cuda_max_allocated_mb "$results/gpu-smoke-$model-$dtype.jsonl"; then
      echo "smoke: no allocator memory figures in rlxf's records (device_memory shim)" >&2
      exit 1
    fi
    ;;
  rollout)
    model=${1:-qwen2.5-coder-0.5b-instruct} dtype=${2:-bf16} repeats=${3:-5} batches=${4:-8 32 64}
    dir=$(random_model "$model" "$dtype")
    bench/rollout.sh --model "$dir" --device "$device" --dtype "$dtype" --repeats "$repeats" --batches "$batches" \
      2>&1 | grep -v "Loading weights" | tee "$results/gpu-rollout-$model-$dtype.log"
    keep_latest rollout "$model-$dtype"
    ;;
  grpo-step)
    model=${1:-qwen2.5-coder-0.5b-instruct} dtype=${2:-f32} steps=${3:-6} autocast=${4:-} checkpointing=${5:-default}
    case $checkpointing in
      default) activations=() ;;
      on) activations=(--trl-gradient-checkpointing on --rlxf-set model.gradient_checkpointing=true) ;;
      off) activations=(--trl-gradient-checkpointing off) ;;
      *) echo "CHECKPOINTING is default, on or off, not $checkpointing" >&2; exit 2 ;;
    esac
    dir=$(random_model "$model" "$dtype")
    label=$model-$dtype${autocast:+-autocast-$autocast}-checkpointing-$checkpointing
    bench/grpo_step.sh --model "$dir" --device "$device" --dtype "$dtype" --steps "$steps" ${autocast:+--autocast "$autocast"} \
      ${activations[@]+"${activations[@]}"} 2>&1 | grep -v "it/s\]\|s/it\]\|Warning\|warnings.warn" | tee "$results/gpu-grpo-step-$label.log"
    keep_latest grpo-step "$label"
    ;;
  recipe)
    model=${1:?model name}; shift
    gguf=$work/$model.gguf
    [ -f "$gguf" ] || { echo "$gguf missing: send its pieces with 'receive' first" >&2; exit 1; }
    want=$(cat ".gpu/models/$model/gguf.sha256")
    have=$(sha256sum "$gguf" | cut -d' ' -f1)
    [ "$want" = "$have" ] || { echo "$gguf: sha256 $have, expected $want (a piece missing or out of order)" >&2; exit 1; }
    dir=$work/models/$model
    # The same import as scripts/fetch-models.sh makes on the CPU machine.
    [ -f "$dir/model.safetensors" ] || .gpu/rlxf import-gguf "$gguf" "$dir" >&2
    label=$model${LABEL:+-$LABEL}
    run_dir=$work/runs/recipe-$label
    rm -rf "$run_dir"
    start=$(date +%s)
    .gpu/rlxf train --set model.path="$dir" --set model.device="$device" --set model.dtype=f32 --set model.autocast=bf16 \
      --set run_dir="$run_dir" \
      "$@" 2>&1 | tee "$results/gpu-recipe-$label.log"
    echo "wall seconds: $(( $(date +%s) - start ))" | tee -a "$results/gpu-recipe-$label.log"
    cp "$run_dir/summary.json" "$results/gpu-recipe-$label-summary.json"
    cp "$run_dir/metrics.jsonl" "$results/gpu-recipe-$label-metrics.jsonl"
    ;;
  *) echo "unknown command $command (smoke, rollout, grpo-step, receive, recipe)" >&2; exit 2 ;;
esac
