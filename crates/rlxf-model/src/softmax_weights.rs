//! The unnormalised softmax weights of one row of logits, `exp((logit - max) / t)`, and their sum:
//! the sampler's host-side cost per token (a 49k vocabulary per row per step).
//!
//! Why not `f64::exp`: it is a libm call per element, which the compiler cannot vectorise; on the
//! batch-32 decoding benchmark it was about 3% of the sampler's CPU time. Here e^x is plain
//! arithmetic (range reduction by ln 2 and a degree-11 Taylor polynomial, relative error < 1e-14),
//! which vectorises, and is the same on every machine: no fused multiply-adds are formed, so the AVX2
//! build and the baseline one give bit-identical weights.

/// Below this, e^x is under 2^-1021 and counts as 0: the weight of a masked (-inf) logit is exactly 0.
const UNDERFLOW: f64 = -708.0;
/// 1.5 * 2^52: adding it rounds a float to an integer held in the low mantissa bits.
const ROUNDING: f64 = 6_755_399_441_055_744.0;
const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split in two (Cody-Waite) so that `x - n ln 2` loses no precision for large `n`.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
/// Partial sums kept apart so the sum vectorises; a fixed order, so it is deterministic.
const LANES: usize = 8;

/// e^x for x <= 0; 0 below [`UNDERFLOW`] (and for -inf), NaN for NaN.
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    let clamped = x.max(UNDERFLOW);
    let shifted = clamped * LOG2_E + ROUNDING;
    let n = shifted - ROUNDING;
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    // Taylor series of e^r, |r| <= ln2 / 2: the first omitted term is below 7e-15 relative.
    let mut p = 1.0 / 39_916_800.0;
    for inverse_factorial in [
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + inverse_factorial;
    }
    // 2^n from n's integer bits: (n + 1023) in the exponent field, n >= -1021 here.
    let exponent = shifted.to_bits().wrapping_sub(ROUNDING.to_bits()).wrapping_add(1023);
    let scaled = p * f64::from_bits(exponent << 52);
    // Selections as bit masks rather than branches, so that the loops calling this vectorise.
    let unless_underflow = u64::from(x < UNDERFLOW).wrapping_sub(1);
    let if_nan = u64::from(x.is_nan()).wrapping_neg();
    // A NaN's exponent bits are all ones and survive the OR, so NaN stays NaN.
    f64::from_bits((scaled.to_bits() & unless_underflow) | (x.to_bits() & if_nan))
}

/// e^x for x <= 0 in f32 (attention's softmax): the same scheme with a degree-7 polynomial,
/// within 2 ulp of the correctly rounded value; 0 below e^-87 and for -inf, NaN for NaN.
#[inline(always)]
pub fn exp_nonpositive_f32(x: f32) -> f32 {
    const UNDERFLOW_F32: f32 = -87.0;
    const ROUNDING_F32: f32 = 12_582_912.0; // 1.5 * 2^23
    const LN2_HI_F32: f32 = f32::from_bits(0x3F31_7200);
    const LN2_LO_F32: f32 = f32::from_bits(0x35BF_BE8E);
    let clamped = x.max(UNDERFLOW_F32);
    let shifted = clamped * std::f32::consts::LOG2_E + ROUNDING_F32;
    let n = shifted - ROUNDING_F32;
    let r = (clamped - n * LN2_HI_F32) - n * LN2_LO_F32;
    let mut p = 1.0 / 5_040.0;
    for inverse_factorial in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = p * r + inverse_factorial;
    }
    let exponent = shifted.to_bits().wrapping_sub(ROUNDING_F32.to_bits()).wrapping_add(127);
    let scaled = p * f32::from_bits(exponent << 23);
    let unless_underflow = u32::from(x < UNDERFLOW_F32).wrapping_sub(1);
    let if_nan = u32::from(x.is_nan()).wrapping_neg();
    f32::from_bits((scaled.to_bits() & unless_underflow) | (x.to_bits() & if_nan))
}

/// Fills `weights` with `exp((logit - max) / temperature)` and returns their sum.
pub fn fill(logits: &[f32], max: f64, temperature: f64, weights: &mut Vec<f64>) -> f64 {
    weights.clear();
    weights.resize(logits.len(), 0.0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { fill_avx2(logits, max, temperature, weights) };
    }
    fill_portable(logits, max, temperature, weights)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fill_avx2(logits: &[f32], max: f64, temperature: f64, weights: &mut [f64]) -> f64 {
    fill_portable(logits, max, temperature, weights)
}

#[inline(always)]
fn fill_portable(logits: &[f32], max: f64, temperature: f64, weights: &mut [f64]) -> f64 {
    let mut partial = [0.0f64; LANES];
    let mut chunks = weights.chunks_exact_mut(LANES);
    let mut logit_chunks = logits.chunks_exact(LANES);
    for (w, l) in (&mut chunks).zip(&mut logit_chunks) {
        for lane in 0..LANES {
            w[lane] = exp_nonpositive((l[lane] as f64 - max) / temperature);
            partial[lane] += w[lane];
        }
    }
    for (lane, (w, &l)) in chunks.into_remainder().iter_mut().zip(logit_chunks.remainder()).enumerate() {
        *w = exp_nonpositive((l as f64 - max) / temperature);
        partial[lane] += *w;
    }
    partial.iter().sum()
}

/// The largest logit (NaN-free rows: a NaN is skipped like `f32::max` does).
pub fn max_logit(logits: &[f32]) -> f32 {
    let mut partial = [f32::NEG_INFINITY; LANES];
    let mut chunks = logits.chunks_exact(LANES);
    for chunk in &mut chunks {
        for lane in 0..LANES {
            partial[lane] = partial[lane].max(chunk[lane]);
        }
    }
    chunks.remainder().iter().chain(&partial).copied().fold(f32::NEG_INFINITY, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_libm_exp_to_1e_14_relative_over_the_range() {
        let mut x = 0.0f64;
        while x > UNDERFLOW {
            let (got, want) = (exp_nonpositive(x), x.exp());
            assert!(((got - want) / want).abs() < 1e-14, "e^{x}: {got} vs {want}");
            x -= 0.000_37;
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
    }

    #[test]
    fn f32_exp_is_within_2_ulp_over_the_range() {
        let mut x = 0.0f32;
        while x > -87.0 {
            let (got, want) = (exp_nonpositive_f32(x), (x as f64).exp());
            let ulp = f32::EPSILON as f64 * want;
            assert!((got as f64 - want).abs() <= 2.0 * ulp, "e^{x}: {got} vs {want}");
            x -= 0.000_71;
        }
        assert_eq!(exp_nonpositive_f32(0.0), 1.0);
        assert_eq!(exp_nonpositive_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive_f32(f32::NAN).is_nan());
    }

    #[test]
    fn masked_and_underflowing_logits_weigh_exactly_zero() {
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_nonpositive(-800.0), 0.0);
        assert!(exp_nonpositive(f64::NAN).is_nan());
        let logits = [1.0f32, f32::NEG_INFINITY, 0.5];
        let mut w = Vec::new();
        let total = fill(&logits, 1.0, 1.0, &mut w);
        assert_eq!(w[1], 0.0);
        assert!((total - (1.0 + (-0.5f64).exp())).abs() < 1e-15);
    }

    #[test]
    fn vector_and_portable_paths_agree_bit_for_bit() {
        let logits: Vec<f32> = (0..1003).map(|i| ((i * 7919) % 1000) as f32 / 37.0 - 13.0).collect();
        let max = max_logit(&logits) as f64;
        let mut fast = Vec::new();
        let total = fill(&logits, max, 0.7, &mut fast);
        let mut portable = vec![0.0; logits.len()];
        let portable_total = fill_portable(&logits, max, 0.7, &mut portable);
        assert_eq!(total.to_bits(), portable_total.to_bits());
        assert!(fast.iter().zip(&portable).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    proptest! {
        #[test]
        fn fill_matches_exp_and_sum(logits in prop::collection::vec(-60.0f32..60.0, 1..300), t in 0.1f64..3.0) {
            let max = max_logit(&logits) as f64;
            prop_assert_eq!(max, logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64);
            let mut w = Vec::new();
            let total = fill(&logits, max, t, &mut w);
            let mut want_total = 0.0;
            for (&l, &got) in logits.iter().zip(&w) {
                let want = ((l as f64 - max) / t).exp();
                want_total += want;
                // below e^-708 both are negligible next to the max's weight of 1
                prop_assert!((got - want).abs() <= 1e-14 * want + 1e-300, "{} vs {}", got, want);
            }
            prop_assert!((total - want_total).abs() < 1e-12 * want_total);
        }
    }
}
