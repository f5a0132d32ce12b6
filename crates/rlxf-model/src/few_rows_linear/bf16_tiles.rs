//! The bf16 tile body: AVX-512 BF16's `vdpbf16ps` multiplies 16 pairs of bf16 values per 256-bit
//! instruction and adds each product pair into an f32 lane, twice the multiply-adds of an f32 FMA
//! for half the bytes of weight. A product of two bf16 values is exact in f32, so each output is an
//! f32 sum of exact products, rounded once to bf16 at the end, as libtorch's bf16 `linear` defines it.
//! Values travel as their 16-bit patterns (`u16`).

/// Rows per tile: AVX-512's 32 registers hold 4x6 accumulators, as in the f32 variant.
pub const TILE_ROWS: usize = 4;

#[cfg(target_arch = "x86_64")]
mod body {
    use std::arch::x86_64::*;

    use crate::simd::horizontal_sum;

    super::super::tile_shapes!(u16, u16);

    /// 16 bf16 values from `p` (no alignment needed).
    #[inline(always)]
    unsafe fn load(p: *const u16) -> __m256bh {
        // SAFETY: both types are 256 bits of plain data.
        unsafe { std::mem::transmute::<__m256i, __m256bh>(_mm256_loadu_si256(p as *const __m256i)) }
    }

    fn widen(bits: u16) -> f32 {
        f32::from_bits((bits as u32) << 16)
    }

    /// `R` rows of `x` (row stride `k`) times `C` rows of `w` (row stride `k`), plus `b` (f32)
    /// unless null, into `y` (row stride `ldy`), rounded to bf16.
    // Indices, not iterators: each accumulator is named by its (row, column) place in the tile.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx2,fma,avx512f,avx512vl,avx512bf16")]
    unsafe fn tile<const R: usize, const C: usize>(
        x: *const u16,
        w: *const u16,
        b: *const f32,
        k: usize,
        y: *mut u16,
        ldy: usize,
    ) {
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        let whole = k / 16 * 16;
        let mut i = 0;
        while i < whole {
            // `__m256bh` has no zero constant: row 0's values fill the array, the other rows follow.
            let mut xs = [load(x.add(i)); R];
            for r in 1..R {
                xs[r] = load(x.add(r * k + i));
            }
            for c in 0..C {
                let wc = load(w.add(c * k + i));
                for r in 0..R {
                    acc[r][c] = _mm256_dpbf16_ps(acc[r][c], xs[r], wc);
                }
            }
            i += 16;
        }
        for r in 0..R {
            for c in 0..C {
                let mut sum = horizontal_sum(acc[r][c]);
                for j in whole..k {
                    sum += widen(*x.add(r * k + j)) * widen(*w.add(c * k + j));
                }
                if !b.is_null() {
                    sum += *b.add(c);
                }
                *y.add(r * ldy + c) = half::bf16::from_f32(sum).to_bits();
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub use body::any_shape;

/// Off x86-64 the variant is never supported, so nothing calls this.
#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn any_shape(_: usize, _: usize, _: &super::Tile<u16, u16>) {
    unreachable!("the bf16 variant is not supported off x86-64")
}
