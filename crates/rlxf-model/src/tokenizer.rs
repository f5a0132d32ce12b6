//! Tokenizer (`tokenizer.json`) and chat template (`chat_template.jinja` or `tokenizer_config.json`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{ModelError, Result};

#[derive(Debug, Clone, Serialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &str, content: &str) -> Self {
        Self { role: role.into(), content: content.into() }
    }
}

pub struct ChatTokenizer {
    tokenizer: tokenizers::Tokenizer,
    template: Option<String>,
    bos_token: Option<String>,
    eos_token: Option<String>,
    /// Token ids that end a completion (from the tokenizer config's eos and the model config).
    eos_ids: Vec<u32>,
    pad_id: u32,
}

fn token_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) => Some(s.clone()),
        // Older configs store `{"content": "<|im_end|>", ...}` objects.
        serde_json::Value::Object(o) => o.get("content").and_then(|c| c.as_str()).map(str::to_owned),
        _ => None,
    }
}

impl ChatTokenizer {
    /// Loads `tokenizer.json` and the chat template from a model folder. `extra_eos` are eos ids from
    /// `config.json`/`generation_config.json`.
    pub fn from_dir(dir: &Path, extra_eos: &[u32]) -> Result<Self> {
        let path = dir.join("tokenizer.json");
        if !path.exists() {
            return Err(ModelError::Tokenizer { path, reason: "file not found".into() });
        }
        let tokenizer = tokenizers::Tokenizer::from_file(&path)
            .map_err(|e| ModelError::Tokenizer { path: path.clone(), reason: format!("cannot load: {e}") })?;
        let config_path = dir.join("tokenizer_config.json");
        let config: serde_json::Value = if config_path.exists() {
            let text = std::fs::read_to_string(&config_path).map_err(|e| ModelError::io(&config_path, e))?;
            serde_json::from_str(&text).map_err(|e| ModelError::Tokenizer {
                path: config_path.clone(),
                reason: format!("invalid JSON: {e}"),
            })?
        } else {
            serde_json::Value::Null
        };
        let template = read_template(dir, &config)?;
        let bos_token = token_text(config.get("bos_token"));
        let eos_token = token_text(config.get("eos_token"));
        let mut eos_ids: Vec<u32> = extra_eos.to_vec();
        if let Some(id) = eos_token.as_deref().and_then(|t| tokenizer.token_to_id(t)) {
            eos_ids.push(id);
        }
        eos_ids.sort_unstable();
        eos_ids.dedup();
        let pad_id = token_text(config.get("pad_token"))
            .and_then(|t| tokenizer.token_to_id(&t))
            .or(eos_ids.first().copied())
            .unwrap_or(0);
        Ok(Self { tokenizer, template, bos_token, eos_token, eos_ids, pad_id })
    }

    pub fn eos_ids(&self) -> &[u32] {
        &self.eos_ids
    }

    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.tokenizer
    }

    /// Renders `messages` with the chat template, ending with the assistant turn's opening.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> Result<String> {
        let template = self.template.as_deref().ok_or_else(|| {
            ModelError::ChatTemplate("the model folder has no chat template (chat_template.jinja or tokenizer_config.json)".into())
        })?;
        let mut env = minijinja::Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> std::result::Result<String, minijinja::Error> {
            Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, msg))
        });
        env.add_template("chat", template).map_err(|e| ModelError::ChatTemplate(e.to_string()))?;
        let ctx = minijinja::context! {
            messages => messages,
            add_generation_prompt => true,
            bos_token => self.bos_token.clone().unwrap_or_default(),
            eos_token => self.eos_token.clone().unwrap_or_default(),
        };
        env.get_template("chat")
            .and_then(|t| t.render(ctx))
            .map_err(|e| ModelError::ChatTemplate(e.to_string()))
    }

    /// Token ids of already-rendered text; special tokens in the text are recognised, none are added.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| ModelError::Tokenizer { path: PathBuf::from("tokenizer.json"), reason: e.to_string() })?;
        Ok(enc.get_ids().to_vec())
    }

    /// Text of generated ids, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.tokenizer
            .decode(ids, true)
            .map_err(|e| ModelError::Tokenizer { path: PathBuf::from("tokenizer.json"), reason: e.to_string() })
    }
}

fn read_template(dir: &Path, config: &serde_json::Value) -> Result<Option<String>> {
    let jinja = dir.join("chat_template.jinja");
    if jinja.exists() {
        return std::fs::read_to_string(&jinja).map(Some).map_err(|e| ModelError::io(&jinja, e));
    }
    Ok(match config.get("chat_template") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        // A list of named templates: use "default".
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"))
            .and_then(|t| t.get("template"))
            .and_then(|t| t.as_str())
            .map(str::to_owned),
        _ => None,
    })
}
