//! GGUF tensor names (llama.cpp's `gguf-py/gguf/tensor_mapping.py`) to Hugging Face
//! Llama/Qwen2 parameter names.

/// What a tensor is, independent of its layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    TokenEmbd,
    OutputNorm,
    Output,
    AttnNorm,
    AttnQ,
    AttnK,
    AttnV,
    AttnOut,
    FfnNorm,
    FfnGate,
    FfnUp,
    FfnDown,
}

impl Role {
    /// Per-layer roles, in the order HF lists a layer's parameters.
    pub const LAYER: [Role; 9] = [
        Role::AttnNorm,
        Role::AttnQ,
        Role::AttnK,
        Role::AttnV,
        Role::AttnOut,
        Role::FfnNorm,
        Role::FfnGate,
        Role::FfnUp,
        Role::FfnDown,
    ];

    fn gguf_stem(self) -> &'static str {
        match self {
            Role::TokenEmbd => "token_embd",
            Role::OutputNorm => "output_norm",
            Role::Output => "output",
            Role::AttnNorm => "attn_norm",
            Role::AttnQ => "attn_q",
            Role::AttnK => "attn_k",
            Role::AttnV => "attn_v",
            Role::AttnOut => "attn_output",
            Role::FfnNorm => "ffn_norm",
            Role::FfnGate => "ffn_gate",
            Role::FfnUp => "ffn_up",
            Role::FfnDown => "ffn_down",
        }
    }

    fn hf_stem(self) -> &'static str {
        match self {
            Role::TokenEmbd => "model.embed_tokens",
            Role::OutputNorm => "model.norm",
            Role::Output => "lm_head",
            Role::AttnNorm => "input_layernorm",
            Role::AttnQ => "self_attn.q_proj",
            Role::AttnK => "self_attn.k_proj",
            Role::AttnV => "self_attn.v_proj",
            Role::AttnOut => "self_attn.o_proj",
            Role::FfnNorm => "post_attention_layernorm",
            Role::FfnGate => "mlp.gate_proj",
            Role::FfnUp => "mlp.up_proj",
            Role::FfnDown => "mlp.down_proj",
        }
    }

    fn is_global(self) -> bool {
        matches!(self, Role::TokenEmbd | Role::OutputNorm | Role::Output)
    }
}

/// `weight` or `bias`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    Weight,
    Bias,
}

impl Param {
    fn suffix(self) -> &'static str {
        match self {
            Param::Weight => "weight",
            Param::Bias => "bias",
        }
    }
}

/// A parsed GGUF tensor name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TensorId {
    pub role: Role,
    pub layer: Option<usize>,
    pub param: Param,
}

impl TensorId {
    /// Parses a GGUF name such as `blk.3.attn_q.weight`; `None` for names we do not map.
    pub fn parse(name: &str) -> Option<Self> {
        let (stem, param) = if let Some(s) = name.strip_suffix(".weight") {
            (s, Param::Weight)
        } else {
            (name.strip_suffix(".bias")?, Param::Bias)
        };
        let (layer, stem) = match stem.strip_prefix("blk.") {
            Some(rest) => {
                let (n, stem) = rest.split_once('.')?;
                // Reject "+1", "01" and the like so a name maps to exactly one layer.
                if n.is_empty()
                    || !n.bytes().all(|b| b.is_ascii_digit())
                    || (n.len() > 1 && n.starts_with('0'))
                {
                    return None;
                }
                (Some(n.parse().ok()?), stem)
            }
            None => (None, stem),
        };
        let all = [Role::TokenEmbd, Role::OutputNorm, Role::Output]
            .into_iter()
            .chain(Role::LAYER);
        let role = all.into_iter().find(|r| r.gguf_stem() == stem)?;
        (role.is_global() == layer.is_none()).then_some(Self { role, layer, param })
    }

    pub fn gguf_name(&self) -> String {
        match self.layer {
            Some(n) => format!("blk.{n}.{}.{}", self.role.gguf_stem(), self.param.suffix()),
            None => format!("{}.{}", self.role.gguf_stem(), self.param.suffix()),
        }
    }

    pub fn hf_name(&self) -> String {
        match self.layer {
            Some(n) => format!(
                "model.layers.{n}.{}.{}",
                self.role.hf_stem(),
                self.param.suffix()
            ),
            None => format!("{}.{}", self.role.hf_stem(), self.param.suffix()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_names() {
        let cases = [
            ("token_embd.weight", "model.embed_tokens.weight"),
            ("output_norm.weight", "model.norm.weight"),
            ("output.weight", "lm_head.weight"),
            (
                "blk.0.attn_q.weight",
                "model.layers.0.self_attn.q_proj.weight",
            ),
            (
                "blk.12.attn_k.bias",
                "model.layers.12.self_attn.k_proj.bias",
            ),
            (
                "blk.3.attn_v.weight",
                "model.layers.3.self_attn.v_proj.weight",
            ),
            (
                "blk.3.attn_output.weight",
                "model.layers.3.self_attn.o_proj.weight",
            ),
            (
                "blk.1.attn_norm.weight",
                "model.layers.1.input_layernorm.weight",
            ),
            (
                "blk.1.ffn_norm.weight",
                "model.layers.1.post_attention_layernorm.weight",
            ),
            (
                "blk.1.ffn_gate.weight",
                "model.layers.1.mlp.gate_proj.weight",
            ),
            ("blk.1.ffn_up.weight", "model.layers.1.mlp.up_proj.weight"),
            (
                "blk.1.ffn_down.weight",
                "model.layers.1.mlp.down_proj.weight",
            ),
        ];
        for (g, h) in cases {
            let id = TensorId::parse(g).unwrap_or_else(|| panic!("{g}"));
            assert_eq!(id.hf_name(), h);
            assert_eq!(id.gguf_name(), g);
        }
    }

    #[test]
    fn rejects_unknown_names() {
        for g in [
            "rope_freqs.weight",
            "blk.x.attn_q.weight",
            "blk.01.attn_q.weight",
            "blk.0.token_embd.weight",
            "attn_q.weight",
            "blk..attn_q.weight",
            "blk.0.attn_q",
            "output.scale",
            "",
        ] {
            assert_eq!(TensorId::parse(g), None, "{g}");
        }
    }
}
