//! `rlxf bench attention` and `rlxf bench projections` on small shapes: they run, check the kernels
//! against libtorch on the way (attention fails on a disagreement), and print their tables; bad
//! shapes give one clean error line. `rlxf bench rollout` on a tiny model, tokens chosen on the host
//! and on the device.

use std::process::{Command, Output};

fn rlxf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rlxf")).args(args).env("RLXF_LOG", "error").output().unwrap()
}

/// The kernels need x86-64 with AVX2 and FMA; elsewhere the commands say so and the test has nothing to time.
fn unsupported(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stderr).contains("cannot run here")
}

#[test]
fn attention_benchmark_checks_the_kernel_and_reports_both_engines() {
    let out = rlxf(&["bench", "attention", "--rows", "3", "--positions", "41", "--padding", "5", "--layers", "2", "--repeats", "1", "--threads", "1"]);
    if unsupported(&out) {
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}{stdout}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("max |kernel - sdpa|"), "{stdout}");
    assert!(stdout.contains("| libtorch sdpa |") && stdout.contains("| rlxf decode_attention |"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("ratio ") && l.ends_with('x')), "{stdout}");
}

#[test]
fn projections_benchmark_reports_every_shape_and_the_step() {
    let out = rlxf(&["bench", "projections", "--rows", "3", "--repeats", "1", "--threads", "1"]);
    if unsupported(&out) {
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}{stdout}", String::from_utf8_lossy(&out.stderr));
    for row in ["| q_proj, o_proj |", "| k_proj, v_proj |", "| gate_proj, up_proj |", "| down_proj |", "| lm_head |", "| all of one step |"] {
        assert!(stdout.contains(row), "{row} missing: {stdout}");
    }
}

#[test]
fn bad_shapes_are_one_error_line() {
    for args in [
        &["bench", "attention", "--heads", "8", "--kv-heads", "3"][..],
        &["bench", "attention", "--positions", "10", "--padding", "10"][..],
        &["bench", "attention", "--head-dim", "96", "--layers", "1", "--repeats", "1"][..],
        &["bench", "projections", "--rows", "0"][..],
    ] {
        let out = rlxf(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn rollout_benchmark_reports_fixed_length_work_for_both_choice_sites() {
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 5, dir.path()).unwrap();
    let prompts = dir.path().join("prompts.json");
    std::fs::write(&prompts, "[[5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]").unwrap();
    for site in ["host", "device"] {
        let model = dir.path().display().to_string();
        let prompts = prompts.display().to_string();
        let args = ["bench", "rollout", "--model", &model, "--prompts", &prompts, "--batch", "3", "--new-tokens", "12", "--repeats", "2", "--threads", "1", "--choose-on", site];
        let out = rlxf(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}{stdout}", String::from_utf8_lossy(&out.stderr));
        let records: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(records.len(), 2, "{stdout}");
        for r in &records {
            assert_eq!(r["choose_on"], site, "{r}");
            // End-of-sequence is held back, so every row is exactly --new-tokens long.
            assert_eq!(r["generated_tokens"], 36, "{r}");
            assert!(r["tokens_per_second"].as_f64().unwrap() > 0.0, "{r}");
            assert!(r.get("cuda_max_allocated_mb").is_none(), "no GPU figures on the CPU: {r}");
        }
    }
    let out = rlxf(&["bench", "rollout", "--model", ".", "--prompts", "x", "--batch", "1", "--choose-on", "gpu"]);
    assert_eq!(out.status.code(), Some(2), "clap rejects an unknown site: {}", String::from_utf8_lossy(&out.stderr));
}
