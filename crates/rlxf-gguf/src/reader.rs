//! GGUF container reader (versions 2 and 3, little-endian), following llama.cpp's gguf.cpp.
//!
//! Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count, the metadata
//! key/values, the tensor infos (name, dims, type, offset), then padding to `general.alignment`
//! and the tensor data. Every length and offset read from the file is checked against the file
//! size before use, so a truncated or garbled file gives an error, never a panic or a huge
//! allocation.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::GgufError;
use crate::ggml_type::GgmlType;
use crate::metadata::{MetaValue, Metadata};

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
/// ggml's GGML_MAX_DIMS.
const MAX_DIMS: u32 = 4;
/// Arrays of arrays are legal but nothing real nests deeper; the limit stops stack exhaustion.
const MAX_ARRAY_DEPTH: usize = 4;

/// One tensor's entry in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` is the fastest-varying (row) dimension.
    pub dims: Vec<u64>,
    pub ggml_type: GgmlType,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    pub fn n_elements(&self) -> u64 {
        // Overflow was ruled out when the header was parsed.
        self.dims.iter().product()
    }

    /// PyTorch/Hugging Face shape: the ggml dims reversed (row-major, last dim fastest).
    pub fn hf_shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }

    /// Byte size of the data, when the type is known and the row is a whole number of blocks.
    pub fn n_bytes(&self) -> Option<u64> {
        let row = *self.dims.first()?;
        let row_bytes = self.ggml_type.bytes_for(row)?;
        row_bytes.checked_mul(self.n_elements() / row.max(1))
    }
}

/// Everything before the tensor data.
#[derive(Debug, Clone)]
pub struct GgufHeader {
    pub version: u32,
    pub metadata: Metadata,
    pub tensors: Vec<TensorInfo>,
    pub alignment: u64,
    /// Absolute file offset of the data section.
    pub data_offset: u64,
}

/// A memory-mapped GGUF file.
pub struct GgufFile {
    path: PathBuf,
    map: Option<Mmap>,
    header: GgufHeader,
}

impl GgufFile {
    pub fn open(path: &Path) -> Result<Self, GgufError> {
        let read_err = |source| GgufError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(read_err)?;
        let len = file.metadata().map_err(read_err)?.len();
        // Mapping an empty file fails on some platforms; it has no header anyway.
        let map = if len == 0 {
            None
        } else {
            // SAFETY: the mapping is read-only; as with any mmap, another process truncating the
            // file while we read it would fault. Model files are not modified in place.
            Some(unsafe { Mmap::map(&file) }.map_err(read_err)?)
        };
        let bytes: &[u8] = map.as_deref().unwrap_or(&[]);
        let header = parse_header(bytes, path)?;
        Ok(Self {
            path: path.to_path_buf(),
            map,
            header,
        })
    }

    pub fn header(&self) -> &GgufHeader {
        &self.header
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// The raw data of `tensor`, after checking that it lies inside the file.
    pub fn tensor_data(&self, tensor: &TensorInfo) -> Result<&[u8], GgufError> {
        tensor_data(self.bytes(), &self.header, tensor, &self.path)
    }
}

/// The data slice of `tensor` inside `bytes` (the whole file).
pub fn tensor_data<'a>(
    bytes: &'a [u8],
    header: &GgufHeader,
    tensor: &TensorInfo,
    path: &Path,
) -> Result<&'a [u8], GgufError> {
    let bad = |problem: String| GgufError::BadTensor {
        path: path.to_path_buf(),
        tensor: tensor.name.clone(),
        problem,
    };
    let size = tensor.n_bytes().ok_or_else(|| {
        bad(format!(
            "has shape {:?} of type {}, which is not a whole number of blocks; the file is corrupt",
            tensor.dims, tensor.ggml_type
        ))
    })?;
    let start = header.data_offset.checked_add(tensor.offset);
    let end = start.and_then(|s| s.checked_add(size));
    match (start, end) {
        (Some(start), Some(end)) if end <= bytes.len() as u64 => {
            Ok(&bytes[start as usize..end as usize])
        }
        _ => Err(GgufError::Truncated {
            path: path.to_path_buf(),
            what: format!("tensor {} data", tensor.name),
            end: end.unwrap_or(u64::MAX),
            len: bytes.len() as u64,
        }),
    }
}

/// Why a read failed, before the caller adds what was being read.
enum Fail {
    /// The read needed bytes up to `end`.
    Short {
        end: u64,
    },
    Bad(String),
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], Fail> {
        let end = (self.pos as u64).saturating_add(n);
        if end > self.buf.len() as u64 {
            return Err(Fail::Short { end });
        }
        let s = &self.buf[self.pos..end as usize];
        self.pos = end as usize;
        Ok(s)
    }

    fn remaining(&self) -> u64 {
        (self.buf.len() - self.pos) as u64
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Fail> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N as u64)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, Fail> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, Fail> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, Fail> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, Fail> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn string(&mut self) -> Result<String, Fail> {
        let len = self.u64()?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| Fail::Bad("a string is not valid UTF-8".into()))
    }

    fn value(&mut self, vtype: u32, depth: usize) -> Result<MetaValue, Fail> {
        Ok(match vtype {
            0 => MetaValue::U8(self.u8()?),
            1 => MetaValue::I8(self.u8()? as i8),
            2 => MetaValue::U16(self.u16()?),
            3 => MetaValue::I16(self.u16()? as i16),
            4 => MetaValue::U32(self.u32()?),
            5 => MetaValue::I32(self.u32()? as i32),
            6 => MetaValue::F32(f32::from_bits(self.u32()?)),
            7 => match self.u8()? {
                0 => MetaValue::Bool(false),
                1 => MetaValue::Bool(true),
                b => return Err(Fail::Bad(format!("bool byte is {b}, expected 0 or 1"))),
            },
            8 => MetaValue::String(self.string()?),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(Fail::Bad(format!(
                        "arrays nested deeper than {MAX_ARRAY_DEPTH}"
                    )));
                }
                let item_type = self.u32()?;
                let count = self.u64()?;
                // Every element takes at least one byte, so a count larger than what is left is
                // a truncated (or garbled) file; checking first keeps the allocation bounded.
                if count > self.remaining() {
                    return Err(Fail::Short {
                        end: (self.pos as u64).saturating_add(count),
                    });
                }
                let mut items = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    items.push(self.value(item_type, depth + 1)?);
                }
                MetaValue::Array(items)
            }
            10 => MetaValue::U64(self.u64()?),
            11 => MetaValue::I64(self.u64()? as i64),
            12 => MetaValue::F64(f64::from_bits(self.u64()?)),
            t => return Err(Fail::Bad(format!("unknown value type {t}"))),
        })
    }
}

/// Parses the header of a GGUF file held in `bytes`. `path` is only used in error messages.
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<GgufHeader, GgufError> {
    let pathbuf = || path.to_path_buf();
    let len = bytes.len() as u64;
    let fail = |what: &dyn Fn() -> String, f: Fail| match f {
        Fail::Short { end } => GgufError::Truncated {
            path: pathbuf(),
            what: what(),
            end,
            len,
        },
        Fail::Bad(problem) => GgufError::Malformed {
            path: pathbuf(),
            what: format!("{}: {problem}", what()),
        },
    };

    if bytes.len() < 4 || &bytes[..4] != MAGIC {
        let head = &bytes[..bytes.len().min(4)];
        return Err(GgufError::BadMagic {
            path: pathbuf(),
            magic: format!("\"{}\"", head.escape_ascii()),
        });
    }
    let mut c = Cursor { buf: bytes, pos: 4 };
    let header_what = || "the header".to_string();
    let version = c.u32().map_err(|f| fail(&header_what, f))?;
    if version & 0xFFFF == 0 && version != 0 {
        // A small version number read with the wrong byte order.
        return Err(GgufError::Malformed {
            path: pathbuf(),
            what: "big-endian GGUF (rlxf reads little-endian files only)".into(),
        });
    }
    if !(2..=3).contains(&version) {
        return Err(GgufError::UnsupportedVersion {
            path: pathbuf(),
            version,
        });
    }
    let n_tensors = c.u64().map_err(|f| fail(&header_what, f))?;
    let n_kv = c.u64().map_err(|f| fail(&header_what, f))?;

    // Each KV takes at least 12 bytes (key length + value type), each tensor info at least 24.
    let mut entries = BTreeMap::new();
    if n_kv > c.remaining() / 12 {
        return Err(fail(
            &|| format!("{n_kv} metadata entries"),
            Fail::Short { end: u64::MAX },
        ));
    }
    for i in 0..n_kv {
        let key = c
            .string()
            .map_err(|f| fail(&|| format!("metadata key #{i}"), f))?;
        let kv_what = || format!("metadata {key}");
        let vtype = c.u32().map_err(|f| fail(&kv_what, f))?;
        let value = c.value(vtype, 0).map_err(|f| fail(&kv_what, f))?;
        if entries.insert(key.clone(), value).is_some() {
            return Err(GgufError::Malformed {
                path: pathbuf(),
                what: format!("duplicate metadata key {key}"),
            });
        }
    }
    let metadata = Metadata::new(path, entries);

    let alignment = match metadata.get("general.alignment") {
        None => DEFAULT_ALIGNMENT,
        Some(v) => match v.as_u64() {
            Some(a) if a.is_power_of_two() => a,
            _ => {
                return Err(GgufError::BadMetadata {
                    path: pathbuf(),
                    key: "general.alignment".into(),
                    problem: format!("is {}, expected a power of two", v.describe()),
                })
            }
        },
    };

    if n_tensors > c.remaining() / 24 {
        return Err(fail(
            &|| format!("{n_tensors} tensor infos"),
            Fail::Short { end: u64::MAX },
        ));
    }
    let mut tensors = Vec::with_capacity(n_tensors as usize);
    let mut names = HashSet::new();
    for i in 0..n_tensors {
        let name = c
            .string()
            .map_err(|f| fail(&|| format!("tensor info #{i}"), f))?;
        let t_what = || format!("tensor info {name}");
        let n_dims = c.u32().map_err(|f| fail(&t_what, f))?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(fail(
                &t_what,
                Fail::Bad(format!("{n_dims} dimensions (expected 1 to {MAX_DIMS})")),
            ));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(c.u64().map_err(|f| fail(&t_what, f))?);
        }
        let ggml_type = GgmlType(c.u32().map_err(|f| fail(&t_what, f))?);
        let offset = c.u64().map_err(|f| fail(&t_what, f))?;
        // ggml keeps element counts in int64; anything larger is garbage.
        let fits = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .is_some_and(|n| n <= i64::MAX as u64);
        if !fits {
            return Err(fail(
                &t_what,
                Fail::Bad(format!("dimensions {dims:?} overflow")),
            ));
        }
        if offset % alignment != 0 {
            return Err(fail(
                &t_what,
                Fail::Bad(format!(
                    "data offset {offset} is not a multiple of the alignment {alignment}"
                )),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(GgufError::Malformed {
                path: pathbuf(),
                what: format!("duplicate tensor {name}"),
            });
        }
        tensors.push(TensorInfo {
            name,
            dims,
            ggml_type,
            offset,
        });
    }

    let data_offset = (c.pos as u64).div_ceil(alignment) * alignment;
    Ok(GgufHeader {
        version,
        metadata,
        tensors,
        alignment,
        data_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("x.gguf")
    }

    #[test]
    fn bad_magic_and_empty() {
        let e = parse_header(b"", p()).unwrap_err().to_string();
        assert_eq!(
            e,
            "x.gguf: not a GGUF file (bad magic \"\"); pass a llama.cpp .gguf model file"
        );
        let e = parse_header(b"GGML\x03\0\0\0", p())
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad magic \"GGML\""), "{e}");
    }

    #[test]
    fn versions() {
        let e = parse_header(b"GGUF\x01\0\0\0", p())
            .unwrap_err()
            .to_string();
        assert!(e.contains("GGUF version 1 is not supported"), "{e}");
        let e = parse_header(b"GGUF\0\0\0\x03", p())
            .unwrap_err()
            .to_string();
        assert!(e.contains("big-endian"), "{e}");
    }

    #[test]
    fn huge_counts_do_not_allocate() {
        let mut b = b"GGUF\x03\0\0\0".to_vec();
        b.extend(u64::MAX.to_le_bytes());
        b.extend(u64::MAX.to_le_bytes());
        let e = parse_header(&b, p()).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn empty_file_parses_with_no_tensors() {
        let mut b = b"GGUF\x03\0\0\0".to_vec();
        b.extend(0u64.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        let h = parse_header(&b, p()).unwrap();
        assert_eq!(h.tensors.len(), 0);
        assert_eq!(h.data_offset, 32);
    }
}
