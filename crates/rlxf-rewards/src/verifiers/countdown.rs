use num_bigint::BigInt;
use num_rational::BigRational;
use rlxf_core::Score;
use serde::{Deserialize, Serialize};

use super::flag;
use crate::extract::{ExtractionPolicy, Rule};
use crate::math::eval_arithmetic;
use crate::reward::{ScoreInput, Verifier};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CountdownConfig {
    /// Where the expression is; last-number or "answer is" rules make little sense here.
    pub extraction: ExtractionPolicy,
    /// Added when an answer was extracted, right or wrong.
    pub format_bonus: f64,
}

impl Default for CountdownConfig {
    fn default() -> Self {
        Self {
            extraction: ExtractionPolicy::new(vec![Rule::Boxed, Rule::AnswerTag])
                .expect("two distinct rules"),
            format_bonus: 0.0,
        }
    }
}

/// Countdown: the answer must be an expression using each of `metadata.numbers` exactly once
/// and evaluating to `metadata.target` (checked exactly, so `7 / 2 * 2` counts as 7).
///
/// Components: `accuracy`, `has_answer`, `valid_expression`, `uses_numbers`, and
/// `missing_metadata` when the problem lacks `numbers`/`target`.
#[derive(Debug, Clone, Default)]
pub struct Countdown {
    config: CountdownConfig,
}

impl Countdown {
    pub fn new(config: CountdownConfig) -> Self {
        Self { config }
    }
}

/// `numbers` (array of non-negative integers) and `target` (integer) from problem metadata.
fn task(meta: &serde_json::Value) -> Option<(Vec<BigInt>, BigRational)> {
    let numbers = meta
        .get("numbers")?
        .as_array()?
        .iter()
        .map(|v| v.as_u64().map(BigInt::from))
        .collect::<Option<Vec<_>>>()?;
    let target = meta.get("target")?.as_i64()?;
    Some((numbers, BigRational::from_integer(BigInt::from(target))))
}

impl Verifier for Countdown {
    fn name(&self) -> &str {
        "countdown"
    }

    fn verify(&self, input: &ScoreInput<'_>) -> Score {
        let extracted = self.config.extraction.extract(input.completion);
        let has_answer = extracted.is_some();
        let Some((mut numbers, target)) = task(input.metadata) else {
            return Score::scalar(0.0)
                .with_component("accuracy", 0.0)
                .with_component("has_answer", flag(has_answer))
                .with_component("missing_metadata", 1.0);
        };
        let evaluated = extracted.and_then(|e| eval_arithmetic(e.answer).ok());
        let (valid, uses_numbers, correct) = match evaluated {
            Some(ev) => {
                let mut used = ev.literals;
                used.sort_unstable();
                numbers.sort_unstable();
                let uses = used == numbers;
                (true, uses, uses && ev.value == target)
            }
            None => (false, false, false),
        };
        Score::scalar(flag(correct) + self.config.format_bonus * flag(has_answer))
            .with_component("accuracy", flag(correct))
            .with_component("has_answer", flag(has_answer))
            .with_component("valid_expression", flag(valid))
            .with_component("uses_numbers", flag(uses_numbers))
    }
}
