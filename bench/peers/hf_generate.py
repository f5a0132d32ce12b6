"""transformers `generate` throughput on the same fixed-length work as `rlxf bench rollout`: the same
prompt token ids, sampling at the same temperature with no top-k/top-p, exactly --new-tokens new tokens
per row (min_new_tokens = max_new_tokens). One JSON line per timed run."""

import argparse
import contextlib
import json
import resource
import time

import torch
from transformers import AutoModelForCausalLM, GenerationConfig


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--new-tokens", type=int, default=256)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    ap.add_argument("--autocast", choices=["bf16"], help="bf16 mixed precision: f32 weights, torch.autocast over generate")
    args = ap.parse_args()
    if args.autocast and args.dtype != "f32":
        ap.error("--autocast bf16 keeps f32 weights: use it with --dtype f32")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype).to(args.device).eval()
    with open(args.prompts) as f:
        rows = json.load(f)[: args.batch]
    input_ids = torch.tensor(rows, device=args.device)
    attention_mask = torch.ones_like(input_ids)
    config = GenerationConfig(
        do_sample=True,
        temperature=args.temperature,
        top_k=0,
        top_p=1.0,
        max_new_tokens=args.new_tokens,
        min_new_tokens=args.new_tokens,
        pad_token_id=model.config.eos_token_id if model.config.pad_token_id is None else model.config.pad_token_id,
        eos_token_id=model.config.eos_token_id,
    )
    cuda = args.device.startswith("cuda")
    # One autocast region over all calls, as rlxf's sampler holds one over a generation.
    precision = torch.autocast(args.device.split(":")[0], dtype=torch.bfloat16) if args.autocast else contextlib.nullcontext()
    with torch.inference_mode(), precision:
        model.generate(input_ids=input_ids[:1], attention_mask=attention_mask[:1], generation_config=GenerationConfig(**{**config.to_dict(), "max_new_tokens": 8, "min_new_tokens": 0}))
        for run in range(args.repeats):
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            out = model.generate(input_ids=input_ids, attention_mask=attention_mask, generation_config=config)
            if cuda:
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            generated = int((out.shape[1] - input_ids.shape[1]) * out.shape[0])
            record = {
                "engine": "transformers", "task": "rollout", "run": run, "batch": args.batch,
                "prompt_tokens": input_ids.shape[1], "new_tokens": args.new_tokens,
                "generated_tokens": generated, "seconds": seconds, "tokens_per_second": generated / seconds,
                # ru_maxrss is in KiB on Linux.
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "threads": args.threads, "torch": torch.__version__, "device": args.device, "dtype": args.dtype,
                "autocast": args.autocast,
            }
            if cuda:
                record["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
                record["cuda_max_reserved_mb"] = torch.cuda.max_memory_reserved() / 2**20
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
