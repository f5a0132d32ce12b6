//! The run folder: resolved config, metrics (one JSON line per step), evaluation samples, checkpoints.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::TrainError;

pub struct RunDir {
    pub path: PathBuf,
    metrics: BufWriter<File>,
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
        let metrics_path = path.join("metrics.jsonl");
        let metrics = File::create(&metrics_path).map_err(|e| TrainError::io(&metrics_path, e))?;
        Ok(Self { path, metrics: BufWriter::new(metrics) })
    }

    /// Appends one JSON line and flushes, so a crash loses at most the current step.
    pub fn log_metrics<T: Serialize>(&mut self, record: &T) -> Result<(), TrainError> {
        let line = serde_json::to_string(record).map_err(|e| TrainError::Other(e.to_string()))?;
        let path = self.path.join("metrics.jsonl");
        writeln!(self.metrics, "{line}").and_then(|_| self.metrics.flush()).map_err(|e| TrainError::io(&path, e))
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
