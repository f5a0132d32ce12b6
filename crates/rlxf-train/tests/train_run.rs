//! End-to-end `Trainer` runs on a tiny random model: the run folder, the metrics, determinism, and the
//! paths the default recipe does not take (KL reference, several iterations, bf16).

use rlxf_train::{TrainConfig, Trainer};

fn tiny_config(model: &std::path::Path, run: &std::path::Path, extra: &[&str]) -> TrainConfig {
    let mut overrides: Vec<String> = vec![
        format!("model.path={}", model.display()),
        format!("run_dir={}", run.display()),
        "model.threads=1".into(),
        "algorithm.steps=2".into(),
        "algorithm.prompts_per_step=2".into(),
        "algorithm.group_size=3".into(),
        "optimizer.micro_batch_size=3".into(),
        "optimizer.lr=1e-3".into(),
        "sampling.max_new_tokens=8".into(),
        "eval.held_out=4".into(),
        "eval.max_new_tokens=8".into(),
        "sampling.temperature=1.0".into(),
    ];
    overrides.extend(extra.iter().map(|s| s.to_string()));
    TrainConfig::load(None, &overrides).unwrap()
}

fn metrics(run: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The fields that must not depend on timing.
fn learning_fields(m: &serde_json::Value) -> Vec<String> {
    ["reward_mean", "loss", "grad_norm", "entropy", "kl", "completion_tokens_mean"]
        .iter()
        .map(|k| m[k].to_string())
        .collect()
}

#[test]
fn run_writes_folder_and_is_deterministic() {
    let model = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("llama", 1, model.path()).unwrap();
    let runs = tempfile::tempdir().unwrap();
    let a = runs.path().join("a");
    let summary = Trainer::new(tiny_config(model.path(), &a, &[])).unwrap().train().unwrap();
    for file in ["config.toml", "environment.json", "metrics.jsonl", "samples.jsonl", "eval_before.jsonl", "eval_after.jsonl", "summary.json"] {
        assert!(a.join(file).exists(), "{file} missing from the run folder");
    }
    assert!(a.join("final/model.safetensors").exists() && a.join("final/tokenizer.json").exists());
    let m = metrics(&a);
    assert_eq!(m.len(), 2);
    for line in &m {
        assert!(line["grad_norm"].as_f64().unwrap().is_finite());
        assert!(line["entropy"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(summary.before.problems, 4);
    let samples: Vec<serde_json::Value> =
        std::fs::read_to_string(a.join("samples.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(samples.len(), 2);
    assert!(samples[0]["best"]["reward"].as_f64().unwrap() >= samples[0]["worst"]["reward"].as_f64().unwrap());
    // The saved policy loads and differs from the start (lr 1e-3 moves it).
    let start = rlxf_model::LanguageModel::load(model.path(), tch::Device::Cpu, tch::Kind::Float).unwrap();
    let end = rlxf_model::LanguageModel::load(&a.join("final"), tch::Device::Cpu, tch::Kind::Float).unwrap();
    let name = "model.layers.0.mlp.up_proj.weight";
    assert!(!start.vs.variables()[name].allclose(&end.vs.variables()[name], 1e-6, 1e-6, false));
    // Same seed and config: the same run, bit for bit, in everything that is not a timing.
    let b = runs.path().join("b");
    Trainer::new(tiny_config(model.path(), &b, &[])).unwrap().train().unwrap();
    let (ma, mb) = (metrics(&a), metrics(&b));
    for (x, y) in ma.iter().zip(&mb) {
        assert_eq!(learning_fields(x), learning_fields(y));
    }
    // A different seed samples differently.
    let c = runs.path().join("c");
    Trainer::new(tiny_config(model.path(), &c, &["seed=5"])).unwrap().train().unwrap();
    assert_ne!(ma.iter().map(learning_fields).collect::<Vec<_>>(), metrics(&c).iter().map(learning_fields).collect::<Vec<_>>());
}

#[test]
fn kl_reference_and_multiple_iterations_run() {
    let model = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 2, model.path()).unwrap();
    // A random tiny model earns no reward, so only a reference that differs from the policy makes KL > 0.
    let reference = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 3, reference.path()).unwrap();
    let run = tempfile::tempdir().unwrap();
    let reference_path = format!("model.reference_path={}", reference.path().display());
    let config = tiny_config(
        model.path(),
        run.path(),
        &["algorithm.beta=0.1", "algorithm.num_iterations=2", "algorithm.loss_aggregation=\"seq_mean_token_mean\"", &reference_path],
    );
    Trainer::new(config).unwrap().train().unwrap();
    let m = metrics(run.path());
    for step in &m {
        assert!(step["kl"].as_f64().unwrap() > 0.0, "KL to a different reference must be > 0");
        assert!(step["grad_norm"].as_f64().unwrap() > 0.0, "the KL term must produce a gradient");
    }
}

#[test]
fn bf16_policy_trains() {
    let model = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("llama", 4, model.path()).unwrap();
    let run = tempfile::tempdir().unwrap();
    let config = tiny_config(model.path(), run.path(), &["model.dtype=bf16", "algorithm.steps=1"]);
    Trainer::new(config).unwrap().train().unwrap();
    assert!(metrics(run.path())[0]["grad_norm"].as_f64().unwrap().is_finite());
}

#[test]
#[ignore = "needs models: run scripts/fetch-models.sh (scripts/test.sh does)"]
fn smollm2_short_grpo_run() {
    let model = rlxf_model::testing::smollm_dir().unwrap();
    let run = tempfile::tempdir().unwrap();
    let overrides: Vec<String> = vec![
        format!("run_dir={}", run.path().display()),
        format!("model.path={}", model.display()),
        "model.threads=2".into(),
        "algorithm.steps=2".into(),
        "algorithm.prompts_per_step=2".into(),
        "algorithm.group_size=4".into(),
        "optimizer.micro_batch_size=4".into(),
        "sampling.max_new_tokens=32".into(),
        "eval.held_out=8".into(),
        "eval.max_new_tokens=32".into(),
    ];
    let summary = Trainer::new(TrainConfig::load(None, &overrides).unwrap()).unwrap().train().unwrap();
    assert_eq!(summary.after.problems, 8);
    let m = metrics(run.path());
    assert_eq!(m.len(), 2);
    assert!(m.iter().all(|s| s["completion_tokens_mean"].as_f64().unwrap() > 0.0));
    let saved = rlxf_model::LanguageModel::load(&run.path().join("final"), tch::Device::Cpu, tch::Kind::Float).unwrap();
    assert_eq!(saved.config.vocab_size, 49152);
}
