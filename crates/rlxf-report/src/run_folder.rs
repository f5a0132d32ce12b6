//! Reading a run folder as `rlxf train` writes it: `metrics.jsonl` (required), `samples.jsonl`,
//! `eval_before.jsonl`, `eval_after.jsonl`, `summary.json`, `config.toml`, `environment.json`.
//! Everything but the metrics is optional, so a run still in progress (or one that crashed) can be
//! plotted; a malformed file is an error naming the file and line, never silently skipped.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::ReportError;

/// One line of `metrics.jsonl`: the step and its numeric metrics in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub step: u64,
    /// Finite numeric fields other than `step`; nulls, strings and non-finite values are left out.
    pub values: Vec<(String, f64)>,
}

impl StepRecord {
    pub fn get(&self, key: &str) -> Option<f64> {
        self.values.iter().find(|(k, _)| k == key).map(|&(_, v)| v)
    }
}

/// One completion shown in the report (a line of `samples.jsonl` holds the best and the worst).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SampleCompletion {
    pub id: String,
    pub prompt: String,
    #[serde(default)]
    pub answer: Option<String>,
    pub completion: String,
    pub reward: f64,
    #[serde(default)]
    pub components: BTreeMap<String, f64>,
}

/// One line of `samples.jsonl`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct StepSamples {
    pub step: u64,
    #[serde(default)]
    pub best: Option<SampleCompletion>,
    #[serde(default)]
    pub worst: Option<SampleCompletion>,
}

/// One line of `eval_before.jsonl` / `eval_after.jsonl`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct EvalExample {
    pub id: String,
    pub prompt: String,
    #[serde(default)]
    pub answer: Option<String>,
    pub completion: String,
    pub reward: f64,
    pub correct: bool,
    pub tokens: usize,
}

/// Held-out evaluation totals in `summary.json`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct EvalTotals {
    pub accuracy: f64,
    pub mean_reward: f64,
    pub mean_tokens: f64,
    pub problems: usize,
    pub seconds: f64,
}

/// `summary.json`, written when a run finishes. A preference run (DPO and kin) names its task
/// evaluations `task_before` / `task_after`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RunSummary {
    #[serde(alias = "task_before")]
    pub before: EvalTotals,
    #[serde(alias = "task_after")]
    pub after: EvalTotals,
    pub steps: u64,
    pub train_seconds: f64,
    pub total_seconds: f64,
}

/// Everything the charts, the report and the TensorBoard conversion read from a run folder.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub path: PathBuf,
    pub metrics: Vec<StepRecord>,
    pub samples: Vec<StepSamples>,
    pub eval_before: Vec<EvalExample>,
    pub eval_after: Vec<EvalExample>,
    pub summary: Option<RunSummary>,
    /// The resolved recipe, as written (TOML text).
    pub config: Option<String>,
    pub environment: Option<serde_json::Map<String, serde_json::Value>>,
}

impl RunRecord {
    /// Reads a run folder. Errors: the folder or its `metrics.jsonl` missing, or any malformed file.
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::MissingRunDir {
                path: dir.to_path_buf(),
            });
        }
        let metrics_path = dir.join("metrics.jsonl");
        let metric_lines: Vec<(usize, serde_json::Value)> = match read_optional(&metrics_path)? {
            Some(text) => parse_jsonl(&metrics_path, &text)?,
            None => return Err(ReportError::MissingMetrics { path: metrics_path }),
        };
        let metrics = metric_lines
            .into_iter()
            .map(|(line, value)| step_record(&metrics_path, line, value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            path: dir.to_path_buf(),
            metrics,
            samples: optional_jsonl(&dir.join("samples.jsonl"))?,
            eval_before: optional_jsonl(&dir.join("eval_before.jsonl"))?,
            eval_after: optional_jsonl(&dir.join("eval_after.jsonl"))?,
            summary: optional_json(&dir.join("summary.json"))?,
            config: read_optional(&dir.join("config.toml"))?,
            environment: optional_json(&dir.join("environment.json"))?,
        })
    }

    /// `(step, value)` of one metric over the run, in step order, skipping steps that lack it.
    pub fn series(&self, key: &str) -> Vec<(f64, f64)> {
        self.metrics
            .iter()
            .filter_map(|r| r.get(key).map(|v| (r.step as f64, v)))
            .collect()
    }

    /// Metric names in first-seen order (the column order of the metrics table).
    pub fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for record in &self.metrics {
            for (key, _) in &record.values {
                if !names.contains(key) {
                    names.push(key.clone());
                }
            }
        }
        names
    }

    /// The run folder's name, e.g. `20261123-025214`.
    pub fn name(&self) -> String {
        let named = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        named.unwrap_or_else(|| self.path.display().to_string())
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, ReportError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReportError::read(path, e)),
    }
}

/// Parses non-blank lines, keeping 1-based line numbers for messages.
fn parse_jsonl<T: DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<Vec<(usize, T)>, ReportError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map(|v| (i + 1, v))
                .map_err(|source| ReportError::BadJsonLine {
                    path: path.to_path_buf(),
                    line: i + 1,
                    source,
                })
        })
        .collect()
}

fn optional_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, ReportError> {
    match read_optional(path)? {
        Some(text) => Ok(parse_jsonl(path, &text)?
            .into_iter()
            .map(|(_, v)| v)
            .collect()),
        None => Ok(Vec::new()),
    }
}

fn optional_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, ReportError> {
    match read_optional(path)? {
        Some(text) => {
            serde_json::from_str(&text)
                .map(Some)
                .map_err(|source| ReportError::BadJson {
                    path: path.to_path_buf(),
                    source,
                })
        }
        None => Ok(None),
    }
}

fn step_record(
    path: &Path,
    line: usize,
    value: serde_json::Value,
) -> Result<StepRecord, ReportError> {
    let bad = |what: &str| ReportError::BadRecord {
        path: path.to_path_buf(),
        line,
        what: what.to_string(),
    };
    let serde_json::Value::Object(fields) = value else {
        return Err(bad("expected a JSON object with a \"step\" field"));
    };
    let step = fields
        .get("step")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| bad("\"step\" is missing or not a non-negative integer"))?;
    let values = fields
        .iter()
        .filter(|(k, _)| k.as_str() != "step")
        .filter_map(|(k, v)| v.as_f64().filter(|x| x.is_finite()).map(|x| (k.clone(), x)))
        .collect();
    Ok(StepRecord { step, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn reads_metrics_in_file_order_and_skips_non_numeric_fields() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "metrics.jsonl", "{\"step\":1,\"kl\":0.5,\"note\":\"x\",\"loss\":null,\"reward_mean\":1}\n\n{\"step\":2,\"kl\":0.25}\n");
        let run = RunRecord::load(dir.path()).unwrap();
        assert_eq!(run.metrics.len(), 2);
        assert_eq!(
            run.metrics[0].values,
            vec![("kl".to_string(), 0.5), ("reward_mean".to_string(), 1.0)]
        );
        assert_eq!(run.series("kl"), vec![(1.0, 0.5), (2.0, 0.25)]);
        assert_eq!(run.series("reward_mean"), vec![(1.0, 1.0)]);
        assert_eq!(run.metric_names(), vec!["kl", "reward_mean"]);
        assert!(run.samples.is_empty() && run.summary.is_none() && run.config.is_none());
    }

    #[test]
    fn preference_run_summary_reads_its_task_evaluations() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "metrics.jsonl", "{\"step\":1,\"loss\":0.69}\n");
        let totals = |acc: f64| format!("{{\"accuracy\":{acc},\"mean_reward\":{acc},\"mean_tokens\":9.0,\"problems\":100,\"seconds\":1.0}}");
        write(
            dir.path(),
            "summary.json",
            &format!(
                "{{\"algorithm\":\"dpo\",\"steps\":37,\"pairs_before\":{{\"items\":32}},\"task_before\":{},\"task_after\":{},\"train_seconds\":6.0,\"total_seconds\":7.0}}",
                totals(0.22),
                totals(0.54)
            ),
        );
        let summary = RunRecord::load(dir.path()).unwrap().summary.unwrap();
        assert_eq!((summary.before.accuracy, summary.after.accuracy, summary.steps), (0.22, 0.54, 37));
    }

    #[test]
    fn bad_json_line_is_reported_with_its_line_number() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "metrics.jsonl",
            "{\"step\":1,\"kl\":0.5}\n{\"step\":2,\"kl\":\n",
        );
        let message = RunRecord::load(dir.path()).unwrap_err().to_string();
        assert!(
            message.contains("metrics.jsonl line 2: not valid JSON"),
            "{message}"
        );
        assert!(!message.contains('\n'));
    }

    #[test]
    fn record_without_step_is_rejected_with_its_line_number() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "metrics.jsonl",
            "{\"step\":1}\n\n{\"kl\":0.5}\n",
        );
        let message = RunRecord::load(dir.path()).unwrap_err().to_string();
        assert!(
            message.contains("metrics.jsonl line 3: \"step\" is missing"),
            "{message}"
        );
    }

    #[test]
    fn bad_samples_line_names_the_samples_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "metrics.jsonl", "{\"step\":1}\n");
        write(
            dir.path(),
            "samples.jsonl",
            "{\"step\":1,\"best\":null,\"worst\":null}\n{\"step\":2,\"best\":{\"id\":3}}\n",
        );
        let message = RunRecord::load(dir.path()).unwrap_err().to_string();
        assert!(message.contains("samples.jsonl line 2"), "{message}");
    }

    #[test]
    fn missing_folder_and_missing_metrics_are_distinct_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = RunRecord::load(&dir.path().join("nope")).unwrap_err();
        assert!(
            matches!(missing, ReportError::MissingRunDir { .. }),
            "{missing}"
        );
        let no_metrics = RunRecord::load(dir.path()).unwrap_err();
        assert!(
            matches!(no_metrics, ReportError::MissingMetrics { .. }),
            "{no_metrics}"
        );
        assert!(no_metrics.to_string().contains("metrics.jsonl: missing"));
    }

    #[test]
    fn reads_the_optional_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "metrics.jsonl", "{\"step\":1}\n");
        write(dir.path(), "samples.jsonl", "{\"step\":1,\"best\":{\"id\":\"a\",\"prompt\":\"p\",\"answer\":\"2\",\"completion\":\"c\",\"reward\":1.0,\"components\":{\"math\":1.0}},\"worst\":null}\n");
        write(dir.path(), "eval_before.jsonl", "{\"id\":\"e\",\"prompt\":\"p\",\"answer\":null,\"completion\":\"c\",\"reward\":0.0,\"correct\":false,\"tokens\":3}\n");
        let totals = "{\"accuracy\":0.5,\"mean_reward\":0.5,\"mean_tokens\":3.0,\"problems\":2,\"seconds\":1.0}";
        let summary = format!("{{\"run_dir\":\"r\",\"before\":{totals},\"after\":{totals},\"steps\":1,\"train_seconds\":2.0,\"total_seconds\":3.0}}");
        write(dir.path(), "summary.json", &summary);
        write(dir.path(), "config.toml", "seed = 0\n");
        write(dir.path(), "environment.json", "{\"threads\": 2}");
        let run = RunRecord::load(dir.path()).unwrap();
        assert_eq!(
            run.samples[0].best.as_ref().unwrap().components["math"],
            1.0
        );
        assert!(run.samples[0].worst.is_none());
        assert_eq!(run.eval_before[0].tokens, 3);
        assert_eq!(run.summary.unwrap().steps, 1);
        assert_eq!(run.config.as_deref(), Some("seed = 0\n"));
        assert_eq!(run.environment.unwrap()["threads"], 2);
    }
}
