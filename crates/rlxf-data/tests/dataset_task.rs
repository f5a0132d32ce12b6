//! `kind = "dataset"`: content-hash split, seeded epoch shuffles, held-out wrap-around, bad-record
//! policy, instruction and template, and the recipe that uses it.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use rlxf_data::split::split_of;
use rlxf_data::{DataError, DatasetConfig, DatasetTask, FieldMap, Split, TaskGenerator, TaskSpec};

/// `n` distinct problems `What is i*7?` plus `duplicates` copies (other ids) of the first ones.
fn write_jsonl(dir: &Path, name: &str, n: usize, duplicates: usize) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    for i in (0..n).chain(0..duplicates) {
        writeln!(f, "{}", serde_json::json!({"problem": format!("What is {i}*7?"), "answer": i * 7, "level": i % 5}))
            .unwrap();
    }
    path
}

fn config(path: &Path) -> DatasetConfig {
    toml::from_str::<TaskSpec>(&format!(
        "kind = \"dataset\"\npath = {:?}\nfields = {{ prompt = [\"problem\"], answer = \"answer\" }}",
        path.display().to_string()
    ))
    .map(|spec| match spec {
        TaskSpec::Dataset(c) => c,
        other => panic!("{other:?}"),
    })
    .unwrap()
}

fn prompts(task: &dyn TaskGenerator, split: Split, range: std::ops::Range<u64>) -> Vec<String> {
    task.problems(split, range)
        .into_iter()
        .map(|p| p.prompt)
        .collect()
}

#[test]
fn split_is_by_content_and_duplicates_stay_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_jsonl(dir.path(), "train.jsonl", 300, 40);
    let task = DatasetTask::new(DatasetConfig {
        held_out_fraction: Some(0.2),
        ..config(&path)
    })
    .unwrap();
    let counts = task.counts();
    assert_eq!(counts.train + counts.held_out, 340);
    assert_eq!(
        (task.len(Split::Train), task.len(Split::HeldOut)),
        (Some(counts.train as u64), Some(counts.held_out as u64))
    );
    // About a fifth held out (300 distinct problems; binomial sd ~7).
    assert!((40..=90).contains(&counts.held_out), "{counts}");

    let train: HashSet<String> = prompts(&task, Split::Train, 0..counts.train as u64)
        .into_iter()
        .collect();
    let held: Vec<String> = prompts(&task, Split::HeldOut, 0..counts.held_out as u64);
    assert!(
        held.iter().all(|p| !train.contains(p)),
        "no problem on both sides"
    );
    // Each side is the content hash's verdict, so a duplicate lands beside its twin.
    for i in 0..300 {
        let prompt = format!("What is {i}*7?");
        let side = split_of(&format!("{prompt}\u{1f}{}", i * 7), 0.2);
        assert_eq!(side == Split::HeldOut, held.contains(&prompt), "{prompt}");
    }
    let twins = held
        .iter()
        .filter(|p| held.iter().filter(|q| q == p).count() == 2)
        .count();
    let expected_twins = (0..40)
        .filter(|i| held.contains(&format!("What is {i}*7?")))
        .count()
        * 2;
    assert_eq!(twins, expected_twins);

    // Another seed reorders training but never moves a problem across the split.
    let reseeded = DatasetTask::new(DatasetConfig {
        seed: 9,
        held_out_fraction: Some(0.2),
        ..config(&path)
    })
    .unwrap();
    assert_eq!(
        prompts(&reseeded, Split::HeldOut, 0..counts.held_out as u64),
        held
    );
    assert_ne!(
        prompts(&reseeded, Split::Train, 0..20),
        prompts(&task, Split::Train, 0..20)
    );
}

#[test]
fn training_order_is_a_fresh_permutation_each_epoch_and_any_index_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_jsonl(dir.path(), "train.jsonl", 120, 0);
    let task = DatasetTask::new(config(&path)).unwrap();
    let n = task.len(Split::Train).unwrap();
    let epoch = |e: u64| prompts(&task, Split::Train, e * n..(e + 1) * n);
    let (first, second) = (epoch(0), epoch(1));
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    assert_eq!(
        sorted(&first),
        sorted(&second),
        "every epoch visits each training problem once"
    );
    assert_eq!(first.iter().collect::<HashSet<_>>().len(), n as usize);
    assert_ne!(first, second, "epochs are reshuffled");

    // A fresh task asked out of order (a resumed run) gives the same problem at every index.
    let again = DatasetTask::new(config(&path)).unwrap();
    for i in [5 * n + 3, 7, n + 1, 3 * n - 1, 0] {
        assert_eq!(
            again.problem(Split::Train, i),
            task.problem(Split::Train, i),
            "index {i}"
        );
    }
}

#[test]
fn held_out_problems_are_in_file_order_and_wrap_around() {
    let dir = tempfile::tempdir().unwrap();
    let train = write_jsonl(dir.path(), "train.jsonl", 50, 0);
    let test = dir.path().join("test.jsonl");
    std::fs::write(
        &test,
        "{\"problem\": \"What is 3*7?\", \"answer\": 21}\n{\"problem\": \"Name a prime.\", \"answer\": \"2\"}\n",
    )
    .unwrap();
    let task = DatasetTask::new(DatasetConfig {
        held_out_path: Some(test.clone()),
        ..config(&train)
    })
    .unwrap();
    let counts = task.counts();
    assert_eq!(
        (counts.train, counts.held_out, counts.overlap_removed),
        (49, 2, 1),
        "the test file's copy leaves training"
    );
    assert_eq!(
        prompts(&task, Split::HeldOut, 0..5),
        [
            "What is 3*7?",
            "Name a prime.",
            "What is 3*7?",
            "Name a prime.",
            "What is 3*7?"
        ]
    );
    assert!(!prompts(&task, Split::Train, 0..49).contains(&"What is 3*7?".to_string()));
    assert_eq!(task.problem(Split::HeldOut, 1).id, "test:2");

    let both = DatasetConfig {
        held_out_path: Some(test),
        held_out_fraction: Some(0.1),
        ..config(&train)
    };
    let err = DatasetTask::new(both).err().unwrap().to_string();
    assert!(
        err.contains("both `held_out_fraction` and `held_out_path` are set"),
        "{err}"
    );
}

#[test]
fn bad_records_fail_the_build_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl");
    let mut lines: Vec<String> = (0..30)
        .map(|i| format!("{{\"problem\": \"q{i}\", \"answer\": {i}}}"))
        .collect();
    lines[4] = "{\"problem\": \"q4\"}".into();
    lines[9] = "not json".into();
    lines[14] = "{\"problem\": 14, \"answer\": 1}".into();
    lines[19] = "{\"answer\": 1}".into();
    std::fs::write(&path, lines.join("\n")).unwrap();

    let err = DatasetTask::new(config(&path)).err().unwrap();
    assert!(
        matches!(err, DataError::BadRecords { count: 4, .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("4 bad records (first: "), "{message}");
    assert!(
        message.contains("mixed.jsonl:5: skipped: missing field `answer`"),
        "{message}"
    );
    assert!(
        message.contains("mixed.jsonl:10: skipped: invalid JSON"),
        "{message}"
    );
    assert!(
        message.contains(":15: skipped") && message.contains("; ...)"),
        "only the first three are listed: {message}"
    );
    assert!(
        message.ends_with("set `skip_bad_lines = true` to train without them"),
        "{message}"
    );

    let task = DatasetTask::new(DatasetConfig {
        skip_bad_lines: true,
        ..config(&path)
    })
    .unwrap();
    let counts = task.counts();
    assert_eq!((counts.train + counts.held_out, counts.skipped), (26, 4));
    assert!(
        counts.to_string().ends_with("4 bad records skipped"),
        "{counts}"
    );
}

#[test]
fn empty_splits_and_bad_settings_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let one = write_jsonl(dir.path(), "one.jsonl", 1, 0);
    let err = DatasetTask::new(config(&one)).err().unwrap().to_string();
    assert!(
        err.contains("split is empty") && err.contains("give `held_out_path`"),
        "{err}"
    );
    let many = write_jsonl(dir.path(), "many.jsonl", 20, 0);
    let err = DatasetTask::new(DatasetConfig {
        held_out_fraction: Some(1.0),
        ..config(&many)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("held_out_fraction"), "{err}");
    let err = DatasetTask::new(config(&dir.path().join("nope.jsonl")))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("nope.jsonl") && err.contains("check the path"),
        "{err}"
    );
    let err = DatasetTask::new(config(&dir.path().join("data.csv")))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unknown data file type"), "{err}");
    let no_prompt = DatasetConfig {
        fields: FieldMap {
            prompt: vec!["question".into()],
            ..FieldMap::default()
        },
        ..config(&many)
    };
    let err = DatasetTask::new(DatasetConfig {
        skip_bad_lines: true,
        ..no_prompt
    })
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("no problems loaded") && err.contains("`fields`"),
        "{err}"
    );

    let unknown =
        toml::from_str::<TaskSpec>("kind = \"dataset\"\npath = \"a.jsonl\"\nheld_out = 3");
    assert!(unknown
        .unwrap_err()
        .to_string()
        .contains("unknown field `held_out`"));
    let no_path = toml::from_str::<TaskSpec>("kind = \"dataset\"\nseed = 1");
    assert!(no_path
        .unwrap_err()
        .to_string()
        .contains("missing field `path`"));
}

#[test]
fn template_then_instruction_shape_the_prompt_but_not_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_jsonl(dir.path(), "train.jsonl", 60, 0);
    let plain = DatasetTask::new(config(&path)).unwrap();
    let shaped = DatasetTask::new(DatasetConfig {
        template: Some("Level {{ level }}: {{ prompt }}".into()),
        instruction: "Put your final answer in \\boxed{}.".into(),
        ..config(&path)
    })
    .unwrap();
    assert_eq!(shaped.counts(), plain.counts());
    let (p, q) = (
        plain.problem(Split::Train, 3),
        shaped.problem(Split::Train, 3),
    );
    let level = p.metadata["level"].as_u64().unwrap();
    assert_eq!(
        q.prompt,
        format!(
            "Level {level}: {} Put your final answer in \\boxed{{}}.",
            p.prompt
        )
    );
    assert_eq!(q.answer, p.answer);

    let bad = DatasetConfig {
        template: Some("{{ lvl }}".into()),
        ..config(&path)
    };
    let err = DatasetTask::new(bad).err().unwrap().to_string();
    assert!(
        err.contains("prompt template") && err.contains("undefined"),
        "{err}"
    );
}

#[test]
fn gzipped_jsonl_through_the_task_spec() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    for i in 0..40 {
        writeln!(gz, "{{\"problem\": \"p{i}\", \"answer\": \"{i}\"}}").unwrap();
    }
    gz.finish().unwrap();
    let spec: TaskSpec = toml::from_str(&format!(
        "kind = \"dataset\"\npath = {:?}\nfields = {{ prompt = [\"problem\"] }}\nseed = 3\nheld_out_fraction = 0.25",
        path.display().to_string()
    ))
    .unwrap();
    let task = spec.build().unwrap();
    assert_eq!(task.name(), "dataset");
    let sizes = (
        task.len(Split::Train).unwrap(),
        task.len(Split::HeldOut).unwrap(),
    );
    assert_eq!(sizes.0 + sizes.1, 40);
    let answers: HashMap<String, Option<String>> = task
        .problems(Split::Train, 0..sizes.0)
        .into_iter()
        .map(|p| (p.prompt, p.answer))
        .collect();
    assert!(answers.iter().all(|(p, a)| a.as_deref() == Some(&p[1..])));
}

/// The trainer stores the resolved config as TOML and reads it back on resume.
#[test]
fn dataset_spec_round_trips_through_toml() {
    let spec = TaskSpec::Dataset(DatasetConfig {
        fields: FieldMap { prompt: vec!["prompt".into()], answer: None, id: Some("task_id".into()), system: None },
        held_out_path: Some("data/test.parquet".into()),
        template: Some("{{ prompt }}".into()),
        skip_bad_lines: true,
        ..config(Path::new("data/train-*.parquet"))
    });
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Data {
        task: TaskSpec,
    }
    let text = toml::to_string(&Data { task: spec.clone() }).unwrap();
    assert_eq!(toml::from_str::<Data>(&text).unwrap().task, spec, "{text}");
}

/// `recipes/math_dataset.toml` parses, and its task builds once `data.task.path` names a file.
#[test]
fn math_dataset_recipe_task_builds() {
    let recipe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/math_dataset.toml");
    let text = std::fs::read_to_string(&recipe).unwrap();
    let mut value: toml::Table = toml::from_str(&text).unwrap();
    let task = value["data"]["task"].as_table_mut().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("math_train.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for i in 0..50 {
        writeln!(
            f,
            "{{\"problem\": \"Compute {i} + {i}.\", \"answer\": \"{}\", \"level\": \"Level 1\"}}",
            2 * i
        )
        .unwrap();
    }
    task.insert(
        "path".into(),
        toml::Value::String(path.display().to_string()),
    );
    let spec: TaskSpec = value["data"]["task"].clone().try_into().unwrap();
    let built = spec.build().unwrap();
    let p = built.problem(Split::Train, 0);
    assert!(
        p.prompt.ends_with("Put your final answer in \\boxed{}."),
        "{}",
        p.prompt
    );
    assert!(p.answer.is_some());
}
