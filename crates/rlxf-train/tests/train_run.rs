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
    [
        "reward_mean",
        "loss",
        "grad_norm",
        "entropy",
        "kl",
        "completion_tokens_mean",
        "value_loss",
        "sampling_rounds",
        "trained_groups",
    ]
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
    let summary = Trainer::new(tiny_config(model.path(), &a, &[]))
        .unwrap()
        .train()
        .unwrap();
    for file in [
        "config.toml",
        "environment.json",
        "metrics.jsonl",
        "samples.jsonl",
        "eval_before.jsonl",
        "eval_after.jsonl",
        "summary.json",
    ] {
        assert!(a.join(file).exists(), "{file} missing from the run folder");
    }
    assert!(a.join("final/model.safetensors").exists() && a.join("final/tokenizer.json").exists());
    let m = metrics(&a);
    assert_eq!(m.len(), 2);
    for line in &m {
        assert!(line["grad_norm"].as_f64().unwrap().is_finite());
        assert!(line["entropy"].as_f64().unwrap() > 0.0);
        // In f32 the sampler's log-probs (decoding kernels, KV cache) and the trainer's (one full
        // forward) are the same numbers up to float rounding.
        let (gap_mean, gap_max) = (
            line["sampler_logprob_gap_mean"].as_f64().unwrap(),
            line["sampler_logprob_gap_max"].as_f64().unwrap(),
        );
        assert!(gap_mean < 1e-4 && gap_max < 1e-3, "sampler/trainer gap {gap_mean} (max {gap_max})");
    }
    assert_eq!(summary.before.problems, 4);
    // TensorBoard scalars are written as the steps go, not only at the end.
    let live: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| rlxf_report::tensorboard::is_live_event_file(p))
        .collect();
    assert_eq!(live.len(), 1, "one live event file: {live:?}");
    let events = rlxf_report::tensorboard::read_event_file(&live[0]).unwrap();
    let loss_steps: Vec<i64> = events
        .iter()
        .filter(|e| match &e.content {
            rlxf_report::tensorboard::EventContent::Scalars(values) => {
                values.iter().any(|(tag, _)| *tag == rlxf_report::tensorboard::tag_for("loss"))
            }
            _ => false,
        })
        .map(|e| e.step)
        .collect();
    assert_eq!(loss_steps, vec![1, 2], "one loss scalar per step");
    let samples: Vec<serde_json::Value> = std::fs::read_to_string(a.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(samples.len(), 2);
    assert!(
        samples[0]["best"]["reward"].as_f64().unwrap()
            >= samples[0]["worst"]["reward"].as_f64().unwrap()
    );
    // The saved policy loads and differs from the start (lr 1e-3 moves it).
    let start =
        rlxf_model::LanguageModel::load(model.path(), tch::Device::Cpu, tch::Kind::Float).unwrap();
    let end = rlxf_model::LanguageModel::load(&a.join("final"), tch::Device::Cpu, tch::Kind::Float)
        .unwrap();
    let name = "model.layers.0.mlp.up_proj.weight";
    assert!(!start.vs.variables()[name].allclose(&end.vs.variables()[name], 1e-6, 1e-6, false));
    // Same seed and config: the same run, bit for bit, in everything that is not a timing.
    let b = runs.path().join("b");
    Trainer::new(tiny_config(model.path(), &b, &[]))
        .unwrap()
        .train()
        .unwrap();
    let (ma, mb) = (metrics(&a), metrics(&b));
    for (x, y) in ma.iter().zip(&mb) {
        assert_eq!(learning_fields(x), learning_fields(y));
    }
    // A different seed samples differently.
    let c = runs.path().join("c");
    Trainer::new(tiny_config(model.path(), &c, &["seed=5"]))
        .unwrap()
        .train()
        .unwrap();
    assert_ne!(
        ma.iter().map(learning_fields).collect::<Vec<_>>(),
        metrics(&c).iter().map(learning_fields).collect::<Vec<_>>()
    );
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
        &[
            "algorithm.beta=0.1",
            "algorithm.num_iterations=2",
            "algorithm.loss_aggregation=\"seq_mean_token_mean\"",
            &reference_path,
        ],
    );
    Trainer::new(config).unwrap().train().unwrap();
    let m = metrics(run.path());
    for step in &m {
        assert!(
            step["kl"].as_f64().unwrap() > 0.0,
            "KL to a different reference must be > 0"
        );
        assert!(
            step["grad_norm"].as_f64().unwrap() > 0.0,
            "the KL term must produce a gradient"
        );
    }
}

/// `model.gradient_checkpointing` recomputes the layers in the backward: the same run, step for
/// step, as keeping their activations (PPO with a value head on the policy trunk, so the value
/// loss's gradient crosses the recomputed layers too).
#[test]
fn gradient_checkpointing_run_equals_the_plain_one() {
    let model = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("llama", 5, model.path()).unwrap();
    let runs = tempfile::tempdir().unwrap();
    let ppo = ["algorithm.name=ppo", "critic.kind=value_head", "critic.lr=1e-3", "algorithm.entropy_coef=0.001"];
    let mut fields = Vec::new();
    for (name, checkpointing) in [("plain", "false"), ("checkpointed", "true")] {
        let run = runs.path().join(name);
        let setting = format!("model.gradient_checkpointing={checkpointing}");
        let extra: Vec<&str> = ppo.iter().copied().chain([setting.as_str()]).collect();
        Trainer::new(tiny_config(model.path(), &run, &extra)).unwrap().train().unwrap();
        fields.push(metrics(&run).iter().map(|m| {
            ["reward_mean", "loss", "grad_norm", "value_loss", "completion_tokens_mean"].map(|k| m[k].as_f64().unwrap())
        }).collect::<Vec<_>>());
    }
    assert_eq!(fields[0].len(), 2);
    for (plain, checkpointed) in fields[0].iter().zip(&fields[1]) {
        for (a, b) in plain.iter().zip(checkpointed) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1e-3), "plain {plain:?} vs checkpointed {checkpointed:?}");
        }
    }
}

#[test]
fn bf16_policy_trains() {
    let model = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("llama", 4, model.path()).unwrap();
    let run = tempfile::tempdir().unwrap();
    let config = tiny_config(
        model.path(),
        run.path(),
        &["model.dtype=bf16", "algorithm.steps=1"],
    );
    Trainer::new(config).unwrap().train().unwrap();
    assert!(metrics(run.path())[0]["grad_norm"]
        .as_f64()
        .unwrap()
        .is_finite());
}

/// Mixed precision keeps f32 parameters, so an update far below bf16's rounding step (lr 1e-6 on
/// weights of ~0.02, whose bf16 step is ~1e-4) still lands; pure bf16 weights lose it entirely.
#[test]
fn bf16_autocast_keeps_updates_that_bf16_weights_lose() {
    let model = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 4, model.path()).unwrap();
    // A random tiny model earns no reward; the KL term to another model gives every weight a gradient.
    let reference = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 5, reference.path()).unwrap();
    let reference_path = format!("model.reference_path={}", reference.path().display());
    let runs = tempfile::tempdir().unwrap();
    let changed_fraction = |name: &str, extra: &[&str]| {
        let run = runs.path().join(name);
        let mut all = vec!["algorithm.steps=1", "optimizer.lr=1e-6", "model.save_dtype=\"f32\"", "algorithm.beta=0.1", &reference_path];
        all.extend_from_slice(extra);
        Trainer::new(tiny_config(model.path(), &run, &all)).unwrap().train().unwrap();
        let environment: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("environment.json")).unwrap()).unwrap();
        assert_eq!(environment["dtype"], extra[0].trim_start_matches("model.dtype=").trim_matches('"'));
        let load = |dir: &std::path::Path| {
            rlxf_model::LanguageModel::load(dir, tch::Device::Cpu, tch::Kind::Float).unwrap()
        };
        let (before, after) = (load(model.path()), load(&run.join("final")));
        let w = |m: &rlxf_model::LanguageModel| m.vs.variables()["model.layers.0.mlp.up_proj.weight"].shallow_clone();
        // Compare against the start as the run's dtype holds it (bf16 rounds the start itself).
        let start = w(&before).to_kind(after.kind());
        let start = if extra[0].contains("bf16") { start.to_kind(tch::Kind::BFloat16).to_kind(tch::Kind::Float) } else { start };
        w(&after).ne_tensor(&start).to_kind(tch::Kind::Float).mean(tch::Kind::Float).double_value(&[])
    };
    let mixed = changed_fraction("mixed", &["model.dtype=\"f32\"", "model.autocast=\"bf16\""]);
    let pure = changed_fraction("pure", &["model.dtype=\"bf16\""]);
    eprintln!("weights moved by one update: {mixed:.3} under autocast, {pure:.3} with bf16 weights");
    assert!(mixed > 0.5, "under autocast {mixed} of the weights moved");
    assert!(pure < 0.05, "with bf16 weights {pure} of the weights moved");
}

/// Autocast leaves runs deterministic and exactly resumable.
#[test]
fn resumed_bf16_autocast_run_equals_uninterrupted_one() {
    resumed_equals_uninterrupted(&["model.autocast=\"bf16\""]);
}

/// Stochastic rounding of the forward's weights draws from (seed, step, tensor), so a resumed run
/// draws what the uninterrupted one did.
#[test]
fn resumed_stochastic_rounding_run_equals_uninterrupted_one() {
    resumed_equals_uninterrupted(&["model.autocast=\"bf16\"", "model.autocast_rounding=\"stochastic\""]);
}

/// A bf16 checkpoint under stochastic rounding: after an update the policy's product weights are
/// still bf16 values (autocast's casts are exact), the f32 masters hold the exact update, and weights
/// moved that round-to-nearest of the masters would have left at the start.
#[test]
fn stochastic_rounding_moves_bf16_weights_by_small_updates() {
    let load = |dir: &std::path::Path| rlxf_model::LanguageModel::load(dir, tch::Device::Cpu, tch::Kind::Float).unwrap();
    let random = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 4, random.path()).unwrap();
    let model = tempfile::tempdir().unwrap();
    load(random.path()).save(model.path(), tch::Kind::BFloat16).unwrap();
    let reference = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 5, reference.path()).unwrap();
    let run = tempfile::tempdir().unwrap();
    let reference_path = format!("model.reference_path={}", reference.path().display());
    // Two steps, so the first ends in a checkpoint (weights and the optimizer's masters).
    let extra = [
        "algorithm.steps=2",
        "optimizer.lr=1e-5",
        "algorithm.beta=0.1",
        &reference_path,
        "model.autocast=\"bf16\"",
        "model.autocast_rounding=\"stochastic\"",
        "checkpoint.every=1",
    ];
    Trainer::new(tiny_config(model.path(), run.path(), &extra)).unwrap().train().unwrap();
    let name = "model.layers.0.mlp.up_proj.weight";
    let start = load(model.path()).vs.variables()[name].shallow_clone();
    let checkpoint = run.path().join("checkpoints/step-000001");
    let end = load(&checkpoint.join("policy")).vs.variables()[name].shallow_clone();
    let optimizer = checkpoint.join("optimizer.safetensors");
    let master = tch::Tensor::read_safetensors(&optimizer)
        .unwrap()
        .into_iter()
        .find(|(n, _)| n == &format!("master.{name}"))
        .expect("the checkpoint holds the master")
        .1;
    let to_grid = |t: &tch::Tensor| t.to_kind(tch::Kind::BFloat16).to_kind(tch::Kind::Float);
    let share = |t: tch::Tensor| t.to_kind(tch::Kind::Float).mean(tch::Kind::Float).double_value(&[]);
    assert!(end.equal(&to_grid(&end)), "the forward's weights are bf16 values");
    assert!(share(master.ne_tensor(&start)) > 0.9, "the masters take every update");
    let nearest_stayed = to_grid(&master).eq_tensor(&start);
    let moved_anyway = share(end.ne_tensor(&start).logical_and(&nearest_stayed));
    assert!(moved_anyway > 0.01, "only {moved_anyway} of the weights moved below half a bf16 step");
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
    let summary = Trainer::new(TrainConfig::load(None, &overrides).unwrap())
        .unwrap()
        .train()
        .unwrap();
    assert_eq!(summary.after.problems, 8);
    let m = metrics(run.path());
    assert_eq!(m.len(), 2);
    assert!(m
        .iter()
        .all(|s| s["completion_tokens_mean"].as_f64().unwrap() > 0.0));
    let saved = rlxf_model::LanguageModel::load(
        &run.path().join("final"),
        tch::Device::Cpu,
        tch::Kind::Float,
    )
    .unwrap();
    assert_eq!(saved.config.vocab_size, 49152);
}

/// A run stopped after step 1 and resumed from its checkpoint gives the uninterrupted run's metrics
/// and final weights, bit for bit.
#[test]
fn interrupted_and_resumed_run_equals_uninterrupted_run() {
    resumed_equals_uninterrupted(&[]);
}

/// The critic's head, trunk and optimizers, and the data cursor that dynamic sampling advances by
/// a varying amount, all come back from the checkpoint.
#[test]
fn resumed_ppo_and_dynamic_sampling_runs_equal_uninterrupted_ones() {
    resumed_equals_uninterrupted(&["algorithm.name=\"ppo\"", "critic.kind=\"separate\"", "critic.lr=1e-3", "algorithm.beta=0.05"]);
    resumed_equals_uninterrupted(&["algorithm.dynamic_sampling=true", "algorithm.max_sampling_rounds=2"]);
}

fn resumed_equals_uninterrupted(algorithm: &[&str]) {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let model = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 6, model.path()).unwrap();
    let runs = tempfile::tempdir().unwrap();
    // Weight decay and warm-up make the optimizer state and the step count matter after resuming.
    let mut extra = vec![
        "algorithm.steps=3",
        "optimizer.weight_decay=0.1",
        "optimizer.warmup_steps=2",
        "model.save_dtype=\"f32\"",
    ];
    extra.extend_from_slice(algorithm);
    let whole = runs.path().join("whole");
    Trainer::new(tiny_config(model.path(), &whole, &extra))
        .unwrap()
        .train()
        .unwrap();

    let split = runs.path().join("split");
    let stop = Arc::new(AtomicBool::new(true));
    let err = Trainer::new(tiny_config(model.path(), &split, &extra))
        .unwrap()
        .with_stop_flag(stop)
        .train()
        .unwrap_err();
    match err {
        rlxf_train::TrainError::Interrupted {
            step,
            ref checkpoint,
            ..
        } => {
            assert_eq!(step, 1);
            assert!(checkpoint.join("policy/model.safetensors").exists());
            assert!(checkpoint.join("optimizer.safetensors").exists());
        }
        other => panic!("expected an interruption, got {other}"),
    }
    assert_eq!(metrics(&split).len(), 1);
    let summary = Trainer::resume(&split, &[]).unwrap().train().unwrap();
    assert_eq!(summary.steps, 3);
    let (a, b) = (metrics(&whole), metrics(&split));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(learning_fields(x), learning_fields(y), "step {}", x["step"]);
        assert_eq!(x["lr"], y["lr"]);
    }
    let load = |dir: &std::path::Path| {
        rlxf_model::LanguageModel::load(&dir.join("final"), tch::Device::Cpu, tch::Kind::Float)
            .unwrap()
    };
    let (wa, wb) = (load(&whole), load(&split));
    for (name, t) in wa.vs.variables() {
        assert!(
            t.equal(&wb.vs.variables()[&name]),
            "{name} differs after resume"
        );
    }
    let samples =
        |dir: &std::path::Path| std::fs::read_to_string(dir.join("samples.jsonl")).unwrap();
    assert_eq!(
        samples(&whole),
        samples(&split),
        "sampled completions must match too"
    );
}

#[test]
fn resume_without_checkpoint_is_a_clear_error() {
    let model = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("llama", 7, model.path()).unwrap();
    let run = tempfile::tempdir().unwrap();
    Trainer::new(tiny_config(
        model.path(),
        run.path(),
        &["algorithm.steps=1"],
    ))
    .unwrap()
    .train()
    .unwrap();
    let err = Trainer::resume(run.path(), &[])
        .err()
        .expect("no checkpoint to resume from")
        .to_string();
    assert!(err.contains("no intact checkpoint"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = Trainer::resume(empty.path(), &[])
        .err()
        .expect("not a run folder")
        .to_string();
    assert!(err.contains("not an rlxf run folder"), "{err}");
}
