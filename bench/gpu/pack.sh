#!/usr/bin/env bash
# Packs what the GPU machine (device tool: torch 2.11 cu130 and transformers there, no Rust, no network,
# 64 MiB per call) needs for bench/gpu/run.sh into .gpu/ (ignored by git; name it in the call's carry):
#   .gpu/rlxf                      the release binary, stripped (it links the machine's own libtorch 2.11)
#   .gpu/models/<name>/            config, tokenizer and chat template of each model, no weights
#   .gpu/whl/                      trl and the pure-Python packages it needs that the machine lacks
#   .gpu-parts/<model>-NN/piece    the model's GGUF in pieces, for the runs that need real weights,
#                                  one piece per call without .gpu (docs/BENCHMARKS.md, "GPU runs")
# Usage: bench/gpu/pack.sh   (after scripts/build.sh and scripts/fetch-models.sh all)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu parts=.gpu-parts
rm -rf "$out" "$parts"
mkdir -p "$out/models" "$out/whl" "$parts"
[ -x target/release/rlxf ] || { echo "target/release/rlxf missing: run scripts/build.sh" >&2; exit 1; }
strip -o "$out/rlxf" target/release/rlxf
for model in smollm2-135m-instruct qwen2.5-coder-0.5b-instruct; do
  [ -f "models/$model/config.json" ] || { echo "models/$model missing: run scripts/fetch-models.sh all" >&2; exit 1; }
  mkdir -p "$out/models/$model"
  for f in config.json generation_config.json tokenizer.json tokenizer_config.json chat_template.jinja; do
    [ -f "models/$model/$f" ] && cp "models/$model/$f" "$out/models/$model/"
  done
done
# The GPU machine's Python is 3.12; versions pinned as in bench/requirements.txt and the repo venv.
.venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$out/whl" trl==1.16.0 datasets==5.2.0 transformers==5.23.0 dill==0.4.1 multiprocess==0.70.19
# Pieces that travel one per call with nothing but the tracked tree (about 5 MiB) beside them.
split_gguf() {
  local name=$1 file=$2
  [ -f "$file" ] || { echo "$file missing: run scripts/fetch-models.sh all" >&2; exit 1; }
  local tmp; tmp=$(mktemp -d)
  split -b 52M -d -a 2 "$file" "$tmp/"
  for piece in "$tmp"/*; do
    mkdir -p "$parts/$name-$(basename "$piece")"
    mv "$piece" "$parts/$name-$(basename "$piece")/piece"
  done
  rmdir "$tmp"
  sha256sum "$file" | cut -d' ' -f1 > "$out/models/$name/gguf.sha256"
  ls -d "$parts/$name"-* | wc -l > "$out/models/$name/gguf.pieces"
}
split_gguf smollm2-135m-instruct models/cache/SmolLM2-135M-Instruct.Q4_1.gguf
split_gguf qwen2.5-coder-0.5b-instruct models/cache/qwen2.5-coder-0.5b-instruct.Q4_K_M.gguf
base=$(du -sb "$out" | cut -f1)
echo "$out: $((base / 1024 / 1024)) MiB; pieces: $(ls "$parts" | tr '\n' ' ')" >&2
# The tracked tree travels with every call: base pack plus tree must stay under 64 MiB.
[ "$base" -lt $((56 * 1024 * 1024)) ] || { echo "$out is over 56 MiB: it will not travel" >&2; exit 1; }
