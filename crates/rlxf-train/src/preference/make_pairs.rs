//! Preference pairs from scored samples, with no external data: for each problem, verified-correct
//! completions (chosen) are paired with verified-wrong ones (rejected). Samples come from the recipe's
//! own model, sampling settings and reward on the task's training split, or from the per-sample JSONL
//! `rlxf eval` writes.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use rlxf_data::{read_records, Skipped, Split};
use rlxf_model::{runtime, ChatTokenizer, DType, LanguageModel, Sampler};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::rollout::{is_correct, prepare, sample_and_score};

/// One scored completion.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredSample {
    pub completion: String,
    pub reward: f64,
    pub correct: bool,
}

/// The samples of one problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemSamples {
    pub id: String,
    pub system: Option<String>,
    pub prompt: String,
    pub answer: Option<String>,
    pub samples: Vec<ScoredSample>,
}

/// A line of the pair file (the pair loader reads `prompt`, `chosen`, `rejected`, `system`, `id`;
/// the rest is for reading).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairRecord {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub prompt: String,
    pub chosen: String,
    pub rejected: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    pub chosen_reward: f64,
    pub rejected_reward: f64,
}

/// A line of the KTO file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledRecord {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub prompt: String,
    pub completion: String,
    pub label: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    pub reward: f64,
}

/// What pairing found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PairingCounts {
    pub problems: usize,
    /// Problems with at least one correct and one wrong distinct completion.
    pub with_both: usize,
    pub only_correct: usize,
    pub only_wrong: usize,
    pub pairs: usize,
    pub labelled: usize,
    /// Samples dropped as repeats of an earlier completion of the same problem.
    pub duplicates: usize,
}

impl std::fmt::Display for PairingCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} problems: {} with correct and wrong completions, {} only correct, {} only wrong; {} pairs, {} labelled examples ({} duplicate completions dropped)",
            self.problems, self.with_both, self.only_correct, self.only_wrong, self.pairs, self.labelled, self.duplicates
        )
    }
}

/// Distinct completions (first occurrence kept) split into (correct, wrong), each ordered by reward
/// (best correct first, worst wrong first; ties keep sample order).
fn distinct_by_verdict(
    samples: &[ScoredSample],
) -> (Vec<&ScoredSample>, Vec<&ScoredSample>, usize) {
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    let (mut correct, mut wrong) = (Vec::new(), Vec::new());
    for s in samples {
        if !seen.insert(s.completion.trim()) {
            duplicates += 1;
        } else if s.correct {
            correct.push(s);
        } else {
            wrong.push(s);
        }
    }
    correct.sort_by(|a, b| b.reward.total_cmp(&a.reward));
    wrong.sort_by(|a, b| a.reward.total_cmp(&b.reward));
    (correct, wrong, duplicates)
}

/// Up to `max_pairs` pairs of one problem, each (chosen, rejected) combination at most once, taken
/// along anti-diagonals so the pairs spread over different completions before reusing one; and up to
/// `max_pairs` labelled examples of each kind.
pub fn pair_problem(
    p: &ProblemSamples,
    max_pairs: usize,
) -> (Vec<PairRecord>, Vec<LabelledRecord>, usize) {
    let (correct, wrong, duplicates) = distinct_by_verdict(&p.samples);
    let mut combos: Vec<(usize, usize)> = (0..correct.len())
        .flat_map(|c| (0..wrong.len()).map(move |w| (c, w)))
        .collect();
    combos.sort_by_key(|&(c, w)| (c + w, c));
    let pairs = combos
        .into_iter()
        .take(max_pairs)
        .map(|(c, w)| PairRecord {
            id: p.id.clone(),
            system: p.system.clone(),
            prompt: p.prompt.clone(),
            chosen: correct[c].completion.clone(),
            rejected: wrong[w].completion.clone(),
            answer: p.answer.clone(),
            chosen_reward: correct[c].reward,
            rejected_reward: wrong[w].reward,
        })
        .collect();
    let labelled = correct
        .iter()
        .take(max_pairs)
        .chain(wrong.iter().take(max_pairs))
        .map(|s| LabelledRecord {
            id: p.id.clone(),
            system: p.system.clone(),
            prompt: p.prompt.clone(),
            completion: s.completion.clone(),
            label: s.correct,
            answer: p.answer.clone(),
            reward: s.reward,
        })
        .collect();
    (pairs, labelled, duplicates)
}

/// Pairs and labelled examples of every problem, with the counts.
pub fn pair_all(
    problems: &[ProblemSamples],
    max_pairs: usize,
) -> (Vec<PairRecord>, Vec<LabelledRecord>, PairingCounts) {
    let mut counts = PairingCounts {
        problems: problems.len(),
        ..PairingCounts::default()
    };
    let (mut pairs, mut labelled) = (Vec::new(), Vec::new());
    for p in problems {
        let (pp, ll, duplicates) = pair_problem(p, max_pairs);
        counts.duplicates += duplicates;
        let any_correct = p.samples.iter().any(|s| s.correct);
        let any_wrong = p.samples.iter().any(|s| !s.correct);
        match (any_correct, any_wrong) {
            (true, true) => counts.with_both += 1,
            (true, false) => counts.only_correct += 1,
            (false, true) => counts.only_wrong += 1,
            (false, false) => {}
        }
        counts.pairs += pp.len();
        counts.labelled += ll.len();
        pairs.extend(pp);
        labelled.extend(ll);
    }
    (pairs, labelled, counts)
}

/// Samples `samples` completions for each of the first `problems` training problems of the
/// recipe's task with its model, sampling settings and reward.
pub fn sample_problems(
    config: &TrainConfig,
    problems: usize,
    samples: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<ProblemSamples>, TrainError> {
    if problems == 0 || samples < 2 {
        return Err(TrainError::Other(
            "make-pairs needs --problems >= 1 and --samples >= 2 (a pair compares two completions)"
                .into(),
        ));
    }
    runtime::set_threads(config.model.threads);
    runtime::check_torch_version()?;
    let device = runtime::parse_device(&config.model.device)?;
    let kind = config
        .model
        .dtype
        .parse::<DType>()
        .map_err(TrainError::Other)?
        .kind();
    let crate::run_inputs::RunInputs { reward, task } =
        crate::run_inputs::RunInputs::build(config)?;
    let model = LanguageModel::load(&config.model.path, device, kind)?;
    let tokenizer = ChatTokenizer::from_dir(&config.model.path, &model.config.eos_token_ids)?;
    let sampler = Sampler { max_batch: config.model.generation_batch, ..Sampler::new(&model, &tokenizer) };
    let per_call = (config.model.generation_batch / samples).max(1);
    let mut out = Vec::with_capacity(problems);
    for start in (0..problems).step_by(per_call) {
        let end = (start + per_call).min(problems);
        let prompts = (start..end)
            .map(|i| {
                prepare(
                    task.problem(Split::Train, i as u64),
                    &tokenizer,
                    config.data.system_prompt.as_deref(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let groups = sample_and_score(
            &sampler,
            reward.as_ref(),
            prompts,
            samples,
            &config.sampling,
            |p, g| sample_seed(config.seed, (start + p) as u64, g as u64),
        )?;
        for g in groups {
            let samples = g
                .completions
                .iter()
                .zip(&g.scores)
                .map(|(c, s)| ScoredSample {
                    completion: c.text.clone(),
                    reward: s.value,
                    correct: is_correct(s),
                })
                .collect();
            let problem = g.prompt.problem;
            out.push(ProblemSamples {
                id: problem.id,
                system: problem.system,
                prompt: problem.prompt,
                answer: problem.answer,
                samples,
            });
        }
        progress(end, problems);
    }
    Ok(out)
}

/// Seed of sample `g` of problem `p`: fixed by the run seed, unrelated across neighbours.
fn sample_seed(seed: u64, p: u64, g: u64) -> u64 {
    let mut x =
        seed ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ g.wrapping_mul(0xD1B5_4A32_D192_ED03);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A line of `rlxf eval`'s per-sample JSONL (fields this module needs).
#[derive(Deserialize)]
struct EvalSampleLine {
    id: String,
    prompt: Option<String>,
    completion: String,
    reward: f64,
    correct: bool,
    #[serde(default)]
    answer: Option<String>,
}

/// Groups `rlxf eval`'s per-sample JSONL by problem id (first-appearance order). Lines without a
/// `prompt` (files written before rlxf eval recorded it) or otherwise bad are returned as skipped.
pub fn read_eval_samples(path: &Path) -> Result<(Vec<ProblemSamples>, Vec<Skipped>), TrainError> {
    let file = std::fs::File::open(path).map_err(|e| TrainError::io(path, e))?;
    let (lines, skipped) = read_records(std::io::BufReader::new(file), path, |text, _| {
        let line: EvalSampleLine = serde_json::from_str(text)
            .map_err(|e| format!("not an rlxf eval sample line ({e})"))?;
        match line.prompt {
            Some(_) => Ok(line),
            None => Err(
                "no `prompt` field: re-run `rlxf eval` (it records the prompt of each sample)"
                    .into(),
            ),
        }
    })
    .map_err(|e| TrainError::Other(e.to_string()))?;
    let mut out: Vec<ProblemSamples> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for l in lines {
        let i = *index.entry(l.id.clone()).or_insert_with(|| {
            out.push(ProblemSamples {
                id: l.id.clone(),
                system: None,
                prompt: l.prompt.clone().unwrap_or_default(),
                answer: None,
                samples: Vec::new(),
            });
            out.len() - 1
        });
        // The answer field of an eval line is the extracted answer, not the reference; keep the first.
        out[i].answer = out[i]
            .answer
            .take()
            .or(if l.correct { l.answer.clone() } else { None });
        out[i].samples.push(ScoredSample {
            completion: l.completion,
            reward: l.reward,
            correct: l.correct,
        });
    }
    Ok((out, skipped))
}

/// Writes records as JSON Lines (through a temporary file and a rename).
pub fn write_jsonl<T: Serialize>(path: &Path, records: &[T]) -> Result<(), TrainError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| TrainError::io(parent, e))?;
    }
    let tmp = path.with_extension("jsonl.tmp");
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| TrainError::io(&tmp, e))?);
    for r in records {
        let line = serde_json::to_string(r).map_err(|e| TrainError::Other(e.to_string()))?;
        writeln!(out, "{line}").map_err(|e| TrainError::io(&tmp, e))?;
    }
    out.flush().map_err(|e| TrainError::io(&tmp, e))?;
    drop(out);
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str, reward: f64, correct: bool) -> ScoredSample {
        ScoredSample {
            completion: text.into(),
            reward,
            correct,
        }
    }

    fn problem(samples: Vec<ScoredSample>) -> ProblemSamples {
        ProblemSamples {
            id: "p1".into(),
            system: None,
            prompt: "What is 2+2?".into(),
            answer: Some("4".into()),
            samples,
        }
    }

    #[test]
    fn pairs_correct_with_wrong_capped_and_deduplicated() {
        let p = problem(vec![
            s("4", 1.0, true),
            s("5", 0.0, false),
            s(" 4 ", 1.0, true), // same text after trimming: a duplicate
            s("The answer is 4", 1.0, true),
            s("3", 0.0, false),
            s("5", 0.0, false),
        ]);
        let (pairs, labelled, duplicates) = pair_problem(&p, 2);
        assert_eq!(duplicates, 2);
        let got: Vec<(&str, &str)> = pairs
            .iter()
            .map(|r| (r.chosen.as_str(), r.rejected.as_str()))
            .collect();
        // Anti-diagonal order: (c0, w0), then (c0, w1) before (c1, w0).
        assert_eq!(got, vec![("4", "5"), ("4", "3")]);
        assert_eq!(
            labelled
                .iter()
                .map(|l| (l.completion.as_str(), l.label))
                .collect::<Vec<_>>(),
            vec![
                ("4", true),
                ("The answer is 4", true),
                ("5", false),
                ("3", false)
            ]
        );
        let (all, _, _) = pair_problem(&p, 10);
        assert_eq!(all.len(), 4, "2 distinct correct x 2 distinct wrong");
        let distinct: HashSet<(String, String)> = all
            .iter()
            .map(|r| (r.chosen.clone(), r.rejected.clone()))
            .collect();
        assert_eq!(distinct.len(), 4);
        assert!(all.iter().all(|r| r.chosen_reward == 1.0
            && r.rejected_reward == 0.0
            && r.answer.as_deref() == Some("4")));
    }

    #[test]
    fn best_correct_and_worst_wrong_come_first() {
        let p = problem(vec![
            s("a", 0.6, true),
            s("b", 0.9, true),
            s("c", 0.4, false),
            s("d", -1.0, false),
        ]);
        let (pairs, _, _) = pair_problem(&p, 1);
        assert_eq!(
            (pairs[0].chosen.as_str(), pairs[0].rejected.as_str()),
            ("b", "d")
        );
    }

    #[test]
    fn problems_with_one_kind_give_no_pairs_and_are_counted() {
        let problems = vec![
            problem(vec![s("4", 1.0, true), s("4.0", 1.0, true)]),
            problem(vec![s("5", 0.0, false)]),
            problem(vec![s("4", 1.0, true), s("7", 0.0, false)]),
            problem(vec![]),
        ];
        let (pairs, labelled, counts) = pair_all(&problems, 2);
        assert_eq!(pairs.len(), 1);
        assert_eq!(labelled.len(), 5);
        assert_eq!(
            counts,
            PairingCounts {
                problems: 4,
                with_both: 1,
                only_correct: 1,
                only_wrong: 1,
                pairs: 1,
                labelled: 5,
                duplicates: 0
            }
        );
        assert!(counts
            .to_string()
            .starts_with("4 problems: 1 with correct and wrong"));
    }

    #[test]
    fn eval_samples_group_by_id_and_report_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.jsonl");
        std::fs::write(
            &path,
            concat!(
                r#"{"id":"a","sample":0,"prompt":"1+1?","completion":"2","reward":1.0,"correct":true,"tokens":1,"truncated":false,"answer":"2","components":{}}"#, "\n",
                r#"{"id":"b","sample":0,"prompt":"2+2?","completion":"5","reward":0.0,"correct":false,"tokens":1,"truncated":false,"components":{}}"#, "\n",
                r#"{"id":"a","sample":1,"prompt":"1+1?","completion":"3","reward":0.0,"correct":false,"tokens":1,"truncated":false,"components":{}}"#, "\n",
                r#"{"id":"c","sample":0,"completion":"3","reward":0.0,"correct":false}"#, "\n",
                "garbage\n",
            ),
        )
        .unwrap();
        let (problems, skipped) = read_eval_samples(&path).unwrap();
        assert_eq!(
            problems
                .iter()
                .map(|p| (p.id.as_str(), p.samples.len()))
                .collect::<Vec<_>>(),
            vec![("a", 2), ("b", 1)]
        );
        assert_eq!(problems[0].prompt, "1+1?");
        assert_eq!(
            skipped.iter().map(|s| s.line).collect::<Vec<_>>(),
            vec![4, 5]
        );
        assert!(skipped[0].reason.contains("no `prompt`"));
        let (pairs, _, _) = pair_all(&problems, 2);
        assert_eq!(pairs.len(), 1);
        assert_eq!(
            (pairs[0].chosen.as_str(), pairs[0].rejected.as_str()),
            ("2", "3")
        );
    }
}
