//! The training recipe (TOML), its `--set key=value` overrides, and validation done before any work.

use std::path::{Path, PathBuf};

use rlxf_algos::AdvantageScaling;

use crate::lr_schedule::LrSchedule;
use crate::policy_loss::KlEstimator;
use rlxf_core::SamplingParams;
use rlxf_data::TaskSpec;
use rlxf_rewards::RewardSpec;
use serde::{Deserialize, Serialize};

/// The recipe `rlxf train` runs when given no `--config`.
pub const DEFAULT_RECIPE: &str = include_str!("../../../recipes/default.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Seeds sampling, data order and anything else random; same seed and config, same run.
    pub seed: u64,
    /// Where the run folder goes; empty means `runs/<timestamp>`.
    #[serde(default)]
    pub run_dir: Option<PathBuf>,
    pub model: ModelSection,
    pub data: DataSection,
    pub sampling: SamplingParams,
    pub reward: RewardSpec,
    pub algorithm: AlgorithmSection,
    pub optimizer: OptimizerSection,
    pub eval: EvalSection,
    #[serde(default)]
    pub checkpoint: CheckpointSection,
    /// The PPO critic (required by `algorithm.name = "ppo"`, rejected by the others).
    #[serde(default)]
    pub critic: Option<CriticSection>,
    /// Offline preference training (`dpo`, `ipo`, `hinge`, `simpo`, `kto`, `reward_model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preference: Option<crate::preference::PreferenceSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// A Hugging Face model folder (config.json, model.safetensors, tokenizer.json).
    pub path: PathBuf,
    #[serde(default = "default_device")]
    pub device: String,
    #[serde(default = "default_dtype")]
    pub dtype: String,
    /// `"bf16"`: mixed precision, f32 parameters (so `dtype = "f32"`) with the products in bf16 under
    /// autocast, as TRL's `bf16 = true`; left out, the model computes in `dtype`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocast: Option<String>,
    /// How the forward's bf16 weights follow the f32 ones under `autocast = "bf16"`: `"nearest"`
    /// (autocast's own cast, as the peers do; a weight's copy moves only once its updates pass half a
    /// bf16 step) or `"stochastic"` (after each update the weights are the f32 masters rounded
    /// stochastically onto the bf16 grid: right on average, one more f32 copy of the weights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocast_rounding: Option<String>,
    /// Recompute the policy's layer activations in the backward instead of keeping them: a training
    /// micro-batch then holds one layer's activations, for one more forward of the layers (what
    /// `gradient_checkpointing` does in transformers and TRL, where GRPO has it on by default).
    #[serde(default)]
    pub gradient_checkpointing: bool,
    /// libtorch intra-op threads; 0 = all available cores.
    #[serde(default)]
    pub threads: usize,
    /// Largest batch the sampler runs at once.
    #[serde(default = "default_generation_batch")]
    pub generation_batch: usize,
    /// Frozen reference policy for the KL term; defaults to `path` (the policy's starting point).
    #[serde(default)]
    pub reference_path: Option<PathBuf>,
    /// Saved checkpoint dtype (`f32` or `bf16`).
    #[serde(default = "default_save_dtype")]
    pub save_dtype: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    pub task: TaskSpec,
    /// Replaces the chat template's default system message.
    #[serde(default)]
    pub system_prompt: Option<String>,
}

pub use crate::policy_loss::LossAggregation;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlgorithmSection {
    /// One of `crate::algorithm::ALGORITHMS` (docs/ALGORITHMS.md).
    pub name: String,
    // The online keys default so a preference recipe (which needs only `name`) can leave them out;
    // an online recipe without them fails validation with the key named.
    #[serde(default)]
    pub steps: usize,
    #[serde(default)]
    pub prompts_per_step: usize,
    /// Completions sampled per prompt (G).
    #[serde(default)]
    pub group_size: usize,
    /// Clip range of the importance ratio: [1 - epsilon, 1 + epsilon_high].
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    #[serde(default)]
    pub epsilon_high: Option<f64>,
    /// KL penalty coefficient (k3 estimator); 0 keeps no reference model.
    #[serde(default)]
    pub beta: f64,
    /// GRPO-family reward scaling; unset means `group` (each estimator otherwise fixes its own).
    #[serde(default)]
    pub scale_rewards: Option<AdvantageScaling>,
    #[serde(default)]
    pub kl_estimator: KlEstimator,
    /// Adaptive KL controller (Ziegler et al. 2019): target KL and horizon, starting from `beta`.
    #[serde(default)]
    pub kl_target: Option<f64>,
    #[serde(default)]
    pub kl_horizon: Option<usize>,
    /// Dual-clip constant c > 1 for the PPO-clip surrogate.
    #[serde(default)]
    pub dual_clip: Option<f64>,
    /// GSPO-token instead of sequence-level GSPO.
    #[serde(default)]
    pub gspo_token_level: bool,
    /// CPGD's policy-drift coefficient (default 0.1).
    #[serde(default)]
    pub cpgd_drift_coef: Option<f64>,
    /// Leave sequences cut at `sampling.max_new_tokens` out of the loss (DAPO's overlong filtering).
    #[serde(default)]
    pub mask_truncated: bool,
    /// Optimizer steps per rollout batch; above 1 the sampler's log-probs serve as the old policy.
    #[serde(default = "one")]
    pub num_iterations: usize,
    #[serde(default = "default_loss_aggregation")]
    pub loss_aggregation: LossAggregation,
    /// Entropy bonus: the loss subtracts `entropy_coef` x the per-token entropy (0 = off).
    #[serde(default)]
    pub entropy_coef: f64,
    /// Load the reference model to report KL even when `beta = 0` (one extra forward per micro-batch).
    #[serde(default)]
    pub measure_kl: bool,
    /// Put the KL penalty into the per-token reward (ppo, reinforce_pp) instead of the loss.
    #[serde(default)]
    pub kl_in_reward: bool,
    /// DAPO dynamic sampling: drop groups whose rewards are all equal and sample more prompts until
    /// `prompts_per_step` informative groups are collected or `max_sampling_rounds` rounds are spent.
    #[serde(default)]
    pub dynamic_sampling: bool,
    #[serde(default = "default_max_sampling_rounds")]
    pub max_sampling_rounds: usize,
    /// The range rewards are declared to lie in, for BNPO's Beta fit.
    #[serde(default = "default_bnpo_range")]
    pub bnpo_reward_range: [f64; 2],
    /// PPO's discount and GAE lambda.
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    #[serde(default = "default_lambda")]
    pub lambda: f64,
}

/// Where the PPO critic's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticKind {
    /// A scalar head on the policy's own trunk: one forward serves both, the value loss also
    /// trains the trunk (through the policy optimizer).
    ValueHead,
    /// A separate model (its own copy of the trunk) with a scalar head and its own optimizer.
    Separate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriticSection {
    pub kind: CriticKind,
    /// Learning rate of the critic's optimizer (the head, and the trunk of a separate critic).
    pub lr: f64,
    /// Trunk of a separate critic; defaults to `model.path`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Value clipping range around the rollout-time values (0 = no clipping).
    #[serde(default = "default_value_clip")]
    pub value_clip: f64,
    /// Weight of the value loss added to the policy loss.
    #[serde(default = "default_vf_coef")]
    pub vf_coef: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerSection {
    pub lr: f64,
    #[serde(default = "default_beta1")]
    pub beta1: f64,
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default = "default_adam_eps")]
    pub eps: f64,
    pub max_grad_norm: f64,
    /// Sequences per forward/backward; gradients accumulate over the whole step.
    pub micro_batch_size: usize,
    /// Linear warm-up of the learning rate over this many steps.
    #[serde(default)]
    pub warmup_steps: usize,
    /// After warm-up: `constant`, or `linear` / `cosine` decay to zero at the last step.
    #[serde(default)]
    pub schedule: LrSchedule,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSection {
    /// Held-out problems scored greedily before and after training.
    pub held_out: usize,
    pub max_new_tokens: usize,
    /// Also evaluate every N steps (0 = only before and after).
    #[serde(default)]
    pub every: usize,
}

/// Periodic checkpoints for `rlxf train --resume`. An interrupted run (Ctrl-C, SIGTERM) always
/// writes one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSection {
    /// Write a checkpoint every N steps (0 = only when interrupted).
    #[serde(default = "default_checkpoint_every")]
    pub every: usize,
    /// Checkpoints kept; older ones are deleted once a newer one is complete.
    #[serde(default = "default_keep_last")]
    pub keep_last: usize,
}

impl Default for CheckpointSection {
    fn default() -> Self {
        Self {
            every: default_checkpoint_every(),
            keep_last: default_keep_last(),
        }
    }
}

fn default_checkpoint_every() -> usize {
    10
}
fn default_keep_last() -> usize {
    2
}
fn default_device() -> String {
    "cpu".into()
}
fn default_dtype() -> String {
    "f32".into()
}
fn default_save_dtype() -> String {
    "bf16".into()
}
fn default_generation_batch() -> usize {
    64
}
fn default_epsilon() -> f64 {
    0.2
}
fn default_loss_aggregation() -> LossAggregation {
    LossAggregation::TokenMean
}
fn one() -> usize {
    1
}
fn default_max_sampling_rounds() -> usize {
    4
}
fn default_bnpo_range() -> [f64; 2] {
    [0.0, 1.0]
}
fn default_gamma() -> f64 {
    1.0
}
fn default_lambda() -> f64 {
    0.95
}
fn default_value_clip() -> f64 {
    0.2
}
fn default_vf_coef() -> f64 {
    0.5
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_adam_eps() -> f64 {
    1e-8
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("--set {0}: expected key=value (for example --set optimizer.lr=1e-5)")]
    BadOverride(String),
    #[error("--set {key}: {reason}")]
    Override { key: String, reason: String },
    #[error("recipe: {0}")]
    Invalid(String),
}

impl TrainConfig {
    /// Reads the recipe (or the built-in default), applies `key=value` overrides, and validates.
    pub fn load(path: Option<&Path>, overrides: &[String]) -> Result<Self, ConfigError> {
        let (name, text) = match path {
            Some(p) => (
                p.display().to_string(),
                std::fs::read_to_string(p).map_err(|e| ConfigError::File {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?,
            ),
            None => (
                "built-in default recipe".to_string(),
                DEFAULT_RECIPE.to_string(),
            ),
        };
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::File {
            path: name.clone(),
            reason: one_line(&e.to_string()),
        })?;
        for item in overrides {
            apply_override(&mut table, item)?;
        }
        let config: TrainConfig =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::File {
                    path: name,
                    reason: one_line(&e.to_string()),
                })?;
        config.validate()?;
        Ok(config)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# could not render config: {e}\n"))
    }

    pub fn samples_per_step(&self) -> usize {
        self.algorithm.prompts_per_step * self.algorithm.group_size
    }

    /// Everything checkable without loading weights: shapes of the batch, ranges, paths.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        let a = &self.algorithm;
        if crate::algorithm::is_preference(&a.name) {
            return crate::preference::config::validate(self);
        }
        if self.preference.is_some() {
            return bad(format!("[preference] applies to the offline objectives ({}), not to `{}`: remove it", crate::algorithm::PREFERENCE_ALGORITHMS.join(", "), a.name));
        }
        crate::algorithm::validate(a).map_err(ConfigError::Invalid)?;
        if a.steps == 0 || a.prompts_per_step == 0 {
            return bad("algorithm.steps and algorithm.prompts_per_step must be at least 1".into());
        }
        if a.group_size < 2 && !crate::algorithm::single_sample_ok(&a.name) {
            return bad(format!("algorithm.group_size = {} must be at least 2: the group-relative algorithms compare completions within a group", a.group_size));
        }
        crate::algorithm::validate_critic(a, self.critic.as_ref()).map_err(ConfigError::Invalid)?;
        if !(a.epsilon > 0.0 && a.epsilon < 1.0) || a.epsilon_high.is_some_and(|e| !positive(e)) {
            return bad("algorithm.epsilon must be in (0, 1) and epsilon_high > 0".into());
        }
        if a.beta < 0.0 || a.num_iterations == 0 {
            return bad("algorithm.beta must be >= 0 and algorithm.num_iterations >= 1".into());
        }
        let o = &self.optimizer;
        let samples = self.samples_per_step();
        if o.micro_batch_size == 0 || !samples.is_multiple_of(o.micro_batch_size) {
            return bad(format!(
                "optimizer.micro_batch_size = {} must divide the {samples} samples per step (prompts_per_step x group_size)",
                o.micro_batch_size
            ));
        }
        if !positive(o.lr) || !positive(o.max_grad_norm) {
            return bad("optimizer.lr and optimizer.max_grad_norm must be positive".into());
        }
        self.sampling
            .validate()
            .map_err(|m| ConfigError::Invalid(format!("sampling: {m}")))?;
        if self.sampling.temperature <= 0.0 {
            return bad("sampling.temperature must be > 0 for training (greedy samples give a group no variance)".into());
        }
        if self.checkpoint.keep_last == 0 {
            return bad("checkpoint.keep_last must be at least 1".into());
        }
        if self.eval.max_new_tokens == 0 {
            return bad("eval.max_new_tokens must be at least 1".into());
        }
        rlxf_model::runtime::parse_device_name(&self.model.device).map_err(ConfigError::Invalid)?;
        self.model.validate_dtypes()?;
        let p = &self.model.path;
        for file in ["config.json", "tokenizer.json"] {
            if !p.join(file).exists() {
                return bad(format!(
                    "model.path {}: no {file} there (run scripts/fetch-models.sh, or point model.path at a Hugging Face folder)",
                    p.display()
                ));
            }
        }
        let model_config = rlxf_model::ModelConfig::from_file(&p.join("config.json"))
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let longest = self.sampling.max_new_tokens.max(self.eval.max_new_tokens);
        if longest >= model_config.max_position_embeddings {
            return bad(format!(
                "max_new_tokens ({longest}) leaves no room for a prompt within the model's max_position_embeddings ({})",
                model_config.max_position_embeddings
            ));
        }
        // The reward and the task are built (and so checked) by the trainer before it creates the
        // run folder; building them here too would read a data set or reward model twice.
        Ok(())
    }
}

impl ModelSection {
    /// `dtype` and `save_dtype` name dtypes, and `autocast` fits `dtype`.
    pub fn validate_dtypes(&self) -> Result<(), ConfigError> {
        let parse = |key: &str, value: &str| {
            value
                .parse::<rlxf_model::DType>()
                .map_err(|e| ConfigError::Invalid(format!("{key}: {e}")))
        };
        let dtype = parse("model.dtype", &self.dtype)?;
        parse("model.save_dtype", &self.save_dtype)?;
        self.stochastic_autocast_rounding(dtype).map(|_| ())
    }

    /// Whether the policy's forward weights are rounded stochastically onto the bf16 grid
    /// ([`crate::optimizer::AdamW::round_forward_copies_to_bf16`]).
    pub fn stochastic_autocast_rounding(&self, dtype: rlxf_model::DType) -> Result<bool, ConfigError> {
        let autocast = self.bf16_autocast(dtype)?;
        match self.autocast_rounding.as_deref() {
            None | Some("nearest") => Ok(false),
            Some("stochastic") if autocast => Ok(true),
            Some("stochastic") => Err(ConfigError::Invalid(
                "model.autocast_rounding = \"stochastic\" rounds the weights bf16 autocast uses: set model.autocast = \"bf16\" with it".into(),
            )),
            Some(other) => Err(ConfigError::Invalid(format!(
                "model.autocast_rounding: unknown `{other}` (use nearest or stochastic)"
            ))),
        }
    }

    /// Whether the model computes under bf16 autocast ([`rlxf_model::autocast`]).
    pub fn bf16_autocast(&self, dtype: rlxf_model::DType) -> Result<bool, ConfigError> {
        rlxf_model::runtime::parse_bf16_autocast(self.autocast.as_deref(), dtype)
            .map_err(|e| ConfigError::Invalid(format!("model.{e}")))
    }
}

/// False for zero, negatives, NaN and infinity.
fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `a.b.c=value`: the value is read as TOML (numbers, booleans, arrays, quoted strings), and as a
/// bare string when it is not valid TOML (`--set model.path=models/x`).
fn apply_override(table: &mut toml::Table, item: &str) -> Result<(), ConfigError> {
    let (key, raw) = item
        .split_once('=')
        .ok_or_else(|| ConfigError::BadOverride(item.to_string()))?;
    let key = key.trim();
    let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let parts: Vec<&str> = key.split('.').collect();
    let (last, parents) = parts
        .split_last()
        .ok_or_else(|| ConfigError::BadOverride(item.to_string()))?;
    let mut node = table;
    for part in parents {
        let entry = node
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        node = entry.as_table_mut().ok_or_else(|| ConfigError::Override {
            key: key.to_string(),
            reason: format!("`{part}` is a value, not a section"),
        })?;
    }
    node.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_parses_numbers_strings_and_nested_keys() {
        let mut t: toml::Table = toml::from_str("[optimizer]\nlr = 1.0\n").unwrap();
        apply_override(&mut t, "optimizer.lr=2e-5").unwrap();
        apply_override(&mut t, "model.path=models/x").unwrap();
        apply_override(&mut t, "sampling.stop=[\"\\n\\n\"]").unwrap();
        assert_eq!(t["optimizer"]["lr"].as_float(), Some(2e-5));
        assert_eq!(t["model"]["path"].as_str(), Some("models/x"));
        assert_eq!(t["sampling"]["stop"].as_array().unwrap().len(), 1);
        assert!(matches!(
            apply_override(&mut t, "nokey"),
            Err(ConfigError::BadOverride(_))
        ));
        assert!(matches!(
            apply_override(&mut t, "optimizer.lr.x=1"),
            Err(ConfigError::Override { .. })
        ));
    }

    #[test]
    fn default_recipe_parses() {
        let table: toml::Table = toml::from_str(DEFAULT_RECIPE).unwrap();
        let config: TrainConfig = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(config.algorithm.name, "grpo");
    }
}
