//! Run folders written the way `rlxf train` writes them, with made-up but plausible numbers,
//! for the tests of the charts, the report and the TensorBoard conversion.

use std::fmt::Write as _;
use std::path::Path;

/// Every metric `rlxf train` logs today.
pub const ALL_KEYS: &[&str] = &[
    "reward_mean",
    "accuracy",
    "informative_groups",
    "loss",
    "kl",
    "entropy",
    "clip_fraction",
    "sampler_logprob_gap_mean",
    "grad_norm",
    "lr",
    "completion_tokens_mean",
    "truncated_fraction",
    "generation_seconds",
    "training_seconds",
    "step_seconds",
    "generated_tokens_per_second",
];

/// A recipe whose text needs escaping in HTML.
pub const CONFIG: &str =
    "seed = 0\n[data.task]\ninstruction = 'Answer in <b>\\boxed{}</b> & \"quote\"'\n";

/// `metrics.jsonl` with only `keys`, over `steps` steps.
pub fn write_metrics(dir: &Path, keys: &[&str], steps: usize) {
    let mut text = String::new();
    for step in 1..=steps {
        let t = step as f64;
        let mut line = format!("{{\"step\":{step}");
        for (i, key) in keys.iter().enumerate() {
            // Distinct, bounded, noisy-looking curves: fractions stay in 0..1.
            let value = (0.1 + 0.05 * t + 0.03 * ((t * 1.7 + i as f64).sin())).min(1.0);
            let value = if key.ends_with("per_second") || key.ends_with("tokens_mean") {
                value * 200.0
            } else {
                value
            };
            write!(line, ",\"{key}\":{value}").unwrap();
        }
        text.push_str(&line);
        text.push_str("}\n");
    }
    std::fs::write(dir.join("metrics.jsonl"), text).unwrap();
}

/// A finished run: all metrics, samples with markup in them, evaluations, summary, config, environment.
pub fn write_finished_run(dir: &Path, steps: usize) {
    write_metrics(dir, ALL_KEYS, steps);
    let completion = |step: usize, good: bool| {
        serde_json::json!({
            "id": format!("arithmetic/train/{step}"),
            "prompt": format!("What is {step} + 1? Use <b>bold</b>"),
            "answer": (step + 1).to_string(),
            "completion": if good { format!("<script>alert(1)</script> \\boxed{{{}}}", step + 1) } else { "I & you don't know".to_string() },
            "reward": if good { 1.0 } else { 0.0 },
            "components": {"math_answer": if good { 1.0 } else { 0.0 }},
        })
    };
    let samples: Vec<String> = (1..=steps)
        .map(|s| serde_json::json!({"step": s, "best": completion(s, true), "worst": completion(s, false)}).to_string())
        .collect();
    std::fs::write(dir.join("samples.jsonl"), samples.join("\n") + "\n").unwrap();
    let eval = |correct: bool| {
        (0..3)
            .map(|i| {
                serde_json::json!({
                    "id": format!("arithmetic/held_out/{i}"), "prompt": format!("What is {i} + {i}?"),
                    "answer": (2 * i).to_string(), "completion": if correct { format!("{}", 2 * i) } else { "no idea <sorry>".into() },
                    "reward": if correct { 1.0 } else { 0.0 }, "correct": correct, "tokens": 4,
                })
                .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    std::fs::write(dir.join("eval_before.jsonl"), eval(false)).unwrap();
    std::fs::write(dir.join("eval_after.jsonl"), eval(true)).unwrap();
    let totals = |a: f64| serde_json::json!({"accuracy": a, "mean_reward": a, "mean_tokens": 4.0, "problems": 3, "seconds": 1.5});
    let summary = serde_json::json!({
        "run_dir": dir.display().to_string(), "before": totals(0.22), "after": totals(0.68),
        "steps": steps, "train_seconds": 445.5, "total_seconds": 496.2,
    });
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("config.toml"), CONFIG).unwrap();
    std::fs::write(
        dir.join("environment.json"),
        r#"{"rlxf_version": "0.1.0", "threads": 2, "device": "cpu"}"#,
    )
    .unwrap();
}
