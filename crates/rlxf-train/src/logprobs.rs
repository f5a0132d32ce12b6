//! Per-token log-probabilities (and entropies) of completion tokens under a model, as the loss needs them.

use rlxf_model::token_logprobs::{self, target_logprobs, ProductPrecision, Tiles};
use rlxf_model::checkpointed::TrunkCheckpoints;
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
    /// With activation checkpointing, what the trunk's part of the backward needs
    /// ([`Self::backward_through_trunk`]).
    trunk: Option<TrunkCheckpoints>,
}

impl TokenLogprobs {
    /// With activation checkpointing, the loss's backward stops at the final states: this carries
    /// the gradient on through the model's layers. Call it right after that backward; without
    /// checkpointing it does nothing.
    pub fn backward_through_trunk(&mut self, model: &LanguageModel) {
        if let Some(trunk) = self.trunk.take() {
            trunk.backward(&model.net);
        }
    }
}

/// Whether the training forward keeps every layer's activations for the backward or recomputes
/// them ([`rlxf_model::checkpointed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activations {
    Kept,
    Recomputed,
}

/// Log-probs at `temperature`, matching the distribution the sampler reports. Only the completion
/// tokens' log-probs are computed (padding gets zeros), each distinct prompt runs once, and the
/// vocabulary is projected one tile at a time (`rlxf_model::token_logprobs`), never as a whole
/// `[tokens, vocab]` logits tensor.
pub fn completion_logprobs(
    model: &LanguageModel,
    batch: &SequenceBatch,
    temperature: f64,
    entropy: Entropy,
) -> TokenLogprobs {
    completion_logprobs_with(model, batch, temperature, entropy, Activations::Kept)
}

/// [`completion_logprobs`], choosing how the layers' activations are kept for the backward. With
/// [`Activations::Recomputed`], call [`TokenLogprobs::backward_through_trunk`] after the backward.
pub fn completion_logprobs_with(
    model: &LanguageModel,
    batch: &SequenceBatch,
    temperature: f64,
    entropy: Entropy,
    activations: Activations,
) -> TokenLogprobs {
    let (states, trunk) = match activations {
        Activations::Kept => (completion_states(model, batch), None),
        Activations::Recomputed => {
            let checkpointed = model.completion_predictor_states_checkpointed(
                &batch.prompt_ids,
                &batch.prompt_valid,
                &batch.completion_ids,
                &batch.completion_valid,
                &batch.prompt_of,
            );
            (checkpointed.states, Some(checkpointed.trunk))
        }
    };
    let (logp, entropy) = match model.net.vocabulary_weight().filter(|_| token_logprobs::tiled()) {
        Some(weight) => tiled_logprobs(model, weight, &states, batch, temperature, entropy),
        None => full_logits_logprobs(model, &states, batch, temperature, entropy),
    };
    TokenLogprobs {
        logp,
        entropy,
        states,
        trunk,
    }
}

/// `[B, C, hidden]` final hidden states that predict each completion token (what a value head reads).
pub fn completion_states(model: &LanguageModel, batch: &SequenceBatch) -> Tensor {
    model.completion_predictor_states(
        &batch.prompt_ids,
        &batch.prompt_valid,
        &batch.completion_ids,
        &batch.completion_valid,
        &batch.prompt_of,
    )
}

fn tiled_logprobs(
    model: &LanguageModel,
    weight: &Tensor,
    states: &Tensor,
    batch: &SequenceBatch,
    temperature: f64,
    entropy: Entropy,
) -> (Tensor, Tensor) {
    let (b, c, hidden) = states.size3().expect("completion states are [B, C, hidden]");
    let positions = &batch.completion_positions;
    let flat_states = states.reshape([b * c, hidden]).index_select(0, positions);
    let targets = batch.completion_ids.reshape([b * c]).index_select(0, positions);
    // The same precision as the full logits path: the product in bf16 under autocast, the
    // log-sum-exp in f32 either way.
    let precision = if model.net.bf16_autocast() {
        ProductPrecision::Bf16
    } else {
        ProductPrecision::F32
    };
    let out = target_logprobs(
        &flat_states,
        weight,
        &targets,
        temperature,
        precision,
        entropy != Entropy::Skip,
        Tiles::for_device(states.device()),
    )
    // Shapes and dtypes come from the model itself; a failure here is a bug, not an input error.
    .unwrap_or_else(|e| panic!("tiled token log-probs: {e}"));
    let entropy = match entropy {
        Entropy::Detached => out.entropy.detach(),
        Entropy::Skip | Entropy::Differentiable => out.entropy,
    };
    let scatter = |values: &Tensor| {
        Tensor::zeros([b * c], (Kind::Float, states.device()))
            .index_copy(0, positions, values)
            .view([b, c])
    };
    (scatter(&out.logp), scatter(&entropy))
}

/// The whole `[B, C, vocab]` logits at once: for heads with a bias, and for A/B runs
/// (`RLXF_TOKEN_LOGPROBS=full`).
fn full_logits_logprobs(
    model: &LanguageModel,
    states: &Tensor,
    batch: &SequenceBatch,
    temperature: f64,
    entropy: Entropy,
) -> (Tensor, Tensor) {
    // (h / T) · Wᵀ is the same product as (h · Wᵀ) / T, but dividing the hidden-size states instead
    // of the vocabulary-wide logits saves a full pass over the logits, and another in the backward.
    // In f32 only: in bf16 the division would add a rounding of the states before the product.
    // Under bf16 autocast the product itself is bf16 (states rounded once either way); the
    // log-softmax always runs in f32.
    let logits = if temperature == 1.0 {
        model.net.logits(states).to_kind(Kind::Float)
    } else if states.kind() == Kind::Float {
        model.net.logits(&(states / temperature)).to_kind(Kind::Float)
    } else {
        model.net.logits(states).to_kind(Kind::Float) / temperature
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
    // Padding gets zeros, as on the tiled path.
    (logp * &batch.completion_mask, entropy * &batch.completion_mask)
}
