//! Reading and writing Hugging Face safetensors checkpoints (single file or sharded with an index).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use tch::{nn, Kind, Tensor};

use crate::error::{ModelError, Result};

const SINGLE_FILE: &str = "model.safetensors";
const INDEX_FILE: &str = "model.safetensors.index.json";

/// The safetensors files of a model folder: `model.safetensors`, or the shards listed by the index.
pub fn checkpoint_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let single = dir.join(SINGLE_FILE);
    if single.exists() {
        return Ok(vec![single]);
    }
    let index = dir.join(INDEX_FILE);
    if !index.exists() {
        return Err(ModelError::Weights {
            path: dir.to_path_buf(),
            reason: format!("neither {SINGLE_FILE} nor {INDEX_FILE} found"),
        });
    }
    let text = std::fs::read_to_string(&index).map_err(|e| ModelError::io(&index, e))?;
    let parsed: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ModelError::Weights { path: index.clone(), reason: format!("invalid JSON: {e}") })?;
    let map = parsed.get("weight_map").and_then(|m| m.as_object()).ok_or_else(|| ModelError::Weights {
        path: index.clone(),
        reason: "missing `weight_map` object".into(),
    })?;
    let mut files: Vec<String> = map.values().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    files.sort();
    files.dedup();
    Ok(files.into_iter().map(|f| dir.join(f)).collect())
}

fn kind_of(dtype: Dtype) -> Option<Kind> {
    Some(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F64 => Kind::Double,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        _ => return None,
    })
}

fn dtype_of(kind: Kind) -> Option<Dtype> {
    Some(match kind {
        Kind::Float => Dtype::F32,
        Kind::Half => Dtype::F16,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Double => Dtype::F64,
        _ => return None,
    })
}

/// Copies every variable of `vs` from the checkpoint in `dir`, converting dtypes as needed.
/// Fails, naming the tensor, on a missing tensor or a shape mismatch; extra tensors are ignored
/// (for example rotary tables some exporters include).
pub fn load_into(vs: &nn::VarStore, dir: &Path) -> Result<()> {
    let files = checkpoint_files(dir)?;
    let mut vars: HashMap<String, Tensor> = vs.variables();
    let mut loaded = 0usize;
    for file in &files {
        let handle = std::fs::File::open(file).map_err(|e| ModelError::io(file, e))?;
        // SAFETY: the file is only read; a concurrent writer could change what we read, which would
        // at worst give wrong weights, never memory unsafety beyond that of reading bytes.
        let mmap = unsafe { memmap2::Mmap::map(&handle) }.map_err(|e| ModelError::io(file, e))?;
        let st = SafeTensors::deserialize(&mmap).map_err(|e| ModelError::Weights {
            path: file.clone(),
            reason: format!("not a valid safetensors file ({e}); the file may be truncated: re-download or re-import it"),
        })?;
        for (name, view) in st.tensors() {
            let Some(mut var) = vars.remove(&name) else { continue };
            let kind = kind_of(view.dtype()).ok_or_else(|| ModelError::Weights {
                path: file.clone(),
                reason: format!("tensor {name} has unsupported dtype {:?}", view.dtype()),
            })?;
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            if shape != var.size() {
                return Err(ModelError::Weights {
                    path: file.clone(),
                    reason: format!("tensor {name} has shape {shape:?}, the config implies {:?}", var.size()),
                });
            }
            let src = Tensor::f_from_data_size(view.data(), &shape, kind)?;
            tch::no_grad(|| var.f_copy_(&src.to_kind(var.kind())))?;
            loaded += 1;
        }
    }
    if let Some(missing) = vars.keys().min() {
        return Err(ModelError::Weights {
            path: dir.to_path_buf(),
            reason: format!("{} tensors missing from the checkpoint, e.g. {missing} (does config.json match these weights?)", vars.len()),
        });
    }
    tracing::debug!(loaded, files = files.len(), "weights loaded");
    Ok(())
}

/// Writes every variable of `vs` to `dir/model.safetensors` in `kind` (f32/bf16/f16).
/// Written to a temporary file first and renamed, so a crash never leaves a half-written checkpoint.
pub fn save(vs: &nn::VarStore, dir: &Path, kind: Kind) -> Result<()> {
    save_tensors(vs.variables().into_iter().collect(), dir, kind)
}

/// Writes named tensors to `dir/model.safetensors` in `kind`, like [`save`] (a reward model saves
/// its trunk and head from two var stores into one file).
pub fn save_tensors(vars: BTreeMap<String, Tensor>, dir: &Path, kind: Kind) -> Result<()> {
    let dtype = dtype_of(kind).ok_or_else(|| ModelError::Invalid(format!("cannot save weights as {kind:?}")))?;
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(vars.len());
    for (name, var) in &vars {
        let t = var.detach().to_kind(kind).to_device(tch::Device::Cpu).contiguous();
        let numel = t.numel();
        let mut bytes = vec![0u8; numel * kind.elt_size_in_bytes()];
        t.f_copy_data_u8(&mut bytes, numel)?;
        let shape = t.size().iter().map(|&d| d as usize).collect();
        buffers.push((name.clone(), shape, bytes));
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(dtype, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| ModelError::Invalid(format!("tensor {name}: {e}")))
        })
        .collect::<Result<_>>()?;
    let mut metadata = HashMap::new();
    metadata.insert("format".to_string(), "pt".to_string());
    let path = dir.join(SINGLE_FILE);
    let tmp = dir.join(format!("{SINGLE_FILE}.tmp"));
    safetensors::serialize_to_file(views, Some(metadata), &tmp)
        .map_err(|e| ModelError::Weights { path: tmp.clone(), reason: e.to_string() })?;
    std::fs::rename(&tmp, &path).map_err(|e| ModelError::io(&path, e))?;
    Ok(())
}
