use serde::{Deserialize, Serialize};

/// Why generation of one completion ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The end-of-sequence token was sampled (it is included in `token_ids`).
    Eos,
    /// A stop string appeared; the text is cut before it.
    Stop(String),
    /// `max_new_tokens` was reached: the answer is truncated.
    Length,
}

/// One sampled answer with what the trainer needs to learn from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub text: String,
    /// Generated token ids, prompt excluded.
    pub token_ids: Vec<u32>,
    /// Log-probability of each generated token under the sampling distribution (after temperature).
    pub logprobs: Vec<f32>,
    pub finish: FinishReason,
}

impl Completion {
    pub fn is_truncated(&self) -> bool {
        self.finish == FinishReason::Length
    }
}
