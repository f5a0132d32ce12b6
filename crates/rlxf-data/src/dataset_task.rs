//! A data set file as a training task: `{ kind = "dataset", path = "data/train.jsonl", ... }`.
//!
//! - Split: each problem's train / held-out side is a pure function of its content (prompt and
//!   answer, before any template or instruction), through [`split_of`]: duplicates never straddle
//!   the split, and the held-out side does not depend on the seed. With `held_out_path`, that file
//!   is the held-out side and training rows whose content it also holds are dropped (counted).
//! - Order: `problem(Train, i)` walks a seeded shuffle of the training rows, a new permutation
//!   each epoch (epoch `i / n`, permutation seeded by `(seed, epoch)`), so any index is valid and a
//!   resumed run sees exactly the problems the uninterrupted one would.
//! - Held out: `problem(HeldOut, i)` is the `i % n`-th held-out problem in file order; the index
//!   wraps around rather than fails, and `len(HeldOut)` tells callers the real size.
//! - Bad records fail the build with their count and the first few positions, unless
//!   `skip_bad_lines = true`, which loads the rest and logs a warning with the same list.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rlxf_core::Problem;
use serde::{Deserialize, Serialize};

use crate::data_files::load_problems;
use crate::error::DataError;
use crate::generator::TaskGenerator;
use crate::records::{FieldMap, Loaded};
use crate::split::{split_of, stable_hash, Split, DEFAULT_HELD_OUT_FRACTION};
use crate::template::PromptTemplate;

const KIND: &str = "dataset";

/// Bad records listed in the build error or warning; the rest are counted.
const LISTED_BAD_RECORDS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    /// A JSONL(.gz) or Parquet file, a folder of `.parquet` shards, or a pattern such as
    /// `data/train-*.parquet`; relative paths are relative to the working directory.
    pub path: PathBuf,
    #[serde(default)]
    pub fields: FieldMap,
    /// Seeds the order of training problems.
    #[serde(default)]
    pub seed: u64,
    /// Share of distinct problems held out for evaluation (default 0.1); not with `held_out_path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_fraction: Option<f64>,
    /// A separate held-out (test) file, read with the same `fields`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_path: Option<PathBuf>,
    /// Appended to every prompt after a space (e.g. "Put your final answer in \\boxed{}."); empty: none.
    #[serde(default)]
    pub instruction: String,
    /// Jinja template for the user message ([`PromptTemplate`]), applied before the instruction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Train without the records that cannot be mapped instead of failing (they are still logged).
    #[serde(default)]
    pub skip_bad_lines: bool,
}

/// What the build found, for the run log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasetCounts {
    pub train: usize,
    pub held_out: usize,
    /// Bad records left out (only with `skip_bad_lines`).
    pub skipped: usize,
    /// Training rows dropped because the held-out file holds the same problem.
    pub overlap_removed: usize,
}

impl fmt::Display for DatasetCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} train, {} held out", self.train, self.held_out)?;
        if self.overlap_removed > 0 {
            write!(
                f,
                ", {} training rows dropped as duplicates of held-out ones",
                self.overlap_removed
            )?;
        }
        if self.skipped > 0 {
            write!(f, ", {} bad records skipped", self.skipped)?;
        }
        Ok(())
    }
}

pub struct DatasetTask {
    config: DatasetConfig,
    train: Vec<Problem>,
    held_out: Vec<Problem>,
    counts: DatasetCounts,
    /// The last epoch's permutation: consecutive indices mostly fall in the same epoch.
    order: Mutex<Option<(u64, Arc<[u32]>)>>,
}

impl DatasetTask {
    /// Loads and splits the data; every problem in the files is checked here, so training never
    /// meets a bad record.
    pub fn new(config: DatasetConfig) -> Result<Self, DataError> {
        let fraction = match (config.held_out_fraction, &config.held_out_path) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    &config.path,
                    "both `held_out_fraction` and `held_out_path` are set",
                    "keep one: a fraction splits `path`, a file replaces the split",
                ))
            }
            (Some(f), None) if !(0.001..=0.999).contains(&f) => {
                return Err(DataError::invalid(
                    KIND,
                    "held_out_fraction",
                    f,
                    "use a value in [0.001, 0.999], e.g. 0.1",
                ))
            }
            (f, _) => f.unwrap_or(DEFAULT_HELD_OUT_FRACTION),
        };
        let template = config
            .template
            .as_deref()
            .map(PromptTemplate::new)
            .transpose()?;
        let rows = load_checked(&config.path, &config)?;
        let mut skipped = rows.skipped.len();
        let (mut train, mut held_out, mut overlap_removed) = (Vec::new(), Vec::new(), 0);
        match &config.held_out_path {
            Some(held_out_path) => {
                let held = load_checked(held_out_path, &config)?;
                skipped += held.skipped.len();
                let held_keys: std::collections::HashSet<String> =
                    held.problems.iter().map(content_key).collect();
                for p in rows.problems {
                    if held_keys.contains(&content_key(&p)) {
                        overlap_removed += 1;
                    } else {
                        train.push(p);
                    }
                }
                held_out = held.problems;
            }
            None => {
                for p in rows.problems {
                    match split_of(&content_key(&p), fraction) {
                        Split::Train => train.push(p),
                        Split::HeldOut => held_out.push(p),
                    }
                }
            }
        }
        for (split, problems) in [(Split::Train, &train), (Split::HeldOut, &held_out)] {
            if problems.is_empty() {
                return Err(invalid(
                    &config.path,
                    &format!(
                        "the {split} split is empty ({} train, {} held out)",
                        train.len(),
                        held_out.len()
                    ),
                    "use a larger data set, change `held_out_fraction`, or give `held_out_path`",
                ));
            }
        }
        for p in train.iter_mut().chain(held_out.iter_mut()) {
            if let Some(template) = &template {
                p.prompt = template.render(p)?;
            }
            if !config.instruction.is_empty() {
                p.prompt = format!("{} {}", p.prompt, config.instruction);
            }
        }
        let counts = DatasetCounts {
            train: train.len(),
            held_out: held_out.len(),
            skipped,
            overlap_removed,
        };
        tracing::info!("dataset {}: {counts}", config.path.display());
        Ok(Self {
            config,
            train,
            held_out,
            counts,
            order: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &DatasetConfig {
        &self.config
    }

    pub fn counts(&self) -> DatasetCounts {
        self.counts
    }

    /// The training permutation of `epoch`: Fisher-Yates driven by a ChaCha stream keyed by
    /// (seed, epoch), so it depends on nothing else.
    fn epoch_order(&self, epoch: u64) -> Arc<[u32]> {
        let mut cache = self
            .order
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((cached, order)) = cache.as_ref() {
            if *cached == epoch {
                return order.clone();
            }
        }
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.config.seed.to_le_bytes());
        key[8..16].copy_from_slice(&epoch.to_le_bytes());
        key[24..].copy_from_slice(&stable_hash(KIND.as_bytes()).to_le_bytes());
        let mut order: Vec<u32> = (0..self.train.len() as u32).collect();
        order.shuffle(&mut ChaCha8Rng::from_seed(key));
        let order: Arc<[u32]> = order.into();
        *cache = Some((epoch, order.clone()));
        order
    }
}

impl TaskGenerator for DatasetTask {
    fn name(&self) -> &str {
        KIND
    }

    fn problem(&self, split: Split, index: u64) -> Problem {
        match split {
            Split::Train => {
                let n = self.train.len() as u64;
                let order = self.epoch_order(index / n);
                self.train[order[(index % n) as usize] as usize].clone()
            }
            Split::HeldOut => self.held_out[(index % self.held_out.len() as u64) as usize].clone(),
        }
    }

    fn len(&self, split: Split) -> Option<u64> {
        Some(match split {
            Split::Train => self.train.len(),
            Split::HeldOut => self.held_out.len(),
        } as u64)
    }
}

/// What makes two rows the same problem: the mapped prompt and answer (the id and other columns
/// do not count, so a copy with another id still lands on the same side).
fn content_key(p: &Problem) -> String {
    format!("{}\u{1f}{}", p.prompt, p.answer.as_deref().unwrap_or(""))
}

fn load_checked(path: &Path, config: &DatasetConfig) -> Result<Loaded, DataError> {
    let loaded = load_problems(path, &config.fields)?;
    if !loaded.skipped.is_empty() {
        let mut first = loaded
            .skipped
            .iter()
            .take(LISTED_BAD_RECORDS)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        if loaded.skipped.len() > LISTED_BAD_RECORDS {
            first.push_str("; ...");
        }
        if !config.skip_bad_lines {
            return Err(DataError::BadRecords {
                path: path.to_path_buf(),
                count: loaded.skipped.len(),
                first,
            });
        }
        tracing::warn!(
            "{}: {} bad records skipped (first: {first})",
            path.display(),
            loaded.skipped.len()
        );
    }
    if loaded.problems.is_empty() {
        return Err(invalid(
            path,
            "no problems loaded",
            "check the path and the `fields` mapping",
        ));
    }
    Ok(loaded)
}

fn invalid(path: &Path, what: &str, fix: &str) -> DataError {
    DataError::Dataset {
        path: path.to_path_buf(),
        what: what.into(),
        fix: fix.into(),
    }
}
