//! From one data set record (a JSON object: a JSONL line or a Parquet row) to a [`Problem`], through a
//! [`FieldMap`], and the bookkeeping of records that could not be mapped.

use std::fmt;
use std::path::PathBuf;

use rlxf_core::Problem;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Which fields (JSON keys or Parquet columns) hold what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldMap {
    /// Candidate prompt fields; the first one present is used. The value is a string, or a chat
    /// `messages` list of `{role, content}` with one user message (and optionally a system one).
    pub prompt: Vec<String>,
    /// Reference answer field; `None` (written `answer = ""` in TOML, which has no null) loads
    /// problems without answers. Numbers and booleans are accepted and written as in the file
    /// (`204`, `1.5`, `true`).
    #[serde(with = "empty_is_none")]
    pub answer: Option<String>,
    /// Id field (string or number); `None` uses `<file stem>:<line or row>`.
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

/// An optional field name that round-trips through TOML: `None` is written as `""`, and `""` or
/// null read back as `None`. Needed where the default is `Some`, so that leaving the key out
/// cannot stand for `None`.
mod empty_is_none {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(name: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(name.as_deref().unwrap_or(""))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.filter(|name| !name.is_empty()))
    }
}

/// What the record number of a [`Skipped`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordUnit {
    /// A JSONL line (blank lines counted).
    Line,
    /// A Parquet row, counted over all row groups of the file.
    Row,
}

/// A record that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    /// 1-based line (JSONL) or row (Parquet) number, as `unit` says.
    pub line: usize,
    pub unit: RecordUnit,
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            RecordUnit::Line => write!(f, "{}:{}", self.path.display(), self.line)?,
            RecordUnit::Row => write!(f, "{} row {}", self.path.display(), self.line)?,
        }
        write!(f, ": skipped: {}", self.reason)
    }
}

/// Problems loaded from one or more files, and the records left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub problems: Vec<Problem>,
    pub skipped: Vec<Skipped>,
}

impl FieldMap {
    /// Maps one record; `default_id` is used when no id field is configured. The error is the
    /// reason the record is skipped.
    pub fn problem_from(
        &self,
        mut obj: Map<String, Value>,
        default_id: String,
    ) -> Result<Problem, String> {
        let (prompt_field, prompt) = self
            .prompt
            .iter()
            .find_map(|f| obj.get(f).map(|v| (f.clone(), v)))
            .ok_or_else(|| format!("no prompt field (looked for {})", quoted(&self.prompt)))?;
        let (prompt, conversation_system) = prompt_text(&prompt_field, prompt)?;
        obj.remove(&prompt_field);
        let answer = match &self.answer {
            Some(f) => Some(answer_text(obj.remove(f), f)?),
            None => None,
        };
        let id = match &self.id {
            Some(f) => scalar(obj.remove(f), f)?,
            None => default_id,
        };
        let system = match &self.system {
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
        p.system = system.or(conversation_system);
        // Unmapped fields (source, difficulty, choices...) stay available to verifiers, templates and analysis.
        p.metadata = if obj.is_empty() {
            Value::Null
        } else {
            Value::Object(obj)
        };
        Ok(p)
    }
}

/// The user message, and the system message when the prompt is a conversation.
fn prompt_text(field: &str, value: &Value) -> Result<(String, Option<String>), String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok((s.clone(), None)),
        Value::String(_) => Err(format!("field `{field}` is empty")),
        Value::Array(messages) => conversation(field, messages),
        other => Err(format!(
            "field `{field}` must be a string, found {}",
            kind(other)
        )),
    }
}

/// A chat `messages` list as a prompt: one user turn, optionally preceded by a system turn.
/// Multi-turn conversations are refused rather than flattened, since the chat template would
/// render them differently from what the data set meant.
fn conversation(field: &str, messages: &[Value]) -> Result<(String, Option<String>), String> {
    let shape =
        || format!("field `{field}` must be a string or a list of {{role, content}} chat messages");
    let (mut system, mut user) = (None, None);
    for message in messages {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .ok_or_else(shape)?;
        let content = message
            .get("content")
            .and_then(Value::as_str)
            .ok_or_else(shape)?;
        let slot = match role {
            "system" => &mut system,
            "user" => &mut user,
            other => {
                return Err(format!(
                    "field `{field}` has a `{other}` message; a prompt is one user message (plus an optional system message)"
                ))
            }
        };
        if slot.replace(content.to_string()).is_some() {
            return Err(format!("field `{field}` has more than one `{role}` message; multi-turn prompts are not supported"));
        }
    }
    match user {
        Some(u) if !u.trim().is_empty() => Ok((u, system)),
        Some(_) => Err(format!("field `{field}`: the user message is empty")),
        None => Err(format!("field `{field}` has no user message")),
    }
}

fn answer_text(v: Option<Value>, field: &str) -> Result<String, String> {
    match v {
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(Value::String(s)) => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!(
            "field `{field}` must be a string, number or boolean, found {}",
            kind(&other)
        )),
        None => Err(format!("missing field `{field}`")),
    }
}

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

pub(crate) fn quoted(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(fields: &FieldMap, v: Value) -> Result<Problem, String> {
        let Value::Object(obj) = v else {
            unreachable!()
        };
        fields.problem_from(obj, "d:1".into())
    }

    #[test]
    fn chat_messages_become_user_prompt_and_system() {
        let fields = FieldMap {
            prompt: vec!["messages".into()],
            answer: None,
            ..FieldMap::default()
        };
        let p = map(
            &fields,
            json!({"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"}]}),
        )
        .unwrap();
        assert_eq!(
            (p.prompt.as_str(), p.system.as_deref()),
            ("2+2?", Some("be brief"))
        );

        let multi = json!({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]});
        assert!(map(&fields, multi).unwrap_err().contains("multi-turn"));
        let assistant = json!({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]});
        assert!(map(&fields, assistant)
            .unwrap_err()
            .contains("`assistant` message"));
        let strings = json!({"messages": ["a", "b"]});
        assert!(map(&fields, strings)
            .unwrap_err()
            .contains("list of {role, content} chat messages"));
        assert!(map(&fields, json!({"messages": []}))
            .unwrap_err()
            .contains("no user message"));
    }

    #[test]
    fn no_answer_field_survives_a_toml_round_trip() {
        let none = FieldMap { answer: None, ..FieldMap::default() };
        let text = toml::to_string(&none).unwrap();
        assert!(text.contains("answer = \"\""), "{text}");
        assert_eq!(toml::from_str::<FieldMap>(&text).unwrap(), none);
        let default: FieldMap = toml::from_str("").unwrap();
        assert_eq!(default.answer.as_deref(), Some("answer"));
        let from_json: FieldMap = serde_json::from_str(r#"{"answer": null}"#).unwrap();
        assert_eq!(from_json.answer, None);
    }

    #[test]
    fn boolean_answers_are_text_but_boolean_ids_are_not() {
        let fields = FieldMap {
            id: Some("uid".into()),
            ..FieldMap::default()
        };
        let p = map(
            &fields,
            json!({"prompt": "Is 7 prime?", "answer": true, "uid": 3}),
        )
        .unwrap();
        assert_eq!((p.answer.as_deref(), p.id.as_str()), (Some("true"), "3"));
        let err = map(&fields, json!({"prompt": "q", "answer": "a", "uid": false})).unwrap_err();
        assert!(
            err.contains("`uid` must be a string or number, found a boolean"),
            "{err}"
        );
    }
}
