//! The `reward_model` reward kind: `{ kind = "reward_model", path = "runs/.../reward_model" }` scores
//! each completion with a reward model trained by `algorithm.name = "reward_model"` (or any Llama/Qwen2
//! sequence classifier with one label). The prompt is rendered with the folder's chat template, as in
//! training, and the completion text follows it; the score is the head's output at the last token.

use std::path::PathBuf;
use std::sync::Mutex;

use rlxf_core::{Problem, Score};
use rlxf_model::{runtime, ChatTokenizer, RewardModel};
use rlxf_rewards::spec::{parse_params, Registry};
use rlxf_rewards::{Reward, ScoreInput};
use serde::Deserialize;

use crate::rollout::prepare;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardModelParams {
    /// The reward-model folder (`<run>/reward_model`).
    pub path: PathBuf,
    /// Completions scored per forward pass.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default = "default_device")]
    pub device: String,
    /// System message for the chat template; the template's default when unset (as in training
    /// without `data.system_prompt`).
    #[serde(default)]
    pub system_prompt: Option<String>,
}

fn default_batch_size() -> usize {
    16
}
fn default_device() -> String {
    "cpu".into()
}

/// A loaded reward model behind a lock (tensors may be sent between threads, not shared).
pub struct RewardModelScorer {
    model: Mutex<RewardModel>,
    tokenizer: ChatTokenizer,
    params: RewardModelParams,
}

pub fn register(registry: &mut Registry) {
    registry.register("reward_model", |params| {
        let params: RewardModelParams = parse_params(params)?;
        Ok(Box::new(RewardModelScorer::load(params)?))
    });
}

impl RewardModelScorer {
    pub fn load(params: RewardModelParams) -> Result<Self, String> {
        if params.batch_size == 0 {
            return Err("reward_model: batch_size must be at least 1".into());
        }
        let device =
            runtime::parse_device(&params.device).map_err(|e| format!("reward_model: {e}"))?;
        let model = RewardModel::load(&params.path, device, tch::Kind::Float)
            .map_err(|e| format!("reward_model: {e}"))?;
        let tokenizer = ChatTokenizer::from_dir(&params.path, &model.trunk.config.eos_token_ids)
            .map_err(|e| format!("reward_model: {e}"))?;
        Ok(Self {
            model: Mutex::new(model),
            tokenizer,
            params,
        })
    }

    /// Token ids the model scores: the prompt rendered exactly as reward-model training renders it
    /// (`rollout::prepare`, the path of every prompt in training), then the completion text.
    pub fn sequence(&self, prompt: &str, completion: &str) -> Result<Vec<u32>, String> {
        let problem = Problem::new("", prompt, None);
        let mut ids = prepare(problem, &self.tokenizer, self.params.system_prompt.as_deref())
            .map_err(|e| e.to_string())?
            .ids;
        ids.extend(
            self.tokenizer
                .encode(completion)
                .map_err(|e| e.to_string())?,
        );
        Ok(ids)
    }

    /// Scores of (prompt, completion) pairs, in order.
    pub fn scores(&self, items: &[(&str, &str)]) -> Result<Vec<f64>, String> {
        let sequences = items
            .iter()
            .map(|(p, c)| self.sequence(p, c))
            .collect::<Result<Vec<_>, _>>()?;
        let model = self
            .model
            .lock()
            .map_err(|_| "reward_model: a previous scoring call panicked".to_string())?;
        let mut out = Vec::with_capacity(items.len());
        for chunk in sequences.chunks(self.params.batch_size) {
            let refs: Vec<&[u32]> = chunk.iter().map(Vec::as_slice).collect();
            let scores = tch::no_grad(|| model.score(&refs, self.tokenizer.pad_id()));
            let values = Vec::<f64>::try_from(
                &scores
                    .to_kind(tch::Kind::Double)
                    .to_device(tch::Device::Cpu),
            )
            .map_err(|e| e.to_string())?;
            out.extend(values);
        }
        Ok(out)
    }
}

impl Reward for RewardModelScorer {
    fn name(&self) -> &str {
        "reward_model"
    }

    fn score_group(&self, group: &[ScoreInput<'_>]) -> Vec<Score> {
        let items: Vec<(&str, &str)> = group.iter().map(|i| (i.prompt, i.completion)).collect();
        match self.scores(&items) {
            Ok(values) => values.into_iter().map(Score::scalar).collect(),
            Err(reason) => {
                // The Reward trait has no error channel: score 0 and say so loudly, once per group.
                tracing::error!(%reason, "reward_model could not score a group");
                eprintln!(
                    "error: reward_model could not score {} completions ({reason}); they get 0",
                    group.len()
                );
                group
                    .iter()
                    .map(|_| Score::scalar(0.0).with_component("reward_model_error", 1.0))
                    .collect()
            }
        }
    }
}
