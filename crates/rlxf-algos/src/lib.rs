//! Advantage math on plain numbers. The trainer turns these per-sample values into per-token
//! weights of the policy loss; nothing here needs tensors, so a reward server can reuse it.

pub mod advantage;
pub mod kl;

pub use advantage::{group_normalized, AdvantageScaling, GroupStats};
