//! The `[preference]` recipe section of the offline objectives (`dpo`, `ipo`, `hinge`, `simpo`, `kto`)
//! and reward-model training (`reward_model`), and the checks a preference recipe gets instead of
//! the online ones.

use std::path::PathBuf;

use rlxf_data::{LabelledFields, PairFields};
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, TrainConfig};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferenceSection {
    /// JSONL: `{prompt, chosen, rejected}` pairs, or `{prompt, completion, label}` examples for `kto`
    /// (`rlxf make-pairs` writes both).
    pub data: PathBuf,
    /// Share of prompts kept out of training to measure preference accuracy (by prompt hash).
    #[serde(default = "default_held_out_fraction")]
    pub held_out_fraction: f64,
    #[serde(default = "one")]
    pub epochs: usize,
    /// Measure held-out preference accuracy every this many steps (0 = only before and after), to
    /// see when the model starts to overfit.
    #[serde(default)]
    pub eval_every: usize,
    /// Pairs (or KTO examples) per optimizer step.
    #[serde(default = "default_batch_pairs")]
    pub batch_pairs: usize,
    /// Pairs per forward/backward; gradients accumulate over the step.
    #[serde(default = "default_micro_batch_pairs")]
    pub micro_batch_pairs: usize,
    /// Inverse temperature of the implicit reward; default 0.1 (SimPO: 2.0).
    #[serde(default)]
    pub beta: Option<f64>,
    /// Conservative DPO's label smoothing, in [0, 0.5) (dpo only).
    #[serde(default)]
    pub label_smoothing: f64,
    /// SimPO's target reward margin gamma.
    #[serde(default = "default_simpo_gamma")]
    pub simpo_gamma: f64,
    /// KTO's weights of desirable and undesirable examples.
    #[serde(default = "one_f64")]
    pub desirable_weight: f64,
    #[serde(default = "one_f64")]
    pub undesirable_weight: f64,
    /// Longest prompt + completion in tokens; longer completions are cut to fit.
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// Field names of a pair file.
    #[serde(default)]
    pub pair_fields: PairFields,
    /// Field names of a KTO file.
    #[serde(default)]
    pub kto_fields: LabelledFields,
}

fn default_held_out_fraction() -> f64 {
    0.1
}
fn one() -> usize {
    1
}
fn one_f64() -> f64 {
    1.0
}
fn default_batch_pairs() -> usize {
    8
}
fn default_micro_batch_pairs() -> usize {
    4
}
fn default_simpo_gamma() -> f64 {
    0.5
}
fn default_max_length() -> usize {
    512
}

/// DPO's usual beta; SimPO works on length-normalised log-probs and uses a larger one.
pub fn default_beta(algorithm: &str) -> f64 {
    if algorithm == "simpo" {
        2.0
    } else {
        0.1
    }
}

impl PreferenceSection {
    pub fn beta(&self, algorithm: &str) -> f64 {
        self.beta.unwrap_or_else(|| default_beta(algorithm))
    }
}

/// The checks of a preference recipe: the `[preference]` section and the shared sections it uses
/// (`[model]`, `[optimizer]`, `[eval]`, `[reward]`, `[data]`). `[algorithm]` needs only `name`.
pub fn validate(config: &TrainConfig) -> Result<(), ConfigError> {
    let bad = |m: String| Err(ConfigError::Invalid(m));
    let name = config.algorithm.name.as_str();
    let Some(p) = &config.preference else {
        return bad(format!(
            "algorithm.name = \"{name}\" trains offline from preference data: add a [preference] section with at least `data = \"pairs.jsonl\"` (see recipes/dpo.toml; `rlxf make-pairs` writes the file)"
        ));
    };
    if config.model.gradient_checkpointing {
        return bad(format!(
            "model.gradient_checkpointing applies to policy-gradient training; `{name}` keeps its activations: remove the setting"
        ));
    }
    if !(0.0..1.0).contains(&p.held_out_fraction) {
        return bad(format!(
            "preference.held_out_fraction = {} must be in [0, 1)",
            p.held_out_fraction
        ));
    }
    if p.epochs == 0 || p.batch_pairs == 0 || p.micro_batch_pairs == 0 {
        return bad("preference.epochs, preference.batch_pairs and preference.micro_batch_pairs must be at least 1".into());
    }
    if name == "kto" && p.batch_pairs < 2 {
        return bad("kto estimates its reference point from mismatched examples: set preference.batch_pairs >= 2".into());
    }
    let beta = p.beta(name);
    if !(beta > 0.0 && beta.is_finite()) {
        return bad(format!(
            "preference.beta = {beta} must be a positive number"
        ));
    }
    if p.label_smoothing != 0.0 && name != "dpo" {
        return bad(format!(
            "preference.label_smoothing applies to dpo, not to `{name}`: remove it"
        ));
    }
    if !(0.0..0.5).contains(&p.label_smoothing) {
        return bad(format!(
            "preference.label_smoothing = {} must be in [0, 0.5)",
            p.label_smoothing
        ));
    }
    if !p.simpo_gamma.is_finite() {
        return bad("preference.simpo_gamma must be a finite number".into());
    }
    for (key, w) in [
        ("desirable_weight", p.desirable_weight),
        ("undesirable_weight", p.undesirable_weight),
    ] {
        if !(w > 0.0 && w.is_finite()) {
            return bad(format!("preference.{key} = {w} must be a positive number"));
        }
    }
    if p.max_length < 2 {
        return bad(
            "preference.max_length must leave room for a prompt and a completion token".into(),
        );
    }
    let o = &config.optimizer;
    if !(o.lr > 0.0 && o.lr.is_finite() && o.max_grad_norm > 0.0 && o.max_grad_norm.is_finite()) {
        return bad("optimizer.lr and optimizer.max_grad_norm must be positive".into());
    }
    if config.checkpoint.keep_last == 0 {
        return bad("checkpoint.keep_last must be at least 1".into());
    }
    if config.eval.max_new_tokens == 0 {
        return bad("eval.max_new_tokens must be at least 1".into());
    }
    rlxf_model::runtime::parse_device_name(&config.model.device).map_err(ConfigError::Invalid)?;
    config.model.validate_dtypes()?;
    let path = &config.model.path;
    for file in ["config.json", "tokenizer.json"] {
        if !path.join(file).exists() {
            return bad(format!(
                "model.path {}: no {file} there (run scripts/fetch-models.sh, or point model.path at a Hugging Face folder)",
                path.display()
            ));
        }
    }
    config
        .sampling
        .validate()
        .map_err(|m| ConfigError::Invalid(format!("sampling: {m}")))?;
    crate::reward_kinds::build_reward(&config.reward)
        .map_err(|e| ConfigError::Invalid(format!("reward: {e}")))?;
    config
        .data
        .task
        .build()
        .map_err(|e| ConfigError::Invalid(format!("data.task: {e}")))?;
    Ok(())
}
