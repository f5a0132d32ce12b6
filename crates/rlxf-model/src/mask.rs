//! Attention masks for left-padded batches.

use tch::{Kind, Tensor};

/// Boolean mask `[B, 1, T, S]` for T queries that sit at the last T of S key positions.
/// A query may attend to a key when the key is a real token (`key_valid`, `[B, S]`) at or before it.
/// Each query may always attend to itself so padded query rows never become all-masked (NaN).
pub fn causal_mask(key_valid: &Tensor, query_len: i64) -> Tensor {
    let s = key_valid.size()[1];
    let device = key_valid.device();
    let key_idx = Tensor::arange(s, (Kind::Int64, device)).view([1, s]);
    let query_idx = Tensor::arange_start(s - query_len, s, (Kind::Int64, device)).view([query_len, 1]);
    let causal = key_idx.le_tensor(&query_idx); // [T, S]
    let diagonal = key_idx.eq_tensor(&query_idx);
    let allowed = causal.unsqueeze(0).logical_and(&key_valid.to_kind(Kind::Bool).unsqueeze(1));
    allowed.logical_or(&diagonal.unsqueeze(0)).unsqueeze(1)
}

/// Position ids that count only real tokens, so a left-padded row numbers its first token 0.
pub fn positions_from_valid(valid: &Tensor) -> Tensor {
    (valid.to_kind(Kind::Int64).cumsum(1, Kind::Int64) - 1).clamp_min(0)
}
