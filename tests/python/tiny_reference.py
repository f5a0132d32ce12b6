"""Reference outputs from Hugging Face transformers for rlxf's numerical tests.

Creates a randomly initialised tiny Llama or Qwen2 with transformers, saves it as a Hugging Face
folder (config.json + model.safetensors), and writes the logits transformers computes for a
left-padded batch of token ids to `reference.safetensors` in the same folder (and the logits
under bf16 autocast; for a new tiny model also every parameter's gradient of a weighted
next-token log-likelihood, `grad.<name>`, see `loss_gradients`).

    python tiny_reference.py --arch llama --out DIR [--seed 0]
    python tiny_reference.py --model DIR --out FILE   # logits of an existing model folder
"""
import argparse
import os

import torch
from safetensors.torch import save_file

torch.set_num_threads(int(os.environ.get("RLXF_TEST_THREADS", "1")))


def tiny_config(arch: str):
    from transformers import LlamaConfig, Qwen2Config

    common = dict(
        vocab_size=257,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        rms_norm_eps=1e-5,
        bos_token_id=None,
        eos_token_id=256,
        pad_token_id=0,
    )
    if arch == "llama":
        return LlamaConfig(rope_theta=10000.0, tie_word_embeddings=True, **common)
    if arch == "qwen2":
        return Qwen2Config(rope_theta=1000000.0, tie_word_embeddings=False, **common)
    raise SystemExit(f"unknown arch {arch}")


def write_tokenizer(out: str):
    """A byte-level tokenizer whose 256 byte symbols are ids 0..255 plus `<|end|>` = 256 (the eos),
    with a ChatML-like template, so the sampler can be tested end to end on the tiny model."""
    import json

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|end|>"])
    tok.save(os.path.join(out, "tokenizer.json"))
    template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"eos_token": "<|end|>", "pad_token": "<|end|>", "chat_template": template}, f)


def batch(vocab: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    lengths = [13, 7, 10]
    width = max(lengths)
    ids = torch.zeros(len(lengths), width, dtype=torch.long)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, width - n :] = torch.randint(3, vocab, (n,), generator=g)
        mask[i, width - n :] = 1
    return ids, mask


def logits_of(model, ids, mask):
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.float()


def autocast_logits(folder: str, ids, mask):
    """Logits under torch.autocast("cpu", bfloat16) on f32 weights (TRL's bf16=True on a GPU), with
    transformers' SDPA attention, the kernel rlxf's forward calls, so the two differ only in
    rounding order."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="sdpa").eval()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return logits_of(model, ids, mask)


def weighted_next_token_loss(logits, ids, mask):
    """sum over real next-token pairs of w_t * log p(ids[t+1] | ids[..t]), w_t from -1 to 1 along the
    row: signed weights, like advantages, so no gradient cancels by symmetry. rlxf's gradient-parity
    test computes the same."""
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    pairs = (mask[:, :-1] * mask[:, 1:]).float()
    weights = torch.linspace(-1.0, 1.0, ids.shape[1] - 1).unsqueeze(0)
    return (logp * pairs * weights).sum()


def loss_gradients(model, ids, mask):
    """transformers' own autograd through its eager f32 model: the independent reference for rlxf's
    backward (fused MLP tail, attention, norms, embeddings)."""
    model.zero_grad(set_to_none=True)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    loss = weighted_next_token_loss(logits, ids, mask)
    loss.backward()
    grads = {f"grad.{name}": p.grad.detach().clone().contiguous() for name, p in model.named_parameters()}
    grads["loss"] = loss.detach().reshape(1)
    return grads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch")
    ap.add_argument("--model")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from transformers import AutoModelForCausalLM

    torch.manual_seed(args.seed)
    if args.model:
        model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32, attn_implementation="eager")
        out_file = args.out
    else:
        model = AutoModelForCausalLM.from_config(tiny_config(args.arch), torch_dtype=torch.float32, attn_implementation="eager")
        # Random init is N(0, 0.02); widen norms and biases so every parameter matters in the comparison.
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "norm" in name or name.endswith("bias"):
                    p.add_(torch.randn_like(p) * 0.1)
        model.save_pretrained(args.out, safe_serialization=True)
        write_tokenizer(args.out)
        out_file = os.path.join(args.out, "reference.safetensors")
    model.eval()
    ids, mask = batch(model.config.vocab_size, args.seed)
    logits = logits_of(model, ids, mask)
    tensors = {"input_ids": ids, "attention_mask": mask, "logits": logits.contiguous()}
    tensors["logits_bf16_autocast"] = autocast_logits(args.model or args.out, ids, mask).contiguous()
    if not args.model:
        tensors.update(loss_gradients(model, ids, mask))
    save_file(tensors, out_file)


if __name__ == "__main__":
    main()
