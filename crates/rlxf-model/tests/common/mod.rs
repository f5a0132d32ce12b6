//! Shared by the integration tests: the repo venv's Python and the reference script.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// The venv made by scripts/setup-venv.sh. Tests that compare with PyTorch need it: a missing venv
/// is a failure with instructions, never a silent skip.
pub fn venv_python() -> PathBuf {
    let py = repo_root().join(".venv/bin/python");
    assert!(py.exists(), "{} missing: run scripts/setup-venv.sh (the README's test command does)", py.display());
    py
}

pub fn run_reference(args: &[&str]) {
    let script = repo_root().join("tests/python/tiny_reference.py");
    let out = Command::new(venv_python()).arg(script).args(args).output().expect("run python");
    assert!(out.status.success(), "reference script failed: {}", String::from_utf8_lossy(&out.stderr));
}

pub fn read_reference(path: &Path) -> std::collections::HashMap<String, tch::Tensor> {
    tch::Tensor::read_safetensors(path).expect("read reference").into_iter().collect()
}

pub fn smollm_dir() -> PathBuf {
    let dir = repo_root().join("models/smollm2-135m-instruct");
    assert!(dir.join("model.safetensors").exists(), "{} missing: run scripts/fetch-models.sh", dir.display());
    dir
}
