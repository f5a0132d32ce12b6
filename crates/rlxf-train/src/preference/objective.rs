//! One micro-batch of preference data through the model: summed completion log-probs (policy with
//! gradient, frozen reference without) or reward-model scores, the recipe's loss, and the counts
//! behind the metrics (implicit-reward accuracy and margins).

use rlxf_model::{LanguageModel, RewardModel};
use tch::{Kind, Tensor};

use crate::error::TrainError;
use crate::logprobs::completion_logprobs;
use crate::preference_loss::{bradley_terry_loss, KtoLoss, PairLogps, PairwiseLoss, SimpoLoss};
use crate::sequence_batch::SequenceBatch;

use super::config::PreferenceSection;
use super::data::{EncodedExample, EncodedPair};

/// The loss `algorithm.name` selects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PreferenceObjective {
    Pairwise(PairwiseLoss),
    Simpo(SimpoLoss),
    Kto(KtoLoss),
    BradleyTerry,
}

impl PreferenceObjective {
    /// `None` for a name that is not a preference objective.
    pub fn from_recipe(name: &str, p: &PreferenceSection) -> Option<Self> {
        let beta = p.beta(name);
        Some(match name {
            "dpo" => Self::Pairwise(PairwiseLoss::Dpo {
                beta,
                label_smoothing: p.label_smoothing,
            }),
            "ipo" => Self::Pairwise(PairwiseLoss::Ipo { beta }),
            "hinge" => Self::Pairwise(PairwiseLoss::Hinge { beta }),
            "simpo" => Self::Simpo(SimpoLoss {
                beta,
                gamma: p.simpo_gamma,
            }),
            "kto" => Self::Kto(KtoLoss {
                beta,
                desirable_weight: p.desirable_weight,
                undesirable_weight: p.undesirable_weight,
            }),
            "reward_model" => Self::BradleyTerry,
            _ => return None,
        })
    }

    /// DPO-family and KTO rewards are relative to a frozen copy of the starting policy.
    pub fn needs_reference(&self) -> bool {
        matches!(self, Self::Pairwise(_) | Self::Kto(_))
    }

    /// KTO learns from unpaired examples; the others from pairs.
    pub fn uses_examples(&self) -> bool {
        matches!(self, Self::Kto(_))
    }

    /// Scale of the implicit reward reported in the metrics.
    fn beta(&self) -> f64 {
        match *self {
            Self::Pairwise(
                PairwiseLoss::Dpo { beta, .. }
                | PairwiseLoss::Ipo { beta }
                | PairwiseLoss::Hinge { beta },
            ) => beta,
            Self::Simpo(l) => l.beta,
            Self::Kto(l) => l.beta,
            Self::BradleyTerry => 1.0,
        }
    }
}

/// What is trained: a policy (with its frozen reference when the objective needs one) or a reward model.
// One learner lives per run, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Learner {
    Policy {
        policy: LanguageModel,
        reference: Option<LanguageModel>,
    },
    RewardModel(RewardModel),
}

/// Sums over the items of one or more micro-batches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub items: usize,
    /// Sum over items of the per-item loss (the batch mean times the batch size).
    pub loss_sum: f64,
    /// Pairs whose implicit reward prefers the chosen completion (KTO: examples whose reward has
    /// the sign of their label).
    pub correct: usize,
    /// Pairs whose chosen completion has the higher summed log-prob under the policy (a check that
    /// does not depend on the reference; 0 for reward models).
    pub policy_prefers_chosen: usize,
    pub chosen_reward_sum: f64,
    pub rejected_reward_sum: f64,
    /// KTO: desirable examples among `items` (their rewards are in `chosen_reward_sum`).
    pub desirable: usize,
    /// KTO: sum of the reference points of the micro-batches, and their number.
    pub z0_sum: f64,
    pub micro_batches: usize,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.items += o.items;
        self.loss_sum += o.loss_sum;
        self.correct += o.correct;
        self.policy_prefers_chosen += o.policy_prefers_chosen;
        self.chosen_reward_sum += o.chosen_reward_sum;
        self.rejected_reward_sum += o.rejected_reward_sum;
        self.desirable += o.desirable;
        self.z0_sum += o.z0_sum;
        self.micro_batches += o.micro_batches;
    }
}

fn to_vec(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(&t.detach().to_kind(Kind::Double).to_device(tch::Device::Cpu))
        .unwrap_or_default()
}

/// Summed completion log-probs `[B]` and completion lengths `[B]` (temperature 1).
fn summed_logprobs(
    model: &LanguageModel,
    prompts: &[&[u32]],
    completions: &[&[u32]],
    pad: u32,
) -> (Tensor, Tensor) {
    let batch = SequenceBatch::new(prompts, completions, pad, model.device());
    let token = completion_logprobs(model, &batch, 1.0, crate::logprobs::Entropy::Skip);
    let sums = (&token.logp * &batch.completion_mask).sum_dim_intlist(1, false, Kind::Float);
    (
        sums,
        batch.completion_mask.sum_dim_intlist(1, false, Kind::Float),
    )
}

/// Loss of a micro-batch of pairs; with `scale` its gradient (times `scale`) is added to the
/// learner's parameters. Call under `tch::no_grad` with `scale = None` for evaluation.
pub fn pair_micro_batch(
    learner: &Learner,
    objective: &PreferenceObjective,
    pairs: &[&EncodedPair],
    pad: u32,
    scale: Option<f64>,
) -> Result<Tally, TrainError> {
    let k = pairs.len() as i64;
    let prompts: Vec<&[u32]> = pairs
        .iter()
        .flat_map(|p| [p.prompt.as_slice(), p.prompt.as_slice()])
        .collect();
    let completions: Vec<&[u32]> = pairs
        .iter()
        .flat_map(|p| [p.chosen.as_slice(), p.rejected.as_slice()])
        .collect();
    let beta = objective.beta();
    let (loss, chosen_reward, rejected_reward, policy_margin) = match learner {
        Learner::Policy { policy, reference } => {
            let (sums, lengths) = summed_logprobs(policy, &prompts, &completions, pad);
            let (sums, lengths) = (sums.view([k, 2]), lengths.view([k, 2]));
            let (pc, pr) = (sums.select(1, 0), sums.select(1, 1));
            let policy_margin = (&pc - &pr).detach();
            match objective {
                PreferenceObjective::Pairwise(l) => {
                    let reference = reference.as_ref().ok_or_else(|| {
                        TrainError::Other("the objective needs a reference model".into())
                    })?;
                    let refs = tch::no_grad(|| {
                        summed_logprobs(reference, &prompts, &completions, pad)
                            .0
                            .view([k, 2])
                    });
                    let (rc, rr) = (refs.select(1, 0), refs.select(1, 1));
                    let loss = l
                        .loss(&PairLogps {
                            policy_chosen: &pc,
                            policy_rejected: &pr,
                            reference_chosen: &rc,
                            reference_rejected: &rr,
                        })
                        .map_err(|e| TrainError::Other(e.to_string()))?;
                    let cr = (&pc - &rc).detach() * beta;
                    let rr_ = (&pr - &rr).detach() * beta;
                    (loss, cr, rr_, policy_margin)
                }
                PreferenceObjective::Simpo(l) => {
                    let (lc, lr) = (lengths.select(1, 0), lengths.select(1, 1));
                    let loss = l
                        .loss(&pc, &pr, &lc, &lr)
                        .map_err(|e| TrainError::Other(e.to_string()))?;
                    let cr = (&pc / &lc).detach() * beta;
                    let rr_ = (&pr / &lr).detach() * beta;
                    (loss, cr, rr_, policy_margin)
                }
                other => {
                    return Err(TrainError::Other(format!(
                        "{other:?} does not train a policy on pairs"
                    )))
                }
            }
        }
        Learner::RewardModel(model) => {
            let sequences: Vec<Vec<u32>> = prompts
                .iter()
                .zip(&completions)
                .map(|(p, c)| [*p, *c].concat())
                .collect();
            let refs: Vec<&[u32]> = sequences.iter().map(Vec::as_slice).collect();
            let scores = model.score(&refs, pad).view([k, 2]);
            let (sc, sr) = (scores.select(1, 0), scores.select(1, 1));
            let margin = pairs.iter().any(|p| p.margin.is_some()).then(|| {
                let m: Vec<f32> = pairs
                    .iter()
                    .map(|p| p.margin.unwrap_or(0.0) as f32)
                    .collect();
                Tensor::from_slice(&m).to_device(sc.device())
            });
            let loss = bradley_terry_loss(&sc, &sr, margin.as_ref())
                .map_err(|e| TrainError::Other(e.to_string()))?;
            (
                loss,
                sc.detach(),
                sr.detach(),
                Tensor::zeros([k], (Kind::Float, sc.device())),
            )
        }
    };
    let loss_value = loss.double_value(&[]);
    if !loss_value.is_finite() {
        return Err(TrainError::Other(format!(
            "the preference loss is {loss_value} on pairs {}: lower optimizer.lr",
            ids(pairs.iter().map(|p| p.id.as_str()))
        )));
    }
    if let Some(scale) = scale {
        (loss * scale).backward();
    }
    let (c, r, pm) = (
        to_vec(&chosen_reward),
        to_vec(&rejected_reward),
        to_vec(&policy_margin),
    );
    Ok(Tally {
        items: pairs.len(),
        loss_sum: loss_value * pairs.len() as f64,
        correct: c.iter().zip(&r).filter(|(c, r)| c > r).count(),
        policy_prefers_chosen: pm.iter().filter(|m| **m > 0.0).count(),
        chosen_reward_sum: c.iter().sum(),
        rejected_reward_sum: r.iter().sum(),
        desirable: 0,
        z0_sum: 0.0,
        micro_batches: 1,
    })
}

/// KTO on a micro-batch of labelled examples (see [`pair_micro_batch`] for `scale`).
pub fn example_micro_batch(
    learner: &Learner,
    loss: &KtoLoss,
    examples: &[&EncodedExample],
    pad: u32,
    scale: Option<f64>,
) -> Result<Tally, TrainError> {
    let Learner::Policy {
        policy,
        reference: Some(reference),
    } = learner
    else {
        return Err(TrainError::Other(
            "kto trains a policy against a reference model".into(),
        ));
    };
    let prompts: Vec<&[u32]> = examples.iter().map(|e| e.prompt.as_slice()).collect();
    let completions: Vec<&[u32]> = examples.iter().map(|e| e.completion.as_slice()).collect();
    let mismatched: Vec<&[u32]> = examples
        .iter()
        .map(|e| e.kl_completion.as_slice())
        .collect();
    let (pol, _) = summed_logprobs(policy, &prompts, &completions, pad);
    let (refs, kl_policy, kl_reference) = tch::no_grad(|| {
        (
            summed_logprobs(reference, &prompts, &completions, pad).0,
            summed_logprobs(policy, &prompts, &mismatched, pad).0,
            summed_logprobs(reference, &prompts, &mismatched, pad).0,
        )
    });
    let labels: Vec<bool> = examples.iter().map(|e| e.desirable).collect();
    let desirable = Tensor::from_slice(&labels).to_device(pol.device());
    let out = loss
        .loss(&pol, &refs, &desirable, &kl_policy, &kl_reference)
        .map_err(|e| TrainError::Other(e.to_string()))?;
    let loss_value = out.loss.double_value(&[]);
    if !loss_value.is_finite() {
        return Err(TrainError::Other(format!(
            "the KTO loss is {loss_value} on examples {}: lower optimizer.lr",
            ids(examples.iter().map(|e| e.id.as_str()))
        )));
    }
    if let Some(scale) = scale {
        (out.loss * scale).backward();
    }
    let rewards = to_vec(&((&pol - &refs).detach() * loss.beta));
    let mut tally = Tally {
        items: examples.len(),
        loss_sum: loss_value * examples.len() as f64,
        z0_sum: out.z0,
        micro_batches: 1,
        ..Tally::default()
    };
    for (r, &d) in rewards.iter().zip(&labels) {
        if d {
            tally.desirable += 1;
            tally.chosen_reward_sum += r;
        } else {
            tally.rejected_reward_sum += r;
        }
        if (d && *r > 0.0) || (!d && *r < 0.0) {
            tally.correct += 1;
        }
    }
    Ok(tally)
}

fn ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    ids.collect::<Vec<_>>().join(", ")
}
