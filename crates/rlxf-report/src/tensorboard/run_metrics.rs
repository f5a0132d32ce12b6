//! Converting a run folder's `metrics.jsonl` (and `summary.json`) to a TensorBoard event file.

use std::path::{Path, PathBuf};

use super::event_file::{unix_now, EventWriter, EVENT_FILE_PREFIX};
use super::live_events::{is_live_event_file, live_scalar_keys};
use crate::error::ReportError;
use crate::run_folder::RunRecord;

/// The TensorBoard tag of a metrics.jsonl key, grouped so TensorBoard shows one section per kind:
/// `eval_*` -> `eval/*`; timings and throughput (`*_seconds`, `*_per_second`) -> `perf/*`;
/// everything else (rewards, loss, KL, entropy, lengths...) -> `train/*`.
pub fn tag_for(key: &str) -> String {
    if let Some(rest) = key.strip_prefix("eval_") {
        format!("eval/{rest}")
    } else if key.ends_with("_seconds") || key.ends_with("_per_second") {
        format!("perf/{key}")
    } else {
        format!("train/{key}")
    }
}

/// Writes the run's metrics as a new event file in the run folder itself (so `tensorboard
/// --logdir runs/` names each run by its folder) and returns its path. Earlier files this function
/// wrote are removed first: metrics.jsonl is the source of truth, and keeping them would draw
/// every curve twice.
///
/// Live event files ([`super::LiveEvents`], written by the trainer as it goes) are kept, with their
/// real wall times, and the new file holds only the scalars they lack: a `(tag, step)` is never
/// written twice. For a run logged live from start to end that is just the held-out accuracy
/// before and after training; for a run without live files, everything.
///
/// The held-out accuracy before and after training (summary.json) goes to `eval/accuracy` at
/// step 0 and at the last step, next to any periodic evaluations.
pub fn write_run_metrics(run_dir: &Path) -> Result<PathBuf, ReportError> {
    write_events(&RunRecord::load(run_dir)?)
}

/// [`write_run_metrics`] for an already loaded run.
pub fn write_events(run: &RunRecord) -> Result<PathBuf, ReportError> {
    remove_converted_event_files(&run.path)?;
    let logged_live = live_scalar_keys(&run.path)?;
    let wall_times = step_wall_times(run);
    let mut writer = EventWriter::create(&run.path)?;
    let mut add = |tag: &str, step: u64, value: f64, wall_time: f64| {
        let key = (tag.to_string(), i64::try_from(step).unwrap_or(i64::MAX));
        if logged_live.contains(&key) {
            return Ok(());
        }
        writer.add_scalar_at(tag, step, value, wall_time)
    };
    for (record, &wall_time) in run.metrics.iter().zip(&wall_times) {
        for (key, value) in &record.values {
            add(&tag_for(key), record.step, *value, wall_time)?;
        }
    }
    if let Some(summary) = &run.summary {
        let start = wall_times.first().copied().unwrap_or_else(unix_now);
        let end = wall_times.last().copied().unwrap_or_else(unix_now);
        add("eval/accuracy", 0, summary.before.accuracy, start)?;
        let evaluated_at_end = run
            .metrics
            .iter()
            .any(|r| r.step == summary.steps && r.get("eval_accuracy").is_some());
        if !evaluated_at_end {
            add("eval/accuracy", summary.steps, summary.after.accuracy, end)?;
        }
    }
    writer.flush()?;
    Ok(writer.path().to_path_buf())
}

/// metrics.jsonl has no timestamps; TensorBoard's relative-time axis still comes out right when
/// the last step ends at the file's modification time and earlier steps are spaced by their
/// `step_seconds` (steps without it count as zero seconds).
fn step_wall_times(run: &RunRecord) -> Vec<f64> {
    let modified = std::fs::metadata(run.path.join("metrics.jsonl"))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or_else(unix_now, |d| d.as_secs_f64());
    let mut times = vec![modified; run.metrics.len()];
    for i in (0..run.metrics.len().saturating_sub(1)).rev() {
        times[i] = times[i + 1]
            - run.metrics[i + 1]
                .get("step_seconds")
                .unwrap_or(0.0)
                .max(0.0);
    }
    times
}

/// Removes the event files of earlier conversions (not the live ones).
fn remove_converted_event_files(dir: &Path) -> Result<(), ReportError> {
    for entry in std::fs::read_dir(dir).map_err(|e| ReportError::read(dir, e))? {
        let path = entry.map_err(|e| ReportError::read(dir, e))?.path();
        let is_event_file = !is_live_event_file(&path)
            && path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(EVENT_FILE_PREFIX));
        if is_event_file && path.is_file() {
            std::fs::remove_file(&path).map_err(|e| ReportError::write(&path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensorboard::{read_event_file, EventContent};

    #[test]
    fn tags_are_grouped_by_kind() {
        assert_eq!(tag_for("reward_mean"), "train/reward_mean");
        assert_eq!(tag_for("kl"), "train/kl");
        assert_eq!(
            tag_for("generated_tokens_per_second"),
            "perf/generated_tokens_per_second"
        );
        assert_eq!(tag_for("step_seconds"), "perf/step_seconds");
        assert_eq!(tag_for("eval_accuracy"), "eval/accuracy");
    }

    fn scalars(path: &Path) -> Vec<(i64, f64, String, f32)> {
        let events = read_event_file(path).unwrap();
        events
            .into_iter()
            .filter_map(|e| match e.content {
                EventContent::Scalars(values) => Some(
                    values
                        .into_iter()
                        .map(move |(t, v)| (e.step, e.wall_time, t, v)),
                ),
                _ => None,
            })
            .flatten()
            .collect()
    }

    #[test]
    fn metrics_and_summary_become_tagged_scalars_and_reruns_replace_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("metrics.jsonl"),
            "{\"step\":1,\"reward_mean\":0.5,\"step_seconds\":10}\n{\"step\":2,\"reward_mean\":0.75,\"step_seconds\":20,\"eval_accuracy\":0.4}\n",
        )
        .unwrap();
        let totals = |a: f64| {
            format!("{{\"accuracy\":{a},\"mean_reward\":0,\"mean_tokens\":0,\"problems\":1,\"seconds\":0}}")
        };
        let summary = format!(
            "{{\"before\":{},\"after\":{},\"steps\":2,\"train_seconds\":30,\"total_seconds\":31}}",
            totals(0.2),
            totals(0.4)
        );
        std::fs::write(dir.path().join("summary.json"), summary).unwrap();

        let first = write_run_metrics(dir.path()).unwrap();
        let second = write_run_metrics(dir.path()).unwrap();
        let event_files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(EVENT_FILE_PREFIX)
            })
            .collect();
        assert_eq!(
            event_files.len(),
            1,
            "the second conversion replaces the first"
        );
        assert!(!first.exists() || first == second);

        let got = scalars(&second);
        let tagged: Vec<(i64, &str, f32)> = got
            .iter()
            .map(|(s, _, t, v)| (*s, t.as_str(), *v))
            .collect();
        assert_eq!(
            tagged,
            vec![
                (1, "train/reward_mean", 0.5),
                (1, "perf/step_seconds", 10.0),
                (2, "train/reward_mean", 0.75),
                (2, "perf/step_seconds", 20.0),
                (2, "eval/accuracy", 0.4),
                (0, "eval/accuracy", 0.2),
            ],
            "the after-training accuracy is not repeated at step 2, which has its own evaluation"
        );
        // Step 2 ended 20 s after step 1.
        assert!((got[2].1 - got[0].1 - 20.0).abs() < 1e-6);
    }
}
