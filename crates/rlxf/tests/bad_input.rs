//! Bad inputs to the binary: each gives one clear `error:` line naming the problem, a non-zero exit,
//! and never a panic.

#[path = "../../rlxf-gguf/tests/common/mod.rs"]
mod gguf_fixtures;

use std::path::Path;
use std::process::Command;

use rlxf_gguf::GgmlType;

/// Runs rlxf and returns its stderr, asserting failure without a panic and a single error line.
fn fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rlxf")).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "expected failure for {args:?}");
    assert_eq!(out.status.code(), Some(1), "clean non-zero exit expected, got {:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "panic for {args:?}: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line expected: {stderr}");
    errors[0].to_string()
}

fn tiny_model(dir: &Path) {
    rlxf_model::testing::tiny_model("llama", 0, dir).unwrap();
}

#[test]
fn missing_model_folder() {
    let e = fails(&["generate", "--model", "/no/such/model", "--prompt", "hi"]);
    assert!(e.contains("/no/such/model") && e.contains("not found") && e.contains("fetch-models"), "{e}");
    let e = fails(&["train", "--set", "model.path=/no/such/model"]);
    assert!(e.contains("/no/such/model") && e.contains("config.json"), "{e}");
}

#[test]
fn truncated_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(dir.path());
    let file = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let e = fails(&["generate", "--model", dir.path().to_str().unwrap(), "--prompt", "hi", "--threads", "1"]);
    assert!(e.contains("model.safetensors") && e.contains("truncated"), "{e}");
}

#[test]
fn unknown_architecture() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(dir.path());
    let config = dir.path().join("config.json");
    let text = std::fs::read_to_string(&config).unwrap().replace("LlamaForCausalLM", "MambaForCausalLM");
    std::fs::write(&config, text).unwrap();
    let e = fails(&["generate", "--model", dir.path().to_str().unwrap(), "--prompt", "hi"]);
    assert!(e.contains("config.json") && e.contains("MambaForCausalLM") && e.contains("supported"), "{e}");
    let e = fails(&["train", "--set", &format!("model.path={}", dir.path().display()), "--dry-run"]);
    assert!(e.contains("MambaForCausalLM"), "{e}");
}

#[test]
fn gguf_with_unsupported_quant_type() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = gguf_fixtures::synthetic_model("llama", 1).gguf;
    let t = model.tensors.iter_mut().find(|t| t.name == "blk.0.attn_q.weight").unwrap();
    t.ggml_type = GgmlType(16); // IQ2_XXS
    t.data = vec![0; 66 * t.dims.iter().product::<u64>() as usize / 256];
    let path = dir.path().join("model.gguf");
    std::fs::write(&path, model.to_bytes()).unwrap();
    let out = dir.path().join("hf");
    let e = fails(&["import-gguf", path.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(e.contains("IQ2_XXS") && e.contains("blk.0.attn_q.weight") && e.contains("supported"), "{e}");
    assert!(!out.exists(), "a failed import must not leave a model folder behind");
    std::fs::write(&path, b"not a gguf at all").unwrap();
    let e = fails(&["import-gguf", path.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(e.contains("model.gguf"), "{e}");
}

#[test]
fn bad_recipes() {
    let dir = tempfile::tempdir().unwrap();
    let e = fails(&["train", "--config", "/no/such/recipe.toml"]);
    assert!(e.contains("/no/such/recipe.toml"), "{e}");
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "seed = [unclosed").unwrap();
    let e = fails(&["train", "--config", broken.to_str().unwrap()]);
    assert!(e.contains("broken.toml"), "{e}");
    let e = fails(&["train", "--set", "optimizer.lrr=1e-5", "--dry-run"]);
    assert!(e.contains("lrr"), "unknown keys are named: {e}");
    let e = fails(&["train", "--set", "optimizer.micro_batch_size=7", "--dry-run"]);
    assert!(e.contains("micro_batch_size") && e.contains("divide"), "{e}");
    let e = fails(&["train", "--set", "noequals", "--dry-run"]);
    assert!(e.contains("key=value"), "{e}");
    let e = fails(&["train", "--set", "model.dtype=bf16", "--set", "model.autocast=bf16", "--dry-run"]);
    assert!(e.contains("model.autocast") && e.contains("dtype = \"f32\""), "{e}");
    let e = fails(&["train", "--set", "model.autocast=fp8", "--dry-run"]);
    assert!(e.contains("unknown autocast `fp8`"), "{e}");
    let e = fails(&["train", "--set", "model.autocast_rounding=stochastic", "--dry-run"]);
    assert!(e.contains("model.autocast_rounding") && e.contains("model.autocast = \"bf16\""), "{e}");
    let e = fails(&["train", "--set", "model.autocast=bf16", "--set", "model.autocast_rounding=up", "--dry-run"]);
    assert!(e.contains("unknown `up`") && e.contains("nearest or stochastic"), "{e}");
    let dpo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../recipes/dpo.toml");
    let e = fails(&["train", "--config", dpo, "--set", "model.gradient_checkpointing=true", "--dry-run"]);
    assert!(e.contains("model.gradient_checkpointing") && e.contains("policy-gradient"), "{e}");
}
