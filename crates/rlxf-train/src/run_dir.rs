//! The run folder: resolved config, metrics (one JSON line per step), evaluation samples, checkpoints.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::TrainError;

pub struct RunDir {
    pub path: PathBuf,
    metrics: BufWriter<File>,
    samples: BufWriter<File>,
}

fn create_file(path: &Path) -> Result<BufWriter<File>, TrainError> {
    File::create(path).map(BufWriter::new).map_err(|e| TrainError::io(path, e))
}

/// Appends one JSON line and flushes, so a crash loses at most the current step.
fn append_line<T: Serialize>(out: &mut BufWriter<File>, path: &Path, record: &T) -> Result<(), TrainError> {
    let line = serde_json::to_string(record).map_err(|e| TrainError::Other(e.to_string()))?;
    writeln!(out, "{line}").and_then(|_| out.flush()).map_err(|e| TrainError::io(path, e))
}

impl RunDir {
    /// Creates the folder (`runs/<UTC timestamp>` unless given) and writes the resolved config.
    pub fn create(requested: Option<&Path>, resolved_config: &str) -> Result<Self, TrainError> {
        let path = match requested {
            Some(p) => p.to_path_buf(),
            None => PathBuf::from("runs").join(chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string()),
        };
        std::fs::create_dir_all(&path).map_err(|e| TrainError::io(&path, e))?;
        let config_path = path.join("config.toml");
        std::fs::write(&config_path, resolved_config).map_err(|e| TrainError::io(&config_path, e))?;
        let metrics = create_file(&path.join("metrics.jsonl"))?;
        let samples = create_file(&path.join("samples.jsonl"))?;
        Ok(Self { path, metrics, samples })
    }

    /// One line of `metrics.jsonl`.
    pub fn log_metrics<T: Serialize>(&mut self, record: &T) -> Result<(), TrainError> {
        append_line(&mut self.metrics, &self.path.join("metrics.jsonl"), record)
    }

    /// One line of `samples.jsonl` (example completions of a step).
    pub fn log_samples<T: Serialize>(&mut self, record: &T) -> Result<(), TrainError> {
        append_line(&mut self.samples, &self.path.join("samples.jsonl"), record)
    }

    pub fn write_jsonl<T: Serialize>(&self, name: &str, rows: &[T]) -> Result<(), TrainError> {
        let path = self.path.join(name);
        let mut out = BufWriter::new(File::create(&path).map_err(|e| TrainError::io(&path, e))?);
        for row in rows {
            let line = serde_json::to_string(row).map_err(|e| TrainError::Other(e.to_string()))?;
            writeln!(out, "{line}").map_err(|e| TrainError::io(&path, e))?;
        }
        out.flush().map_err(|e| TrainError::io(&path, e))
    }

    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), TrainError> {
        let path = self.path.join(name);
        let text = serde_json::to_string_pretty(value).map_err(|e| TrainError::Other(e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| TrainError::io(&path, e))
    }
}
