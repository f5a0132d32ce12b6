//! Finding the prompts a batch shares, so each distinct prompt runs through the model once
//! (the G samples of a GRPO group all continue one prompt).

use std::collections::HashMap;

/// For `prompts`, the index of the first occurrence of each distinct prompt (in order of first
/// appearance) and, for every prompt, the position of its distinct prompt in that list.
pub fn distinct_prompts(prompts: &[&[u32]]) -> (Vec<usize>, Vec<i64>) {
    let mut position_of: HashMap<&[u32], i64> = HashMap::new();
    let mut first = Vec::new();
    let index_of = prompts
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            *position_of.entry(p).or_insert_with(|| {
                first.push(i);
                first.len() as i64 - 1
            })
        })
        .collect();
    (first, index_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_equal_prompts_in_order_of_first_appearance() {
        let (a, b, c) = ([1u32, 2], [3u32], [1u32, 2]);
        let (first, index_of) = distinct_prompts(&[&b, &a, &c, &b]);
        assert_eq!(first, vec![0, 1]);
        assert_eq!(index_of, vec![0, 1, 1, 0]);
    }
}
