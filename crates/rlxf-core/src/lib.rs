//! Plain data types that flow between rlxf's stages (see ARCHITECTURE.md):
//! a [`Problem`] is sampled into [`Completion`]s by a [`Generator`], scored into [`Score`]s, and
//! grouped per problem. Nothing here depends on tensors, so rewards and advantage math use these freely.

mod generation;
mod problem;
mod rollout;
mod score;

pub use generation::{GenerationRequest, Generator, SamplingParams};
pub use problem::Problem;
pub use rollout::{Completion, FinishReason};
pub use score::Score;
