//! Our forward pass against Hugging Face transformers on the same token ids (left-padded batch).

use rlxf_model::testing::read_reference;
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
    rlxf_model::testing::tiny_model(arch, 0, dir.path()).unwrap();
    let reference = read_reference(&dir.path().join("reference.safetensors"));
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
    rlxf_model::testing::tiny_model("qwen2", 0, dir.path()).unwrap();
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
    check_real_model(&rlxf_model::testing::smollm_dir().unwrap(), "SmolLM2");
}

#[test]
#[ignore = "needs models: run scripts/fetch-models.sh --qwen (scripts/test.sh does)"]
fn qwen25_coder_matches_transformers() {
    check_real_model(&rlxf_model::testing::qwen_dir().unwrap(), "Qwen2.5-Coder-0.5B");
}

fn check_real_model(dir: &std::path::Path, label: &str) {
    tch::set_num_threads(2);
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("reference.safetensors");
    rlxf_model::testing::run_reference(&["--model", dir.to_str().unwrap(), "--out", file.to_str().unwrap()]).unwrap();
    let reference = read_reference(&file);
    let model = LanguageModel::load(dir, Device::Cpu, Kind::Float).unwrap();
    let logits = tch::no_grad(|| model.logits(&reference["input_ids"], &reference["attention_mask"]));
    let diff = max_diff_on_valid(&logits, &reference["logits"], &reference["attention_mask"]);
    // transformers' f32 projections run MKL; rlxf's few-rows kernel (rlxf_model::few_rows_linear) sums
    // in another order, no less exactly (tests/few_rows_linear.rs checks both against f64), so the two
    // differ by float rounding: 1.02e-4 and 1.04e-4 here, against 1e-2 and more for a wrong RoPE,
    // norm or mask.
    assert!(diff <= 2e-4, "{label}: max abs logit diff {diff} > 2e-4");
    check_autocast(dir, &reference, label);
}

#[test]
fn sharded_checkpoint_loads_like_single_file() {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("llama", 0, dir.path()).unwrap();
    let single = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    // Split the weights over two shards with an index, as transformers writes large models.
    let tensors = Tensor::read_safetensors(dir.path().join("model.safetensors")).unwrap();
    let (first, second) = tensors.split_at(tensors.len() / 2);
    Tensor::write_safetensors(first, dir.path().join("model-00001-of-00002.safetensors")).unwrap();
    Tensor::write_safetensors(second, dir.path().join("model-00002-of-00002.safetensors")).unwrap();
    let mut map = serde_json::Map::new();
    for (names, file) in [(first, "model-00001-of-00002.safetensors"), (second, "model-00002-of-00002.safetensors")] {
        for (name, _) in names {
            map.insert(name.clone(), file.into());
        }
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": map});
    std::fs::write(dir.path().join("model.safetensors.index.json"), index.to_string()).unwrap();
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    let sharded = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    for (name, t) in single.vs.variables() {
        assert!(t.equal(&sharded.vs.variables()[&name]), "{name} differs");
    }
}

/// Mean |ours - transformers| over the real (non-padding) positions.
fn mean_diff_on_valid(ours: &Tensor, theirs: &Tensor, mask: &Tensor) -> f64 {
    let valid = mask.to_kind(Kind::Float).unsqueeze(-1);
    let positions = valid.sum(Kind::Double).double_value(&[]) * ours.size().last().copied().unwrap_or(1) as f64;
    ((ours - theirs).abs() * valid).sum(Kind::Double).double_value(&[]) / positions
}

/// bf16 mixed precision against transformers under `torch.autocast("cpu", bfloat16)` on the same f32
/// weights: the products run in bf16 on both sides, so the training forward (gradients on, libtorch's
/// kernels) must sit far closer to that reference than to the f32 one (the test fails if autocast
/// were off, or on for the wrong operations). Without gradients few rows take rlxf's bf16 decoding
/// kernel, whose f32 sums run in another order: bf16 rounds some products' results the other way and
/// the differences grow over the layers, to about the size of bf16's own distance from f32, no more.
fn check_autocast(dir: &std::path::Path, reference: &std::collections::HashMap<String, Tensor>, label: &str) {
    let mut model = LanguageModel::load(dir, Device::Cpu, Kind::Float).unwrap();
    model.set_bf16_autocast(true).unwrap();
    assert_eq!(model.compute_kind(), Kind::BFloat16);
    let (ids, mask) = (&reference["input_ids"], &reference["attention_mask"]);
    let (autocast_ref, f32_ref) = (&reference["logits_bf16_autocast"], &reference["logits"]);
    let training = model.logits(ids, mask).detach().to_kind(Kind::Float);
    let to_autocast = max_diff_on_valid(&training, autocast_ref, mask);
    let autocast_to_f32 = max_diff_on_valid(autocast_ref, f32_ref, mask);
    let scale = f32_ref.abs().max().double_value(&[]);
    eprintln!("{label}: |ours - autocast ref| {to_autocast:.3e}, |autocast ref - f32 ref| {autocast_to_f32:.3e}, max |logit| {scale:.3}");
    assert!(autocast_to_f32 > 1e-3 * scale, "{label}: the reference's autocast changed nothing");
    // Identical on this project's CPU (same bf16 kernels, same cast points); the bound leaves room
    // for another summation order, not for a missing or misplaced cast.
    assert!(to_autocast <= 0.1 * autocast_to_f32, "{label}: {to_autocast} from the autocast reference vs {autocast_to_f32} between references");
    let decoding = tch::no_grad(|| model.logits(ids, mask)).to_kind(Kind::Float);
    let (decoding_gap, bf16_gap) = (mean_diff_on_valid(&decoding, autocast_ref, mask), mean_diff_on_valid(autocast_ref, f32_ref, mask));
    eprintln!("{label}: without gradients, mean |ours - autocast ref| {decoding_gap:.3e}, mean |autocast ref - f32 ref| {bf16_gap:.3e}");
    assert!(decoding_gap <= 1.5 * bf16_gap, "{label}: the no-grad forward is {decoding_gap} from the autocast reference on average, bf16 itself {bf16_gap} from f32");
    assert!(model.vs.variables().values().all(|t| t.kind() == Kind::Float), "{label}: parameters must stay f32");
    model.set_bf16_autocast(false).unwrap();
    let f32_logits = tch::no_grad(|| model.logits(ids, mask));
    assert!(max_diff_on_valid(&f32_logits, f32_ref, mask) <= 2e-4, "{label}: switching autocast off restores f32");
}

fn check_tiny_autocast(arch: &str) {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model(arch, 0, dir.path()).unwrap();
    let reference = read_reference(&dir.path().join("reference.safetensors"));
    check_autocast(dir.path(), &reference, arch);
}

#[test]
fn tiny_llama_matches_transformers_under_bf16_autocast() {
    check_tiny_autocast("llama");
}

#[test]
fn tiny_qwen2_matches_transformers_under_bf16_autocast() {
    check_tiny_autocast("qwen2");
}

#[test]
fn bf16_autocast_needs_f32_parameters() {
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 0, dir.path()).unwrap();
    let mut model = LanguageModel::load(dir.path(), Device::Cpu, Kind::BFloat16).unwrap();
    let err = model.set_bf16_autocast(true).unwrap_err().to_string();
    assert!(err.contains("load it as f32"), "{err}");
}
