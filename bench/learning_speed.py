"""Learning speed from bench/learning_speed.sh results: held-out accuracy against training wall time
(evaluation excluded) for each engine, as a Markdown table and a PNG chart, plus the time each engine
needed to reach the peer's final accuracy."""

import argparse
import json
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def curves(records):
    """engine -> [(train seconds, step, accuracy)] sorted by step."""
    out = defaultdict(list)
    for r in records:
        if r.get("eval_accuracy") is not None:
            out[r["engine"]].append((r["train_seconds_total"], r["step"], r["eval_accuracy"]))
    return {engine: sorted(points, key=lambda p: p[1]) for engine, points in out.items()}


def first_time_reaching(points, accuracy):
    return next((seconds for seconds, _, acc in points if acc >= accuracy), None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", nargs="+", help="JSONL files bench/learning_speed.sh wrote")
    ap.add_argument("--chart", help="write the accuracy-vs-time chart here (PNG)")
    ap.add_argument("--peer", default="trl")
    args = ap.parse_args()
    records = []
    for path in args.results:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    by_engine = curves(records)
    if not by_engine:
        raise SystemExit("no held-out evaluations in the results: was --eval-every set?")
    lines = ["| engine | step | training wall time | held-out accuracy |", "|---|---:|---:|---:|"]
    for engine, points in sorted(by_engine.items()):
        for seconds, step, acc in points:
            lines.append(f"| {engine} | {step} | {seconds / 60:.1f} min | {acc:.0%} |")
    print("\n".join(lines) + "\n")
    peer = by_engine.get(args.peer)
    if peer:
        target_seconds, _, target = peer[-1]
        print(f"{args.peer} final held-out accuracy: {target:.0%} after {target_seconds / 60:.1f} min of training")
        for engine, points in sorted(by_engine.items()):
            if engine == args.peer:
                continue
            reached = first_time_reaching(points, target)
            if reached is None:
                print(f"{engine}: did not reach {target:.0%} (best {max(p[2] for p in points):.0%})")
            else:
                print(f"{engine}: reached {target:.0%} after {reached / 60:.1f} min ({reached / target_seconds:.2f} of {args.peer}'s time)")
    if args.chart:
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
        for engine, points in sorted(by_engine.items()):
            ax.plot([p[0] / 60 for p in points], [100 * p[2] for p in points], marker="o", label=engine)
        ax.set_xlabel("training wall time (min, evaluation excluded)")
        ax.set_ylabel("held-out accuracy (%)")
        ax.set_title("GRPO learning speed, same task, model and settings")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.chart)
        print(f"chart: {args.chart}")


if __name__ == "__main__":
    main()
