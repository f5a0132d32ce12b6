//! Per-token log-probabilities (and entropies) of completion tokens under a model, as the loss needs them.

use rlxf_model::LanguageModel;
use tch::{Kind, Tensor};

use crate::sequence_batch::SequenceBatch;

pub struct TokenLogprobs {
    /// `[B, C]` log-probabilities of the completion tokens (f32), differentiable when grads are on.
    pub logp: Tensor,
    /// `[B, C]` entropy of the predictive distribution (no gradient).
    pub entropy: Tensor,
}

/// Log-probs at `temperature`, matching the distribution the sampler reports. Only the logits that
/// predict completion tokens are computed, and each distinct prompt runs once.
pub fn completion_logprobs(model: &LanguageModel, batch: &SequenceBatch, temperature: f64, with_entropy: bool) -> TokenLogprobs {
    let states = model.completion_predictor_states(
        &batch.prompt_ids,
        &batch.prompt_valid,
        &batch.completion_ids,
        &batch.completion_valid,
        &batch.prompt_of,
    );
    let logits = model.net.logits(&states).to_kind(Kind::Float) / temperature;
    let lse = logits.logsumexp([-1], false);
    let logp = logits.gather(-1, &batch.completion_ids.unsqueeze(-1), false).squeeze_dim(-1) - &lse;
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
