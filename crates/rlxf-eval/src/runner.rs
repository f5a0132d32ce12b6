//! Sampling k completions per problem, scoring them, and reducing them to metrics.

use std::path::Path;
use std::time::Instant;

use rlxf_core::{Problem, SamplingParams};
use rlxf_data::Skipped;
use rlxf_model::{ChatTokenizer, Sampler};
use rlxf_rewards::math::{equivalent, MathOptions};
use rlxf_rewards::sample_metrics::majority_vote;
use rlxf_rewards::Reward;
use rlxf_train::rollout::{is_correct, prepare, sample_and_score, ScoredGroup};
use rlxf_train::TrainError;
use serde::Serialize;

use crate::suite::{EvalSuite, SuiteError};
use crate::summary::{aggregate, ProblemMetrics, SummaryRow};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Suite(#[from] SuiteError),
    #[error(transparent)]
    Generation(#[from] TrainError),
    #[error("{}: {source}", path.display())]
    Io { path: std::path::PathBuf, source: std::io::Error },
}

#[derive(Debug, Clone)]
pub struct EvalSettings {
    /// Completions per problem (k).
    pub samples: usize,
    pub sampling: SamplingParams,
    pub seed: u64,
    pub limit: Option<usize>,
    pub system_prompt: Option<String>,
    /// Problems sampled per batch call (each with `samples` completions).
    pub problems_per_batch: usize,
}

/// One completion with its score, a line of `samples.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRecord {
    pub id: String,
    pub sample: usize,
    /// The user message (so `rlxf make-pairs --from` can pair samples without the suite).
    pub prompt: String,
    pub completion: String,
    pub reward: f64,
    pub correct: bool,
    pub tokens: usize,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    pub components: std::collections::BTreeMap<String, f64>,
}

pub struct EvalOutput {
    pub problems: Vec<ProblemMetrics>,
    pub samples: Vec<SampleRecord>,
    pub rows: Vec<SummaryRow>,
    pub skipped: Vec<Skipped>,
    pub seconds: f64,
}

/// Runs the suite; `progress(done, total)` is called after each batch of problems.
pub fn evaluate_suite(
    suite: &EvalSuite,
    sampler: &Sampler<'_>,
    tokenizer: &ChatTokenizer,
    reward: &dyn Reward,
    settings: &EvalSettings,
    mut progress: impl FnMut(usize, usize),
) -> Result<EvalOutput, EvalError> {
    let start = Instant::now();
    let (problems, skipped) = suite.load(settings.limit)?;
    let total = problems.len();
    let mut metrics = Vec::with_capacity(total);
    let mut samples = Vec::with_capacity(total * settings.samples);
    let mut offset = 0;
    for chunk in problems.chunks(settings.problems_per_batch.max(1)) {
        let prompts = chunk
            .iter()
            .map(|p| prepare(p.clone(), tokenizer, settings.system_prompt.as_deref()))
            .collect::<Result<Vec<_>, _>>()?;
        let base = offset;
        let groups = sample_and_score(sampler, reward, prompts, settings.samples, &settings.sampling, |p, g| {
            sample_seed(settings.seed, base + p, g)
        })?;
        for group in &groups {
            let (m, s) = reduce(suite, group);
            metrics.push(m);
            samples.extend(s);
        }
        offset += chunk.len();
        progress(offset, total);
    }
    let rows = aggregate(&metrics, suite.majority.is_some());
    Ok(EvalOutput { problems: metrics, samples, rows, skipped, seconds: start.elapsed().as_secs_f64() })
}

/// Seed of sample `g` of problem `p`: fixed by the eval seed, so a rerun samples the same.
fn sample_seed(seed: u64, p: usize, g: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((p as u64) << 20 | g as u64)
}

fn group_of(problem: &Problem, field: Option<&str>) -> Option<String> {
    let value = problem.metadata.get(field?)?;
    Some(value.as_str().map_or_else(|| value.to_string(), str::to_string))
}

fn reduce(suite: &EvalSuite, group: &ScoredGroup) -> (ProblemMetrics, Vec<SampleRecord>) {
    let problem = &group.prompt.problem;
    let answers: Vec<Option<String>> = group
        .completions
        .iter()
        .map(|c| suite.majority.as_ref().and_then(|policy| policy.extract(&c.text).map(|e| e.answer.to_string())))
        .collect();
    let records: Vec<SampleRecord> = group
        .completions
        .iter()
        .zip(&group.scores)
        .zip(&answers)
        .enumerate()
        .map(|(i, ((c, s), answer))| SampleRecord {
            id: problem.id.clone(),
            sample: i,
            prompt: problem.prompt.clone(),
            completion: c.text.clone(),
            reward: s.value,
            correct: is_correct(s),
            tokens: c.token_ids.len(),
            truncated: c.is_truncated(),
            answer: answer.clone(),
            components: s.components.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        })
        .collect();
    let majority_correct = suite.majority.as_ref().map(|_| {
        let options = MathOptions::default();
        majority_vote(&answers, |a, b| equivalent(a, b, &options)).is_some_and(|i| records[i].correct)
    });
    let n = records.len().max(1) as f64;
    let metrics = ProblemMetrics {
        id: problem.id.clone(),
        group: group_of(problem, suite.group_by.as_deref()),
        samples: records.len(),
        correct: records.iter().filter(|r| r.correct).count(),
        mean_reward: records.iter().map(|r| r.reward).sum::<f64>() / n,
        mean_tokens: records.iter().map(|r| r.tokens as f64).sum::<f64>() / n,
        truncated: records.iter().filter(|r| r.truncated).count(),
        majority_correct,
    };
    (metrics, records)
}

/// Writes `samples.jsonl`, `problems.jsonl`, `summary.json` and `summary.md` into `dir`.
pub fn write_outputs(dir: &Path, suite: &EvalSuite, settings: &EvalSettings, output: &EvalOutput, model: &Path) -> Result<(), EvalError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| EvalError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::write(dir.join("samples.jsonl"), jsonl(&output.samples)).map_err(io(&dir.join("samples.jsonl")))?;
    std::fs::write(dir.join("problems.jsonl"), jsonl(&output.problems)).map_err(io(&dir.join("problems.jsonl")))?;
    let summary = serde_json::json!({
        "suite": suite.name,
        "data": suite.data,
        "model": model,
        "samples_per_problem": settings.samples,
        "temperature": settings.sampling.temperature,
        "top_p": settings.sampling.top_p,
        "max_new_tokens": settings.sampling.max_new_tokens,
        "seed": settings.seed,
        "seconds": output.seconds,
        "skipped_lines": output.skipped.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "rows": output.rows,
    });
    let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
    std::fs::write(dir.join("summary.json"), text).map_err(io(&dir.join("summary.json")))?;
    let table = crate::summary::render_table(&output.rows);
    std::fs::write(dir.join("summary.md"), table).map_err(io(&dir.join("summary.md")))?;
    Ok(())
}

fn jsonl<T: Serialize>(rows: &[T]) -> String {
    rows.iter().map(|r| serde_json::to_string(r).unwrap_or_default() + "\n").collect()
}
