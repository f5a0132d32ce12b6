//! The recipe's reward and training task, built (and so checked) before any model is loaded or run
//! folder created, once per run: a data set or a reward model is read a single time.

use rlxf_data::TaskGenerator;
use rlxf_rewards::Reward;

use crate::config::TrainConfig;
use crate::error::TrainError;

pub(crate) struct RunInputs {
    pub reward: Box<dyn Reward>,
    pub task: Box<dyn TaskGenerator>,
}

impl RunInputs {
    pub fn build(config: &TrainConfig) -> Result<Self, TrainError> {
        let reward = crate::reward_kinds::build_reward(&config.reward)
            .map_err(|e| TrainError::Reward(e.to_string()))?;
        let task = config
            .data
            .task
            .build()
            .map_err(|e| TrainError::Other(format!("data.task: {e}")))?;
        Ok(Self { reward, task })
    }
}
