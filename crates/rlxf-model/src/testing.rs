//! Fixtures for tests across the workspace: tiny random Llama/Qwen2 models and reference logits made by
//! Hugging Face transformers (`tests/python/tiny_reference.py`, run with the repo venv). Tests that
//! compare with PyTorch need the venv; a missing venv is an error with the fix, never a silent skip.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (this crate lives in `crates/rlxf-model`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn venv_python() -> Result<PathBuf, String> {
    let py = repo_root().join(".venv/bin/python");
    if py.exists() {
        Ok(py)
    } else {
        Err(format!("{} missing: run scripts/setup-venv.sh (the README's test command does)", py.display()))
    }
}

/// Runs the reference script with `args` (see its docstring).
pub fn run_reference(args: &[&str]) -> Result<(), String> {
    let script = repo_root().join("tests/python/tiny_reference.py");
    let out = Command::new(venv_python()?).arg(script).args(args).output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("reference script failed: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// Writes a tiny random model (`arch` = llama or qwen2) with a byte-level tokenizer and chat template
/// into `dir`, plus `reference.safetensors` holding transformers' logits for a left-padded batch.
pub fn tiny_model(arch: &str, seed: u64, dir: &Path) -> Result<(), String> {
    run_reference(&["--arch", arch, "--out", &dir.display().to_string(), "--seed", &seed.to_string()])
}

/// The tensors of a reference file the script wrote, by name.
pub fn read_reference(path: &Path) -> std::collections::HashMap<String, tch::Tensor> {
    tch::Tensor::read_safetensors(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .collect()
}

/// The SmolLM2-135M-Instruct folder made by scripts/fetch-models.sh.
pub fn smollm_dir() -> Result<PathBuf, String> {
    fetched_model("smollm2-135m-instruct", "scripts/fetch-models.sh")
}

/// The Qwen2.5-Coder-0.5B-Instruct folder made by `scripts/fetch-models.sh --qwen`.
pub fn qwen_dir() -> Result<PathBuf, String> {
    fetched_model("qwen2.5-coder-0.5b-instruct", "scripts/fetch-models.sh --qwen")
}

fn fetched_model(name: &str, fetch: &str) -> Result<PathBuf, String> {
    let dir = repo_root().join("models").join(name);
    if dir.join("model.safetensors").exists() {
        Ok(dir)
    } else {
        Err(format!("{} missing: run {fetch}", dir.display()))
    }
}
