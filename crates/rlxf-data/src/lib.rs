//! Problem sources for rlxf. Pure Rust (no tensors).
//!
//! - [`TaskGenerator`]: deterministic synthetic tasks (`arithmetic`, `word_problems`,
//!   `countdown`, `sorting`) whose train and held-out splits are disjoint by construction
//!   ([`split`]), configured through [`TaskSpec`].
//! - [`jsonl`]: data sets from JSON Lines files (optionally gzipped), reporting every skipped line.
//! - [`preference`]: preference pairs and KTO examples, with a held-out split by prompt hash.
//! - [`template`]: prompt templates that turn a row into the user message.

mod error;
mod generator;
pub mod generators;
pub mod jsonl;
pub mod preference;
mod spec;
pub mod split;
pub mod template;

pub use error::DataError;
pub use generator::{TaskGenerator, DEFAULT_INSTRUCTION};
pub use jsonl::{load_jsonl, read_jsonl, read_records, FieldMap, Loaded, Skipped};
pub use preference::{
    load_labelled, load_pairs, split_held_out, LabelledCompletion, LabelledFields, LoadedRecords, PairFields,
    PreferencePair,
};
pub use spec::TaskSpec;
pub use split::Split;
pub use template::PromptTemplate;
