//! The host-memory policy in a process of its own (mallopt must not race other tests' allocations):
//! a block freed and allocated again is served from pages already faulted in.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use rlxf_model::host_memory::{retain_freed_memory, HostMemoryPolicy, GLIBC_MALLOC_ENV};

fn minor_faults() -> i64 {
    // SAFETY: getrusage writes into the struct we pass.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage.ru_minflt
    }
}

/// Faults taken while allocating, filling and freeing a block of `bytes`.
fn faults_for_block(bytes: usize) -> i64 {
    let before = minor_faults();
    let block = std::hint::black_box(vec![7u8; bytes]);
    drop(block);
    minor_faults() - before
}

#[test]
fn a_freed_block_is_reused_without_new_page_faults() {
    let policy = retain_freed_memory();
    if GLIBC_MALLOC_ENV.iter().any(|name| std::env::var_os(name).is_some()) {
        assert_eq!(policy, HostMemoryPolicy::UserSettings);
        return;
    }
    assert_eq!(policy, HostMemoryPolicy::Retained);
    let bytes = 48 << 20;
    let pages = (bytes / 4096) as i64;
    let first = faults_for_block(bytes);
    let again = faults_for_block(bytes);
    // glibc's defaults mmap a 48 MiB block (above its 32 MiB dynamic ceiling) and unmap it on free,
    // so every round faults all of its pages in again.
    assert!(first >= pages / 2, "the first allocation should fault its pages in ({first} faults, {pages} pages)");
    assert!(again < pages / 20, "the reused block took {again} faults for {pages} pages");
}
