//! The generator interface and the machinery every generator shares: seeding, split-aware
//! re-drawing, prompt assembly and config validation.

use std::ops::Range;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rlxf_core::Problem;
use serde_json::{json, Map, Value};

use crate::error::DataError;
use crate::split::{split_of, stable_hash, Split};

/// A deterministic source of problems: endless for the procedural generators, the rows of a file
/// for [`crate::DatasetTask`].
///
/// `problem(split, index)` depends only on the generator's config (seed included), `split` and
/// `index`, so any process can regenerate any problem without coordination. Problems of the two
/// splits never coincide (see [`crate::split`]).
pub trait TaskGenerator: Send + Sync {
    fn name(&self) -> &str;
    fn problem(&self, split: Split, index: u64) -> Problem;

    /// How many distinct problems `split` has: `None` for endless generators, `Some(n)` for data
    /// sets, whose indices wrap around past `n` (so evaluating `0..n` covers the split once).
    fn len(&self, split: Split) -> Option<u64> {
        let _ = split;
        None
    }

    fn problems(&self, split: Split, indices: Range<u64>) -> Vec<Problem> {
        indices.map(|i| self.problem(split, i)).collect()
    }
}

pub const DEFAULT_INSTRUCTION: &str = "Put your final answer in \\boxed{}.";

pub(crate) fn default_instruction() -> String {
    DEFAULT_INSTRUCTION.to_string()
}

/// One drawn problem before split filtering.
pub(crate) struct Draft {
    /// Canonical content: what makes two problems "the same" (operands, not names).
    pub key: String,
    pub question: String,
    pub answer: String,
    /// Generator-specific facts a verifier or analysis may need.
    pub metadata: Map<String, Value>,
}

/// Settings every generator has.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub kind: &'static str,
    pub seed: u64,
    pub instruction: String,
    pub held_out_fraction: f64,
}

/// Draws per problem before giving up. With a held-out fraction of at least 0.001 and a space
/// checked to contain both splits, running out means a bug, not bad luck.
const MAX_ATTEMPTS: u32 = 1_000_000;

impl Common {
    /// The shared settings of a generator of `kind`, validated.
    pub fn new(kind: &'static str, seed: u64, instruction: &str, held_out_fraction: f64) -> Result<Self, DataError> {
        let common = Self { kind, seed, instruction: instruction.to_string(), held_out_fraction };
        common.validate()?;
        Ok(common)
    }

    pub fn validate(&self) -> Result<(), DataError> {
        let f = self.held_out_fraction;
        if !(0.001..=0.999).contains(&f) {
            return Err(DataError::invalid(
                self.kind,
                "held_out_fraction",
                f,
                "use a value in [0.001, 0.999], e.g. 0.1",
            ));
        }
        Ok(())
    }

    /// The RNG for (seed, split, index): the tuple is laid out directly in the ChaCha key, so
    /// distinct tuples get independent streams.
    fn rng(&self, split: Split, index: u64) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&index.to_le_bytes());
        key[16] = match split {
            Split::Train => 0,
            Split::HeldOut => 1,
        };
        key[24..].copy_from_slice(&stable_hash(self.kind.as_bytes()).to_le_bytes());
        ChaCha8Rng::from_seed(key)
    }

    pub fn split_of(&self, key: &str) -> Split {
        split_of(&format!("{}|{key}", self.kind), self.held_out_fraction)
    }

    /// Draws until the problem belongs to `split` (deterministic: the re-draws continue the same
    /// RNG stream), then assembles the [`Problem`].
    pub fn generate(
        &self,
        split: Split,
        index: u64,
        mut draw: impl FnMut(&mut ChaCha8Rng) -> Draft,
    ) -> Problem {
        let mut rng = self.rng(split, index);
        for _ in 0..MAX_ATTEMPTS {
            let d = draw(&mut rng);
            if self.split_of(&d.key) == split {
                return self.assemble(split, index, d);
            }
        }
        panic!(
            "{}: no {split} problem in {MAX_ATTEMPTS} draws; the problem space is too small for this held_out_fraction",
            self.kind
        )
    }

    fn assemble(&self, split: Split, index: u64, d: Draft) -> Problem {
        let prompt = if self.instruction.is_empty() {
            d.question
        } else {
            format!("{} {}", d.question, self.instruction)
        };
        let mut metadata = Map::new();
        metadata.insert("generator".into(), json!(self.kind));
        metadata.insert("split".into(), json!(split.name()));
        metadata.insert("index".into(), json!(index));
        metadata.insert("key".into(), json!(d.key));
        metadata.extend(d.metadata);
        let mut p = Problem::new(
            format!("{}/{}/{index}", self.kind, split.name()),
            prompt,
            Some(d.answer),
        );
        p.metadata = Value::Object(metadata);
        p
    }

    /// For small problem spaces, checks by enumeration that both splits have a member, so
    /// [`Common::generate`] cannot loop forever. Larger spaces (over [`ENUMERATE_LIMIT`]) miss a
    /// split with probability below e^-200 at the smallest allowed fraction.
    pub fn check_space(
        &self,
        size: u64,
        keys: impl Iterator<Item = String>,
        fix: &'static str,
    ) -> Result<(), DataError> {
        if size > ENUMERATE_LIMIT {
            return Ok(());
        }
        let (mut train, mut held_out) = (false, false);
        for k in keys {
            match self.split_of(&k) {
                Split::Train => train = true,
                Split::HeldOut => held_out = true,
            }
            if train && held_out {
                return Ok(());
            }
        }
        let split = if held_out {
            Split::Train
        } else {
            Split::HeldOut
        };
        Err(DataError::SpaceTooSmall {
            generator: self.kind,
            size,
            split: split.name(),
            fix,
        })
    }
}

pub(crate) const ENUMERATE_LIMIT: u64 = 200_000;

/// `lo <= value <= hi` or an error naming the field and the allowed range.
pub(crate) fn check_range<T: PartialOrd + std::fmt::Debug + Copy>(
    kind: &'static str,
    field: &'static str,
    value: T,
    lo: T,
    hi: T,
) -> Result<(), DataError> {
    if value < lo || value > hi {
        return Err(DataError::invalid(
            kind,
            field,
            value,
            format!("use a value from {lo:?} to {hi:?}"),
        ));
    }
    Ok(())
}
