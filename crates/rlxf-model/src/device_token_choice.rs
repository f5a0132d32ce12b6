//! Choosing every row's next token where the logits are (on the GPU), with the same rule and the same
//! random draws as the host path ([`crate::token_choice::choose`]).
//!
//! Why: the host path copies the whole `[rows, vocab]` logits to the host every step (19 MB per step
//! at 32 rows of Qwen's 152k vocabulary, from pageable memory) and waits for it; here only the chosen
//! tokens and their log-probs come back. Each row's uniform is still drawn on the host from the
//! row's own RNG, one per sampled token exactly as `choose` draws it, so a row's tokens stay
//! independent of its batch and the two paths give the same tokens up to rounding at a CDF boundary
//! (inverse-CDF sampling in f64 on both sides).

use tch::{Device, Kind, Tensor};

use crate::token_choice::Choice;

/// What the rows are sampled with: temperature (0 = greedy), top-k (0 = off), top-p (1 = off).
#[derive(Debug, Clone, Copy)]
pub struct ChoiceRule {
    pub temperature: f64,
    pub top_k: usize,
    pub top_p: f64,
}

/// One token per row of `logits` (`[rows, vocab]`, any float kind, any device).
///
/// `uniforms[r]` is row r's draw in [0, 1) (ignored when greedy); `hold_back[r]` masks the tokens in
/// `held_back_tokens` for row r (end-of-sequence before `min_new_tokens`). Log-probs are of the
/// temperature-scaled, untruncated distribution after the hold-back, like the host path's.
pub fn choose_rows(logits: &Tensor, uniforms: &[f64], hold_back: &[bool], held_back_tokens: &[u32], rule: ChoiceRule) -> tch::Result<Vec<Choice>> {
    let (rows, vocab) = logits.size2()?;
    assert_eq!(uniforms.len() as i64, rows, "one uniform per row");
    assert_eq!(hold_back.len() as i64, rows, "one hold-back flag per row");
    let device = logits.device();
    let t = if rule.temperature > 0.0 { rule.temperature } else { 1.0 };
    let x = hold_back_tokens(&logits.to_kind(Kind::Double), hold_back, held_back_tokens)?;
    let log_z = (&x / t).logsumexp([1], true);
    let tokens = if rule.temperature <= 0.0 {
        // First maximum wins (torch.argmax's documented rule), like the host's arg-max.
        x.argmax(1, true)
    } else {
        let u = Tensor::from_slice(uniforms).to_device(device).view([rows, 1]);
        let k = if rule.top_k == 0 { vocab } else { (rule.top_k as i64).min(vocab) };
        if k == vocab && rule.top_p >= 1.0 {
            sample_full(&x, &u, t)
        } else {
            sample_truncated(&x, &u, t, k, rule.top_p)
        }
    };
    let logprobs = (&x / t).gather(1, &tokens, false) - log_z;
    // One transfer (and one wait) for both: token ids are exact in f64.
    let both = Tensor::cat(&[tokens.to_kind(Kind::Double), logprobs], 1).to_device(Device::Cpu).contiguous();
    let host = Vec::<f64>::try_from(both.view([-1]))?;
    Ok(host.chunks_exact(2).map(|p| Choice { token: p[0] as u32, logprob: p[1] as f32 }).collect())
}

fn hold_back_tokens(x: &Tensor, hold_back: &[bool], tokens: &[u32]) -> tch::Result<Tensor> {
    let vocab = x.size()[1];
    let tokens: Vec<i64> = tokens.iter().map(|&t| t as i64).filter(|&t| t < vocab).collect();
    if tokens.is_empty() || !hold_back.iter().any(|&h| h) {
        return Ok(x.shallow_clone());
    }
    let device = x.device();
    let columns = Tensor::from_slice(&tokens).to_device(device);
    let rows = Tensor::from_slice(hold_back).to_device(device).view([-1, 1]);
    let masked = x.index_select(1, &columns).masked_fill(&rows, f64::NEG_INFINITY);
    x.f_index_copy(1, &columns, &masked)
}

/// Inverse-CDF over the whole vocabulary: the first token whose cumulative weight exceeds u * total.
fn sample_full(x: &Tensor, u: &Tensor, t: f64) -> Tensor {
    let weights = ((x - x.amax([1], true)) / t).exp();
    let cdf = weights.cumsum(1, Kind::Double);
    let total = cdf.narrow(1, cdf.size()[1] - 1, 1);
    first_exceeding(&cdf, &(u * total), &weights.gt(0.0))
}

/// Top-k, then the smallest prefix (by descending logit, ties by index) whose mass reaches top-p.
fn sample_truncated(x: &Tensor, u: &Tensor, t: f64, k: i64, top_p: f64) -> Tensor {
    let (sorted, order) = x.sort_stable(true, 1, true);
    let (sorted, order) = (sorted.narrow(1, 0, k), order.narrow(1, 0, k));
    let weights = ((&sorted - sorted.narrow(1, 0, 1)) / t).exp();
    let mut keep = Tensor::full([x.size()[0], 1], k, (Kind::Int64, x.device()));
    if top_p < 1.0 {
        let cdf = weights.cumsum(1, Kind::Double);
        let mass = &cdf / cdf.narrow(1, k - 1, 1);
        // The host keeps tokens up to and including the first whose running mass reaches top_p.
        keep = (mass.lt(top_p).sum_dim_intlist(1, true, Kind::Int64) + 1).clamp_max(k);
    }
    let column = Tensor::arange(k, (Kind::Int64, x.device())).view([1, k]);
    let kept = column.lt_tensor(&keep);
    let kept_weights = weights * kept.to_kind(Kind::Double);
    let cdf = kept_weights.cumsum(1, Kind::Double);
    let kept_total = cdf.gather(1, &(&keep - 1), false);
    let position = first_exceeding(&cdf, &(u * kept_total), &kept_weights.gt(0.0));
    order.gather(1, &position, false)
}

/// Per row, the first column whose `cdf` exceeds `target`; if rounding leaves none, the last column
/// with positive weight (the host's fallback). `[rows, 1]` int64.
fn first_exceeding(cdf: &Tensor, target: &Tensor, positive: &Tensor) -> Tensor {
    let columns = cdf.size()[1];
    let first = cdf.le_tensor(target).sum_dim_intlist(1, true, Kind::Int64);
    let index = Tensor::arange(columns, (Kind::Int64, cdf.device())).view([1, columns]);
    let last_positive = (index * positive.to_kind(Kind::Int64)).amax([1], true);
    first.minimum(&last_positive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_choice::choose;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Runs both paths on the same rows and the same per-row RNG streams.
    fn compare(logits: &Tensor, rule: ChoiceRule, hold_back: &[bool], held: &[u32]) {
        let rows = logits.size()[0] as usize;
        let host_logits = Vec::<Vec<f32>>::try_from(logits.to_kind(Kind::Float)).unwrap();
        let mut uniforms = Vec::new();
        let mut host = Vec::new();
        for (r, row) in host_logits.into_iter().enumerate() {
            let mut row = row;
            if hold_back[r] {
                for &t in held {
                    if let Some(l) = row.get_mut(t as usize) {
                        *l = f32::NEG_INFINITY;
                    }
                }
            }
            let mut draw = ChaCha8Rng::seed_from_u64(r as u64);
            uniforms.push(if rule.temperature > 0.0 { draw.random::<f64>() } else { 0.0 });
            let mut rng = ChaCha8Rng::seed_from_u64(r as u64);
            host.push(choose(&row, rule.temperature, rule.top_k, rule.top_p, &mut rng));
        }
        let device = choose_rows(logits, &uniforms, hold_back, held, rule).unwrap();
        assert_eq!(device.len(), rows);
        for (r, (h, d)) in host.iter().zip(&device).enumerate() {
            assert_eq!(h.token, d.token, "row {r} under {rule:?}");
            assert!((h.logprob - d.logprob).abs() < 1e-5, "row {r}: logprob {} vs {}", h.logprob, d.logprob);
        }
    }

    fn random_logits(rows: i64, vocab: i64, seed: i64, scale: f64) -> Tensor {
        tch::manual_seed(seed);
        Tensor::randn([rows, vocab], (Kind::Float, Device::Cpu)) * scale
    }

    #[test]
    fn agrees_with_host_choice_for_every_rule() {
        let rules = [
            ChoiceRule { temperature: 0.0, top_k: 0, top_p: 1.0 },
            ChoiceRule { temperature: 1.0, top_k: 0, top_p: 1.0 },
            ChoiceRule { temperature: 0.7, top_k: 0, top_p: 1.0 },
            ChoiceRule { temperature: 1.0, top_k: 50, top_p: 1.0 },
            ChoiceRule { temperature: 0.9, top_k: 0, top_p: 0.9 },
            ChoiceRule { temperature: 0.9, top_k: 50, top_p: 0.95 },
            ChoiceRule { temperature: 1.3, top_k: 1, top_p: 1.0 },
            ChoiceRule { temperature: 1.0, top_k: 5000, top_p: 0.5 },
        ];
        for (seed, scale) in [(1, 1.0), (2, 4.0), (3, 12.0)] {
            let logits = random_logits(48, 3000, seed, scale);
            for rule in rules {
                compare(&logits, rule, &[false; 48], &[]);
            }
        }
    }

    #[test]
    fn holding_back_end_of_sequence_matches_host() {
        // Token 7 dominates every row; held back on even rows only.
        let logits = random_logits(16, 500, 4, 1.0);
        let _ = logits.narrow(1, 7, 1).fill_(30.0);
        let hold: Vec<bool> = (0..16).map(|r| r % 2 == 0).collect();
        for rule in [ChoiceRule { temperature: 0.0, top_k: 0, top_p: 1.0 }, ChoiceRule { temperature: 1.0, top_k: 0, top_p: 1.0 }, ChoiceRule { temperature: 1.0, top_k: 3, top_p: 0.9 }] {
            compare(&logits, rule, &hold, &[7, 9999]);
            let chosen = choose_rows(&logits, &[0.5; 16], &hold, &[7], rule).unwrap();
            for (r, c) in chosen.iter().enumerate() {
                assert_eq!(c.token == 7, r % 2 == 1, "row {r} under {rule:?}: token {}", c.token);
            }
        }
    }

    #[test]
    fn ties_resolve_by_lowest_index() {
        // Four equal maxima: greedy and top-1 both take the first, as torch.argmax and the host do.
        let logits = Tensor::from_slice(&[0.0f32, 2.0, 2.0, 2.0, 2.0, -1.0]).view([1, 6]);
        for rule in [ChoiceRule { temperature: 0.0, top_k: 0, top_p: 1.0 }, ChoiceRule { temperature: 1.0, top_k: 1, top_p: 1.0 }] {
            assert_eq!(choose_rows(&logits, &[0.99], &[false], &[], rule).unwrap()[0].token, 1);
        }
        // Top-2 of the tie keeps indices 1 and 2; a draw near 1 picks the second of them.
        let rule = ChoiceRule { temperature: 1.0, top_k: 2, top_p: 1.0 };
        assert_eq!(choose_rows(&logits, &[0.999], &[false], &[], rule).unwrap()[0].token, 2);
        compare(&logits, rule, &[false], &[]);
    }

    #[test]
    fn masked_tail_is_never_drawn() {
        // -inf logits have zero weight: even a draw of almost 1 lands on the last finite token.
        let logits = Tensor::from_slice(&[1.0f32, 0.5, f32::NEG_INFINITY, f32::NEG_INFINITY]).view([1, 4]);
        let rule = ChoiceRule { temperature: 1.0, top_k: 0, top_p: 1.0 };
        assert_eq!(choose_rows(&logits, &[1.0 - 1e-16], &[false], &[], rule).unwrap()[0].token, 1);
    }
}
