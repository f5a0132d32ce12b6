//! `environment.json`: what a run folder records so the run can be reproduced (versions, threads,
//! seed, the config's hash, and what each trainer adds: starting weights' hashes, task, data hashes).

use std::path::Path;

use crate::checkpoint as checksum;
use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::run_dir::RunDir;

/// Writes the fields every run has, then the trainer's own `extra` fields (a JSON object).
pub(crate) fn write_environment(
    run: &RunDir,
    config: &TrainConfig,
    torch_version: &str,
    threads: usize,
    config_sha256: &str,
    extra: serde_json::Value,
) -> Result<(), TrainError> {
    let mut record = serde_json::json!({
        "rlxf_version": env!("CARGO_PKG_VERSION"),
        "torch_version": torch_version,
        "threads": threads,
        "device": config.model.device,
        "dtype": config.model.dtype,
        "autocast": config.model.autocast,
        "seed": config.seed,
        "config_sha256": config_sha256,
    });
    if let (Some(fields), serde_json::Value::Object(more)) = (record.as_object_mut(), extra) {
        fields.extend(more);
    }
    run.write_json("environment.json", &record)
}

/// SHA-256 of the weight files the run starts from, for reproducing it.
pub(crate) fn model_hashes(dir: &Path) -> Result<serde_json::Value, TrainError> {
    let mut out = serde_json::Map::new();
    for file in rlxf_model::weights::checkpoint_files(dir)? {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.insert(name, checksum::sha256_file(&file)?.into());
    }
    Ok(out.into())
}
