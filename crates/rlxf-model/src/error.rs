use std::path::{Path, PathBuf};

/// Everything that can go wrong loading, running or saving a model. Each message names the file or
/// tensor involved and, where there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: model folder not found (expected a Hugging Face folder with config.json, model.safetensors, tokenizer.json; run scripts/fetch-models.sh or `rlxf import-gguf`)", .0.display())]
    MissingFolder(PathBuf),
    #[error("{}: {reason}", path.display())]
    Config { path: PathBuf, reason: String },
    #[error("{}: {reason}", path.display())]
    Weights { path: PathBuf, reason: String },
    #[error("{}: {reason}", path.display())]
    Tokenizer { path: PathBuf, reason: String },
    #[error("chat template: {0}")]
    ChatTemplate(String),
    #[error("torch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("{0}")]
    Invalid(String),
}

impl ModelError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;
