#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Model(#[from] rlxf_model::ModelError),
    #[error("torch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("reward: {0}")]
    Reward(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("interrupted after step {step}; checkpoint {}; continue with `rlxf train --resume {}`", checkpoint.display(), run_dir.display())]
    Interrupted {
        step: usize,
        checkpoint: std::path::PathBuf,
        run_dir: std::path::PathBuf,
    },
    #[error("{0}")]
    Other(String),
}

impl TrainError {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
