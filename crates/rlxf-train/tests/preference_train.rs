//! Offline preference training end to end on a tiny random model: DPO lowers its loss on a fixed pair
//! set and writes a complete run folder, a resumed run continues exactly, the other objectives run,
//! and bad recipes fail with one-line messages.

use std::path::Path;

use rlxf_train::preference::PreferenceTrainer;
use rlxf_train::TrainConfig;

/// Pairs whose chosen completion is the sum and rejected a wrong number.
fn write_pairs(path: &Path, n: usize) {
    let lines: Vec<String> = (0..n)
        .map(|i| {
            serde_json::json!({"id": format!("p{i}"), "prompt": format!("What is {i}+{}?", i % 7), "chosen": format!("{}", i + i % 7), "rejected": format!("{}!", 3 * i + 11)})
                .to_string()
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn write_kto(path: &Path, n: usize) {
    let lines: Vec<String> = (0..n)
        .map(|i| serde_json::json!({"prompt": format!("What is {i}+2?"), "completion": format!("{}", i + 2 + (i % 2) * 5), "label": i % 2 == 0}).to_string())
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn config(
    model: &Path,
    run: &Path,
    data: &Path,
    algorithm: &str,
    extra: &[&str],
) -> Result<TrainConfig, String> {
    let mut overrides: Vec<String> = vec![
        format!("model.path={}", model.display()),
        format!("run_dir={}", run.display()),
        "model.threads=1".into(),
        format!("algorithm.name=\"{algorithm}\""),
        format!("preference.data={}", data.display()),
        "preference.held_out_fraction=0.0".into(),
        "preference.epochs=4".into(),
        "preference.batch_pairs=8".into(),
        "preference.micro_batch_pairs=3".into(),
        "optimizer.lr=1e-3".into(),
        "eval.held_out=3".into(),
        "eval.max_new_tokens=4".into(),
        "checkpoint.every=0".into(),
    ];
    overrides.extend(extra.iter().map(|s| s.to_string()));
    TrainConfig::load(None, &overrides).map_err(|e| e.to_string())
}

fn metrics(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn tiny(arch: &str, seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model(arch, seed, dir.path()).unwrap();
    dir
}

#[test]
fn dpo_lowers_its_loss_and_writes_the_run_folder() {
    let model = tiny("llama", 11);
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("pairs.jsonl");
    write_pairs(&data, 8);
    let run = work.path().join("run");
    // One batch holds every pair, so each step sees the same 8 pairs.
    let summary = PreferenceTrainer::new(config(model.path(), &run, &data, "dpo", &[]).unwrap())
        .unwrap()
        .train()
        .unwrap();
    let m = metrics(&run);
    assert_eq!(m.len(), 4);
    let losses: Vec<f64> = m.iter().map(|l| l["loss"].as_f64().unwrap()).collect();
    // Policy = reference at the start: DPO's loss is exactly log 2.
    assert!(
        (losses[0] - std::f64::consts::LN_2).abs() < 1e-5,
        "{losses:?}"
    );
    assert!(
        losses[3] < losses[0] - 0.01,
        "loss must decrease on a fixed pair set: {losses:?}"
    );
    assert!(m[3]["margin_mean"].as_f64().unwrap() > 0.0);
    assert!(m[3]["reward_accuracy"].as_f64().unwrap() > 0.5);
    for line in &m {
        for key in ["grad_norm", "lr", "chosen_reward", "rejected_reward"] {
            assert!(line[key].as_f64().unwrap().is_finite(), "{key}");
        }
    }
    for file in [
        "config.toml",
        "environment.json",
        "metrics.jsonl",
        "summary.json",
        "pairs_before.json",
        "eval_before.jsonl",
        "eval_after.jsonl",
        "final/model.safetensors",
        "final/tokenizer.json",
    ] {
        assert!(
            run.join(file).exists(),
            "{file} missing from the run folder"
        );
    }
    assert_eq!(
        (summary.train_items, summary.held_out_items, summary.steps),
        (8, 0, 4)
    );
    assert_eq!(summary.task_before.as_ref().unwrap().problems, 3);
}

fn learning_fields(m: &serde_json::Value) -> Vec<String> {
    [
        "loss",
        "grad_norm",
        "margin_mean",
        "chosen_reward",
        "rejected_reward",
        "reward_accuracy",
    ]
    .iter()
    .map(|k| m[k].to_string())
    .collect()
}

#[test]
fn resumed_run_continues_exactly() {
    resumed_run_continues_exactly_with(&[]);
}

/// Stochastic rounding of the policy's weights (bf16 autocast) keeps f32 masters in the optimizer
/// state and draws by (seed, step): a resumed run continues exactly too.
#[test]
fn resumed_stochastic_rounding_run_continues_exactly() {
    resumed_run_continues_exactly_with(&["model.autocast=\"bf16\"", "model.autocast_rounding=\"stochastic\""]);
}

fn resumed_run_continues_exactly_with(precision: &[&str]) {
    let model = tiny("qwen2", 12);
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("pairs.jsonl");
    write_pairs(&data, 10);
    // Batches of 4 over 10 pairs: 3 steps per epoch, the last one short; the order reshuffles per epoch.
    let batch: Vec<&str> = ["preference.batch_pairs=4", "preference.micro_batch_pairs=2"].into_iter().chain(precision.iter().copied()).collect();
    let whole = work.path().join("whole");
    let mut extra = batch.to_vec();
    extra.push("preference.epochs=2");
    PreferenceTrainer::new(config(model.path(), &whole, &data, "ipo", &extra).unwrap())
        .unwrap()
        .train()
        .unwrap();
    let cut = work.path().join("cut");
    let mut first = batch.to_vec();
    first.extend(["preference.epochs=1", "checkpoint.every=2"]);
    PreferenceTrainer::new(config(model.path(), &cut, &data, "ipo", &first).unwrap())
        .unwrap()
        .train()
        .unwrap();
    assert!(cut
        .join("checkpoints/step-000002/policy/model.safetensors")
        .exists());
    PreferenceTrainer::resume(&cut, &["preference.epochs=2".into()])
        .unwrap()
        .train()
        .unwrap();
    let (a, b) = (metrics(&whole), metrics(&cut));
    assert_eq!(a.len(), 6);
    assert_eq!(b.len(), 6, "steps 1-2, then 3-6 after the resume");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(learning_fields(x), learning_fields(y), "step {}", x["step"]);
    }
}

#[test]
fn simpo_and_kto_train() {
    let model = tiny("llama", 13);
    let work = tempfile::tempdir().unwrap();
    let pairs = work.path().join("pairs.jsonl");
    write_pairs(&pairs, 6);
    let run = work.path().join("simpo");
    PreferenceTrainer::new(
        config(
            model.path(),
            &run,
            &pairs,
            "simpo",
            &["preference.epochs=3", "eval.held_out=0"],
        )
        .unwrap(),
    )
    .unwrap()
    .train()
    .unwrap();
    let m = metrics(&run);
    let losses: Vec<f64> = m.iter().map(|l| l["loss"].as_f64().unwrap()).collect();
    assert!(losses[2] < losses[0], "{losses:?}");
    assert!(
        !run.join("eval_before.jsonl").exists(),
        "eval.held_out = 0 skips the task evaluation"
    );
    let kto = work.path().join("kto.jsonl");
    write_kto(&kto, 8);
    let run = work.path().join("kto");
    let summary = PreferenceTrainer::new(
        config(
            model.path(),
            &run,
            &kto,
            "kto",
            &["preference.held_out_fraction=0.3"],
        )
        .unwrap(),
    )
    .unwrap()
    .train()
    .unwrap();
    let m = metrics(&run);
    assert!(m
        .iter()
        .all(|l| l["kl_reference_point"].as_f64().unwrap() >= 0.0
            && l["loss"].as_f64().unwrap().is_finite()));
    assert_eq!(summary.train_items + summary.held_out_items, 8);
    assert!(summary.held_out_items > 0);
    assert!(summary.pairs_before.policy_accuracy.is_none());
}

#[test]
fn bad_recipes_and_data_fail_with_one_line() {
    let model = tiny("llama", 14);
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("pairs.jsonl");
    let run = work.path().join("run");
    // No [preference] section for dpo.
    let err = TrainConfig::load(
        None,
        &[
            format!("model.path={}", model.path().display()),
            "algorithm.name=\"dpo\"".into(),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("add a [preference] section"), "{err}");
    // [preference] on an online algorithm.
    let err = config(
        model.path(),
        &run,
        &data,
        "grpo",
        &[
            "algorithm.steps=1",
            "algorithm.prompts_per_step=1",
            "algorithm.group_size=2",
            "optimizer.micro_batch_size=2",
        ],
    )
    .unwrap_err();
    assert!(
        err.contains("[preference] applies to the offline objectives"),
        "{err}"
    );
    let err = config(
        model.path(),
        &run,
        &data,
        "dpo",
        &["preference.label_smoothing=0.6"],
    )
    .unwrap_err();
    assert!(err.contains("label_smoothing"), "{err}");
    let err = config(
        model.path(),
        &run,
        &data,
        "ipo",
        &["preference.label_smoothing=0.1"],
    )
    .unwrap_err();
    assert!(err.contains("applies to dpo"), "{err}");
    // Missing file.
    let err = PreferenceTrainer::new(config(model.path(), &run, &data, "dpo", &[]).unwrap())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("preference.data") && err.contains("pairs.jsonl") && !err.contains('\n'),
        "{err}"
    );
    // Empty file, and a file of bad lines.
    std::fs::write(&data, "").unwrap();
    let err = PreferenceTrainer::new(config(model.path(), &run, &data, "dpo", &[]).unwrap())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("no usable {prompt, chosen, rejected} pairs") && !err.contains('\n'),
        "{err}"
    );
    std::fs::write(&data, "{\"prompt\": \"p\", \"chosen\": \"a\"}\n").unwrap();
    let err = PreferenceTrainer::new(config(model.path(), &run, &data, "dpo", &[]).unwrap())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("1 lines skipped") && err.contains("missing field `rejected`"),
        "{err}"
    );
    // Everything held out.
    write_pairs(&data, 3);
    let err = PreferenceTrainer::new(
        config(
            model.path(),
            &run,
            &data,
            "dpo",
            &["preference.held_out_fraction=0.999999"],
        )
        .unwrap(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("held-out split"), "{err}");
}
