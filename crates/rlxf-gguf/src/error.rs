//! The one error type of the importer. Every message is a single line that names the file (and
//! the tensor or metadata key where there is one) and says what to do about it.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// File-derived text (tensor names, keys) with control characters escaped, so that every
/// message stays on one line.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn shown(path: &Path) -> String {
    one_line(&path.display().to_string())
}

/// The ggml types [`crate::dequant::dequantize`] handles, in the order users usually meet them.
pub const SUPPORTED_QUANTS: &str = "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K";

#[derive(Debug, Error)]
pub enum GgufError {
    #[error("{p}: cannot read: {source}", p = shown(path))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{p}: not a GGUF file (bad magic {magic}); pass a llama.cpp .gguf model file", p = shown(path))]
    BadMagic { path: PathBuf, magic: String },

    #[error("{p}: GGUF version {version} is not supported (supported: 2, 3); re-export it with a current llama.cpp", p = shown(path))]
    UnsupportedVersion { path: PathBuf, version: u32 },

    #[error("{p}: truncated file: {what_} ends at byte {end} but the file has {len} bytes; re-download it", p = shown(path), what_ = one_line(what))]
    Truncated {
        path: PathBuf,
        what: String,
        end: u64,
        len: u64,
    },

    #[error("{p}: corrupt GGUF: {what_}; re-download or re-convert it", p = shown(path), what_ = one_line(what))]
    Malformed { path: PathBuf, what: String },

    #[error("{p}: architecture '{arch_}' is not supported (supported: llama, qwen2)", p = shown(path), arch_ = one_line(arch))]
    UnsupportedArchitecture { path: PathBuf, arch: String },

    #[error("{p}: tensor {tensor_} has quant type {qtype}, which rlxf cannot dequantize (supported: {SUPPORTED_QUANTS})", p = shown(path), tensor_ = one_line(tensor))]
    UnsupportedQuant {
        path: PathBuf,
        tensor: String,
        qtype: String,
    },

    #[error("{p}: metadata key {key_} is missing; the file was not written by llama.cpp's converter or is incomplete", p = shown(path), key_ = one_line(key))]
    MissingMetadata { path: PathBuf, key: String },

    #[error("{p}: metadata key {key_} {problem_}; the file is corrupt or from an unsupported converter", p = shown(path), key_ = one_line(key), problem_ = one_line(problem))]
    BadMetadata {
        path: PathBuf,
        key: String,
        problem: String,
    },

    #[error("{p}: tensor {tensor_} {problem_}", p = shown(path), tensor_ = one_line(tensor), problem_ = one_line(problem))]
    BadTensor {
        path: PathBuf,
        tensor: String,
        problem: String,
    },

    #[error("{p}: tokenizer: {problem_}", p = shown(path), problem_ = one_line(problem))]
    Tokenizer { path: PathBuf, problem: String },

    #[error("{p}: cannot write: {source}; check that the output folder is writable and the disk has space", p = shown(path))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{p}: cannot write safetensors: {message_}", p = shown(path), message_ = one_line(message))]
    Safetensors { path: PathBuf, message: String },
}
