//! GRPO's group-relative advantages: each completion's reward minus its group's mean, optionally
//! divided by a standard deviation (DeepSeekMath, arXiv:2402.03300; scaling modes as in TRL).

use serde::{Deserialize, Serialize};

/// What the centred reward is divided by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AdvantageScaling {
    /// The group's standard deviation (original GRPO).
    #[default]
    Group,
    /// The standard deviation of all rewards in the batch (more robust for near-constant groups).
    Batch,
    /// No scaling (Dr. GRPO): removes the bias toward low-variance questions.
    None,
}

/// Summary of one batch's groups, reported as metrics.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GroupStats {
    /// Fraction of groups whose rewards are not all equal (they carry the learning signal).
    pub informative_fraction: f64,
}

/// Standard deviation with Bessel's correction, as `torch.std` computes it (what GRPO implementations use).
fn std_unbiased(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Advantages for `rewards` laid out as consecutive groups of `group_size`.
/// `eps` keeps the division finite for constant groups (whose centred rewards are all zero anyway).
pub fn group_normalized(rewards: &[f64], group_size: usize, scaling: AdvantageScaling, eps: f64) -> (Vec<f64>, GroupStats) {
    assert!(group_size > 0 && rewards.len().is_multiple_of(group_size), "rewards must form whole groups");
    let batch_std = std_unbiased(rewards);
    let mut advantages = Vec::with_capacity(rewards.len());
    let mut informative = 0usize;
    for group in rewards.chunks(group_size) {
        let mean = group.iter().sum::<f64>() / group.len() as f64;
        if group.iter().any(|&r| r != group[0]) {
            informative += 1;
        }
        let scale = match scaling {
            AdvantageScaling::Group => std_unbiased(group) + eps,
            AdvantageScaling::Batch => batch_std + eps,
            AdvantageScaling::None => 1.0,
        };
        advantages.extend(group.iter().map(|r| (r - mean) / scale));
    }
    let groups = rewards.len() / group_size;
    (advantages, GroupStats { informative_fraction: informative as f64 / groups as f64 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_hand_computed_grpo() {
        // Group [1, 0, 0, 1]: mean 0.5, unbiased std sqrt(1/3).
        let (a, stats) = group_normalized(&[1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], 4, AdvantageScaling::Group, 1e-12);
        let s = (1.0f64 / 3.0).sqrt();
        assert!((a[0] - 0.5 / s).abs() < 1e-9 && (a[1] + 0.5 / s).abs() < 1e-9);
        assert_eq!(&a[4..], &[0.0; 4]);
        assert_eq!(stats.informative_fraction, 0.5);
    }

    #[test]
    fn no_scaling_is_just_centring() {
        let (a, _) = group_normalized(&[3.0, 1.0], 2, AdvantageScaling::None, 1e-4);
        assert_eq!(a, vec![1.0, -1.0]);
    }

    proptest! {
        #[test]
        fn advantages_sum_to_zero_per_group(rewards in proptest::collection::vec(-10.0f64..10.0, 1..8).prop_flat_map(|g| {
            let n = g.len();
            (Just(n), proptest::collection::vec(-10.0f64..10.0, n * 3))
        }), mode in prop_oneof![Just(AdvantageScaling::Group), Just(AdvantageScaling::Batch), Just(AdvantageScaling::None)]) {
            let (g, rewards) = rewards;
            let (a, _) = group_normalized(&rewards, g, mode, 1e-4);
            for chunk in a.chunks(g) {
                prop_assert!(chunk.iter().sum::<f64>().abs() < 1e-6);
            }
        }

        #[test]
        fn better_reward_never_gets_smaller_advantage(rewards in proptest::collection::vec(0.0f64..1.0, 6)) {
            let (a, _) = group_normalized(&rewards, 6, AdvantageScaling::Group, 1e-4);
            for i in 0..6 { for j in 0..6 {
                if rewards[i] > rewards[j] { prop_assert!(a[i] > a[j]); }
            }}
        }
    }
}
