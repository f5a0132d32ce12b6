//! What the hand-written CPU kernels (`few_rows_linear`, `decode_attention`) share: detecting the
//! vector instructions they need, and the reduction of a vector to its sum.

/// Whether this CPU has AVX2 and FMA, the least every kernel variant needs.
#[cfg(target_arch = "x86_64")]
pub fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(not(target_arch = "x86_64"))]
pub fn has_avx2_fma() -> bool {
    false
}

/// Whether this CPU also has AVX-512 F and VL (32 vector registers for 256-bit operations).
#[cfg(target_arch = "x86_64")]
pub fn has_avx512_vl() -> bool {
    has_avx2_fma() && std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl")
}

#[cfg(not(target_arch = "x86_64"))]
pub fn has_avx512_vl() -> bool {
    false
}

/// Whether this CPU also has AVX-512 BF16 (bf16 dot products into f32) with VL.
#[cfg(target_arch = "x86_64")]
pub fn has_avx512_bf16() -> bool {
    has_avx512_vl() && std::arch::is_x86_feature_detected!("avx512bf16")
}

#[cfg(not(target_arch = "x86_64"))]
pub fn has_avx512_bf16() -> bool {
    false
}

/// The sum of the eight lanes of `v`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn horizontal_sum(v: std::arch::x86_64::__m256) -> f32 {
    use std::arch::x86_64::*;
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
}
