//! Checkpoints of a run, written atomically and verified on load.
//!
//! `run/checkpoints/step-000012/` holds `policy/` (a Hugging Face folder in the training dtype, so
//! reloading is exact), `optimizer.safetensors` + `optimizer.json` (AdamW moments and step count),
//! `trainer_state.json` (step, data cursor, seeds, how many metric/sample lines belong to the run
//! so far) and `manifest.json` (SHA-256 of every other file). A checkpoint is built in a
//! `.partial` folder and renamed into place, so a crash mid-write leaves no folder that looks
//! complete; a folder whose files do not match its manifest is reported and skipped in favour of
//! the previous one.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::TrainError;
use crate::evaluation::EvalResult;

const MANIFEST: &str = "manifest.json";
const STATE: &str = "trainer_state.json";
const PARTIAL_SUFFIX: &str = ".partial";

/// Everything besides weights and optimizer moments that a resumed run needs to continue exactly.
/// Sampling seeds and the training problems of a step are pure functions of (seed, step), so the
/// step and the seed are the whole random state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainerState {
    pub step: usize,
    pub seed: u64,
    /// Index of the next training problem.
    pub data_cursor: u64,
    /// SHA-256 of the resolved config the run started with.
    pub config_sha256: String,
    /// Lines of `metrics.jsonl` and `samples.jsonl` written up to this step.
    pub metrics_lines: usize,
    pub samples_lines: usize,
    pub train_seconds: f64,
    pub before: EvalResult,
    /// KL coefficient after this step (changes when it is adaptive).
    #[serde(default)]
    pub kl_coef: f64,
}

/// The checkpoints of one run folder, keeping the newest `keep_last`.
pub struct CheckpointStore {
    dir: PathBuf,
    keep_last: usize,
}

/// A checkpoint that passed verification.
pub struct Checkpoint {
    pub path: PathBuf,
    pub state: TrainerState,
}

impl Checkpoint {
    pub fn policy_dir(&self) -> PathBuf {
        self.path.join("policy")
    }
}

impl CheckpointStore {
    pub fn new(run_dir: &Path, keep_last: usize) -> Self {
        Self {
            dir: run_dir.join("checkpoints"),
            keep_last: keep_last.max(1),
        }
    }

    fn folder_name(step: usize) -> String {
        format!("step-{step:06}")
    }

    /// Writes a checkpoint: `write_payload` fills the folder (policy, optimizer), then the state and
    /// manifest are added and the folder is renamed into place. Older checkpoints beyond
    /// `keep_last` are removed afterwards, so a failed write never loses the previous one.
    pub fn save(
        &self,
        state: &TrainerState,
        write_payload: impl FnOnce(&Path) -> Result<(), TrainError>,
    ) -> Result<PathBuf, TrainError> {
        let final_path = self.dir.join(Self::folder_name(state.step));
        let partial = self
            .dir
            .join(format!("{}{PARTIAL_SUFFIX}", Self::folder_name(state.step)));
        for stale in [&partial, &final_path] {
            if stale.exists() {
                std::fs::remove_dir_all(stale).map_err(|e| TrainError::io(stale, e))?;
            }
        }
        std::fs::create_dir_all(&partial).map_err(|e| TrainError::io(&partial, e))?;
        write_payload(&partial)?;
        write_json(&partial.join(STATE), state)?;
        let manifest = hash_tree(&partial)?;
        write_json(&partial.join(MANIFEST), &manifest)?;
        std::fs::rename(&partial, &final_path).map_err(|e| TrainError::io(&final_path, e))?;
        self.prune()?;
        Ok(final_path)
    }

    /// Step folders present, newest first (partial folders excluded).
    fn listed(&self) -> Result<Vec<(usize, PathBuf)>, TrainError> {
        if !self.dir.exists() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| TrainError::io(&self.dir, e))? {
            let entry = entry.map_err(|e| TrainError::io(&self.dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(step) = name
                .strip_prefix("step-")
                .and_then(|s| s.parse::<usize>().ok())
            {
                found.push((step, entry.path()));
            }
        }
        found.sort_by_key(|(step, _)| std::cmp::Reverse(*step));
        Ok(found)
    }

    fn prune(&self) -> Result<(), TrainError> {
        for (_, path) in self.listed()?.into_iter().skip(self.keep_last) {
            std::fs::remove_dir_all(&path).map_err(|e| TrainError::io(&path, e))?;
        }
        Ok(())
    }

    /// The newest checkpoint whose files match its manifest. Each newer one that fails is reported
    /// on stderr with the reason, then skipped.
    pub fn latest_valid(&self) -> Result<Option<Checkpoint>, TrainError> {
        for (_, path) in self.listed()? {
            match verify(&path) {
                Ok(state) => return Ok(Some(Checkpoint { path, state })),
                Err(reason) => {
                    eprintln!(
                        "warning: checkpoint {} is unusable ({reason}); trying the previous one",
                        path.display()
                    );
                    tracing::warn!(checkpoint = %path.display(), %reason, "skipping corrupt checkpoint");
                }
            }
        }
        Ok(None)
    }
}

/// Checks every file against the manifest and that no listed file is missing or extra.
fn verify(path: &Path) -> Result<TrainerState, String> {
    let manifest_path = path.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("no readable {MANIFEST}: {e}"))?;
    let expected: BTreeMap<String, String> =
        serde_json::from_str(&text).map_err(|e| format!("{MANIFEST} is not valid: {e}"))?;
    let actual = hash_tree(path).map_err(|e| e.to_string())?;
    for (file, hash) in &expected {
        match actual.get(file) {
            None => return Err(format!("{file} is missing")),
            Some(h) if h != hash => {
                return Err(format!("{file} does not match its recorded SHA-256"))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = actual.keys().find(|k| !expected.contains_key(*k)) {
        return Err(format!("{extra} is not in the manifest"));
    }
    let state_text = std::fs::read_to_string(path.join(STATE))
        .map_err(|e| format!("no readable {STATE}: {e}"))?;
    serde_json::from_str(&state_text).map_err(|e| format!("{STATE} is not valid: {e}"))
}

/// SHA-256 of every file under `root` except the manifest, keyed by relative path.
fn hash_tree(root: &Path) -> Result<BTreeMap<String, String>, TrainError> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| TrainError::io(&dir, e))? {
            let path = entry.map_err(|e| TrainError::io(&dir, e))?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            if relative != MANIFEST {
                out.insert(relative, sha256_file(&path)?);
            }
        }
    }
    Ok(out)
}

pub fn sha256_file(path: &Path) -> Result<String, TrainError> {
    let mut file = std::fs::File::open(path).map_err(|e| TrainError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| TrainError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn sha256_text(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| TrainError::Other(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| TrainError::io(path, e))
}

/// What both trainers need to continue a run: its saved config with `overrides` applied, the newest
/// intact checkpoint, and the run folder cut back to that checkpoint. A config that differs from the
/// one the run started with is reported (the continuation will differ from an uninterrupted run).
pub fn open_for_resume(
    run_dir: &Path,
    overrides: &[String],
) -> Result<(crate::TrainConfig, Checkpoint, crate::run_dir::RunDir), TrainError> {
    let config_path = run_dir.join("config.toml");
    if !config_path.exists() {
        return Err(TrainError::Checkpoint(format!(
            "{} has no config.toml: not an rlxf run folder (give the folder `rlxf train` printed)",
            run_dir.display()
        )));
    }
    let mut all = overrides.to_vec();
    all.push(format!("run_dir={}", toml::Value::String(run_dir.display().to_string())));
    let config = crate::TrainConfig::load(Some(&config_path), &all)?;
    let store = CheckpointStore::new(run_dir, config.checkpoint.keep_last);
    let checkpoint = store.latest_valid()?.ok_or_else(|| {
        TrainError::Checkpoint(format!(
            "{} has no intact checkpoint to resume from (checkpoints are written every checkpoint.every steps and on Ctrl-C)",
            run_dir.display()
        ))
    })?;
    if sha256_text(&config.to_toml()) != checkpoint.state.config_sha256 {
        eprintln!("warning: the resolved config differs from the one the run started with (--set overrides); the continuation will differ from an uninterrupted run");
    }
    let run = crate::run_dir::RunDir::reopen(run_dir, checkpoint.state.metrics_lines, checkpoint.state.samples_lines)?;
    Ok((config, checkpoint, run))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(step: usize) -> TrainerState {
        TrainerState {
            step,
            seed: 0,
            data_cursor: step as u64 * 2,
            config_sha256: sha256_text("x"),
            metrics_lines: step,
            samples_lines: step,
            train_seconds: 1.0,
            before: EvalResult {
                accuracy: 0.5,
                mean_reward: 0.5,
                mean_tokens: 3.0,
                problems: 2,
                seconds: 0.1,
                samples: vec![],
            },
            kl_coef: 0.0,
        }
    }

    fn payload(text: &'static str) -> impl FnOnce(&Path) -> Result<(), TrainError> {
        move |dir: &Path| {
            std::fs::create_dir_all(dir.join("policy")).unwrap();
            std::fs::write(dir.join("policy/weights.bin"), text).map_err(|e| TrainError::io(dir, e))
        }
    }

    #[test]
    fn keeps_last_n_and_falls_back_past_a_corrupt_one() {
        let run = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(run.path(), 2);
        for step in 1..=3 {
            store.save(&state(step), payload("weights")).unwrap();
        }
        let names: Vec<usize> = store
            .listed()
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(names, vec![3, 2], "only the newest two are kept");
        assert_eq!(store.latest_valid().unwrap().unwrap().state.step, 3);
        // Flip the newest checkpoint's weights: it must be detected, and step 2 used.
        std::fs::write(
            run.path()
                .join("checkpoints/step-000003/policy/weights.bin"),
            "weightz",
        )
        .unwrap();
        assert_eq!(store.latest_valid().unwrap().unwrap().state.step, 2);
        // A missing file is detected too.
        std::fs::remove_file(
            run.path()
                .join("checkpoints/step-000002/trainer_state.json"),
        )
        .unwrap();
        assert!(store.latest_valid().unwrap().is_none());
    }

    #[test]
    fn a_failed_write_leaves_no_complete_looking_folder() {
        let run = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(run.path(), 2);
        store.save(&state(1), payload("a")).unwrap();
        let failed = store.save(&state(2), |_dir: &Path| {
            Err(TrainError::Other("disk full".into()))
        });
        assert!(failed.is_err());
        assert!(!run.path().join("checkpoints/step-000002").exists());
        assert_eq!(store.latest_valid().unwrap().unwrap().state.step, 1);
        // The next attempt at the same step replaces the stale partial folder.
        store.save(&state(2), payload("b")).unwrap();
        assert_eq!(store.latest_valid().unwrap().unwrap().state.step, 2);
    }
}
