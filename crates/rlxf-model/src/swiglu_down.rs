//! `down_proj(silu(gate) * up)` for a forward that builds a graph, keeping only `gate` and `up` for the
//! backward (the C++ shim `cpp/swiglu_down.cpp`, a libtorch autograd function). Composed of
//! libtorch operations, autograd keeps `gate`, `up`, `silu(gate)` and the product: four
//! intermediate-sized tensors per token and layer, most of a training micro-batch's activations. The
//! backward recomputes the two it dropped, one elementwise pass.

use tch::Tensor;

extern "C" {
    fn rlxf_swiglu_down(
        gate: *const torch_sys::C_tensor,
        up: *const torch_sys::C_tensor,
        weight: *const torch_sys::C_tensor,
        out: *mut *mut torch_sys::C_tensor,
        error: *mut std::os::raw::c_char,
        error_len: usize,
    ) -> i32;
}

/// Set to `composed` to keep libtorch's composed operations (and their saved tensors) instead, for
/// A/B benchmarks.
pub const ENGINE_ENV: &str = "RLXF_SWIGLU";

/// Whether the fused function is in use (not switched off by [`ENGINE_ENV`]).
pub fn fused() -> bool {
    static FUSED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FUSED.get_or_init(|| !crate::runtime::switched_to(ENGINE_ENV, "composed"))
}

/// `(silu(gate) * up) · weightᵀ` for `gate`, `up` `[..., intermediate]` and `weight`
/// `[hidden, intermediate]`, differentiable in all three, in the precision the composed operations
/// would have (under autocast: the product and the projection in autocast's dtype).
pub fn swiglu_down(gate: &Tensor, up: &Tensor, weight: &Tensor) -> Result<Tensor, String> {
    let mut error = crate::shim_error::ShimError::new();
    let mut out: *mut torch_sys::C_tensor = std::ptr::null_mut();
    // SAFETY: three live tensor handles; on success the shim writes one newly allocated tensor handle
    // that we take ownership of; it checks shapes and dtypes first, writes at most `error.len()`
    // bytes of message and catches every C++ exception.
    let status = unsafe {
        rlxf_swiglu_down(gate.as_ptr(), up.as_ptr(), weight.as_ptr(), &mut out, error.as_mut_ptr(), error.len())
    };
    if status != 0 {
        return Err(error.message_or("SwiGLU failed"));
    }
    // SAFETY: status 0 means `out` is a fresh heap tensor owned by no one else.
    Ok(unsafe { Tensor::from_ptr(out) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autocast::Bf16Autocast;
    use tch::{Device, Kind};

    struct Grads {
        out: Tensor,
        gate: Option<Tensor>,
        up: Option<Tensor>,
        weight: Option<Tensor>,
    }

    /// Inputs of one comparison, drawn once so both paths see the same values (tests share
    /// libtorch's global generator across threads).
    struct Inputs {
        gate: Tensor,
        up: Tensor,
        weight: Tensor,
        probe: Tensor,
    }

    fn inputs(shape: &[i64]) -> Inputs {
        let opts = (Kind::Float, Device::Cpu);
        let intermediate = *shape.last().unwrap();
        let mut out_shape = shape.to_vec();
        *out_shape.last_mut().unwrap() = 5;
        Inputs {
            gate: Tensor::randn(shape, opts),
            up: Tensor::randn(shape, opts),
            weight: Tensor::randn([5, intermediate], opts) * 0.3,
            probe: Tensor::randn(out_shape.as_slice(), opts),
        }
    }

    /// The output and the gradients of `sum(out * probe)` through either path.
    fn run(fused: bool, x: &Inputs, trainable: [bool; 3], autocast: bool) -> Grads {
        let leaf = |t: &Tensor, trainable: bool| t.copy().set_requires_grad(trainable);
        let (gate, up, weight) = (leaf(&x.gate, trainable[0]), leaf(&x.up, trainable[1]), leaf(&x.weight, trainable[2]));
        let out = {
            let _region = autocast.then(|| Bf16Autocast::enter(Device::Cpu));
            // Inside autocast, gate and up arrive as bf16 (outputs of autocast's linear).
            let (g, u) = if autocast {
                (gate.to_kind(Kind::BFloat16), up.to_kind(Kind::BFloat16))
            } else {
                (gate.shallow_clone(), up.shallow_clone())
            };
            if fused {
                swiglu_down(&g, &u, &weight).unwrap()
            } else {
                (g.silu() * u).linear::<Tensor>(&weight, None)
            }
        };
        (out.to_kind(Kind::Float) * &x.probe).sum(Kind::Float).backward();
        let grad = |t: &Tensor| t.requires_grad().then(|| t.grad());
        Grads { out: out.detach(), gate: grad(&gate), up: grad(&up), weight: grad(&weight) }
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a.to_kind(Kind::Double) - b.to_kind(Kind::Double)).abs().max().double_value(&[])
    }

    /// Both paths run the same kernels on the same operands (the backward recomputes what the
    /// composed path kept), so they agree to the bit: `tolerance` 0 says so.
    fn assert_paths_agree(shape: &[i64], trainable: [bool; 3], autocast: bool, tolerance: f64) {
        let x = inputs(shape);
        let (fused, composed) = (run(true, &x, trainable, autocast), run(false, &x, trainable, autocast));
        assert_eq!(fused.out.kind(), composed.out.kind());
        assert!(max_diff(&fused.out, &composed.out) <= tolerance, "output differs for {shape:?}");
        let pairs = [("gate", &fused.gate, &composed.gate), ("up", &fused.up, &composed.up), ("weight", &fused.weight, &composed.weight)];
        for (name, f, c) in pairs {
            match (f, c) {
                (Some(f), Some(c)) => {
                    assert!(f.defined() && c.defined(), "{name}'s gradient missing");
                    let diff = max_diff(f, c);
                    assert!(diff <= tolerance, "{name}'s gradient differs by {diff} for {shape:?}, autocast {autocast}");
                }
                (None, None) => {}
                _ => panic!("{name}: one path has a gradient, the other not"),
            }
        }
    }

    #[test]
    fn f32_matches_the_composed_operations() {
        for shape in [&[7, 12][..], &[3, 4, 16], &[1, 1, 8]] {
            assert_paths_agree(shape, [true, true, true], false, 0.0);
        }
    }

    #[test]
    fn frozen_inputs_get_no_gradient_and_the_rest_still_match() {
        assert_paths_agree(&[2, 5, 12], [true, true, false], false, 0.0);
        assert_paths_agree(&[2, 5, 12], [false, false, true], false, 0.0);
        assert_paths_agree(&[2, 5, 12], [false, true, true], false, 0.0);
    }

    #[test]
    fn bf16_autocast_gives_the_composed_bf16_results() {
        assert_paths_agree(&[3, 6, 32], [true, true, true], true, 0.0);
        let fused = run(true, &inputs(&[3, 6, 32]), [true, true, true], true);
        assert_eq!(fused.out.kind(), Kind::BFloat16, "autocast's dtype, as autocast's linear gives");
        assert_eq!(fused.weight.unwrap().kind(), Kind::Float, "the f32 parameter gets an f32 gradient");
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let opts = (Kind::Float, Device::Cpu);
        let gate = Tensor::zeros([2, 8], opts);
        let err = swiglu_down(&gate, &Tensor::zeros([2, 7], opts), &Tensor::zeros([4, 8], opts)).unwrap_err();
        assert!(err.contains("differ in shape"), "{err}");
        let err = swiglu_down(&gate, &gate, &Tensor::zeros([4, 7], opts)).unwrap_err();
        assert!(err.contains("down projection's weight"), "{err}");
        let err = swiglu_down(&gate, &gate.to_kind(Kind::Double), &Tensor::zeros([4, 8], opts)).unwrap_err();
        assert!(err.contains("but up is"), "{err}");
    }
}
