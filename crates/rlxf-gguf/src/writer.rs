//! `model.safetensors` output. Tensors are converted lazily, one at a time, while the
//! safetensors crate streams them to disk, so peak memory is one output tensor (plus the
//! memory-mapped GGUF).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use safetensors::tensor::{Dtype, View};

use crate::dequant::dequantize;
use crate::error::GgufError;
use crate::ggml_type::GgmlType;

/// Element type of the written weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputDType {
    /// The original Hugging Face dtype of the supported models.
    #[default]
    Bf16,
    F16,
    /// Lossless: every supported GGUF type dequantizes exactly to f32.
    F32,
}

impl OutputDType {
    fn safetensors(self) -> Dtype {
        match self {
            Self::Bf16 => Dtype::BF16,
            Self::F16 => Dtype::F16,
            Self::F32 => Dtype::F32,
        }
    }

    fn size(self) -> usize {
        match self {
            Self::Bf16 | Self::F16 => 2,
            Self::F32 => 4,
        }
    }

    /// The `torch_dtype` string of config.json.
    pub fn torch_name(self) -> &'static str {
        match self {
            Self::Bf16 => "bfloat16",
            Self::F16 => "float16",
            Self::F32 => "float32",
        }
    }

    /// Appends `values` as little-endian bytes, rounding to nearest-even for the 16-bit types.
    fn extend(self, out: &mut Vec<u8>, values: &[f32]) {
        match self {
            Self::Bf16 => values
                .iter()
                .for_each(|&v| out.extend(half::bf16::from_f32(v).to_le_bytes())),
            Self::F16 => values
                .iter()
                .for_each(|&v| out.extend(half::f16::from_f32(v).to_le_bytes())),
            Self::F32 => values.iter().for_each(|&v| out.extend(v.to_le_bytes())),
        }
    }
}

impl FromStr for OutputDType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            "f16" | "fp16" | "float16" | "half" => Ok(Self::F16),
            "f32" | "fp32" | "float32" | "float" => Ok(Self::F32),
            _ => Err(format!("unknown dtype '{s}' (expected bf16, f16 or f32)")),
        }
    }
}

impl std::fmt::Display for OutputDType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bf16 => "bf16",
            Self::F16 => "f16",
            Self::F32 => "f32",
        })
    }
}

/// One output tensor: its GGUF source bytes (already bounds-checked) and how to lay them out.
pub struct PendingTensor<'a> {
    pub hf_name: String,
    pub gguf_name: String,
    pub ggml_type: GgmlType,
    pub data: &'a [u8],
    /// HF (row-major) shape.
    pub shape: Vec<usize>,
    /// For each output row, the GGUF row to read (the Llama Q/K un-permutation); `None` keeps
    /// the order.
    pub source_rows: Option<Vec<usize>>,
}

impl PendingTensor<'_> {
    fn row_len(&self) -> usize {
        self.shape.last().copied().unwrap_or(1)
    }

    fn n_rows(&self) -> usize {
        self.shape.iter().rev().skip(1).product()
    }

    /// Dequantizes and converts the whole tensor, about `CHUNK_VALUES` values at a time so the f32
    /// scratch stays small.
    fn convert(&self, dtype: OutputDType) -> Result<Vec<u8>, String> {
        const CHUNK_VALUES: usize = 1 << 16;
        let row_len = self.row_len();
        let n_rows = self.n_rows();
        if row_len == 0 || n_rows == 0 {
            return Ok(Vec::new());
        }
        let row_bytes = self
            .ggml_type
            .bytes_for(row_len as u64)
            .ok_or_else(|| format!("row of {row_len} is not whole {} blocks", self.ggml_type))?
            as usize;
        if row_bytes.checked_mul(n_rows) != Some(self.data.len()) {
            return Err(format!(
                "holds {} bytes, expected {n_rows} rows of {row_bytes}",
                self.data.len()
            ));
        }
        let mut out = Vec::with_capacity(n_rows * row_len * dtype.size());
        let rows_per_chunk = (CHUNK_VALUES / row_len.max(1)).max(1);
        let mut scratch = vec![0f32; rows_per_chunk.min(n_rows.max(1)) * row_len];
        let fail = |e: crate::dequant::DequantError| e.to_string();
        match &self.source_rows {
            None => {
                for chunk in self.data.chunks(rows_per_chunk * row_bytes) {
                    let values = &mut scratch[..chunk.len() / row_bytes * row_len];
                    dequantize(self.ggml_type, chunk, values).map_err(fail)?;
                    dtype.extend(&mut out, values);
                }
            }
            Some(rows) => {
                let values = &mut scratch[..row_len];
                for &r in rows {
                    let src = self
                        .data
                        .get(r * row_bytes..(r + 1) * row_bytes)
                        .ok_or_else(|| format!("source row {r} is out of range"))?;
                    dequantize(self.ggml_type, src, values).map_err(fail)?;
                    dtype.extend(&mut out, values);
                }
            }
        }
        Ok(out)
    }
}

/// Adapts a [`PendingTensor`] to safetensors' `View`. `View::data` cannot fail, so a
/// conversion error (impossible after the up-front checks, but never a panic) is stashed and
/// reported after the write.
struct LazyView<'a, 'b> {
    tensor: &'b PendingTensor<'a>,
    dtype: OutputDType,
    error: &'b RefCell<Option<String>>,
}

impl View for LazyView<'_, '_> {
    fn dtype(&self) -> Dtype {
        self.dtype.safetensors()
    }

    fn shape(&self) -> &[usize] {
        &self.tensor.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        match self.tensor.convert(self.dtype) {
            Ok(bytes) => Cow::Owned(bytes),
            Err(e) => {
                self.error
                    .borrow_mut()
                    .get_or_insert(format!("tensor {}: {e}", self.tensor.gguf_name));
                // Keep the stream the declared length; the caller deletes the file.
                Cow::Owned(vec![0; self.data_len()])
            }
        }
    }

    fn data_len(&self) -> usize {
        self.tensor.shape.iter().product::<usize>() * self.dtype.size()
    }
}

/// Writes `tensors` to `path` in `dtype`, with `metadata` as the safetensors `__metadata__`.
pub fn write_safetensors(
    path: &Path,
    tensors: &[PendingTensor<'_>],
    dtype: OutputDType,
    metadata: HashMap<String, String>,
) -> Result<(), GgufError> {
    let error = RefCell::new(None);
    let views = tensors.iter().map(|t| {
        (
            t.hf_name.clone(),
            LazyView {
                tensor: t,
                dtype,
                error: &error,
            },
        )
    });
    let result = safetensors::serialize_to_file(views, Some(metadata), path);
    let fail = |message: String| {
        let _ = std::fs::remove_file(path);
        GgufError::Safetensors {
            path: path.to_path_buf(),
            message,
        }
    };
    if let Some(e) = error.into_inner() {
        return Err(fail(e));
    }
    result.map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_rounds_to_nearest_even() {
        let mut out = Vec::new();
        // 1 + 2^-8 is exactly between two bf16 values: ties go to the even mantissa (1.0);
        // 1 + 3 * 2^-8 ties up to 1 + 2^-6.
        OutputDType::Bf16.extend(&mut out, &[1.0 + 1.0 / 256.0, 1.0 + 3.0 / 256.0]);
        assert_eq!(out, [0x80, 0x3F, 0x82, 0x3F]);
    }

    #[test]
    fn parses_dtypes() {
        assert_eq!("BF16".parse::<OutputDType>(), Ok(OutputDType::Bf16));
        assert_eq!("float16".parse::<OutputDType>(), Ok(OutputDType::F16));
        assert_eq!("f32".parse::<OutputDType>(), Ok(OutputDType::F32));
        assert!("int8".parse::<OutputDType>().is_err());
    }
}
