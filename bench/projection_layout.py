"""Micro-benchmark behind rlxf_model::layers::project: the projections of one SmolLM2-135M decoding
step (f32, CPU) as `x @ W.T` (torch.nn.functional.linear, what transformers runs) and as `(W @ x.T).T`
(what rlxf runs for few rows), best of 7 rounds.
Usage: .venv/bin/python bench/projection_layout.py [--rows 32] [--threads 2]"""
import argparse
import time

import torch

SHAPES = {  # name: (in, out) of SmolLM2-135M-Instruct
    "q_proj": (576, 576),
    "k_proj/v_proj": (576, 192),
    "o_proj": (576, 576),
    "gate_proj/up_proj": (576, 1536),
    "down_proj": (1536, 576),
    "lm_head": (576, 49152),
}


def best_us(f, inner):
    f()
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(inner):
            f()
        best = min(best, (time.perf_counter() - start) / inner * 1e6)
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, nargs="+", default=[8, 32, 64])
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} threads, f32")
    print("| rows | projection | x @ W.T (us) | (W @ x.T).T (us) | ratio |")
    print("|---:|---|---:|---:|---:|")
    for rows in args.rows:
        for name, (k, n) in SHAPES.items():
            x, w = torch.randn(rows, k), torch.randn(n, k)
            inner = 2 if n > 10000 else 10
            wide = best_us(lambda: torch.nn.functional.linear(x, w), inner)
            tall = best_us(lambda: (w @ x.t()).t().contiguous(), inner)
            print(f"| {rows} | {name} | {wide:.0f} | {tall:.0f} | {wide / tall:.2f} |", flush=True)


if __name__ == "__main__":
    main()
