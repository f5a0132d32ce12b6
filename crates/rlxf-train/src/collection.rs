//! Gathering a step's groups: one sampling round, or DAPO's dynamic sampling (rounds until enough
//! groups carry signal), and ReMax's greedy baselines. Statistics cover everything sampled, so the
//! step's reward and accuracy describe the policy, not the filter.

use rlxf_algos::{Collection, GroupAccumulator};
use rlxf_core::SamplingParams;
use rlxf_model::Sampler;
use rlxf_rewards::{Reward, ScoreInput};

use crate::error::TrainError;
use crate::rollout::{is_correct, ScoredGroup};

/// The groups the step trains on and what was sampled to get them.
pub struct Collected {
    pub groups: Vec<ScoredGroup>,
    /// Rewards of every completion sampled this step, kept or dropped.
    pub sampled_rewards: Vec<f64>,
    pub sampled_correct: usize,
    pub sampled_tokens: usize,
    pub sampled_truncated: usize,
    pub scoring_seconds: f64,
    /// Fraction of sampled groups whose rewards were not all equal.
    pub informative_fraction: f64,
    pub rounds: usize,
}

impl Collected {
    pub fn sampled(&self) -> usize {
        self.sampled_rewards.len()
    }
}

/// Without `max_rounds`, one round is the batch. With it, groups whose completions all got the same
/// reward are dropped and `sample_round` is called again until `target_groups` informative groups are
/// kept or `max_rounds` rounds are spent (then the step trains on what it has).
pub fn collect_groups(
    target_groups: usize,
    group_size: usize,
    max_rounds: Option<usize>,
    mut sample_round: impl FnMut() -> Result<Vec<ScoredGroup>, TrainError>,
) -> Result<Collected, TrainError> {
    let mut out = Collected {
        groups: Vec::new(),
        sampled_rewards: Vec::new(),
        sampled_correct: 0,
        sampled_tokens: 0,
        sampled_truncated: 0,
        scoring_seconds: 0.0,
        informative_fraction: 0.0,
        rounds: 0,
    };
    let advantage_error =
        |e: rlxf_algos::AdvantageError| TrainError::Other(format!("dynamic sampling: {e}"));
    let mut accumulator = match max_rounds {
        Some(rounds) => {
            Some(GroupAccumulator::new(target_groups, rounds).map_err(advantage_error)?)
        }
        None => None,
    };
    loop {
        let groups = sample_round()?;
        out.rounds += 1;
        let rewards: Vec<f64> = groups
            .iter()
            .flat_map(|g| g.scores.iter().map(|s| s.value))
            .collect();
        for g in &groups {
            out.sampled_correct += g.scores.iter().filter(|s| is_correct(s)).count();
            out.sampled_tokens += g
                .completions
                .iter()
                .map(|c| c.token_ids.len())
                .sum::<usize>();
            out.sampled_truncated += g.completions.iter().filter(|c| c.is_truncated()).count();
            out.scoring_seconds += g.scoring_seconds;
        }
        out.sampled_rewards.extend_from_slice(&rewards);
        let Some(acc) = accumulator.as_mut() else {
            let informative =
                rlxf_algos::informative_groups(&rewards, group_size).map_err(advantage_error)?;
            out.informative_fraction =
                informative.iter().filter(|&&x| x).count() as f64 / informative.len().max(1) as f64;
            out.groups = groups;
            return Ok(out);
        };
        match acc
            .offer(groups, &rewards, group_size)
            .map_err(advantage_error)?
        {
            Collection::NeedMore => continue,
            Collection::Full | Collection::RoundsExhausted => break,
        }
    }
    let acc = accumulator.expect("dynamic sampling has an accumulator");
    out.informative_fraction = acc.informative_fraction();
    out.groups = acc.finish();
    Ok(out)
}

/// ReMax's baseline: the reward of one greedy completion per group's prompt.
pub fn greedy_rewards(
    sampler: &Sampler<'_>,
    reward: &dyn Reward,
    groups: &[ScoredGroup],
    max_new_tokens: usize,
    stop: &[String],
) -> Result<Vec<f64>, TrainError> {
    let requests: Vec<rlxf_core::GenerationRequest> = groups
        .iter()
        .map(|g| rlxf_core::GenerationRequest {
            prompt_text: g.prompt.text.clone(),
            prompt_ids: g.prompt.ids.clone(),
            seed: 0,
        })
        .collect();
    let params = SamplingParams {
        stop: stop.to_vec(),
        ..SamplingParams::greedy(max_new_tokens)
    };
    let completions = sampler.generate_all(&requests, &params)?;
    groups
        .iter()
        .zip(&completions)
        .map(|(g, c)| {
            let scores = reward.score_group(&[ScoreInput::from_problem(&g.prompt.problem, c)]);
            scores.first().map(|s| s.value).ok_or_else(|| {
                TrainError::Reward(format!(
                    "reward `{}` returned no score for a greedy completion",
                    reward.name()
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollout::PreparedPrompt;
    use rlxf_core::{Completion, FinishReason, Problem, Score};
    use serde_json::Value;

    fn group(rewards: &[f64]) -> ScoredGroup {
        let problem = Problem {
            id: "p".into(),
            prompt: "q".into(),
            system: None,
            answer: Some("1".into()),
            metadata: Value::Null,
        };
        ScoredGroup {
            prompt: PreparedPrompt {
                problem,
                text: "q".into(),
                ids: vec![1],
            },
            completions: rewards
                .iter()
                .map(|_| Completion {
                    text: "a".into(),
                    token_ids: vec![5, 6],
                    logprobs: vec![-1.0, -1.0],
                    finish: FinishReason::Eos,
                })
                .collect(),
            scores: rewards.iter().map(|&r| Score::scalar(r)).collect(),
            scoring_seconds: 0.0,
        }
    }

    #[test]
    fn one_round_keeps_everything() {
        let c = collect_groups(2, 2, None, || {
            Ok(vec![group(&[1.0, 1.0]), group(&[1.0, 0.0])])
        })
        .unwrap();
        assert_eq!((c.groups.len(), c.rounds, c.sampled()), (2, 1, 4));
        assert_eq!(c.informative_fraction, 0.5);
        assert_eq!(c.sampled_tokens, 8);
    }

    #[test]
    fn dynamic_sampling_drops_flat_groups_until_full() {
        let mut rounds = vec![
            vec![group(&[1.0, 1.0]), group(&[1.0, 0.0])],
            vec![group(&[0.0, 0.0]), group(&[0.0, 0.0])],
            vec![group(&[0.0, 1.0]), group(&[0.5, 0.0])],
        ]
        .into_iter();
        let c = collect_groups(2, 2, Some(5), || Ok(rounds.next().unwrap())).unwrap();
        assert_eq!(c.rounds, 3);
        assert_eq!(c.groups.len(), 2);
        assert_eq!(c.sampled(), 12);
        assert_eq!(c.informative_fraction, 3.0 / 6.0);
        assert!(c
            .groups
            .iter()
            .all(|g| g.scores[0].value != g.scores[1].value));
    }

    #[test]
    fn dynamic_sampling_stops_at_the_round_cap() {
        let c = collect_groups(2, 2, Some(2), || {
            Ok(vec![group(&[1.0, 1.0]), group(&[0.0, 1.0])])
        })
        .unwrap();
        assert_eq!((c.rounds, c.groups.len()), (2, 2));
        let c = collect_groups(3, 2, Some(2), || {
            Ok(vec![group(&[1.0, 1.0]), group(&[0.0, 1.0])])
        })
        .unwrap();
        assert_eq!((c.rounds, c.groups.len()), (2, 2));
    }
}
