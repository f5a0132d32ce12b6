//! Which metrics get a chart, and how each is titled and labelled.

/// One training-metric chart: the metrics.jsonl key it plots and its labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartSpec {
    pub key: &'static str,
    /// File stem in `charts/`.
    pub file: &'static str,
    pub title: &'static str,
    pub y_label: &'static str,
    /// Fractions are drawn on a fixed 0..1 axis so runs compare at a glance.
    pub unit_interval: bool,
}

const fn spec(
    key: &'static str,
    file: &'static str,
    title: &'static str,
    y_label: &'static str,
    unit_interval: bool,
) -> ChartSpec {
    ChartSpec {
        key,
        file,
        title,
        y_label,
        unit_interval,
    }
}

/// The training charts, in report order; metrics absent from a run are skipped and listed.
pub const TRAINING_CHARTS: &[ChartSpec] = &[
    spec(
        "reward_mean",
        "reward",
        "Mean reward per step",
        "reward",
        false,
    ),
    spec(
        "accuracy",
        "accuracy",
        "Training accuracy (sampled completions)",
        "fraction correct",
        true,
    ),
    spec(
        "kl",
        "kl",
        "KL divergence to the reference policy",
        "KL (nats per token)",
        false,
    ),
    spec(
        "entropy",
        "entropy",
        "Policy entropy",
        "nats per token",
        false,
    ),
    spec(
        "completion_tokens_mean",
        "response_length",
        "Mean response length",
        "tokens",
        false,
    ),
    spec(
        "clip_fraction",
        "clip_fraction",
        "Clipped-ratio fraction",
        "fraction of tokens",
        true,
    ),
    spec(
        "sampler_logprob_gap_mean",
        "sampler_gap",
        "Sampler vs trainer log-prob gap (same weights)",
        "mean |difference| (nats per token)",
        false,
    ),
    spec(
        "grad_norm",
        "grad_norm",
        "Gradient norm (before clipping)",
        "global L2 norm",
        false,
    ),
    spec(
        "generated_tokens_per_second",
        "tokens_per_second",
        "Generation throughput",
        "tokens / s",
        false,
    ),
];

/// The held-out accuracy chart (before training, periodic evaluations, after training).
pub const HELD_OUT_CHART: ChartSpec = spec(
    "eval_accuracy",
    "heldout_accuracy",
    "Held-out accuracy (greedy)",
    "fraction correct",
    true,
);
