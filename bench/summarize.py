"""Medians and ratios of benchmark JSON lines (bench/rollout.sh, bench/grpo_step.sh) as Markdown."""

import argparse
import json
import statistics
from collections import defaultdict


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", nargs="+", help="JSONL files the bench scripts wrote")
    args = ap.parse_args()
    records = []
    for path in args.results:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    rollout = [r for r in records if r["task"] == "rollout"]
    steps = [r for r in records if r["task"] == "grpo_step"]
    if rollout:
        print(rollout_table(rollout))
    if steps:
        print(step_table(steps))
    on_gpu = [r for r in records if "cuda_max_allocated_mb" in r]
    if on_gpu:
        print(gpu_memory_table(on_gpu))


def grouped(records, key):
    out = defaultdict(lambda: defaultdict(list))
    for r in records:
        out[key(r)][r["engine"]].append(r)
    return out


def rollout_table(records) -> str:
    lines = [
        "| batch | rlxf tokens/s | transformers tokens/s | ratio | rlxf peak RSS | transformers peak RSS | runs |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for batch, engines in sorted(grouped(records, lambda r: r["batch"]).items()):
        ours, peer = engines.get("rlxf", []), engines.get("transformers", [])
        med = lambda rs: statistics.median(r["tokens_per_second"] for r in rs) if rs else float("nan")
        rss = lambda rs: max(r["peak_rss_mb"] for r in rs) if rs else float("nan")
        a, b = med(ours), med(peer)
        lines.append(
            f"| {batch} | {a:.1f} | {b:.1f} | {a / b:.2f}x | {rss(ours):.0f} MiB | {rss(peer):.0f} MiB | {len(ours)} + {len(peer)} |"
        )
    return "\n".join(lines) + "\n"


def mean_length(records) -> str:
    lengths = [r["completion_tokens_mean"] for r in records if "completion_tokens_mean" in r]
    return f"{statistics.mean(lengths):.1f}" if lengths else "n/a"


def step_table(records) -> str:
    lines = [
        "| engine | step (median) | generation | scoring | training | completion tokens (mean) | peak RSS | steps |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    medians = {}
    for engine, rs in sorted(grouped(records, lambda r: "all")["all"].items()):
        med = lambda k: statistics.median(r[k] for r in rs)
        medians[engine] = med("step_seconds")
        lines.append(
            f"| {engine} | {med('step_seconds'):.1f} s | {med('generation_seconds'):.1f} s | {med('scoring_seconds'):.3f} s | "
            f"{med('training_seconds'):.1f} s | {mean_length(rs)} | {max(r['peak_rss_mb'] for r in rs):.0f} MiB | {len(rs)} |"
        )
    if "rlxf" in medians and "trl" in medians:
        lines.append(f"\nTRL step / rlxf step = {medians['trl'] / medians['rlxf']:.2f}x")
    return "\n".join(lines) + "\n"


def gpu_memory_table(records) -> str:
    """The caching allocator's peaks (torch.cuda.max_memory_allocated / _reserved on both sides)."""
    lines = [
        "| task | batch | engine | peak allocated | peak reserved | records |",
        "|---|---:|---|---:|---:|---:|",
    ]
    key = lambda r: (r["task"], r.get("batch", "-"))
    for (task, batch), engines in sorted(grouped(records, key).items(), key=lambda kv: str(kv[0])):
        for engine, rs in sorted(engines.items()):
            top = lambda k: max(r.get(k, float("nan")) for r in rs)
            lines.append(
                f"| {task} | {batch} | {engine} | {top('cuda_max_allocated_mb'):.0f} MiB | {top('cuda_max_reserved_mb'):.0f} MiB | {len(rs)} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
