//! What a preference run writes: one metrics line per step, held-out preference accuracy, and the
//! run summary.

use serde::{Deserialize, Serialize};

use crate::evaluation::EvalResult;

use super::data::EncodingReport;
use super::objective::Tally;

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct PreferenceStepMetrics {
    pub step: usize,
    pub epoch: usize,
    pub loss: f64,
    /// Fraction of pairs whose implicit reward (reward-model score) prefers the chosen completion;
    /// KTO: fraction of examples whose implicit reward has the sign of their label.
    pub reward_accuracy: f64,
    /// Mean chosen-minus-rejected implicit reward (KTO: desirable mean minus undesirable mean).
    pub margin_mean: f64,
    pub chosen_reward: f64,
    pub rejected_reward: f64,
    pub grad_norm: f64,
    pub lr: f64,
    pub pairs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kl_reference_point: Option<f64>,
    pub step_seconds: f64,
    /// Held-out preference accuracy after this step, on the steps `preference.eval_every` picks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out_accuracy: Option<f64>,
}

/// Preference accuracy of a model on a set of pairs (or KTO examples).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PairAccuracy {
    pub items: usize,
    /// See [`PreferenceStepMetrics::reward_accuracy`].
    pub accuracy: f64,
    /// Pairs whose chosen completion the policy itself finds likelier (summed log-probs); policy
    /// objectives on pairs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_accuracy: Option<f64>,
    pub margin_mean: f64,
    pub loss: f64,
}

/// Means of a tally: (loss, accuracy, chosen reward, rejected reward, margin).
pub fn means(t: &Tally, kto: bool) -> (f64, f64, f64, f64, f64) {
    let n = t.items.max(1) as f64;
    let (chosen_n, rejected_n) = if kto {
        (
            t.desirable.max(1) as f64,
            (t.items - t.desirable).max(1) as f64,
        )
    } else {
        (n, n)
    };
    let chosen = t.chosen_reward_sum / chosen_n;
    let rejected = t.rejected_reward_sum / rejected_n;
    (
        t.loss_sum / n,
        t.correct as f64 / n,
        chosen,
        rejected,
        chosen - rejected,
    )
}

pub fn accuracy_of(t: &Tally, kto: bool, policy_pairs: bool) -> PairAccuracy {
    let (loss, accuracy, _, _, margin) = means(t, kto);
    PairAccuracy {
        items: t.items,
        accuracy,
        policy_accuracy: policy_pairs
            .then(|| t.policy_prefers_chosen as f64 / t.items.max(1) as f64),
        margin_mean: margin,
        loss,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PreferenceSummary {
    pub run_dir: String,
    pub algorithm: String,
    pub train_items: usize,
    pub held_out_items: usize,
    /// Lines of the data file that were not loaded (each is printed with its reason).
    pub skipped_lines: usize,
    pub encoding: EncodingReport,
    pub steps: usize,
    /// Held-out preference accuracy before and after training.
    pub pairs_before: PairAccuracy,
    pub pairs_after: PairAccuracy,
    /// Greedy held-out accuracy on the recipe's task (policy objectives; `None` for reward models
    /// or with eval.held_out = 0).
    pub task_before: Option<EvalResult>,
    pub task_after: Option<EvalResult>,
    /// The trained model: `final/` (policy) or `reward_model/`.
    pub model_dir: String,
    pub train_seconds: f64,
    pub total_seconds: f64,
}
