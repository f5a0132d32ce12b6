use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{generator}: invalid `{field}` = {value}; {fix}")]
    InvalidConfig {
        generator: &'static str,
        field: &'static str,
        value: String,
        fix: String,
    },
    #[error(
        "{generator}: only {size} distinct problems and none falls in the {split} split; enlarge the problem space ({fix})"
    )]
    SpaceTooSmall {
        generator: &'static str,
        size: u64,
        split: &'static str,
        fix: &'static str,
    },
    #[error("prompt template: {0}")]
    Template(String),
    #[error("cannot read {path}: {source}; check the path and permissions")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a readable Parquet file ({message}); check that it is Parquet (a Git LFS pointer is not: run `git lfs pull`)")]
    Parquet { path: PathBuf, message: String },
    #[error("{path}: no {wanted}; the file has {columns}: set `fields` to name them")]
    MissingColumn {
        path: PathBuf,
        wanted: String,
        columns: String,
    },
    #[error("{path}: unknown data file type; use .jsonl, .jsonl.gz or .parquet, a folder of .parquet shards, or a pattern like data/train-*.parquet")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: no data files {what}; check the path")]
    NoFiles { path: PathBuf, what: &'static str },
    #[error("{path}: {count} bad records (first: {first}); fix them, or set `skip_bad_lines = true` to train without them")]
    BadRecords {
        path: PathBuf,
        count: usize,
        first: String,
    },
    #[error("dataset {path}: {what}; {fix}")]
    Dataset {
        path: PathBuf,
        what: String,
        fix: String,
    },
}

impl DataError {
    pub(crate) fn invalid(
        generator: &'static str,
        field: &'static str,
        value: impl std::fmt::Debug,
        fix: impl Into<String>,
    ) -> Self {
        Self::InvalidConfig {
            generator,
            field,
            value: format!("{value:?}"),
            fix: fix.into(),
        }
    }
}
