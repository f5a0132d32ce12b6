//! Stochastic rounding of f32 weights onto the bf16 grid (kept as f32 values), for bf16 autocast runs
//! whose forward should follow small updates. Under round-to-nearest a weight's bf16 copy stays put
//! until its f32 master has moved half a bf16 step away, so at RL learning rates the sampling policy
//! lags the optimizer by many steps (a bf16 checkpoint starts exactly on the grid). Rounded
//! stochastically, the copy goes up with probability equal to the master's position between its two
//! bf16 neighbours: right on average at every step, never more than one bf16 step off.
//!
//! The C++ shim (`cpp/stochastic_rounding.cpp`) draws the noise from a counter-based hash on the CPU
//! (independent of the thread count) and from the device's generator elsewhere; a seed fixes it.

use tch::{Device, Tensor};

extern "C" {
    fn rlxf_round_to_bf16_stochastic(
        source: *const torch_sys::C_tensor,
        destination: *const torch_sys::C_tensor,
        seed: u64,
        method: i32,
        error: *mut std::os::raw::c_char,
        error_len: usize,
    ) -> i32;
}

/// Writes into `destination` the f32 values of `source` rounded stochastically onto the bf16 grid
/// (every result is a bf16 value; casting it to bf16 is exact). Both tensors: f32, contiguous, one
/// shape and device. The same seed gives the same result on the same device.
pub fn round_to_bf16_grid(source: &Tensor, destination: &Tensor, seed: u64) -> Result<(), String> {
    let method = match source.device() {
        Device::Cpu => NoiseSource::CpuHash,
        _ => NoiseSource::DeviceGenerator,
    };
    round_with(source, destination, seed, method)
}

/// A seed for one tensor at one optimizer step of a run: distinct per (run seed, step, tensor).
pub fn rounding_seed(run_seed: u64, step: u64, tensor_index: u64) -> u64 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    mix(mix(mix(run_seed) ^ step) ^ tensor_index)
}

#[derive(Clone, Copy)]
enum NoiseSource {
    CpuHash = 0,
    DeviceGenerator = 1,
}

fn round_with(source: &Tensor, destination: &Tensor, seed: u64, method: NoiseSource) -> Result<(), String> {
    let mut error = crate::shim_error::ShimError::new();
    // SAFETY: two live tensor handles (the shim writes the destination's storage, as tch's own
    // in-place kernels do through a handle); the shim checks dtype, shape, device and layout before touching
    // memory, writes at most `error.len()` bytes of message and catches every C++ exception.
    let status = unsafe {
        rlxf_round_to_bf16_stochastic(
            source.as_ptr(),
            destination.as_ptr(),
            seed,
            method as i32,
            error.as_mut_ptr(),
            error.len(),
        )
    };
    if status == 0 {
        return Ok(());
    }
    Err(error.message_or("stochastic rounding failed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    const METHODS: [NoiseSource; 2] = [NoiseSource::CpuHash, NoiseSource::DeviceGenerator];

    fn rounded(source: &Tensor, seed: u64, method: NoiseSource) -> Tensor {
        let out = source.zeros_like();
        round_with(source, &out, seed, method).unwrap();
        out
    }

    /// The bf16 neighbours below and above `x` in magnitude, by truncation of the f32 bits.
    fn neighbours(x: f32) -> (f32, f32) {
        let down = f32::from_bits(x.to_bits() & 0xFFFF_0000);
        let up = f32::from_bits((x.to_bits() & 0xFFFF_0000) + 0x1_0000);
        if x.to_bits() & 0xFFFF == 0 {
            (x, x)
        } else {
            (down, up)
        }
    }

    #[test]
    fn every_value_lands_on_one_of_its_two_bf16_neighbours() {
        tch::manual_seed(5);
        let source = Tensor::randn([10_001], (Kind::Float, Device::Cpu)) * 0.05;
        let values = Vec::<f32>::try_from(&source).unwrap();
        for method in METHODS {
            let out = Vec::<f32>::try_from(&rounded(&source, 7, method)).unwrap();
            for (x, r) in values.iter().zip(&out) {
                let (down, up) = neighbours(*x);
                assert!(*r == down || *r == up, "{x} rounded to {r}, not {down} or {up}");
                assert_eq!(r.to_bits() & 0xFFFF, 0, "{r} is not a bf16 value");
            }
        }
    }

    #[test]
    fn values_on_the_grid_stay_and_specials_keep_their_class() {
        let on_grid = Tensor::from_slice(&[0.5f32, -1.0, 0.046875, 3.0e-5, 0.0, -0.0])
            .to_kind(Kind::BFloat16)
            .to_kind(Kind::Float);
        let specials = Tensor::from_slice(&[f32::INFINITY, f32::NEG_INFINITY, f32::NAN, f32::from_bits(0x7F80_0001)]);
        for method in METHODS {
            assert!(rounded(&on_grid, 11, method).equal(&on_grid));
        }
        let out = Vec::<f32>::try_from(&rounded(&specials, 11, NoiseSource::CpuHash)).unwrap();
        assert_eq!(&out[..2], &[f32::INFINITY, f32::NEG_INFINITY]);
        assert!(out[2].is_nan() && out[3].is_nan(), "{out:?}: a NaN must stay a NaN");
    }

    #[test]
    fn rounding_is_right_on_average() {
        // 0.3 of the way from 1.0 to the next bf16 value (2^-7 above), and its negative: a million
        // copies must round up about 30% of the time, so their mean is the original value.
        let step = 2f64.powi(-7);
        for method in METHODS {
            for sign in [1.0, -1.0] {
                let x = sign * (1.0 + 0.3 * step);
                let source = Tensor::full([1_000_000], x, (Kind::Float, Device::Cpu));
                let out = rounded(&source, 13, method);
                let up_fraction = out.ne(sign).to_kind(Kind::Double).mean(Kind::Double).double_value(&[]);
                // 5 standard deviations of a binomial fraction with p = 0.3, n = 1e6.
                assert!((up_fraction - 0.3).abs() < 5.0 * (0.21f64 / 1e6).sqrt(), "rounded up {up_fraction}");
                let mean = out.to_kind(Kind::Double).mean(Kind::Double).double_value(&[]);
                assert!((mean - x).abs() < 5.0 * step * (0.21f64 / 1e6).sqrt(), "mean {mean} vs {x}");
            }
        }
    }

    #[test]
    fn the_seed_fixes_the_draw() {
        tch::manual_seed(6);
        let source = Tensor::randn([4099], (Kind::Float, Device::Cpu));
        for method in METHODS {
            let a = rounded(&source, 21, method);
            assert!(a.equal(&rounded(&source, 21, method)), "same seed, same result");
            assert!(!a.equal(&rounded(&source, 22, method)), "another seed, another draw");
        }
        // The CPU hash does not depend on how libtorch splits the work among threads.
        let threads = tch::get_num_threads();
        let many = rounded(&source, 21, NoiseSource::CpuHash);
        tch::set_num_threads(1);
        let one = rounded(&source, 21, NoiseSource::CpuHash);
        tch::set_num_threads(threads);
        assert!(many.equal(&one));
    }

    #[test]
    fn seeds_differ_by_step_and_tensor() {
        let seeds = [rounding_seed(1, 0, 0), rounding_seed(1, 1, 0), rounding_seed(1, 0, 1), rounding_seed(2, 0, 0)];
        for i in 0..seeds.len() {
            for j in 0..i {
                assert_ne!(seeds[i], seeds[j]);
            }
        }
    }

    #[test]
    fn bad_tensors_are_an_error_not_a_crash() {
        let source = Tensor::zeros([4], (Kind::Float, Device::Cpu));
        for (destination, fault) in [
            (Tensor::zeros([5], (Kind::Float, Device::Cpu)), "shape"),
            (Tensor::zeros([4], (Kind::BFloat16, Device::Cpu)), "f32"),
            (Tensor::zeros([8], (Kind::Float, Device::Cpu)).slice(0, 0, 8, 2), "contiguous"),
        ] {
            let err = round_to_bf16_grid(&source, &destination, 1).unwrap_err();
            assert!(err.contains(fault), "{err}");
        }
    }
}
