//! Preference data from JSON Lines: pairs `{prompt, chosen, rejected}` (optional `system`, `margin`,
//! `id`) for the DPO family and reward models, and unpaired `{prompt, completion, label}` examples
//! for KTO. `prompt` is the user message; the trainer wraps it in the model's chat template.
//!
//! Bad lines are reported like [`crate::jsonl`] does (file:line and why, in `skipped`), never
//! dropped silently. The held-out split hashes the prompt, so every completion of a prompt lands on
//! the same side and the split never changes with the file's order or the seed.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::DataError;
use crate::jsonl::{file_stem, kind, open_lines, read_records, scalar, Skipped};
use crate::split::{split_of, Split};

/// A preferred and a dispreferred completion of one prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferencePair {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub prompt: String,
    pub chosen: String,
    pub rejected: String,
    /// How much better `chosen` is (Llama 2's reward-model margin); `None` means no margin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
}

/// One completion labelled desirable or undesirable (KTO's data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledCompletion {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub prompt: String,
    pub completion: String,
    pub desirable: bool,
}

/// Field names of a pair file. `system`, `margin` and `id` are optional in every line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PairFields {
    pub prompt: String,
    pub chosen: String,
    pub rejected: String,
    pub system: String,
    pub margin: String,
    pub id: String,
}

impl Default for PairFields {
    fn default() -> Self {
        Self {
            prompt: "prompt".into(),
            chosen: "chosen".into(),
            rejected: "rejected".into(),
            system: "system".into(),
            margin: "margin".into(),
            id: "id".into(),
        }
    }
}

/// Field names of a KTO file. `system` and `id` are optional in every line; `label` is a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelledFields {
    pub prompt: String,
    pub completion: String,
    pub label: String,
    pub system: String,
    pub id: String,
}

impl Default for LabelledFields {
    fn default() -> Self {
        Self {
            prompt: "prompt".into(),
            completion: "completion".into(),
            label: "label".into(),
            system: "system".into(),
            id: "id".into(),
        }
    }
}

/// Records read from a file and the lines that were not.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRecords<T> {
    pub records: Vec<T>,
    pub skipped: Vec<Skipped>,
}

/// Reads a pair file (gzip when it ends in `.gz`).
pub fn load_pairs(
    path: impl AsRef<Path>,
    fields: &PairFields,
) -> Result<LoadedRecords<PreferencePair>, DataError> {
    let path = path.as_ref();
    let stem = file_stem(path);
    let (records, skipped) = read_records(open_lines(path)?, path, |text, line| {
        let mut obj = object(text)?;
        let prompt = required_text(&mut obj, &fields.prompt, false)?;
        let chosen = required_text(&mut obj, &fields.chosen, true)?;
        let rejected = required_text(&mut obj, &fields.rejected, true)?;
        if chosen == rejected {
            return Err(format!(
                "`{}` and `{}` are identical: the pair prefers nothing",
                fields.chosen, fields.rejected
            ));
        }
        let margin = match obj.remove(&fields.margin) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_f64().filter(|m| m.is_finite()) {
                Some(m) => Some(m),
                None => {
                    return Err(format!(
                        "field `{}` = {n} is not a finite number",
                        fields.margin
                    ))
                }
            },
            Some(other) => {
                return Err(format!(
                    "field `{}` must be a number, found {}",
                    fields.margin,
                    kind(&other)
                ))
            }
        };
        Ok(PreferencePair {
            id: optional_id(&mut obj, &fields.id, &stem, line)?,
            system: optional_text(&mut obj, &fields.system)?,
            prompt,
            chosen,
            rejected,
            margin,
        })
    })?;
    Ok(LoadedRecords { records, skipped })
}

/// Reads a KTO file of `{prompt, completion, label}` lines.
pub fn load_labelled(
    path: impl AsRef<Path>,
    fields: &LabelledFields,
) -> Result<LoadedRecords<LabelledCompletion>, DataError> {
    let path = path.as_ref();
    let stem = file_stem(path);
    let (records, skipped) = read_records(open_lines(path)?, path, |text, line| {
        let mut obj = object(text)?;
        let prompt = required_text(&mut obj, &fields.prompt, false)?;
        let completion = required_text(&mut obj, &fields.completion, true)?;
        let desirable = match obj.remove(&fields.label) {
            Some(Value::Bool(b)) => b,
            None => {
                return Err(format!(
                    "missing field `{}` (true for desirable, false for undesirable)",
                    fields.label
                ))
            }
            Some(other) => {
                return Err(format!(
                    "field `{}` must be true or false, found {}",
                    fields.label,
                    kind(&other)
                ))
            }
        };
        Ok(LabelledCompletion {
            id: optional_id(&mut obj, &fields.id, &stem, line)?,
            system: optional_text(&mut obj, &fields.system)?,
            prompt,
            completion,
            desirable,
        })
    })?;
    Ok(LoadedRecords { records, skipped })
}

/// Preference records keyed by their prompt for the held-out split.
pub trait PromptKeyed {
    fn prompt(&self) -> &str;
}

impl PromptKeyed for PreferencePair {
    fn prompt(&self) -> &str {
        &self.prompt
    }
}

impl PromptKeyed for LabelledCompletion {
    fn prompt(&self) -> &str {
        &self.prompt
    }
}

/// The split of a preference record: a stable hash of its prompt against `held_out_fraction`.
pub fn preference_split(prompt: &str, held_out_fraction: f64) -> Split {
    // Salted so the pairs' split is independent of a task generator's split of the same text.
    split_of(&format!("preference\u{0}{prompt}"), held_out_fraction)
}

/// `(train, held_out)`, each in file order.
pub fn split_held_out<T: PromptKeyed>(records: Vec<T>, held_out_fraction: f64) -> (Vec<T>, Vec<T>) {
    records
        .into_iter()
        .partition(|r| preference_split(r.prompt(), held_out_fraction) == Split::Train)
}

fn object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text).map_err(|e| format!("invalid JSON ({e})"))? {
        Value::Object(obj) => Ok(obj),
        _ => Err("not a JSON object".into()),
    }
}

/// A string field that must be present; `allow_empty` for completions (an empty answer is text too).
fn required_text(
    obj: &mut Map<String, Value>,
    field: &str,
    allow_empty: bool,
) -> Result<String, String> {
    match obj.remove(field) {
        Some(Value::String(s)) if allow_empty || !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("field `{field}` is empty")),
        None => Err(format!("missing field `{field}`")),
        Some(other) => Err(format!(
            "field `{field}` must be a string, found {}",
            kind(&other)
        )),
    }
}

fn optional_text(obj: &mut Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match obj.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "field `{field}` must be a string, found {}",
            kind(&other)
        )),
    }
}

/// The id field (string or number) when present, else `<file stem>:<line>`.
fn optional_id(
    obj: &mut Map<String, Value>,
    field: &str,
    stem: &str,
    line: usize,
) -> Result<String, String> {
    match obj.remove(field) {
        None | Some(Value::Null) => Ok(format!("{stem}:{line}")),
        value => scalar(value, field),
    }
}
