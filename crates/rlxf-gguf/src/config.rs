//! Model hyper-parameters from GGUF metadata, and the Hugging Face `config.json` /
//! `generation_config.json` written from them.

use serde_json::{json, Value};

use crate::error::GgufError;
use crate::metadata::Metadata;
use crate::writer::OutputDType;

/// The architectures rlxf can run; both are pre-norm RMSNorm/SwiGLU/RoPE decoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Llama,
    Qwen2,
}

impl Arch {
    /// The `general.architecture` value, which also prefixes the hyper-parameter keys.
    pub fn gguf_name(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
        }
    }

    pub fn from_gguf(name: &str) -> Option<Self> {
        match name {
            "llama" => Some(Arch::Llama),
            "qwen2" => Some(Arch::Qwen2),
            _ => None,
        }
    }

    fn hf_class(self) -> &'static str {
        match self {
            Arch::Llama => "LlamaForCausalLM",
            Arch::Qwen2 => "Qwen2ForCausalLM",
        }
    }
}

/// Hyper-parameters of the network, as HF names them.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelParams {
    pub arch: Arch,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub max_position_embeddings: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub rope_scaling: Value,
    pub tie_word_embeddings: bool,
    pub attention_bias: bool,
    pub bos_token_id: Option<u64>,
    pub eos_token_id: Option<u64>,
    pub pad_token_id: Option<u64>,
}

impl ModelParams {
    /// Reads the hyper-parameters. `vocab_size` comes from the embedding matrix, and the two
    /// flags from which tensors exist, since GGUF does not record them as metadata.
    pub fn from_metadata(
        meta: &Metadata,
        arch: Arch,
        vocab_size: usize,
        tie_word_embeddings: bool,
        attention_bias: bool,
    ) -> Result<Self, GgufError> {
        let a = arch.gguf_name();
        let key = |k: &str| format!("{a}.{k}");
        let bad = |k: &str, problem: String| GgufError::BadMetadata {
            path: meta.path.clone(),
            key: key(k),
            problem,
        };

        let hidden_size = meta.positive_usize(&key("embedding_length"))?;
        let n_head = meta.positive_usize(&key("attention.head_count"))?;
        let n_kv_head = match meta.get(&key("attention.head_count_kv")) {
            None => n_head,
            Some(_) => meta.positive_usize(&key("attention.head_count_kv"))?,
        };
        if n_head % n_kv_head != 0 {
            return Err(bad(
                "attention.head_count_kv",
                format!("is {n_kv_head}, which does not divide head_count {n_head}"),
            ));
        }
        let head_dim = match meta.get(&key("attention.key_length")) {
            Some(_) => meta.positive_usize(&key("attention.key_length"))?,
            None if hidden_size % n_head == 0 => hidden_size / n_head,
            None => {
                return Err(bad(
                    "attention.head_count",
                    format!("is {n_head}, which does not divide embedding_length {hidden_size}"),
                ))
            }
        };
        if let Some(v) = meta.opt_u64(&key("attention.value_length"))? {
            if v != head_dim as u64 {
                return Err(bad(
                    "attention.value_length",
                    format!("is {v}, but key_length is {head_dim}; HF Llama/Qwen2 need them equal"),
                ));
            }
        }
        if let Some(rot) = meta.opt_u64(&key("rope.dimension_count"))? {
            if rot != head_dim as u64 {
                return Err(bad("rope.dimension_count", format!("is {rot}, but head_dim is {head_dim}; partial rotary embeddings are not supported")));
            }
        }
        let max_position_embeddings = meta.positive_usize(&key("context_length"))?;
        // llama.cpp's default when the key is absent.
        let rope_theta = meta.opt_f64(&key("rope.freq_base"))?.unwrap_or(10_000.0);
        Ok(Self {
            arch,
            vocab_size,
            hidden_size,
            intermediate_size: meta.positive_usize(&key("feed_forward_length"))?,
            num_hidden_layers: meta.positive_usize(&key("block_count"))?,
            num_attention_heads: n_head,
            num_key_value_heads: n_kv_head,
            head_dim,
            max_position_embeddings,
            rms_norm_eps: meta.f64(&key("attention.layer_norm_rms_epsilon"))?,
            rope_theta,
            rope_scaling: rope_scaling(meta, a)?,
            tie_word_embeddings,
            attention_bias,
            bos_token_id: meta.opt_u64("tokenizer.ggml.bos_token_id")?,
            eos_token_id: meta.opt_u64("tokenizer.ggml.eos_token_id")?,
            pad_token_id: meta.opt_u64("tokenizer.ggml.padding_token_id")?,
        })
    }

    /// `config.json`, with the same fields (and order) transformers writes for these models.
    pub fn config_json(&self, dtype: OutputDType) -> Value {
        let mut obj = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            obj.insert(k.to_string(), v);
        };
        put("architectures", json!([self.arch.hf_class()]));
        put("model_type", json!(self.arch.gguf_name()));
        put("attention_bias", json!(self.attention_bias));
        if self.arch == Arch::Llama {
            put("mlp_bias", json!(false));
            put("pretraining_tp", json!(1));
        }
        put("vocab_size", json!(self.vocab_size));
        put("hidden_size", json!(self.hidden_size));
        put("intermediate_size", json!(self.intermediate_size));
        put("num_hidden_layers", json!(self.num_hidden_layers));
        put("num_attention_heads", json!(self.num_attention_heads));
        put("num_key_value_heads", json!(self.num_key_value_heads));
        put("head_dim", json!(self.head_dim));
        put("hidden_act", json!("silu"));
        put(
            "max_position_embeddings",
            json!(self.max_position_embeddings),
        );
        put("rms_norm_eps", json!(self.rms_norm_eps));
        put("rope_theta", json!(self.rope_theta));
        put("rope_scaling", self.rope_scaling.clone());
        put("tie_word_embeddings", json!(self.tie_word_embeddings));
        put("bos_token_id", json!(self.bos_token_id));
        put("eos_token_id", json!(self.eos_token_id));
        put("pad_token_id", json!(self.pad_token_id));
        put("torch_dtype", json!(dtype.torch_name()));
        put("attention_dropout", json!(0.0));
        put("initializer_range", json!(0.02));
        put("use_cache", json!(true));
        if self.arch == Arch::Qwen2 {
            // Qwen2.5 ships with sliding window attention switched off.
            put("use_sliding_window", json!(false));
            put("sliding_window", json!(self.max_position_embeddings));
            put("max_window_layers", json!(self.num_hidden_layers));
        }
        Value::Object(obj)
    }

    /// `generation_config.json`: the special token ids (no sampling defaults, which GGUF lacks).
    pub fn generation_config_json(&self) -> Value {
        let mut g = serde_json::Map::new();
        for (k, v) in [
            ("bos_token_id", self.bos_token_id),
            ("eos_token_id", self.eos_token_id),
            ("pad_token_id", self.pad_token_id),
        ] {
            if let Some(v) = v {
                g.insert(k.to_string(), json!(v));
            }
        }
        Value::Object(g)
    }
}

/// HF `rope_scaling` from `{arch}.rope.scaling.*`; `null` when the model uses plain RoPE.
fn rope_scaling(meta: &Metadata, a: &str) -> Result<Value, GgufError> {
    let key = |k: &str| format!("{a}.rope.scaling.{k}");
    let Some(kind) = meta.opt_str(&key("type"))? else {
        return Ok(Value::Null);
    };
    let factor = || meta.f64(&key("factor"));
    match kind {
        "none" => Ok(Value::Null),
        "linear" => Ok(json!({"rope_type": "linear", "factor": factor()?})),
        "yarn" => Ok(json!({
            "rope_type": "yarn",
            "factor": factor()?,
            "original_max_position_embeddings": meta.u64(&key("original_context_length"))?,
        })),
        other => Err(GgufError::BadMetadata {
            path: meta.path.clone(),
            key: key("type"),
            problem: format!(
                "is '{other}', which rlxf does not support (supported: none, linear, yarn)"
            ),
        }),
    }
}
