//! The rlxf training loop. Rewards and advantage math come from the pure-Rust crates; only the
//! policy loss and log-prob computation here touch tensors.

pub mod algorithm;
pub mod checkpoint;
pub mod collection;
pub mod config;
pub mod critic;
mod error;
pub mod evaluation;
pub mod logprobs;
pub mod lr_schedule;
pub mod optimizer;
pub mod policy_loss;
pub mod policy_update;
pub mod preference;
pub mod preference_loss;
pub mod reward_kinds;
pub mod rollout;
pub mod rollout_estimates;
pub mod run_dir;
mod run_inputs;
mod run_record;
pub mod sequence_batch;
pub mod step_metrics;
pub mod trainer;

pub use config::TrainConfig;
pub use error::TrainError;
pub use trainer::{StepMetrics, TrainSummary, Trainer};
