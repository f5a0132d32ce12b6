//! Per-token log-probabilities (and entropies) of completion tokens under a model, as the loss needs them.

use rlxf_model::LanguageModel;
use tch::{Kind, Tensor};

use crate::sequence_batch::SequenceBatch;

/// How the forward pass treats the predictive entropy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entropy {
    /// Not computed (zeros): reference models, pre-update passes.
    Skip,
    /// Computed for metrics, without gradient.
    Detached,
    /// Computed with gradient, for an entropy bonus in the loss.
    Differentiable,
}

pub struct TokenLogprobs {
    /// `[B, C]` log-probabilities of the completion tokens (f32), differentiable when grads are on.
    pub logp: Tensor,
    /// `[B, C]` entropy of the predictive distribution (see [`Entropy`]).
    pub entropy: Tensor,
    /// `[B, C, hidden]` final hidden states that predict each completion token (a value head reads them).
    pub states: Tensor,
}

/// Log-probs at `temperature`, matching the distribution the sampler reports. Only the logits that
/// predict completion tokens are computed, and each distinct prompt runs once.
pub fn completion_logprobs(
    model: &LanguageModel,
    batch: &SequenceBatch,
    temperature: f64,
    entropy: Entropy,
) -> TokenLogprobs {
    let states = model.completion_predictor_states(
        &batch.prompt_ids,
        &batch.prompt_valid,
        &batch.completion_ids,
        &batch.completion_valid,
        &batch.prompt_of,
    );
    // (h / T) · Wᵀ is the same product as (h · Wᵀ) / T, but dividing the hidden-size states instead
    // of the vocabulary-wide logits saves a full pass over the logits, and another in the backward.
    // In f32 only: in bf16 the division would add a rounding of the states before the product.
    // Under bf16 autocast the product itself is bf16 (states rounded once either way); the
    // log-softmax always runs in f32.
    let logits = if temperature == 1.0 {
        model.net.logits(&states).to_kind(Kind::Float)
    } else if states.kind() == Kind::Float {
        model.net.logits(&(&states / temperature)).to_kind(Kind::Float)
    } else {
        model.net.logits(&states).to_kind(Kind::Float) / temperature
    };
    let lse = logits.logsumexp([-1], false);
    let logp = logits
        .gather(-1, &batch.completion_ids.unsqueeze(-1), false)
        .squeeze_dim(-1)
        - &lse;
    let entropy_of = |logits: &Tensor, lse: &Tensor| {
        let probs = (logits - lse.unsqueeze(-1)).exp();
        lse - (probs * logits).sum_dim_intlist(-1, false, Kind::Float)
    };
    let entropy = match entropy {
        Entropy::Skip => Tensor::zeros_like(&logp),
        Entropy::Detached => tch::no_grad(|| entropy_of(&logits, &lse)),
        Entropy::Differentiable => entropy_of(&logits, &lse),
    };
    TokenLogprobs {
        logp,
        entropy,
        states,
    }
}
