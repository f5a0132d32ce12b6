use rlxf_core::Score;

use super::flag;
use crate::reward::{ScoreInput, Verifier};

/// 1.0 when generation hit the token limit. Give it a negative weight for an overlong penalty.
#[derive(Debug, Clone, Copy, Default)]
pub struct Truncated;

impl Verifier for Truncated {
    fn name(&self) -> &str {
        "truncated"
    }

    fn verify(&self, input: &ScoreInput<'_>) -> Score {
        Score::scalar(flag(input.truncated)).with_component("truncated", flag(input.truncated))
    }
}
