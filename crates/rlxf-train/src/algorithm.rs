//! The recipe's `algorithm.name` turned into an advantage estimator and a policy loss, with the
//! checks that keep each algorithm's knobs consistent. Formulas and papers: docs/ALGORITHMS.md.

use rlxf_algos::advantage::{dr_grpo, reinforce_pp_baseline, rloo};
use rlxf_algos::{
    group_normalized, AdaptiveKlController, AdvantageError, AdvantageScaling, FixedKlController,
    GroupStats, KlController,
};

use crate::config::AlgorithmSection;
use crate::policy_loss::{LossAggregation, Objective, PolicyLoss};

/// The algorithms `algorithm.name` accepts.
pub const ALGORITHMS: [&str; 9] = [
    "grpo",
    "dr_grpo",
    "dapo",
    "gspo",
    "cispo",
    "cpgd",
    "rloo",
    "reinforce_pp",
    "reinforce_pp_baseline",
];

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
        "grpo" | "dr_grpo" | "dapo" | "rloo" | "reinforce_pp" | "reinforce_pp_baseline"
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
        beta,
        kl_estimator: a.kl_estimator,
        // The trainer's forward computes entropy without gradient; the bonus is library-only for now.
        entropy_coef: 0.0,
        aggregation: a.loss_aggregation,
    }
}

/// One advantage per completion (in group order) and the batch's group statistics.
/// `lengths` are completion token counts (REINFORCE++ whitens over tokens).
pub fn advantages(
    a: &AlgorithmSection,
    rewards: &[f64],
    lengths: &[usize],
) -> Result<(Vec<f64>, GroupStats), AdvantageError> {
    let (_, stats) = group_normalized(rewards, a.group_size, AdvantageScaling::None, 0.0)?;
    let per_sample = match a.name.as_str() {
        "dr_grpo" => dr_grpo(rewards, a.group_size)?,
        "rloo" => rloo(rewards, a.group_size)?,
        // Without KL in the reward (beta acts in the loss) every token of a completion has the same
        // return, so the token-level advantage is one value per completion.
        "reinforce_pp" | "reinforce_pp_baseline" => {
            let per_token = if a.name == "reinforce_pp" {
                let no_kl: Vec<Vec<f64>> = lengths.iter().map(|&n| vec![0.0; n]).collect();
                rlxf_algos::advantage::reinforce_pp(
                    &rlxf_algos::advantage::TokenRewards {
                        outcome: rewards,
                        token_kl: &no_kl,
                        kl_coef: 0.0,
                        gamma: 1.0,
                    },
                    1e-8,
                )?
            } else {
                reinforce_pp_baseline(rewards, lengths, a.group_size, 1e-8)?
            };
            per_token.iter().map(|row| row[0]).collect()
        }
        _ => {
            group_normalized(
                rewards,
                a.group_size,
                a.scale_rewards.unwrap_or_default(),
                1e-4,
            )?
            .0
        }
    };
    Ok((per_sample, stats))
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
        let (a, stats) = advantages(&section("name = \"rloo\""), &rewards, &[3, 2, 1, 1]).unwrap();
        assert_eq!(a, rloo(&rewards, 2).unwrap());
        assert_eq!(stats.informative_fraction, 0.5);
        let (a, _) = advantages(&section(""), &rewards, &[3, 2, 1, 1]).unwrap();
        assert_eq!(
            a,
            group_normalized(&rewards, 2, AdvantageScaling::Group, 1e-4)
                .unwrap()
                .0
        );
        // REINFORCE++ without KL in the reward: one whitened value per completion, constant over its tokens.
        let (a, _) =
            advantages(&section("name = \"reinforce_pp\""), &rewards, &[3, 2, 1, 1]).unwrap();
        let per_token = rlxf_algos::advantage::whiten(
            &[vec![1.0; 3], vec![0.0; 2], vec![0.5], vec![0.5]],
            true,
            1e-8,
        );
        assert_eq!(a, per_token.iter().map(|r| r[0]).collect::<Vec<_>>());
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
