//! Packing prompt and completion token ids into tensors for the training forward pass.
//! Each distinct prompt appears once (left-padded); completions are right-padded and point at their
//! prompt, so a group's prompt is computed once per micro-batch.

use rlxf_model::prompt_sharing::distinct_prompts;
use tch::{Device, Kind, Tensor};

pub struct SequenceBatch {
    /// `[U, P]` distinct prompts, left-padded with `pad_id`.
    pub prompt_ids: Tensor,
    /// `[U, P]`, 1 for real tokens.
    pub prompt_valid: Tensor,
    /// `[B]` index into the prompts for each completion.
    pub prompt_of: Tensor,
    /// `[B, C]` completion ids, right-padded; also the prediction targets.
    pub completion_ids: Tensor,
    /// `[B, C]` int, 1 for real completion tokens.
    pub completion_valid: Tensor,
    /// `[B, C]` float version of `completion_valid`, for masking losses.
    pub completion_mask: Tensor,
    /// `[N]` int64 flat positions (row * C + column) of the real completion tokens, row-major: what
    /// the log-probs are computed for (built on the host, so no device sync finds them).
    pub completion_positions: Tensor,
    pub completion_width: i64,
}

impl SequenceBatch {
    /// `prompts[i]` and `completions[i]` belong to sample i; equal prompts are stored once.
    pub fn new(prompts: &[&[u32]], completions: &[&[u32]], pad_id: u32, device: Device) -> Self {
        let (first, prompt_of) = distinct_prompts(prompts);
        let unique: Vec<&[u32]> = first.iter().map(|&i| prompts[i]).collect();
        let p = unique.iter().map(|x| x.len()).max().unwrap_or(0);
        let mut prompt_ids = vec![pad_id as i64; unique.len() * p];
        let mut prompt_valid = vec![0i64; unique.len() * p];
        for (i, prompt) in unique.iter().enumerate() {
            let offset = p - prompt.len();
            for (j, &t) in prompt.iter().enumerate() {
                prompt_ids[i * p + offset + j] = t as i64;
                prompt_valid[i * p + offset + j] = 1;
            }
        }
        let b = completions.len();
        let c = completions
            .iter()
            .map(|x| x.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut ids = vec![pad_id as i64; b * c];
        let mut valid = vec![0i64; b * c];
        let mut positions = Vec::with_capacity(completions.iter().map(|x| x.len()).sum());
        for (i, comp) in completions.iter().enumerate() {
            for (j, &t) in comp.iter().enumerate() {
                ids[i * c + j] = t as i64;
                valid[i * c + j] = 1;
                positions.push((i * c + j) as i64);
            }
        }
        let (u, p, b, c) = (unique.len() as i64, p as i64, b as i64, c as i64);
        let completion_valid = Tensor::from_slice(&valid).view([b, c]).to_device(device);
        Self {
            prompt_ids: Tensor::from_slice(&prompt_ids)
                .view([u, p])
                .to_device(device),
            prompt_valid: Tensor::from_slice(&prompt_valid)
                .view([u, p])
                .to_device(device),
            prompt_of: Tensor::from_slice(&prompt_of).to_device(device),
            completion_ids: Tensor::from_slice(&ids).view([b, c]).to_device(device),
            completion_mask: completion_valid.to_kind(Kind::Float),
            completion_valid,
            completion_positions: Tensor::from_slice(&positions).to_device(device),
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
        Tensor::from_slice(&out)
            .view([values.len() as i64, c as i64])
            .to_device(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_equal_prompts_and_pads_both_sides() {
        let (p1, p2) = ([5u32, 6, 7], [9u32]);
        let b = SequenceBatch::new(
            &[&p1, &p2, &p1],
            &[&[1, 2], &[3], &[4, 4, 4]],
            0,
            Device::Cpu,
        );
        assert_eq!(b.prompt_ids.size(), vec![2, 3]);
        assert_eq!(Vec::<i64>::try_from(&b.prompt_of).unwrap(), vec![0, 1, 0]);
        assert_eq!(
            Vec::<i64>::try_from(&b.prompt_ids.view([-1])).unwrap(),
            vec![5, 6, 7, 0, 0, 9]
        );
        assert_eq!(
            Vec::<i64>::try_from(&b.completion_valid.view([-1])).unwrap(),
            vec![1, 1, 0, 1, 0, 0, 1, 1, 1]
        );
        assert_eq!(
            Vec::<i64>::try_from(&b.completion_positions).unwrap(),
            vec![0, 1, 3, 6, 7, 8]
        );
        let old = b.pad_values(&[&[-1.0, -2.0], &[-3.0], &[-4.0, -5.0, -6.0]], Device::Cpu);
        assert_eq!(
            Vec::<f32>::try_from(&old.view([-1])).unwrap(),
            vec![-1.0, -2.0, 0.0, -3.0, 0.0, 0.0, -4.0, -5.0, -6.0]
        );
    }
}
