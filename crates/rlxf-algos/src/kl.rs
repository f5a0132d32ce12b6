//! Per-token estimators of KL(policy || reference) from log-probabilities of sampled tokens
//! (Schulman, "Approximating KL divergence", 2020). The trainer applies the same formulas on tensors;
//! these scalar versions define them and serve as the reference in tests.

/// k1 = log p - log q: unbiased, can be negative.
pub fn k1(logp: f64, ref_logp: f64) -> f64 {
    logp - ref_logp
}

/// k2 = (log p - log q)^2 / 2: biased, non-negative.
pub fn k2(logp: f64, ref_logp: f64) -> f64 {
    0.5 * (logp - ref_logp).powi(2)
}

/// k3 = exp(q - p) - (q - p) - 1: unbiased, non-negative (GRPO's choice).
pub fn k3(logp: f64, ref_logp: f64) -> f64 {
    let d = ref_logp - logp;
    d.exp() - d - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn k2_k3_non_negative_and_zero_at_equality(p in -20.0f64..0.0, q in -20.0f64..0.0) {
            prop_assert!(k2(p, q) >= 0.0);
            prop_assert!(k3(p, q) >= -1e-12);
            prop_assert_eq!(k3(p, p), 0.0);
            prop_assert_eq!(k1(p, p), 0.0);
        }
    }
}
