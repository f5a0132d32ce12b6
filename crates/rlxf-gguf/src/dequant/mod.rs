//! Dequantization of ggml blocks to f32, bit-exact with llama.cpp's `ggml-quants.c` reference
//! `dequantize_row_*` functions (and gguf-py's `gguf.quants`, which the tests compare against).
//!
//! Each format works on whole blocks; the caller passes a run of blocks (usually one tensor
//! row) and an output slice of exactly the matching length. The float operations are written in
//! the same order as the C code so the results agree to the last bit.

mod float;
mod kquants;
mod legacy;

use thiserror::Error;

use crate::ggml_type::GgmlType;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DequantError {
    #[error("quant type {0} is not supported")]
    Unsupported(GgmlType),
    #[error("{qtype}: {src_len} bytes do not hold exactly {dst_len} values")]
    Length {
        qtype: GgmlType,
        src_len: usize,
        dst_len: usize,
    },
}

/// Reads a little-endian IEEE half from the first two bytes of `b`.
#[inline]
fn f16_at(b: &[u8], at: usize) -> f32 {
    half::f16::from_bits(u16::from_le_bytes([b[at], b[at + 1]])).to_f32()
}

/// Dequantizes `src` (whole blocks of `qtype`) into `dst`. `dst.len()` must be the number of
/// values `src` holds.
pub fn dequantize(qtype: GgmlType, src: &[u8], dst: &mut [f32]) -> Result<(), DequantError> {
    let (block, size) = qtype
        .block_geometry()
        .ok_or(DequantError::Unsupported(qtype))?;
    let (block, size) = (block as usize, size as usize);
    let fits = dst.len().is_multiple_of(block) && src.len() == dst.len() / block * size;
    if !fits {
        return Err(DequantError::Length {
            qtype,
            src_len: src.len(),
            dst_len: dst.len(),
        });
    }
    let blocks = src.chunks_exact(size).zip(dst.chunks_exact_mut(block));
    match qtype {
        GgmlType::F32 => float::f32s(src, dst),
        GgmlType::F16 => float::f16s(src, dst),
        GgmlType::BF16 => float::bf16s(src, dst),
        GgmlType::Q4_0 => blocks.for_each(|(b, y)| legacy::q4_0(b, y)),
        GgmlType::Q4_1 => blocks.for_each(|(b, y)| legacy::q4_1(b, y)),
        GgmlType::Q5_0 => blocks.for_each(|(b, y)| legacy::q5_0(b, y)),
        GgmlType::Q5_1 => blocks.for_each(|(b, y)| legacy::q5_1(b, y)),
        GgmlType::Q8_0 => blocks.for_each(|(b, y)| legacy::q8_0(b, y)),
        GgmlType::Q4_K => blocks.for_each(|(b, y)| kquants::q4_k(b, y)),
        GgmlType::Q5_K => blocks.for_each(|(b, y)| kquants::q5_k(b, y)),
        GgmlType::Q6_K => blocks.for_each(|(b, y)| kquants::q6_k(b, y)),
        _ => return Err(DequantError::Unsupported(qtype)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_type_has_a_kernel() {
        for t in GgmlType::SUPPORTED {
            let (block, size) = t.block_geometry().unwrap();
            let src = vec![0u8; size as usize * 2];
            let mut dst = vec![1.0f32; block as usize * 2];
            assert_eq!(dequantize(t, &src, &mut dst), Ok(()), "{t}");
        }
    }

    #[test]
    fn rejects_unsupported_and_bad_lengths() {
        let mut dst = vec![0.0; 256];
        assert_eq!(
            dequantize(GgmlType(16), &[0; 66], &mut dst),
            Err(DequantError::Unsupported(GgmlType(16)))
        );
        assert_eq!(
            dequantize(GgmlType(1234), &[0; 66], &mut dst),
            Err(DequantError::Unsupported(GgmlType(1234)))
        );
        assert!(dequantize(GgmlType::Q4_0, &[0; 17], &mut dst[..32]).is_err());
        assert!(dequantize(GgmlType::Q4_0, &[0; 18], &mut dst[..31]).is_err());
        assert!(dequantize(GgmlType::F16, &[0; 3], &mut dst[..2]).is_err());
    }

    #[test]
    fn q8_0_simple_values() {
        // d = 0.5 (f16 0x3800), q = -16..16
        let mut b = vec![0x00, 0x38];
        b.extend((0..32).map(|i| (i as i8 - 16) as u8));
        let mut y = [0.0f32; 32];
        dequantize(GgmlType::Q8_0, &b, &mut y).unwrap();
        for (i, v) in y.iter().enumerate() {
            assert_eq!(*v, (i as f32 - 16.0) * 0.5);
        }
    }
}
