//! A loaded model: its parameters (a `VarStore`, so optimizers and future adapters can see them), the
//! network, and the folder it came from.

use std::path::{Path, PathBuf};

use tch::{nn, Device, Kind, Tensor};

use crate::config::ModelConfig;
use crate::decoder::DecoderLm;
use crate::error::{ModelError, Result};
use crate::mask::{causal_mask, positions_from_valid};
use crate::weights;

/// Files copied verbatim when a checkpoint is saved, so the output folder is a complete HF model.
pub(crate) const SIDE_FILES: &[&str] =
    &["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json", "special_tokens_map.json"];

/// The completions' pass of the shared-prompt training forward (when completions are longer than
/// one token): its input ids, positions after each row's prompt, and the mask over prompt + inputs.
pub(crate) struct CompletionPass {
    pub ids: Tensor,
    pub positions: Tensor,
    pub mask: Tensor,
}

impl CompletionPass {
    pub fn new(prompt_valid: &Tensor, completion_ids: &Tensor, completion_valid: &Tensor, prompt_of: &Tensor) -> Self {
        // The last completion token predicts nothing, so it is never an input.
        let t = completion_ids.size()[1] - 1;
        let row_prompt_valid = prompt_valid.index_select(0, prompt_of);
        let prompt_len = row_prompt_valid.sum_dim_intlist(1, true, Kind::Int64);
        let positions = prompt_len + Tensor::arange(t, (Kind::Int64, prompt_valid.device())).unsqueeze(0);
        let key_valid = Tensor::cat(&[row_prompt_valid, completion_valid.narrow(1, 0, t).to_kind(prompt_valid.kind())], 1);
        Self { ids: completion_ids.narrow(1, 0, t), positions, mask: causal_mask(&key_valid, t) }
    }
}

pub struct LanguageModel {
    pub vs: nn::VarStore,
    pub net: DecoderLm,
    pub config: ModelConfig,
    pub source_dir: PathBuf,
}

impl LanguageModel {
    /// Loads `config.json` and the safetensors weights from a Hugging Face folder.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        if !dir.is_dir() {
            return Err(ModelError::MissingFolder(dir.to_path_buf()));
        }
        let config = ModelConfig::from_file(&dir.join("config.json"))?;
        let mut vs = nn::VarStore::new(device);
        let net = DecoderLm::new(&vs.root(), &config);
        weights::load_into(&vs, dir)?;
        match kind {
            Kind::Float => {}
            Kind::BFloat16 => vs.bfloat16(),
            Kind::Half => vs.half(),
            other => return Err(ModelError::Invalid(format!("unsupported model dtype {other:?}"))),
        }
        Ok(Self { vs, net, config, source_dir: dir.to_path_buf() })
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn kind(&self) -> Kind {
        self.vs.variables().values().next().map(|t| t.kind()).unwrap_or(Kind::Float)
    }

    /// Switches bf16 mixed precision on or off: parameters stay f32 (so must be loaded as f32) while
    /// the forward passes compute in bf16 under autocast (see [`crate::autocast`]).
    pub fn set_bf16_autocast(&mut self, on: bool) -> Result<()> {
        if on && self.kind() != Kind::Float {
            return Err(ModelError::Invalid(format!(
                "bf16 autocast keeps f32 parameters, but this model was loaded as {:?}: load it as f32",
                self.kind()
            )));
        }
        self.net.set_bf16_autocast(on);
        Ok(())
    }

    /// The dtype activations and cached keys/values come out in (bf16 under autocast).
    pub fn compute_kind(&self) -> Kind {
        self.net.compute_kind()
    }

    /// Stops gradient tracking on every parameter (a frozen reference model).
    pub fn freeze(&mut self) {
        self.vs.freeze();
    }

    pub fn num_parameters(&self) -> i64 {
        self.vs.variables().values().map(|t| t.numel() as i64).sum()
    }

    /// Full-sequence logits `[B, T, V]` for right- or left-padded `input_ids` with `valid` (`[B, T]`, 1 = token).
    pub fn logits(&self, input_ids: &Tensor, valid: &Tensor) -> Tensor {
        let _region = self.net.precision_region();
        let hidden = self.hidden_states(input_ids, valid);
        self.net.logits(&hidden)
    }

    /// Final hidden states `[B, T, hidden]` of a full (cache-free) forward pass.
    pub fn hidden_states(&self, input_ids: &Tensor, valid: &Tensor) -> Tensor {
        let positions = positions_from_valid(valid);
        let mask = causal_mask(valid, input_ids.size()[1]);
        self.net.hidden_states(input_ids, &positions, &mask, None)
    }

    /// Hidden states that predict each completion token when several completions share a prompt:
    /// every distinct prompt runs once and its keys/values are shared, with gradients summed back.
    ///
    /// `prompt_ids`/`prompt_valid`: `[U, P]`, left-padded. `completion_ids`/`completion_valid`: `[B, C]`,
    /// right-padded. `prompt_of`: `[B]` index of each completion's prompt. Returns `[B, C, hidden]`
    /// where column j is the state after the prompt and `completion[..j]`, the one that predicts `completion[j]`.
    pub fn completion_predictor_states(
        &self,
        prompt_ids: &Tensor,
        prompt_valid: &Tensor,
        completion_ids: &Tensor,
        completion_valid: &Tensor,
        prompt_of: &Tensor,
    ) -> Tensor {
        // One region over both passes, so each weight is cast to bf16 once (autocast's cache).
        let _region = self.net.precision_region();
        let p = prompt_ids.size()[1];
        let c = completion_ids.size()[1];
        let prompt_positions = positions_from_valid(prompt_valid);
        let (prompt_hidden, prompt_kv) =
            self.net.hidden_states_recording(prompt_ids, &prompt_positions, &causal_mask(prompt_valid, p));
        let last = prompt_hidden.narrow(1, p - 1, 1).index_select(0, prompt_of);
        if c == 1 {
            return last;
        }
        let pass = CompletionPass::new(prompt_valid, completion_ids, completion_valid, prompt_of);
        let prefix: Vec<(Tensor, Tensor)> =
            prompt_kv.iter().map(|(k, v)| (k.index_select(0, prompt_of), v.index_select(0, prompt_of))).collect();
        let completion_hidden = self.net.hidden_states_after_prefix(&pass.ids, &pass.positions, &pass.mask, &prefix);
        Tensor::cat(&[last, completion_hidden], 1)
    }

    /// [`Self::completion_predictor_states`] with activation checkpointing: the same states, but the
    /// layers keep no activations for the backward. After the backward that reaches the states, call
    /// `trunk.backward(&model.net)` to carry the gradient through the layers (recomputing each).
    pub fn completion_predictor_states_checkpointed(
        &self,
        prompt_ids: &Tensor,
        prompt_valid: &Tensor,
        completion_ids: &Tensor,
        completion_valid: &Tensor,
        prompt_of: &Tensor,
    ) -> crate::checkpointed::CheckpointedStates {
        crate::checkpointed::forward(&self.net, prompt_ids, prompt_valid, completion_ids, completion_valid, prompt_of)
    }

    /// Writes a Hugging Face folder: weights in `kind`, `config.json` (with `torch_dtype` updated) and
    /// the tokenizer files of the source folder.
    pub fn save(&self, out_dir: &Path, kind: Kind) -> Result<()> {
        std::fs::create_dir_all(out_dir).map_err(|e| ModelError::io(out_dir, e))?;
        weights::save(&self.vs, out_dir, kind)?;
        let mut raw = self.config.raw.clone();
        if let Some(obj) = raw.as_object_mut() {
            let dtype = match kind {
                Kind::BFloat16 => "bfloat16",
                Kind::Half => "float16",
                _ => "float32",
            };
            // transformers >= 5 names the key `dtype`; older versions `torch_dtype`.
            let key = if obj.contains_key("dtype") { "dtype" } else { "torch_dtype" };
            obj.insert(key.into(), dtype.into());
        }
        let config_path = out_dir.join("config.json");
        let text = serde_json::to_string_pretty(&raw).map_err(|e| ModelError::Invalid(e.to_string()))?;
        std::fs::write(&config_path, text).map_err(|e| ModelError::io(&config_path, e))?;
        for name in SIDE_FILES {
            let src = self.source_dir.join(name);
            if src.exists() && src != out_dir.join(name) {
                std::fs::copy(&src, out_dir.join(name)).map_err(|e| ModelError::io(&src, e))?;
            }
        }
        Ok(())
    }
}
