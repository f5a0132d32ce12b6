//! The recipe's `algorithm.name` turned into an advantage estimator and a policy loss, with the
//! checks that keep each algorithm's knobs consistent. Formulas and papers: docs/ALGORITHMS.md.

use rlxf_algos::advantage::{bnpo, dr_grpo, gae, reinforce_pp_baseline, remax, rloo, whiten};
use rlxf_algos::{
    group_normalized, AdaptiveKlController, AdvantageError, AdvantageScaling, FixedKlController,
    GroupStats, KlController,
};

use crate::config::{AlgorithmSection, CriticSection};
use crate::policy_loss::{LossAggregation, Objective, PolicyLoss};

/// The algorithms `algorithm.name` accepts.
pub const ALGORITHMS: [&str; 12] = [
    "grpo",
    "dr_grpo",
    "dapo",
    "gspo",
    "cispo",
    "cpgd",
    "rloo",
    "reinforce_pp",
    "reinforce_pp_baseline",
    "remax",
    "bnpo",
    "ppo",
];

/// Algorithms whose baseline does not come from the group, so one sample per prompt is enough.
pub fn single_sample_ok(name: &str) -> bool {
    matches!(name, "ppo" | "remax" | "reinforce_pp")
}

/// Whether the step needs a greedy completion per prompt (ReMax's baseline).
pub fn needs_greedy_baseline(a: &AlgorithmSection) -> bool {
    a.name == "remax"
}

/// PPO needs a critic and only PPO uses one.
pub fn validate_critic(a: &AlgorithmSection, critic: Option<&CriticSection>) -> Result<(), String> {
    match (a.name.as_str(), critic) {
        ("ppo", None) => Err("ppo needs a critic: add a [critic] section (kind = \"value_head\" or \"separate\", lr = 1e-5)".into()),
        ("ppo", Some(c)) => {
            if !(c.lr > 0.0 && c.lr.is_finite()) {
                return Err(format!("critic.lr = {} must be positive", c.lr));
            }
            if !(c.value_clip >= 0.0 && c.value_clip.is_finite() && c.vf_coef > 0.0 && c.vf_coef.is_finite()) {
                return Err("critic.value_clip must be >= 0 and critic.vf_coef > 0".into());
            }
            if c.kind == crate::config::CriticKind::ValueHead && c.path.is_some() {
                return Err("critic.path names a separate critic model: set critic.kind = \"separate\" or remove it".into());
            }
            Ok(())
        }
        (name, Some(_)) => Err(format!("a [critic] section applies to ppo, not to `{name}`: remove it")),
        _ => Ok(()),
    }
}

/// The offline objectives that train from preference data (`crate::preference`).
pub const PREFERENCE_ALGORITHMS: [&str; 6] = ["dpo", "ipo", "hinge", "simpo", "kto", "reward_model"];

pub fn is_preference(name: &str) -> bool {
    PREFERENCE_ALGORITHMS.contains(&name)
}

/// CPGD's policy-drift coefficient when the recipe gives none.
pub const DEFAULT_CPGD_DRIFT: f64 = 0.1;

/// Checks the knobs against the chosen algorithm; the message says which key to change.
pub fn validate(a: &AlgorithmSection) -> Result<(), String> {
    let name = a.name.as_str();
    if !ALGORITHMS.contains(&name) {
        return Err(format!(
            "algorithm.name = `{name}` is not available (choose one of: {}; or, from preference data: {})",
            ALGORITHMS.join(", "),
            PREFERENCE_ALGORITHMS.join(", ")
        ));
    }
    let clip_family = matches!(
        name,
        "grpo"
            | "dr_grpo"
            | "dapo"
            | "rloo"
            | "reinforce_pp"
            | "reinforce_pp_baseline"
            | "remax"
            | "bnpo"
            | "ppo"
    );
    if let Some(c) = a.dual_clip {
        if !clip_family {
            return Err(format!(
                "algorithm.dual_clip applies to the PPO-clip surrogate, not to `{name}`: remove it"
            ));
        }
        if !(c > 1.0 && c.is_finite()) {
            return Err(format!(
                "algorithm.dual_clip = {c} must be a constant > 1 (3 is usual)"
            ));
        }
    }
    if a.gspo_token_level && name != "gspo" {
        return Err(format!(
            "algorithm.gspo_token_level applies to gspo, not to `{name}`: remove it"
        ));
    }
    match a.cpgd_drift_coef {
        Some(_) if name != "cpgd" => {
            return Err(format!(
                "algorithm.cpgd_drift_coef applies to cpgd, not to `{name}`: remove it"
            ))
        }
        Some(d) if !(d >= 0.0 && d.is_finite()) => {
            return Err(format!("algorithm.cpgd_drift_coef = {d} must be >= 0"))
        }
        _ => {}
    }
    match (name, a.scale_rewards) {
        (_, None) | ("grpo" | "dapo" | "gspo" | "cispo" | "cpgd", _) | ("dr_grpo", Some(AdvantageScaling::None)) => {}
        ("dr_grpo", _) => return Err("dr_grpo does not divide by a standard deviation: set algorithm.scale_rewards = \"none\" or remove it".into()),
        _ => return Err(format!("algorithm.scale_rewards does not apply to `{name}` (its estimator fixes the baseline and scale): remove it")),
    }
    if name == "dr_grpo" && a.loss_aggregation != LossAggregation::SeqMeanTokenSumNorm {
        return Err("dr_grpo divides the summed token loss by a constant: set algorithm.loss_aggregation = \"seq_mean_token_sum_norm\"".into());
    }
    if name == "dapo" {
        if a.epsilon_high.is_none_or(|h| h <= a.epsilon) {
            return Err("dapo clips higher than it clips lower: set algorithm.epsilon_high above algorithm.epsilon (0.28 with epsilon 0.2)".into());
        }
        if a.loss_aggregation != LossAggregation::TokenMean {
            return Err(
                "dapo uses the token-level loss: set algorithm.loss_aggregation = \"token_mean\""
                    .into(),
            );
        }
    }
    if !(a.entropy_coef >= 0.0 && a.entropy_coef.is_finite()) {
        return Err(format!(
            "algorithm.entropy_coef = {} must be >= 0 (0.001 is usual; 0 = off)",
            a.entropy_coef
        ));
    }
    if a.kl_in_reward {
        if !matches!(name, "ppo" | "reinforce_pp") {
            return Err(format!("algorithm.kl_in_reward applies to ppo and reinforce_pp, not to `{name}`: remove it"));
        }
        if a.beta <= 0.0 {
            return Err(
                "algorithm.kl_in_reward needs a KL coefficient: set algorithm.beta > 0".into(),
            );
        }
    }
    if a.dynamic_sampling && a.max_sampling_rounds == 0 {
        return Err(
            "algorithm.max_sampling_rounds must be at least 1 with dynamic_sampling".into(),
        );
    }
    if a.dynamic_sampling && matches!(name, "ppo" | "remax") {
        return Err(format!("algorithm.dynamic_sampling drops groups with equal rewards, which `{name}` does not compare: remove it"));
    }
    let [lo, hi] = a.bnpo_reward_range;
    if !(lo < hi && lo.is_finite() && hi.is_finite()) {
        return Err(format!(
            "algorithm.bnpo_reward_range = [{lo}, {hi}] must be finite with min < max"
        ));
    }
    if !(0.0..=1.0).contains(&a.gamma) || !(0.0..=1.0).contains(&a.lambda) {
        return Err(format!(
            "algorithm.gamma = {} and algorithm.lambda = {} must be in [0, 1]",
            a.gamma, a.lambda
        ));
    }
    match (a.kl_target, a.kl_horizon) {
        (None, None) => {}
        (Some(t), Some(h)) => {
            if a.beta <= 0.0 {
                return Err("algorithm.kl_target adapts beta: set algorithm.beta > 0 as its starting value".into());
            }
            AdaptiveKlController::new(a.beta, t, h).map_err(|e| format!("algorithm.kl_target/kl_horizon: {e}"))?;
        }
        _ => return Err("algorithm.kl_target and algorithm.kl_horizon go together (the adaptive KL controller needs both)".into()),
    }
    Ok(())
}

/// The policy loss of the algorithm, at KL coefficient `beta` (from the controller).
pub fn policy_loss(a: &AlgorithmSection, beta: f64) -> PolicyLoss {
    let objective = match a.name.as_str() {
        "gspo" => Objective::Gspo {
            token_level: a.gspo_token_level,
        },
        "cispo" => Objective::Cispo,
        "cpgd" => Objective::Cpgd {
            drift_coef: a.cpgd_drift_coef.unwrap_or(DEFAULT_CPGD_DRIFT),
        },
        _ => Objective::PpoClip {
            dual_clip: a.dual_clip,
        },
    };
    PolicyLoss {
        objective,
        eps_low: a.epsilon,
        eps_high: a.epsilon_high.unwrap_or(a.epsilon),
        // With KL in the reward the penalty is already in the advantages.
        beta: if a.kl_in_reward { 0.0 } else { beta },
        kl_estimator: a.kl_estimator,
        entropy_coef: a.entropy_coef,
        aggregation: a.loss_aggregation,
    }
}

/// What the estimators may read about a rollout batch (completions in group order).
pub struct RolloutRewards<'a> {
    pub rewards: &'a [f64],
    /// Completion token counts (REINFORCE++ whitens over tokens).
    pub lengths: &'a [usize],
    /// ReMax: the reward of each prompt's greedy completion.
    pub greedy_rewards: Option<&'a [f64]>,
    /// Per-token KL to the reference, when the KL goes into the reward.
    pub token_kl: Option<&'a [Vec<f64>]>,
    /// PPO: the critic's per-token values at rollout time.
    pub values: Option<&'a [Vec<f64>]>,
}

/// Advantages for the batch: one per completion, or one per token (with the critic's targets).
#[derive(Debug, Clone, PartialEq)]
pub enum Advantages {
    PerSequence(Vec<f64>),
    PerToken {
        advantages: Vec<Vec<f64>>,
        returns: Option<Vec<Vec<f64>>>,
    },
}

/// The estimator of `a.name` over the batch, and the batch's group statistics.
pub fn advantages(
    a: &AlgorithmSection,
    x: &RolloutRewards<'_>,
) -> Result<(Advantages, GroupStats), AdvantageError> {
    let (rewards, g) = (x.rewards, a.group_size);
    let (_, stats) = group_normalized(rewards, g, AdvantageScaling::None, 0.0)?;
    let kl_coef = if a.kl_in_reward { a.beta } else { 0.0 };
    let token_rewards = |kl: Option<&[Vec<f64>]>| -> Vec<Vec<f64>> {
        x.lengths
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let mut row: Vec<f64> = match kl {
                    Some(kl) => kl[i].iter().map(|k| -kl_coef * k).collect(),
                    None => vec![0.0; n],
                };
                if let Some(last) = row.last_mut() {
                    *last += rewards[i];
                }
                row
            })
            .collect()
    };
    let per_sample = match a.name.as_str() {
        "dr_grpo" => dr_grpo(rewards, g)?,
        "rloo" => rloo(rewards, g)?,
        "remax" => {
            let greedy = x.greedy_rewards.ok_or_else(|| {
                AdvantageError::OutOfRange("remax needs the greedy rewards of the step".into())
            })?;
            remax(rewards, greedy, g)?
        }
        "bnpo" => bnpo(rewards, g, a.bnpo_reward_range[0], a.bnpo_reward_range[1])?.0,
        "reinforce_pp" => {
            let zeros: Vec<Vec<f64>> = x.lengths.iter().map(|&n| vec![0.0; n]).collect();
            let token_kl = if a.kl_in_reward {
                x.token_kl.ok_or_else(|| missing("token KL"))?
            } else {
                &zeros
            };
            let per_token = rlxf_algos::advantage::reinforce_pp(
                &rlxf_algos::advantage::TokenRewards {
                    outcome: rewards,
                    token_kl,
                    kl_coef,
                    gamma: 1.0,
                },
                1e-8,
            )?;
            if a.kl_in_reward {
                return Ok((
                    Advantages::PerToken {
                        advantages: per_token,
                        returns: None,
                    },
                    stats,
                ));
            }
            // Without KL in the reward every token of a completion has the same return.
            per_token.iter().map(|row| row[0]).collect()
        }
        "reinforce_pp_baseline" => reinforce_pp_baseline(rewards, x.lengths, g, 1e-8)?
            .iter()
            .map(|row| row[0])
            .collect(),
        "ppo" => {
            let values = x.values.ok_or_else(|| missing("critic values"))?;
            let kl = if a.kl_in_reward {
                Some(x.token_kl.ok_or_else(|| missing("token KL"))?)
            } else {
                None
            };
            let out = gae(&token_rewards(kl), values, a.gamma, a.lambda)?;
            let advantages = whiten(&out.advantages, true, 1e-8);
            return Ok((
                Advantages::PerToken {
                    advantages,
                    returns: Some(out.returns),
                },
                stats,
            ));
        }
        _ => group_normalized(rewards, g, a.scale_rewards.unwrap_or_default(), 1e-4)?.0,
    };
    Ok((Advantages::PerSequence(per_sample), stats))
}

fn missing(what: &str) -> AdvantageError {
    AdvantageError::OutOfRange(format!(
        "the trainer did not supply the {what} this estimator needs"
    ))
}

/// The KL coefficient controller the recipe asks for.
pub fn kl_controller(a: &AlgorithmSection) -> Result<Box<dyn KlController + Send>, AdvantageError> {
    Ok(match (a.kl_target, a.kl_horizon) {
        (Some(target), Some(horizon)) => {
            Box::new(AdaptiveKlController::new(a.beta, target, horizon)?)
        }
        _ => Box::new(FixedKlController { value: a.beta }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal `[algorithm]` table plus `extra` lines; `name` defaults to grpo.
    fn section(extra: &str) -> AlgorithmSection {
        let name = if extra.contains("name = ") {
            ""
        } else {
            "name = \"grpo\"\n"
        };
        let text = format!(
            "{name}steps = 1\nprompts_per_step = 2\ngroup_size = 2\nepsilon = 0.2\nloss_aggregation = \"token_mean\"\n{extra}"
        );
        toml::from_str(&text).unwrap()
    }

    fn error(extra: &str) -> String {
        validate(&section(extra)).unwrap_err()
    }

    #[test]
    fn names_and_their_knobs_are_checked() {
        assert!(error("name = \"ppo2\"").contains("grpo, dr_grpo, dapo"));
        assert!(error("name = \"dr_grpo\"").contains("seq_mean_token_sum_norm"));
        assert!(error("name = \"dapo\"").contains("epsilon_high"));
        assert!(error("name = \"gspo\"\ndual_clip = 3.0").contains("dual_clip"));
        assert!(error("dual_clip = 0.5").contains("> 1"));
        assert!(error("gspo_token_level = true").contains("gspo"));
        assert!(error("cpgd_drift_coef = 0.1").contains("cpgd"));
        assert!(error("name = \"rloo\"\nscale_rewards = \"batch\"").contains("scale_rewards"));
        assert!(error("kl_target = 6.0").contains("kl_horizon"));
        assert!(error("kl_target = 6.0\nkl_horizon = 100").contains("beta > 0"));
        for ok in [
            "",
            "name = \"dapo\"\nepsilon_high = 0.28",
            "name = \"gspo\"\ngspo_token_level = true",
            "name = \"cpgd\"\ncpgd_drift_coef = 0.05",
            "name = \"cispo\"\nepsilon_high = 5.0",
            "name = \"rloo\"\ndual_clip = 3.0",
            "name = \"reinforce_pp\"",
            "beta = 0.1\nkl_target = 6.0\nkl_horizon = 100",
        ] {
            assert_eq!(validate(&section(ok)), Ok(()), "{ok}");
        }
    }

    #[test]
    fn names_select_loss_and_estimator() {
        let gspo = section("name = \"gspo\"\ngspo_token_level = true");
        assert_eq!(
            policy_loss(&gspo, 0.0).objective,
            Objective::Gspo { token_level: true }
        );
        assert_eq!(
            policy_loss(&section("name = \"cpgd\""), 0.0).objective,
            Objective::Cpgd {
                drift_coef: DEFAULT_CPGD_DRIFT
            }
        );
        let grpo = section("dual_clip = 3.0\nepsilon_high = 0.28");
        let loss = policy_loss(&grpo, 0.04);
        assert_eq!(
            (loss.objective, loss.eps_high, loss.beta),
            (
                Objective::PpoClip {
                    dual_clip: Some(3.0)
                },
                0.28,
                0.04
            )
        );

        let rewards = [1.0, 0.0, 0.5, 0.5];
        let lengths = [3, 2, 1, 1];
        let x = RolloutRewards {
            rewards: &rewards,
            lengths: &lengths,
            greedy_rewards: None,
            token_kl: None,
            values: None,
        };
        let per_sequence =
            |name: &str| match advantages(&section(&format!("name = \"{name}\"")), &x)
                .unwrap()
                .0
            {
                Advantages::PerSequence(a) => a,
                other => panic!("{name}: expected one advantage per completion, got {other:?}"),
            };
        let (_, stats) = advantages(&section("name = \"rloo\""), &x).unwrap();
        assert_eq!(per_sequence("rloo"), rloo(&rewards, 2).unwrap());
        assert_eq!(stats.informative_fraction, 0.5);
        assert_eq!(
            per_sequence("grpo"),
            group_normalized(&rewards, 2, AdvantageScaling::Group, 1e-4)
                .unwrap()
                .0
        );
        assert_eq!(per_sequence("bnpo"), bnpo(&rewards, 2, 0.0, 1.0).unwrap().0);
        let greedy = [0.5, 1.0];
        let with_greedy = RolloutRewards {
            greedy_rewards: Some(&greedy),
            ..x
        };
        assert_eq!(
            advantages(&section("name = \"remax\""), &with_greedy)
                .unwrap()
                .0,
            Advantages::PerSequence(remax(&rewards, &greedy, 2).unwrap())
        );
        assert!(
            advantages(&section("name = \"remax\""), &x).is_err(),
            "remax without greedy rewards"
        );
        // REINFORCE++ without KL in the reward: one whitened value per completion, constant over its tokens.
        let a = per_sequence("reinforce_pp");
        let per_token = rlxf_algos::advantage::whiten(
            &[vec![1.0; 3], vec![0.0; 2], vec![0.5], vec![0.5]],
            true,
            1e-8,
        );
        assert_eq!(a, per_token.iter().map(|r| r[0]).collect::<Vec<_>>());
    }

    #[test]
    fn ppo_runs_gae_on_the_outcome_at_the_last_token_with_kl_per_token() {
        let rewards = [1.0, 0.0];
        let lengths = [3, 2];
        let values = vec![vec![0.2, 0.4, 0.6], vec![0.1, -0.1]];
        let kl = vec![vec![0.01, 0.02, 0.03], vec![0.05, 0.0]];
        let a =
            section("name = \"ppo\"\nbeta = 0.1\nkl_in_reward = true\ngamma = 0.9\nlambda = 0.8");
        let x = RolloutRewards {
            rewards: &rewards,
            lengths: &lengths,
            greedy_rewards: None,
            token_kl: Some(&kl),
            values: Some(&values),
        };
        let Advantages::PerToken {
            advantages: adv,
            returns: Some(ret),
        } = advantages(&a, &x).unwrap().0
        else {
            panic!("ppo gives per-token advantages with returns")
        };
        let token_rewards = vec![vec![-0.001, -0.002, 1.0 - 0.003], vec![-0.005, 0.0]];
        let want = gae(&token_rewards, &values, 0.9, 0.8).unwrap();
        assert_eq!(ret, want.returns);
        assert_eq!(adv, whiten(&want.advantages, true, 1e-8));
        // The penalty is in the reward, so the loss carries none.
        assert_eq!(policy_loss(&a, 0.1).beta, 0.0);
        assert!(advantages(&a, &RolloutRewards { values: None, ..x }).is_err());
    }

    #[test]
    fn new_knobs_are_checked() {
        assert!(error("name = \"grpo\"\nkl_in_reward = true\nbeta = 0.1")
            .contains("ppo and reinforce_pp"));
        assert!(error("name = \"reinforce_pp\"\nkl_in_reward = true").contains("beta > 0"));
        assert!(error("entropy_coef = -1.0").contains("entropy_coef"));
        assert!(error("name = \"ppo\"\ndynamic_sampling = true").contains("dynamic_sampling"));
        assert!(
            error("name = \"bnpo\"\nbnpo_reward_range = [1.0, 0.0]").contains("bnpo_reward_range")
        );
        assert!(error("lambda = 1.5").contains("lambda"));
        let ppo = section("name = \"ppo\"");
        assert!(validate_critic(&ppo, None)
            .unwrap_err()
            .contains("[critic]"));
        let critic: CriticSection = toml::from_str("kind = \"value_head\"\nlr = 1e-5").unwrap();
        assert_eq!(validate_critic(&ppo, Some(&critic)), Ok(()));
        assert!(validate_critic(&section(""), Some(&critic))
            .unwrap_err()
            .contains("applies to ppo"));
        let bad: CriticSection =
            toml::from_str("kind = \"value_head\"\nlr = 1e-5\npath = \"x\"").unwrap();
        assert!(validate_critic(&ppo, Some(&bad))
            .unwrap_err()
            .contains("separate"));
        for ok in [
            "name = \"dapo\"\nepsilon_high = 0.28\ndynamic_sampling = true",
            "entropy_coef = 0.001",
            "name = \"remax\"",
            "name = \"bnpo\"",
        ] {
            assert_eq!(validate(&section(ok)), Ok(()), "{ok}");
        }
    }

    #[test]
    fn adaptive_controller_starts_at_beta() {
        let mut c =
            kl_controller(&section("beta = 0.1\nkl_target = 6.0\nkl_horizon = 100")).unwrap();
        assert_eq!(c.value(), 0.1);
        c.update(12.0, 10).unwrap();
        assert!((c.value() - 0.1 * 1.02).abs() < 1e-12);
        assert_eq!(
            kl_controller(&section("beta = 0.04")).unwrap().value(),
            0.04
        );
    }
}
