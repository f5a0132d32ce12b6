//! The one error type of the crate. Every message is one line that names the file (and the line
//! where there is one) and says what to do about it.

use std::path::{Path, PathBuf};

use thiserror::Error;

fn shown(path: &Path) -> String {
    path.display().to_string().escape_debug().to_string()
}

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("{p}: no such run folder; pass the folder `rlxf train` printed (runs/<timestamp>)", p = shown(path))]
    MissingRunDir { path: PathBuf },

    #[error("{p}: missing; a run folder has metrics.jsonl once its first training step is done", p = shown(path))]
    MissingMetrics { path: PathBuf },

    #[error("{p}: cannot read: {source}", p = shown(path))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{p}: cannot write: {source}", p = shown(path))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{p} line {line}: not valid JSON ({source}); fix or delete that line", p = shown(path))]
    BadJsonLine {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },

    #[error("{p} line {line}: {what}", p = shown(path))]
    BadRecord {
        path: PathBuf,
        line: usize,
        what: String,
    },

    #[error("{p}: not valid JSON ({source}); fix or delete the file", p = shown(path))]
    BadJson {
        path: PathBuf,
        source: serde_json::Error,
    },

    #[error("{p}: not a TensorBoard event file: {what}", p = shown(path))]
    BadEventFile { path: PathBuf, what: String },

    #[error("{p}: cannot log step {step}: {what}", p = shown(path))]
    LiveLog {
        path: PathBuf,
        step: u64,
        what: String,
    },

    #[error("{p}: cannot draw the chart: {what}", p = shown(path))]
    Chart { path: PathBuf, what: String },

    #[error("report template: {0}")]
    Template(String),
}

impl ReportError {
    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        Self::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn write(path: &Path, source: std::io::Error) -> Self {
        Self::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}
