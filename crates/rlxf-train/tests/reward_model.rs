//! Reward models: save -> load gives the same scores, the `reward_model` reward kind equals a direct
//! trunk + head forward, transformers' AutoModelForSequenceClassification reads the saved folder to
//! 1e-4, and reward-model training raises ranking accuracy on a learnable pair set.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use rlxf_model::RewardModel;
use rlxf_rewards::{Reward, RewardSpec, ScoreInput};
use rlxf_train::preference::PreferenceTrainer;
use rlxf_train::TrainConfig;
use tch::{Device, Kind};

fn sequences() -> Vec<Vec<u32>> {
    vec![
        vec![5, 9, 40, 41, 42, 7],
        vec![100, 3],
        vec![12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22],
        vec![256, 8, 1],
    ]
}

fn scores(model: &RewardModel, seqs: &[Vec<u32>]) -> Vec<f64> {
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let t = tch::no_grad(|| model.score(&refs, 0));
    Vec::<f64>::try_from(&t.to_kind(Kind::Double)).unwrap()
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

#[test]
fn save_load_round_trip_and_batched_scores_match_single_ones() {
    for (arch, seed) in [("llama", 21), ("qwen2", 22)] {
        let lm = tempfile::tempdir().unwrap();
        rlxf_model::testing::tiny_model(arch, seed, lm.path()).unwrap();
        let model = RewardModel::from_causal_lm(lm.path(), Device::Cpu, Kind::Float, 0).unwrap();
        let before = scores(&model, &sequences());
        // Left-padding in a batch does not change a sequence's score.
        for (i, s) in sequences().iter().enumerate() {
            assert!((scores(&model, std::slice::from_ref(s))[0] - before[i]).abs() < 1e-5);
        }
        let out = tempfile::tempdir().unwrap();
        model.save(out.path(), Kind::Float, 0).unwrap();
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
                .unwrap();
        let class = if arch == "llama" {
            "LlamaForSequenceClassification"
        } else {
            "Qwen2ForSequenceClassification"
        };
        assert_eq!(config["architectures"][0], class);
        assert_eq!(config["num_labels"], 1);
        assert!(out.path().join("tokenizer.json").exists());
        let back = RewardModel::load(out.path(), Device::Cpu, Kind::Float).unwrap();
        assert!(
            back.trunk
                .vs
                .variables()
                .keys()
                .all(|k| !k.starts_with("lm_head")),
            "{arch}: no lm_head in a reward model"
        );
        assert_eq!(
            scores(&back, &sequences()),
            before,
            "{arch}: f32 round trip is exact"
        );
        // A causal LM folder is not a reward model.
        let err = RewardModel::load(lm.path(), Device::Cpu, Kind::Float)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("score.weight"), "{err}");
    }
}

/// Scores transformers computes for the saved folder.
fn transformers_scores(dir: &Path, seqs: &[Vec<u32>]) -> (String, Vec<f64>) {
    let python = rlxf_model::testing::venv_python().unwrap();
    let script = rlxf_model::testing::repo_root().join("tests/python/reward_model_reference.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(seqs).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "reference script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["class"].as_str().unwrap().to_string(),
        v["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect(),
    )
}

#[test]
fn transformers_reads_the_saved_reward_model_with_the_same_scores() {
    for (arch, seed) in [("llama", 23), ("qwen2", 24)] {
        let lm = tempfile::tempdir().unwrap();
        rlxf_model::testing::tiny_model(arch, seed, lm.path()).unwrap();
        let model = RewardModel::from_causal_lm(lm.path(), Device::Cpu, Kind::Float, 0).unwrap();
        // A head large enough that a wrong position or missing weight shows.
        tch::no_grad(|| {
            let _ = model.head.weight().shallow_clone().g_mul_scalar_(50.0);
        });
        let out = tempfile::tempdir().unwrap();
        model.save(out.path(), Kind::Float, 0).unwrap();
        // No sequence ends in the pad id 0, where transformers would read an earlier position.
        let ours = scores(&model, &sequences());
        let (class, theirs) = transformers_scores(out.path(), &sequences());
        assert!(class.ends_with("ForSequenceClassification"), "{class}");
        assert!(
            close(&ours, &theirs, 1e-4),
            "{arch}: rlxf {ours:?} vs transformers {theirs:?}"
        );
        assert!(
            ours.iter().any(|s| s.abs() > 1e-2),
            "scores must not be trivially zero: {ours:?}"
        );
    }
}

#[test]
fn reward_kind_scores_equal_a_direct_forward() {
    let lm = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("llama", 25, lm.path()).unwrap();
    let model = RewardModel::from_causal_lm(lm.path(), Device::Cpu, Kind::Float, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path(), Kind::Float, 256).unwrap();
    let spec: RewardSpec = toml::from_str(&format!(
        "[[terms]]\nkind = \"reward_model\"\npath = \"{}\"\nbatch_size = 2\n",
        dir.path().display()
    ))
    .unwrap();
    let reward = rlxf_train::reward_kinds::build_reward(&spec).unwrap();
    let items = [
        ("What is 2+3?", "5"),
        ("What is 2+3?", "The answer is 6."),
        ("Hi", ""),
        ("Name a colour.", "blue"),
    ];
    let inputs: Vec<ScoreInput<'_>> = items.iter().map(|(p, c)| ScoreInput::new(p, c)).collect();
    let got: Vec<f64> = reward
        .score_group(&inputs)
        .iter()
        .map(|s| s.value)
        .collect();
    // The same sequences as reward-model training encodes its pairs (no end-of-turn token).
    let tokenizer = rlxf_model::ChatTokenizer::from_dir(dir.path(), &[]).unwrap();
    let encoding = rlxf_train::preference::data::Encoding {
        tokenizer: &tokenizer,
        default_system: None,
        end_of_turn: false,
        max_length: 4096,
    };
    let seqs: Vec<Vec<u32>> = items
        .iter()
        .map(|(p, c)| {
            let mut ids = encoding.prompt(None, p).unwrap();
            let mut report = Default::default();
            let completion = encoding.completion(ids.len(), c, &mut report).unwrap();
            ids.extend(completion.unwrap());
            ids
        })
        .collect();
    let direct: Vec<f64> = seqs
        .iter()
        .map(|s| scores(&model, std::slice::from_ref(s))[0])
        .collect();
    assert!(close(&got, &direct, 1e-5), "{got:?} vs {direct:?}");
    assert!(got[0] != got[1]);
    // A bad path or parameter is a one-line build error.
    let bad: RewardSpec =
        toml::from_str("[[terms]]\nkind = \"reward_model\"\npath = \"/nonexistent/rm\"\n").unwrap();
    let err = rlxf_train::reward_kinds::build_reward(&bad)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("/nonexistent/rm") && !err.contains('\n'),
        "{err}"
    );
    let bad: RewardSpec = toml::from_str(&format!(
        "[[terms]]\nkind = \"reward_model\"\npath = \"{}\"\nbatch = 2\n",
        dir.path().display()
    ))
    .unwrap();
    assert!(rlxf_train::reward_kinds::build_reward(&bad).is_err());
}

#[test]
fn reward_model_training_learns_a_ranking() {
    let lm = tempfile::tempdir().unwrap();
    rlxf_model::testing::tiny_model("qwen2", 26, lm.path()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("pairs.jsonl");
    // Chosen completions say "yes", rejected ones "no": a ranking a tiny model can learn.
    let lines: Vec<String> = (0..40)
        .map(|i| serde_json::json!({"prompt": format!("question {i}"), "chosen": format!("yes {}", i % 5), "rejected": format!("no {}", i % 3)}).to_string())
        .collect();
    std::fs::write(&data, lines.join("\n")).unwrap();
    let run = work.path().join("run");
    let overrides: Vec<String> = vec![
        format!("model.path={}", lm.path().display()),
        format!("run_dir={}", run.display()),
        "model.threads=1".into(),
        "model.save_dtype=\"f32\"".into(),
        "algorithm.name=\"reward_model\"".into(),
        format!("preference.data={}", data.display()),
        "preference.held_out_fraction=0.25".into(),
        "preference.epochs=6".into(),
        "preference.eval_every=10".into(),
        "preference.batch_pairs=8".into(),
        "preference.micro_batch_pairs=8".into(),
        "optimizer.lr=3e-3".into(),
        "eval.held_out=0".into(),
    ];
    let config = TrainConfig::load(None, &overrides).unwrap();
    let summary = PreferenceTrainer::new(config).unwrap().train().unwrap();
    assert!(summary.held_out_items > 0);
    assert!(
        summary.pairs_after.accuracy >= 0.9,
        "held-out ranking accuracy {:?}",
        summary.pairs_after
    );
    assert!(summary.pairs_after.loss < summary.pairs_before.loss);
    assert!(summary.task_before.is_none());
    // Held-out accuracy on every 10th step before the last (the last one is `pairs_after`).
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let evaluated: Vec<u64> = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|m| m["held_out_accuracy"].is_f64())
        .map(|m| m["step"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (10..summary.steps as u64).step_by(10).collect();
    assert!(!expected.is_empty());
    assert_eq!(evaluated, expected, "{metrics}");
    let model = RewardModel::load(&run.join("reward_model"), Device::Cpu, Kind::Float).unwrap();
    assert!(model.trunk.config.raw["architectures"][0] == "Qwen2ForSequenceClassification");
}
