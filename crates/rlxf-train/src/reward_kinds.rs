//! The reward kinds a recipe may use: the built-in verifiers of `rlxf-rewards` plus the kinds of
//! crates that the reward core must not depend on (the HTTP judge) and the tensor-based
//! `reward_model` kind.

use rlxf_rewards::{Registry, Reward, RewardSpec, SpecError};

pub fn registry() -> Registry {
    let mut registry = Registry::builtin();
    rlxf_judge::register(&mut registry);
    crate::preference::reward_kind::register(&mut registry);
    registry
}

pub fn build_reward(spec: &RewardSpec) -> Result<Box<dyn Reward>, SpecError> {
    Ok(Box::new(spec.build_with(&registry())?))
}
