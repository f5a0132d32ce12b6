//! Every advantage estimator against the independent PyTorch reference `tests/python/algo_reference.py`
//! (written from the papers on padded tensors with masks), on seeded random inputs of several shapes
//! and edge cases, to 1e-5. Needs the repo venv: a missing venv fails with the command that creates it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rlxf_algos::advantage::{
    bnpo, dr_grpo, gae, group_normalized, reinforce_pp, reinforce_pp_baseline, remax, rloo, whiten,
    AdvantageScaling, TokenRewards,
};
use rlxf_algos::{AdaptiveKlController, KlController};
use rlxf_python_reference::close;
use serde_json::{json, Value};

/// Runs the reference on `cases` and returns its results, one per case.
fn reference(cases: &[Value]) -> Vec<Value> {
    rlxf_python_reference::reference("algo_reference.py", cases)
}

/// Reward batches: (rewards, group_size), including all-equal groups, binary rewards and group size 2.
fn reward_batches(rng: &mut ChaCha8Rng) -> Vec<(Vec<f64>, usize)> {
    let mut out = vec![
        (vec![1.0; 8], 4),
        (vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], 4),
        (vec![0.5, 0.5, 0.2, 0.9], 2),
    ];
    for &(groups, size) in &[(1, 2), (3, 4), (4, 8), (2, 16)] {
        out.push((
            (0..groups * size)
                .map(|_| rng.random_range(-2.0..3.0))
                .collect(),
            size,
        ));
        out.push((
            (0..groups * size)
                .map(|_| f64::from(rng.random_bool(0.4) as u8))
                .collect(),
            size,
        ));
    }
    out
}

fn ragged(rng: &mut ChaCha8Rng, lengths: &[usize], lo: f64, hi: f64) -> Vec<Vec<f64>> {
    lengths
        .iter()
        .map(|&n| (0..n).map(|_| rng.random_range(lo..hi)).collect())
        .collect()
}

#[test]
fn group_estimators_match_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let batches = reward_batches(&mut rng);
    let mut cases = Vec::new();
    let mut ours: Vec<(String, Vec<f64>)> = Vec::new();
    for (i, (rewards, g)) in batches.iter().enumerate() {
        for (mode, name) in [
            (AdvantageScaling::Group, "group"),
            (AdvantageScaling::Batch, "batch"),
            (AdvantageScaling::None, "none"),
        ] {
            cases.push(json!({"op": "grpo", "rewards": rewards, "group_size": g, "scaling": name, "eps": 1e-4}));
            ours.push((
                format!("grpo/{name} batch {i}"),
                group_normalized(rewards, *g, mode, 1e-4).unwrap().0,
            ));
        }
        cases.push(json!({"op": "grpo", "rewards": rewards, "group_size": g, "scaling": "none", "eps": 0.0}));
        ours.push((format!("dr_grpo batch {i}"), dr_grpo(rewards, *g).unwrap()));
        if *g >= 2 {
            cases.push(json!({"op": "rloo", "rewards": rewards, "group_size": g}));
            ours.push((format!("rloo batch {i}"), rloo(rewards, *g).unwrap()));
        }
        let greedy: Vec<f64> = (0..rewards.len() / g)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        cases.push(
            json!({"op": "remax", "rewards": rewards, "greedy_rewards": greedy, "group_size": g}),
        );
        ours.push((
            format!("remax batch {i}"),
            remax(rewards, &greedy, *g).unwrap(),
        ));
    }
    for ((label, got), want) in ours.iter().zip(reference(&cases)) {
        close(label, got, &want["advantages"]);
    }
}

#[test]
fn bnpo_matches_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut batches: Vec<(Vec<f64>, usize, f64, f64)> = vec![
        // Binary rewards over several prompts, saturated groups included.
        (vec![1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0], 4, 0.0, 1.0),
        (vec![1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0], 2, 0.0, 1.0),
        // One prompt, and prompts sharing one success rate: the uniform fallback.
        (vec![1.0, 0.0, 0.0], 3, 0.0, 1.0),
        (vec![1.0, 0.0, 0.0, 1.0], 2, 0.0, 1.0),
        // Rewards in [-1, 2] mapped affinely.
        (vec![-1.0, 2.0, 0.5, 0.5, 2.0, 2.0], 2, -1.0, 2.0),
    ];
    for &(groups, size) in &[(4, 8), (8, 4), (16, 8)] {
        // Each prompt has its own success rate, so the batch's rates spread out.
        let mut rewards = Vec::with_capacity(groups * size);
        for _ in 0..groups {
            let rate = rng.random_range(0.1..0.9);
            rewards.extend((0..size).map(|_| f64::from(rng.random_bool(rate) as u8)));
        }
        batches.push((rewards, size, 0.0, 1.0));
    }
    let cases: Vec<Value> = batches
        .iter()
        .map(|(r, g, lo, hi)| json!({"op": "bnpo", "rewards": r, "group_size": g, "reward_min": lo, "reward_max": hi}))
        .collect();
    for (i, ((r, g, lo, hi), want)) in batches.iter().zip(reference(&cases)).enumerate() {
        let (adv, norm) = bnpo(r, *g, *lo, *hi).unwrap();
        close(&format!("bnpo {i}"), &adv, &want["advantages"]);
        close(
            &format!("bnpo {i} alpha"),
            &[norm.alpha, norm.beta],
            &json!([want["alpha"], want["beta"]]),
        );
    }
}

#[test]
fn token_level_estimators_match_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let shapes: [&[usize]; 4] = [
        &[1],
        &[1, 1, 1, 1],
        &[3, 1, 5, 2],
        &[6, 6, 2, 4, 1, 3, 7, 2],
    ];
    let mut cases = Vec::new();
    // (label, index of its case, key of the reference output, our values)
    let mut ours: Vec<(String, usize, &'static str, Vec<f64>)> = Vec::new();
    for (i, lengths) in shapes.iter().enumerate() {
        let n = lengths.len();
        let kl = ragged(&mut rng, lengths, -0.5, 0.8);
        let outcome: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..2.0)).collect();
        for gamma in [1.0, 0.9] {
            let x = TokenRewards {
                outcome: &outcome,
                token_kl: &kl,
                kl_coef: 0.05,
                gamma,
            };
            cases.push(json!({"op": "reinforce_pp", "outcome": outcome, "token_kl": kl, "kl_coef": 0.05, "gamma": gamma, "eps": 1e-8}));
            ours.push((
                format!("reinforce_pp {i} gamma {gamma}"),
                cases.len() - 1,
                "advantages",
                reinforce_pp(&x, 1e-8).unwrap().concat(),
            ));
        }
        if n % 2 == 0 {
            cases.push(json!({"op": "reinforce_pp_baseline", "rewards": outcome, "lengths": lengths, "group_size": 2, "eps": 1e-8}));
            ours.push((
                format!("reinforce_pp_baseline {i}"),
                cases.len() - 1,
                "advantages",
                reinforce_pp_baseline(&outcome, lengths, 2, 1e-8)
                    .unwrap()
                    .concat(),
            ));
        }
        let rewards = ragged(&mut rng, lengths, -1.0, 1.0);
        let values = ragged(&mut rng, lengths, -1.0, 1.0);
        for (gamma, lambda) in [(1.0, 1.0), (0.99, 0.95), (0.9, 0.0)] {
            let out = gae(&rewards, &values, gamma, lambda).unwrap();
            cases.push(json!({"op": "gae", "rewards": rewards, "values": values, "gamma": gamma, "lambda": lambda, "whiten": true, "eps": 1e-8}));
            let label = format!("gae {i} ({gamma}, {lambda})");
            let at = cases.len() - 1;
            ours.push((label.clone(), at, "advantages", out.advantages.concat()));
            ours.push((label.clone(), at, "returns", out.returns.concat()));
            ours.push((
                label,
                at,
                "whitened",
                whiten(&out.advantages, true, 1e-8).concat(),
            ));
        }
    }
    let results = reference(&cases);
    for (label, at, key, got) in &ours {
        close(&format!("{label} {key}"), got, &results[*at][*key]);
    }
}

#[test]
fn adaptive_kl_controller_matches_reference() {
    let updates = [
        (0.5, 64usize),
        (12.0, 256),
        (5.9, 1000),
        (0.0, 10),
        (6.3, 20000),
    ];
    let mut c = AdaptiveKlController::new(0.2, 6.0, 10000).unwrap();
    let mut ours = Vec::new();
    for &(kl, n) in &updates {
        c.update(kl, n).unwrap();
        ours.push(c.value());
    }
    let want = reference(&[
        json!({"op": "adaptive_kl", "init": 0.2, "target": 6.0, "horizon": 10000, "updates": updates}),
    ]);
    close("adaptive kl", &ours, &want[0]["values"]);
}
