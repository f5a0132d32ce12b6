//! llama.cpp stores Llama's Q and K projections with the rows of each head interleaved for its
//! GPT-J style RoPE kernel. convert_hf_to_gguf.py does
//!
//! ```python
//! w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
//! ```
//!
//! i.e. within a head of `head_dim` rows, HF row `j * head_dim/2 + i` (j in 0..2) goes to GGUF
//! row `2 * i + j`. We undo it by reading, for each HF row, the GGUF row it was moved to.
//! (Qwen2 GGUFs are written without this permutation.)

/// For every HF row `r` of a Q/K projection with `rows` rows and `n_head` heads, the GGUF row
/// holding it. `None` when the rows do not split into heads of even size.
pub fn unpermute_source_rows(rows: usize, n_head: usize) -> Option<Vec<usize>> {
    if n_head == 0 || !rows.is_multiple_of(n_head) || !(rows / n_head).is_multiple_of(2) {
        return None;
    }
    let head_dim = rows / n_head;
    let half = head_dim / 2;
    Some(
        (0..rows)
            .map(|r| {
                let (h, within) = (r / head_dim, r % head_dim);
                let (j, i) = (within / half, within % half);
                h * head_dim + 2 * i + j
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct transcription of convert_hf_to_gguf.py's `permute` on a row-major matrix.
    fn llama_cpp_permute(w: &[f32], rows: usize, cols: usize, n_head: usize) -> Vec<f32> {
        let half = rows / n_head / 2;
        let mut out = vec![0.0; w.len()];
        // Output index (h, i, j, c) in shape (n_head, half, 2, cols) reads input (h, j, i, c) in
        // shape (n_head, 2, half, cols): that is the swapaxes(1, 2).
        for h in 0..n_head {
            for i in 0..half {
                for j in 0..2 {
                    for c in 0..cols {
                        let dst = ((h * half + i) * 2 + j) * cols + c;
                        let src = ((h * 2 + j) * half + i) * cols + c;
                        out[dst] = w[src];
                    }
                }
            }
        }
        out
    }

    fn apply_rows(w: &[f32], cols: usize, source_rows: &[usize]) -> Vec<f32> {
        source_rows
            .iter()
            .flat_map(|&s| w[s * cols..(s + 1) * cols].iter().copied())
            .collect()
    }

    #[test]
    fn inverse_is_exact_on_random_matrices() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        // (n_head, head_dim, cols): MHA, GQA-sized K, single head, and a bias (cols = 1).
        for (n_head, head_dim, cols) in [
            (9, 64, 576),
            (3, 64, 576),
            (1, 8, 5),
            (4, 6, 1),
            (14, 64, 3),
        ] {
            let rows = n_head * head_dim;
            let hf: Vec<f32> = (0..rows * cols).map(|_| next()).collect();
            let gguf = llama_cpp_permute(&hf, rows, cols, n_head);
            assert_ne!(gguf, hf);
            let src = unpermute_source_rows(rows, n_head).unwrap();
            assert_eq!(
                apply_rows(&gguf, cols, &src),
                hf,
                "n_head {n_head} head_dim {head_dim}"
            );
        }
    }

    #[test]
    fn rejects_odd_heads() {
        assert_eq!(unpermute_source_rows(10, 3), None);
        assert_eq!(unpermute_source_rows(9, 3), None);
        assert_eq!(unpermute_source_rows(8, 0), None);
    }
}
