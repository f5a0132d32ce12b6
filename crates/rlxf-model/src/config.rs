//! `config.json` of a Hugging Face decoder checkpoint, restricted to the architectures rlxf implements.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// The decoder families rlxf implements. They differ only in details the forward pass switches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Architecture {
    Llama,
    Qwen2,
}

impl Architecture {
    const SUPPORTED: &'static str =
        "LlamaForCausalLM, Qwen2ForCausalLM (and their *ForSequenceClassification reward models)";

    fn from_hf_name(name: &str) -> Option<Self> {
        match name {
            // A reward model's trunk is the same decoder (rlxf_model::reward_model).
            "LlamaForCausalLM" | "LlamaForSequenceClassification" => Some(Self::Llama),
            "Qwen2ForCausalLM" | "Qwen2ForSequenceClassification" => Some(Self::Qwen2),
            _ => None,
        }
    }

    pub fn hf_name(self) -> &'static str {
        match self {
            Self::Llama => "LlamaForCausalLM",
            Self::Qwen2 => "Qwen2ForCausalLM",
        }
    }
}

/// The fields of `config.json` that shape the network. Unknown fields are kept in `raw` so that
/// saving a checkpoint writes back everything the source had.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub architecture: Architecture,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub max_position_embeddings: usize,
    pub tie_word_embeddings: bool,
    /// q/k/v projections carry a bias (Qwen2 always; Llama when `attention_bias`).
    pub attention_bias: bool,
    pub bos_token_id: Option<u32>,
    pub eos_token_ids: Vec<u32>,
    pub pad_token_id: Option<u32>,
    pub raw: serde_json::Value,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    architectures: Vec<String>,
    #[serde(default)]
    model_type: Option<String>,
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    #[serde(default = "default_eps")]
    rms_norm_eps: f64,
    rope_theta: Option<f64>,
    #[serde(default)]
    rope_scaling: Option<serde_json::Value>,
    /// transformers >= 5 writes `{"rope_theta": .., "rope_type": "default"}` here instead of `rope_theta`.
    #[serde(default)]
    rope_parameters: Option<serde_json::Value>,
    #[serde(default)]
    use_sliding_window: Option<bool>,
    #[serde(default = "default_max_pos")]
    max_position_embeddings: usize,
    #[serde(default)]
    tie_word_embeddings: Option<bool>,
    #[serde(default)]
    attention_bias: Option<bool>,
    #[serde(default)]
    hidden_act: Option<String>,
    bos_token_id: Option<u32>,
    eos_token_id: Option<serde_json::Value>,
    pad_token_id: Option<u32>,
}

fn default_eps() -> f64 {
    1e-6
}
/// Llama's original RoPE base, used when a config names none.
const DEFAULT_ROPE_THETA: f64 = 10000.0;
fn default_max_pos() -> usize {
    4096
}

impl ModelConfig {
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        Self::from_json_str(&text).map_err(|reason| ModelError::Config { path: path.to_path_buf(), reason })
    }

    /// Parses and validates a `config.json` text; the error string says which field is wrong.
    pub fn from_json_str(text: &str) -> Result<Self, String> {
        let raw_value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        let raw: RawConfig = serde_json::from_value(raw_value.clone()).map_err(|e| format!("{e}"))?;
        let arch_name = raw
            .architectures
            .first()
            .cloned()
            .or_else(|| raw.model_type.clone())
            .ok_or("no `architectures` entry")?;
        let architecture = Architecture::from_hf_name(&arch_name).ok_or_else(|| {
            format!("unsupported architecture `{arch_name}` (supported: {})", Architecture::SUPPORTED)
        })?;
        if let Some(act) = &raw.hidden_act {
            if act != "silu" {
                return Err(format!("unsupported hidden_act `{act}` (rlxf implements silu)"));
            }
        }
        if let Some(scaling) = &raw.rope_scaling {
            if !scaling.is_null() {
                return Err(format!("rope_scaling {scaling} is not supported yet (only plain RoPE)"));
            }
        }
        let mut rope_theta = raw.rope_theta;
        if let Some(params) = raw.rope_parameters.as_ref().filter(|p| !p.is_null()) {
            let kind = params.get("rope_type").and_then(|t| t.as_str()).unwrap_or("default");
            if kind != "default" {
                return Err(format!("rope_type `{kind}` is not supported yet (only plain RoPE)"));
            }
            rope_theta = rope_theta.or_else(|| params.get("rope_theta").and_then(|t| t.as_f64()));
        }
        if raw.use_sliding_window == Some(true) {
            return Err("use_sliding_window = true is not supported (rlxf implements full attention)".into());
        }
        let heads = raw.num_attention_heads;
        let kv_heads = raw.num_key_value_heads.unwrap_or(heads);
        if heads == 0 || kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
            return Err(format!(
                "num_attention_heads ({heads}) must be a positive multiple of num_key_value_heads ({kv_heads})"
            ));
        }
        let head_dim = raw.head_dim.unwrap_or(raw.hidden_size / heads);
        if head_dim == 0 || !head_dim.is_multiple_of(2) {
            return Err(format!("head_dim {head_dim} must be even and positive (RoPE rotates pairs)"));
        }
        let eos_token_ids = match &raw.eos_token_id {
            None | Some(serde_json::Value::Null) => vec![],
            Some(serde_json::Value::Number(n)) => vec![n.as_u64().ok_or("eos_token_id must be an id")? as u32],
            Some(serde_json::Value::Array(ids)) => ids
                .iter()
                .map(|v| v.as_u64().map(|x| x as u32).ok_or("eos_token_id entries must be ids"))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("eos_token_id {other} must be an id or a list of ids")),
        };
        let attention_bias = match architecture {
            Architecture::Qwen2 => true,
            Architecture::Llama => raw.attention_bias.unwrap_or(false),
        };
        Ok(Self {
            architecture,
            vocab_size: raw.vocab_size,
            hidden_size: raw.hidden_size,
            intermediate_size: raw.intermediate_size,
            num_hidden_layers: raw.num_hidden_layers,
            num_attention_heads: heads,
            num_key_value_heads: kv_heads,
            head_dim,
            rms_norm_eps: raw.rms_norm_eps,
            rope_theta: rope_theta.unwrap_or(DEFAULT_ROPE_THETA),
            max_position_embeddings: raw.max_position_embeddings,
            tie_word_embeddings: raw.tie_word_embeddings.unwrap_or(false),
            attention_bias,
            bos_token_id: raw.bos_token_id,
            eos_token_ids,
            pad_token_id: raw.pad_token_id,
            raw: raw_value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMOL: &str = r#"{"architectures":["LlamaForCausalLM"],"vocab_size":49152,"hidden_size":576,
        "intermediate_size":1536,"num_hidden_layers":30,"num_attention_heads":9,"num_key_value_heads":3,
        "rms_norm_eps":1e-5,"rope_theta":100000.0,"tie_word_embeddings":true,"eos_token_id":2,"bos_token_id":1}"#;

    #[test]
    fn parses_llama_with_derived_head_dim() {
        let c = ModelConfig::from_json_str(SMOL).unwrap();
        assert_eq!(c.architecture, Architecture::Llama);
        assert_eq!(c.head_dim, 64);
        assert_eq!(c.eos_token_ids, vec![2]);
        assert!(!c.attention_bias);
    }

    #[test]
    fn rejects_unknown_architecture_by_name() {
        let text = SMOL.replace("LlamaForCausalLM", "GPTNeoXForCausalLM");
        let err = ModelConfig::from_json_str(&text).unwrap_err();
        assert!(err.contains("GPTNeoXForCausalLM") && err.contains("supported"), "{err}");
    }

    #[test]
    fn qwen2_always_has_qkv_bias_and_eos_list() {
        let text = SMOL.replace("LlamaForCausalLM", "Qwen2ForCausalLM").replace("\"eos_token_id\":2", "\"eos_token_id\":[2,3]");
        let c = ModelConfig::from_json_str(&text).unwrap();
        assert!(c.attention_bias);
        assert_eq!(c.eos_token_ids, vec![2, 3]);
    }

    #[test]
    fn reads_transformers5_rope_parameters() {
        let text = SMOL.replace("\"rope_theta\":100000.0", "\"rope_parameters\":{\"rope_theta\":5e5,\"rope_type\":\"default\"}");
        assert_eq!(ModelConfig::from_json_str(&text).unwrap().rope_theta, 5e5);
        let yarn = SMOL.replace("\"rope_theta\":100000.0", "\"rope_parameters\":{\"rope_theta\":5e5,\"rope_type\":\"yarn\"}");
        assert!(ModelConfig::from_json_str(&yarn).unwrap_err().contains("yarn"));
    }

    #[test]
    fn rejects_heads_not_divisible_by_kv_heads() {
        let text = SMOL.replace("\"num_key_value_heads\":3", "\"num_key_value_heads\":4");
        assert!(ModelConfig::from_json_str(&text).unwrap_err().contains("multiple"));
    }
}
