//! A reward model: a decoder trunk with a [`ScalarHead`] read at the last token of prompt + completion.
//!
//! Saved in the layout of Hugging Face's `LlamaForSequenceClassification` / `Qwen2ForSequenceClassification`
//! with `num_labels = 1`: `model.*` trunk weights and `score.weight` in `model.safetensors`, no
//! `lm_head`, a `config.json` naming the class and `pad_token_id`, and the tokenizer files, so
//! `AutoModelForSequenceClassification.from_pretrained` loads it. transformers reads the score at
//! the last token that is not `pad_token_id`; rlxf scores unpadded prompt + completion sequences at
//! their last token, which is the same position as long as a completion does not end in the pad token
//! (completions are scored from their text, without an end-of-turn token).

use std::collections::BTreeMap;
use std::path::Path;

use tch::{nn, Device, Kind, Tensor};

use crate::config::{Architecture, ModelConfig};
use crate::decoder::DecoderLm;
use crate::error::{ModelError, Result};
use crate::model::{LanguageModel, SIDE_FILES};
use crate::scalar_head::{ScalarHead, HEAD_TENSOR};
use crate::weights;

pub struct RewardModel {
    pub trunk: LanguageModel,
    pub head: ScalarHead,
}

impl RewardModel {
    /// The start of reward-model training: a causal LM folder's trunk (its output projection, if
    /// untied, is not loaded: a reward model has none) and a fresh head drawn from `head_seed`.
    pub fn from_causal_lm(dir: &Path, device: Device, kind: Kind, head_seed: u64) -> Result<Self> {
        if !dir.is_dir() {
            return Err(ModelError::MissingFolder(dir.to_path_buf()));
        }
        let trunk = load_trunk(
            dir,
            ModelConfig::from_file(&dir.join("config.json"))?,
            device,
            kind,
        )?;
        let head = ScalarHead::new(trunk.config.hidden_size, device, head_seed);
        Ok(Self { trunk, head })
    }

    /// Loads a folder written by [`RewardModel::save`] (or any Llama/Qwen2 sequence classifier with
    /// one label).
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        if !dir.is_dir() {
            return Err(ModelError::MissingFolder(dir.to_path_buf()));
        }
        let config_path = dir.join("config.json");
        let config = ModelConfig::from_file(&config_path)?;
        let labels = config
            .raw
            .get("num_labels")
            .and_then(|n| n.as_u64())
            .or_else(|| {
                config
                    .raw
                    .get("id2label")
                    .and_then(|m| m.as_object())
                    .map(|m| m.len() as u64)
            });
        if labels.is_some_and(|n| n != 1) {
            return Err(ModelError::Config {
                path: config_path,
                reason: format!(
                    "a reward model has one output, this config has num_labels = {}",
                    labels.unwrap_or(0)
                ),
            });
        }
        let trunk = load_trunk(dir, config, device, kind)?;
        let files = weights::checkpoint_files(dir)?;
        let head_file = files
            .iter()
            .find(|f| file_has_tensor(f, HEAD_TENSOR))
            .ok_or_else(|| ModelError::Weights {
                path: dir.to_path_buf(),
                reason: format!("no `{HEAD_TENSOR}` tensor: a causal LM, not a reward model (train one with algorithm.name = \"reward_model\")"),
            })?;
        let head = ScalarHead::load(head_file, trunk.config.hidden_size, device)?;
        Ok(Self { trunk, head })
    }

    /// Writes the Hugging Face sequence-classification folder (weights in `kind`).
    pub fn save(&self, out_dir: &Path, kind: Kind, pad_token_id: u32) -> Result<()> {
        std::fs::create_dir_all(out_dir).map_err(|e| ModelError::io(out_dir, e))?;
        let mut tensors: BTreeMap<String, Tensor> = self.trunk.vs.variables().into_iter().collect();
        tensors.insert(HEAD_TENSOR.to_string(), self.head.weight().detach());
        weights::save_tensors(tensors, out_dir, kind)?;
        let mut raw = self.trunk.config.raw.clone();
        if let Some(obj) = raw.as_object_mut() {
            let class = match self.trunk.config.architecture {
                Architecture::Llama => "LlamaForSequenceClassification",
                Architecture::Qwen2 => "Qwen2ForSequenceClassification",
            };
            obj.insert("architectures".into(), serde_json::json!([class]));
            obj.insert("num_labels".into(), 1.into());
            obj.insert("id2label".into(), serde_json::json!({"0": "LABEL_0"}));
            obj.insert("label2id".into(), serde_json::json!({"LABEL_0": 0}));
            obj.insert("pad_token_id".into(), pad_token_id.into());
            let dtype = match kind {
                Kind::BFloat16 => "bfloat16",
                Kind::Half => "float16",
                _ => "float32",
            };
            let key = if obj.contains_key("dtype") {
                "dtype"
            } else {
                "torch_dtype"
            };
            obj.insert(key.into(), dtype.into());
        }
        let config_path = out_dir.join("config.json");
        let text =
            serde_json::to_string_pretty(&raw).map_err(|e| ModelError::Invalid(e.to_string()))?;
        std::fs::write(&config_path, text).map_err(|e| ModelError::io(&config_path, e))?;
        for name in SIDE_FILES
            .iter()
            .filter(|n| **n != "generation_config.json")
        {
            let src = self.trunk.source_dir.join(name);
            if src.exists() && src != out_dir.join(name) {
                std::fs::copy(&src, out_dir.join(name)).map_err(|e| ModelError::io(&src, e))?;
            }
        }
        Ok(())
    }

    /// Scores `[B]` (f32, differentiable when gradients are on) of token sequences, each read at its
    /// last token. Sequences are left-padded with `pad_id` into one batch.
    pub fn score(&self, sequences: &[&[u32]], pad_id: u32) -> Tensor {
        let width = sequences.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![pad_id as i64; sequences.len() * width];
        let mut valid = vec![0i64; sequences.len() * width];
        for (i, seq) in sequences.iter().enumerate() {
            let offset = i * width + width - seq.len();
            for (j, &t) in seq.iter().enumerate() {
                ids[offset + j] = t as i64;
                valid[offset + j] = 1;
            }
        }
        let shape = [sequences.len() as i64, width as i64];
        let device = self.trunk.device();
        let ids = Tensor::from_slice(&ids).view(shape).to_device(device);
        let valid = Tensor::from_slice(&valid).view(shape).to_device(device);
        let hidden = self.trunk.hidden_states(&ids, &valid);
        self.head.forward(&hidden.select(1, width as i64 - 1))
    }
}

/// The decoder of a model folder without an output projection: a reward model's trunk never computes
/// vocabulary logits (and a sequence classifier's checkpoint has no `lm_head`).
fn load_trunk(
    dir: &Path,
    config: ModelConfig,
    device: Device,
    kind: Kind,
) -> Result<LanguageModel> {
    let mut trunk_config = config.clone();
    trunk_config.tie_word_embeddings = true;
    let mut vs = nn::VarStore::new(device);
    let net = DecoderLm::new(&vs.root(), &trunk_config);
    weights::load_into(&vs, dir)?;
    match kind {
        Kind::Float => {}
        Kind::BFloat16 => vs.bfloat16(),
        Kind::Half => vs.half(),
        other => {
            return Err(ModelError::Invalid(format!(
                "unsupported model dtype {other:?}"
            )))
        }
    }
    Ok(LanguageModel {
        vs,
        net,
        config,
        source_dir: dir.to_path_buf(),
    })
}

/// Whether a safetensors file holds a tensor `name`; reads only the header (8-byte length + JSON).
fn file_has_tensor(path: &Path, name: &str) -> bool {
    use std::io::Read;
    let read_header = || -> std::io::Result<serde_json::Value> {
        let mut file = std::fs::File::open(path)?;
        let mut len = [0u8; 8];
        file.read_exact(&mut len)?;
        let mut header = vec![0u8; u64::from_le_bytes(len).min(100_000_000) as usize];
        file.read_exact(&mut header)?;
        serde_json::from_slice(&header).map_err(std::io::Error::other)
    };
    read_header().is_ok_and(|h| h.get(name).is_some())
}
