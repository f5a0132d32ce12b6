//! Problems from JSON Lines files, with a configurable field mapping.
//!
//! A bad line (invalid JSON, missing or mistyped field) is skipped, logged with its file and
//! 1-based line number, and returned in [`Loaded::skipped`] so the caller can report it: data is
//! never dropped silently. Blank lines are not records and are ignored.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rlxf_core::Problem;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::DataError;

/// Which JSON fields hold what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldMap {
    /// Candidate prompt fields; the first one present is used.
    pub prompt: Vec<String>,
    /// Reference answer field; `None` loads problems without answers. Numbers are accepted and
    /// written as in the file (`204`, `1.5`).
    pub answer: Option<String>,
    /// Id field (string or number); `None` uses `<file stem>:<line>`.
    pub id: Option<String>,
    /// Optional system-message field.
    pub system: Option<String>,
}

impl Default for FieldMap {
    fn default() -> Self {
        Self {
            prompt: vec!["prompt".into(), "question".into()],
            answer: Some("answer".into()),
            id: None,
            system: None,
        }
    }
}

/// A line that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: skipped: {}",
            self.path.display(),
            self.line,
            self.reason
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub problems: Vec<Problem>,
    pub skipped: Vec<Skipped>,
}

/// Reads `path` (gzip-compressed when it ends in `.gz`). I/O failures (missing file, unreadable,
/// corrupt gzip) are errors; bad lines are [`Skipped`].
pub fn load_jsonl(path: impl AsRef<Path>, fields: &FieldMap) -> Result<Loaded, DataError> {
    let path = path.as_ref();
    read_jsonl(open_lines(path)?, path, fields)
}

/// Like [`load_jsonl`] from any reader; `path` is used in ids and messages.
pub fn read_jsonl(reader: impl BufRead, path: &Path, fields: &FieldMap) -> Result<Loaded, DataError> {
    let stem = file_stem(path);
    let (problems, skipped) =
        read_records(reader, path, |text, line| parse_line(text, fields, &stem, line))?;
    Ok(Loaded { problems, skipped })
}

/// Opens `path` for line reading, gunzipping when it ends in `.gz`.
pub(crate) fn open_lines(path: &Path) -> Result<Box<dyn BufRead>, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// `data.jsonl(.gz)` -> `data`, for ids made from the file name and line number.
pub(crate) fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(|| "data".into(), |s| s.to_string_lossy().into_owned());
    name.trim_end_matches(".gz")
        .trim_end_matches(".jsonl")
        .to_string()
}

/// Reads non-blank lines and turns each into a record with `parse(text, line_number)`; a line that
/// is not UTF-8 or that `parse` rejects is logged and returned as [`Skipped`], never dropped silently.
pub fn read_records<T>(
    mut reader: impl BufRead,
    path: &Path,
    mut parse: impl FnMut(&str, usize) -> Result<T, String>,
) -> Result<(Vec<T>, Vec<Skipped>), DataError> {
    let mut records = Vec::new();
    let mut skipped = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let parsed = std::str::from_utf8(&buf)
            .map_err(|e| format!("not valid UTF-8 ({e})"))
            .and_then(|text| {
                let text = text.trim();
                if text.is_empty() {
                    Ok(None)
                } else {
                    parse(text, line_no).map(Some)
                }
            });
        match parsed {
            Ok(Some(record)) => records.push(record),
            Ok(None) => {}
            Err(reason) => {
                let s = Skipped {
                    path: path.to_path_buf(),
                    line: line_no,
                    reason,
                };
                tracing::warn!("{s}");
                skipped.push(s);
            }
        }
    }
    Ok((records, skipped))
}

fn parse_line(text: &str, fields: &FieldMap, stem: &str, line: usize) -> Result<Problem, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON ({e})"))?;
    let Value::Object(mut obj) = value else {
        return Err("not a JSON object".into());
    };
    let (prompt_field, prompt) = fields
        .prompt
        .iter()
        .find_map(|f| obj.get(f).map(|v| (f.clone(), v)))
        .ok_or_else(|| format!("no prompt field (looked for {})", quoted(&fields.prompt)))?;
    let prompt = match prompt {
        Value::String(s) if !s.trim().is_empty() => s.clone(),
        Value::String(_) => return Err(format!("field `{prompt_field}` is empty")),
        other => {
            return Err(format!(
                "field `{prompt_field}` must be a string, found {}",
                kind(other)
            ))
        }
    };
    obj.remove(&prompt_field);
    let answer = match &fields.answer {
        Some(f) => Some(scalar(obj.remove(f), f)?),
        None => None,
    };
    let id = match &fields.id {
        Some(f) => scalar(obj.remove(f), f)?,
        None => format!("{stem}:{line}"),
    };
    let system = match &fields.system {
        Some(f) => match obj.remove(f) {
            Some(Value::String(s)) => Some(s),
            None | Some(Value::Null) => None,
            Some(other) => {
                return Err(format!(
                    "field `{f}` must be a string, found {}",
                    kind(&other)
                ))
            }
        },
        None => None,
    };
    let mut p = Problem::new(id, prompt, answer);
    p.system = system;
    // Unmapped fields (source, difficulty...) stay available to verifiers and analysis.
    p.metadata = if obj.is_empty() {
        Value::Null
    } else {
        Value::Object(obj)
    };
    Ok(p)
}

/// A string or number field as text.
pub(crate) fn scalar(v: Option<Value>, field: &str) -> Result<String, String> {
    match v {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!(
            "field `{field}` must be a string or number, found {}",
            kind(&other)
        )),
        None => Err(format!("missing field `{field}`")),
    }
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn quoted(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
