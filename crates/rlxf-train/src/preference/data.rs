//! Preference data as token ids: each prompt rendered with the model's chat template (as rollout
//! prompts are), each completion tokenized after it, cut to `max_length`.

use rlxf_core::Problem;
use rlxf_data::{LabelledCompletion, PreferencePair, Skipped};
use rlxf_model::ChatTokenizer;

use crate::config::ConfigError;
use crate::error::TrainError;
use crate::rollout::prepare;

use super::config::PreferenceSection;
use super::objective::PreferenceObjective;

/// A pair as the model sees it.
#[derive(Debug, Clone)]
pub struct EncodedPair {
    pub id: String,
    pub prompt: Vec<u32>,
    pub chosen: Vec<u32>,
    pub rejected: Vec<u32>,
    pub margin: Option<f64>,
}

/// A KTO example, with the completion of another example for its reference-point (KL) estimate.
#[derive(Debug, Clone)]
pub struct EncodedExample {
    pub id: String,
    pub prompt: Vec<u32>,
    pub completion: Vec<u32>,
    pub desirable: bool,
    /// A completion of a different example, scored against this prompt (mismatched pair).
    pub kl_completion: Vec<u32>,
}

/// The training or held-out side of the data.
#[derive(Debug, Clone)]
pub enum PreferenceSet {
    Pairs(Vec<EncodedPair>),
    Examples(Vec<EncodedExample>),
}

impl PreferenceSet {
    pub fn len(&self) -> usize {
        match self {
            Self::Pairs(p) => p.len(),
            Self::Examples(e) => e.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How completions are turned into ids.
#[derive(Clone, Copy)]
pub struct Encoding<'a> {
    pub tokenizer: &'a ChatTokenizer,
    pub default_system: Option<&'a str>,
    /// Append the end-of-turn token (policy objectives: a completion ends where the sampler would
    /// stop). Reward models score the text alone.
    pub end_of_turn: bool,
    pub max_length: usize,
}

/// Counts of what encoding changed, for the run's report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EncodingReport {
    /// Completions cut to fit `max_length`.
    pub truncated: usize,
    /// Records dropped because the prompt alone fills `max_length`.
    pub too_long: usize,
}

impl Encoding<'_> {
    pub fn prompt(&self, system: Option<&str>, prompt: &str) -> Result<Vec<u32>, TrainError> {
        let mut problem = Problem::new("", prompt, None);
        problem.system = system.map(str::to_owned);
        Ok(prepare(problem, self.tokenizer, self.default_system)?.ids)
    }

    /// Completion ids, cut so prompt + completion fit; `None` when the prompt leaves no room.
    pub fn completion(
        &self,
        prompt_len: usize,
        text: &str,
        report: &mut EncodingReport,
    ) -> Result<Option<Vec<u32>>, TrainError> {
        if prompt_len >= self.max_length {
            return Ok(None);
        }
        let mut ids = self.tokenizer.encode(text)?;
        if self.end_of_turn {
            if let Some(&eos) = self.tokenizer.eos_ids().first() {
                ids.push(eos);
            }
        }
        let room = self.max_length - prompt_len;
        if ids.len() > room {
            ids.truncate(room);
            report.truncated += 1;
        }
        // An empty completion still needs one scored position: the model's first token choice.
        Ok(Some(ids))
    }
}

pub fn encode_pairs(
    pairs: &[PreferencePair],
    enc: &Encoding<'_>,
    report: &mut EncodingReport,
) -> Result<Vec<EncodedPair>, TrainError> {
    let mut out = Vec::with_capacity(pairs.len());
    for p in pairs {
        let prompt = enc.prompt(p.system.as_deref(), &p.prompt)?;
        let chosen = enc.completion(prompt.len(), &p.chosen, report)?;
        let rejected = enc.completion(prompt.len(), &p.rejected, report)?;
        match (chosen, rejected) {
            (Some(chosen), Some(rejected)) => out.push(EncodedPair {
                id: p.id.clone(),
                prompt,
                chosen,
                rejected,
                margin: p.margin,
            }),
            _ => report.too_long += 1,
        }
    }
    Ok(out)
}

/// Encodes KTO examples; example i's mismatched completion is example i+1's (cyclically), as TRL
/// pairs each prompt with another example's completion.
pub fn encode_examples(
    examples: &[LabelledCompletion],
    enc: &Encoding<'_>,
    report: &mut EncodingReport,
) -> Result<Vec<EncodedExample>, TrainError> {
    let mut out: Vec<EncodedExample> = Vec::with_capacity(examples.len());
    for e in examples {
        let prompt = enc.prompt(e.system.as_deref(), &e.prompt)?;
        match enc.completion(prompt.len(), &e.completion, report)? {
            Some(completion) => out.push(EncodedExample {
                id: e.id.clone(),
                prompt,
                completion,
                desirable: e.desirable,
                kl_completion: Vec::new(),
            }),
            None => report.too_long += 1,
        }
    }
    let n = out.len();
    for i in 0..n {
        let mut other = out[(i + 1) % n].completion.clone();
        let room = enc.max_length.saturating_sub(out[i].prompt.len()).max(1);
        other.truncate(room);
        out[i].kl_completion = other;
    }
    Ok(out)
}

/// One line per skipped record: the loader's reasons, for the run log.
pub fn describe_skipped(skipped: &[Skipped]) -> Vec<String> {
    skipped.iter().map(|s| s.to_string()).collect()
}

/// Loads, encodes and splits the data file; fails with one line when nothing trainable is left.
pub(crate) fn load_data(
    section: &PreferenceSection,
    objective: &PreferenceObjective,
    encoding: &Encoding<'_>,
) -> Result<(PreferenceSet, PreferenceSet, usize, EncodingReport), TrainError> {
    let path = &section.data;
    let what = if objective.uses_examples() {
        "{prompt, completion, label} examples"
    } else {
        "{prompt, chosen, rejected} pairs"
    };
    let fail = |m: String| {
        TrainError::Config(ConfigError::Invalid(format!(
            "preference.data {}: {m}",
            path.display()
        )))
    };
    let mut report = EncodingReport::default();
    let (loaded, skipped) = if objective.uses_examples() {
        let l =
            rlxf_data::load_labelled(path, &section.kto_fields).map_err(|e| fail(e.to_string()))?;
        let (train, held) = rlxf_data::split_held_out(l.records, section.held_out_fraction);
        let (train, held) = (
            encode_examples(&train, encoding, &mut report)?,
            encode_examples(&held, encoding, &mut report)?,
        );
        (
            (
                PreferenceSet::Examples(train),
                PreferenceSet::Examples(held),
            ),
            l.skipped,
        )
    } else {
        let l =
            rlxf_data::load_pairs(path, &section.pair_fields).map_err(|e| fail(e.to_string()))?;
        let (train, held) = rlxf_data::split_held_out(l.records, section.held_out_fraction);
        let (train, held) = (
            encode_pairs(&train, encoding, &mut report)?,
            encode_pairs(&held, encoding, &mut report)?,
        );
        (
            (PreferenceSet::Pairs(train), PreferenceSet::Pairs(held)),
            l.skipped,
        )
    };
    for s in &skipped {
        eprintln!("warning: {s}");
    }
    let (train, held_out) = loaded;
    if train.is_empty() && held_out.is_empty() {
        let first = skipped
            .first()
            .map(|s| format!("; first bad line: {s}"))
            .unwrap_or_default();
        return Err(fail(format!(
            "no usable {what} ({} lines skipped, {} too long for preference.max_length){first}",
            skipped.len(),
            report.too_long
        )));
    }
    if train.is_empty() {
        return Err(fail(format!(
            "all {} items fell in the held-out split: lower preference.held_out_fraction",
            held_out.len()
        )));
    }
    if objective.uses_examples() && train.len() < 2 {
        return Err(fail("kto needs at least 2 training examples (its reference point pairs each prompt with another example's completion)".into()));
    }
    if report.too_long > 0 || report.truncated > 0 {
        eprintln!(
            "warning: {} items dropped (prompt longer than preference.max_length = {}), {} completions cut to fit",
            report.too_long, section.max_length, report.truncated
        );
    }
    Ok((train, held_out, skipped.len(), report))
}
