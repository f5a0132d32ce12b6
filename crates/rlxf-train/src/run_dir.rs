//! The run folder: resolved config, metrics (one JSON line per step, also written live as
//! TensorBoard scalars), evaluation samples, checkpoints.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rlxf_report::tensorboard::LiveEvents;
use serde::Serialize;

use crate::error::TrainError;

pub struct RunDir {
    pub path: PathBuf,
    metrics: BufWriter<File>,
    /// TensorBoard event file that follows metrics.jsonl step by step (`tensorboard --logdir runs/`).
    live: LiveEvents,
    samples: BufWriter<File>,
    /// Lines written to `metrics.jsonl` / `samples.jsonl` so far (recorded in checkpoints).
    pub metrics_lines: usize,
    pub samples_lines: usize,
}

fn create_file(path: &Path) -> Result<BufWriter<File>, TrainError> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| TrainError::io(path, e))
}

/// Keeps the first `keep` lines of a JSONL file (written to a temporary file, then renamed) and
/// opens it for appending.
fn truncate_lines(path: &Path, keep: usize) -> Result<BufWriter<File>, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < keep {
        return Err(TrainError::Checkpoint(format!(
            "{} has {} lines but the checkpoint recorded {keep}; the run folder was modified",
            path.display(),
            lines.len()
        )));
    }
    let kept: String = lines[..keep].iter().map(|l| format!("{l}\n")).collect();
    let tmp = path.with_extension("jsonl.tmp");
    std::fs::write(&tmp, kept).map_err(|e| TrainError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))?;
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| TrainError::io(path, e))?;
    Ok(BufWriter::new(file))
}

/// Appends one JSON line and flushes, so a crash loses at most the current step.
fn append_line<T: Serialize>(
    out: &mut BufWriter<File>,
    path: &Path,
    record: &T,
) -> Result<(), TrainError> {
    let line = serde_json::to_string(record).map_err(|e| TrainError::Other(e.to_string()))?;
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .map_err(|e| TrainError::io(path, e))
}

fn open_live(path: &Path) -> Result<LiveEvents, TrainError> {
    LiveEvents::open(path).map_err(|e| TrainError::Other(format!("TensorBoard events in {}: {e}", path.display())))
}

impl RunDir {
    /// Creates the folder (`runs/<UTC timestamp>` unless given) and writes the resolved config.
    pub fn create(requested: Option<&Path>, resolved_config: &str) -> Result<Self, TrainError> {
        let path = match requested {
            Some(p) => p.to_path_buf(),
            None => {
                PathBuf::from("runs").join(chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string())
            }
        };
        std::fs::create_dir_all(&path).map_err(|e| TrainError::io(&path, e))?;
        let config_path = path.join("config.toml");
        std::fs::write(&config_path, resolved_config)
            .map_err(|e| TrainError::io(&config_path, e))?;
        let metrics = create_file(&path.join("metrics.jsonl"))?;
        let samples = create_file(&path.join("samples.jsonl"))?;
        let live = open_live(&path)?;
        Ok(Self {
            path,
            metrics,
            live,
            samples,
            metrics_lines: 0,
            samples_lines: 0,
        })
    }

    /// Reopens an existing run folder to continue it: `metrics.jsonl` and `samples.jsonl` are cut
    /// back to the lines written up to the checkpoint (later lines belong to steps that will run
    /// again), then appended to.
    pub fn reopen(
        path: &Path,
        metrics_lines: usize,
        samples_lines: usize,
    ) -> Result<Self, TrainError> {
        let metrics = truncate_lines(&path.join("metrics.jsonl"), metrics_lines)?;
        let samples = truncate_lines(&path.join("samples.jsonl"), samples_lines)?;
        // Scalars an earlier session logged past the checkpoint are cut on the first new step.
        let live = open_live(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            metrics,
            live,
            samples,
            metrics_lines,
            samples_lines,
        })
    }

    /// One line of `metrics.jsonl`.
    pub fn log_metrics<T: Serialize>(&mut self, record: &T) -> Result<(), TrainError> {
        append_line(&mut self.metrics, &self.path.join("metrics.jsonl"), record)?;
        self.metrics_lines += 1;
        let value = serde_json::to_value(record).map_err(|e| TrainError::Other(e.to_string()))?;
        if let Some(step) = value.get("step").and_then(|s| s.as_u64()) {
            let live_error = |e: rlxf_report::ReportError| TrainError::Other(format!("TensorBoard events: {e}"));
            self.live.log(step, &value).map_err(live_error)?;
            self.live.flush().map_err(live_error)?;
        }
        Ok(())
    }

    /// One line of `samples.jsonl` (example completions of a step).
    pub fn log_samples<T: Serialize>(&mut self, record: &T) -> Result<(), TrainError> {
        append_line(&mut self.samples, &self.path.join("samples.jsonl"), record)?;
        self.samples_lines += 1;
        Ok(())
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
        let text =
            serde_json::to_string_pretty(value).map_err(|e| TrainError::Other(e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| TrainError::io(&path, e))
    }
}
