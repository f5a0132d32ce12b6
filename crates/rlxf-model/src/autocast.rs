//! bf16 mixed precision: parameters, gradients and optimizer state stay f32 while the operations on
//! libtorch's autocast lists (linear, matmul, attention) run in bf16, as `torch.autocast(device,
//! dtype=torch.bfloat16)` does for TRL's `bf16=True`. Pure bf16 weights would lose every update
//! smaller than their rounding step (2^-8 relative), which RL learning rates (1e-6) routinely are.
//!
//! tch only toggles CUDA autocast, whose default dtype is float16, so a C++ shim
//! (`cpp/autocast.cpp`) sets the state per device type. Autocast is thread-local and regions nest:
//! the bf16 copies of parameters are cached until the outermost region closes, so a sampler that
//! holds one region over a whole generation casts each weight once, not once per step.

use tch::{Device, Tensor};

extern "C" {
    fn rlxf_autocast_enter(device_code: i32, previous: *mut i32) -> i32;
    fn rlxf_autocast_exit(device_code: i32, previous: *const i32) -> i32;
    fn rlxf_autocast_is_enabled(device_code: i32) -> i32;
    fn rlxf_autocast_cpu_bf16(tensor: *const torch_sys::C_tensor) -> *mut torch_sys::C_tensor;
}

/// Inside a bf16 autocast region on one device type until dropped; dropping restores the state
/// found at entry.
#[must_use = "autocast ends when the guard is dropped"]
pub struct Bf16Autocast {
    device_code: i32,
    previous: [i32; 2],
}

impl Bf16Autocast {
    /// Opens a region for `device`'s type (CPU, or CUDA whatever the index: the state is per type).
    pub fn enter(device: Device) -> Self {
        let device_code = device_code(device);
        let mut previous = [0i32; 2];
        // SAFETY: the shim writes two ints into `previous` and catches every C++ exception.
        let status = unsafe { rlxf_autocast_enter(device_code, previous.as_mut_ptr()) };
        // The calls only set thread-local flags; failing would mean a libtorch without autocast.
        assert_eq!(status, 0, "libtorch refused to enter autocast");
        Self { device_code, previous }
    }
}

impl Drop for Bf16Autocast {
    fn drop(&mut self) {
        // SAFETY: `previous` is what the matching enter wrote; the shim catches every C++ exception.
        let status = unsafe { rlxf_autocast_exit(self.device_code, self.previous.as_ptr()) };
        debug_assert_eq!(status, 0, "libtorch refused to leave autocast");
    }
}

/// Whether autocast is on for `device`'s type on this thread. The hand-written f32 CPU kernels step
/// aside then, so the computation is libtorch's autocast, the one the peers run.
pub fn is_enabled(device: Device) -> bool {
    // SAFETY: reads a thread-local flag; the shim catches every C++ exception.
    unsafe { rlxf_autocast_is_enabled(device_code(device)) == 1 }
}

/// The bf16 operand autocast gives a CPU operation for `tensor` (autocast's `cached_cast`): inside a
/// region an f32 parameter's bf16 copy is made once and reused until the outermost region closes,
/// shared with libtorch's own operations there (a sampler's prefill casts, its decoding steps reuse).
/// A tensor that does not qualify for the cache (no gradient, not a leaf) is cast afresh; bf16
/// comes back as it is. `None` if libtorch raised.
pub fn cpu_bf16_operand(tensor: &Tensor) -> Option<Tensor> {
    // SAFETY: `tensor` is a live handle; the shim returns a new owned handle or null and catches
    // every C++ exception.
    let handle = unsafe { rlxf_autocast_cpu_bf16(tensor.as_ptr()) };
    // SAFETY: a non-null handle is a heap-allocated at::Tensor that nobody else owns.
    (!handle.is_null()).then(|| unsafe { Tensor::from_ptr(handle) })
}

/// Whether every value of these f32 tensors is a bf16 value (a bf16 checkpoint loaded as f32). Under
/// bf16 autocast such weights lag: round-to-nearest gives back the same bf16 copy until a weight's
/// updates add up to half a bf16 step (2^-9 of the weight), so the forward sees small learning rates'
/// updates only after many steps (docs/benchmarks/peers-cpu.md, "Why autocast learns less").
pub fn on_bf16_grid<'a>(tensors: impl IntoIterator<Item = &'a Tensor>) -> bool {
    tch::no_grad(|| {
        tensors.into_iter().all(|t| {
            t.kind() == tch::Kind::Float && t.to_kind(tch::Kind::BFloat16).to_kind(tch::Kind::Float).equal(t)
        })
    })
}

fn device_code(device: Device) -> i32 {
    match device {
        Device::Cuda(_) => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Kind, Tensor};

    #[test]
    fn linear_runs_in_bf16_inside_and_f32_after() {
        let x = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
        let w = Tensor::ones([4, 3], (Kind::Float, Device::Cpu));
        assert!(!is_enabled(Device::Cpu));
        {
            let _outer = Bf16Autocast::enter(Device::Cpu);
            assert!(is_enabled(Device::Cpu));
            assert!(!is_enabled(Device::Cuda(0)), "the state is per device type");
            assert_eq!(x.linear::<Tensor>(&w, None).kind(), Kind::BFloat16);
            {
                let _inner = Bf16Autocast::enter(Device::Cpu);
                assert_eq!(x.matmul(&w.tr()).kind(), Kind::BFloat16);
            }
            assert!(is_enabled(Device::Cpu), "closing a nested region keeps the outer one");
            // Not on autocast's lists: stays in the inputs' dtype.
            assert_eq!((&x + &x).kind(), Kind::Float);
        }
        assert!(!is_enabled(Device::Cpu));
        assert_eq!(x.linear::<Tensor>(&w, None).kind(), Kind::Float);
    }

    #[test]
    fn parameters_are_cast_once_per_region() {
        let w = Tensor::from_slice(&[0.1f32, -2.5, 3.0]).set_requires_grad(true);
        let once = {
            let _region = Bf16Autocast::enter(Device::Cpu);
            let first = cpu_bf16_operand(&w).unwrap();
            let again = cpu_bf16_operand(&w).unwrap();
            assert_eq!(first.kind(), Kind::BFloat16);
            assert_eq!(first.data_ptr(), again.data_ptr(), "the second use takes the cached copy");
            assert!(first.equal(&w.to_kind(Kind::BFloat16)));
            first
        };
        let _next = Bf16Autocast::enter(Device::Cpu);
        assert_ne!(cpu_bf16_operand(&w).unwrap().data_ptr(), once.data_ptr(), "closing the region clears the cache");
        let activation = Tensor::from_slice(&[1.0f32, 2.0]);
        assert_ne!(cpu_bf16_operand(&activation).unwrap().data_ptr(), cpu_bf16_operand(&activation).unwrap().data_ptr());
    }

    #[test]
    fn bf16_grid_means_every_value_is_a_bf16_value() {
        let on_grid = Tensor::from_slice(&[0.5f32, -1.0, 0.046875, 3.0e-5f32]).to_kind(Kind::BFloat16).to_kind(Kind::Float);
        assert!(on_bf16_grid([&on_grid, &on_grid]));
        // An Adam step of 1e-5 on 0.046875 (whose bf16 step is 2^-12): the f32 value leaves the grid,
        // its bf16 copy does not move.
        let updated = &on_grid + Tensor::from_slice(&[0.0f32, 0.0, 1e-5, 0.0]);
        assert!(!on_bf16_grid([&on_grid, &updated]));
        assert!(updated.to_kind(Kind::BFloat16).equal(&on_grid.to_kind(Kind::BFloat16)));
        assert!(!on_bf16_grid([&on_grid.to_kind(Kind::BFloat16)]), "only f32 tensors qualify");
    }

    #[test]
    fn gradients_reach_f32_parameters_in_f32() {
        let w = Tensor::from_slice(&[0.5f32, -1.0, 2.0]).view([1, 3]).set_requires_grad(true);
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).view([1, 3]);
        let y = {
            let _autocast = Bf16Autocast::enter(Device::Cpu);
            x.linear::<Tensor>(&w, None)
        };
        assert_eq!(y.kind(), Kind::BFloat16);
        y.to_kind(Kind::Float).sum(Kind::Float).backward();
        let grad = w.grad();
        assert_eq!(grad.kind(), Kind::Float);
        assert_eq!(Vec::<f32>::try_from(grad.view([-1])).unwrap(), vec![1.0, 2.0, 3.0]);
    }
}
