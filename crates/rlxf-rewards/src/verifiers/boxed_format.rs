use rlxf_core::Score;

use super::flag;
use crate::extract::Rule;
use crate::reward::{ScoreInput, Verifier};

/// 1.0 when the completion contains a complete, non-empty `\boxed{...}` answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct BoxedFormat;

impl Verifier for BoxedFormat {
    fn name(&self) -> &str {
        "boxed_format"
    }

    fn verify(&self, input: &ScoreInput<'_>) -> Score {
        let ok = Rule::Boxed.find(input.completion).is_some();
        Score::scalar(flag(ok)).with_component("format", flag(ok))
    }
}
