"""A model folder with the architecture, tokenizer and chat template of a real checkpoint but seeded
random weights (transformers' own initialisation), for throughput benchmarks on a machine the real
weights cannot reach. Both engines load the same folder, and the benchmarks generate fixed-length
completions, so the work is the real model's work: only the tokens differ."""

import argparse
import shutil
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM

# Everything of a model folder but its weights.
SMALL_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config-dir", required=True, help="folder with config.json and the tokenizer files")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", default="bf16", choices=["f32", "bf16"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    source, out = Path(args.config_dir), Path(args.out)
    if not (source / "config.json").is_file():
        raise SystemExit(f"{source}/config.json missing: run bench/gpu/pack.sh where the models are")
    torch.manual_seed(args.seed)
    config = AutoConfig.from_pretrained(source)
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    for name in SMALL_FILES:
        if (source / name).is_file() and name != "config.json":
            shutil.copy(source / name, out / name)
    print(f"{out}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M random parameters ({args.dtype}, seed {args.seed})")


if __name__ == "__main__":
    main()
