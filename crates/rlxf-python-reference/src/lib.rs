//! Test support shared by the crates whose numerics are checked against the independent PyTorch
//! implementations in `tests/python/`: locating the repo venv, running a reference script on JSON
//! cases, and comparing its numbers with ours. Test-only (a dev-dependency); no libtorch.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

/// The workspace root (this crate sits in `crates/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The repo venv's Python, or a message with the command that creates it.
pub fn venv_python() -> Result<PathBuf, String> {
    let py = repo_root().join(".venv/bin/python");
    if py.exists() {
        Ok(py)
    } else {
        Err(format!("{} missing: run scripts/setup-venv.sh (the README's test command does)", py.display()))
    }
}

/// Runs `tests/python/<script>` with `{"cases": cases}` on stdin and returns its `results`, one per
/// case. Panics with the script's stderr when it fails: these are test assertions.
pub fn reference(script: &str, cases: &[Value]) -> Vec<Value> {
    let python = venv_python().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(python)
        .arg(repo_root().join("tests/python").join(script))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the reference script");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json!({ "cases": cases }).to_string().as_bytes())
        .expect("write cases");
    let out = child.wait_with_output().expect("reference output");
    assert!(out.status.success(), "reference script {script} failed: {}", String::from_utf8_lossy(&out.stderr));
    let parsed: Value = serde_json::from_slice(&out.stdout).expect("reference JSON");
    parsed["results"].as_array().expect("results").clone()
}

/// Every number of a (nested) JSON array, in order.
pub fn flatten(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(xs) => xs.iter().flat_map(flatten).collect(),
        Value::Number(n) => vec![n.as_f64().expect("number")],
        other => panic!("not a number: {other}"),
    }
}

/// Asserts `got` equals the reference's `want` to 1e-5 (relative above magnitude 1).
pub fn close(label: &str, got: &[f64], want: &Value) {
    let want = flatten(want);
    assert_eq!(got.len(), want.len(), "{label}: length");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{label}[{i}]: rust {g} vs reference {w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_and_close_compare_nested_numbers() {
        let want = json!([[1.0, 2.0], [3.0]]);
        assert_eq!(flatten(&want), vec![1.0, 2.0, 3.0]);
        close("ok", &[1.0, 2.0 + 1e-7, 3.0], &want);
        let far = std::panic::catch_unwind(|| close("far", &[1.0, 2.1, 3.0], &want));
        assert!(far.is_err(), "a 0.1 difference must fail");
    }
}
