//! The one error type of the importer. Every message is a single line that names the file (and
//! the tensor or metadata key where there is one) and says what to do about it.

use std::path::PathBuf;

use thiserror::Error;

/// The ggml types [`crate::dequant::dequantize`] handles, in the order users usually meet them.
pub const SUPPORTED_QUANTS: &str = "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K";

#[derive(Debug, Error)]
pub enum GgufError {
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },

    #[error("{}: not a GGUF file (bad magic {magic}); pass a llama.cpp .gguf model file", path.display())]
    BadMagic { path: PathBuf, magic: String },

    #[error("{}: GGUF version {version} is not supported (supported: 2, 3); re-export it with a current llama.cpp", path.display())]
    UnsupportedVersion { path: PathBuf, version: u32 },

    #[error("{}: truncated file: {what} ends at byte {end} but the file has {len} bytes; re-download it", path.display())]
    Truncated { path: PathBuf, what: String, end: u64, len: u64 },

    #[error("{}: corrupt GGUF: {what}; re-download or re-convert it", path.display())]
    Malformed { path: PathBuf, what: String },

    #[error("{}: architecture '{arch}' is not supported (supported: llama, qwen2)", path.display())]
    UnsupportedArchitecture { path: PathBuf, arch: String },

    #[error("{}: tensor {tensor} has quant type {qtype}, which rlxf cannot dequantize (supported: {SUPPORTED_QUANTS})", path.display())]
    UnsupportedQuant { path: PathBuf, tensor: String, qtype: String },

    #[error("{}: metadata key {key} is missing; the file was not written by llama.cpp's converter or is incomplete", path.display())]
    MissingMetadata { path: PathBuf, key: String },

    #[error("{}: metadata key {key} {problem}; the file is corrupt or from an unsupported converter", path.display())]
    BadMetadata { path: PathBuf, key: String, problem: String },

    #[error("{}: tensor {tensor} {problem}", path.display())]
    BadTensor { path: PathBuf, tensor: String, problem: String },

    #[error("{}: tokenizer: {problem}", path.display())]
    Tokenizer { path: PathBuf, problem: String },

    #[error("{}: cannot write: {source}; check that the output folder is writable and the disk has space", path.display())]
    Write { path: PathBuf, source: std::io::Error },

    #[error("{}: cannot write safetensors: {message}", path.display())]
    Safetensors { path: PathBuf, message: String },
}
