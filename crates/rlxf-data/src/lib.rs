//! Problem sources for rlxf. Pure Rust (no tensors).
//!
//! - [`TaskGenerator`]: deterministic synthetic tasks (`arithmetic`, `word_problems`,
//!   `countdown`, `sorting`) whose train and held-out splits are disjoint by construction
//!   ([`split`]), configured through [`TaskSpec`].
//! - [`DatasetTask`] (`kind = "dataset"`): a data set file as a training task, split by content hash.
//! - [`load_problems`]: data sets from JSON Lines files (optionally gzipped) or Parquet files and
//!   folders of shards ([`jsonl`], [`parquet_file`]), mapped by a [`FieldMap`], reporting every
//!   skipped record.
//! - [`preference`]: preference pairs and KTO examples, with a held-out split by prompt hash.
//! - [`template`]: prompt templates that turn a row into the user message.

pub mod data_files;
pub mod dataset_task;
mod error;
mod generator;
pub mod generators;
pub mod jsonl;
pub mod parquet_file;
pub mod preference;
pub mod records;
mod spec;
pub mod split;
pub mod template;

pub use data_files::{load_problems, DataFormat};
pub use dataset_task::{DatasetConfig, DatasetCounts, DatasetTask};
pub use error::DataError;
pub use generator::{TaskGenerator, DEFAULT_INSTRUCTION};
pub use jsonl::{load_jsonl, read_jsonl, read_records};
pub use parquet_file::load_parquet;
pub use preference::{
    load_labelled, load_pairs, split_held_out, LabelledCompletion, LabelledFields, LoadedRecords, PairFields,
    PreferencePair,
};
pub use records::{FieldMap, Loaded, RecordUnit, Skipped};
pub use spec::TaskSpec;
pub use split::Split;
pub use template::PromptTemplate;
