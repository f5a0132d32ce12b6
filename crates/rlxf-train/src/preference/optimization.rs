//! The optimizer side of a preference run: one AdamW per var store (the policy, or a reward model's
//! trunk and head), gradient clipping on their joint norm, and their checkpoint files.

use std::path::Path;

use tch::nn;

use crate::config::OptimizerSection;
use crate::error::TrainError;
use crate::optimizer::{AdamW, AdamWSettings};

use super::objective::Learner;

/// AdamW per var store, each with the folder (inside a checkpoint) its state is saved in.
pub struct Optimizers {
    parts: Vec<(&'static str, AdamW)>,
}

impl Optimizers {
    /// `stochastic_rounding_seed`: round the learned model's product weights stochastically onto the
    /// bf16 grid after every step, drawing from this seed ([`AdamW::round_forward_copies_to_bf16`]).
    pub fn new(learner: &Learner, o: &OptimizerSection, stochastic_rounding_seed: Option<u64>) -> Result<Self, TrainError> {
        let settings = AdamWSettings {
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            weight_decay: o.weight_decay,
        };
        let (trunk, head) = match learner {
            Learner::Policy { policy, .. } => (policy, None),
            Learner::RewardModel(m) => (&m.trunk, Some(&m.head)),
        };
        let mut trunk_optimizer = AdamW::new(&trunk.vs, settings, o.lr);
        if let Some(seed) = stochastic_rounding_seed {
            trunk_optimizer.round_forward_copies_to_bf16(trunk.net.product_parameters(), seed)?;
        }
        let mut parts = vec![("", trunk_optimizer)];
        parts.extend(head.map(|h| ("head", AdamW::new(&h.vs, settings, o.lr))));
        Ok(Self { parts })
    }

    pub fn set_lr(&mut self, lr: f64) {
        for (_, o) in &mut self.parts {
            o.set_lr(lr);
        }
    }

    pub fn zero_grad(&mut self) {
        for (_, o) in &mut self.parts {
            o.zero_grad();
        }
    }

    pub fn step(&mut self) -> Result<(), TrainError> {
        self.parts.iter_mut().try_for_each(|(_, o)| o.step())
    }

    pub fn save(&self, dir: &Path) -> Result<(), TrainError> {
        for (sub, o) in &self.parts {
            let target = dir.join(sub);
            std::fs::create_dir_all(&target).map_err(|e| TrainError::io(&target, e))?;
            o.save(&target)?;
        }
        Ok(())
    }

    pub fn load(&mut self, dir: &Path) -> Result<(), TrainError> {
        for (sub, o) in &mut self.parts {
            o.load(&dir.join(*sub))?;
        }
        Ok(())
    }
}

/// The var stores whose parameters train.
pub fn var_stores(learner: &Learner) -> Vec<&nn::VarStore> {
    match learner {
        Learner::Policy { policy, .. } => vec![&policy.vs],
        Learner::RewardModel(m) => vec![&m.trunk.vs, &m.head.vs],
    }
}

