#!/usr/bin/env python3
"""Independent reference for rlxf-gguf's tests, built on gguf-py (gguf==0.19.0) and numpy.

  gguf_reference.py dequant-fixtures OUT_DIR [--seed N]
      Writes, for every supported ggml type, OUT_DIR/<TYPE>.bin (random blocks: random quant
      bits with finite random f16 scales) and OUT_DIR/<TYPE>.f32 (gguf.quants.dequantize of
      them, little-endian f32). The Rust test dequantizes the .bin and compares bit for bit.

  gguf_reference.py check-import GGUF HF_DIR
      Dequantizes every tensor of GGUF with gguf-py, applies the HF name mapping and the inverse
      of llama.cpp's Q/K permutation (numpy reshapes, written independently of the Rust code),
      rounds to the dtype of HF_DIR/model.safetensors, and checks that every tensor of the
      safetensors file is bit-identical. Exits non-zero on any mismatch.
"""
import argparse
import json
import struct
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

# Byte offsets of the f16 scale/min fields inside one block; the other bytes are random.
SCALE_FIELDS = {
    Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
    Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208],
}
FLOATS = {Q.F32: (np.uint32, 0x7F800000), Q.F16: (np.uint16, 0x7C00), Q.BF16: (np.uint16, 0x7F80)}


def finite_bits(rng, n, dtype, exp_mask):
    """Random bit patterns of a float type, excluding inf/NaN (all-ones exponent)."""
    info = np.iinfo(dtype)
    out = rng.integers(0, info.max, size=n, dtype=dtype, endpoint=True)
    bad = (out & exp_mask) == exp_mask
    while bad.any():
        out[bad] = rng.integers(0, info.max, size=int(bad.sum()), dtype=dtype, endpoint=True)
        bad = (out & exp_mask) == exp_mask
    return out


def dequant_fixtures(out_dir: Path, seed: int):
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    for qtype in [Q.F32, Q.F16, Q.BF16, *SCALE_FIELDS]:
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        if qtype in FLOATS:
            dtype, mask = FLOATS[qtype]
            raw = finite_bits(rng, 96, dtype, mask).astype(np.dtype(dtype).newbyteorder("<")).tobytes()
        else:
            n_blocks = 16 if block == 32 else 8
            blocks = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
            for off in SCALE_FIELDS[qtype]:
                scales = finite_bits(rng, n_blocks, np.uint16, 0x7C00)
                # Make a few scales ordinary magnitudes, a few zero/subnormal: random bits alone
                # are mostly huge or tiny.
                scales[: n_blocks // 2] = (rng.standard_normal(n_blocks // 2) * 0.01).astype(np.float16).view(np.uint16)
                scales[-1] = 0x0001  # smallest subnormal
                blocks[:, off:off + 2] = scales.astype("<u2").view(np.uint8).reshape(n_blocks, 2)
            raw = blocks.tobytes()
        data = np.frombuffer(raw, dtype=np.uint8)
        values = gguf.quants.dequantize(data, qtype).astype("<f4").reshape(-1)
        (out_dir / f"{qtype.name}.bin").write_bytes(raw)
        (out_dir / f"{qtype.name}.f32").write_bytes(values.tobytes())
        print(f"{qtype.name}: {len(raw)} bytes -> {values.size} values")


HF_NAMES = {
    "token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head",
    "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}


def hf_name(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "blk":
        return f"model.layers.{parts[1]}.{HF_NAMES[parts[2]]}.{parts[3]}"
    return f"{HF_NAMES[parts[0]]}.{parts[1]}"


def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    # Inverse of convert_hf_to_gguf.py's permute: the forward pass reshaped to
    # (n_head, 2, hd/2, ...) and swapped axes 1 and 2; undo by reshaping to (n_head, hd/2, 2, ...).
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def to_bf16_bits(x: np.ndarray) -> np.ndarray:
    bits = x.astype("<f4").view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16  # round to nearest even (no NaNs here)
    return rounded.astype(np.uint16)


def read_safetensors(path: Path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        out[name] = (info["dtype"], info["shape"], raw[base + a:base + b])
    return meta, out


def check_import(gguf_path: Path, hf_dir: Path) -> int:
    reader = gguf.GGUFReader(gguf_path)
    field = lambda k: reader.fields[k].contents()
    arch = field("general.architecture")
    n_head = field(f"{arch}.attention.head_count")
    n_kv = field(f"{arch}.attention.head_count_kv") if f"{arch}.attention.head_count_kv" in reader.fields else n_head
    meta, tensors = read_safetensors(hf_dir / "model.safetensors")
    errors = 0
    seen = set()
    for t in reader.tensors:
        name = hf_name(t.name)
        seen.add(name)
        ref = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        ref = ref.reshape([int(d) for d in reversed(t.shape.tolist())])
        if arch == "llama" and t.name.split(".")[-2] in ("attn_q", "attn_k"):
            ref = unpermute(ref, n_head if t.name.split(".")[-2] == "attn_q" else n_kv)
        if name not in tensors:
            print(f"MISSING {name}")
            errors += 1
            continue
        dtype, shape, data = tensors[name]
        if list(shape) != list(ref.shape):
            print(f"SHAPE {name}: {shape} vs {ref.shape}")
            errors += 1
            continue
        if dtype == "BF16":
            same = np.array_equal(np.frombuffer(data, "<u2"), to_bf16_bits(ref).reshape(-1))
        elif dtype == "F16":
            same = np.array_equal(np.frombuffer(data, "<u2"), ref.astype("<f2").view("<u2").reshape(-1))
        else:
            same = np.array_equal(np.frombuffer(data, "<u4"), ref.astype("<f4").view("<u4").reshape(-1))
        if not same:
            print(f"VALUES {name} ({t.tensor_type.name}) differ")
            errors += 1
    extra = set(tensors) - seen
    if extra:
        print(f"EXTRA tensors: {sorted(extra)[:5]}")
        errors += 1
    print(f"checked {len(seen)} tensors ({arch}); {errors} problems; metadata keys {sorted(meta)}")
    return 1 if errors else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dequant-fixtures")
    d.add_argument("out_dir", type=Path)
    d.add_argument("--seed", type=int, default=1234)
    c = sub.add_parser("check-import")
    c.add_argument("gguf", type=Path)
    c.add_argument("hf_dir", type=Path)
    a = p.parse_args()
    if a.cmd == "dequant-fixtures":
        dequant_fixtures(a.out_dir, a.seed)
        return 0
    return check_import(a.gguf, a.hf_dir)


if __name__ == "__main__":
    sys.exit(main())
