//! The rollout interface. The in-process KV-cache sampler implements it; so can an external engine
//! (vLLM/SGLang over the OpenAI API) or a multi-turn environment that calls it turn by turn.

use serde::{Deserialize, Serialize};

use crate::Completion;

/// How to sample. Log-probs are always reported under the temperature-scaled, untruncated
/// distribution, which is what the trainer recomputes, so importance ratios are not biased by top-p/top-k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingParams {
    pub temperature: f64,
    /// Nucleus sampling mass; 1.0 disables.
    pub top_p: f64,
    /// Keep only the k most likely tokens; 0 disables.
    pub top_k: usize,
    pub max_new_tokens: usize,
    /// End-of-sequence tokens cannot be sampled before this many new tokens (transformers'
    /// `min_new_tokens`); benchmarks set it to `max_new_tokens` for fixed-length work.
    #[serde(skip_serializing_if = "is_zero")]
    pub min_new_tokens: usize,
    /// Generation of a row ends when its text contains one of these; the text is cut before it.
    pub stop: Vec<String>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self { temperature: 1.0, top_p: 1.0, top_k: 0, max_new_tokens: 256, min_new_tokens: 0, stop: vec![] }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl SamplingParams {
    pub fn greedy(max_new_tokens: usize) -> Self {
        Self { temperature: 0.0, max_new_tokens, ..Self::default() }
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return Err(format!("temperature must be >= 0, got {}", self.temperature));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(format!("top_p must be in (0, 1], got {}", self.top_p));
        }
        if self.max_new_tokens == 0 {
            return Err("max_new_tokens must be at least 1".into());
        }
        if self.min_new_tokens > self.max_new_tokens {
            return Err(format!("min_new_tokens ({}) must not exceed max_new_tokens ({})", self.min_new_tokens, self.max_new_tokens));
        }
        Ok(())
    }
}

/// One sequence to continue. Engines that work on text use `prompt_text`; token engines use `prompt_ids`.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    pub prompt_text: String,
    pub prompt_ids: Vec<u32>,
    /// Per-sequence seed: a row's sample does not depend on which other rows share its batch.
    pub seed: u64,
}

pub trait Generator {
    type Error: std::error::Error + Send + Sync + 'static;

    fn generate(&mut self, requests: &[GenerationRequest], params: &SamplingParams) -> Result<Vec<Completion>, Self::Error>;
}
