//! Rotary position embedding in Hugging Face's rotate-half layout (the first and second halves of
//! each head are the two coordinates of a rotated pair).

use tch::{Kind, Tensor};

pub struct Rope {
    /// `1 / theta^(2i/d)`, shape `[head_dim / 2]`, always f32 so positions stay exact.
    inv_freq: Tensor,
}

impl Rope {
    pub fn new(head_dim: usize, theta: f64, device: tch::Device) -> Self {
        let exponents = Tensor::arange_start_step(0, head_dim as i64, 2, (Kind::Int64, device)).to_kind(Kind::Float)
            / head_dim as f64;
        let inv_freq = Tensor::from(theta).to_device(device).pow(&exponents).reciprocal();
        Self { inv_freq }
    }

    /// Cosine and sine tables for `positions` (`[B, T]`), each `[B, 1, T, head_dim]` in `kind`.
    pub fn tables(&self, positions: &Tensor, kind: Kind) -> (Tensor, Tensor) {
        let freqs = positions.to_kind(Kind::Float).unsqueeze(-1) * self.inv_freq.view([1, 1, -1]);
        let emb = Tensor::cat(&[&freqs, &freqs], -1).unsqueeze(1);
        (emb.cos().to_kind(kind), emb.sin().to_kind(kind))
    }
}

/// Applies the rotation to `x` of shape `[B, H, T, head_dim]`.
pub fn apply_rotary(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Tensor {
    if let Some(rotated) = crate::decode_elementwise::try_rotary(x, cos, sin) {
        return rotated;
    }
    let half = x.size()[3] / 2;
    let x1 = x.narrow(3, 0, half);
    let x2 = x.narrow(3, half, half);
    let rotated = Tensor::cat(&[&(-x2), &x1], 3);
    x * cos + rotated * sin
}
