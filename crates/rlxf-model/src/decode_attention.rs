//! Attention of one new token per row over the KV cache (a decoding step) on x86-64 CPUs with AVX2
//! and FMA, for grouped-query attention: f32 arithmetic over an f32 or a bf16 cache (bf16 models and
//! bf16 autocast keep their cache in bf16; each value widens to f32 exactly as it is loaded).
//!
//! Why not libtorch's `scaled_dot_product_attention`: with grouped-query attention and a mask it
//! takes the math path on the CPU, a batched matrix-vector product per head plus separate softmax
//! and masking kernels, and was about a fifth of a batch-32 decoding step of SmolLM2-135M. A step
//! reads the whole cache, so this kernel reads each cached key and value row once per kv head
//! from memory and uses it for every query head that shares it while it is in L1, and splits
//! (row, kv head) pairs over libtorch's OpenMP threads. `rlxf bench attention` times it against
//! SDPA and reports the rate it reads the cache at.

use std::sync::OnceLock;

use half::bf16;
use tch::{Device, Kind, Tensor};

#[cfg(target_arch = "x86_64")]
use crate::simd::horizontal_sum;
use crate::softmax_weights::exp_nonpositive_f32;
use crate::{autocast, openmp, runtime, simd};

/// Set to `sdpa` to keep libtorch's attention for decoding too (for A/B benchmarks).
pub const ENGINE_ENV: &str = "RLXF_DECODE_ATTENTION";

/// Whether the kernel runs here: x86-64 with AVX2 and FMA, and not switched off by [`ENGINE_ENV`].
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        !runtime::switched_to(ENGINE_ENV, "sdpa") && simd::has_avx2_fma()
    })
}

/// `softmax(q kᵀ / sqrt(D), masked) v` for `q` `[B, H, 1, D]`, `keys`/`values` `[B, Hkv, S, D]`
/// (rows of D contiguous values, as views of the cache are), and a boolean `mask` of `B * S`
/// elements (`[B, 1, 1, S]`, true = may attend). Returns `[B, 1, H * D]` in the cache's dtype, the
/// layout the output projection reads; `None` when the caller should use libtorch (other dtypes or
/// devices, gradients, more than one query, head sizes other than 64 and 128).
///
/// With an f32 cache everything is f32 (and not under autocast, where attention is bf16). With a bf16
/// cache the query is rounded to bf16 first, as autocast's attention rounds it, the scores, softmax
/// and weighted sum run in f32, and the output is rounded to bf16 once: no coarser than libtorch's
/// bf16 attention, which rounds scores and weights to bf16 on the way.
pub fn try_attend(q: &Tensor, keys: &Tensor, values: &Tensor, mask: &Tensor) -> Option<Tensor> {
    if !available() {
        return None;
    }
    let (b, heads, t, d) = q.size4().ok()?;
    let (kb, kv_heads, s, kd) = keys.size4().ok()?;
    let cache_kind = keys.kind();
    let on_cpu = [q, keys, values].iter().all(|x| x.device() == Device::Cpu);
    let kinds_fit = match cache_kind {
        Kind::Float => q.kind() == Kind::Float && !autocast::is_enabled(Device::Cpu),
        Kind::BFloat16 => matches!(q.kind(), Kind::Float | Kind::BFloat16),
        _ => false,
    };
    if !on_cpu || !kinds_fit || values.kind() != cache_kind || t != 1 || kb != b || kd != d || values.size() != keys.size() || kv_heads == 0 || heads % kv_heads != 0 {
        return None;
    }
    if !(d == 64 || d == 128) || mask.numel() != (b * s) as usize || mask.kind() != Kind::Bool || s == 0 {
        return None;
    }
    if runtime::grad_needed([q, keys, values]) {
        return None;
    }
    let rows_contiguous = |x: &Tensor| x.stride()[3] == 1 && x.stride()[2] == d;
    let (keys, values) = (
        if rows_contiguous(keys) { keys.shallow_clone() } else { keys.contiguous() },
        if rows_contiguous(values) { values.shallow_clone() } else { values.contiguous() },
    );
    if keys.stride() != values.stride() {
        return None;
    }
    let q = match cache_kind {
        Kind::BFloat16 => q.to_kind(Kind::BFloat16).to_kind(Kind::Float),
        _ => q.contiguous(),
    };
    let mask = mask.reshape([b, s]).contiguous();
    let out = Tensor::empty([b, 1, heads * d], (Kind::Float, Device::Cpu));
    let stride = keys.stride();
    let problem = Problem {
        q: q.data_ptr() as *const f32,
        keys: keys.data_ptr() as *const u8,
        values: values.data_ptr() as *const u8,
        cache: match cache_kind {
            Kind::BFloat16 => CacheDtype::Bf16,
            _ => CacheDtype::F32,
        },
        valid: mask.data_ptr() as *const bool,
        out: out.data_ptr() as *mut f32,
        rows: b as usize,
        heads: heads as usize,
        kv_heads: kv_heads as usize,
        positions: s as usize,
        head_dim: d as usize,
        row_stride: stride[0] as usize,
        head_stride: stride[1] as usize,
    };
    // SAFETY: the pointers come from CPU tensors (query and output f32, the cache of `cache`'s dtype,
    // the mask bool) of the sizes and strides recorded in `problem`, alive until the call returns;
    // `available()` checked the CPU features.
    unsafe { run(&problem) };
    Some(if cache_kind == Kind::Float { out } else { out.to_kind(cache_kind) })
}

/// How the cache's values are stored; the arithmetic is f32 either way.
#[derive(Clone, Copy)]
enum CacheDtype {
    F32,
    /// bf16, widened to f32 on load (exact).
    Bf16,
}

struct Problem {
    q: *const f32,
    /// The cache's keys and values, elements of `cache`'s dtype.
    keys: *const u8,
    values: *const u8,
    cache: CacheDtype,
    valid: *const bool,
    out: *mut f32,
    rows: usize,
    heads: usize,
    kv_heads: usize,
    positions: usize,
    head_dim: usize,
    /// Element strides of the cache views between rows and between kv heads.
    row_stride: usize,
    head_stride: usize,
}

// SAFETY: threads share a problem only inside `run`'s parallel region, reading the inputs and
// writing the disjoint outputs of their own (row, kv head) pairs.
unsafe impl Sync for Problem {}

unsafe fn run(p: &Problem) {
    let pairs = p.rows * p.kv_heads;
    // Below a few cache rows per pair, waking the other threads costs more than it saves.
    let threads = if pairs * p.positions < 4096 { 1 } else { openmp::torch_threads().min(pairs) };
    let group = p.heads / p.kv_heads;
    openmp::parallel(threads, &|thread, threads| {
        let (start, end) = openmp::share(pairs, thread, threads);
        let mut weights = vec![0f32; group * p.positions];
        let mut inverse_totals = vec![0f32; group];
        for pair in start..end {
            // SAFETY: see `try_attend`; each pair writes only its own heads' outputs.
            unsafe {
                match (p.cache, p.head_dim) {
                    (CacheDtype::F32, 64) => attend_pair::<f32, 64>(p, pair, &mut weights, &mut inverse_totals),
                    (CacheDtype::F32, _) => attend_pair::<f32, 128>(p, pair, &mut weights, &mut inverse_totals),
                    (CacheDtype::Bf16, 64) => attend_pair::<bf16, 64>(p, pair, &mut weights, &mut inverse_totals),
                    (CacheDtype::Bf16, _) => attend_pair::<bf16, 128>(p, pair, &mut weights, &mut inverse_totals),
                }
            }
        }
    });
}

/// Positions whose values are combined for every query head of a group before moving on: their
/// value rows (8 KB at head size 64) stay in L1 across the group's heads.
const VALUE_BLOCK: usize = 32;

/// The query heads of kv head `pair % kv_heads` of row `pair / kv_heads`. Keys and values stream
/// from memory once per pair, and each block of positions serves every query head of the group
/// while it is in L1 (a pass per head was compute- and L2-bound at about half the memory
/// bandwidth). `weights` holds a row of `positions` scores per head of the group, then their
/// softmax weights; `inverse_totals` one entry per head.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attend_pair<E: CacheElement, const D: usize>(p: &Problem, pair: usize, weights: &mut [f32], inverse_totals: &mut [f32]) {
    use std::arch::x86_64::*;
    let (row, kv_head) = (pair / p.kv_heads, pair % p.kv_heads);
    let (group, positions) = (p.heads / p.kv_heads, p.positions);
    let keys = (p.keys as *const E).add(row * p.row_stride + kv_head * p.head_stride);
    let values = (p.values as *const E).add(row * p.row_stride + kv_head * p.head_stride);
    let valid = std::slice::from_raw_parts(p.valid.add(row * positions), positions);
    let first_head = row * p.heads + kv_head * group;
    let queries = p.q.add(first_head * D);
    let outputs = p.out.add(first_head * D);
    let scale = 1.0 / (D as f32).sqrt();
    let scale_v = _mm256_set1_ps(scale);

    // Scores, eight positions at a time: eight dot products reduced together into one vector.
    let whole = positions / 8 * 8;
    for pos in (0..whole).step_by(8) {
        for g in 0..group {
            let q = queries.add(g * D);
            let mut acc = [_mm256_setzero_ps(); 8];
            for (j, a) in acc.iter_mut().enumerate() {
                let k = keys.add((pos + j) * D);
                let (mut even, mut odd) = (_mm256_setzero_ps(), _mm256_setzero_ps());
                for c in (0..D / 8).step_by(2) {
                    even = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(c * 8)), E::load8(k.add(c * 8)), even);
                    odd = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(c * 8 + 8)), E::load8(k.add(c * 8 + 8)), odd);
                }
                *a = _mm256_add_ps(even, odd);
            }
            _mm256_storeu_ps(weights.as_mut_ptr().add(g * positions + pos), _mm256_mul_ps(sum_each(&acc), scale_v));
        }
    }
    for pos in whole..positions {
        let k = keys.add(pos * D);
        for g in 0..group {
            let q = queries.add(g * D);
            let mut acc = _mm256_setzero_ps();
            for c in 0..D / 8 {
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(c * 8)), E::load8(k.add(c * 8)), acc);
            }
            weights[g * positions + pos] = horizontal_sum(acc) * scale;
        }
    }

    for (head_weights, inverse_total) in weights.chunks_exact_mut(positions).zip(inverse_totals.iter_mut()) {
        let total = softmax_weights_in_place(head_weights, valid);
        // No position may be attended (never the case for a decoding step, whose own key is
        // valid): all weights are 0 and so is the output, rather than libtorch's NaN.
        *inverse_total = if total > 0.0 { 1.0 / total } else { 0.0 };
    }

    for g in 0..group {
        std::ptr::write_bytes(outputs.add(g * D), 0, D);
    }
    for block in (0..positions).step_by(VALUE_BLOCK) {
        let end = (block + VALUE_BLOCK).min(positions);
        let last = end == positions;
        for (g, head_weights) in weights.chunks_exact(positions).enumerate() {
            let factor = _mm256_set1_ps(if last { inverse_totals[g] } else { 1.0 });
            // 64 columns at a time: eight accumulators that stay in registers.
            for columns in (0..D).step_by(64) {
                let out = outputs.add(g * D + columns);
                let mut acc = [_mm256_setzero_ps(); 8];
                for (c, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_loadu_ps(out.add(c * 8));
                }
                // A sub-slice rather than `skip`: `Skip::next` was not inlined into this AVX2
                // function, and the call spilled every accumulator.
                for (pos, &weight) in (block..end).zip(&head_weights[block..end]) {
                    // Masked positions: skipped rather than multiplied by 0, so that whatever a
                    // padding slot holds never reaches the output.
                    if weight == 0.0 {
                        continue;
                    }
                    let v = values.add(pos * D + columns);
                    let w = _mm256_set1_ps(weight);
                    for (c, a) in acc.iter_mut().enumerate() {
                        *a = _mm256_fmadd_ps(w, E::load8(v.add(c * 8)), *a);
                    }
                }
                for (c, a) in acc.iter().enumerate() {
                    _mm256_storeu_ps(out.add(c * 8), _mm256_mul_ps(*a, factor));
                }
            }
        }
    }
}

/// An element type of the cache, read eight at a time as f32.
#[cfg(target_arch = "x86_64")]
trait CacheElement {
    /// Eight consecutive elements from `p` (no alignment needed), as f32.
    unsafe fn load8(p: *const Self) -> std::arch::x86_64::__m256;
}

#[cfg(target_arch = "x86_64")]
impl CacheElement for f32 {
    #[inline(always)]
    unsafe fn load8(p: *const f32) -> std::arch::x86_64::__m256 {
        std::arch::x86_64::_mm256_loadu_ps(p)
    }
}

/// A bf16 value is the upper half of the f32 with the same value.
#[cfg(target_arch = "x86_64")]
impl CacheElement for bf16 {
    #[inline(always)]
    unsafe fn load8(p: *const bf16) -> std::arch::x86_64::__m256 {
        use std::arch::x86_64::*;
        let bits = _mm256_cvtepu16_epi32(_mm_loadu_si128(p as *const __m128i));
        _mm256_castsi256_ps(_mm256_slli_epi32::<16>(bits))
    }
}

/// Turns one head's scores into unnormalised softmax weights `exp(score - max)` (0 where `valid`
/// is false) and returns their sum; 0 when no position is valid. Partial sums and maxima per lane,
/// so the loops vectorise.
#[inline(always)]
fn softmax_weights_in_place(scores: &mut [f32], valid: &[bool]) -> f32 {
    const LANES: usize = 8;
    let mut maxima = [f32::NEG_INFINITY; LANES];
    for (chunk, ok) in scores.chunks_mut(LANES).zip(valid.chunks(LANES)) {
        for lane in 0..chunk.len() {
            chunk[lane] = if ok[lane] { chunk[lane] } else { f32::NEG_INFINITY };
            maxima[lane] = maxima[lane].max(chunk[lane]);
        }
    }
    let max = maxima.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        scores.fill(0.0);
        return 0.0;
    }
    let mut totals = [0f32; LANES];
    for chunk in scores.chunks_mut(LANES) {
        for lane in 0..chunk.len() {
            chunk[lane] = exp_nonpositive_f32(chunk[lane] - max);
            totals[lane] += chunk[lane];
        }
    }
    totals.iter().sum()
}

/// The sums of each of eight vectors, as one vector (lane j = sum of `v[j]`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sum_each(v: &[std::arch::x86_64::__m256; 8]) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    // After two rounds of pairwise adds, lane order is (0 1 2 3 | 0 1 2 3) for v0..v3 in the low
    // and high halves, and likewise for v4..v7; adding the halves completes each sum.
    let a = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
    let b = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
    let low = _mm256_permute2f128_ps(a, b, 0x20);
    let high = _mm256_permute2f128_ps(a, b, 0x31);
    _mm256_add_ps(low, high)
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn attend_pair<E, const D: usize>(_: &Problem, _: usize, _: &mut [f32], _: &mut [f32]) {
    unreachable!("available() is false off x86-64")
}
