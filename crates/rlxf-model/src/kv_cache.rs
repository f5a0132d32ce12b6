//! Pre-allocated key/value cache: new keys and values are written in place at the current length,
//! so decoding never re-allocates or concatenates.

use tch::{Device, Kind, Tensor};

pub struct KvCache {
    keys: Vec<Tensor>,
    values: Vec<Tensor>,
    len: i64,
    capacity: i64,
}

impl KvCache {
    /// Room for `capacity` positions of `batch` rows in each of `layers` layers.
    pub fn new(layers: usize, batch: i64, kv_heads: i64, capacity: i64, head_dim: i64, kind: Kind, device: Device) -> Self {
        let alloc = || Tensor::zeros([batch, kv_heads, capacity, head_dim], (kind, device));
        Self {
            keys: (0..layers).map(|_| alloc()).collect(),
            values: (0..layers).map(|_| alloc()).collect(),
            len: 0,
            capacity,
        }
    }

    /// Number of positions already stored.
    pub fn len(&self) -> i64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> i64 {
        self.capacity
    }

    /// Stores this step's keys/values (`[B, Hkv, T, D]`) for `layer` and returns views of everything
    /// stored so far, including them. The length advances once all layers were written (`advance`).
    pub fn append(&mut self, layer: usize, k: &Tensor, v: &Tensor) -> (Tensor, Tensor) {
        let t = k.size()[2];
        assert!(self.len + t <= self.capacity, "KV cache overflow: {} + {t} > {}", self.len, self.capacity);
        self.keys[layer].narrow(2, self.len, t).copy_(k);
        self.values[layer].narrow(2, self.len, t).copy_(v);
        (self.keys[layer].narrow(2, 0, self.len + t), self.values[layer].narrow(2, 0, self.len + t))
    }

    pub fn advance(&mut self, t: i64) {
        self.len += t;
    }

    /// Replaces the rows by `rows` (an index tensor that may repeat rows), e.g. to give every sample
    /// of a group its own copy of the shared prompt's cache. Allocates new buffers.
    pub fn expand_rows(&mut self, rows: &Tensor) {
        for t in self.keys.iter_mut().chain(self.values.iter_mut()) {
            *t = t.index_select(0, rows);
        }
    }

    /// Keeps only the rows in `rows` (ascending indices), e.g. to drop finished sequences. Works in
    /// place and copies only the filled positions: copying whole buffers for every finished row cost
    /// as much as a decoding step.
    pub fn retain_rows(&mut self, rows: &Tensor) {
        let n = rows.size()[0];
        let len = self.len;
        for t in self.keys.iter_mut().chain(self.values.iter_mut()) {
            if len > 0 {
                let kept = t.narrow(2, 0, len).index_select(0, rows);
                t.narrow(0, 0, n).narrow(2, 0, len).copy_(&kept);
            }
            *t = t.narrow(0, 0, n);
        }
    }
}
