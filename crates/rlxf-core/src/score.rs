use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The reward of one completion, with its named parts kept for logging.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The scalar the advantage estimator sees.
    pub value: f64,
    /// Per-component values (for example `format`, `accuracy`), as produced before combination.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub components: BTreeMap<String, f64>,
    /// Optional dense reward, one value per generated token (process rewards, shaping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_token: Option<Vec<f32>>,
}

impl Score {
    pub fn scalar(value: f64) -> Self {
        Self { value, ..Self::default() }
    }

    pub fn with_component(mut self, name: impl Into<String>, value: f64) -> Self {
        self.components.insert(name.into(), value);
        self
    }
}
