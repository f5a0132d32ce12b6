//! GGUF metadata values and typed look-ups that turn a missing or mistyped key into a
//! [`GgufError`] naming the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::GgufError;

/// One metadata value, with the GGUF value type it was stored as.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(Vec<MetaValue>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl MetaValue {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::U8(_) => "uint8",
            Self::I8(_) => "int8",
            Self::U16(_) => "uint16",
            Self::I16(_) => "int16",
            Self::U32(_) => "uint32",
            Self::I32(_) => "int32",
            Self::F32(_) => "float32",
            Self::Bool(_) => "bool",
            Self::String(_) => "string",
            Self::Array(_) => "array",
            Self::U64(_) => "uint64",
            Self::I64(_) => "int64",
            Self::F64(_) => "float64",
        }
    }

    /// A short description for error messages (arrays and long strings are not spelled out).
    pub fn describe(&self) -> String {
        match self {
            Self::Array(v) => format!("an array of {}", v.len()),
            Self::String(s) if s.chars().count() > 40 => {
                format!("a long string ({} bytes)", s.len())
            }
            other => format!("{} {other:?}", other.type_name()),
        }
    }

    /// Any integer type, when the value is non-negative (converters disagree on int widths).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::U8(v) => Some(v.into()),
            Self::U16(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::U64(v) => Some(v),
            Self::I8(v) => u64::try_from(v).ok(),
            Self::I16(v) => u64::try_from(v).ok(),
            Self::I32(v) => u64::try_from(v).ok(),
            Self::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::I8(v) => Some(v.into()),
            Self::I16(v) => Some(v.into()),
            Self::I32(v) => Some(v.into()),
            Self::I64(v) => Some(v),
            _ => self.as_u64().and_then(|v| i64::try_from(v).ok()),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Self::F32(v) => Some(v.into()),
            Self::F64(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Self::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[MetaValue]> {
        match self {
            Self::Array(v) => Some(v),
            _ => None,
        }
    }
}

/// All key/value pairs of a GGUF header, with the file path kept for error messages.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub(crate) path: PathBuf,
    pub(crate) entries: BTreeMap<String, MetaValue>,
}

impl Metadata {
    pub fn new(path: &Path, entries: BTreeMap<String, MetaValue>) -> Self {
        Self {
            path: path.to_path_buf(),
            entries,
        }
    }

    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        self.entries.get(key)
    }

    pub fn entries(&self) -> &BTreeMap<String, MetaValue> {
        &self.entries
    }

    fn missing(&self, key: &str) -> GgufError {
        GgufError::MissingMetadata {
            path: self.path.clone(),
            key: key.to_string(),
        }
    }

    fn bad(&self, key: &str, problem: String) -> GgufError {
        GgufError::BadMetadata {
            path: self.path.clone(),
            key: key.to_string(),
            problem,
        }
    }

    /// Applies `conv` to the value at `key`; `Ok(None)` when the key is absent.
    fn typed<'a, T>(
        &'a self,
        key: &str,
        expected: &str,
        conv: impl Fn(&'a MetaValue) -> Option<T>,
    ) -> Result<Option<T>, GgufError> {
        match self.entries.get(key) {
            None => Ok(None),
            Some(v) => conv(v)
                .map(Some)
                .ok_or_else(|| self.bad(key, format!("is {}, expected {expected}", v.describe()))),
        }
    }

    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, GgufError> {
        self.typed(key, "a non-negative integer", MetaValue::as_u64)
    }

    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>, GgufError> {
        self.typed(key, "a float", MetaValue::as_f64)
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&str>, GgufError> {
        self.typed(key, "a string", MetaValue::as_str)
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, GgufError> {
        self.typed(key, "a bool", MetaValue::as_bool)
    }

    pub fn opt_array(&self, key: &str) -> Result<Option<&[MetaValue]>, GgufError> {
        self.typed(key, "an array", MetaValue::as_array)
    }

    pub fn u64(&self, key: &str) -> Result<u64, GgufError> {
        self.opt_u64(key)?.ok_or_else(|| self.missing(key))
    }

    /// A non-zero count or size. Capping it at 2^32 lets callers multiply two of them without
    /// overflow, whatever a garbled file says.
    pub fn positive_usize(&self, key: &str) -> Result<usize, GgufError> {
        let v = self.u64(key)?;
        match usize::try_from(v) {
            Ok(n) if n > 0 && v <= u64::from(u32::MAX) => Ok(n),
            _ => Err(self.bad(key, format!("is {v}, expected a positive count below 2^32"))),
        }
    }

    pub fn f64(&self, key: &str) -> Result<f64, GgufError> {
        self.opt_f64(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn str(&self, key: &str) -> Result<&str, GgufError> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    /// An array whose every element converts with `convert` (named `expected` in errors).
    fn opt_typed_array<'a, T>(
        &'a self,
        key: &str,
        expected: &str,
        convert: impl Fn(&'a MetaValue) -> Option<T>,
    ) -> Result<Option<Vec<T>>, GgufError> {
        let Some(items) = self.opt_array(key)? else {
            return Ok(None);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                convert(v).ok_or_else(|| {
                    self.bad(key, format!("element {i} is {}, expected {expected}", v.type_name()))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// An array whose every element is a string (token lists, merges).
    pub fn opt_str_array(&self, key: &str) -> Result<Option<Vec<&str>>, GgufError> {
        self.opt_typed_array(key, "string", |v| v.as_str())
    }

    /// An array whose every element is an integer (token types).
    pub fn opt_int_array(&self, key: &str) -> Result<Option<Vec<i64>>, GgufError> {
        self.opt_typed_array(key, "integer", |v| v.as_i64())
    }

    /// An array whose every element is a float (SentencePiece scores).
    pub fn opt_f64_array(&self, key: &str) -> Result<Option<Vec<f64>>, GgufError> {
        self.opt_typed_array(key, "float", |v| v.as_f64())
    }
}
