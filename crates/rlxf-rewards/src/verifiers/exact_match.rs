use rlxf_core::Score;
use serde::{Deserialize, Serialize};

use super::flag;
use crate::extract::ExtractionPolicy;
use crate::math::normalize_text;
use crate::reward::{ScoreInput, Verifier};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExactMatchConfig {
    /// Where the answer is; `None` compares the whole completion.
    pub extraction: Option<ExtractionPolicy>,
    /// Compare byte-for-byte after trimming instead of normalized (whitespace, case and LaTeX
    /// spacing-insensitive).
    pub strict: bool,
}

/// String equality of the (extracted) answer with the reference. Components: `accuracy`,
/// `has_answer` (always 1 without extraction), and `missing_reference` when there is none.
#[derive(Debug, Clone, Default)]
pub struct ExactMatch {
    config: ExactMatchConfig,
}

impl ExactMatch {
    pub fn new(config: ExactMatchConfig) -> Self {
        Self { config }
    }
}

impl Verifier for ExactMatch {
    fn name(&self) -> &str {
        "exact_match"
    }

    fn verify(&self, input: &ScoreInput<'_>) -> Score {
        let answer = match &self.config.extraction {
            Some(policy) => policy.extract(input.completion).map(|e| e.answer),
            None => Some(input.completion),
        };
        let correct = match (answer, input.reference) {
            (Some(a), Some(gold)) if self.config.strict => a.trim() == gold.trim(),
            (Some(a), Some(gold)) => normalize_text(a) == normalize_text(gold),
            _ => false,
        };
        let mut score = Score::scalar(flag(correct))
            .with_component("accuracy", flag(correct))
            .with_component("has_answer", flag(answer.is_some()));
        if input.reference.is_none() {
            score = score.with_component("missing_reference", 1.0);
        }
        score
    }
}
