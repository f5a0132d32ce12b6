//! Parallel regions on libtorch's own OpenMP threads, for the hand-written CPU kernels: the same
//! runtime (libgomp, which torch-sys links) and threads libtorch uses, so a kernel never competes
//! with idle-spinning libtorch workers for the cores.

use std::ffi::{c_int, c_uint, c_void};
use std::sync::Mutex;

extern "C" {
    // libgomp's entry point for a parallel region (what `#pragma omp parallel` compiles to).
    fn GOMP_parallel(function: extern "C" fn(*mut c_void), data: *mut c_void, num_threads: c_uint, flags: c_uint);
    fn omp_get_thread_num() -> c_int;
    fn omp_get_num_threads() -> c_int;
}

/// libtorch's intra-op thread count.
pub fn torch_threads() -> usize {
    // SAFETY: reads a process-wide setting.
    unsafe { torch_sys::at_get_num_threads().max(1) as usize }
}

type Work<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Runs `work(thread, threads)` on up to `threads` threads (the caller's among them) and returns
/// when all are done; `threads` is what the runtime granted, which may be fewer than asked.
pub fn parallel(threads: usize, work: Work<'_>) {
    if threads <= 1 {
        work(0, 1);
        return;
    }
    extern "C" fn region(data: *mut c_void) {
        // SAFETY: `data` points at the `Work` borrowed by `parallel`, which waits for every thread.
        let work = unsafe { *(data as *const Work<'_>) };
        // SAFETY: plain queries of the OpenMP runtime inside a parallel region.
        let (thread, threads) = unsafe { (omp_get_thread_num() as usize, omp_get_num_threads().max(1) as usize) };
        work(thread, threads);
    }
    // SAFETY: `region` only reads `work`, which outlives the call: GOMP_parallel returns after
    // every thread has finished.
    unsafe { GOMP_parallel(region, &work as *const Work<'_> as *mut c_void, threads as c_uint, 0) };
}

/// `f` applied to every item, results in item order, with the items split into contiguous parts over
/// libtorch's threads. For host work between libtorch calls (choosing each row's next token): on
/// these threads rather than a second pool's, it runs on the cores OpenMP's idle workers would
/// otherwise spin on.
pub fn map_mut<T: Send, R: Send>(items: &mut [T], f: &(dyn Fn(&mut T) -> R + Sync)) -> Vec<R> {
    let parts = torch_threads().min(items.len()).max(1);
    let part_len = items.len().div_ceil(parts).max(1);
    // One lock per part, each taken once by the one thread that maps it: no contention.
    let slots: Vec<Mutex<(&mut [T], Vec<R>)>> = items.chunks_mut(part_len).map(|part| Mutex::new((part, Vec::new()))).collect();
    parallel(slots.len(), &|thread, threads| {
        // A runtime that grants fewer threads than asked still maps every part.
        for slot in slots.iter().skip(thread).step_by(threads) {
            let mut guard = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let (part, out) = &mut *guard;
            out.extend(part.iter_mut().map(f));
        }
    });
    slots.into_iter().flat_map(|slot| slot.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()).1).collect()
}

/// Items `[start, end)` of part `part` of `parts` when `items` are split as evenly as possible.
pub fn share(items: usize, part: usize, parts: usize) -> (usize, usize) {
    let (per, extra) = (items / parts, items % parts);
    let start = part * per + part.min(extra);
    (start, start + per + usize::from(part < extra))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn shares_cover_every_item_once() {
        for items in [0, 1, 5, 96, 8193] {
            for parts in 1..=5 {
                let mut next = 0;
                for part in 0..parts {
                    let (start, end) = share(items, part, parts);
                    assert_eq!(start, next);
                    assert!(end - start <= items.div_ceil(parts));
                    next = end;
                }
                assert_eq!(next, items);
            }
        }
    }

    #[test]
    fn map_mut_keeps_order_and_visits_each_item_once() {
        let before = torch_threads();
        for threads in [1, 2, 3] {
            // SAFETY: sets a process-wide setting, restored below.
            unsafe { torch_sys::at_set_num_threads(threads) };
            for len in [0, 1, 2, 5, 64] {
                let mut items: Vec<usize> = (0..len).collect();
                let doubled = map_mut(&mut items, &|x| {
                    *x += 100;
                    *x * 2
                });
                assert_eq!(doubled, (0..len).map(|i| (i + 100) * 2).collect::<Vec<_>>());
                assert_eq!(items, (100..100 + len).collect::<Vec<_>>());
            }
        }
        // SAFETY: as above.
        unsafe { torch_sys::at_set_num_threads(before as c_int) };
    }

    #[test]
    fn every_thread_runs_its_share() {
        let done = AtomicUsize::new(0);
        parallel(2, &|thread, threads| {
            let (start, end) = share(100, thread, threads);
            done.fetch_add(end - start, Ordering::Relaxed);
        });
        assert_eq!(done.load(Ordering::Relaxed), 100);
    }
}
