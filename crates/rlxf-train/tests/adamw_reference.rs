//! rlxf's AdamW against `torch.optim.AdamW` (tests/python/adamw_reference.py) on the same gradients,
//! with a changing learning rate and weight decay; then a save/load round trip continues identically.

use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rlxf_train::optimizer::{AdamW, AdamWSettings};
use tch::{nn, Device, Kind, Tensor};

const STEPS: usize = 6;

fn settings() -> AdamWSettings {
    AdamWSettings {
        beta1: 0.9,
        beta2: 0.95,
        eps: 1e-8,
        weight_decay: 0.1,
    }
}

fn lrs() -> Vec<f64> {
    (1..=STEPS)
        .map(|s| 1e-2 * s as f64 / STEPS as f64)
        .collect()
}

/// Values in [-1, 1) from a generator of the test's own: libtorch's global generator is shared by
/// the tests this binary runs in parallel, so seeding it (tch::manual_seed) left the weights of a
/// run to whichever test drew first, and the save/load comparison failed now and then.
fn seeded(shape: &[i64], seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<f32> = (0..shape.iter().product::<i64>())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    Tensor::from_slice(&values).view(shape)
}

fn store() -> nn::VarStore {
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let _ = (&root / "a").var_copy("weight", &seeded(&[3, 4], 11));
    let _ = (&root / "b").var_copy("bias", &seeded(&[5], 12));
    vs
}

/// Seeded gradients per step and variable name; the bias gets tiny ones, so eps matters there.
fn grads(vs: &nn::VarStore) -> Vec<Vec<(String, Tensor)>> {
    let mut names: Vec<String> = vs.variables().keys().cloned().collect();
    names.sort();
    (0..STEPS)
        .map(|step| {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let shape = vs.variables()[n].size();
                    let scale = if n.starts_with('b') { 1e-7 } else { 1.0 };
                    let seed = 100 + (step * names.len() + i) as u64;
                    (n.clone(), seeded(&shape, seed) * scale)
                })
                .collect()
        })
        .collect()
}

fn apply(vs: &nn::VarStore, opt: &mut AdamW, step_grads: &[(String, Tensor)], lr: f64) {
    opt.zero_grad();
    let vars = vs.variables();
    let loss = step_grads
        .iter()
        .map(|(n, g)| (&vars[n] * g).sum(Kind::Float))
        .fold(Tensor::from(0f32), |a, b| a + b);
    loss.backward();
    opt.set_lr(lr);
    opt.step().unwrap();
}

#[test]
fn matches_torch_adamw() {
    let vs = store();
    let initial: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (format!("param.{n}"), t.detach().copy()))
        .collect();
    let grads = grads(&vs);
    let mut opt = AdamW::new(&vs, settings(), lrs()[0]);
    for (step, lr) in lrs().into_iter().enumerate() {
        apply(&vs, &mut opt, &grads[step], lr);
    }

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.safetensors");
    let mut tensors = initial;
    for (step, g) in grads.iter().enumerate() {
        for (n, t) in g {
            tensors.push((format!("grad.{step}.{n}"), t.shallow_clone()));
        }
    }
    Tensor::write_safetensors(&tensors, &input).unwrap();
    let output = dir.path().join("out.safetensors");
    let s = settings();
    let json = serde_json::json!({"lrs": lrs(), "beta1": s.beta1, "beta2": s.beta2, "eps": s.eps, "weight_decay": s.weight_decay});
    let python = rlxf_model::testing::venv_python().unwrap();
    let script = rlxf_model::testing::repo_root().join("tests/python/adamw_reference.py");
    let out = Command::new(python)
        .arg(script)
        .arg(&input)
        .arg(&output)
        .arg(json.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, expected) in Tensor::read_safetensors(&output).unwrap() {
        let ours = &vs.variables()[name.trim_start_matches("param.")];
        let diff = (ours - &expected).abs().max().double_value(&[]);
        assert!(
            diff < 1e-6,
            "{name}: max abs diff {diff} from torch.optim.AdamW"
        );
    }
}

#[test]
fn saved_state_continues_identically() {
    let grads = grads(&store());
    let lrs = lrs();
    // Uninterrupted.
    let vs_a = store();
    let mut a = AdamW::new(&vs_a, settings(), lrs[0]);
    for step in 0..STEPS {
        apply(&vs_a, &mut a, &grads[step], lrs[step]);
    }
    // Three steps, save, a fresh optimizer on a copy of the weights loads the state, three more.
    let vs_b = store();
    let mut b = AdamW::new(&vs_b, settings(), lrs[0]);
    for step in 0..3 {
        apply(&vs_b, &mut b, &grads[step], lrs[step]);
    }
    let dir = tempfile::tempdir().unwrap();
    b.save(dir.path()).unwrap();
    let mut c = AdamW::new(&vs_b, settings(), 0.0);
    c.load(dir.path()).unwrap();
    assert_eq!(c.steps_taken(), 3);
    for step in 3..STEPS {
        apply(&vs_b, &mut c, &grads[step], lrs[step]);
    }
    for (name, t) in vs_a.variables() {
        assert!(
            t.equal(&vs_b.variables()[&name]),
            "{name} differs after save/load"
        );
    }
    // State for a different model is refused with a clear message.
    let other = nn::VarStore::new(Device::Cpu);
    let _ = (other.root() / "a").randn("weight", &[2, 2], 0.0, 1.0);
    let err = AdamW::new(&other, settings(), 0.0)
        .load(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a.weight") || err.contains("another model"),
        "{err}"
    );
}

/// A [256, 256] weight of bf16 values in [-1, 1), as a bf16 checkpoint loaded in f32 would be.
fn bf16_checkpoint_store() -> nn::VarStore {
    let vs = nn::VarStore::new(Device::Cpu);
    let weight = seeded(&[256, 256], 31).to_kind(Kind::BFloat16).to_kind(Kind::Float);
    let _ = (vs.root() / "w").var_copy("weight", &weight);
    vs
}

fn only_variable(vs: &nn::VarStore) -> Tensor {
    vs.variables().into_values().next().unwrap()
}

#[test]
fn stochastic_rounding_updates_masters_exactly_and_follows_them_on_average() {
    let (plain_vs, rounded_vs) = (bf16_checkpoint_store(), bf16_checkpoint_store());
    let initial = only_variable(&plain_vs).detach().copy();
    let mut plain = AdamW::new(&plain_vs, settings(), 1e-4);
    let mut rounded = AdamW::new(&rounded_vs, settings(), 1e-4);
    let weight = only_variable(&rounded_vs);
    rounded.round_forward_copies_to_bf16([&weight], 5).unwrap();
    // A loss linear in the weights has the same gradient wherever the forward's copy sits, so the
    // masters must follow plain AdamW bit for bit.
    let gradient = vec![("w.weight".to_string(), Tensor::ones([256, 256], (Kind::Float, Device::Cpu)))];
    for _ in 0..5 {
        apply(&plain_vs, &mut plain, &gradient, 1e-4);
        apply(&rounded_vs, &mut rounded, &gradient, 1e-4);
    }
    let master = only_variable(&plain_vs);
    let dir = tempfile::tempdir().unwrap();
    rounded.save(dir.path()).unwrap();
    let saved_master = Tensor::read_safetensors(dir.path().join("optimizer.safetensors"))
        .unwrap()
        .into_iter()
        .find(|(n, _)| n == "master.w.weight")
        .expect("the master is saved")
        .1;
    assert!(saved_master.equal(&master), "the master is plain AdamW's weight");

    assert!(weight.to_kind(Kind::BFloat16).to_kind(Kind::Float).equal(&weight), "the parameter holds bf16 values");
    // One bf16 step is at most 2^-7 of the value.
    let gap = ((&weight - &master).abs() / master.abs()).max().double_value(&[]);
    assert!(gap <= 2f64.powi(-7), "more than one bf16 step from the master: {gap} of the value");
    let moved = |t: &Tensor| (t - &initial).mean(Kind::Float).double_value(&[]);
    let (exact, stochastic) = (moved(&master), moved(&weight));
    let nearest = moved(&master.to_kind(Kind::BFloat16).to_kind(Kind::Float));
    assert!(exact < -4e-4, "five steps of 1e-4 against a positive gradient: {exact}");
    assert!((stochastic - exact).abs() < 0.1 * exact.abs(), "stochastic copy moved {stochastic}, master {exact}");
    assert!(nearest.abs() < 0.5 * exact.abs(), "round-to-nearest should lag here: {nearest} vs {exact}");
}

#[test]
fn stochastic_rounding_state_continues_identically() {
    let gradients: Vec<Vec<(String, Tensor)>> = (0..4)
        .map(|s| vec![("w.weight".to_string(), seeded(&[256, 256], 40 + s))])
        .collect();
    let run = |vs: &nn::VarStore| {
        let mut opt = AdamW::new(vs, settings(), 1e-4);
        opt.round_forward_copies_to_bf16([&only_variable(vs)], 9).unwrap();
        opt
    };
    let vs_a = bf16_checkpoint_store();
    let mut a = run(&vs_a);
    gradients.iter().for_each(|g| apply(&vs_a, &mut a, g, 1e-4));

    let vs_b = bf16_checkpoint_store();
    let mut b = run(&vs_b);
    gradients[..2].iter().for_each(|g| apply(&vs_b, &mut b, g, 1e-4));
    let dir = tempfile::tempdir().unwrap();
    b.save(dir.path()).unwrap();
    // A resumed run: the weights as the checkpoint holds them, a fresh optimizer, the saved state.
    let vs_c = nn::VarStore::new(Device::Cpu);
    let _ = (vs_c.root() / "w").var_copy("weight", &only_variable(&vs_b));
    let mut c = run(&vs_c);
    c.load(dir.path()).unwrap();
    gradients[2..].iter().for_each(|g| apply(&vs_c, &mut c, g, 1e-4));
    assert!(only_variable(&vs_a).equal(&only_variable(&vs_c)), "the resumed run drew other roundings");

    let err = AdamW::new(&vs_c, settings(), 0.0).load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("autocast_rounding"), "{err}");
    let plain_dir = tempfile::tempdir().unwrap();
    AdamW::new(&vs_c, settings(), 0.0).save(plain_dir.path()).unwrap();
    let err = run(&vs_c).load(plain_dir.path()).unwrap_err().to_string();
    assert!(err.contains("master.w.weight") && err.contains("autocast_rounding"), "{err}");
}
