//! Parquet loading: column types, row groups, shard folders and patterns, bad rows and bad files,
//! and files written by pyarrow the way Hugging Face `datasets` writes them.

mod parquet_writer;

use std::path::{Path, PathBuf};
use std::process::Command;

use parquet_writer::{write_parquet, Column};
use rlxf_data::{load_parquet, load_problems, DataError, FieldMap, RecordUnit};
use serde_json::json;

fn question_answer(
    dir: &Path,
    name: &str,
    questions: Vec<Option<&'static str>>,
    answers: Vec<Option<i64>>,
) -> PathBuf {
    let path = dir.join(name);
    write_parquet(
        &path,
        &[
            Column::Str("question", questions),
            Column::Long("answer", answers),
        ],
        2,
    );
    path
}

#[test]
fn every_column_type_maps_across_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("types.parquet");
    write_parquet(
        &path,
        &[
            Column::Str(
                "problem",
                vec![Some("1+1?"), Some("Is 9 prime?"), Some("Half of 3?")],
            ),
            Column::Long("answer", vec![Some(2), None, None]),
            Column::Bool("truth", vec![None, Some(false), None]),
            Column::Double("score", vec![Some(0.25), Some(-1.5), Some(1.5)]),
            Column::StrList("tags", vec![Some(vec!["easy", "add"]), Some(vec![]), None]),
            Column::Str("source", vec![Some("toy"), None, Some("toy")]),
        ],
        2,
    );
    // Answers from an integer column.
    let ints = FieldMap {
        prompt: vec!["problem".into()],
        answer: Some("answer".into()),
        ..FieldMap::default()
    };
    let loaded = load_parquet(&path, &ints).unwrap();
    assert_eq!(loaded.problems.len(), 1);
    let first = &loaded.problems[0];
    assert_eq!(
        (
            first.id.as_str(),
            first.prompt.as_str(),
            first.answer.as_deref()
        ),
        ("types:1", "1+1?", Some("2"))
    );
    assert_eq!(
        first.metadata,
        json!({"truth": null, "score": 0.25, "tags": ["easy", "add"], "source": "toy"}),
        "unmapped columns of every type ride along as JSON"
    );
    // Rows 2 and 3 (row 3 is in the second row group) have a null answer: reported, not dropped.
    let rows: Vec<(usize, RecordUnit)> = loaded.skipped.iter().map(|s| (s.line, s.unit)).collect();
    assert_eq!(rows, [(2, RecordUnit::Row), (3, RecordUnit::Row)]);
    let message = loaded.skipped[1].to_string();
    assert_eq!(
        message,
        format!(
            "{} row 3: skipped: field `answer` must be a string, number or boolean, found null",
            path.display()
        )
    );

    // Boolean and float columns as answers, a list column in a template's reach.
    let bools = FieldMap {
        prompt: vec!["problem".into()],
        answer: Some("truth".into()),
        ..FieldMap::default()
    };
    let loaded = load_parquet(&path, &bools).unwrap();
    assert_eq!(loaded.problems[0].answer.as_deref(), Some("false"));
    assert_eq!(loaded.problems[0].metadata["tags"], json!([]));
    let floats = FieldMap {
        prompt: vec!["problem".into()],
        answer: Some("score".into()),
        ..FieldMap::default()
    };
    let answers: Vec<_> = load_parquet(&path, &floats)
        .unwrap()
        .problems
        .into_iter()
        .map(|p| p.answer.unwrap())
        .collect();
    assert_eq!(answers, ["0.25", "-1.5", "1.5"]);

    // A prompt pointing at a non-string column is a per-row verdict naming the type.
    let wrong = FieldMap {
        prompt: vec!["score".into()],
        answer: None,
        ..FieldMap::default()
    };
    let loaded = load_parquet(&path, &wrong).unwrap();
    assert!(loaded.problems.is_empty());
    assert!(
        loaded.skipped[0]
            .reason
            .contains("`score` must be a string, found a number"),
        "{}",
        loaded.skipped[0]
    );
    let list = FieldMap {
        prompt: vec!["tags".into()],
        answer: None,
        ..FieldMap::default()
    };
    let skipped = load_parquet(&path, &list).unwrap().skipped;
    assert!(
        skipped[0]
            .reason
            .contains("list of {role, content} chat messages"),
        "{}",
        skipped[0]
    );
}

#[test]
fn null_prompts_are_reported_with_row_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = question_answer(
        dir.path(),
        "bad.parquet",
        vec![Some("a?"), None, Some("  "), Some("d?"), Some("e?")],
        vec![Some(1), Some(2), Some(3), Some(4), Some(5)],
    );
    let loaded = load_parquet(&path, &FieldMap::default()).unwrap();
    let ids: Vec<&str> = loaded.problems.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["bad:1", "bad:4", "bad:5"]);
    let reasons: Vec<(usize, &str)> = loaded
        .skipped
        .iter()
        .map(|s| (s.line, s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (2, "field `question` must be a string, found null"),
            (3, "field `question` is empty")
        ]
    );
}

#[test]
fn shard_folders_and_patterns_load_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // Written out of order: loading sorts by name.
    question_answer(
        &data,
        "train-00001-of-00002.parquet",
        vec![Some("c?")],
        vec![Some(3)],
    );
    question_answer(
        &data,
        "train-00000-of-00002.parquet",
        vec![Some("a?"), Some("b?")],
        vec![Some(1), Some(2)],
    );
    question_answer(
        &data,
        "test-00000-of-00001.parquet",
        vec![Some("t?")],
        vec![Some(9)],
    );
    std::fs::write(data.join("README.md"), "not data").unwrap();

    let prompts = |path: &Path| -> Vec<String> {
        load_problems(path, &FieldMap::default())
            .unwrap()
            .problems
            .into_iter()
            .map(|p| p.prompt)
            .collect()
    };
    assert_eq!(prompts(&data), ["t?", "a?", "b?", "c?"]);
    assert_eq!(prompts(&data.join("train-*.parquet")), ["a?", "b?", "c?"]);
    let ids: Vec<String> = load_problems(data.join("train-*.parquet"), &FieldMap::default())
        .unwrap()
        .problems
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        ids,
        [
            "train-00000-of-00002:1",
            "train-00000-of-00002:2",
            "train-00001-of-00002:1"
        ]
    );
}

#[test]
fn bad_files_are_one_line_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let pointer = dir.path().join("train.parquet");
    std::fs::write(
        &pointer,
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12345\n",
    )
    .unwrap();
    let err = load_problems(&pointer, &FieldMap::default()).unwrap_err();
    assert!(matches!(err, DataError::Parquet { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("train.parquet: not a readable Parquet file")
            && message.contains("git lfs pull"),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");

    // A file cut short (an interrupted download) is an error too, never an empty data set.
    let good = question_answer(dir.path(), "good.parquet", vec![Some("a?")], vec![Some(1)]);
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        load_problems(&cut, &FieldMap::default()),
        Err(DataError::Parquet { .. })
    ));

    let missing =
        load_problems(dir.path().join("absent.parquet"), &FieldMap::default()).unwrap_err();
    assert!(
        matches!(missing, DataError::Io { .. }) && missing.to_string().contains("absent.parquet"),
        "{missing}"
    );

    let no_column = FieldMap {
        prompt: vec!["problem".into()],
        ..FieldMap::default()
    };
    let err = load_problems(&good, &no_column).unwrap_err().to_string();
    assert!(
        err.contains("good.parquet: no prompt column (`problem`); the file has `question`, `answer`: set `fields`"),
        "{err}"
    );
    let no_answer = FieldMap {
        answer: Some("solution".into()),
        ..FieldMap::default()
    };
    let err = load_problems(&good, &no_answer).unwrap_err().to_string();
    assert!(err.contains("no answer column `solution`"), "{err}");
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Files written by pyarrow (what `datasets` uses), snappy and zstd, with large_string, list and
/// list<struct> columns. Runs when the repo venv exists; then pyarrow must be in it.
#[test]
fn pyarrow_written_hugging_face_shards_load() {
    let python = repo_root().join(".venv/bin/python");
    if !python.exists() {
        eprintln!("note: no repo venv (.venv); skipping the pyarrow interop test (scripts/setup-venv.sh makes it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&python)
        .arg(repo_root().join("tests/python/write_hf_parquet.py"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "write_hf_parquet.py failed (is pyarrow in .venv? run scripts/setup-venv.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = dir.path().join("data");

    let fields = FieldMap {
        prompt: vec!["problem".into()],
        answer: Some("answer".into()),
        ..FieldMap::default()
    };
    let loaded = load_problems(&data, &fields).unwrap();
    assert_eq!(loaded.problems.len(), 6);
    let answers: Vec<&str> = loaded
        .problems
        .iter()
        .map(|p| p.answer.as_deref().unwrap())
        .collect();
    assert_eq!(answers, ["0", "2", "4", "6", "8", "12"]);
    let p = &loaded.problems[3];
    assert_eq!(p.prompt, "What is 3 + 3?");
    assert_eq!(p.id, "train-00000-of-00002:4");
    assert_eq!(p.metadata["solution"], "3 + 3 = 6");
    assert_eq!(p.metadata["difficulty"], 0.75);
    assert_eq!(p.metadata["verified"], false);
    assert_eq!(p.metadata["tags"], json!(["arithmetic", "n3"]));
    assert_eq!(
        p.metadata["messages"][1],
        json!({"role": "user", "content": "What is 3 + 3?"})
    );
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(
        loaded.skipped[0].to_string(),
        format!(
            "{} row 2: skipped: field `problem` must be a string, found null",
            data.join("train-00001-of-00002.parquet").display()
        )
    );

    // The chat `messages` column as the prompt: user turn and system turn.
    let chat = FieldMap {
        prompt: vec!["messages".into()],
        answer: Some("answer".into()),
        ..FieldMap::default()
    };
    let loaded = load_problems(data.join("train-*.parquet"), &chat).unwrap();
    assert_eq!(loaded.problems.len(), 7);
    assert_eq!(loaded.problems[5].prompt, "What is 5 + 5?");
    assert_eq!(loaded.problems[5].system.as_deref(), Some("Be brief."));
}
