//! The tensor layer of rlxf (the only crate besides the trainer's loss code that touches libtorch):
//! Llama/Qwen2 decoders, safetensors checkpoints, tokenizer and chat template, and the KV-cache sampler.

pub mod autocast;
pub mod checkpointed;
pub mod config;
pub mod decode_attention;
pub mod decode_elementwise;
pub mod decoder;
pub mod device_memory;
pub mod device_token_choice;
mod error;
pub mod few_rows_linear;
pub mod fused_adamw;
pub mod host_memory;
pub mod kv_cache;
mod layers;
pub mod mask;
pub mod model;
mod openmp;
pub mod prompt_sharing;
pub mod reward_model;
mod rope;
pub mod runtime;
pub mod sampler;
pub mod scalar_head;
mod shim_error;
mod simd;
pub mod softmax_weights;
pub mod stochastic_rounding;
pub mod swiglu_down;
pub mod testing;
pub mod token_choice;
pub mod token_logprobs;
pub mod tokenizer;
pub mod weights;

pub use config::{Architecture, ModelConfig};
pub use error::{ModelError, Result};
pub use model::LanguageModel;
pub use reward_model::RewardModel;
pub use runtime::DType;
pub use sampler::Sampler;
pub use scalar_head::ScalarHead;
pub use tokenizer::{ChatMessage, ChatTokenizer};
