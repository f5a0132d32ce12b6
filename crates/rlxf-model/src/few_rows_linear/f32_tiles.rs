//! The f32 tile body, compiled once per instruction set: the same source, but with AVX-512 enabled
//! the compiler has 32 registers for the accumulators.

/// A module `$module` with the tile body for `$features` and its shape dispatch.
#[cfg(target_arch = "x86_64")]
macro_rules! tile_for {
    ($module:ident, $features:literal) => {
        pub mod $module {
            use std::arch::x86_64::*;

            use crate::simd::horizontal_sum;

            super::super::tile_shapes!(f32, f32);

            /// `R` rows of `x` (row stride `k`) times `C` rows of `w` (row stride `k`), plus `b`
            /// unless null, into `y` (row stride `ldy`).
            // Indices, not iterators: each accumulator is named by its (row, column) place in the tile.
            #[allow(clippy::needless_range_loop)]
            #[target_feature(enable = $features)]
            unsafe fn tile<const R: usize, const C: usize>(
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

/// Off x86-64 no variant is supported, so nothing calls these.
#[cfg(not(target_arch = "x86_64"))]
pub mod avx2 {
    pub unsafe fn any_shape(_: usize, _: usize, _: &crate::few_rows_linear::Tile<f32, f32>) {
        unreachable!("no f32 variant is supported off x86-64")
    }
}
#[cfg(not(target_arch = "x86_64"))]
pub use avx2 as avx512;
