use serde::{Deserialize, Serialize};

/// One task instance: what the policy is asked and what a verifier needs to score the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable identifier (data set row or generator seed), used in logs and sample dumps.
    pub id: String,
    /// The user message. The model layer wraps it in the chat template.
    pub prompt: String,
    /// Optional system message; `None` keeps the chat template's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Reference answer for verifiers (a number, an expression, a letter...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Anything else a verifier may need (unit tests, constraints, difficulty).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub metadata: serde_json::Value,
}

impl Problem {
    pub fn new(id: impl Into<String>, prompt: impl Into<String>, answer: Option<String>) -> Self {
        Self { id: id.into(), prompt: prompt.into(), system: None, answer, metadata: serde_json::Value::Null }
    }
}
