//! Choosing the next token from one row of logits: temperature, top-k, top-p, greedy.
//! Runs on the host per row with the row's own RNG, so a row's output never depends on its batch.

use rand::Rng;

use crate::softmax_weights;

/// The chosen token and its log-probability under the temperature-scaled, untruncated distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    pub token: u32,
    pub logprob: f32,
}

/// `temperature == 0` picks the arg-max (its log-prob is reported at temperature 1).
pub fn choose<R: Rng>(logits: &[f32], temperature: f64, top_k: usize, top_p: f64, rng: &mut R) -> Choice {
    let t = if temperature > 0.0 { temperature } else { 1.0 };
    let max = softmax_weights::max_logit(logits) as f64;
    // Each token's unnormalised weight, exponentiated once: the normaliser and both draws read them
    // (three passes of exp over a 49k vocabulary per row were most of the sampler's host time).
    let mut weights = Vec::new();
    let total = softmax_weights::fill(logits, max, t, &mut weights);
    let log_z = max / t + total.ln();
    let logprob = |i: usize| (logits[i] as f64 / t - log_z) as f32;
    if temperature <= 0.0 {
        let token = argmax(logits);
        return Choice { token: token as u32, logprob: logprob(token) };
    }
    let token = if top_k == 0 && top_p >= 1.0 {
        sample_full(&weights, total, rng)
    } else {
        sample_truncated(logits, &weights, top_k, top_p, rng)
    };
    Choice { token: token as u32, logprob: logprob(token) }
}

fn argmax(logits: &[f32]) -> usize {
    // First maximum wins, like torch.argmax, so ties resolve the same way everywhere.
    let mut best = 0;
    for (i, &x) in logits.iter().enumerate() {
        if x > logits[best] {
            best = i;
        }
    }
    best
}

/// Inverse-CDF sampling over the whole vocabulary in one pass over unnormalised weights.
fn sample_full<R: Rng>(weights: &[f64], total: f64, rng: &mut R) -> usize {
    let mut u = rng.random::<f64>() * total;
    let mut last_positive = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            last_positive = i;
        }
        u -= w;
        if u < 0.0 {
            return i;
        }
    }
    last_positive
}

/// Top-k then top-p: keep the smallest set of most likely tokens whose mass reaches `top_p`.
fn sample_truncated<R: Rng>(logits: &[f32], all_weights: &[f64], top_k: usize, top_p: f64, rng: &mut R) -> usize {
    let mut order: Vec<usize> = (0..logits.len()).collect();
    // Descending by logit, ties by index, so the kept set is well defined.
    let cmp = |a: &usize, b: &usize| logits[*b].total_cmp(&logits[*a]).then(a.cmp(b));
    let k = if top_k == 0 { logits.len() } else { top_k.min(logits.len()) };
    if k < order.len() {
        order.select_nth_unstable_by(k - 1, cmp);
        order.truncate(k);
    }
    order.sort_unstable_by(cmp);
    let weights: Vec<f64> = order.iter().map(|&i| all_weights[i]).collect();
    let total: f64 = weights.iter().sum();
    let mut keep = weights.len();
    if top_p < 1.0 {
        let mut mass = 0.0;
        for (n, w) in weights.iter().enumerate() {
            mass += w / total;
            if mass >= top_p {
                keep = n + 1;
                break;
            }
        }
    }
    let kept_total: f64 = weights[..keep].iter().sum();
    let mut u = rng.random::<f64>() * kept_total;
    for (n, w) in weights[..keep].iter().enumerate() {
        u -= w;
        if u < 0.0 {
            return order[n];
        }
    }
    order[keep - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn freqs(logits: &[f32], temp: f64, k: usize, p: f64, n: usize) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut counts = vec![0usize; logits.len()];
        for _ in 0..n {
            counts[choose(logits, temp, k, p, &mut rng).token as usize] += 1;
        }
        counts.iter().map(|&c| c as f64 / n as f64).collect()
    }

    #[test]
    fn greedy_takes_first_maximum() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let c = choose(&[1.0, 3.0, 3.0, -1.0], 0.0, 0, 1.0, &mut rng);
        assert_eq!(c.token, 1);
        let z: f64 = [1.0f64, 3.0, 3.0, -1.0].iter().map(|x| x.exp()).sum();
        assert!((c.logprob as f64 - (3.0 - z.ln())).abs() < 1e-6);
    }

    #[test]
    fn full_sampling_matches_softmax_frequencies() {
        let logits = [0.0f32, 1.0, 2.0, -1.0];
        let f = freqs(&logits, 1.0, 0, 1.0, 200_000);
        let z: f64 = logits.iter().map(|&x| (x as f64).exp()).sum();
        for (i, &x) in logits.iter().enumerate() {
            assert!((f[i] - (x as f64).exp() / z).abs() < 0.005, "token {i}: {} vs {}", f[i], (x as f64).exp() / z);
        }
    }

    #[test]
    fn temperature_sharpens() {
        let logits = [0.0f32, 1.0];
        let f = freqs(&logits, 0.5, 0, 1.0, 100_000);
        let expect = 2f64.exp() / (1.0 + 2f64.exp());
        assert!((f[1] - expect).abs() < 0.005);
    }

    #[test]
    fn top_k_and_top_p_exclude_tail() {
        let logits = [3.0f32, 2.9, 0.0, -5.0];
        assert_eq!(freqs(&logits, 1.0, 2, 1.0, 20_000)[2], 0.0);
        // The top two tokens carry ~0.93 of the mass, so top_p = 0.9 keeps exactly them.
        let f = freqs(&logits, 1.0, 0, 0.9, 20_000);
        assert_eq!(f[2] + f[3], 0.0);
        assert!(f[0] > 0.4 && f[1] > 0.4);
    }

    #[test]
    fn logprob_is_of_untruncated_tempered_distribution() {
        let logits = [2.0f32, 1.0, 0.0];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let c = choose(&logits, 2.0, 1, 1.0, &mut rng);
        assert_eq!(c.token, 0);
        let z: f64 = logits.iter().map(|&x| (x as f64 / 2.0).exp()).sum();
        assert!((c.logprob as f64 - (1.0 - z.ln())).abs() < 1e-6);
    }
}
