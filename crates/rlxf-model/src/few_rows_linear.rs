//! `x · Wᵀ + b` for few rows (decoding steps) on x86-64 CPUs with AVX2 and FMA, in f32, reading the
//! weight in its own `[out, in]` layout and splitting the output columns over libtorch's OpenMP threads.
//!
//! Why not MKL's sgemm, which `linear` calls: at 32 rows it re-packs the weight on every call and, on
//! this project's 2-core machine, barely uses its second thread (`rlxf bench projections --rows 32
//! --threads 2` times SmolLM2-135M's projections both ways; docs/benchmarks/peers-cpu.md). A decoding
//! step is those projections, so their speed is the sampler's speed. Training and prefill (many rows)
//! keep MKL, which is efficient there, and so does anything that needs gradients.
//!
//! Each tile computes `R x 6` outputs; every accumulator holds 8 partial sums along the input
//! dimension, summed at the end. The weight is read once per call, the rows (a few KB) stay in cache.
//! More rows per tile means fewer loads per multiply-add: with AVX-512's 32 registers a 4x6 tile
//! fits (24 accumulators), with AVX2's 16 only 2x6. Both use 256-bit vectors: 512-bit ones were
//! slower on the Zen 4 this project measures on (131 vs 141 GFLOP/s, 2 threads, 32 rows).

use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

use crate::{autocast, openmp, runtime, simd};

/// Inputs with more rows than this take MKL (prefill, training, large batches): "few rows" for
/// every CPU projection choice in this crate.
pub const MAX_ROWS: i64 = 128;
/// Below this many multiply-adds a call stays on one thread: waking the others costs more.
const PARALLEL_MIN_MACS: usize = 1 << 16;
/// `mkl` keeps every projection on libtorch's `linear`, `avx2` keeps the AVX2 tiles where AVX-512
/// exists (both for A/B benchmarks); unset, the best variant this CPU runs is used.
pub const ENGINE_ENV: &str = "RLXF_FEW_ROWS_GEMM";
/// Output columns per tile, for every variant.
const COLS: usize = 6;

/// The instruction set a kernel variant needs; its tile height follows from the register count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// AVX2 and FMA: 16 vector registers, 2x6 tiles.
    Avx2,
    /// AVX2, FMA and AVX-512 F/VL: 32 vector registers, 4x6 tiles.
    Avx512,
}

impl Isa {
    pub const ALL: [Isa; 2] = [Isa::Avx2, Isa::Avx512];

    /// Whether this CPU runs the variant.
    pub fn supported(self) -> bool {
        match self {
            Isa::Avx2 => simd::has_avx2_fma(),
            Isa::Avx512 => simd::has_avx512_vl(),
        }
    }

    fn tile_rows(self) -> usize {
        match self {
            Isa::Avx2 => 2,
            Isa::Avx512 => 4,
        }
    }
}

/// The variant [`try_linear`] uses: the best one this CPU runs, unless [`ENGINE_ENV`] says otherwise.
pub fn default_isa() -> Option<Isa> {
    static DEFAULT: OnceLock<Option<Isa>> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let choice = std::env::var(ENGINE_ENV).unwrap_or_default().to_ascii_lowercase();
        match choice.as_str() {
            "mkl" => None,
            "avx2" => Some(Isa::Avx2).filter(|isa| isa.supported()),
            _ => [Isa::Avx512, Isa::Avx2].into_iter().find(|isa| isa.supported()),
        }
    })
}

/// Whether the kernel runs here: x86-64 with AVX2 and FMA, and not switched off by [`ENGINE_ENV`].
pub fn available() -> bool {
    default_isa().is_some()
}

/// `x · weightᵀ + bias` when this kernel applies (CPU, f32, at most [`MAX_ROWS`] rows, no gradient
/// needed); `None` when the caller should use libtorch.
pub fn try_linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Option<Tensor> {
    try_linear_on(default_isa()?, x, weight, bias)
}

/// [`try_linear`] with a chosen variant (tests and benchmarks compare them); `None` also when this
/// CPU does not run `isa`.
pub fn try_linear_on(isa: Isa, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Option<Tensor> {
    if !isa.supported() || x.device() != Device::Cpu || x.kind() != Kind::Float || weight.kind() != Kind::Float {
        return None;
    }
    // Under bf16 autocast the product belongs to libtorch, which runs it in bf16.
    if autocast::is_enabled(Device::Cpu) {
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
    let needs_grad = runtime::grad_needed([x, weight].into_iter().chain(bias));
    if needs_grad || bias.is_some_and(|b| b.kind() != Kind::Float || b.size() != [out_dim]) {
        return None;
    }
    let x = x.reshape([rows, in_dim]).contiguous();
    let weight = weight.contiguous();
    let bias = bias.map(Tensor::contiguous);
    let y = Tensor::empty([rows, out_dim], (Kind::Float, Device::Cpu));
    let problem = Problem {
        isa,
        x: x.data_ptr() as *const f32,
        weight: weight.data_ptr() as *const f32,
        bias: bias.as_ref().map_or(std::ptr::null(), |b| b.data_ptr() as *const f32),
        y: y.data_ptr() as *mut f32,
        rows: rows as usize,
        outputs: out_dim as usize,
        inputs: in_dim as usize,
    };
    // SAFETY: the pointers come from contiguous f32 tensors of the sizes recorded in `problem`, kept
    // alive until the call returns; `isa.supported()` checked the CPU features.
    unsafe { run(&problem) };
    *shape.last_mut().expect("input has a feature dimension") = out_dim;
    Some(y.view(shape.as_slice()))
}

struct Problem {
    isa: Isa,
    x: *const f32,
    weight: *const f32,
    bias: *const f32,
    y: *mut f32,
    rows: usize,
    outputs: usize,
    inputs: usize,
}

// SAFETY: threads share a problem only inside `run`'s parallel region, reading the inputs and
// writing disjoint output columns.
unsafe impl Sync for Problem {}

unsafe fn run(problem: &Problem) {
    let macs = problem.rows * problem.outputs * problem.inputs;
    let threads = if macs < PARALLEL_MIN_MACS { 1 } else { openmp::torch_threads() };
    openmp::parallel(threads, &|thread, threads| {
        let (start, end) = thread_columns(problem.outputs, thread, threads);
        // SAFETY: `run`'s caller vouches for the problem's pointers; threads write disjoint columns.
        unsafe { columns(problem, start, end) };
    });
}

/// Output columns `[start, end)` of thread `thread` of `threads`: whole tiles, as even as possible.
fn thread_columns(outputs: usize, thread: usize, threads: usize) -> (usize, usize) {
    let (first, last) = openmp::share(outputs.div_ceil(COLS), thread, threads);
    ((first * COLS).min(outputs), (last * COLS).min(outputs))
}

/// Column tiles outside, row tiles inside: a tile's weight rows stay in L1 while every row passes.
unsafe fn columns(p: &Problem, start: usize, end: usize) {
    let tile_rows = p.isa.tile_rows();
    let mut col = start;
    while col < end {
        let cols = (end - col).min(COLS);
        let mut row = 0;
        while row < p.rows {
            let rows = (p.rows - row).min(tile_rows);
            let tile = Tile {
                x: p.x.add(row * p.inputs),
                w: p.weight.add(col * p.inputs),
                b: if p.bias.is_null() { p.bias } else { p.bias.add(col) },
                y: p.y.add(row * p.outputs + col),
                k: p.inputs,
                ldy: p.outputs,
            };
            tile.run(p.isa, rows, cols);
            row += rows;
        }
        col += cols;
    }
}

/// One tile's operands: `rows` rows of `x` (row stride `k`) times `cols` rows of `w` (row stride
/// `k`), plus `b` unless null, into `y` (row stride `ldy`).
#[derive(Clone, Copy)]
struct Tile {
    x: *const f32,
    w: *const f32,
    b: *const f32,
    y: *mut f32,
    k: usize,
    ldy: usize,
}

impl Tile {
    #[cfg(target_arch = "x86_64")]
    unsafe fn run(&self, isa: Isa, rows: usize, cols: usize) {
        match (isa, rows) {
            (Isa::Avx512, 4) => self.columns_of::<4>(isa, cols),
            (Isa::Avx512, 3) => self.columns_of::<3>(isa, cols),
            (_, 2) => self.columns_of::<2>(isa, cols),
            _ => self.columns_of::<1>(isa, cols),
        }
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn columns_of<const R: usize>(&self, isa: Isa, cols: usize) {
        match cols {
            6 => self.shape::<R, 6>(isa),
            5 => self.shape::<R, 5>(isa),
            4 => self.shape::<R, 4>(isa),
            3 => self.shape::<R, 3>(isa),
            2 => self.shape::<R, 2>(isa),
            _ => self.shape::<R, 1>(isa),
        }
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn shape<const R: usize, const C: usize>(&self, isa: Isa) {
        let Tile { x, w, b, y, k, ldy } = *self;
        match isa {
            Isa::Avx2 => avx2::tile::<R, C>(x, w, b, k, y, ldy),
            Isa::Avx512 => avx512::tile::<R, C>(x, w, b, k, y, ldy),
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn run(&self, _: Isa, _: usize, _: usize) {
        unreachable!("no variant is supported off x86-64")
    }
}

/// The tile body, compiled once per instruction set: the same source, but with AVX-512 enabled
/// the compiler has 32 registers for the accumulators.
#[cfg(target_arch = "x86_64")]
macro_rules! tile_for {
    ($module:ident, $features:literal) => {
        mod $module {
            use std::arch::x86_64::*;

            use crate::simd::horizontal_sum;

            /// `R` rows of `x` (row stride `k`) times `C` rows of `w` (row stride `k`), plus `b`
            /// unless null, into `y` (row stride `ldy`).
            // Indices, not iterators: each accumulator is named by its (row, column) place in the tile.
            #[allow(clippy::needless_range_loop)]
            #[target_feature(enable = $features)]
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
    };
}

#[cfg(target_arch = "x86_64")]
tile_for!(avx2, "avx2,fma");
#[cfg(target_arch = "x86_64")]
tile_for!(avx512, "avx2,fma,avx512f,avx512vl");

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
