//! Log-probabilities and entropies of target tokens under the vocabulary projection, without the
//! `[tokens, vocab]` logits: the C++ shim (`cpp/token_logprobs.cpp`, a libtorch autograd function)
//! works through the vocabulary one tile at a time in the forward and recomputes each tile in the
//! backward. TRL's GRPO trainer does the same (its chunked log-prob function); without it a large
//! vocabulary's logits, their gradient and the entropy's temporaries are the largest tensors of a
//! training micro-batch.

use std::sync::OnceLock;

use tch::{Device, Tensor};

extern "C" {
    #[allow(clippy::too_many_arguments)]
    fn rlxf_tile_token_logprobs(
        states: *const torch_sys::C_tensor,
        weight: *const torch_sys::C_tensor,
        targets: *const torch_sys::C_tensor,
        temperature: f64,
        row_tile: i64,
        column_tile: i64,
        bf16: i32,
        with_entropy: i32,
        logp: *mut *mut torch_sys::C_tensor,
        entropy: *mut *mut torch_sys::C_tensor,
        error: *mut std::os::raw::c_char,
        error_len: usize,
    ) -> i32;
}

/// Set to `full` to compute log-probs from the whole logits tensor instead (for A/B benchmarks).
pub const ENGINE_ENV: &str = "RLXF_TOKEN_LOGPROBS";

/// Whether the tiled computation is in use (not switched off by [`ENGINE_ENV`]).
pub fn tiled() -> bool {
    static TILED: OnceLock<bool> = OnceLock::new();
    *TILED.get_or_init(|| !crate::runtime::switched_to(ENGINE_ENV, "full"))
}

/// What the vocabulary projection gives per target token: both `[tokens]` f32.
pub struct TargetLogprobs {
    /// log p(target), differentiable with respect to the states and the weight.
    pub logp: Tensor,
    /// The predictive distribution's entropy; zeros (and not differentiable) when not asked for.
    pub entropy: Tensor,
}

/// How the products run: f32, or bf16 operands with f32 log-sum-exp (bf16 autocast's precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductPrecision {
    F32,
    Bf16,
}

/// Tile sizes: rows x columns of one logits tile. On the CPU a tile and its exponentials (8 MB each)
/// stay in the last-level cache; on a GPU tiles are large enough to keep the products efficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiles {
    pub rows: i64,
    pub columns: i64,
}

impl Tiles {
    pub fn for_device(device: Device) -> Self {
        match device {
            Device::Cpu => Self { rows: 1024, columns: 2048 },
            _ => Self { rows: 2048, columns: 16384 },
        }
    }
}

/// log p(targets) under `softmax(states · weightᵀ / temperature)` for `states` `[tokens, hidden]`,
/// `weight` `[vocab, hidden]` (no bias) and int64 `targets` `[tokens]`, each in `[0, vocab)` (one
/// outside gives NaN). Gradients reach `states` and `weight` as through the full logits.
pub fn target_logprobs(
    states: &Tensor,
    weight: &Tensor,
    targets: &Tensor,
    temperature: f64,
    precision: ProductPrecision,
    with_entropy: bool,
    tiles: Tiles,
) -> Result<TargetLogprobs, String> {
    let mut error = crate::shim_error::ShimError::new();
    let mut logp: *mut torch_sys::C_tensor = std::ptr::null_mut();
    let mut entropy: *mut torch_sys::C_tensor = std::ptr::null_mut();
    // SAFETY: three live tensor handles; on success the shim writes two newly allocated tensor
    // handles that we take ownership of (tch's own functions hand tensors back the same way); it
    // checks shapes and dtypes before computing, writes at most `error.len()` bytes of message and
    // catches every C++ exception.
    let status = unsafe {
        rlxf_tile_token_logprobs(
            states.as_ptr(),
            weight.as_ptr(),
            targets.as_ptr(),
            temperature,
            tiles.rows,
            tiles.columns,
            (precision == ProductPrecision::Bf16) as i32,
            with_entropy as i32,
            &mut logp,
            &mut entropy,
            error.as_mut_ptr(),
            error.len(),
        )
    };
    if status != 0 {
        return Err(error.message_or("token log-probs failed"));
    }
    // SAFETY: status 0 means both pointers are fresh heap tensors owned by no one else.
    unsafe {
        Ok(TargetLogprobs {
            logp: Tensor::from_ptr(logp),
            entropy: Tensor::from_ptr(entropy),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    /// The same quantities from the whole logits tensor, differentiated by autograd.
    fn from_full_logits(states: &Tensor, weight: &Tensor, targets: &Tensor, temperature: f64, precision: ProductPrecision) -> (Tensor, Tensor) {
        let logits = match precision {
            ProductPrecision::F32 => (states / temperature).matmul(&weight.tr()),
            ProductPrecision::Bf16 => {
                states.to_kind(Kind::BFloat16).matmul(&weight.to_kind(Kind::BFloat16).tr()).to_kind(Kind::Float) / temperature
            }
        };
        let log_p = logits.log_softmax(-1, Kind::Float);
        let logp = log_p.gather(-1, &targets.unsqueeze(-1), false).squeeze_dim(-1);
        let entropy = -(log_p.exp() * &log_p).sum_dim_intlist(-1, false, Kind::Float);
        (logp, entropy)
    }

    struct Case {
        tokens: i64,
        hidden: i64,
        vocab: i64,
        tiles: Tiles,
        temperature: f64,
        precision: ProductPrecision,
        entropy: EntropyUse,
    }

    #[derive(Clone, Copy, PartialEq)]
    enum EntropyUse {
        None,
        Detached,
        InLoss,
    }

    /// Values and gradients (loss = Σ a·logp + Σ b·entropy) of both computations, as
    /// (tiled, reference) pairs.
    fn compare(case: &Case) -> Vec<(&'static str, Tensor, Tensor)> {
        tch::manual_seed(7);
        let states = (Tensor::randn([case.tokens, case.hidden], (Kind::Float, Device::Cpu)) * 2.0).set_requires_grad(true);
        let weight = Tensor::randn([case.vocab, case.hidden], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        // Targets on both edges of the vocabulary and of column tiles, plus random ones.
        let mut ids: Vec<i64> = vec![0, case.vocab - 1, (case.tiles.columns - 1) % case.vocab, case.tiles.columns % case.vocab];
        ids.extend((0..case.tokens).map(|i| (i * 7919 + 13) % case.vocab));
        ids.truncate(case.tokens as usize);
        let targets = Tensor::from_slice(&ids);
        let a = Tensor::randn([case.tokens], (Kind::Float, Device::Cpu));
        let b = Tensor::randn([case.tokens], (Kind::Float, Device::Cpu));

        let with_entropy = case.entropy != EntropyUse::None;
        let tiled = target_logprobs(&states, &weight, &targets, case.temperature, case.precision, with_entropy, case.tiles).unwrap();
        let weighted = |logp: &Tensor, entropy: &Tensor| {
            let logp_part = (logp * &a).sum(Kind::Float);
            match case.entropy {
                EntropyUse::InLoss => logp_part + (entropy * &b).sum(Kind::Float),
                _ => logp_part,
            }
        };
        weighted(&tiled.logp, &tiled.entropy).backward();
        let (tiled_states_grad, tiled_weight_grad) = (states.grad().copy(), weight.grad().copy());
        let _ = states.grad().zero_();
        let _ = weight.grad().zero_();

        let (logp, entropy) = from_full_logits(&states, &weight, &targets, case.temperature, case.precision);
        weighted(&logp, &entropy).backward();
        let expected_entropy = if with_entropy { entropy.detach() } else { entropy.zeros_like() };
        vec![
            ("logp", tiled.logp.detach(), logp.detach()),
            ("entropy", tiled.entropy.detach(), expected_entropy),
            ("states' gradient", tiled_states_grad, states.grad()),
            ("weight's gradient", tiled_weight_grad, weight.grad()),
        ]
    }

    fn assert_close(case: &Case, tolerance: f64) {
        for (what, got, want) in compare(case) {
            let scale = want.abs().max().double_value(&[]).max(1.0);
            let error = (&got - &want).abs().max().double_value(&[]);
            assert!(error <= tolerance * scale, "{what}: largest difference {error} (scale {scale}, tolerance {tolerance})");
        }
    }

    #[test]
    fn f32_matches_the_full_logits_across_tile_shapes() {
        let shapes = [
            (13, 16, 50, Tiles { rows: 5, columns: 7 }),
            (8, 16, 64, Tiles { rows: 4, columns: 16 }), // tiles divide exactly
            (3, 8, 40, Tiles { rows: 1024, columns: 2048 }), // one tile holds everything
            (1, 8, 33, Tiles { rows: 1, columns: 1 }),
        ];
        for (tokens, hidden, vocab, tiles) in shapes {
            for temperature in [1.0, 0.7] {
                for entropy in [EntropyUse::None, EntropyUse::Detached, EntropyUse::InLoss] {
                    let case = Case { tokens, hidden, vocab, tiles, temperature, precision: ProductPrecision::F32, entropy };
                    assert_close(&case, 2e-5);
                }
            }
        }
    }

    #[test]
    fn bf16_products_match_autocast_precision() {
        for entropy in [EntropyUse::Detached, EntropyUse::InLoss] {
            let case = Case {
                tokens: 21,
                hidden: 32,
                vocab: 300,
                tiles: Tiles { rows: 8, columns: 64 },
                temperature: 0.7,
                precision: ProductPrecision::Bf16,
                entropy,
            };
            // Same bf16 operands and logits; the tiles' gradients are summed in f32 where the full
            // product rounds its sum to bf16 once.
            assert_close(&case, 1e-2);
        }
    }

    #[test]
    fn an_existing_weight_gradient_takes_the_tiles_in_place() {
        // A later micro-batch: the weight's gradient holds earlier contributions, and the backward
        // adds its own into that buffer instead of returning a second one.
        let opts = (Kind::Float, Device::Cpu);
        let states = Tensor::randn([13, 16], opts).set_requires_grad(true);
        let weight = Tensor::randn([50, 16], opts).set_requires_grad(true);
        let targets = Tensor::from_slice(&[0i64, 49, 6, 7, 1, 2, 3, 10, 20, 30, 40, 41, 42]);
        let a = Tensor::randn([13], opts);
        let b = Tensor::randn([13], opts);
        let (logp, entropy) = from_full_logits(&states, &weight, &targets, 0.7, ProductPrecision::F32);
        ((logp * &a).sum(Kind::Float) + (entropy * &b).sum(Kind::Float)).backward();
        let (expected_states, expected_weight) = (states.grad().copy(), weight.grad().copy());
        let earlier = Tensor::randn([50, 16], opts);
        tch::no_grad(|| {
            let _ = states.grad().zero_();
            weight.grad().copy_(&earlier);
        });
        let buffer = weight.grad().data_ptr();
        let tiled = target_logprobs(&states, &weight, &targets, 0.7, ProductPrecision::F32, true, Tiles { rows: 5, columns: 7 }).unwrap();
        ((tiled.logp * &a).sum(Kind::Float) + (tiled.entropy * &b).sum(Kind::Float)).backward();
        assert_eq!(weight.grad().data_ptr(), buffer, "the gradient stays in its buffer");
        let weight_error = (weight.grad() - &earlier - &expected_weight).abs().max().double_value(&[]);
        let states_error = (states.grad() - &expected_states).abs().max().double_value(&[]);
        assert!(weight_error <= 2e-5 * expected_weight.abs().max().double_value(&[]).max(1.0), "weight: {weight_error}");
        assert!(states_error <= 2e-5 * expected_states.abs().max().double_value(&[]).max(1.0), "states: {states_error}");
    }

    #[test]
    fn without_gradients_only_the_values_are_computed() {
        let states = Tensor::randn([6, 8], (Kind::Float, Device::Cpu));
        let weight = Tensor::randn([20, 8], (Kind::Float, Device::Cpu));
        let targets = Tensor::from_slice(&[0i64, 5, 19, 3, 3, 11]);
        let out = tch::no_grad(|| target_logprobs(&states, &weight, &targets, 1.0, ProductPrecision::F32, true, Tiles { rows: 4, columns: 8 })).unwrap();
        assert!(!out.logp.requires_grad());
        let (logp, entropy) = from_full_logits(&states, &weight, &targets, 1.0, ProductPrecision::F32);
        assert!(out.logp.allclose(&logp, 1e-5, 1e-5, false));
        assert!(out.entropy.allclose(&entropy, 1e-5, 1e-5, false));
    }

    #[test]
    fn a_target_outside_the_vocabulary_gives_nan_not_a_value() {
        let states = Tensor::randn([2, 4], (Kind::Float, Device::Cpu));
        let weight = Tensor::randn([10, 4], (Kind::Float, Device::Cpu));
        let targets = Tensor::from_slice(&[3i64, 10]);
        let out = target_logprobs(&states, &weight, &targets, 1.0, ProductPrecision::F32, false, Tiles::for_device(Device::Cpu)).unwrap();
        let values = Vec::<f32>::try_from(&out.logp).unwrap();
        assert!(values[0].is_finite() && values[1].is_nan(), "{values:?}");
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let states = Tensor::zeros([2, 4], (Kind::Float, Device::Cpu));
        let weight = Tensor::zeros([10, 5], (Kind::Float, Device::Cpu));
        let targets = Tensor::from_slice(&[1i64, 2]);
        let tiles = Tiles::for_device(Device::Cpu);
        let error = target_logprobs(&states, &weight, &targets, 1.0, ProductPrecision::F32, false, tiles).err().unwrap();
        assert!(error.contains("hidden size 4") && error.contains("5"), "{error}");
        let weight = Tensor::zeros([10, 4], (Kind::Float, Device::Cpu));
        let error = target_logprobs(&states, &weight, &targets.to_kind(Kind::Int), 1.0, ProductPrecision::F32, false, tiles).err().unwrap();
        assert!(error.contains("int64"), "{error}");
        let error = target_logprobs(&states, &weight, &Tensor::from_slice(&[1i64]), 1.0, ProductPrecision::F32, false, tiles).err().unwrap();
        assert!(error.contains("2 states but 1 targets"), "{error}");
    }
}
