//! `rlxf train` for the offline preference recipes (`dpo`, `ipo`, `hinge`, `simpo`, `kto`,
//! `reward_model`): the same entry point, dispatched on `algorithm.name`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use rlxf_train::algorithm::is_preference;
use rlxf_train::preference::PreferenceTrainer;
use rlxf_train::TrainConfig;

/// Whether the recipe (or the run folder being resumed) names a preference objective.
pub fn is_preference_run(
    config: Option<&Path>,
    resume: Option<&Path>,
    overrides: &[String],
) -> Result<bool> {
    let path = match (resume, config) {
        (Some(run_dir), _) => run_dir.join("config.toml"),
        (None, Some(path)) => path.to_path_buf(),
        (None, None) => return Ok(false),
    };
    // Read the name without validating: the full load below reports any problem with the recipe.
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(false);
    };
    let from_file = toml::from_str::<toml::Table>(&text)
        .ok()
        .and_then(|t| t.get("algorithm")?.get("name")?.as_str().map(str::to_owned));
    let overridden = overrides
        .iter()
        .rev()
        .find_map(|o| o.strip_prefix("algorithm.name="))
        .map(|v| v.trim_matches('"').to_owned());
    Ok(overridden
        .or(from_file)
        .is_some_and(|name| is_preference(&name)))
}

pub fn train(config: Option<PathBuf>, overrides: &[String], resume: Option<PathBuf>) -> Result<()> {
    let trainer = match resume {
        Some(run_dir) => PreferenceTrainer::resume(&run_dir, overrides)?,
        None => {
            let config = TrainConfig::load(config.as_deref(), overrides)?;
            eprintln!("# resolved recipe\n{}", config.to_toml());
            PreferenceTrainer::new(config)?
        }
    };
    eprintln!("run folder: {}", trainer.run_dir().display());
    let summary = trainer
        .with_stop_flag(crate::commands::stop_on_signals()?)
        .train()?;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "run_dir": summary.run_dir,
            "algorithm": summary.algorithm,
            "model_dir": summary.model_dir,
            "preference_accuracy_before": summary.pairs_before.accuracy,
            "preference_accuracy_after": summary.pairs_after.accuracy,
            "accuracy_before": summary.task_before.as_ref().map(|t| t.accuracy),
            "accuracy_after": summary.task_after.as_ref().map(|t| t.accuracy),
            "train_seconds": summary.train_seconds,
            "total_seconds": summary.total_seconds,
        }))?
    );
    Ok(())
}
