//! Gradients of the policy loss (and the PPO critic's value loss) over a rollout batch, accumulated
//! micro-batch by micro-batch so the result equals one pass over the whole batch.

use rlxf_model::LanguageModel;
use tch::{nn, Kind, Tensor};

use crate::critic::Critic;
use crate::logprobs::{completion_logprobs, completion_logprobs_with, Activations, Entropy};
use crate::policy_loss::{
    clipped_value_loss, mask_truncated, PolicyLoss, SurrogateInputs, SurrogateStats,
};
use crate::rollout::ScoredGroup;
use crate::sequence_batch::SequenceBatch;

/// A completion's advantage: one value for all its tokens, or one per token.
#[derive(Debug, Clone, Copy)]
pub enum Advantage<'a> {
    Sequence(f64),
    Token(&'a [f64]),
}

/// The critic's regression target for a completion: returns and rollout-time values, per token.
#[derive(Debug, Clone, Copy)]
pub struct ValueTargets<'a> {
    pub returns: &'a [f64],
    pub old_values: &'a [f64],
}

/// A completion flattened out of its group, with its advantage.
pub struct TrainSample<'a> {
    pub prompt: &'a [u32],
    pub completion: &'a [u32],
    /// Sampler log-probs: the old policy when several optimizer steps reuse one rollout.
    pub old_logprobs: &'a [f32],
    pub advantage: Advantage<'a>,
    /// PPO only.
    pub value_targets: Option<ValueTargets<'a>>,
    /// Cut at `max_new_tokens` (left out of the loss when `UpdateSettings::mask_truncated`).
    pub truncated: bool,
}

/// Returns and rollout-time values of every completion, per token, in group order (PPO only).
pub type CompletionValueTargets<'a> = (&'a [Vec<f64>], &'a [Vec<f64>]);

/// Samples in group order. `advantages` and `value_targets` hold one entry per completion, same order.
pub fn flatten<'a>(
    groups: &'a [ScoredGroup],
    advantages: &'a crate::algorithm::Advantages,
    value_targets: Option<CompletionValueTargets<'a>>,
) -> Vec<TrainSample<'a>> {
    groups
        .iter()
        .flat_map(|g| g.completions.iter().map(move |c| (g, c)))
        .enumerate()
        .map(|(i, (g, c))| TrainSample {
            prompt: &g.prompt.ids,
            completion: &c.token_ids,
            old_logprobs: &c.logprobs,
            advantage: match advantages {
                crate::algorithm::Advantages::PerSequence(a) => Advantage::Sequence(a[i]),
                crate::algorithm::Advantages::PerToken { advantages, .. } => {
                    Advantage::Token(&advantages[i])
                }
            },
            value_targets: value_targets.map(|(returns, old)| ValueTargets {
                returns: &returns[i],
                old_values: &old[i],
            }),
            truncated: c.is_truncated(),
        })
        .collect()
}

pub struct UpdateSettings {
    pub loss: PolicyLoss,
    /// The longest completion the sampler may produce (Dr. GRPO's constant normalizer).
    pub max_completion_len: usize,
    pub micro_batch_size: usize,
    pub temperature: f64,
    pub pad_id: u32,
    /// Use the sampler's log-probs as the old policy (num_iterations > 1); otherwise the current
    /// policy's detached log-probs, which makes the ratio exactly 1 on the first pass.
    pub old_from_sampler: bool,
    /// Leave truncated completions out of the loss (DAPO's overlong filtering).
    pub mask_truncated: bool,
    /// Fill [`UpdateStats::sampler_gap`] (reported for the first pass over a rollout only).
    pub measure_sampler_gap: bool,
    /// Keep the policy's layer activations for the backward, or recompute them layer by layer
    /// (`model.gradient_checkpointing`).
    pub activations: Activations,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct UpdateStats {
    pub loss: f64,
    pub grad_norm: f64,
    pub entropy_mean: f64,
    pub surrogate: SurrogateStats,
    /// PPO: the value loss (already included in `loss`, weighted) and the critic's gradient norm.
    pub value_loss: Option<f64>,
    pub critic_grad_norm: Option<f64>,
    /// How far the sampler's log-probs of the sampled tokens are from the trainer's, over the loss's
    /// tokens. On the first pass over a rollout both come from the same weights, so this measures the
    /// numerical disagreement of the two computations (bf16 rounding, different kernels).
    pub sampler_gap: SamplerGap,
}

/// See [`UpdateStats::sampler_gap`]: |sampler log-prob - trainer log-prob| summed, its largest value,
/// and the tokens counted.
#[derive(Debug, Default, Clone, Copy)]
pub struct SamplerGap {
    pub abs_sum: f64,
    pub max: f64,
    pub tokens: f64,
}

impl SamplerGap {
    pub fn mean(&self) -> f64 {
        self.abs_sum / self.tokens.max(1.0)
    }
}

/// Adds the gradient of the batch loss to the policy's (and the critic's) parameters; the caller
/// zeroes and steps.
pub fn accumulate_policy_gradients(
    policy: &LanguageModel,
    reference: Option<&LanguageModel>,
    critic: Option<&Critic>,
    samples: &[TrainSample<'_>],
    s: &UpdateSettings,
) -> UpdateStats {
    let device = policy.device();
    let dropped = |x: &TrainSample<'_>| s.mask_truncated && x.truncated;
    let lengths: Vec<usize> = samples
        .iter()
        .map(|x| if dropped(x) { 0 } else { x.completion.len() })
        .collect();
    let normalizer = s
        .loss
        .aggregation
        .normalizer(&lengths, s.max_completion_len);
    let entropy_mode = if s.loss.entropy_coef > 0.0 {
        Entropy::Differentiable
    } else {
        Entropy::Detached
    };
    let mut stats = UpdateStats::default();
    let mut entropy_sum = 0.0;
    let mut value_loss_sum = 0.0;
    // Samples stay in group order so a micro-batch holds whole groups and runs each prompt once.
    for chunk in samples.chunks(s.micro_batch_size.max(1)) {
        let prompts: Vec<&[u32]> = chunk.iter().map(|x| x.prompt).collect();
        let completions: Vec<&[u32]> = chunk.iter().map(|x| x.completion).collect();
        let batch = SequenceBatch::new(&prompts, &completions, s.pad_id, device);
        let advantages = advantage_tensor(&batch, chunk, device);
        let ref_logp = reference.map(|r| {
            tch::no_grad(|| completion_logprobs(r, &batch, s.temperature, Entropy::Skip).logp)
        });
        let mut current = completion_logprobs_with(policy, &batch, s.temperature, entropy_mode, s.activations);
        let sampler_logp = batch.pad_values(
            &chunk.iter().map(|x| x.old_logprobs).collect::<Vec<_>>(),
            device,
        );
        let old_logp = if s.old_from_sampler {
            sampler_logp.shallow_clone()
        } else {
            current.logp.detach()
        };
        let mask = if s.mask_truncated {
            mask_truncated(
                &batch.completion_mask,
                &chunk.iter().map(|x| x.truncated).collect::<Vec<_>>(),
            )
        } else {
            batch.completion_mask.shallow_clone()
        };
        if s.measure_sampler_gap {
            tch::no_grad(|| {
                let gap = (current.logp.to_kind(Kind::Float) - &sampler_logp).abs() * &mask;
                stats.sampler_gap.abs_sum += gap.sum(Kind::Double).double_value(&[]);
                stats.sampler_gap.max = stats.sampler_gap.max.max(gap.max().double_value(&[]));
                stats.sampler_gap.tokens += mask.sum(Kind::Double).double_value(&[]);
            });
        }
        let inputs = SurrogateInputs {
            logp: &current.logp,
            old_logp: &old_logp,
            advantages: &advantages,
            mask: &mask,
            ref_logp: ref_logp.as_ref(),
            entropy: Some(&current.entropy),
        };
        let (mut loss, part) = s.loss.loss(&inputs, normalizer);
        if let Some(critic) = critic {
            let targets = |returns: bool| {
                let rows: Vec<Vec<f32>> = chunk
                    .iter()
                    .map(|x| {
                        let row = x
                            .value_targets
                            .map(|t| if returns { t.returns } else { t.old_values })
                            .unwrap_or_default();
                        row.iter().map(|&v| v as f32).collect()
                    })
                    .collect();
                batch.pad_values(&rows.iter().map(Vec::as_slice).collect::<Vec<_>>(), device)
            };
            let values = critic.values(&current.states, &batch);
            let clip = (critic.settings.value_clip > 0.0).then_some(critic.settings.value_clip);
            let value_loss = clipped_value_loss(
                &values,
                &targets(false),
                &targets(true),
                &mask,
                clip,
                s.loss.aggregation,
                normalizer,
            );
            value_loss_sum += value_loss.double_value(&[]);
            // Not `+=`: that is an in-place add on a tensor autograd still needs.
            #[allow(clippy::assign_op_pattern)]
            {
                loss = loss + value_loss * critic.settings.vf_coef;
            }
        }
        loss.backward();
        current.backward_through_trunk(policy);
        stats.loss += loss.double_value(&[]);
        stats.surrogate.tokens += part.tokens;
        stats.surrogate.clipped_tokens += part.clipped_tokens;
        stats.surrogate.kl_sum += part.kl_sum;
        entropy_sum += tch::no_grad(|| {
            (&current.entropy * &mask)
                .sum(Kind::Double)
                .double_value(&[])
        });
    }
    stats.entropy_mean = entropy_sum / stats.surrogate.tokens.max(1.0);
    stats.value_loss = critic.map(|_| value_loss_sum);
    stats
}

/// `[B]` for per-sequence advantages, `[B, C]` (right-padded) when any sample has per-token ones.
fn advantage_tensor(
    batch: &SequenceBatch,
    chunk: &[TrainSample<'_>],
    device: tch::Device,
) -> Tensor {
    let per_sequence: Option<Vec<f32>> = chunk
        .iter()
        .map(|x| match x.advantage {
            Advantage::Sequence(a) => Some(a as f32),
            Advantage::Token(_) => None,
        })
        .collect();
    if let Some(values) = per_sequence {
        return Tensor::from_slice(&values).to_device(device);
    }
    let rows: Vec<Vec<f32>> = chunk
        .iter()
        .map(|x| match x.advantage {
            Advantage::Sequence(a) => vec![a as f32; x.completion.len()],
            Advantage::Token(t) => t.iter().map(|&v| v as f32).collect(),
        })
        .collect();
    batch.pad_values(&rows.iter().map(Vec::as_slice).collect::<Vec<_>>(), device)
}

/// Scales gradients so their global L2 norm is at most `max_norm`; returns the norm before scaling.
pub fn clip_grad_norm(vs: &nn::VarStore, max_norm: f64) -> f64 {
    clip_joint_grad_norm(&[vs], max_norm)
}

/// Scales all gradients so their global L2 norm (over every store) is at most `max_norm`; returns
/// the norm before scaling.
pub fn clip_joint_grad_norm(stores: &[&nn::VarStore], max_norm: f64) -> f64 {
    tch::no_grad(|| {
        let grads: Vec<Tensor> = stores
            .iter()
            .flat_map(|vs| vs.trainable_variables())
            .map(|v| v.grad())
            .filter(|g| g.defined())
            .collect();
        let total: f64 = grads
            .iter()
            .map(|g| g.square().sum(Kind::Double).double_value(&[]))
            .sum::<f64>()
            .sqrt();
        if total.is_finite() && total > max_norm {
            let scale = max_norm / (total + 1e-6);
            for g in &grads {
                let _ = g.shallow_clone().g_mul_scalar_(scale);
            }
        }
        total
    })
}
