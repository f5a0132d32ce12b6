//! The shared-prompt training forward must give the same log-probs and the same gradients as running
//! every prompt + completion sequence on its own.

use rlxf_model::LanguageModel;
use tch::{Device, Kind, Tensor};

fn ids(v: &[i64]) -> Tensor {
    Tensor::from_slice(v)
}

#[test]
fn grouped_logprobs_and_gradients_equal_separate_sequences() {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("llama", 5, dir.path()).unwrap();
    let model = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    let prompts: Vec<Vec<i64>> = vec![vec![5, 9, 33, 41, 7], vec![12, 200, 3]];
    let completions: Vec<(usize, Vec<i64>)> =
        vec![(0, vec![8, 100, 17]), (0, vec![99]), (1, vec![44, 45, 46, 47]), (0, vec![8, 101, 18, 19])];

    // Separate: each sequence alone, log-probs of its completion tokens.
    let mut separate = Vec::new();
    for (pi, comp) in &completions {
        let seq: Vec<i64> = prompts[*pi].iter().chain(comp).copied().collect();
        let x = ids(&seq).unsqueeze(0);
        let logp = model.logits(&x, &Tensor::ones_like(&x)).squeeze_dim(0).log_softmax(-1, Kind::Float);
        let p = prompts[*pi].len() as i64;
        for (j, &t) in comp.iter().enumerate() {
            separate.push(logp.get(p - 1 + j as i64).get(t));
        }
    }
    let separate_sum = Tensor::stack(&separate, 0);
    separate_sum.sum(Kind::Float).backward();
    let grads_separate: Vec<(String, Tensor)> =
        model.vs.variables().into_iter().map(|(n, v)| (n, v.grad().copy())).collect();
    for (_, v) in model.vs.variables() {
        let _ = v.grad().zero_();
    }

    // Grouped: prompts left-padded once, completions right-padded.
    let p = 5;
    let mut prompt_ids = vec![0i64; 2 * p];
    let mut prompt_valid = vec![0i64; 2 * p];
    for (i, pr) in prompts.iter().enumerate() {
        for (j, &t) in pr.iter().enumerate() {
            prompt_ids[i * p + p - pr.len() + j] = t;
            prompt_valid[i * p + p - pr.len() + j] = 1;
        }
    }
    let c = 4;
    let mut comp_ids = vec![0i64; completions.len() * c];
    let mut comp_valid = vec![0i64; completions.len() * c];
    for (i, (_, comp)) in completions.iter().enumerate() {
        for (j, &t) in comp.iter().enumerate() {
            comp_ids[i * c + j] = t;
            comp_valid[i * c + j] = 1;
        }
    }
    let prompt_of = ids(&completions.iter().map(|(pi, _)| *pi as i64).collect::<Vec<_>>());
    let comp_ids_t = ids(&comp_ids).view([4, c as i64]);
    let comp_valid_t = ids(&comp_valid).view([4, c as i64]);
    let states = model.completion_predictor_states(
        &ids(&prompt_ids).view([2, p as i64]),
        &ids(&prompt_valid).view([2, p as i64]),
        &comp_ids_t,
        &comp_valid_t,
        &prompt_of,
    );
    let logp = model.net.logits(&states).log_softmax(-1, Kind::Float).gather(-1, &comp_ids_t.unsqueeze(-1), false).squeeze_dim(-1);
    let mut grouped = Vec::new();
    for (i, (_, comp)) in completions.iter().enumerate() {
        for j in 0..comp.len() {
            grouped.push(logp.get(i as i64).get(j as i64));
        }
    }
    let grouped_sum = Tensor::stack(&grouped, 0);
    let diff = (&grouped_sum - &separate_sum).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "log-prob mismatch {diff}");
    grouped_sum.sum(Kind::Float).backward();
    let vars = model.vs.variables();
    for (name, g_sep) in grads_separate {
        let g = vars[&name].grad();
        let scale = g_sep.abs().max().double_value(&[]).max(1e-6);
        let d = (&g - &g_sep).abs().max().double_value(&[]);
        assert!(d / scale < 1e-4, "{name}: gradient mismatch {d} (scale {scale})");
    }
}

/// Activation checkpointing (layers recomputed in the backward) gives the same states and the same
/// gradients as the plain shared-prompt forward: f32 and bf16 autocast, with one-token completions
/// (no completion pass) and longer ones.
#[test]
fn checkpointed_forward_equals_the_plain_one() {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("llama", 6, dir.path()).unwrap();
    let mut model = LanguageModel::load(dir.path(), Device::Cpu, Kind::Float).unwrap();
    let prompt_ids = ids(&[0, 0, 5, 9, 33, 12, 200, 3, 4, 8]).view([2, 5]);
    let prompt_valid = ids(&[0, 0, 1, 1, 1, 1, 1, 1, 1, 1]).view([2, 5]);
    let prompt_of = ids(&[0, 1, 0]);
    let long = (ids(&[8, 100, 17, 99, 0, 0, 44, 45, 46]).view([3, 3]), ids(&[1, 1, 1, 1, 0, 0, 1, 1, 1]).view([3, 3]));
    let single = (ids(&[8, 99, 44]).view([3, 1]), ids(&[1, 1, 1]).view([3, 1]));
    for bf16 in [false, true] {
        model.set_bf16_autocast(bf16).unwrap();
        // bf16 products round differently only where the two passes' shapes differ: none here.
        let tolerance = if bf16 { 1e-2 } else { 1e-5 };
        for (completion_ids, completion_valid) in [&long, &single] {
            let weights = Tensor::randn([3, completion_ids.size()[1], 64], (Kind::Float, Device::Cpu));
            let plain = model.completion_predictor_states(&prompt_ids, &prompt_valid, completion_ids, completion_valid, &prompt_of);
            (plain.to_kind(Kind::Float) * &weights).sum(Kind::Float).backward();
            let plain_grads: Vec<(String, Tensor)> = model.vs.variables().into_iter().map(|(n, v)| (n, v.grad().copy())).collect();
            for (_, v) in model.vs.variables() {
                let _ = v.grad().zero_();
            }
            let checkpointed =
                model.completion_predictor_states_checkpointed(&prompt_ids, &prompt_valid, completion_ids, completion_valid, &prompt_of);
            let state_diff = (checkpointed.states.to_kind(Kind::Float) - plain.to_kind(Kind::Float)).abs().max().double_value(&[]);
            assert_eq!(state_diff, 0.0, "bf16={bf16}: the checkpointed forward computes the same states");
            (checkpointed.states.to_kind(Kind::Float) * &weights).sum(Kind::Float).backward();
            // Before the trunk's backward only what the final norm reads has a gradient.
            let vars = model.vs.variables();
            assert_eq!(vars["model.layers.0.mlp.up_proj.weight"].grad().abs().sum(Kind::Float).double_value(&[]), 0.0);
            checkpointed.trunk.backward(&model.net);
            for (name, want) in &plain_grads {
                let got = vars[name].grad();
                let scale = want.abs().max().double_value(&[]).max(1e-6);
                let d = (&got - want).abs().max().double_value(&[]);
                assert!(d / scale < tolerance, "bf16={bf16} {name}: gradient differs by {d} (scale {scale})");
            }
            for (_, v) in model.vs.variables() {
                let _ = v.grad().zero_();
            }
        }
    }
}
