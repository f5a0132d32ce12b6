//! Imports a llama.cpp GGUF checkpoint (architectures `llama` and `qwen2`) into a Hugging Face
//! model folder that the rest of rlxf (and transformers) can load:
//! `config.json`, `generation_config.json`, `model.safetensors`, `tokenizer.json`,
//! `tokenizer_config.json` and `chat_template.jinja`.
//!
//! Pure Rust: the GGUF is memory-mapped, each tensor is dequantized to f32 with llama.cpp's
//! formulas (bit-exact), renamed, un-permuted where llama.cpp permuted it, and streamed out in the
//! requested dtype. Every input-derived length and offset is checked; bad files give a
//! [`GgufError`], never a panic.

pub mod config;
pub mod dequant;
mod error;
pub mod ggml_type;
pub mod metadata;
pub mod naming;
pub mod permute;
pub mod reader;
pub mod tokenizer;
mod writer;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use error::{GgufError, SUPPORTED_QUANTS};
pub use ggml_type::GgmlType;
pub use writer::OutputDType;

use config::{Arch, ModelParams};
use naming::{Param, Role, TensorId};
use reader::{GgufFile, TensorInfo};
use writer::PendingTensor;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub dtype: OutputDType,
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// `general.architecture` (`llama` or `qwen2`).
    pub architecture: String,
    /// Tensors written to `model.safetensors`.
    pub tensors: usize,
    /// Total number of weights written.
    pub parameters: u64,
    /// Number of source tensors of each ggml type (`"Q4_1" -> 210`).
    pub quant_types: BTreeMap<String, usize>,
    pub out_dir: PathBuf,
}

/// Converts the GGUF at `gguf_path` into a Hugging Face model folder at `out_dir` (created if
/// needed; existing files of the same names are replaced). Everything is validated before the
/// first file is written.
pub fn import_gguf(
    gguf_path: &Path,
    out_dir: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, GgufError> {
    let file = GgufFile::open(gguf_path)?;
    let plan = plan(&file)?;
    let meta = &file.header().metadata;
    let tok = tokenizer::build(meta, plan.params.max_position_embeddings)?;

    std::fs::create_dir_all(out_dir).map_err(|source| GgufError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let write_json = |name: &str, value: &serde_json::Value| {
        let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.push('\n');
        write_file(&out_dir.join(name), text.as_bytes())
    };
    write_json("config.json", &plan.params.config_json(opts.dtype))?;
    write_json(
        "generation_config.json",
        &plan.params.generation_config_json(),
    )?;
    write_json("tokenizer.json", &tok.tokenizer_json)?;
    write_json("tokenizer_config.json", &tok.tokenizer_config)?;
    let template_path = out_dir.join("chat_template.jinja");
    match &tok.chat_template {
        Some(template) => write_file(&template_path, template.as_bytes())?,
        // A template left over from an earlier import into the same folder would be wrong.
        None if template_path.exists() => {
            std::fs::remove_file(&template_path).map_err(|source| GgufError::Write {
                path: template_path.clone(),
                source,
            })?
        }
        None => {}
    }

    let quant_types: BTreeMap<String, usize> =
        plan.tensors.iter().fold(BTreeMap::new(), |mut m, t| {
            *m.entry(t.ggml_type.name()).or_default() += 1;
            m
        });
    let per_tensor: BTreeMap<&str, String> = plan
        .tensors
        .iter()
        .map(|t| (t.hf_name.as_str(), t.ggml_type.name()))
        .collect();
    let source = gguf_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let metadata = HashMap::from([
        // transformers refuses safetensors files without format=pt.
        ("format".to_string(), "pt".to_string()),
        ("rlxf.source".to_string(), source),
        (
            "gguf.architecture".to_string(),
            plan.arch.gguf_name().to_string(),
        ),
        (
            "gguf.quant_types".to_string(),
            serde_json::to_string(&per_tensor).unwrap_or_default(),
        ),
        (
            "gguf.quant_summary".to_string(),
            serde_json::to_string(&quant_types).unwrap_or_default(),
        ),
    ]);
    let weights = out_dir.join("model.safetensors");
    writer::write_safetensors(&weights, &plan.tensors, opts.dtype, metadata)?;
    // safetensors writes through a private (0600) temp file; give the weights the same
    // permissions as the other files, which follow the umask.
    if let Ok(meta) = std::fs::metadata(out_dir.join("config.json")) {
        std::fs::set_permissions(&weights, meta.permissions()).map_err(|source| {
            GgufError::Write {
                path: weights.clone(),
                source,
            }
        })?;
    }

    Ok(ImportReport {
        architecture: plan.arch.gguf_name().to_string(),
        tensors: plan.tensors.len(),
        parameters: plan
            .tensors
            .iter()
            .map(|t| t.shape.iter().product::<usize>() as u64)
            .sum(),
        quant_types,
        out_dir: out_dir.to_path_buf(),
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), GgufError> {
    std::fs::write(path, bytes).map_err(|source| GgufError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// A validated import: hyper-parameters and the tensors to write, in HF order.
struct Plan<'a> {
    arch: Arch,
    params: ModelParams,
    tensors: Vec<PendingTensor<'a>>,
}

/// Maps and checks every tensor: known name, supported type, the shape the metadata implies,
/// data inside the file; and that nothing a layer needs is missing.
fn plan(file: &GgufFile) -> Result<Plan<'_>, GgufError> {
    let path = file.path();
    let header = file.header();
    let meta = &header.metadata;
    let bad = |tensor: &str, problem: String| GgufError::BadTensor {
        path: path.to_path_buf(),
        tensor: tensor.to_string(),
        problem,
    };

    let arch_name = meta.str("general.architecture")?;
    let arch = Arch::from_gguf(arch_name).ok_or_else(|| GgufError::UnsupportedArchitecture {
        path: path.to_path_buf(),
        arch: arch_name.to_string(),
    })?;

    let mut found: HashMap<TensorId, &TensorInfo> = HashMap::new();
    for t in &header.tensors {
        let id = TensorId::parse(&t.name).ok_or_else(|| {
            bad(&t.name, format!("is not a {arch_name} tensor rlxf can map to Hugging Face names; the model variant is not supported"))
        })?;
        if !t.ggml_type.is_supported() {
            return Err(GgufError::UnsupportedQuant {
                path: path.to_path_buf(),
                tensor: t.name.clone(),
                qtype: t.ggml_type.name(),
            });
        }
        found.insert(id, t);
    }

    let embd_id = TensorId {
        role: Role::TokenEmbd,
        layer: None,
        param: Param::Weight,
    };
    let embd = found.get(&embd_id).ok_or_else(|| {
        bad(
            "token_embd.weight",
            "is missing; the file is incomplete".into(),
        )
    })?;
    let vocab_size = match embd.dims.as_slice() {
        [_, v] => *v as usize,
        dims => {
            return Err(bad(
                &embd.name,
                format!("has {} dimensions, expected 2", dims.len()),
            ))
        }
    };
    let tied = !found.contains_key(&TensorId {
        role: Role::Output,
        layer: None,
        param: Param::Weight,
    });
    let attention_bias = arch == Arch::Qwen2 || found.keys().any(|id| id.param == Param::Bias);
    let params = ModelParams::from_metadata(meta, arch, vocab_size, tied, attention_bias)?;

    // Each layer has at least 9 tensors; checking first keeps a garbage block_count from
    // making us plan billions of tensors.
    if params.num_hidden_layers.saturating_mul(Role::LAYER.len()) > header.tensors.len() {
        return Err(GgufError::BadMetadata {
            path: path.to_path_buf(),
            key: format!("{arch_name}.block_count"),
            problem: format!(
                "is {}, but the file has only {} tensors",
                params.num_hidden_layers,
                header.tensors.len()
            ),
        });
    }
    let expected = expected_tensors(&params);
    let expected_ids: HashSet<TensorId> = expected.iter().map(|(id, _)| *id).collect();
    for (id, t) in &found {
        if !expected_ids.contains(id) {
            return Err(bad(
                &t.name,
                format!(
                    "is not part of a {arch_name} model with {} layers{}",
                    params.num_hidden_layers,
                    if id.param == Param::Bias {
                        " and these biases"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }

    let mut tensors = Vec::with_capacity(expected.len());
    for (id, shape) in expected {
        let gguf_name = id.gguf_name();
        let Some(t) = found.get(&id) else {
            return Err(bad(
                &gguf_name,
                "is missing; the file is incomplete or not a standard llama.cpp export".into(),
            ));
        };
        if t.hf_shape() != shape {
            return Err(bad(
                &gguf_name,
                format!(
                    "has shape {:?} (HF order), but the metadata implies {shape:?}; the file is inconsistent, re-convert it",
                    t.hf_shape()
                ),
            ));
        }
        let row = t.dims.first().copied().unwrap_or(0);
        if t.ggml_type.bytes_for(row).is_none() {
            return Err(bad(
                &gguf_name,
                format!("has rows of {row} values, not whole {} blocks", t.ggml_type),
            ));
        }
        // llama.cpp permutes Llama's Q and K rows for its RoPE layout; Qwen2 is stored as is.
        let heads = match (arch, id.role) {
            (Arch::Llama, Role::AttnQ) => Some(params.num_attention_heads),
            (Arch::Llama, Role::AttnK) => Some(params.num_key_value_heads),
            _ => None,
        };
        let source_rows = match heads {
            None => None,
            Some(n) => Some(permute::unpermute_source_rows(shape[0], n).ok_or_else(|| {
                bad(
                    &gguf_name,
                    format!(
                        "has {} rows, which do not split into {n} heads of even size",
                        shape[0]
                    ),
                )
            })?),
        };
        tensors.push(PendingTensor {
            hf_name: id.hf_name(),
            gguf_name,
            ggml_type: t.ggml_type,
            data: file.tensor_data(t)?,
            shape,
            source_rows,
        });
    }
    Ok(Plan {
        arch,
        params,
        tensors,
    })
}

/// Every tensor the model must have, with its HF shape.
fn expected_tensors(p: &ModelParams) -> Vec<(TensorId, Vec<usize>)> {
    let (h, q, kv, ffn) = (
        p.hidden_size,
        p.num_attention_heads * p.head_dim,
        p.num_key_value_heads * p.head_dim,
        p.intermediate_size,
    );
    let global = |role| TensorId {
        role,
        layer: None,
        param: Param::Weight,
    };
    let mut out = vec![(global(Role::TokenEmbd), vec![p.vocab_size, h])];
    for layer in 0..p.num_hidden_layers {
        let id = |role, param| TensorId {
            role,
            layer: Some(layer),
            param,
        };
        for role in Role::LAYER {
            let shape = match role {
                Role::AttnNorm | Role::FfnNorm => vec![h],
                Role::AttnQ => vec![q, h],
                Role::AttnK | Role::AttnV => vec![kv, h],
                Role::AttnOut => vec![h, q],
                Role::FfnGate | Role::FfnUp => vec![ffn, h],
                Role::FfnDown => vec![h, ffn],
                Role::TokenEmbd | Role::OutputNorm | Role::Output => continue,
            };
            out.push((id(role, Param::Weight), shape.clone()));
            // Qwen2 has q/k/v biases; a Llama with attention_bias has them on o_proj too.
            let has_bias = match (p.arch, role) {
                (_, Role::AttnQ | Role::AttnK | Role::AttnV) => p.attention_bias,
                (Arch::Llama, Role::AttnOut) => p.attention_bias,
                _ => false,
            };
            if has_bias {
                out.push((id(role, Param::Bias), vec![shape[0]]));
            }
        }
    }
    out.push((global(Role::OutputNorm), vec![h]));
    if !p.tie_word_embeddings {
        out.push((global(Role::Output), vec![p.vocab_size, h]));
    }
    out
}
