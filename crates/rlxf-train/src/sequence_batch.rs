//! Packing prompt + completion token ids into tensors for the training forward pass.
//! Prompts are left-padded and completions right-padded, so every completion starts at the same
//! column and the logits needed are one contiguous slice.

use tch::{Device, Kind, Tensor};

pub struct SequenceBatch {
    /// `[B, P + C]` token ids; padding uses `pad_id`.
    pub input_ids: Tensor,
    /// `[B, P + C]`, 1 for real tokens.
    pub valid: Tensor,
    /// `[B, C]` completion token ids (the prediction targets).
    pub targets: Tensor,
    /// `[B, C]` float, 1 for real completion tokens.
    pub completion_mask: Tensor,
    pub prompt_width: i64,
    pub completion_width: i64,
}

impl SequenceBatch {
    pub fn new(prompts: &[&[u32]], completions: &[&[u32]], pad_id: u32, device: Device) -> Self {
        let b = prompts.len();
        let p = prompts.iter().map(|x| x.len()).max().unwrap_or(0);
        let c = completions.iter().map(|x| x.len()).max().unwrap_or(0).max(1);
        let width = p + c;
        let mut ids = vec![pad_id as i64; b * width];
        let mut valid = vec![0i64; b * width];
        let mut targets = vec![pad_id as i64; b * c];
        let mut mask = vec![0f32; b * c];
        for i in 0..b {
            let offset = p - prompts[i].len();
            for (j, &t) in prompts[i].iter().enumerate() {
                ids[i * width + offset + j] = t as i64;
                valid[i * width + offset + j] = 1;
            }
            for (j, &t) in completions[i].iter().enumerate() {
                ids[i * width + p + j] = t as i64;
                valid[i * width + p + j] = 1;
                targets[i * c + j] = t as i64;
                mask[i * c + j] = 1.0;
            }
        }
        let (b, p, c, width) = (b as i64, p as i64, c as i64, width as i64);
        Self {
            input_ids: Tensor::from_slice(&ids).view([b, width]).to_device(device),
            valid: Tensor::from_slice(&valid).view([b, width]).to_device(device),
            targets: Tensor::from_slice(&targets).view([b, c]).to_device(device),
            completion_mask: Tensor::from_slice(&mask).view([b, c]).to_device(device),
            prompt_width: p,
            completion_width: c,
        }
    }

    /// Right-pads per-sequence values (old log-probs) to `[B, C]`.
    pub fn pad_values(&self, values: &[&[f32]], device: Device) -> Tensor {
        let c = self.completion_width as usize;
        let mut out = vec![0f32; values.len() * c];
        for (i, v) in values.iter().enumerate() {
            out[i * c..i * c + v.len()].copy_from_slice(v);
        }
        Tensor::from_slice(&out).view([values.len() as i64, c as i64]).to_device(device).to_kind(Kind::Float)
    }
}
