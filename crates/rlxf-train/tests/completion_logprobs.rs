//! The trainer's log-probs and entropies of completion tokens (tiled vocabulary projection, shared
//! prompts, padding dropped) against each sequence run on its own through the model's plain
//! forward and a whole-logits log-softmax: values and every parameter's gradient, for a tied head
//! (llama) and a separate one (qwen2), in f32 and under bf16 autocast.

use rlxf_model::LanguageModel;
use rlxf_train::logprobs::{completion_logprobs, Entropy};
use rlxf_train::sequence_batch::SequenceBatch;
use tch::{Device, Kind, Tensor};

const TEMPERATURE: f64 = 0.7;

fn prompts() -> Vec<Vec<u32>> {
    vec![vec![5, 9, 33, 41, 7], vec![12, 200, 3]]
}

/// (prompt index, completion) pairs: a group sharing a prompt, unequal lengths, one token.
fn completions() -> Vec<(usize, Vec<u32>)> {
    vec![(0, vec![8, 100, 17]), (0, vec![99]), (1, vec![44, 45, 46, 47, 256]), (0, vec![8, 101, 18, 19])]
}

/// Loss weights for logp and entropy, one per completion token in order.
fn weights(n: usize) -> (Vec<f64>, Vec<f64>) {
    let a = (0..n).map(|i| 0.5 - 0.13 * i as f64).collect();
    let b = (0..n).map(|i| 0.2 + 0.07 * i as f64).collect();
    (a, b)
}

fn take_grads(model: &LanguageModel) -> Vec<(String, Tensor)> {
    let mut grads: Vec<(String, Tensor)> =
        model.vs.variables().into_iter().map(|(n, v)| (n, v.grad().copy())).collect();
    grads.sort_by(|x, y| x.0.cmp(&y.0));
    for (_, v) in model.vs.variables() {
        let _ = v.grad().zero_();
    }
    grads
}

/// Per completion token: (logp, entropy) from each sequence's own full-logits forward.
fn separate(model: &LanguageModel) -> (Tensor, Tensor) {
    let prompts = prompts();
    let (mut logp, mut entropy) = (Vec::new(), Vec::new());
    for (pi, comp) in completions() {
        let seq: Vec<i64> = prompts[pi].iter().chain(&comp).map(|&t| t as i64).collect();
        let x = Tensor::from_slice(&seq).unsqueeze(0);
        let logits = model.logits(&x, &Tensor::ones_like(&x)).squeeze_dim(0).to_kind(Kind::Float) / TEMPERATURE;
        let log_p = logits.log_softmax(-1, Kind::Float);
        let p = prompts[pi].len() as i64;
        for (j, &t) in comp.iter().enumerate() {
            let row = log_p.get(p - 1 + j as i64);
            logp.push(row.get(t as i64));
            entropy.push(-(row.exp() * &row).sum(Kind::Float));
        }
    }
    (Tensor::stack(&logp, 0), Tensor::stack(&entropy, 0))
}

/// The same tokens through the trainer's batch and `completion_logprobs`.
fn batched(model: &LanguageModel, entropy: Entropy) -> (Tensor, Tensor, Tensor) {
    let prompts = prompts();
    let completions = completions();
    let prompt_refs: Vec<&[u32]> = completions.iter().map(|(pi, _)| prompts[*pi].as_slice()).collect();
    let completion_refs: Vec<&[u32]> = completions.iter().map(|(_, c)| c.as_slice()).collect();
    let batch = SequenceBatch::new(&prompt_refs, &completion_refs, 0, Device::Cpu);
    let out = completion_logprobs(model, &batch, TEMPERATURE, entropy);
    let positions = &batch.completion_positions;
    let flat = |t: &Tensor| t.reshape([-1]).index_select(0, positions);
    // Padding holds zeros, with no gradient path to the model.
    let padding: Tensor = (out.logp.abs() + out.entropy.abs()) * (1.0 - &batch.completion_mask);
    (flat(&out.logp), flat(&out.entropy), padding.detach())
}

fn check(arch: &str, bf16: bool) {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model(arch, 3, dir.path()).unwrap();
    let mut model = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    model.set_bf16_autocast(bf16).unwrap();
    // Under autocast both sides make the same bf16 products; the gradients differ in where bf16 rounds
    // (the tiles sum their parts in f32).
    let (value_tolerance, gradient_tolerance) = if bf16 { (1e-4, 3e-2) } else { (2e-5, 1e-4) };

    let (logp_ref, entropy_ref) = separate(&model);
    let n = logp_ref.size()[0] as usize;
    let (a, b): (Vec<f64>, Vec<f64>) = weights(n);
    let (a, b) = (Tensor::from_slice(&a).to_kind(Kind::Float), Tensor::from_slice(&b).to_kind(Kind::Float));
    ((&logp_ref * &a).sum(Kind::Float) + (&entropy_ref * &b).sum(Kind::Float)).backward();
    let grads_ref = take_grads(&model);

    for entropy_use in [Entropy::Differentiable, Entropy::Detached, Entropy::Skip] {
        let (logp, entropy, padding) = batched(&model, entropy_use);
        assert_eq!(padding.abs().max().double_value(&[]), 0.0, "{arch}: padding must hold zeros");
        let logp_error = (&logp - &logp_ref).abs().max().double_value(&[]);
        assert!(logp_error < value_tolerance, "{arch} bf16={bf16}: logp differs by {logp_error}");
        let expected_entropy = if entropy_use == Entropy::Skip { entropy_ref.zeros_like() } else { entropy_ref.detach() };
        let entropy_error = (&entropy - &expected_entropy).abs().max().double_value(&[]);
        assert!(entropy_error < value_tolerance, "{arch} bf16={bf16} {entropy_use:?}: entropy differs by {entropy_error}");
        if entropy_use != Entropy::Differentiable {
            assert!(!entropy.requires_grad(), "{entropy_use:?} entropy must carry no gradient");
            let _ = logp.detach();
            continue;
        }
        ((&logp * &a).sum(Kind::Float) + (&entropy * &b).sum(Kind::Float)).backward();
        for ((name, got), (_, want)) in take_grads(&model).iter().zip(&grads_ref) {
            let scale = want.abs().max().double_value(&[]).max(1e-6);
            let error = (got - want).abs().max().double_value(&[]);
            assert!(error / scale < gradient_tolerance, "{arch} bf16={bf16} {name}: gradient differs by {error} (scale {scale})");
        }
    }
}

#[test]
fn tied_head_f32() {
    check("llama", false);
}

#[test]
fn separate_head_f32() {
    check("qwen2", false);
}

#[test]
fn tied_head_bf16_autocast() {
    check("llama", true);
}

#[test]
fn separate_head_bf16_autocast() {
    check("qwen2", true);
}
