//! Test support: a minimal GGUF writer and a generator of tiny synthetic Llama/Qwen2 models
//! with a byte-level BPE vocabulary. Written from the GGUF spec, independently of the reader.

#![allow(dead_code)]

use std::collections::BTreeMap;

use rlxf_gguf::dequant::dequantize;
use rlxf_gguf::GgmlType;

/// Metadata values the writer can emit.
#[derive(Clone, Debug)]
pub enum Kv {
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    Str(String),
    StrArray(Vec<String>),
    I32Array(Vec<i32>),
    F32Array(Vec<f32>),
    U64(u64),
}

pub struct Tensor {
    pub name: String,
    /// ggml order (dims[0] fastest).
    pub dims: Vec<u64>,
    pub ggml_type: GgmlType,
    pub data: Vec<u8>,
}

pub struct GgufBuilder {
    pub version: u32,
    pub alignment: u64,
    pub kvs: Vec<(String, Kv)>,
    pub tensors: Vec<Tensor>,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

impl GgufBuilder {
    pub fn new() -> Self {
        Self {
            version: 3,
            alignment: 32,
            kvs: Vec::new(),
            tensors: Vec::new(),
        }
    }

    pub fn kv(&mut self, key: &str, v: Kv) -> &mut Self {
        self.kvs.push((key.to_string(), v));
        self
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.kvs.len() as u64).to_le_bytes());
        for (k, v) in &self.kvs {
            put_str(&mut out, k);
            match v {
                Kv::U32(x) => {
                    out.extend(4u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
                Kv::I32(x) => {
                    out.extend(5u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
                Kv::F32(x) => {
                    out.extend(6u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
                Kv::Bool(x) => {
                    out.extend(7u32.to_le_bytes());
                    out.push(u8::from(*x));
                }
                Kv::Str(s) => {
                    out.extend(8u32.to_le_bytes());
                    put_str(&mut out, s);
                }
                Kv::StrArray(items) => {
                    out.extend(9u32.to_le_bytes());
                    out.extend(8u32.to_le_bytes());
                    out.extend((items.len() as u64).to_le_bytes());
                    for s in items {
                        put_str(&mut out, s);
                    }
                }
                Kv::I32Array(items) => {
                    out.extend(9u32.to_le_bytes());
                    out.extend(5u32.to_le_bytes());
                    out.extend((items.len() as u64).to_le_bytes());
                    for x in items {
                        out.extend(x.to_le_bytes());
                    }
                }
                Kv::F32Array(items) => {
                    out.extend(9u32.to_le_bytes());
                    out.extend(6u32.to_le_bytes());
                    out.extend((items.len() as u64).to_le_bytes());
                    for x in items {
                        out.extend(x.to_le_bytes());
                    }
                }
                Kv::U64(x) => {
                    out.extend(10u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
            }
        }
        let align = |n: u64| n.div_ceil(self.alignment) * self.alignment;
        let mut offset = 0u64;
        let mut offsets = Vec::new();
        for t in &self.tensors {
            put_str(&mut out, &t.name);
            out.extend((t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(t.ggml_type.0.to_le_bytes());
            out.extend(offset.to_le_bytes());
            offsets.push(offset);
            offset = align(offset + t.data.len() as u64);
        }
        let data_start = align(out.len() as u64) as usize;
        out.resize(data_start, 0);
        for (t, off) in self.tensors.iter().zip(offsets) {
            out.resize(data_start + off as usize, 0);
            out.extend(&t.data);
        }
        out
    }
}

/// xorshift64: deterministic test data without a rand dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    pub fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }
}

/// GPT-2's byte -> printable char table (`bytes_to_unicode`).
pub fn bytes_to_unicode() -> Vec<char> {
    let mut bs: Vec<u32> = (u32::from(b'!')..=u32::from(b'~'))
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    let mut table = vec!['\0'; 256];
    for (b, c) in bs.into_iter().zip(cs) {
        table[b as usize] = char::from_u32(c).unwrap();
    }
    table
}

/// A f16 scale in a "sane" range, as little-endian bytes.
pub fn f16_bytes(v: f32) -> [u8; 2] {
    half::f16::from_f32(v).to_le_bytes()
}

/// Random blocks of a quantized type: random quant bits, sane f16 scales.
pub fn random_blocks(rng: &mut Rng, t: GgmlType, n_values: usize) -> Vec<u8> {
    let (block, size) = t.block_geometry().unwrap();
    let n_blocks = n_values / block as usize;
    let scale_offsets: &[usize] = match t {
        GgmlType::Q4_0 | GgmlType::Q5_0 | GgmlType::Q8_0 => &[0],
        GgmlType::Q4_1 | GgmlType::Q5_1 | GgmlType::Q4_K | GgmlType::Q5_K => &[0, 2],
        GgmlType::Q6_K => &[208],
        GgmlType::F32 => {
            return (0..n_values)
                .flat_map(|_| (rng.unit() * 0.1).to_le_bytes())
                .collect()
        }
        GgmlType::F16 => {
            return (0..n_values)
                .flat_map(|_| f16_bytes(rng.unit() * 0.1))
                .collect()
        }
        GgmlType::BF16 => {
            return (0..n_values)
                .flat_map(|_| half::bf16::from_f32(rng.unit() * 0.1).to_le_bytes())
                .collect()
        }
        other => panic!("no generator for {other}"),
    };
    let mut out = Vec::with_capacity(n_blocks * size as usize);
    for _ in 0..n_blocks {
        let mut b: Vec<u8> = (0..size).map(|_| rng.byte()).collect();
        for &o in scale_offsets {
            b[o..o + 2].copy_from_slice(&f16_bytes(rng.unit() * 0.01));
        }
        out.extend(b);
    }
    out
}

/// The dequantized values of `data` (the crate's kernels are checked against gguf-py elsewhere).
pub fn dequant(t: GgmlType, data: &[u8], n: usize) -> Vec<f32> {
    let mut out = vec![0.0; n];
    dequantize(t, data, &mut out).unwrap();
    out
}

/// convert_hf_to_gguf.py's `permute` on a row-major (rows, cols) matrix.
pub fn llama_cpp_permute(w: &[f32], rows: usize, cols: usize, n_head: usize) -> Vec<f32> {
    let half = rows / n_head / 2;
    let mut out = vec![0.0; w.len()];
    for h in 0..n_head {
        for i in 0..half {
            for j in 0..2 {
                let dst = ((h * half + i) * 2 + j) * cols;
                let src = ((h * 2 + j) * half + i) * cols;
                out[dst..dst + cols].copy_from_slice(&w[src..src + cols]);
            }
        }
    }
    out
}

/// Q8_0 with every block scale = 1/64, so values are exactly q/64 and round-trip losslessly.
pub fn q8_0_exact(rng: &mut Rng, n: usize) -> (Vec<u8>, Vec<f32>) {
    let mut bytes = Vec::new();
    let mut values = Vec::new();
    for _ in 0..n / 32 {
        bytes.extend(f16_bytes(1.0 / 64.0));
        for _ in 0..32 {
            let q = rng.byte() as i8;
            bytes.push(q as u8);
            values.push(f32::from(q) / 64.0);
        }
    }
    (bytes, values)
}

/// Shapes of the synthetic model.
pub const VOCAB_SPECIALS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
pub const MERGES: [&str; 6] = ["Ġ t", "h e", "Ġt he", "l l", "ll o", "he llo"];
pub const HIDDEN: usize = 256;
pub const HEADS: usize = 4;
pub const KV_HEADS: usize = 2;
pub const HEAD_DIM: usize = 64;
pub const FFN: usize = 512;
pub const LAYERS: usize = 2;

/// Tokens of the synthetic vocabulary: specials, the 256 byte symbols, merge results, and one
/// user-defined token.
pub fn vocab() -> (Vec<String>, Vec<i32>) {
    let mut tokens: Vec<String> = VOCAB_SPECIALS.iter().map(|s| s.to_string()).collect();
    let mut types = vec![3; tokens.len()];
    for c in bytes_to_unicode() {
        tokens.push(c.to_string());
        types.push(1);
    }
    for m in MERGES {
        tokens.push(m.replace(' ', ""));
        types.push(1);
    }
    tokens.push("<tool_call>".into());
    types.push(4);
    (tokens, types)
}

/// A synthetic model plus the HF tensors the import must produce (f32, row-major).
pub struct Synthetic {
    pub gguf: GgufBuilder,
    pub expected: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    pub vocab_size: usize,
}

/// Builds a 2-layer model. `qwen2` adds q/k/v biases and an untied `output.weight`, and
/// stores Q/K unpermuted; `llama` permutes Q/K as llama.cpp does.
pub fn synthetic_model(arch: &str, seed: u64) -> Synthetic {
    let llama = arch == "llama";
    let mut rng = Rng(seed);
    let (tokens, types) = vocab();
    let vocab_size = tokens.len();
    let mut g = GgufBuilder::new();
    let a = |k: &str| format!("{arch}.{k}");
    g.kv("general.architecture", Kv::Str(arch.into()))
        .kv("general.name", Kv::Str("synthetic".into()))
        .kv(&a("block_count"), Kv::U32(LAYERS as u32))
        .kv(&a("context_length"), Kv::U32(128))
        .kv(&a("embedding_length"), Kv::U32(HIDDEN as u32))
        .kv(&a("feed_forward_length"), Kv::U32(FFN as u32))
        .kv(&a("attention.head_count"), Kv::U32(HEADS as u32))
        .kv(&a("attention.head_count_kv"), Kv::U32(KV_HEADS as u32))
        .kv(&a("rope.freq_base"), Kv::F32(10000.0))
        .kv(&a("attention.layer_norm_rms_epsilon"), Kv::F32(1e-6))
        .kv(&a("rope.dimension_count"), Kv::U32(HEAD_DIM as u32))
        .kv("tokenizer.ggml.model", Kv::Str("gpt2".into()))
        .kv("tokenizer.ggml.pre", Kv::Str(if llama { "smollm" } else { "qwen2" }.into()))
        .kv("tokenizer.ggml.tokens", Kv::StrArray(tokens))
        .kv("tokenizer.ggml.token_type", Kv::I32Array(types))
        .kv("tokenizer.ggml.merges", Kv::StrArray(MERGES.iter().map(|s| s.to_string()).collect()))
        .kv("tokenizer.ggml.bos_token_id", Kv::U32(1))
        .kv("tokenizer.ggml.eos_token_id", Kv::U32(2))
        .kv("tokenizer.ggml.padding_token_id", Kv::U32(0))
        .kv("tokenizer.ggml.add_bos_token", Kv::Bool(false))
        .kv("tokenizer.chat_template", Kv::Str("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}".into()));

    let mut m = ModelBuilder {
        g,
        expected: BTreeMap::new(),
    };
    m.plain(
        &mut rng,
        "token_embd.weight",
        "model.embed_tokens.weight",
        &[vocab_size, HIDDEN],
        GgmlType::Q8_0,
    );
    let (q_dim, kv_dim) = (HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM);
    for l in 0..LAYERS {
        let gn = |s: &str| format!("blk.{l}.{s}");
        let hn = |s: &str| format!("model.layers.{l}.{s}");
        let pick = |a: GgmlType, b: GgmlType| if l == 0 { a } else { b };
        m.plain(
            &mut rng,
            &gn("attn_norm.weight"),
            &hn("input_layernorm.weight"),
            &[HIDDEN],
            GgmlType::F32,
        );
        let norm_type = pick(GgmlType::F16, GgmlType::BF16);
        m.plain(
            &mut rng,
            &gn("ffn_norm.weight"),
            &hn("post_attention_layernorm.weight"),
            &[HIDDEN],
            norm_type,
        );

        // Q and K: layer 0 uses lossless types (F32, and Q8_0 with scale 1/64) so the
        // un-permutation is checked against the original HF matrix; layer 1 uses k-quants, whose
        // expected HF matrix is the dequantized GGUF one with llama.cpp's permutation undone by
        // index search.
        for (role, hf_role, rows, heads, lossless, lossy) in [
            (
                "attn_q",
                "self_attn.q_proj",
                q_dim,
                HEADS,
                GgmlType::F32,
                GgmlType::Q4_K,
            ),
            (
                "attn_k",
                "self_attn.k_proj",
                kv_dim,
                KV_HEADS,
                GgmlType::Q8_0,
                GgmlType::Q5_K,
            ),
        ] {
            let shape = [rows, HIDDEN];
            let n = rows * HIDDEN;
            let (gname, hname) = (
                gn(&format!("{role}.weight")),
                hn(&format!("{hf_role}.weight")),
            );
            if l == 0 {
                let hf: Vec<f32> = if lossless == GgmlType::F32 {
                    (0..n).map(|_| rng.unit()).collect()
                } else {
                    q8_0_exact(&mut rng, n).1
                };
                let stored = if llama {
                    llama_cpp_permute(&hf, rows, HIDDEN, heads)
                } else {
                    hf.clone()
                };
                let data: Vec<u8> = if lossless == GgmlType::F32 {
                    stored.iter().flat_map(|v| v.to_le_bytes()).collect()
                } else {
                    stored
                        .chunks(32)
                        .flat_map(|c| {
                            let mut b = f16_bytes(1.0 / 64.0).to_vec();
                            b.extend(c.iter().map(|v| ((v * 64.0) as i8) as u8));
                            b
                        })
                        .collect()
                };
                m.add(&gname, &hname, &shape, lossless, data, hf);
            } else {
                let data = random_blocks(&mut rng, lossy, n);
                let stored = dequant(lossy, &data, n);
                let hf = if llama {
                    invert_by_search(&stored, rows, HIDDEN, heads)
                } else {
                    stored
                };
                m.add(&gname, &hname, &shape, lossy, data, hf);
            }
            if !llama {
                m.plain(
                    &mut rng,
                    &gn(&format!("{role}.bias")),
                    &hn(&format!("{hf_role}.bias")),
                    &[rows],
                    GgmlType::F32,
                );
            }
        }
        let v_type = pick(GgmlType::Q4_0, GgmlType::Q4_1);
        m.plain(
            &mut rng,
            &gn("attn_v.weight"),
            &hn("self_attn.v_proj.weight"),
            &[kv_dim, HIDDEN],
            v_type,
        );
        if !llama {
            m.plain(
                &mut rng,
                &gn("attn_v.bias"),
                &hn("self_attn.v_proj.bias"),
                &[kv_dim],
                GgmlType::F32,
            );
        }
        let o_type = pick(GgmlType::Q5_0, GgmlType::Q5_1);
        m.plain(
            &mut rng,
            &gn("attn_output.weight"),
            &hn("self_attn.o_proj.weight"),
            &[HIDDEN, q_dim],
            o_type,
        );
        let t = pick(GgmlType::Q6_K, GgmlType::Q4_K);
        m.plain(
            &mut rng,
            &gn("ffn_gate.weight"),
            &hn("mlp.gate_proj.weight"),
            &[FFN, HIDDEN],
            t,
        );
        let t = pick(GgmlType::Q8_0, GgmlType::F16);
        m.plain(
            &mut rng,
            &gn("ffn_up.weight"),
            &hn("mlp.up_proj.weight"),
            &[FFN, HIDDEN],
            t,
        );
        let t = pick(GgmlType::Q4_K, GgmlType::Q6_K);
        m.plain(
            &mut rng,
            &gn("ffn_down.weight"),
            &hn("mlp.down_proj.weight"),
            &[HIDDEN, FFN],
            t,
        );
    }
    m.plain(
        &mut rng,
        "output_norm.weight",
        "model.norm.weight",
        &[HIDDEN],
        GgmlType::F32,
    );
    if !llama {
        m.plain(
            &mut rng,
            "output.weight",
            "lm_head.weight",
            &[vocab_size, HIDDEN],
            GgmlType::Q8_0,
        );
    }
    Synthetic {
        gguf: m.g,
        expected: m.expected,
        vocab_size,
    }
}

struct ModelBuilder {
    g: GgufBuilder,
    expected: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

impl ModelBuilder {
    fn add(
        &mut self,
        gguf: &str,
        hf: &str,
        shape: &[usize],
        t: GgmlType,
        data: Vec<u8>,
        values: Vec<f32>,
    ) {
        let dims = shape.iter().rev().map(|&d| d as u64).collect();
        self.g.tensors.push(Tensor {
            name: gguf.into(),
            dims,
            ggml_type: t,
            data,
        });
        self.expected
            .insert(hf.to_string(), (shape.to_vec(), values));
    }

    /// A tensor of random blocks whose expected value is its plain dequantization.
    fn plain(&mut self, rng: &mut Rng, gguf: &str, hf: &str, shape: &[usize], t: GgmlType) {
        let n = shape.iter().product();
        let data = random_blocks(rng, t, n);
        let values = dequant(t, &data, n);
        self.add(gguf, hf, shape, t, data, values);
    }
}

/// The matrix `hf` with `llama_cpp_permute(hf) == stored`, found by permuting row indices
/// (independent of the crate's closed-form inverse).
fn invert_by_search(stored: &[f32], rows: usize, cols: usize, n_head: usize) -> Vec<f32> {
    let index: Vec<f32> = (0..rows).map(|r| r as f32).collect();
    let moved = llama_cpp_permute(&index, rows, 1, n_head); // moved[g] = hf row stored at g
    let mut hf = vec![0.0; stored.len()];
    for (g, &h) in moved.iter().enumerate() {
        let h = h as usize;
        hf[h * cols..(h + 1) * cols].copy_from_slice(&stored[g * cols..(g + 1) * cols]);
    }
    hf
}
