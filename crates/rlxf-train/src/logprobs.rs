//! Per-token log-probabilities (and entropies) of completion tokens under a model, as the loss needs them.

use rlxf_model::LanguageModel;
use tch::{Kind, Tensor};

use crate::sequence_batch::SequenceBatch;

pub struct TokenLogprobs {
    /// `[B, C]` log-probabilities of the targets (f32), differentiable when grads are on.
    pub logp: Tensor,
    /// `[B, C]` entropy of the predictive distribution (no gradient).
    pub entropy: Tensor,
}

/// Log-probs at temperature `temperature`, matching the distribution the sampler reports.
/// Only the completion slice of the logits is materialised.
pub fn completion_logprobs(model: &LanguageModel, batch: &SequenceBatch, temperature: f64, with_entropy: bool) -> TokenLogprobs {
    let hidden = model.hidden_states(&batch.input_ids, &batch.valid);
    // The logit at column t predicts token t + 1, so completion tokens are predicted from P-1 .. P+C-2.
    let hidden = hidden.narrow(1, batch.prompt_width - 1, batch.completion_width);
    let logits = model.net.logits(&hidden).to_kind(Kind::Float) / temperature;
    let lse = logits.logsumexp([-1], false);
    let logp = logits.gather(-1, &batch.targets.unsqueeze(-1), false).squeeze_dim(-1) - &lse;
    let entropy = if with_entropy {
        tch::no_grad(|| {
            let probs = (&logits - lse.unsqueeze(-1)).exp();
            &lse - (probs * &logits).sum_dim_intlist(-1, false, Kind::Float)
        })
    } else {
        Tensor::zeros_like(&logp)
    };
    TokenLogprobs { logp, entropy }
}
