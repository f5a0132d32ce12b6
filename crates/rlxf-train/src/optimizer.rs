//! AdamW with state we own, so a checkpoint can hold it and a resumed run continues exactly
//! (tch's optimizer wraps libtorch's and exposes no state). The update is libtorch's fused AdamW
//! kernel (`torch.optim.AdamW(fused=True)`): decoupled weight decay, then bias-corrected moments;
//! a test checks it against PyTorch's single-tensor path step by step.
//!
//! Under bf16 autocast the forward can instead see stochastically rounded weights
//! ([`AdamW::round_forward_copies_to_bf16`]): the optimizer then keeps the f32 masters of those
//! parameters and, after each update, writes the parameters as the masters rounded stochastically
//! onto the bf16 grid, so autocast's casts are exact and the forward follows every small update on
//! average instead of lagging until an update passes half a bf16 step.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use rlxf_model::fused_adamw::{self, AdamWSlot, AdamWUpdate};
use rlxf_model::stochastic_rounding::{round_to_bf16_grid, rounding_seed};
use tch::{nn, Device, Kind, Tensor};

use crate::error::TrainError;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWSettings {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

struct ParamState {
    param: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    /// The f32 weights AdamW updates when `param` holds their stochastic bf16 rounding.
    master: Option<Tensor>,
}

impl ParamState {
    /// What the update applies to: the master when there is one.
    fn updated(&self) -> &Tensor {
        self.master.as_ref().unwrap_or(&self.param)
    }

    /// Writes `master` rounded onto the bf16 grid into the parameter, with the draw of parameter
    /// `index` at `step` of the run seeded `run_seed`.
    fn round_into_param(&self, master: &Tensor, run_seed: u64, step: u64, index: usize) -> Result<(), TrainError> {
        round_to_bf16_grid(master, &self.param, rounding_seed(run_seed, step, index as u64)).map_err(TrainError::Other)
    }
}

/// AdamW over the trainable variables of one or more var stores. Parameters are keyed by name so the
/// saved state reloads onto the same variables regardless of creation order.
pub struct AdamW {
    settings: AdamWSettings,
    params: BTreeMap<String, ParamState>,
    lr: f64,
    steps_taken: u64,
    /// The run seed that, with the step and the parameter, seeds each stochastic rounding.
    rounding_seed: u64,
}

/// The parts of the state that are not tensors, saved next to `optimizer.safetensors`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ScalarState {
    steps_taken: u64,
    lr: f64,
    settings: AdamWSettings,
}

impl AdamW {
    pub fn new(vs: &nn::VarStore, settings: AdamWSettings, lr: f64) -> Self {
        let params = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .map(|(name, param)| {
                let state = ParamState {
                    exp_avg: param.zeros_like(),
                    exp_avg_sq: param.zeros_like(),
                    param,
                    master: None,
                };
                (name, state)
            })
            .collect();
        Self {
            settings,
            params,
            lr,
            steps_taken: 0,
            rounding_seed: 0,
        }
    }

    /// From now on `params` (f32 parameters of this optimizer, matched by storage) hold their f32
    /// masters rounded stochastically onto the bf16 grid, drawn afresh after every update from
    /// `run_seed`, the step count and the parameter: a resumed run draws the same. Costs one f32
    /// copy of those parameters. Call before the first step (and before [`AdamW::load`]).
    pub fn round_forward_copies_to_bf16<'a>(
        &mut self,
        params: impl IntoIterator<Item = &'a Tensor>,
        run_seed: u64,
    ) -> Result<(), TrainError> {
        self.rounding_seed = run_seed;
        let pointers: Vec<usize> = params.into_iter().map(|t| t.data_ptr() as usize).collect();
        for (index, s) in self.params.values_mut().enumerate() {
            if !pointers.contains(&(s.param.data_ptr() as usize)) {
                continue;
            }
            if s.param.kind() != Kind::Float {
                return Err(TrainError::Other(format!(
                    "stochastic bf16 rounding keeps f32 masters, but a parameter is {:?} (set model.dtype = \"f32\")",
                    s.param.kind()
                )));
            }
            let master = tch::no_grad(|| s.param.detach().copy());
            s.round_into_param(&master, run_seed, self.steps_taken, index)?;
            s.master = Some(master);
        }
        Ok(())
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    pub fn zero_grad(&mut self) {
        for s in self.params.values_mut() {
            let mut grad = s.param.grad();
            if grad.defined() {
                let _ = grad.detach_().zero_();
            }
        }
    }

    /// One update of every parameter that has a gradient, by libtorch's fused AdamW kernel (one pass
    /// per parameter, the same arithmetic as `torch.optim.AdamW`), one call per dtype and device.
    pub fn step(&mut self) -> Result<(), TrainError> {
        self.steps_taken += 1;
        let AdamWSettings { beta1, beta2, eps, weight_decay } = self.settings;
        let update = AdamWUpdate { step: self.steps_taken, lr: self.lr, beta1, beta2, weight_decay, eps };
        let grads: Vec<(&ParamState, Tensor)> = self
            .params
            .values()
            .filter_map(|s| {
                let grad = s.param.grad();
                // The kernel walks raw memory, so a strided gradient (rare) is made contiguous first.
                grad.defined().then(|| (s, if grad.is_contiguous() { grad } else { grad.contiguous() }))
            })
            .collect();
        let mut groups: Vec<((Kind, Device), Vec<AdamWSlot<'_>>)> = Vec::new();
        for (s, grad) in &grads {
            let slot = AdamWSlot { param: s.updated(), grad, exp_avg: &s.exp_avg, exp_avg_sq: &s.exp_avg_sq };
            let key = (s.param.kind(), s.param.device());
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, slots)) => slots.push(slot),
                None => groups.push((key, vec![slot])),
            }
        }
        // The shim turns gradient recording off around the in-place update itself.
        groups.iter().try_for_each(|(_, slots)| fused_adamw::step(slots, update).map_err(TrainError::Other))?;
        for (index, s) in self.params.values().enumerate() {
            if let Some(master) = &s.master {
                s.round_into_param(master, self.rounding_seed, self.steps_taken, index)?;
            }
        }
        Ok(())
    }

    /// Writes `optimizer.safetensors` (moments, in the parameters' dtype, and the f32 masters of
    /// stochastically rounded parameters) and `optimizer.json`.
    pub fn save(&self, dir: &Path) -> Result<(), TrainError> {
        let mut tensors: Vec<(String, &Tensor)> = Vec::with_capacity(2 * self.params.len());
        for (name, s) in &self.params {
            tensors.push((format!("exp_avg.{name}"), &s.exp_avg));
            tensors.push((format!("exp_avg_sq.{name}"), &s.exp_avg_sq));
            if let Some(master) = &s.master {
                tensors.push((format!("master.{name}"), master));
            }
        }
        let path = dir.join("optimizer.safetensors");
        Tensor::write_safetensors(&tensors, &path)
            .map_err(|e| TrainError::Other(format!("writing {}: {e}", path.display())))?;
        let scalars = ScalarState {
            steps_taken: self.steps_taken,
            lr: self.lr,
            settings: self.settings,
        };
        let json_path = dir.join("optimizer.json");
        let text =
            serde_json::to_string_pretty(&scalars).map_err(|e| TrainError::Other(e.to_string()))?;
        std::fs::write(&json_path, text).map_err(|e| TrainError::io(&json_path, e))
    }

    /// Restores the state written by [`AdamW::save`]; every parameter must have its moments, with
    /// the same shape, or the checkpoint belongs to another model.
    pub fn load(&mut self, dir: &Path) -> Result<(), TrainError> {
        let json_path = dir.join("optimizer.json");
        let text =
            std::fs::read_to_string(&json_path).map_err(|e| TrainError::io(&json_path, e))?;
        let scalars: ScalarState = serde_json::from_str(&text)
            .map_err(|e| TrainError::Checkpoint(format!("{}: {e}", json_path.display())))?;
        let path = dir.join("optimizer.safetensors");
        let mut saved: BTreeMap<String, Tensor> = Tensor::read_safetensors(&path)
            .map_err(|e| TrainError::Checkpoint(format!("{}: {e}", path.display())))?
            .into_iter()
            .collect();
        tch::no_grad(|| -> Result<(), TrainError> {
            for (name, s) in self.params.iter_mut() {
                let moments = [("exp_avg", &mut s.exp_avg), ("exp_avg_sq", &mut s.exp_avg_sq)];
                for (prefix, moment) in moments.into_iter().chain(s.master.as_mut().map(|m| ("master", m))) {
                    let key = format!("{prefix}.{name}");
                    let value = saved.remove(&key).ok_or_else(|| {
                        let why = if prefix == "master" {
                            "the run was written without model.autocast_rounding = \"stochastic\""
                        } else {
                            "the checkpoint is for another model"
                        };
                        TrainError::Checkpoint(format!("{} has no `{key}`: {why}", path.display()))
                    })?;
                    if value.size() != moment.size() {
                        return Err(TrainError::Checkpoint(format!(
                            "{}: `{key}` has shape {:?}, the model needs {:?}",
                            path.display(),
                            value.size(),
                            moment.size()
                        )));
                    }
                    moment.copy_(&value.to_kind(moment.kind()));
                }
            }
            Ok(())
        })?;
        if let Some(extra) = saved.keys().next() {
            let why = if extra.starts_with("master.") {
                ": the run was written with model.autocast_rounding = \"stochastic\""
            } else {
                ", which the model lacks"
            };
            return Err(TrainError::Checkpoint(format!("{} holds `{extra}`{why}", path.display())));
        }
        self.steps_taken = scalars.steps_taken;
        self.lr = scalars.lr;
        self.settings = scalars.settings;
        Ok(())
    }
}
