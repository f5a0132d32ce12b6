//! Micro-batching must not change the update: gradients accumulated over micro-batches equal the
//! gradient of one pass over the whole batch, for both loss aggregations and with a KL reference.
//! Neither must activation checkpointing (layers recomputed in the backward).

use rlxf_model::LanguageModel;
use rlxf_train::config::CriticSection;
use rlxf_train::config::LossAggregation;
use rlxf_train::logprobs::Activations;
use rlxf_train::critic::Critic;
use rlxf_train::optimizer::AdamWSettings;
use rlxf_train::policy_loss::PolicyLoss;
use rlxf_train::policy_update::{
    accumulate_policy_gradients, Advantage, TrainSample, UpdateSettings, ValueTargets,
};
use tch::{Device, Kind, Tensor};

fn grads(model: &LanguageModel) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = model
        .vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.grad().copy()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, t) in model.vs.variables() {
        let _ = t.grad().zero_();
    }
    v
}

fn check(aggregation: LossAggregation, with_reference: bool, mask_truncated: bool) {
    check_with(aggregation, with_reference, mask_truncated, false)
}

/// `ppo`: per-token advantages and a value head on the policy trunk whose value loss joins the loss.
fn check_with(aggregation: LossAggregation, with_reference: bool, mask_truncated: bool, ppo: bool) {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 11, dir.path()).unwrap();
    let policy = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    let reference = with_reference.then(|| {
        let mut r = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
        // A different reference so the KL term is not zero (a uniform shift of lm_head would cancel in the softmax).
        tch::no_grad(|| {
            let _ = r.vs.variables()["model.layers.0.mlp.up_proj.weight"]
                .shallow_clone()
                .g_add_scalar_(0.05);
        });
        r.freeze();
        r
    });
    let prompts: [&[u32]; 2] = [&[10, 20, 30, 40], &[7, 8]];
    let completions: [&[u32]; 6] = [
        &[1, 2, 3],
        &[4],
        &[5, 6, 7, 8, 9],
        &[11, 12],
        &[13, 14, 15],
        &[16],
    ];
    let logprobs = [-1.0f32; 5];
    let token_values: Vec<Vec<f64>> = completions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (0..c.len())
                .map(|t| 0.3 * i as f64 - 0.2 * t as f64)
                .collect()
        })
        .collect();
    let returns: Vec<Vec<f64>> = token_values
        .iter()
        .map(|row| row.iter().map(|v| 1.0 - v).collect())
        .collect();
    let critic = ppo.then(|| {
        let section: CriticSection =
            toml::from_str("kind = \"value_head\"\nlr = 1e-3\nvalue_clip = 0.1").unwrap();
        Critic::new(
            &section,
            &policy,
            AdamWSettings {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
            },
            0,
        )
        .unwrap()
    });
    let samples: Vec<TrainSample<'_>> = completions
        .iter()
        .enumerate()
        .map(|(i, c)| TrainSample {
            prompt: prompts[i / 3],
            completion: c,
            old_logprobs: &logprobs[..c.len()],
            advantage: if ppo {
                Advantage::Token(&returns[i])
            } else {
                Advantage::Sequence([0.9, -0.4, -0.5, 1.2, -1.0, -0.2][i])
            },
            value_targets: ppo.then(|| ValueTargets {
                returns: &returns[i],
                old_values: &token_values[i],
            }),
            truncated: i == 2,
        })
        .collect();
    let settings = |micro, activations| UpdateSettings {
        loss: PolicyLoss::grpo(0.2, 0.28, 0.04, aggregation),
        max_completion_len: 8,
        micro_batch_size: micro,
        temperature: 0.8,
        pad_id: 0,
        old_from_sampler: false,
        mask_truncated,
        measure_sampler_gap: true,
        activations,
    };
    // One update's stats and the gradients it left (zeroed after reading).
    let run = |micro, activations| {
        let stats = accumulate_policy_gradients(
            &policy,
            reference.as_ref(),
            critic.as_ref(),
            &samples,
            &settings(micro, activations),
        );
        (stats, grads(&policy))
    };
    let (whole, g_whole) = run(6, Activations::Kept);
    let (parts, g_parts) = run(2, Activations::Kept);
    let (recomputed, g_recomputed) = run(2, Activations::Recomputed);
    assert!(
        (whole.loss - recomputed.loss).abs() < 1e-6,
        "loss {} vs {} with recomputed activations",
        whole.loss,
        recomputed.loss
    );
    assert!(
        (whole.loss - parts.loss).abs() < 1e-6,
        "loss {} vs {}",
        whole.loss,
        parts.loss
    );
    if ppo {
        let (a, b) = (whole.value_loss.unwrap(), parts.value_loss.unwrap());
        assert!(a > 0.0 && (a - b).abs() < 1e-6, "value loss {a} vs {b}");
    }
    assert!((whole.surrogate.kl_sum - parts.surrogate.kl_sum).abs() < 1e-6);
    if with_reference {
        assert!(whole.surrogate.kl_sum > 0.0);
    }
    let mut nonzero = 0;
    for (((name, a), (_, b)), (_, r)) in g_whole.iter().zip(&g_parts).zip(&g_recomputed) {
        let scale = a.abs().max().double_value(&[]);
        if scale > 0.0 {
            nonzero += 1;
        }
        let d = (a - b).abs().max().double_value(&[]);
        assert!(
            d <= 1e-5 * scale.max(1e-3),
            "{name}: micro-batched gradient differs by {d} (scale {scale})"
        );
        let d = (a - r).abs().max().double_value(&[]);
        assert!(
            d <= 1e-5 * scale.max(1e-3),
            "{name}: gradient with recomputed activations differs by {d} (scale {scale})"
        );
    }
    assert!(nonzero > 10, "the loss must reach the parameters");
}

#[test]
fn token_mean_accumulates_exactly() {
    check(LossAggregation::TokenMean, false, false);
}

#[test]
fn seq_mean_token_mean_accumulates_exactly() {
    check(LossAggregation::SeqMeanTokenMean, false, false);
}

#[test]
fn kl_to_reference_accumulates_exactly() {
    check(LossAggregation::TokenMean, true, false);
}

#[test]
fn seq_mean_token_sum_with_truncation_mask_accumulates_exactly() {
    check(LossAggregation::SeqMeanTokenSum, false, true);
}

#[test]
fn dr_grpo_constant_normalizer_with_truncation_mask_accumulates_exactly() {
    check(LossAggregation::SeqMeanTokenSumNorm, true, true);
}

#[test]
fn ppo_token_advantages_and_value_loss_accumulate_exactly() {
    check_with(LossAggregation::TokenMean, true, false, true);
    check_with(LossAggregation::SeqMeanTokenMean, false, true, true);
}
