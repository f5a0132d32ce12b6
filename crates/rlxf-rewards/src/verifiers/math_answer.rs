use rlxf_core::Score;
use serde::{Deserialize, Serialize};

use super::flag;
use crate::extract::ExtractionPolicy;
use crate::math::{compare, MathOptions};
use crate::reward::{ScoreInput, Verifier};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MathAnswerConfig {
    /// Where to find the answer in the completion.
    pub extraction: ExtractionPolicy,
    /// How to compare it with the reference.
    pub math: MathOptions,
    /// Added to the value whenever an answer was extracted, right or wrong (a shaping term that
    /// teaches the format early in training). 0 disables it.
    pub format_bonus: f64,
}

impl Default for MathAnswerConfig {
    fn default() -> Self {
        Self {
            extraction: ExtractionPolicy::boxed(),
            math: MathOptions::default(),
            format_bonus: 0.0,
        }
    }
}

/// Extracts the final answer and compares it exactly with the reference.
///
/// Value: `accuracy + format_bonus * has_answer`. Components: `accuracy`, `has_answer`, and
/// `missing_reference` = 1 when the problem has no reference (the score is then 0, since
/// nothing can be verified).
#[derive(Debug, Clone, Default)]
pub struct MathAnswer {
    config: MathAnswerConfig,
}

impl MathAnswer {
    pub fn new(config: MathAnswerConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &MathAnswerConfig {
        &self.config
    }
}

impl Verifier for MathAnswer {
    fn name(&self) -> &str {
        "math_answer"
    }

    fn verify(&self, input: &ScoreInput<'_>) -> Score {
        let extracted = self.config.extraction.extract(input.completion);
        let has_answer = extracted.is_some();
        let correct = match (&extracted, input.reference) {
            (Some(e), Some(gold)) => compare(e.answer, gold, &self.config.math).equal,
            _ => false,
        };
        let mut score = Score::scalar(flag(correct) + self.config.format_bonus * flag(has_answer))
            .with_component("accuracy", flag(correct))
            .with_component("has_answer", flag(has_answer));
        if input.reference.is_none() {
            score = score.with_component("missing_reference", 1.0);
        }
        score
    }
}
