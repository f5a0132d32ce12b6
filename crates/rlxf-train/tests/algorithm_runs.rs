//! Every `algorithm.name` (and the critic kinds, KL in the reward, the entropy bonus) trains end to end on a tiny random model with a KL reference: the recipe
//! validates, the estimator and loss run, and the KL term reaches the parameters. (A random tiny model
//! earns no reward, so the gradient here comes from the KL term; the losses' own values and gradients
//! are checked against PyTorch in loss_reference.rs.)

use rlxf_train::{TrainConfig, Trainer};

#[test]
fn every_algorithm_trains() {
    let model = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 2, model.path()).unwrap();
    let reference = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 3, reference.path()).unwrap();
    let cases: [&[&str]; 15] = [
        &[
            "algorithm.name=grpo",
            "algorithm.dual_clip=3.0",
            "algorithm.kl_estimator=k1",
        ],
        &[
            "algorithm.name=dr_grpo",
            "algorithm.loss_aggregation=seq_mean_token_sum_norm",
        ],
        &[
            "algorithm.name=dapo",
            "algorithm.epsilon_high=0.28",
            "algorithm.mask_truncated=true",
        ],
        &[
            "algorithm.name=gspo",
            "algorithm.gspo_token_level=true",
            "algorithm.loss_aggregation=seq_mean_token_mean",
        ],
        &["algorithm.name=cispo", "algorithm.epsilon_high=5.0"],
        &["algorithm.name=cpgd", "algorithm.cpgd_drift_coef=0.1"],
        &["algorithm.name=rloo", "algorithm.kl_estimator=k2"],
        &[
            "algorithm.name=reinforce_pp",
            "algorithm.kl_target=0.01",
            "algorithm.kl_horizon=100",
        ],
        &[
            "algorithm.name=reinforce_pp_baseline",
            "algorithm.loss_aggregation=seq_mean_token_sum",
        ],
        &[
            "algorithm.name=reinforce_pp",
            "algorithm.kl_in_reward=true",
            "algorithm.kl_estimator=k2",
        ],
        &["algorithm.name=remax"],
        &["algorithm.name=bnpo"],
        &["algorithm.name=grpo", "algorithm.entropy_coef=0.01"],
        &[
            "algorithm.name=ppo",
            "critic.kind=value_head",
            "critic.lr=1e-3",
            "algorithm.entropy_coef=0.001",
        ],
        &[
            "algorithm.name=ppo",
            "critic.kind=separate",
            "critic.lr=1e-3",
            "algorithm.kl_in_reward=true",
            "algorithm.group_size=1",
            "optimizer.micro_batch_size=2",
        ],
    ];
    for extra in cases {
        let run = tempfile::tempdir().unwrap();
        let mut overrides: Vec<String> = vec![
            format!("model.path={}", model.path().display()),
            format!("model.reference_path={}", reference.path().display()),
            format!("run_dir={}", run.path().display()),
            "model.threads=1".into(),
            "algorithm.steps=2".into(),
            "algorithm.prompts_per_step=2".into(),
            "algorithm.group_size=3".into(),
            "algorithm.beta=0.1".into(),
            "optimizer.micro_batch_size=3".into(),
            "optimizer.lr=1e-3".into(),
            "sampling.max_new_tokens=8".into(),
            "sampling.temperature=1.0".into(),
            "eval.held_out=2".into(),
            "eval.max_new_tokens=4".into(),
        ];
        overrides.extend(extra.iter().map(|s| s.to_string()));
        let config =
            TrainConfig::load(None, &overrides).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        Trainer::new(config)
            .unwrap()
            .train()
            .unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        let text = std::fs::read_to_string(run.path().join("metrics.jsonl")).unwrap();
        for line in text.lines() {
            let m: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(m["loss"].as_f64().unwrap().is_finite(), "{extra:?}: loss");
            // With every completion truncated at 8 tokens, DAPO's mask leaves nothing to learn from.
            let all_truncated = m["truncated_fraction"].as_f64() == Some(1.0);
            if extra.iter().any(|e| e.starts_with("algorithm.name=ppo")) {
                assert!(
                    m["value_loss"].as_f64().unwrap() > 0.0,
                    "{extra:?}: the critic must be trained"
                );
            }
            if extra.contains(&"algorithm.name=remax") {
                assert!(
                    m["greedy_reward_mean"].as_f64().is_some(),
                    "{extra:?}: remax reports its baseline"
                );
            }
            if !(extra.contains(&"algorithm.mask_truncated=true") && all_truncated) {
                // k1 can be negative; k2 and k3 are positive for a different reference.
                assert!(
                    m["kl"].as_f64().unwrap() != 0.0,
                    "{extra:?}: KL to a different reference must not be 0"
                );
                assert!(
                    m["grad_norm"].as_f64().unwrap() > 0.0,
                    "{extra:?}: the loss must reach the parameters"
                );
            }
        }
    }
}
