//! The PPO critic: a scalar value head reading hidden states, either on the policy's own trunk or on
//! a separate copy of the model, with its own AdamW and learning rate.

use std::path::Path;

use rlxf_model::{LanguageModel, ScalarHead};
use tch::Tensor;

use crate::config::{CriticKind, CriticSection};
use crate::error::TrainError;
use crate::logprobs::completion_states;
use crate::optimizer::{AdamW, AdamWSettings};
use crate::policy_update::clip_joint_grad_norm;
use crate::sequence_batch::SequenceBatch;

/// Folder of a checkpoint that holds the critic (head, optimizer, separate trunk).
const CHECKPOINT_DIR: &str = "critic";

pub struct Critic {
    pub settings: CriticSection,
    head: ScalarHead,
    /// The separate critic model; `None` when the head sits on the policy's trunk.
    trunk: Option<LanguageModel>,
    head_optimizer: AdamW,
    trunk_optimizer: Option<AdamW>,
}

impl Critic {
    /// A fresh head (and, for a separate critic, a trunk loaded from `critic.path` or the policy's
    /// folder), on the policy's device and dtype; the head's initial weights are drawn from `seed`.
    pub fn new(
        settings: &CriticSection,
        policy: &LanguageModel,
        adam: AdamWSettings,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let head = ScalarHead::new(policy.config.hidden_size, policy.device(), seed);
        let trunk = match settings.kind {
            CriticKind::ValueHead => None,
            CriticKind::Separate => {
                let path = settings.path.as_deref().unwrap_or(&policy.source_dir);
                let mut trunk = LanguageModel::load(path, policy.device(), policy.kind())?;
                trunk.set_bf16_autocast(policy.net.bf16_autocast())?;
                Some(trunk)
            }
        };
        let head_optimizer = AdamW::new(&head.vs, adam, settings.lr);
        let trunk_optimizer = trunk.as_ref().map(|t| AdamW::new(&t.vs, adam, settings.lr));
        Ok(Self {
            settings: settings.clone(),
            head,
            trunk,
            head_optimizer,
            trunk_optimizer,
        })
    }

    /// Values `[B, C]` of the states that predict each completion token. `policy_states` are the
    /// policy's states for the same batch (read by a head on the policy trunk; a separate critic runs
    /// its own forward). Differentiable when grads are on.
    pub fn values(&self, policy_states: &Tensor, batch: &SequenceBatch) -> Tensor {
        match &self.trunk {
            None => self.head.forward(policy_states),
            Some(trunk) => self.head.forward(&completion_states(trunk, batch)),
        }
    }

    pub fn zero_grad(&mut self) {
        self.head_optimizer.zero_grad();
        if let Some(o) = &mut self.trunk_optimizer {
            o.zero_grad();
        }
    }

    /// Clips the critic's own gradients (the head, and a separate trunk, on their joint norm, as one
    /// model) to `max_norm` and steps its optimizers; returns the norm before clipping. A shared trunk
    /// is stepped, and clipped, by the policy optimizer.
    pub fn step(&mut self, max_norm: f64) -> Result<f64, TrainError> {
        let mut stores = vec![&self.head.vs];
        stores.extend(self.trunk.as_ref().map(|t| &t.vs));
        let norm = clip_joint_grad_norm(&stores, max_norm);
        self.head_optimizer.step()?;
        if let Some(o) = &mut self.trunk_optimizer {
            o.step()?;
        }
        Ok(norm)
    }

    /// Writes the head, its optimizer and a separate trunk with its optimizer under `dir/critic`.
    pub fn save(&self, dir: &Path) -> Result<(), TrainError> {
        let out = dir.join(CHECKPOINT_DIR);
        std::fs::create_dir_all(&out).map_err(|e| TrainError::io(&out, e))?;
        self.head
            .save(&out.join(rlxf_model::scalar_head::HEAD_FILE))?;
        let head_opt = out.join("head_optimizer");
        std::fs::create_dir_all(&head_opt).map_err(|e| TrainError::io(&head_opt, e))?;
        self.head_optimizer.save(&head_opt)?;
        if let (Some(trunk), Some(opt)) = (&self.trunk, &self.trunk_optimizer) {
            trunk.save(&out.join("trunk"), trunk.kind())?;
            opt.save(&out.join("trunk"))?;
        }
        Ok(())
    }

    /// Restores what [`Critic::save`] wrote into the checkpoint folder `dir`.
    pub fn load(&mut self, dir: &Path) -> Result<(), TrainError> {
        let src = dir.join(CHECKPOINT_DIR);
        if !src.is_dir() {
            return Err(TrainError::Checkpoint(format!(
                "{} has no critic/ folder: it was not written by a PPO run with this critic",
                dir.display()
            )));
        }
        let device = self.head.weight().device();
        let hidden = self.head.weight().size()[1] as usize;
        let head = ScalarHead::load(
            &src.join(rlxf_model::scalar_head::HEAD_FILE),
            hidden,
            device,
        )?;
        tch::no_grad(|| self.head.weight().shallow_clone().copy_(head.weight()));
        self.head_optimizer.load(&src.join("head_optimizer"))?;
        if let (Some(trunk), Some(opt)) = (&mut self.trunk, &mut self.trunk_optimizer) {
            let saved = src.join("trunk");
            rlxf_model::weights::load_into(&trunk.vs, &saved)?;
            opt.load(&saved)?;
        }
        Ok(())
    }
}
