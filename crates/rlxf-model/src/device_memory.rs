//! Memory figures of libtorch's caching allocator on a GPU: the same counters that
//! `torch.cuda.max_memory_allocated` / `max_memory_reserved` read in Python, so rlxf and a PyTorch
//! peer are compared on one measure. tch does not expose them; a small C++ shim
//! (`cpp/device_memory.cpp`, compiled by build.rs) reads them through libtorch's accelerator API.

use tch::Device;

extern "C" {
    fn rlxf_device_memory_stats(device_index: i32, out: *mut i64) -> i32;
    fn rlxf_device_memory_reset_peak(device_index: i32) -> i32;
}

/// Bytes held by tensors (`allocated`) and by the allocator's cache (`reserved`, what the process
/// holds from the driver, without the CUDA context), now and at the peak since the last reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceMemory {
    pub allocated: u64,
    pub peak_allocated: u64,
    pub reserved: u64,
    pub peak_reserved: u64,
}

impl DeviceMemory {
    pub fn peak_allocated_mb(&self) -> f64 {
        self.peak_allocated as f64 / (1024.0 * 1024.0)
    }

    pub fn peak_reserved_mb(&self) -> f64 {
        self.peak_reserved as f64 / (1024.0 * 1024.0)
    }
}

/// The allocator's figures for `device`; `None` on the CPU or when no GPU runtime answers.
pub fn stats(device: Device) -> Option<DeviceMemory> {
    let index = cuda_index(device)?;
    let mut out = [0i64; 4];
    // SAFETY: the shim writes exactly four i64 into `out` and catches every C++ exception.
    let status = unsafe { rlxf_device_memory_stats(index, out.as_mut_ptr()) };
    (status == 0).then(|| DeviceMemory {
        allocated: out[0].max(0) as u64,
        peak_allocated: out[1].max(0) as u64,
        reserved: out[2].max(0) as u64,
        peak_reserved: out[3].max(0) as u64,
    })
}

/// Starts the peaks afresh from the current figures (`torch.cuda.reset_peak_memory_stats`).
/// Returns false where [`stats`] would return `None`.
pub fn reset_peak(device: Device) -> bool {
    match cuda_index(device) {
        // SAFETY: the shim takes a device index and catches every C++ exception.
        Some(index) => unsafe { rlxf_device_memory_reset_peak(index) == 0 },
        None => false,
    }
}

fn cuda_index(device: Device) -> Option<i32> {
    match device {
        // Asking the allocator of a runtime with no device would start CUDA for nothing.
        Device::Cuda(index) if tch::Cuda::is_available() => i32::try_from(index).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Kind, Tensor};

    #[test]
    fn cpu_has_no_device_figures() {
        assert_eq!(stats(Device::Cpu), None);
        assert!(!reset_peak(Device::Cpu));
    }

    /// On a machine with a GPU, a 64 MiB tensor must show in the peak and leave it after a reset;
    /// without one, asking must answer `None` rather than fail.
    #[test]
    fn peak_follows_a_known_allocation() {
        let device = Device::Cuda(0);
        if !tch::Cuda::is_available() {
            assert_eq!(stats(device), None);
            assert!(!reset_peak(device));
            // The shim itself, asked anyway: libtorch's "no accelerator" error must come back as a
            // status, not as an exception unwinding into Rust.
            let mut out = [0i64; 4];
            assert_ne!(unsafe { rlxf_device_memory_stats(0, out.as_mut_ptr()) }, 0);
            assert_ne!(unsafe { rlxf_device_memory_reset_peak(0) }, 0);
            return;
        }
        assert!(reset_peak(device));
        let before = stats(device).expect("figures on a GPU");
        let bytes = 64 * 1024 * 1024;
        let t = Tensor::zeros([bytes / 4], (Kind::Float, device));
        let during = stats(device).unwrap();
        assert!(during.peak_allocated >= before.allocated + bytes as u64, "{during:?} after {before:?}");
        assert!(during.peak_reserved >= during.peak_allocated);
        drop(t);
        assert!(reset_peak(device));
        let after = stats(device).unwrap();
        assert!(after.peak_allocated < during.peak_allocated, "{after:?} vs {during:?}");
    }
}
