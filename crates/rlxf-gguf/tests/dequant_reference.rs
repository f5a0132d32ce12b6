//! Dequantization against gguf-py (`gguf.quants.dequantize`, gguf==0.19.0), bit for bit.
//!
//! `tests/fixtures/dequant/<TYPE>.bin` holds random blocks and `<TYPE>.f32` gguf-py's output,
//! made by `tests/reference/gguf_reference.py dequant-fixtures` (seed 1234). When the repo venv
//! (`.venv/bin/python` with `gguf` installed) exists, a second test regenerates fixtures with
//! other seeds and compares against those too.

use std::path::{Path, PathBuf};
use std::process::Command;

use rlxf_gguf::dequant::dequantize;
use rlxf_gguf::GgmlType;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares every supported type's fixture in `dir`; returns how many values were checked.
fn compare_dir(dir: &Path) -> usize {
    let mut checked = 0;
    for t in GgmlType::SUPPORTED {
        let name = t.name();
        let raw = std::fs::read(dir.join(format!("{name}.bin")))
            .unwrap_or_else(|e| panic!("{name}.bin: {e}"));
        let want: Vec<u32> = std::fs::read(dir.join(format!("{name}.f32")))
            .unwrap_or_else(|e| panic!("{name}.f32: {e}"))
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let mut got = vec![0f32; want.len()];
        dequantize(t, &raw, &mut got).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            // 0 ulp: same IEEE operations in the same order as ggml / numpy.
            assert_eq!(
                g.to_bits(),
                *w,
                "{name} value {i}: rlxf {g:e} vs gguf-py {:e}",
                f32::from_bits(*w)
            );
        }
        checked += want.len();
    }
    checked
}

#[test]
fn matches_committed_gguf_py_fixtures() {
    let n = compare_dir(&crate_dir().join("tests/fixtures/dequant"));
    assert!(n > 8_000, "{n}");
}

#[test]
fn matches_freshly_generated_gguf_py_output() {
    let python = crate_dir().join("../../.venv/bin/python");
    assert!(python.exists(), "no {}: run scripts/setup-venv.sh", python.display());
    let has_gguf = Command::new(&python)
        .args(["-c", "import gguf"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(has_gguf, "the venv has no `gguf` package: re-run scripts/setup-venv.sh");
    let script = crate_dir().join("tests/reference/gguf_reference.py");
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .arg("dequant-fixtures")
            .arg(dir.path())
            .args(["--seed", &seed.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "reference script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        compare_dir(dir.path());
    }
}
