//! The elementwise parts of a decoding step, each in one pass over memory instead of a chain of
//! libtorch ops: RMSNorm (with the residual add before it), rotary embedding of queries and keys, and
//! SwiGLU's `silu(gate) * up`.
//!
//! Why: at decoding shapes (tens of rows of 576 features) each libtorch op costs more in dispatch,
//! allocation and a parallel region than in arithmetic, and these chains are about two dozen ops per
//! layer, run on the main thread while the other OpenMP workers spin. Each function returns `None`
//! where it does not apply (not CPU f32, gradients needed, too many rows, other shapes), and the
//! caller keeps libtorch's path, which stays the reference the tests compare with.

use tch::{Device, Kind, Tensor};

use crate::runtime;
use crate::softmax_weights::exp_nonpositive_f32;

/// Rows (tokens) up to which these kernels replace libtorch: a decoding step has one token per
/// sequence; prefill and training have many and stay with libtorch's parallel kernels.
pub const MAX_ROWS: i64 = 256;

/// `(x + delta, rms_norm(x + delta) * weight)`, or `rms_norm(x) * weight` alone (`delta` = `None`,
/// the sum then being `x` itself). Normalises in f32 like Hugging Face's `LlamaRMSNorm`.
pub fn try_add_rms_norm(x: &Tensor, delta: Option<&Tensor>, weight: &Tensor, eps: f64) -> Option<(Tensor, Tensor)> {
    let width_i64 = *x.size().last()?;
    let rows = few_rows_f32(x, width_i64)?;
    let width = width_i64 as usize;
    if weight.size() != [width_i64] || !applies(weight) || delta.is_some_and(|d| d.size() != x.size() || !applies(d)) {
        return None;
    }
    if runtime::grad_needed([x, weight].into_iter().chain(delta)) {
        return None;
    }
    let x = x.contiguous();
    let weight = weight.contiguous();
    let sum = match delta {
        Some(d) => {
            let d = d.contiguous();
            let out = Tensor::empty(x.size(), (Kind::Float, Device::Cpu));
            // SAFETY: three contiguous f32 tensors of `rows * width` elements, alive for the call.
            unsafe {
                let (a, b, o) = (slice(&x, rows * width), slice(&d, rows * width), slice_mut(&out, rows * width));
                o.iter_mut().zip(a.iter().zip(b)).for_each(|(o, (a, b))| *o = a + b);
            }
            out
        }
        None => x.shallow_clone(),
    };
    let normed = Tensor::empty(x.size(), (Kind::Float, Device::Cpu));
    // SAFETY: contiguous f32 tensors: `sum` and `normed` of `rows * width`, `weight` of `width`.
    unsafe {
        let (input, w, out) = (slice(&sum, rows * width), slice(&weight, width), slice_mut(&normed, rows * width));
        for (row, out) in input.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
            let scale = (sum_of_squares(row) / width as f32 + eps as f32).sqrt().recip();
            out.iter_mut().zip(row.iter().zip(w)).for_each(|(o, (x, w))| *o = w * (x * scale));
        }
    }
    Some((sum, normed))
}

/// Hugging Face's rotate-half rotary embedding of one decoding position: `x` `[B, H, 1, D]`, `cos` and
/// `sin` `[B, 1, 1, D]` (from `Rope::tables`); returns `x * cos + rotate_half(x) * sin`.
pub fn try_rotary(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Option<Tensor> {
    let (b, h, t, d) = x.size4().ok()?;
    if t != 1 || d % 2 != 0 || cos.size() != [b, 1, 1, d] || sin.size() != [b, 1, 1, d] {
        return None;
    }
    few_rows_f32(x, d)?;
    if !applies(cos) || !applies(sin) || runtime::grad_needed([x, cos, sin]) || b * h > MAX_ROWS * 16 {
        return None;
    }
    let (x, cos, sin) = (x.contiguous(), cos.contiguous(), sin.contiguous());
    let out = Tensor::empty([b, h, 1, d], (Kind::Float, Device::Cpu));
    let (heads, dim, half) = (h as usize, d as usize, d as usize / 2);
    let n = (b * h * d) as usize;
    // SAFETY: contiguous f32 tensors: `x` and `out` of `b * h * d`, `cos` and `sin` of `b * d`.
    unsafe {
        let (input, output) = (slice(&x, n), slice_mut(&out, n));
        let (cos, sin) = (slice(&cos, b as usize * dim), slice(&sin, b as usize * dim));
        for (r, (row, out)) in input.chunks_exact(dim).zip(output.chunks_exact_mut(dim)).enumerate() {
            let batch = r / heads;
            let (c, s) = (&cos[batch * dim..][..dim], &sin[batch * dim..][..dim]);
            let (x1, x2) = row.split_at(half);
            let (o1, o2) = out.split_at_mut(half);
            for i in 0..half {
                // rotate_half(x) = [-x2, x1]
                o1[i] = x1[i] * c[i] - x2[i] * s[i];
                o2[i] = x2[i] * c[half + i] + x1[i] * s[half + i];
            }
        }
    }
    Some(out)
}

/// `silu(gate) * up` for SwiGLU, in f32.
pub fn try_silu_mul(gate: &Tensor, up: &Tensor) -> Option<Tensor> {
    let width = *gate.size().last()?;
    let rows = few_rows_f32(gate, width)?;
    let width = width as usize;
    if up.size() != gate.size() || !applies(up) || runtime::grad_needed([gate, up]) {
        return None;
    }
    let (gate, up) = (gate.contiguous(), up.contiguous());
    let out = Tensor::empty(gate.size(), (Kind::Float, Device::Cpu));
    let n = rows * width;
    // SAFETY: three contiguous f32 tensors of `n` elements, alive for the call.
    unsafe {
        let (g, u, o) = (slice(&gate, n), slice(&up, n), slice_mut(&out, n));
        o.iter_mut().zip(g.iter().zip(u)).for_each(|(o, (&g, &u))| *o = g * sigmoid(g) * u);
    }
    Some(out)
}

/// `1 / (1 + e^-x)` through e^-|x| (never above 1, so no overflow), with the vectorisable
/// [`exp_nonpositive_f32`] instead of libm's scalar `expf` (which showed up at 1.8% of a decoding
/// profile); within a few ulp of the exact value.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    let e = exp_nonpositive_f32(-x.abs());
    let r = 1.0 / (1.0 + e);
    if x >= 0.0 {
        r
    } else {
        e * r
    }
}

/// The number of rows of `x` (`[.., width]`) if the kernels apply to it.
fn few_rows_f32(x: &Tensor, width: i64) -> Option<usize> {
    if !applies(x) || width == 0 {
        return None;
    }
    let rows = x.numel() as i64 / width;
    (rows > 0 && rows <= MAX_ROWS).then_some(rows as usize)
}

fn applies(t: &Tensor) -> bool {
    t.device() == Device::Cpu && t.kind() == Kind::Float
}

/// Eight partial sums so the loop vectorises; a fixed order, so it is deterministic.
fn sum_of_squares(row: &[f32]) -> f32 {
    let mut partial = [0f32; 8];
    let mut chunks = row.chunks_exact(8);
    for c in &mut chunks {
        for lane in 0..8 {
            partial[lane] += c[lane] * c[lane];
        }
    }
    chunks.remainder().iter().map(|x| x * x).sum::<f32>() + partial.iter().sum::<f32>()
}

/// # Safety
/// `t` is a contiguous f32 CPU tensor of at least `n` elements that outlives the slice.
unsafe fn slice(t: &Tensor, n: usize) -> &[f32] {
    std::slice::from_raw_parts(t.data_ptr() as *const f32, n)
}

/// # Safety
/// As [`slice`], and nothing else reads or writes `t` while the slice lives.
#[allow(clippy::mut_from_ref)]
unsafe fn slice_mut(t: &Tensor, n: usize) -> &mut [f32] {
    std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn randn(shape: &[i64]) -> Tensor {
        Tensor::randn(shape, (Kind::Float, Device::Cpu))
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    /// Hugging Face's LlamaRMSNorm, written with libtorch ops.
    fn reference_rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> Tensor {
        let variance = x.square().mean_dim(-1, true, Kind::Float);
        weight * (x * (variance + eps).rsqrt())
    }

    #[test]
    fn add_rms_norm_equals_libtorch() {
        tch::manual_seed(1);
        for (shape, width) in [(vec![32i64, 1, 576], 576i64), (vec![3, 1, 13], 13), (vec![7, 2, 64], 64)] {
            let (x, delta, weight) = (randn(&shape), randn(&shape), randn(&[width]));
            let (sum, normed) = try_add_rms_norm(&x, Some(&delta), &weight, 1e-5).unwrap();
            let expected_sum = &x + &delta;
            assert_eq!(max_diff(&sum, &expected_sum), 0.0);
            assert!(max_diff(&normed, &reference_rms_norm(&expected_sum, &weight, 1e-5)) < 1e-5);
            let (_, alone) = try_add_rms_norm(&x, None, &weight, 1e-6).unwrap();
            assert!(max_diff(&alone, &reference_rms_norm(&x, &weight, 1e-6)) < 1e-5);
        }
    }

    #[test]
    fn rotary_equals_rotate_half_formula() {
        tch::manual_seed(2);
        let (b, h, d) = (5, 9, 64);
        let x = randn(&[b, h, 1, d]);
        let angles = randn(&[b, 1, 1, d / 2]);
        let emb = Tensor::cat(&[&angles, &angles], -1);
        let (cos, sin) = (emb.cos(), emb.sin());
        let ours = try_rotary(&x, &cos, &sin).unwrap();
        let half = d / 2;
        let rotated = Tensor::cat(&[&(-x.narrow(3, half, half)), &x.narrow(3, 0, half)], 3);
        let expected = &x * &cos + rotated * &sin;
        assert!(max_diff(&ours, &expected) < 1e-6);
    }

    #[test]
    fn silu_mul_equals_libtorch() {
        tch::manual_seed(3);
        let (gate, up) = (randn(&[32, 1, 1536]) * 4.0, randn(&[32, 1, 1536]));
        let ours = try_silu_mul(&gate, &up).unwrap();
        let expected = gate.silu() * &up;
        assert!(max_diff(&ours, &expected) / expected.abs().max().double_value(&[]) < 1e-6);
        // Far tails: silu(x) -> x for large x, -> 0 (not NaN) for very negative x.
        let tails = Tensor::from_slice(&[-200.0f32, -90.0, -20.0, 0.0, 20.0, 90.0, 200.0]).view([1, 7]);
        let ones = tails.ones_like();
        let ours = try_silu_mul(&tails, &ones).unwrap();
        assert!(max_diff(&ours, &tails.silu()) < 1e-5, "{ours}");
    }

    #[test]
    fn declines_what_it_does_not_cover() {
        let weight = randn(&[8]);
        // Too many rows (prefill, training), another dtype, a gradient to keep.
        assert!(try_add_rms_norm(&randn(&[MAX_ROWS + 1, 8]), None, &weight, 1e-5).is_none());
        assert!(try_add_rms_norm(&randn(&[4, 8]).to_kind(Kind::Double), None, &weight, 1e-5).is_none());
        assert!(try_add_rms_norm(&randn(&[4, 8]).set_requires_grad(true), None, &weight, 1e-5).is_none());
        assert!(try_add_rms_norm(&randn(&[4, 8]), Some(&randn(&[4, 7])), &weight, 1e-5).is_none());
        // Rotary only for one position per row.
        let (cos, sin) = (randn(&[2, 1, 3, 8]), randn(&[2, 1, 3, 8]));
        assert!(try_rotary(&randn(&[2, 4, 3, 8]), &cos, &sin).is_none());
        assert!(try_silu_mul(&randn(&[4, 8]), &randn(&[4, 9])).is_none());
    }
}
