//! `recipes/math_dataset.toml` (a data set file as the training task) passes `rlxf train --dry-run`
//! once `data.task.path` names a file, and bad data fails it with one clear error line.

use std::path::Path;
use std::process::{Command, Output};

fn dry_run(model: &Path, data: &Path) -> Output {
    let recipe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/math_dataset.toml");
    Command::new(env!("CARGO_BIN_EXE_rlxf"))
        .arg("train")
        .arg("--config")
        .arg(recipe)
        .arg("--set")
        .arg(format!("model.path={}", model.display()))
        .arg("--set")
        .arg(format!("data.task.path={}", data.display()))
        // The tiny test model has 256 positions; the recipe's 512 new tokens are for real models.
        .args([
            "--set",
            "sampling.max_new_tokens=64",
            "--set",
            "eval.max_new_tokens=64",
        ])
        .arg("--dry-run")
        .output()
        .unwrap()
}

#[test]
fn math_dataset_recipe_validates_and_bad_data_is_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    rlxf_model::testing::tiny_model("llama", 0, &model).unwrap();
    let data = dir.path().join("train.jsonl");
    let lines: Vec<String> = (0..100)
        .map(|i| {
            format!(
                "{{\"problem\": \"Compute {i} + {i}.\", \"answer\": \"{}\"}}",
                2 * i
            )
        })
        .collect();
    std::fs::write(&data, lines.join("\n")).unwrap();

    let out = dry_run(&model, &data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("kind = \"dataset\"") && stderr.contains("held_out_fraction = 0.1"),
        "{stderr}"
    );

    std::fs::write(
        &data,
        format!("{}\n{{\"problem\": \"no answer\"}}\n", lines.join("\n")),
    )
    .unwrap();
    let out = dry_run(&model, &data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("train.jsonl: 1 bad records (first: ")
            && errors[0].contains(":101: skipped: missing field `answer`"),
        "{}",
        errors[0]
    );
}
