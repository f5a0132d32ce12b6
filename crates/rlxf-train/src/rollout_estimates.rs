//! What some estimators need from the models before the update: the per-token KL to the reference
//! (KL in the reward, REINFORCE++ and PPO) and the critic's values at rollout time (PPO's GAE and
//! value clipping). One no-grad pass over the batch, micro-batch by micro-batch.

use rlxf_model::LanguageModel;
use tch::{Kind, Tensor};

use crate::critic::Critic;
use crate::logprobs::{completion_logprobs, Entropy};
use crate::policy_loss::{kl_penalty, KlEstimator};
use crate::sequence_batch::SequenceBatch;

#[derive(Debug, Default)]
pub struct RolloutEstimates {
    /// Per completion, per token.
    pub token_kl: Option<Vec<Vec<f64>>>,
    pub values: Option<Vec<Vec<f64>>>,
}

pub struct EstimateSettings {
    pub kl: Option<KlEstimator>,
    pub micro_batch_size: usize,
    pub temperature: f64,
    pub pad_id: u32,
}

/// `samples`: (prompt, completion) token ids in group order. `reference` is read only when
/// `settings.kl` is set, `critic` only when given.
pub fn rollout_estimates(
    policy: &LanguageModel,
    reference: Option<&LanguageModel>,
    critic: Option<&Critic>,
    samples: &[(&[u32], &[u32])],
    s: &EstimateSettings,
) -> RolloutEstimates {
    let kl_from = s.kl.and_then(|k| reference.map(|r| (k, r)));
    let mut out = RolloutEstimates {
        token_kl: kl_from.map(|_| Vec::with_capacity(samples.len())),
        values: critic.map(|_| Vec::with_capacity(samples.len())),
    };
    if out.token_kl.is_none() && out.values.is_none() {
        return out;
    }
    tch::no_grad(|| {
        for chunk in samples.chunks(s.micro_batch_size.max(1)) {
            let prompts: Vec<&[u32]> = chunk.iter().map(|x| x.0).collect();
            let completions: Vec<&[u32]> = chunk.iter().map(|x| x.1).collect();
            let lengths: Vec<usize> = completions.iter().map(|c| c.len()).collect();
            let batch = SequenceBatch::new(&prompts, &completions, s.pad_id, policy.device());
            let current = completion_logprobs(policy, &batch, s.temperature, Entropy::Skip);
            if let (Some((estimator, reference)), Some(rows)) = (kl_from, out.token_kl.as_mut()) {
                let ref_logp =
                    completion_logprobs(reference, &batch, s.temperature, Entropy::Skip).logp;
                rows.extend(ragged_rows(
                    &kl_penalty(&current.logp, &ref_logp, estimator),
                    &lengths,
                ));
            }
            if let (Some(critic), Some(rows)) = (critic, out.values.as_mut()) {
                rows.extend(ragged_rows(
                    &critic.values(&current.states, &batch),
                    &lengths,
                ));
            }
        }
    });
    out
}

/// `[B, C]` right-padded -> one row per sequence with its real length.
fn ragged_rows(t: &Tensor, lengths: &[usize]) -> Vec<Vec<f64>> {
    let c = t.size()[1] as usize;
    let flat: Vec<f64> = Vec::try_from(
        t.to_kind(Kind::Double)
            .to_device(tch::Device::Cpu)
            .contiguous()
            .view([-1]),
    )
    .expect("a contiguous f64 tensor converts to a Vec");
    lengths
        .iter()
        .enumerate()
        .map(|(i, &n)| flat[i * c..i * c + n].to_vec())
        .collect()
}
