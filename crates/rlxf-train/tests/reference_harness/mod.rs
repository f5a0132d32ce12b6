//! Shared by the loss reference tests: runs `tests/python/algo_reference.py` with the repo venv,
//! compares to 1e-5, and draws seeded random batches. Each test crate uses a different subset.
#![allow(dead_code)]

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rlxf_train::policy_loss::LossAggregation;
use serde_json::Value;
use tch::{Kind, Tensor};

/// Named outputs of one case: (label, [(reference key, our values)]).
pub type Outputs = Vec<(String, Vec<(&'static str, Vec<f64>)>)>;

pub fn reference(cases: &[Value]) -> Vec<Value> {
    rlxf_python_reference::reference("algo_reference.py", cases)
}

// Each test binary uses part of the harness.
#[allow(unused_imports)]
pub use rlxf_python_reference::{close, flatten};

pub fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(&t.to_kind(Kind::Double).flatten(0, -1)).expect("f64 values")
}

pub fn tensor(v: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).view(shape)
}

pub fn rows(v: &[f64], b: usize, c: usize) -> Vec<Vec<f64>> {
    (0..b).map(|i| v[i * c..(i + 1) * c].to_vec()).collect()
}

/// A random `[B, C]` batch: log-probs, old log-probs 0.6 away at most (ratios e^-0.6..e^0.6, both
/// sides of any clip range used here), a right-padded mask with lengths 1..=C.
pub struct Batch {
    pub b: usize,
    pub c: usize,
    pub logp: Vec<f64>,
    pub old: Vec<f64>,
    pub reference: Vec<f64>,
    pub mask: Vec<f64>,
    pub seq_adv: Vec<f64>,
    pub token_adv: Vec<f64>,
}

pub fn batch(rng: &mut ChaCha8Rng, b: usize, c: usize) -> Batch {
    let n = b * c;
    let logp: Vec<f64> = (0..n).map(|_| rng.random_range(-3.0..-0.01)).collect();
    let old = logp
        .iter()
        .map(|l| l + rng.random_range(-0.6..0.6))
        .collect();
    let reference = logp
        .iter()
        .map(|l| l + rng.random_range(-0.8..0.8))
        .collect();
    let mut mask = vec![0.0; n];
    for i in 0..b {
        let len = if i == 0 { 1 } else { rng.random_range(1..=c) };
        for t in 0..len {
            mask[i * c + t] = 1.0;
        }
    }
    let seq_adv = (0..b).map(|_| rng.random_range(-2.0..2.0)).collect();
    let token_adv = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
    Batch {
        b,
        c,
        logp,
        old,
        reference,
        mask,
        seq_adv,
        token_adv,
    }
}

pub const AGGREGATIONS: [(LossAggregation, &str); 4] = [
    (LossAggregation::TokenMean, "token_mean"),
    (LossAggregation::SeqMeanTokenMean, "seq_mean_token_mean"),
    (LossAggregation::SeqMeanTokenSum, "seq_mean_token_sum"),
    (
        LossAggregation::SeqMeanTokenSumNorm,
        "seq_mean_token_sum_norm",
    ),
];
