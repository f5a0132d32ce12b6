//! What an evaluation runs on: problems, how they are prompted, and how answers are scored.

use std::path::{Path, PathBuf};

use rlxf_core::Problem;
use rlxf_data::{load_problems, FieldMap, PromptTemplate, Skipped};
use rlxf_rewards::{ExtractionPolicy, RewardSpec};

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("unknown suite `{0}`; built-in suites: math, humaneval (or give --data with --reward)")]
    UnknownSuite(String),
    #[error("{path} not found; {fix}")]
    MissingData { path: PathBuf, fix: String },
    #[error("{0}")]
    Data(#[from] rlxf_data::DataError),
    #[error("reward: {0}")]
    Reward(String),
    #[error("{path}: no problems loaded ({skipped} lines skipped); check the field mapping")]
    Empty { path: PathBuf, skipped: usize },
}

/// A data set with its prompt template and reward.
#[derive(Debug, Clone)]
pub struct EvalSuite {
    pub name: String,
    pub data: PathBuf,
    pub fields: FieldMap,
    /// Jinja template for the user message (`{{ prompt }}` is the mapped prompt field).
    pub template: Option<String>,
    pub reward: RewardSpec,
    /// How maj@k reads the answer of a sample; `None` for tasks without a single answer (code).
    pub majority: Option<ExtractionPolicy>,
    /// Metadata field to break results down by (e.g. `data_source`).
    pub group_by: Option<String>,
    /// Metadata key that keeps the prompt as it was before templating (HumanEval's code stub, which
    /// the code verifier prepends to the completion).
    pub raw_prompt_key: Option<String>,
}

const MATH_TEMPLATE: &str = "{{ prompt }}\nPlease reason step by step, and put your final answer within \\boxed{}.";
const HUMANEVAL_TEMPLATE: &str = "Complete the following Python function. Reply with the complete function (signature, docstring \
and body) in a single ```python code block.\n\n```python\n{{ prompt }}```";

impl EvalSuite {
    /// A built-in suite: `math` (MATH-500 subset, AIME 2024/2025, CNMO from `mmath_en.jsonl`) or
    /// `humaneval`. `data` overrides the default file location (`../shared/data/...` from the
    /// working directory, where the shared data sits next to the repository).
    pub fn preset(name: &str, data: Option<&Path>) -> Result<Self, SuiteError> {
        let shared = Path::new("../shared/data");
        match name {
            "math" => Ok(Self {
                name: name.into(),
                data: data.map_or_else(|| shared.join("mmath_en.jsonl"), Path::to_path_buf),
                fields: FieldMap {
                    prompt: vec!["question".into(), "problem".into(), "prompt".into()],
                    answer: Some("answer".into()),
                    id: None,
                    system: None,
                },
                template: Some(MATH_TEMPLATE.into()),
                reward: spec("[[terms]]\nkind = \"math_answer\"\nextraction = \"standard\"\n")?,
                majority: Some(ExtractionPolicy::standard()),
                group_by: Some("data_source".into()),
                raw_prompt_key: None,
            }),
            "humaneval" => Ok(Self {
                name: name.into(),
                data: data.map_or_else(|| shared.join("HumanEval.jsonl.gz"), Path::to_path_buf),
                fields: FieldMap { prompt: vec!["prompt".into()], answer: None, id: Some("task_id".into()), system: None },
                template: Some(HUMANEVAL_TEMPLATE.into()),
                reward: spec("[[terms]]\nkind = \"code_tests\"\n")?,
                majority: None,
                group_by: None,
                raw_prompt_key: Some("code_prompt".into()),
            }),
            other => Err(SuiteError::UnknownSuite(other.into())),
        }
    }

    /// Loads and templates the problems; skipped lines are returned for the caller to report.
    /// `data` is a JSONL(.gz) or Parquet file, a folder of Parquet shards or a file-name pattern.
    pub fn load(&self, limit: Option<usize>) -> Result<(Vec<Problem>, Vec<Skipped>), SuiteError> {
        let is_pattern = self.data.to_string_lossy().contains(['*', '?', '[']);
        if !is_pattern && !self.data.exists() {
            return Err(SuiteError::MissingData {
                path: self.data.clone(),
                fix: "pass --data with the file's path".into(),
            });
        }
        let loaded = load_problems(&self.data, &self.fields)?;
        let mut problems = loaded.problems;
        if problems.is_empty() {
            return Err(SuiteError::Empty { path: self.data.clone(), skipped: loaded.skipped.len() });
        }
        if let Some(limit) = limit {
            problems.truncate(limit);
        }
        if let Some(key) = &self.raw_prompt_key {
            for p in &mut problems {
                if !p.metadata.is_object() {
                    p.metadata = serde_json::Value::Object(Default::default());
                }
                p.metadata[key.as_str()] = p.prompt.clone().into();
            }
        }
        if let Some(template) = &self.template {
            PromptTemplate::new(template)?.apply(&mut problems)?;
        }
        Ok((problems, loaded.skipped))
    }
}

fn spec(toml: &str) -> Result<RewardSpec, SuiteError> {
    RewardSpec::from_toml(toml).map_err(|e| SuiteError::Reward(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(file)
    }

    #[test]
    fn math_preset_loads_the_shared_set() {
        let suite = EvalSuite::preset("math", Some(&shared("mmath_en.jsonl"))).unwrap();
        let (problems, skipped) = suite.load(None).unwrap();
        assert_eq!(problems.len(), 374);
        assert!(skipped.is_empty());
        assert!(problems[0].prompt.ends_with("within \\boxed{}."));
        assert_eq!(problems[0].answer.as_deref(), Some("204"));
        assert_eq!(problems[0].metadata["data_source"], "AIME2024");
    }

    #[test]
    fn humaneval_preset_puts_the_stub_in_a_code_block() {
        let suite = EvalSuite::preset("humaneval", Some(&shared("HumanEval.jsonl.gz"))).unwrap();
        let (problems, _) = suite.load(Some(3)).unwrap();
        assert_eq!(problems.len(), 3);
        assert_eq!(problems[0].id, "HumanEval/0");
        assert!(problems[0].prompt.contains("```python\nfrom typing import List"));
        assert!(problems[0].metadata["test"].is_string());
        assert!(problems[0].metadata["code_prompt"].as_str().unwrap().starts_with("from typing import List"));
    }

    #[test]
    fn any_data_layout_loads_here_too() {
        // A pattern over two JSONL files; Parquet files and shard folders go through the same
        // `rlxf_data::load_problems` (tested in rlxf-data).
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("part-1.jsonl"), "{\"question\": \"1+1?\", \"answer\": 2}\n").unwrap();
        std::fs::write(dir.path().join("part-2.jsonl"), "{\"question\": \"2+2?\", \"answer\": 4}\n").unwrap();
        let suite = EvalSuite::preset("math", Some(&dir.path().join("part-*.jsonl"))).unwrap();
        let (problems, skipped) = suite.load(None).unwrap();
        assert!(skipped.is_empty());
        let answers: Vec<_> = problems.iter().map(|p| p.answer.as_deref().unwrap()).collect();
        assert_eq!(answers, ["2", "4"]);
        assert!(problems[1].prompt.starts_with("2+2?\nPlease reason step by step"));
    }

    #[test]
    fn unknown_suite_and_missing_file_are_clear() {
        assert!(EvalSuite::preset("gsm9k", None).unwrap_err().to_string().contains("built-in suites"));
        let err = EvalSuite::preset("math", Some(Path::new("/no/such.jsonl"))).unwrap().load(None).unwrap_err();
        assert!(err.to_string().contains("/no/such.jsonl not found"), "{err}");
    }
}
