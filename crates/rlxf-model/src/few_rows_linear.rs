//! `x · Wᵀ + b` for few rows (decoding steps) on x86-64 CPUs with AVX2 and FMA, in f32, reading the
//! weight in its own `[out, in]` layout and splitting the output columns over libtorch's OpenMP threads.
//!
//! Why not MKL's sgemm, which `linear` calls: at 32 rows it re-packs the weight on every call and, on
//! this project's 2-core machine, barely uses its second thread (`rlxf bench projections --rows 32
//! --threads 2`: SmolLM2-135M's projections at 57-89 GFLOP/s with `linear`, 84-111 with this kernel;
//! docs/benchmarks/peers-cpu.md). A decoding step is those projections, so their speed is the
//! sampler's speed. Training and prefill (many rows) keep
//! MKL, which is efficient there, and so does anything that needs gradients.
//!
//! Each tile computes `ROWS x COLS` outputs; every accumulator holds 8 partial sums along the input
//! dimension, summed at the end. The weight is read once per call, the rows (a few KB) stay in cache.

use std::ffi::{c_int, c_uint, c_void};
use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

/// Inputs with more rows than this take MKL (prefill, training, large batches): "few rows" for
/// every CPU projection choice in this crate.
pub const MAX_ROWS: i64 = 128;
/// Below this many multiply-adds a call stays on one thread: waking the others costs more.
const PARALLEL_MIN_MACS: usize = 1 << 16;
/// Set to `mkl` to keep every projection on libtorch's `linear` (for A/B benchmarks).
pub const ENGINE_ENV: &str = "RLXF_FEW_ROWS_GEMM";

/// Whether the kernel can run here: x86-64 with AVX2 and FMA, and not switched off by [`ENGINE_ENV`].
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let switched_off = std::env::var(ENGINE_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("mkl"));
        !switched_off && cpu_supports_kernel()
    })
}

#[cfg(target_arch = "x86_64")]
fn cpu_supports_kernel() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_supports_kernel() -> bool {
    false
}

fn grad_mode_enabled() -> bool {
    // SAFETY: sets the thread-local grad mode and immediately restores the value it reports.
    unsafe {
        let previous = torch_sys::at_grad_set_enabled(0);
        torch_sys::at_grad_set_enabled(previous);
        previous != 0
    }
}

/// `x · weightᵀ + bias` when this kernel applies (CPU, f32, at most [`MAX_ROWS`] rows, no gradient
/// needed); `None` when the caller should use libtorch.
pub fn try_linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Option<Tensor> {
    if !available() || x.device() != Device::Cpu || x.kind() != Kind::Float || weight.kind() != Kind::Float {
        return None;
    }
    let (out_dim, in_dim) = weight.size2().ok()?;
    let mut shape = x.size();
    if shape.last() != Some(&in_dim) {
        return None;
    }
    let rows: i64 = shape[..shape.len() - 1].iter().product();
    if rows == 0 || rows > MAX_ROWS || weight.device() != Device::Cpu {
        return None;
    }
    let needs_grad = grad_mode_enabled()
        && (x.requires_grad() || weight.requires_grad() || bias.is_some_and(Tensor::requires_grad));
    if needs_grad || bias.is_some_and(|b| b.kind() != Kind::Float || b.size() != [out_dim]) {
        return None;
    }
    let x = x.reshape([rows, in_dim]).contiguous();
    let weight = weight.contiguous();
    let bias = bias.map(Tensor::contiguous);
    let y = Tensor::empty([rows, out_dim], (Kind::Float, Device::Cpu));
    let problem = Problem {
        x: x.data_ptr() as *const f32,
        weight: weight.data_ptr() as *const f32,
        bias: bias.as_ref().map_or(std::ptr::null(), |b| b.data_ptr() as *const f32),
        y: y.data_ptr() as *mut f32,
        rows: rows as usize,
        outputs: out_dim as usize,
        inputs: in_dim as usize,
    };
    // SAFETY: the pointers come from contiguous f32 tensors of the sizes recorded in `problem`, kept
    // alive until the call returns; `available()` checked the CPU features.
    unsafe { run(&problem) };
    *shape.last_mut().expect("input has a feature dimension") = out_dim;
    Some(y.view(shape.as_slice()))
}

struct Problem {
    x: *const f32,
    weight: *const f32,
    bias: *const f32,
    y: *mut f32,
    rows: usize,
    outputs: usize,
    inputs: usize,
}

extern "C" {
    // libgomp's entry point for a parallel region (what `#pragma omp parallel` compiles to): the
    // same OpenMP runtime and threads libtorch uses, so the kernel never competes with idle-spinning
    // libtorch workers for the cores. torch-sys links libgomp.
    fn GOMP_parallel(function: extern "C" fn(*mut c_void), data: *mut c_void, num_threads: c_uint, flags: c_uint);
    fn omp_get_thread_num() -> c_int;
    fn omp_get_num_threads() -> c_int;
}

unsafe fn run(problem: &Problem) {
    let macs = problem.rows * problem.outputs * problem.inputs;
    let threads = if macs < PARALLEL_MIN_MACS { 1 } else { torch_sys::at_get_num_threads().max(1) as usize };
    if threads == 1 {
        columns(problem, 0, problem.outputs);
        return;
    }
    extern "C" fn worker(data: *mut c_void) {
        // SAFETY: `data` is the `Problem` borrowed by `run`, which waits for every thread.
        unsafe {
            let problem = &*(data as *const Problem);
            let (thread, threads) = (omp_get_thread_num() as usize, omp_get_num_threads() as usize);
            let (start, end) = thread_columns(problem.outputs, thread, threads.max(1));
            columns(problem, start, end);
        }
    }
    GOMP_parallel(worker, problem as *const Problem as *mut c_void, threads as c_uint, 0);
}

/// Output columns `[start, end)` of thread `thread` of `threads`: whole tiles, as even as possible.
fn thread_columns(outputs: usize, thread: usize, threads: usize) -> (usize, usize) {
    let tiles = outputs.div_ceil(COLS);
    let (per, extra) = (tiles / threads, tiles % threads);
    let first = thread * per + thread.min(extra);
    let count = per + usize::from(thread < extra);
    ((first * COLS).min(outputs), ((first + count) * COLS).min(outputs))
}

const ROWS: usize = 2;
const COLS: usize = 6;

unsafe fn columns(p: &Problem, start: usize, end: usize) {
    let mut col = start;
    while col < end {
        let cols = (end - col).min(COLS);
        let mut row = 0;
        while row < p.rows {
            let rows = (p.rows - row).min(ROWS);
            tile_dispatch(p, row, rows, col, cols);
            row += rows;
        }
        col += cols;
    }
}

#[cfg(target_arch = "x86_64")]
unsafe fn tile_dispatch(p: &Problem, row: usize, rows: usize, col: usize, cols: usize) {
    let x = p.x.add(row * p.inputs);
    let w = p.weight.add(col * p.inputs);
    let b = if p.bias.is_null() { p.bias } else { p.bias.add(col) };
    let y = p.y.add(row * p.outputs + col);
    let (k, ldy) = (p.inputs, p.outputs);
    match (rows, cols) {
        (2, 6) => avx2::tile::<2, 6>(x, w, b, k, y, ldy),
        (2, 5) => avx2::tile::<2, 5>(x, w, b, k, y, ldy),
        (2, 4) => avx2::tile::<2, 4>(x, w, b, k, y, ldy),
        (2, 3) => avx2::tile::<2, 3>(x, w, b, k, y, ldy),
        (2, 2) => avx2::tile::<2, 2>(x, w, b, k, y, ldy),
        (2, _) => avx2::tile::<2, 1>(x, w, b, k, y, ldy),
        (_, 6) => avx2::tile::<1, 6>(x, w, b, k, y, ldy),
        (_, 5) => avx2::tile::<1, 5>(x, w, b, k, y, ldy),
        (_, 4) => avx2::tile::<1, 4>(x, w, b, k, y, ldy),
        (_, 3) => avx2::tile::<1, 3>(x, w, b, k, y, ldy),
        (_, 2) => avx2::tile::<1, 2>(x, w, b, k, y, ldy),
        (_, _) => avx2::tile::<1, 1>(x, w, b, k, y, ldy),
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn tile_dispatch(_: &Problem, _: usize, _: usize, _: usize, _: usize) {
    unreachable!("available() is false off x86-64")
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    unsafe fn horizontal_sum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
    }

    /// `R` rows of `x` (row stride `k`) times `C` rows of `w` (row stride `k`), plus `b` unless null,
    /// into `y` (row stride `ldy`).
    // Indices, not iterators: each accumulator is named by its (row, column) place in the tile.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile<const R: usize, const C: usize>(
        x: *const f32,
        w: *const f32,
        b: *const f32,
        k: usize,
        y: *mut f32,
        ldy: usize,
    ) {
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        let whole = k / 8 * 8;
        let mut i = 0;
        while i < whole {
            let mut xs = [_mm256_setzero_ps(); R];
            for (r, xr) in xs.iter_mut().enumerate() {
                *xr = _mm256_loadu_ps(x.add(r * k + i));
            }
            for c in 0..C {
                let wc = _mm256_loadu_ps(w.add(c * k + i));
                for r in 0..R {
                    acc[r][c] = _mm256_fmadd_ps(xs[r], wc, acc[r][c]);
                }
            }
            i += 8;
        }
        for r in 0..R {
            for c in 0..C {
                let mut sum = horizontal_sum(acc[r][c]);
                for j in whole..k {
                    sum += *x.add(r * k + j) * *w.add(c * k + j);
                }
                if !b.is_null() {
                    sum += *b.add(c);
                }
                *y.add(r * ldy + c) = sum;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_columns_cover_every_output_once_in_whole_tiles() {
        for outputs in [1, 5, 6, 7, 192, 577, 49152] {
            for threads in 1..=5 {
                let mut next = 0;
                for t in 0..threads {
                    let (start, end) = thread_columns(outputs, t, threads);
                    assert_eq!(start, next, "outputs {outputs} threads {threads}");
                    assert!(start % COLS == 0 || start == outputs);
                    next = end;
                }
                assert_eq!(next, outputs);
            }
        }
    }
}
