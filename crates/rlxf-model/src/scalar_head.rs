//! A linear head that maps a decoder's final hidden states to one scalar per position: the PPO
//! critic's value head and the reward model's score head.
//!
//! The parameter is named `score.weight` (`[1, hidden]`, no bias), the layout of Hugging Face's
//! `*ForSequenceClassification` with `num_labels = 1`, so a reward model saved as trunk + head loads
//! in transformers. The head has its own `VarStore` so it can get its own optimizer and learning rate.

use std::path::Path;

use tch::{nn, Device, Kind, Tensor};

use crate::error::{ModelError, Result};

/// File the head is saved to when it travels apart from a trunk (PPO checkpoints).
pub const HEAD_FILE: &str = "score_head.safetensors";
pub const HEAD_TENSOR: &str = "score.weight";

pub struct ScalarHead {
    pub vs: nn::VarStore,
    weight: Tensor,
}

impl ScalarHead {
    /// A fresh head with weights drawn from N(0, 1/(hidden + 1)), the initialisation OpenRLHF and
    /// TRL use for value heads: outputs start near zero whatever the hidden-state scale.
    pub fn new(hidden_size: usize, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let std = 1.0 / (hidden_size as f64 + 1.0);
        let weight = (vs.root() / "score").var("weight", &[1, hidden_size as i64], nn::Init::Randn { mean: 0.0, stdev: std });
        Self { vs, weight }
    }

    /// One scalar per position: `[..., hidden]` -> `[...]`, in f32 whatever the trunk's dtype.
    pub fn forward(&self, hidden: &Tensor) -> Tensor {
        hidden.to_kind(Kind::Float).linear::<Tensor>(&self.weight, None).squeeze_dim(-1)
    }

    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// Loads `score.weight` from a safetensors file, checking its shape against `hidden_size`.
    pub fn load(path: &Path, hidden_size: usize, device: Device) -> Result<Self> {
        let mut head = Self::new(hidden_size, device);
        let tensors = Tensor::read_safetensors(path).map_err(|e| ModelError::Weights {
            path: path.to_path_buf(),
            reason: format!("cannot read the score head ({e}); the file may be truncated"),
        })?;
        let (_, src) = tensors.into_iter().find(|(name, _)| name == HEAD_TENSOR).ok_or_else(|| ModelError::Weights {
            path: path.to_path_buf(),
            reason: format!("no `{HEAD_TENSOR}` tensor: not a score head file"),
        })?;
        if src.size() != head.weight.size() {
            return Err(ModelError::Weights {
                path: path.to_path_buf(),
                reason: format!("{HEAD_TENSOR} has shape {:?}, the model's hidden size implies {:?}", src.size(), head.weight.size()),
            });
        }
        tch::no_grad(|| head.weight.f_copy_(&src.to_kind(Kind::Float)))?;
        Ok(head)
    }

    /// Writes `score.weight` (f32) to `path` through a temporary file and a rename.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("safetensors.tmp");
        let weight = self.weight.detach().to_device(Device::Cpu);
        Tensor::write_safetensors(&[(HEAD_TENSOR, &weight)], &tmp)
            .map_err(|e| ModelError::Weights { path: tmp.clone(), reason: e.to_string() })?;
        std::fs::rename(&tmp, path).map_err(|e| ModelError::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_is_a_dot_product_per_position() {
        let head = ScalarHead::new(4, Device::Cpu);
        let h = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, -1.0, 0.0, 0.5, 2.0]).view([1, 2, 4]);
        let out = head.forward(&h);
        assert_eq!(out.size(), vec![1, 2]);
        let w: Vec<f32> = Vec::try_from(head.weight().view([-1])).unwrap();
        let expect0: f32 = [1.0, 2.0, 3.0, 4.0].iter().zip(&w).map(|(a, b)| a * b).sum();
        assert!((out.double_value(&[0, 0]) - expect0 as f64).abs() < 1e-6);
    }

    #[test]
    fn save_and_load_round_trip_and_shape_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HEAD_FILE);
        let head = ScalarHead::new(8, Device::Cpu);
        head.save(&path).unwrap();
        let back = ScalarHead::load(&path, 8, Device::Cpu).unwrap();
        assert!(back.weight().equal(head.weight()));
        let err = ScalarHead::load(&path, 16, Device::Cpu).err().unwrap().to_string();
        assert!(err.contains("hidden size"), "{err}");
        std::fs::write(&path, b"junk").unwrap();
        assert!(ScalarHead::load(&path, 8, Device::Cpu).is_err());
    }
}
