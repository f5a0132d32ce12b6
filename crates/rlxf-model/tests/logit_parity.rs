//! Our forward pass against Hugging Face transformers on the same token ids (left-padded batch).

mod common;

use rlxf_model::LanguageModel;
use tch::{Device, Kind, Tensor};

/// Max |ours - transformers| over the real (non-padding) positions.
fn max_diff_on_valid(ours: &Tensor, theirs: &Tensor, mask: &Tensor) -> f64 {
    let valid = mask.to_kind(Kind::Float).unsqueeze(-1);
    ((ours - theirs).abs() * valid).max().double_value(&[])
}

fn check_tiny(arch: &str) {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    common::run_reference(&["--arch", arch, "--out", out]);
    let reference = common::read_reference(&dir.path().join("reference.safetensors"));
    let model = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    let ids = &reference["input_ids"];
    let mask = &reference["attention_mask"];
    let logits = tch::no_grad(|| model.logits(ids, mask));
    let diff = max_diff_on_valid(&logits, &reference["logits"], mask);
    assert!(diff <= 1e-4, "{arch}: max abs logit diff {diff} > 1e-4");
    // The comparison must be able to fail: perturbing one weight moves the logits far beyond 1e-4.
    let var = model.vs.variables()["model.layers.1.mlp.down_proj.weight"].shallow_clone();
    tch::no_grad(|| {
        let _ = var.shallow_clone().g_add_scalar_(0.01);
    });
    let perturbed = tch::no_grad(|| model.logits(ids, mask));
    assert!(max_diff_on_valid(&perturbed, &reference["logits"], mask) > 1e-3);
}

#[test]
fn tiny_llama_matches_transformers() {
    check_tiny("llama");
}

#[test]
fn tiny_qwen2_matches_transformers() {
    check_tiny("qwen2");
}

#[test]
fn save_then_load_round_trips_exactly() {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    common::run_reference(&["--arch", "qwen2", "--out", dir.path().to_str().unwrap()]);
    let model = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    let saved = tempfile::tempdir().unwrap();
    model.save(saved.path(), Kind::Float).unwrap();
    let again = LanguageModel::load(saved.path(), Device::Cpu, Kind::Float).unwrap();
    for (name, t) in model.vs.variables() {
        let u = &again.vs.variables()[&name];
        assert!(t.equal(u), "{name} changed in the round trip");
    }
}

#[test]
#[ignore = "needs models: run scripts/fetch-models.sh (scripts/test.sh does)"]
fn smollm2_matches_transformers() {
    tch::set_num_threads(2);
    let dir = common::smollm_dir();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("smollm.safetensors");
    common::run_reference(&["--model", dir.to_str().unwrap(), "--out", file.to_str().unwrap()]);
    let reference = common::read_reference(&file);
    let model = LanguageModel::load(&dir, Device::Cpu, Kind::Float).unwrap();
    let logits = tch::no_grad(|| model.logits(&reference["input_ids"], &reference["attention_mask"]));
    let diff = max_diff_on_valid(&logits, &reference["logits"], &reference["attention_mask"]);
    assert!(diff <= 1e-4, "SmolLM2: max abs logit diff {diff} > 1e-4");
}
