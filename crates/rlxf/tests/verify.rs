//! `rlxf verify`: the verdict and parsed forms of one (prediction, gold) pair, as JSON.

use std::process::Command;

fn verify(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rlxf")).arg("verify").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn extracts_parses_and_compares() {
    let r = verify(&["so the answer is \\boxed{\\frac{7}{2}}", "3.5"]);
    assert_eq!(r["equal"], true);
    assert_eq!(r["extracted"]["rule"], "boxed");
    assert_eq!(r["prediction"]["value"], "7/2");
    let r = verify(&["--raw", "1,234", "1235"]);
    assert_eq!(r["equal"], false);
    assert_eq!(r["method"], "numeric");
    let r = verify(&["I do not know", "5"]);
    assert_eq!(r["method"], "no_answer");
}

#[test]
fn bad_extraction_rule_is_one_error_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_rlxf")).args(["verify", "--extraction", "bogus", "x", "y"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bogus") && stderr.contains("boxed"), "{stderr}");
}
