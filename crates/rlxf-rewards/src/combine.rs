//! Combining several rewards into one scalar.

use rlxf_core::Score;

use crate::reward::{Reward, ScoreInput};

/// One named, weighted part of a [`WeightedSum`].
pub struct WeightedTerm {
    /// Key of this term's value in the combined [`Score::components`].
    pub name: String,
    pub weight: f64,
    pub reward: Box<dyn Reward>,
}

/// `value = Σ weight_i · value_i`. Components keep every term's unweighted value under its name,
/// and the term's own components under `name.component` (e.g. `math_answer.accuracy`).
/// Per-token rewards of the terms are not combined (none of the current terms produce them).
pub struct WeightedSum {
    terms: Vec<WeightedTerm>,
}

impl WeightedSum {
    pub fn new(terms: Vec<WeightedTerm>) -> Self {
        Self { terms }
    }

    pub fn terms(&self) -> &[WeightedTerm] {
        &self.terms
    }
}

impl Reward for WeightedSum {
    fn name(&self) -> &str {
        "weighted_sum"
    }

    fn score_group(&self, group: &[ScoreInput<'_>]) -> Vec<Score> {
        let mut out = vec![Score::default(); group.len()];
        for term in &self.terms {
            let scores = term.reward.score_group(group);
            // A reward returning the wrong count is a bug in that reward, not bad input data.
            assert_eq!(
                scores.len(),
                group.len(),
                "reward term `{}` returned {} scores for a group of {}",
                term.name,
                scores.len(),
                group.len()
            );
            for (acc, s) in out.iter_mut().zip(scores) {
                acc.value += term.weight * s.value;
                acc.components.insert(term.name.clone(), s.value);
                for (k, v) in s.components {
                    acc.components.insert(format!("{}.{k}", term.name), v);
                }
            }
        }
        out
    }
}
