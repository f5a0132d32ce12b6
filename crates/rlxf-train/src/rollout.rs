//! One rollout round: problems -> chat prompts -> G completions each -> rewards per group.

use rlxf_core::{Completion, GenerationRequest, Problem, SamplingParams, Score};
use rlxf_model::{ChatMessage, ChatTokenizer, Sampler};
use rlxf_rewards::{Reward, ScoreInput};

use crate::error::TrainError;

/// A problem's prompt, rendered with the chat template and tokenized once.
pub struct PreparedPrompt {
    pub problem: Problem,
    pub text: String,
    pub ids: Vec<u32>,
}

pub fn prepare(
    problem: Problem,
    tokenizer: &ChatTokenizer,
    system: Option<&str>,
) -> Result<PreparedPrompt, TrainError> {
    let mut messages = Vec::with_capacity(2);
    if let Some(system) = problem.system.as_deref().or(system) {
        messages.push(ChatMessage::new("system", system));
    }
    messages.push(ChatMessage::new("user", &problem.prompt));
    let text = tokenizer.render_chat(&messages)?;
    let ids = tokenizer.encode(&text)?;
    Ok(PreparedPrompt { problem, text, ids })
}

/// All completions of one prompt with their scores.
pub struct ScoredGroup {
    pub prompt: PreparedPrompt,
    pub completions: Vec<Completion>,
    pub scores: Vec<Score>,
    /// Wall time the reward took for this group.
    pub scoring_seconds: f64,
}

/// Samples `group_size` completions per prompt (one batched call) and scores each group.
/// `seed_of(prompt_index, sample_index)` gives every sample its own seed.
pub fn sample_and_score(
    sampler: &Sampler<'_>,
    reward: &dyn Reward,
    prompts: Vec<PreparedPrompt>,
    group_size: usize,
    params: &SamplingParams,
    seed_of: impl Fn(usize, usize) -> u64,
) -> Result<Vec<ScoredGroup>, TrainError> {
    let requests: Vec<GenerationRequest> = prompts
        .iter()
        .enumerate()
        .flat_map(|(pi, p)| {
            let seed_of = &seed_of;
            (0..group_size).map(move |g| GenerationRequest {
                prompt_text: p.text.clone(),
                prompt_ids: p.ids.clone(),
                seed: seed_of(pi, g),
            })
        })
        .collect();
    let mut completions = sampler.generate_all(&requests, params)?.into_iter();
    let mut groups = Vec::with_capacity(prompts.len());
    for prompt in prompts {
        let completions: Vec<Completion> = completions.by_ref().take(group_size).collect();
        let inputs: Vec<ScoreInput<'_>> = completions
            .iter()
            .map(|c| ScoreInput::from_problem(&prompt.problem, c))
            .collect();
        let start = std::time::Instant::now();
        let scores = reward.score_group(&inputs);
        let scoring_seconds = start.elapsed().as_secs_f64();
        if scores.len() != completions.len() {
            return Err(TrainError::Reward(format!(
                "reward `{}` returned {} scores for {} completions",
                reward.name(),
                scores.len(),
                completions.len()
            )));
        }
        groups.push(ScoredGroup {
            prompt,
            completions,
            scores,
            scoring_seconds,
        });
    }
    Ok(groups)
}

/// Correctness of a score: its `accuracy` component (a verifier's own, or `<term>.accuracy` inside a
/// weighted sum), else reward > 0.5 for rewards that have no such component.
pub fn is_correct(score: &Score) -> bool {
    let accuracy = score
        .components
        .iter()
        .find(|(name, _)| *name == "accuracy" || name.ends_with(".accuracy"))
        .map(|(_, &v)| v);
    accuracy.unwrap_or(score.value) > 0.5
}
