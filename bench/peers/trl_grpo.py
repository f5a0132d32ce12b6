"""TRL's GRPOTrainer on the same work as an rlxf run: the same model, problems (written by
`rlxf problems`), reward (boxed answer, else the last number, equal to the reference), group size,
prompts per step, learning rate, micro-batch, loss aggregation (token mean = TRL's "dapo"), beta = 0,
sampling temperature and completion length. Writes one JSON line per optimizer step with its wall time
split into generation, scoring and the rest (log-probs, backward, optimizer), and, with --held-out,
greedy held-out accuracy every --eval-every steps against training wall time (evaluation excluded)."""

import argparse
import json
import re
import resource
import tempfile
import time
from collections import defaultdict

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

import trl.extras.profiling as profiling
from trl import GRPOConfig, GRPOTrainer

# TRL times named sections (generation, each reward function, compute_loss) for its loggers; collect them.
SECTIONS: dict[str, float] = defaultdict(float)
_original_log = profiling.ProfilingContext._log_metrics


def _record(self, duration):
    SECTIONS[self.name] += duration
    return _original_log(self, duration)


profiling.ProfilingContext._log_metrics = _record

BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def extract(text: str):
    boxed = BOXED.findall(text)
    if boxed:
        return boxed[-1].strip()
    numbers = NUMBER.findall(text.replace(",", ""))
    return numbers[-1] if numbers else None


def exact_answer(completions, answer, **_):
    out = []
    for completion, gold in zip(completions, answer):
        text = completion[-1]["content"] if isinstance(completion, list) else completion
        got = extract(text)
        out.append(1.0 if got is not None and got == gold.strip() else 0.0)
    return out


def load_problems(path):
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [{"prompt": [{"role": "user", "content": r["prompt"]}], "answer": r["answer"]} for r in rows]


def held_out_accuracy(model, tokenizer, problems, max_new_tokens, batch=50):
    """Greedy, like rlxf's held-out evaluation."""
    model.eval()
    tokenizer.padding_side = "left"
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(problems), batch):
            chunk = problems[i : i + batch]
            texts = [tokenizer.apply_chat_template(p["prompt"], tokenize=False, add_generation_prompt=True) for p in chunk]
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            out = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
            for p, row in zip(chunk, out[:, enc["input_ids"].shape[1] :]):
                got = extract(tokenizer.decode(row, skip_special_tokens=True))
                correct += int(got is not None and got == p["answer"].strip())
    model.train()
    return correct / len(problems)


class StepTimer(TrainerCallback):
    def __init__(self, args, out, held_out, tokenizer):
        self.args, self.out, self.held_out, self.tokenizer = args, out, held_out, tokenizer
        self.train_seconds = 0.0
        self.trainer = None

    def on_step_begin(self, args, state, control, **kwargs):
        SECTIONS.clear()
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, model=None, **kwargs):
        seconds = time.perf_counter() - self.start
        self.train_seconds += seconds
        # Section names carry the trainer's class as a prefix ("GRPOTrainer.transformers.generate").
        section = lambda *suffixes: sum(v for k, v in SECTIONS.items() if k.endswith(suffixes))
        generation = section(".transformers.generate", ".transformers.generate_batch")
        scoring = section(".exact_answer")
        record = {
            "engine": "trl", "task": "grpo_step", "step": state.global_step, "step_seconds": seconds,
            "generation_seconds": generation, "scoring_seconds": scoring,
            "training_seconds": seconds - generation - scoring, "train_seconds_total": self.train_seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "gradient_checkpointing": self.args.gradient_checkpointing == "on",
        }
        if torch.cuda.is_available():
            # Peaks since the start of the run, like rlxf's cuda_max_*_mb in metrics.jsonl.
            record["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
            record["cuda_max_reserved_mb"] = torch.cuda.max_memory_reserved() / 2**20
        history = [h for h in state.log_history if "reward" in h]
        if history:
            record["reward_mean"] = history[-1]["reward"]
            if "completions/mean_length" in history[-1]:
                record["completion_tokens_mean"] = history[-1]["completions/mean_length"]
        if self.held_out and self.args.eval_every and state.global_step % self.args.eval_every == 0:
            record["eval_accuracy"] = held_out_accuracy(model, self.tokenizer, self.held_out, self.args.eval_max_new_tokens)
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()
        print(json.dumps(record), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--problems", required=True, help="training problems, JSONL from `rlxf problems`")
    ap.add_argument("--held-out", help="held-out problems, JSONL from `rlxf problems --split held_out`")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--prompts-per-step", type=int, default=8)
    ap.add_argument("--group-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--fixed-length", action="store_true", help="min_new_tokens = max_new_tokens")
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--micro-batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"], help="the weights' dtype (rlxf's model.dtype)")
    ap.add_argument("--autocast", choices=["bf16"], help="mixed precision: f32 weights, bf16 products (GRPOConfig bf16=True; rlxf's model.autocast)")
    ap.add_argument("--gradient-checkpointing", default="on", choices=["on", "off"],
                    help="recompute activations in the backward (GRPOConfig's default is on; rlxf keeps them)")
    ap.add_argument("--eval-every", type=int, default=0)
    ap.add_argument("--eval-max-new-tokens", type=int, default=64)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.autocast and args.dtype != "f32":
        raise SystemExit("--autocast bf16 keeps f32 weights: use it with --dtype f32")
    samples = args.prompts_per_step * args.group_size
    if samples % args.micro_batch:
        raise SystemExit(f"--micro-batch {args.micro_batch} must divide {samples} samples per step")
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype)
    train = load_problems(args.problems)
    held_out = load_problems(args.held_out) if args.held_out else []
    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="trl-grpo-"),
        per_device_train_batch_size=args.micro_batch,
        gradient_accumulation_steps=samples // args.micro_batch,
        num_generations=args.group_size,
        max_completion_length=args.max_new_tokens,
        generation_kwargs={"min_new_tokens": args.max_new_tokens} if args.fixed_length else None,
        temperature=args.temperature,
        top_p=1.0,
        top_k=0,
        learning_rate=args.lr,
        lr_scheduler_type="constant",
        warmup_steps=0,
        weight_decay=0.0,
        max_grad_norm=1.0,
        beta=0.0,
        epsilon=0.2,
        loss_type="dapo",
        scale_rewards="group",
        num_iterations=1,
        max_steps=args.steps,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=not torch.cuda.is_available(),
        bf16=args.autocast == "bf16",
        seed=0,
        shuffle_dataset=False,
        disable_dropout=True,
        gradient_checkpointing=args.gradient_checkpointing == "on",
    )
    with open(args.out, "a") as out:
        timer = StepTimer(args, out, held_out, tokenizer)
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=exact_answer,
            args=config,
            train_dataset=Dataset.from_list(train),
            processing_class=tokenizer,
            callbacks=[timer],
        )
        if held_out and args.eval_every:
            acc = held_out_accuracy(trainer.model, tokenizer, held_out, args.eval_max_new_tokens)
            out.write(json.dumps({"engine": "trl", "task": "held_out", "step": 0, "train_seconds_total": 0.0, "eval_accuracy": acc}) + "\n")
        trainer.train()


if __name__ == "__main__":
    main()
