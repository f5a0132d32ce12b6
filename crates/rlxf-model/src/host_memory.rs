//! How the process keeps freed host memory.
//!
//! A CPU forward pass allocates and frees tens of megabytes per layer (prefill activations, training
//! activations and their gradients). With glibc's defaults such blocks are either mmap-ed or trimmed
//! off the heap top when freed, so the next layer faults in fresh pages that the kernel must zero:
//! `perf stat -e page-faults` on `rlxf bench rollout --batch 32` counts about 3x more faults than
//! with the settings below (docs/benchmarks/peers-cpu.md). Keeping freed blocks in the heap reuses them.

/// glibc's own environment variables for the same settings: when the user sets any of them, theirs win.
pub const GLIBC_MALLOC_ENV: [&str; 4] =
    ["GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"];

/// Blocks below this come from the heap: per-layer prefill and decode tensors (SmolLM2-135M's MLP
/// activations at batch 32 x 128 tokens are 25 MB). Bigger ones (training's logits and their
/// gradients, checkpoints) are still mmap-ed and returned: with 256 MiB here, those fragmented the heap
/// and a GRPO step's peak RSS rose 13% (5.3 -> 6.1 GB) for no measurable step-time gain; 64 MiB costs
/// 6% (5.7 GB) and keeps the prefill's fault reduction (docs/benchmarks/peers-cpu.md).
const MMAP_THRESHOLD: usize = 64 << 20;
/// The heap top is returned to the kernel only once this much of it is free.
const TRIM_THRESHOLD: usize = 1 << 30;
/// Heap growth step, so a pass that needs a little more does not call brk for every block.
const TOP_PAD: usize = 64 << 20;

/// What [`retain_freed_memory`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostMemoryPolicy {
    /// The heap keeps freed blocks (glibc accepted all three settings).
    Retained,
    /// The user's `MALLOC_*`/`GLIBC_TUNABLES` settings were left in charge.
    UserSettings,
    /// Not glibc, or glibc refused a setting: the allocator's defaults stay.
    Defaults,
}

/// Sets the allocator to keep freed memory for reuse. Call once, at the start of `main`,
/// before threads start: mallopt is not meant to race with allocation.
pub fn retain_freed_memory() -> HostMemoryPolicy {
    if GLIBC_MALLOC_ENV.iter().any(|name| std::env::var_os(name).is_some()) {
        return HostMemoryPolicy::UserSettings;
    }
    set_glibc_thresholds()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_glibc_thresholds() -> HostMemoryPolicy {
    let settings = [
        (libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (libc::M_TOP_PAD, TOP_PAD),
    ];
    // SAFETY: mallopt only changes allocator parameters; the values fit in a C int.
    let accepted = settings.iter().all(|&(param, value)| unsafe { libc::mallopt(param, value as libc::c_int) } == 1);
    if accepted { HostMemoryPolicy::Retained } else { HostMemoryPolicy::Defaults }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_glibc_thresholds() -> HostMemoryPolicy {
    HostMemoryPolicy::Defaults
}

/// Returns the free pages of every heap arena to the kernel (glibc's `malloc_trim`). The trainer calls
/// it between steps: a step's retained free blocks otherwise stay resident as later steps' allocations
/// fragment the heap (a 12-step SmolLM2 run under stochastic rounding peaked at 6.6 GB without it,
/// 6.2 GB with it; f32 runs unchanged at 5.5 GB, same step times).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_fit_in_a_c_int() {
        for value in [MMAP_THRESHOLD, TRIM_THRESHOLD, TOP_PAD] {
            assert!(i32::try_from(value).is_ok(), "{value}");
        }
    }
}
