//! Train / held-out assignment by content hash.
//!
//! A problem's split is a pure function of its canonical content (for example `47+38` for
//! arithmetic), never of the seed or index that produced it. Generators re-draw until the
//! problem falls in the requested split, so the two splits are disjoint by construction, and a
//! held-out problem stays held out under every seed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    HeldOut,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::HeldOut => "held_out",
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Default share of the problem space reserved for evaluation.
pub const DEFAULT_HELD_OUT_FRACTION: f64 = 0.1;

/// 64-bit FNV-1a followed by the SplitMix64 finalizer. Written out (not `std::hash`) because
/// the value must never change across Rust versions or platforms: it decides data splits.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // FNV's low bits mix poorly; the finalizer spreads every input bit over the whole word.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The split of a problem with canonical content `key`.
pub fn split_of(key: &str, held_out_fraction: f64) -> Split {
    // Top 53 bits as a uniform number in [0, 1).
    let u = (stable_hash(key.as_bytes()) >> 11) as f64 / (1u64 << 53) as f64;
    if u < held_out_fraction {
        Split::HeldOut
    } else {
        Split::Train
    }
}
