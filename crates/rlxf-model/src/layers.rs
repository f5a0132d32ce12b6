//! The building blocks of a Llama/Qwen2 decoder layer. Parameter names follow Hugging Face's so that
//! checkpoints load and save without renaming.

use tch::{nn, Device, Kind, Tensor};

use crate::autocast;
use crate::config::ModelConfig;
use crate::decode_attention;
use crate::decode_elementwise;
use crate::few_rows_linear;
use crate::kv_cache::KvCache;
use crate::rope::apply_rotary;
use crate::runtime;
use crate::swiglu_down;

/// Zero-initialised: every parameter is overwritten by the checkpoint, so random init would be wasted work.
fn param(vs: &nn::Path, name: &str, shape: &[i64]) -> Tensor {
    vs.var(name, shape, nn::Init::Const(0.0))
}

pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    pub fn new(vs: nn::Path, in_dim: usize, out_dim: usize, bias: bool) -> Self {
        let weight = param(&vs, "weight", &[out_dim as i64, in_dim as i64]);
        let bias = bias.then(|| param(&vs, "bias", &[out_dim as i64]));
        Self { weight, bias }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        few_rows_linear::try_linear(x, &self.weight, self.bias.as_ref())
            .unwrap_or_else(|| x.linear(&self.weight, self.bias.as_ref()))
    }

    /// The vocabulary projection: [`project`]'s layout choice.
    pub fn forward_vocabulary(&self, x: &Tensor) -> Tensor {
        project(x, &self.weight, self.bias.as_ref())
    }

    /// The parameters the product reads (what autocast casts to bf16).
    pub fn product_parameters(&self) -> impl Iterator<Item = &Tensor> {
        std::iter::once(&self.weight).chain(self.bias.as_ref())
    }
}

/// `x · weightᵀ + bias` for the vocabulary projection (`weight` `[vocab, hidden]`). Without gradients,
/// few rows go to [`few_rows_linear`] like every other projection. Where that kernel cannot run (no
/// AVX2/FMA, or switched off) but the rest holds (CPU, f32, few rows), the product is computed as
/// `(weight · xᵀ)ᵀ`: the same product, but MKL runs the
/// tall `[vocab, hidden] x [hidden, rows]` GEMM 1.3-1.7x faster than the wide one at 32 rows on this
/// project's CPU (bench/projection_layout.py times both; for the small per-layer projections neither
/// layout wins consistently, so they keep `linear`). Many rows (training, prefill) keep the usual
/// layout.
pub fn project(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
    if let Some(y) = few_rows_linear::try_linear(x, weight, bias) {
        return y;
    }
    let (out_dim, in_dim) = weight.size2().expect("a projection weight is [out, in]");
    let mut shape = x.size();
    let rows = shape[..shape.len() - 1].iter().product::<i64>();
    let transposed = rows <= few_rows_linear::MAX_ROWS
        && x.device() == Device::Cpu
        && x.kind() == Kind::Float
        && weight.kind() == Kind::Float
        && !autocast::is_enabled(Device::Cpu);
    if !transposed {
        return x.linear(weight, bias);
    }
    *shape.last_mut().expect("input has a feature dimension") = out_dim;
    let y = weight.matmul(&x.reshape([rows, in_dim]).tr()).tr().contiguous();
    let y = match bias {
        Some(b) => y + b,
        None => y,
    };
    y.view(shape.as_slice())
}

pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn new(vs: nn::Path, dim: usize, eps: f64) -> Self {
        Self { weight: param(&vs, "weight", &[dim as i64]), eps }
    }

    /// Normalises in f32 whatever the parameter dtype, as Hugging Face does, so bf16 stays stable.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        if let Some((_, normed)) = decode_elementwise::try_add_rms_norm(x, None, &self.weight, self.eps) {
            return normed;
        }
        self.forward_libtorch(x)
    }

    /// `(x + delta, forward(x + delta))`: the residual sum and its normalisation, in one pass at
    /// decoding shapes.
    pub fn add_forward(&self, x: &Tensor, delta: &Tensor) -> (Tensor, Tensor) {
        decode_elementwise::try_add_rms_norm(x, Some(delta), &self.weight, self.eps).unwrap_or_else(|| {
            let sum = x + delta;
            let normed = self.forward_libtorch(&sum);
            (sum, normed)
        })
    }

    fn forward_libtorch(&self, x: &Tensor) -> Tensor {
        let kind = x.kind();
        let xf = x.to_kind(Kind::Float);
        let variance = xf.square().mean_dim(-1, true, Kind::Float);
        let normed = xf * (variance + self.eps).rsqrt();
        &self.weight * normed.to_kind(kind)
    }
}

pub struct SwiGluMlp {
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

impl SwiGluMlp {
    pub fn new(vs: nn::Path, hidden: usize, intermediate: usize) -> Self {
        Self {
            gate_proj: Linear::new(&vs / "gate_proj", hidden, intermediate, false),
            up_proj: Linear::new(&vs / "up_proj", hidden, intermediate, false),
            down_proj: Linear::new(&vs / "down_proj", intermediate, hidden, false),
        }
    }

    fn projections(&self) -> [&Linear; 3] {
        [&self.gate_proj, &self.up_proj, &self.down_proj]
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let (gate, up) = (self.gate_proj.forward(x), self.up_proj.forward(x));
        let down = &self.down_proj;
        if swiglu_down::fused() && down.bias.is_none() && runtime::grad_needed([&gate, &up, &down.weight]) {
            // Building a graph: the fused tail keeps two of the four intermediate-sized tensors.
            return swiglu_down::swiglu_down(&gate, &up, &down.weight)
                .unwrap_or_else(|e| panic!("SwiGLU MLP: {e}"));
        }
        let hidden = decode_elementwise::try_silu_mul(&gate, &up).unwrap_or_else(|| gate.silu() * up);
        down.forward(&hidden)
    }
}

pub struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    heads: i64,
    kv_heads: i64,
    head_dim: i64,
}

impl Attention {
    pub fn new(vs: nn::Path, cfg: &ModelConfig) -> Self {
        let (h, kvh, d) = (cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim);
        Self {
            q_proj: Linear::new(&vs / "q_proj", cfg.hidden_size, h * d, cfg.attention_bias),
            k_proj: Linear::new(&vs / "k_proj", cfg.hidden_size, kvh * d, cfg.attention_bias),
            v_proj: Linear::new(&vs / "v_proj", cfg.hidden_size, kvh * d, cfg.attention_bias),
            o_proj: Linear::new(&vs / "o_proj", h * d, cfg.hidden_size, false),
            heads: h as i64,
            kv_heads: kvh as i64,
            head_dim: d as i64,
        }
    }

    fn projections(&self) -> [&Linear; 4] {
        [&self.q_proj, &self.k_proj, &self.v_proj, &self.o_proj]
    }

    /// `x`: `[B, T, hidden]`; `mask`: boolean `[B, 1, T, S]` (true = may attend) where S counts the
    /// earlier positions (cached or prefix) plus these T.
    pub fn forward(&self, x: &Tensor, rope: (&Tensor, &Tensor), mask: &Tensor, kv: LayerKv<'_>) -> Tensor {
        let (b, t, _) = x.size3().expect("attention input must be [B, T, hidden]");
        let shape = |y: Tensor, heads: i64| y.view([b, t, heads, self.head_dim]).transpose(1, 2);
        let q = apply_rotary(&shape(self.q_proj.forward(x), self.heads), rope.0, rope.1);
        let k = apply_rotary(&shape(self.k_proj.forward(x), self.kv_heads), rope.0, rope.1);
        let v = shape(self.v_proj.forward(x), self.kv_heads);
        let (k, v) = match kv {
            LayerKv::Plain => (k, v),
            LayerKv::Cache(cache, layer) => cache.append(layer, &k, &v),
            LayerKv::Record(store) => {
                store.push((k.shallow_clone(), v.shallow_clone()));
                (k, v)
            }
            LayerKv::Prefix((pk, pv)) => (Tensor::cat(&[pk, &k], 2), Tensor::cat(&[pv, &v], 2)),
        };
        let attended = decode_attention::try_attend(&q, &k, &v, mask).unwrap_or_else(|| {
            // Grouped-query attention inside SDPA: copying each kv head for its query heads
            // (repeat_kv) cost more than the attention itself when decoding from a long cache.
            let grouped = self.heads != self.kv_heads;
            let out = Tensor::scaled_dot_product_attention(&q, &k, &v, Some(mask), 0.0, false, None, grouped);
            out.transpose(1, 2).reshape([b, t, self.heads * self.head_dim])
        });
        self.o_proj.forward(&attended)
    }
}

/// Where a layer's attention gets keys/values of earlier positions from, if anywhere.
pub enum LayerKv<'a> {
    /// Only the current positions (a full-sequence forward).
    Plain,
    /// Append to and read from a decoding cache (inference).
    Cache(&'a mut KvCache, usize),
    /// Keep this pass's keys/values so a later pass can attend to them (a shared prompt).
    Record(&'a mut Vec<(Tensor, Tensor)>),
    /// Attend to these earlier keys/values `[B, Hkv, P, D]` first; differentiable, unlike the cache.
    Prefix(&'a (Tensor, Tensor)),
}

pub struct DecoderLayer {
    input_layernorm: RmsNorm,
    self_attn: Attention,
    post_attention_layernorm: RmsNorm,
    mlp: SwiGluMlp,
}

impl DecoderLayer {
    /// Every projection's parameters (the products autocast runs in bf16); the norms' are not.
    pub fn product_parameters(&self) -> impl Iterator<Item = &Tensor> {
        let attention = self.self_attn.projections().into_iter();
        attention.chain(self.mlp.projections()).flat_map(Linear::product_parameters)
    }

    pub fn new(vs: nn::Path, cfg: &ModelConfig) -> Self {
        Self {
            input_layernorm: RmsNorm::new(&vs / "input_layernorm", cfg.hidden_size, cfg.rms_norm_eps),
            self_attn: Attention::new(&vs / "self_attn", cfg),
            post_attention_layernorm: RmsNorm::new(&vs / "post_attention_layernorm", cfg.hidden_size, cfg.rms_norm_eps),
            mlp: SwiGluMlp::new(&vs / "mlp", cfg.hidden_size, cfg.intermediate_size),
        }
    }

    /// The layer on the residual stream `x + pending` (`pending`: the previous layer's MLP output, not
    /// yet added), returning its own `(stream, mlp output)` likewise unsummed: each residual add then
    /// happens inside the next normalisation's pass ([`RmsNorm::add_forward`]).
    pub fn forward(&self, x: &Tensor, pending: Option<&Tensor>, rope: (&Tensor, &Tensor), mask: &Tensor, kv: LayerKv<'_>) -> (Tensor, Tensor) {
        let (x, normed) = match pending {
            Some(delta) => self.input_layernorm.add_forward(x, delta),
            None => (x.shallow_clone(), self.input_layernorm.forward(x)),
        };
        let attended = self.self_attn.forward(&normed, rope, mask, kv);
        let (h, normed) = self.post_attention_layernorm.add_forward(&x, &attended);
        let mlp_out = self.mlp.forward(&normed);
        (h, mlp_out)
    }
}
