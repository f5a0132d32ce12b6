//! A linear head that maps a decoder's final hidden states to one scalar per position: the PPO
//! critic's value head and the reward model's score head.
//!
//! The parameter is named `score.weight` (`[1, hidden]`, no bias), the layout of Hugging Face's
//! `*ForSequenceClassification` with `num_labels = 1`, so a reward model saved as trunk + head loads
//! in transformers. The head has its own `VarStore` so it can get its own optimizer and learning rate.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
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
    /// TRL use for value heads: outputs start near zero whatever the hidden-state scale. The draw
    /// comes from a generator of its own seeded by `seed`, not libtorch's global one, so the head
    /// depends on the run's seed alone, not on what else in the process drew random numbers first.
    pub fn new(hidden_size: usize, device: Device, seed: u64) -> Self {
        let vs = nn::VarStore::new(device);
        let std = 1.0 / (hidden_size as f64 + 1.0);
        let init = Tensor::from_slice(&standard_normal(hidden_size, seed)).view([1, hidden_size as i64]) * std;
        let weight = (vs.root() / "score").var_copy("weight", &init);
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
        let mut head = Self::new(hidden_size, device, 0);
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

/// `n` draws from N(0, 1) by the Box-Muller transform over a ChaCha8 stream.
fn standard_normal(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            // 1 - u keeps the logarithm's argument in (0, 1].
            let radius = (-2.0 * (1.0 - rng.random::<f64>()).ln()).sqrt();
            let angle = std::f64::consts::TAU * rng.random::<f64>();
            (radius * angle.cos()) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_is_a_dot_product_per_position() {
        let head = ScalarHead::new(4, Device::Cpu, 1);
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
        let head = ScalarHead::new(8, Device::Cpu, 2);
        head.save(&path).unwrap();
        let back = ScalarHead::load(&path, 8, Device::Cpu).unwrap();
        assert!(back.weight().equal(head.weight()));
        let err = ScalarHead::load(&path, 16, Device::Cpu).err().unwrap().to_string();
        assert!(err.contains("hidden size"), "{err}");
        std::fs::write(&path, b"junk").unwrap();
        assert!(ScalarHead::load(&path, 8, Device::Cpu).is_err());
    }

    #[test]
    fn fresh_heads_depend_on_the_seed_alone() {
        let a = ScalarHead::new(576, Device::Cpu, 7);
        tch::manual_seed(123);
        let _ = Tensor::randn([1000], (Kind::Float, Device::Cpu));
        let b = ScalarHead::new(576, Device::Cpu, 7);
        assert!(a.weight().equal(b.weight()), "the global generator leaked into the head");
        assert!(!a.weight().equal(ScalarHead::new(576, Device::Cpu, 8).weight()));
        // N(0, 1/(hidden + 1)): mean near 0, standard deviation near 1/577.
        let w: Vec<f32> = Vec::try_from(a.weight().view([-1])).unwrap();
        let n = w.len() as f64;
        let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
        let sd = (w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        let target = 1.0 / 577.0;
        assert!(mean.abs() < 4.0 * target / n.sqrt(), "mean {mean}");
        assert!((sd / target - 1.0).abs() < 0.12, "sd {sd} vs {target}");
    }
}
