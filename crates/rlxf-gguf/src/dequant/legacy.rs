//! The 32-element "legacy" formats: one f16 scale (and for `_1` types an f16 min) per block.
//! Layouts and formulas follow ggml-quants.c `dequantize_row_q{4,5,8}_{0,1}`; in the 4/5-bit
//! formats element `j` sits in the low nibble of byte `j` and element `j + 16` in its high nibble.

use super::f16_at;

/// `block_q4_0 { ggml_half d; uint8_t qs[16]; }`: y = (q - 8) * d
pub(super) fn q4_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let qs = &b[2..18];
    for j in 0..16 {
        y[j] = (i32::from(qs[j] & 0x0F) - 8) as f32 * d;
        y[j + 16] = (i32::from(qs[j] >> 4) - 8) as f32 * d;
    }
}

/// `block_q4_1 { ggml_half d, m; uint8_t qs[16]; }`: y = q * d + m
pub(super) fn q4_1(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let m = f16_at(b, 2);
    let qs = &b[4..20];
    for j in 0..16 {
        y[j] = f32::from(qs[j] & 0x0F) * d + m;
        y[j + 16] = f32::from(qs[j] >> 4) * d + m;
    }
}

/// The fifth bit of element `j` is bit `j` of the little-endian `qh` word.
#[inline]
fn fifth_bits(qh: u32, j: usize) -> (u8, u8) {
    let lo = ((qh >> j) << 4) & 0x10;
    let hi = (qh >> (j + 12)) & 0x10;
    (lo as u8, hi as u8)
}

/// `block_q5_0 { ggml_half d; uint8_t qh[4]; uint8_t qs[16]; }`: y = (q - 16) * d
pub(super) fn q5_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    for j in 0..16 {
        let (h0, h1) = fifth_bits(qh, j);
        y[j] = (i32::from((qs[j] & 0x0F) | h0) - 16) as f32 * d;
        y[j + 16] = (i32::from((qs[j] >> 4) | h1) - 16) as f32 * d;
    }
}

/// `block_q5_1 { ggml_half d, m; uint8_t qh[4]; uint8_t qs[16]; }`: y = q * d + m
pub(super) fn q5_1(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let m = f16_at(b, 2);
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let qs = &b[8..24];
    for j in 0..16 {
        let (h0, h1) = fifth_bits(qh, j);
        y[j] = f32::from((qs[j] & 0x0F) | h0) * d + m;
        y[j + 16] = f32::from((qs[j] >> 4) | h1) * d + m;
    }
}

/// `block_q8_0 { ggml_half d; int8_t qs[32]; }`: y = q * d
pub(super) fn q8_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    for (v, &q) in y.iter_mut().zip(&b[2..34]) {
        *v = f32::from(q as i8) * d;
    }
}
