//! Held-out accuracy: greedy decoding of problems the policy never trains on.

use rlxf_core::SamplingParams;
use rlxf_data::{Split, TaskGenerator};
use rlxf_model::{ChatTokenizer, Sampler};
use rlxf_rewards::Reward;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::rollout::{is_correct, prepare, sample_and_score};

#[derive(Debug, Clone, Serialize)]
pub struct EvalSample {
    pub id: String,
    pub prompt: String,
    pub answer: Option<String>,
    pub completion: String,
    pub reward: f64,
    pub correct: bool,
    pub tokens: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalResult {
    pub accuracy: f64,
    pub mean_reward: f64,
    pub mean_tokens: f64,
    pub problems: usize,
    pub seconds: f64,
    #[serde(skip)]
    pub samples: Vec<EvalSample>,
}

pub fn evaluate(
    sampler: &Sampler<'_>,
    tokenizer: &ChatTokenizer,
    reward: &dyn Reward,
    task: &dyn TaskGenerator,
    system: Option<&str>,
    problems: usize,
    max_new_tokens: usize,
) -> Result<EvalResult, TrainError> {
    let start = std::time::Instant::now();
    // A data set's held-out split may be smaller than asked: each problem is evaluated once.
    let problems = task.len(Split::HeldOut).map_or(problems as u64, |n| n.min(problems as u64));
    let prompts = (0..problems)
        .map(|i| prepare(task.problem(Split::HeldOut, i), tokenizer, system))
        .collect::<Result<Vec<_>, _>>()?;
    // Greedy, so one completion per problem and the seed is irrelevant.
    let groups = sample_and_score(
        sampler,
        reward,
        prompts,
        1,
        &SamplingParams::greedy(max_new_tokens),
        |_, _| 0,
    )?;
    let samples: Vec<EvalSample> = groups
        .into_iter()
        .map(|g| EvalSample {
            id: g.prompt.problem.id.clone(),
            prompt: g.prompt.problem.prompt.clone(),
            answer: g.prompt.problem.answer.clone(),
            completion: g.completions[0].text.clone(),
            reward: g.scores[0].value,
            correct: is_correct(&g.scores[0]),
            tokens: g.completions[0].token_ids.len(),
        })
        .collect();
    let n = samples.len().max(1) as f64;
    Ok(EvalResult {
        accuracy: samples.iter().filter(|s| s.correct).count() as f64 / n,
        mean_reward: samples.iter().map(|s| s.reward).sum::<f64>() / n,
        mean_tokens: samples.iter().map(|s| s.tokens as f64).sum::<f64>() / n,
        problems: samples.len(),
        seconds: start.elapsed().as_secs_f64(),
        samples,
    })
}
