//! The Llama/Qwen2 decoder-only language model.

use tch::{nn, Kind, Tensor};

use crate::autocast::Bf16Autocast;
use crate::config::ModelConfig;
use crate::kv_cache::KvCache;
use crate::layers::{project, DecoderLayer, LayerKv, Linear, RmsNorm};
use crate::rope::Rope;

/// The model-level counterpart of `LayerKv`: one source of earlier keys/values for all layers.
enum EarlierKv<'a> {
    Plain,
    Cache(&'a mut KvCache),
    Record(&'a mut Vec<(Tensor, Tensor)>),
    Prefix(&'a [(Tensor, Tensor)]),
}

pub struct DecoderLm {
    config: ModelConfig,
    embed_tokens: Tensor,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    /// `None` when the output projection is tied to `embed_tokens`.
    lm_head: Option<Linear>,
    rope: Rope,
    /// Every forward runs inside a bf16 autocast region (f32 parameters, bf16 products).
    bf16_autocast: bool,
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
        Self { config: config.clone(), embed_tokens, layers, norm, lm_head, rope, bf16_autocast: false }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    pub(crate) fn set_bf16_autocast(&mut self, on: bool) {
        self.bf16_autocast = on;
    }

    pub fn bf16_autocast(&self) -> bool {
        self.bf16_autocast
    }

    /// The autocast region a forward runs in: `None` when the model computes in its parameters' dtype.
    /// Opened by each forward method; an enclosing region (the sampler's) keeps the weight casts.
    pub fn precision_region(&self) -> Option<Bf16Autocast> {
        self.bf16_autocast.then(|| Bf16Autocast::enter(self.embed_tokens.device()))
    }

    /// [`Self::precision_region`] for a whole generation. On the CPU every product's weights are cast
    /// to bf16 here, at once, before the prefill: cast on first use instead, these copies, which live
    /// until the region closes, landed on the heap between the prefill's temporaries and kept their
    /// freed space from being reused (a batch-64 prefill's peak RSS varied between 2.0 and 3.1 GB).
    pub fn generation_region(&self) -> Option<Bf16Autocast> {
        let region = self.precision_region()?;
        if self.embed_tokens.device() == tch::Device::Cpu {
            for parameter in self.product_parameters() {
                // The cast joins the region's cache; a failure here only means the first use casts.
                let _ = crate::autocast::cpu_bf16_operand(parameter);
            }
        }
        Some(region)
    }

    /// Whether every product weight is an f32 copy of bf16 values ([`crate::autocast::on_bf16_grid`]).
    pub fn product_weights_on_bf16_grid(&self) -> bool {
        crate::autocast::on_bf16_grid(self.product_parameters())
    }

    /// The parameters of every product (the layers' projections and the vocabulary head, the tied
    /// embedding when there is no separate head): what autocast casts to bf16.
    pub fn product_parameters(&self) -> impl Iterator<Item = &Tensor> {
        let head: Vec<&Tensor> = match &self.lm_head {
            Some(head) => head.product_parameters().collect(),
            None => vec![&self.embed_tokens],
        };
        self.layers.iter().flat_map(DecoderLayer::product_parameters).chain(head)
    }

    /// The dtype activations and cached keys/values come out in.
    pub fn compute_kind(&self) -> Kind {
        if self.bf16_autocast {
            Kind::BFloat16
        } else {
            self.embed_tokens.kind()
        }
    }

    /// Final hidden states `[B, T, hidden]` for `input_ids` at `positions` (both `[B, T]`), with the boolean
    /// attention `mask` `[B, 1, T, S]`. With a cache, S includes the cached positions and the cache grows by T.
    pub fn hidden_states(&self, input_ids: &Tensor, positions: &Tensor, mask: &Tensor, cache: Option<&mut KvCache>) -> Tensor {
        let _region = self.precision_region();
        match cache {
            Some(cache) => {
                let h = self.run_layers(input_ids, positions, mask, EarlierKv::Cache(cache));
                cache.advance(input_ids.size()[1]);
                h
            }
            None => self.run_layers(input_ids, positions, mask, EarlierKv::Plain),
        }
    }

    /// Like `hidden_states` without a cache, also returning every layer's keys/values so that
    /// `hidden_states_after_prefix` can continue from them with gradients flowing back.
    pub fn hidden_states_recording(&self, input_ids: &Tensor, positions: &Tensor, mask: &Tensor) -> (Tensor, Vec<(Tensor, Tensor)>) {
        let _region = self.precision_region();
        let mut record = Vec::with_capacity(self.layers.len());
        let h = self.run_layers(input_ids, positions, mask, EarlierKv::Record(&mut record));
        (h, record)
    }

    /// Continues after earlier positions whose per-layer keys/values are `prefix` (`[B, Hkv, P, D]` each);
    /// `mask` is `[B, 1, T, P + T]`.
    pub fn hidden_states_after_prefix(&self, input_ids: &Tensor, positions: &Tensor, mask: &Tensor, prefix: &[(Tensor, Tensor)]) -> Tensor {
        let _region = self.precision_region();
        self.run_layers(input_ids, positions, mask, EarlierKv::Prefix(prefix))
    }

    fn run_layers(&self, input_ids: &Tensor, positions: &Tensor, mask: &Tensor, mut kv: EarlierKv<'_>) -> Tensor {
        let mut x = self.embed(input_ids);
        let mut pending: Option<Tensor> = None;
        let (cos, sin) = self.rope.tables(positions, x.kind());
        for (i, layer) in self.layers.iter().enumerate() {
            let layer_kv = match &mut kv {
                EarlierKv::Plain => LayerKv::Plain,
                EarlierKv::Cache(cache) => LayerKv::Cache(cache, i),
                EarlierKv::Record(store) => LayerKv::Record(store),
                EarlierKv::Prefix(prefix) => LayerKv::Prefix(&prefix[i]),
            };
            let (stream, mlp_out) = layer.forward(&x, pending.as_ref(), (&cos, &sin), mask, layer_kv);
            (x, pending) = (stream, Some(mlp_out));
        }
        self.final_norm(&x, pending.as_ref())
    }

    /// The pieces of a forward, one at a time, for a training pass that recomputes layers instead of
    /// keeping their activations ([`crate::checkpointed`]); `run_layers` is these in sequence.
    pub(crate) fn embed(&self, input_ids: &Tensor) -> Tensor {
        Tensor::embedding(&self.embed_tokens, input_ids, -1, false, false)
    }

    pub(crate) fn rope_tables(&self, positions: &Tensor, kind: Kind) -> (Tensor, Tensor) {
        self.rope.tables(positions, kind)
    }

    /// The dtype of the embeddings, hence of the residual stream and its rotary tables.
    pub(crate) fn embedding_kind(&self) -> Kind {
        self.embed_tokens.kind()
    }

    pub(crate) fn layers(&self) -> &[DecoderLayer] {
        &self.layers
    }

    /// The final normalisation of the residual stream `x + pending`.
    pub(crate) fn final_norm(&self, x: &Tensor, pending: Option<&Tensor>) -> Tensor {
        match pending {
            Some(delta) => self.norm.add_forward(x, delta).1,
            None => self.norm.forward(x),
        }
    }

    /// Vocabulary logits for hidden states of any leading shape (bf16 under autocast: callers that
    /// need f32 log-probabilities convert, as the trainer does).
    pub fn logits(&self, hidden: &Tensor) -> Tensor {
        let _region = self.precision_region();
        match &self.lm_head {
            Some(head) => head.forward_vocabulary(hidden),
            None => project(hidden, &self.embed_tokens, None),
        }
    }

    /// The vocabulary projection's weight `[vocab, hidden]` (the tied embedding when there is no
    /// separate head), for computations that take the projection apart; `None` if it has a bias.
    pub fn vocabulary_weight(&self) -> Option<&Tensor> {
        match &self.lm_head {
            Some(head) => head.bias.is_none().then_some(&head.weight),
            None => Some(&self.embed_tokens),
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
