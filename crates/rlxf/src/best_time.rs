//! Timing for the `rlxf bench` micro-benchmarks.

use std::time::Instant;

/// The fastest of `repeats` timed calls of `f`, after one untimed warm-up call.
pub fn best_seconds(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}
