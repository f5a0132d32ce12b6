//! `x · Wᵀ + b` for few rows (decoding steps) on x86-64 CPUs, reading the weight in its own
//! `[out, in]` layout and splitting the output columns over libtorch's OpenMP threads: in f32 with
//! AVX2 and FMA, and in bf16 (f32 sums) with AVX-512 BF16.
//!
//! Why not MKL's sgemm, which `linear` calls: at 32 rows it re-packs the weight on every call and, on
//! this project's 2-core machine, barely uses its second thread (`rlxf bench projections --rows 32
//! --threads 2` times SmolLM2-135M's projections both ways; docs/benchmarks/peers-cpu.md); oneDNN's
//! bf16 path for the same shapes is slower still. A decoding step is those projections, so their speed
//! is the sampler's speed. Training and prefill (many rows) keep libtorch, which is efficient there,
//! and so does anything that needs gradients.
//!
//! Each tile computes `R x 6` outputs; every accumulator holds 8 partial sums along the input
//! dimension, summed at the end. The weight is read once per call, the rows (a few KB) stay in cache.
//! More rows per tile means fewer loads per multiply-add: with AVX-512's 32 registers a 4x6 tile
//! fits (24 accumulators), with AVX2's 16 only 2x6. Every variant uses 256-bit vectors: 512-bit ones
//! were slower on the Zen 4 this project measures on (131 vs 141 GFLOP/s, 2 threads, 32 rows).
//!
//! Under bf16 autocast a product takes the bf16 variant with autocast's own operands (the region's
//! cached bf16 copy of the weight, the input rounded to bf16) and gives what autocast's `linear`
//! gives, a bf16 result of f32 sums, so decoding under autocast keeps a hand-written kernel.

mod bf16_tiles;
mod f32_tiles;

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

/// The instruction set an f32 kernel variant needs; its tile height follows from the register count.
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

fn engine_choice() -> &'static str {
    static CHOICE: OnceLock<String> = OnceLock::new();
    CHOICE.get_or_init(|| std::env::var(ENGINE_ENV).unwrap_or_default().to_ascii_lowercase())
}

/// The f32 variant [`try_linear`] uses: the best one this CPU runs, unless [`ENGINE_ENV`] says otherwise.
pub fn default_isa() -> Option<Isa> {
    static DEFAULT: OnceLock<Option<Isa>> = OnceLock::new();
    *DEFAULT.get_or_init(|| match engine_choice() {
        "mkl" => None,
        "avx2" => Some(Isa::Avx2).filter(|isa| isa.supported()),
        _ => [Isa::Avx512, Isa::Avx2].into_iter().find(|isa| isa.supported()),
    })
}

/// Whether the f32 kernel runs here: x86-64 with AVX2 and FMA, and not switched off by [`ENGINE_ENV`].
pub fn available() -> bool {
    default_isa().is_some()
}

/// Whether the bf16 kernel runs here: x86-64 with AVX-512 BF16 and VL, and [`ENGINE_ENV`] not `mkl`.
pub fn bf16_available() -> bool {
    simd::has_avx512_bf16() && engine_choice() != "mkl"
}

/// `x · weightᵀ + bias` when this kernel applies (CPU, at most [`MAX_ROWS`] rows, no gradient
/// needed; f32 operands, bf16 operands, or any of them under bf16 autocast); `None` when the caller
/// should use libtorch.
pub fn try_linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Option<Tensor> {
    if autocast::is_enabled(Device::Cpu) {
        return try_linear_autocast(x, weight, bias);
    }
    match x.kind() {
        Kind::BFloat16 => try_linear_bf16(x, weight, bias),
        _ => try_linear_on(default_isa()?, x, weight, bias),
    }
}

/// The f32 product with a chosen variant (tests and benchmarks compare them); `None` also when this
/// CPU does not run `isa`, and under bf16 autocast (the product is bf16 there).
pub fn try_linear_on(isa: Isa, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Option<Tensor> {
    if !isa.supported() || x.kind() != Kind::Float || weight.kind() != Kind::Float || autocast::is_enabled(Device::Cpu) {
        return None;
    }
    let shape = ProductShape::of(x, weight, bias)?;
    if bias.is_some_and(|b| b.kind() != Kind::Float) {
        return None;
    }
    let tile = match isa {
        Isa::Avx2 => f32_tiles::avx2::any_shape,
        Isa::Avx512 => f32_tiles::avx512::any_shape,
    };
    // SAFETY: f32 operands for f32 tiles; `isa.supported()` checked the CPU features.
    Some(unsafe { compute(&shape, x, weight, bias, Kind::Float, tile, isa.tile_rows()) })
}

/// The bf16 product: bf16 `x` and `weight`, a bf16 or f32 bias; the result is bf16, each output the
/// f32 sum of exact products rounded once (to nearest even), as libtorch's bf16 `linear` defines it.
pub fn try_linear_bf16(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Option<Tensor> {
    if !bf16_available() || x.kind() != Kind::BFloat16 || weight.kind() != Kind::BFloat16 {
        return None;
    }
    let shape = ProductShape::of(x, weight, bias)?;
    if bias.is_some_and(|b| !matches!(b.kind(), Kind::Float | Kind::BFloat16)) {
        return None;
    }
    // SAFETY: bf16 operands for the bf16 tiles; `bf16_available()` checked the CPU features.
    Some(unsafe { compute(&shape, x, weight, bias, Kind::BFloat16, bf16_tiles::any_shape, bf16_tiles::TILE_ROWS) })
}

/// The product as autocast's `linear` computes it, from autocast's own bf16 operands: the weight's
/// (and bias's) copy from the region's cache, so the kernel and libtorch's operations in the region
/// (prefill) share one cast per parameter, and the input rounded to bf16.
fn try_linear_autocast(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Option<Tensor> {
    let autocast_kinds = |t: &Tensor| matches!(t.kind(), Kind::Float | Kind::BFloat16);
    if !bf16_available() || !autocast_kinds(x) || !autocast_kinds(weight) || !bias.is_none_or(autocast_kinds) {
        return None;
    }
    // Checked before casting: a product that stays with libtorch should not pay for a cast.
    let shape = ProductShape::of(x, weight, bias)?;
    let weight = autocast::cpu_bf16_operand(weight)?;
    let bias = match bias {
        Some(b) => Some(autocast::cpu_bf16_operand(b)?),
        None => None,
    };
    let x = x.to_kind(Kind::BFloat16);
    // SAFETY: bf16 operands (autocast's casts) for the bf16 tiles; `bf16_available()` checked the
    // CPU features.
    Some(unsafe { compute(&shape, &x, &weight, bias.as_ref(), Kind::BFloat16, bf16_tiles::any_shape, bf16_tiles::TILE_ROWS) })
}

/// Runs `tile` over the product of `shape` and returns it in `x`'s leading dimensions. The bias joins
/// the f32 sums (a bf16 one converts exactly).
///
/// # Safety
/// `x` and `weight` must hold elements of type `E` and the output kind `out` elements of type `O`,
/// as `tile` reads and writes them, and the CPU must run `tile`'s instructions.
unsafe fn compute<E, O>(shape: &ProductShape, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>, out: Kind, tile: TileFn<E, O>, tile_rows: usize) -> Tensor {
    let x = x.reshape([shape.rows, shape.inputs]).contiguous();
    let weight = weight.contiguous();
    let bias = bias.map(|b| b.to_kind(Kind::Float).contiguous());
    let y = Tensor::empty([shape.rows, shape.outputs], (out, Device::Cpu));
    let problem = Problem {
        tile,
        tile_rows,
        x: x.data_ptr() as *const E,
        weight: weight.data_ptr() as *const E,
        bias: bias.as_ref().map_or(std::ptr::null(), |b| b.data_ptr() as *const f32),
        y: y.data_ptr() as *mut O,
        rows: shape.rows as usize,
        outputs: shape.outputs as usize,
        inputs: shape.inputs as usize,
    };
    // SAFETY: the pointers come from contiguous tensors of the sizes recorded in `problem`, kept alive
    // until the call returns; the caller vouches for the element types and the CPU features.
    unsafe { run(&problem) };
    y.view(shape.output_dims.as_slice())
}

/// The sizes of a product this kernel takes, or `None` when it must stay with libtorch.
struct ProductShape {
    rows: i64,
    inputs: i64,
    outputs: i64,
    /// `x`'s leading dimensions with the output width last.
    output_dims: Vec<i64>,
}

impl ProductShape {
    fn of(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Option<Self> {
        if x.device() != Device::Cpu || weight.device() != Device::Cpu {
            return None;
        }
        let (outputs, inputs) = weight.size2().ok()?;
        let mut output_dims = x.size();
        if output_dims.last() != Some(&inputs) {
            return None;
        }
        let rows: i64 = output_dims[..output_dims.len() - 1].iter().product();
        if rows == 0 || rows > MAX_ROWS || bias.is_some_and(|b| b.size() != [outputs] || b.device() != Device::Cpu) {
            return None;
        }
        if runtime::grad_needed([x, weight].into_iter().chain(bias)) {
            return None;
        }
        *output_dims.last_mut().expect("input has a feature dimension") = outputs;
        Some(Self { rows, inputs, outputs, output_dims })
    }
}

/// One tile's operands: `rows` rows of `x` (row stride `k`) times `cols` rows of `w` (row stride
/// `k`), plus `b` (f32) unless null, into `y` (row stride `ldy`).
#[derive(Clone, Copy)]
struct Tile<E, O> {
    x: *const E,
    w: *const E,
    b: *const f32,
    y: *mut O,
    k: usize,
    ldy: usize,
}

/// A variant's tile body for any `rows x cols` up to its tile height x [`COLS`].
type TileFn<E, O> = unsafe fn(rows: usize, cols: usize, tile: &Tile<E, O>);

/// One product: inputs of element type `E`, outputs of `O`, the bias f32.
struct Problem<E, O> {
    tile: TileFn<E, O>,
    tile_rows: usize,
    x: *const E,
    weight: *const E,
    bias: *const f32,
    y: *mut O,
    rows: usize,
    outputs: usize,
    inputs: usize,
}

// SAFETY: threads share a problem only inside `run`'s parallel region, reading the inputs and
// writing disjoint output columns.
unsafe impl<E, O> Sync for Problem<E, O> {}

unsafe fn run<E, O>(problem: &Problem<E, O>) {
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
unsafe fn columns<E, O>(p: &Problem<E, O>, start: usize, end: usize) {
    let mut col = start;
    while col < end {
        let cols = (end - col).min(COLS);
        let mut row = 0;
        while row < p.rows {
            let rows = (p.rows - row).min(p.tile_rows);
            let tile = Tile {
                x: p.x.add(row * p.inputs),
                w: p.weight.add(col * p.inputs),
                b: if p.bias.is_null() { p.bias } else { p.bias.add(col) },
                y: p.y.add(row * p.outputs + col),
                k: p.inputs,
                ldy: p.outputs,
            };
            (p.tile)(rows, cols, &tile);
            row += rows;
        }
        col += cols;
    }
}

/// `any_shape(rows, cols, tile)` for a module whose `tile::<R, C>(x, w, b, k, y, ldy)` is the tile
/// body: the const-generic instance for the tile's actual shape (row and column tails included).
macro_rules! tile_shapes {
    ($elem:ty, $out:ty) => {
        pub unsafe fn any_shape(rows: usize, cols: usize, t: &$crate::few_rows_linear::Tile<$elem, $out>) {
            match rows {
                4 => columns_of::<4>(cols, t),
                3 => columns_of::<3>(cols, t),
                2 => columns_of::<2>(cols, t),
                _ => columns_of::<1>(cols, t),
            }
        }

        unsafe fn columns_of<const R: usize>(cols: usize, t: &$crate::few_rows_linear::Tile<$elem, $out>) {
            let $crate::few_rows_linear::Tile { x, w, b, y, k, ldy } = *t;
            match cols {
                6 => tile::<R, 6>(x, w, b, k, y, ldy),
                5 => tile::<R, 5>(x, w, b, k, y, ldy),
                4 => tile::<R, 4>(x, w, b, k, y, ldy),
                3 => tile::<R, 3>(x, w, b, k, y, ldy),
                2 => tile::<R, 2>(x, w, b, k, y, ldy),
                _ => tile::<R, 1>(x, w, b, k, y, ldy),
            }
        }
    };
}
use tile_shapes;

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
