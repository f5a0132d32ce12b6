//! Our backward against Hugging Face transformers' autograd: every parameter's gradient of the same
//! loss, on the same tiny model and left-padded batch (`tests/python/tiny_reference.py`,
//! `loss_gradients`). The forward is checked against the same reference in `logit_parity.rs`; this
//! covers what only the backward runs: the fused MLP tail's recomputation (`swiglu_down`), attention,
//! norms, embeddings and the vocabulary projection.

use rlxf_model::testing::read_reference;
use rlxf_model::LanguageModel;
use tch::{Device, Kind, Tensor};

/// `tiny_reference.py`'s `weighted_next_token_loss`: w_t * log p(next token) over real pairs, w_t
/// running from -1 to 1 along the row.
fn weighted_next_token_loss(logits: &Tensor, ids: &Tensor, mask: &Tensor) -> Tensor {
    let t = ids.size()[1];
    let logp = logits
        .narrow(1, 0, t - 1)
        .to_kind(Kind::Float)
        .log_softmax(-1, Kind::Float)
        .gather(-1, &ids.narrow(1, 1, t - 1).unsqueeze(-1), false)
        .squeeze_dim(-1);
    let pairs = (mask.narrow(1, 0, t - 1) * mask.narrow(1, 1, t - 1)).to_kind(Kind::Float);
    let weights = Tensor::linspace(-1.0, 1.0, t - 1, (Kind::Float, Device::Cpu)).unsqueeze(0);
    (logp * pairs * weights).sum(Kind::Float)
}

fn check(arch: &str) {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model(arch, 0, dir.path()).unwrap();
    let reference = read_reference(&dir.path().join("reference.safetensors"));
    let model = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    let (ids, mask) = (&reference["input_ids"], &reference["attention_mask"]);
    let loss = weighted_next_token_loss(&model.logits(ids, mask), ids, mask);
    let theirs_loss = reference["loss"].double_value(&[0]);
    assert!((loss.double_value(&[]) - theirs_loss).abs() <= 1e-4 * theirs_loss.abs().max(1.0), "{arch}: loss {} vs {theirs_loss}", loss.double_value(&[]));
    loss.backward();
    let variables = model.vs.variables();
    let reference_grads = reference.keys().filter(|k| k.starts_with("grad.")).count();
    assert_eq!(variables.len(), reference_grads, "{arch}: one reference gradient per parameter");
    for (name, var) in &variables {
        let theirs = reference.get(&format!("grad.{name}")).unwrap_or_else(|| panic!("{arch}: no reference gradient for {name}"));
        let ours = var.grad();
        assert!(ours.defined(), "{arch}: {name} got no gradient");
        let scale = theirs.abs().max().double_value(&[]);
        assert!(scale > 0.0, "{arch}: the reference gradient of {name} is zero, so it checks nothing");
        let diff = (&ours - theirs).abs().max().double_value(&[]);
        // f32 on both sides, different summation orders (SDPA vs eager attention, fused vs composed
        // MLP backward): rounding-sized differences only.
        assert!(diff <= 1e-4 * scale.max(1e-2), "{arch}: {name}'s gradient differs by {diff} (largest entry {scale})");
    }
}

#[test]
fn tiny_llama_gradients_match_transformers() {
    check("llama");
}

#[test]
fn tiny_qwen2_gradients_match_transformers() {
    check("qwen2");
}
