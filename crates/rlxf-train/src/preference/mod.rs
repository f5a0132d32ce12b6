//! Offline training from preference data: the DPO family (`dpo`, `ipo`, `hinge`), `simpo`, `kto`
//! and Bradley-Terry reward models (`reward_model`), plus `make-pairs` (pairs from scored samples)
//! and the `reward_model` reward kind that scores with a trained reward model.
//! Formulas and knobs: docs/ALGORITHMS.md, "Preference objectives and reward models".

pub mod config;
pub mod data;
pub mod make_pairs;
pub mod objective;
pub mod optimization;
pub mod report;
pub mod reward_kind;
pub mod trainer;

pub use config::PreferenceSection;
pub use report::{PairAccuracy, PreferenceSummary};
pub use trainer::{PreferenceTrainer, REWARD_MODEL_DIR};
