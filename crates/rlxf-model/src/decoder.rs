//! The Llama/Qwen2 decoder-only language model.

use tch::{nn, Kind, Tensor};

use crate::config::ModelConfig;
use crate::kv_cache::KvCache;
use crate::layers::{DecoderLayer, Linear, RmsNorm};
use crate::rope::Rope;

pub struct DecoderLm {
    config: ModelConfig,
    embed_tokens: Tensor,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    /// `None` when the output projection is tied to `embed_tokens`.
    lm_head: Option<Linear>,
    rope: Rope,
}

impl DecoderLm {
    /// Declares every parameter under `root` with Hugging Face names (`model.layers.0.self_attn.q_proj.weight`...).
    pub fn new(root: &nn::Path, config: &ModelConfig) -> Self {
        let model = root / "model";
        let embed_tokens = (&model / "embed_tokens").var(
            "weight",
            &[config.vocab_size as i64, config.hidden_size as i64],
            nn::Init::Const(0.0),
        );
        let layers = (0..config.num_hidden_layers)
            .map(|i| DecoderLayer::new(&model / "layers" / i, config))
            .collect();
        let norm = RmsNorm::new(&model / "norm", config.hidden_size, config.rms_norm_eps);
        let lm_head = (!config.tie_word_embeddings)
            .then(|| Linear::new(root / "lm_head", config.hidden_size, config.vocab_size, false));
        let rope = Rope::new(config.head_dim, config.rope_theta, root.device());
        Self { config: config.clone(), embed_tokens, layers, norm, lm_head, rope }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Final hidden states `[B, T, hidden]` for `input_ids` at `positions` (both `[B, T]`), with the boolean
    /// attention `mask` `[B, 1, T, S]`. With a cache, S includes the cached positions and the cache grows by T.
    pub fn hidden_states(&self, input_ids: &Tensor, positions: &Tensor, mask: &Tensor, mut cache: Option<&mut KvCache>) -> Tensor {
        let mut x = Tensor::embedding(&self.embed_tokens, input_ids, -1, false, false);
        let (cos, sin) = self.rope.tables(positions, x.kind());
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(&x, (&cos, &sin), mask, cache.as_deref_mut().map(|c| (c, i)));
        }
        if let Some(cache) = cache {
            cache.advance(input_ids.size()[1]);
        }
        self.norm.forward(&x)
    }

    /// Vocabulary logits for hidden states of any leading shape.
    pub fn logits(&self, hidden: &Tensor) -> Tensor {
        match &self.lm_head {
            Some(head) => head.forward(hidden),
            None => hidden.matmul(&self.embed_tokens.tr()),
        }
    }

    pub fn new_cache(&self, batch: i64, capacity: i64, kind: Kind, device: tch::Device) -> KvCache {
        KvCache::new(
            self.layers.len(),
            batch,
            self.config.num_key_value_heads as i64,
            capacity,
            self.config.head_dim as i64,
            kind,
            device,
        )
    }
}
