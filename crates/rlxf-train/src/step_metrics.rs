//! What the trainer records per step (`metrics.jsonl`, `samples.jsonl`) and at the end (`summary.json`).

use serde::Serialize;

use crate::evaluation::EvalResult;
use crate::rollout::ScoredGroup;

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct StepMetrics {
    pub step: usize,
    pub reward_mean: f64,
    pub accuracy: f64,
    pub informative_groups: f64,
    pub loss: f64,
    pub kl: f64,
    pub entropy: f64,
    pub clip_fraction: f64,
    pub grad_norm: f64,
    pub lr: f64,
    /// Mean and largest |sampler log-prob - trainer log-prob| of the sampled tokens on the first pass
    /// over the rollout (same weights): how far generation's numbers are from training's.
    pub sampler_logprob_gap_mean: f64,
    pub sampler_logprob_gap_max: f64,
    /// Sampling rounds this step (above 1 only with dynamic sampling).
    pub sampling_rounds: usize,
    /// Groups trained on (fewer than prompts_per_step when dynamic sampling ran out of rounds).
    pub trained_groups: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greedy_reward_mean: Option<f64>,
    pub completion_tokens_mean: f64,
    pub truncated_fraction: f64,
    /// Sampling (and ReMax's greedy pass), reward scoring excluded.
    pub generation_seconds: f64,
    pub scoring_seconds: f64,
    pub training_seconds: f64,
    pub step_seconds: f64,
    pub generated_tokens_per_second: f64,
    /// The process's peak resident memory so far (VmHWM).
    pub peak_rss_mb: f64,
    /// On a GPU, the caching allocator's peaks so far (torch.cuda.max_memory_allocated / _reserved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda_max_allocated_mb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda_max_reserved_mb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval_accuracy: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub run_dir: String,
    pub before: EvalResult,
    pub after: EvalResult,
    pub steps: usize,
    pub train_seconds: f64,
    pub total_seconds: f64,
}

/// The highest- and lowest-reward completions of a step, for reading what the policy does.
pub(crate) fn best_and_worst(step: usize, groups: &[ScoredGroup]) -> serde_json::Value {
    let all: Vec<(&ScoredGroup, usize)> = groups
        .iter()
        .flat_map(|g| (0..g.completions.len()).map(move |i| (g, i)))
        .collect();
    let reward = |&(g, i): &(&ScoredGroup, usize)| g.scores[i].value;
    let describe = |(g, i): (&ScoredGroup, usize)| {
        serde_json::json!({
            "id": g.prompt.problem.id,
            "prompt": g.prompt.problem.prompt,
            "answer": g.prompt.problem.answer,
            "completion": g.completions[i].text,
            "reward": g.scores[i].value,
            "components": g.scores[i].components,
        })
    };
    let best = all
        .iter()
        .copied()
        .max_by(|a, b| reward(a).total_cmp(&reward(b)));
    let worst = all
        .iter()
        .copied()
        .min_by(|a, b| reward(a).total_cmp(&reward(b)));
    serde_json::json!({"step": step, "best": best.map(describe), "worst": worst.map(describe)})
}
