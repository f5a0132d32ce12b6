//! JSONL loading: field mapping, skipped-line reporting, and the shared MMATH file when present.

use std::io::Write;
use std::path::Path;

use rlxf_data::{load_jsonl, DataError, FieldMap};
use serde_json::json;

fn write(dir: &Path, name: &str, lines: &[&str]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    path
}

#[test]
fn loads_good_lines_and_reports_bad_ones_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "mix.jsonl",
        &[
            r#"{"question": "1+1?", "answer": "2", "source": "toy"}"#, // 1: ok, extra field kept
            r#"{"prompt": "2+2?", "answer": 4}"#,                      // 2: ok, numeric answer
            r#"{"question": "no answer"}"#,                            // 3: missing answer
            r#"{"question": "3+3?", "answer": "6""#,                   // 4: invalid JSON
            "",                                                        // 5: blank, ignored
            r#"[1, 2]"#,                                               // 6: not an object
            r#"{"question": 5, "answer": "5"}"#,                       // 7: prompt not a string
            r#"{"question": "x", "answer": null}"#,                    // 8: null answer
            r#"{"question": "  ", "answer": "1"}"#,                    // 9: empty prompt
            r#"{"text": "?", "answer": "1"}"#,                         // 10: no prompt field
            r#"{"question": "last", "answer": "-1.5"}"#,               // 11: ok
        ],
    );
    let loaded = load_jsonl(&path, &FieldMap::default()).unwrap();
    let prompts: Vec<&str> = loaded.problems.iter().map(|p| p.prompt.as_str()).collect();
    assert_eq!(prompts, ["1+1?", "2+2?", "last"]);
    assert_eq!(loaded.problems[1].answer.as_deref(), Some("4"));
    assert_eq!(loaded.problems[0].id, "mix:1");
    assert_eq!(loaded.problems[2].id, "mix:11");
    assert_eq!(loaded.problems[0].metadata, json!({"source": "toy"}));
    assert_eq!(loaded.problems[1].metadata, serde_json::Value::Null);

    let lines: Vec<usize> = loaded.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, [3, 4, 6, 7, 8, 9, 10]);
    let msgs: Vec<String> = loaded.skipped.iter().map(ToString::to_string).collect();
    assert!(
        msgs[0].starts_with(&format!(
            "{}:3: skipped: missing field `answer`",
            path.display()
        )),
        "{}",
        msgs[0]
    );
    assert!(msgs[1].contains(":4: skipped: invalid JSON"), "{}", msgs[1]);
    assert!(msgs[2].contains("not a JSON object"), "{}", msgs[2]);
    assert!(
        msgs[3].contains("`question` must be a string, found a number"),
        "{}",
        msgs[3]
    );
    assert!(
        msgs[4].contains("`answer` must be a string, number or boolean, found null"),
        "{}",
        msgs[4]
    );
    assert!(msgs[5].contains("`question` is empty"), "{}", msgs[5]);
    assert!(
        msgs[6].contains("no prompt field (looked for `prompt`, `question`)"),
        "{}",
        msgs[6]
    );
}

#[test]
fn custom_field_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "custom.jsonl",
        &[
            r#"{"problem": "P1", "solution": "S1", "uid": 17, "sys": "be brief"}"#,
            r#"{"problem": "P2", "solution": "S2", "uid": "b"}"#,
            r#"{"problem": "P3", "solution": "S3"}"#,
        ],
    );
    let fields = FieldMap {
        prompt: vec!["problem".into()],
        answer: Some("solution".into()),
        id: Some("uid".into()),
        system: Some("sys".into()),
    };
    let loaded = load_jsonl(&path, &fields).unwrap();
    assert_eq!(loaded.problems.len(), 2);
    assert_eq!(loaded.problems[0].id, "17");
    assert_eq!(loaded.problems[0].system.as_deref(), Some("be brief"));
    assert_eq!(loaded.problems[1].id, "b");
    assert_eq!(loaded.problems[1].system, None);
    assert_eq!(loaded.skipped.len(), 1);
    assert!(loaded.skipped[0].reason.contains("missing field `uid`"));

    // Without an answer field, answers are not required.
    let no_answers = FieldMap {
        prompt: vec!["problem".into()],
        answer: None,
        ..FieldMap::default()
    };
    let loaded = load_jsonl(&path, &no_answers).unwrap();
    assert_eq!(loaded.problems.len(), 3);
    assert!(loaded.problems.iter().all(|p| p.answer.is_none()));
    // The unmapped answer stays in metadata.
    assert_eq!(loaded.problems[0].metadata["solution"], "S1");
}

#[test]
fn invalid_utf8_and_crlf_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bytes.jsonl");
    let mut bytes = b"{\"question\": \"a\", \"answer\": \"1\"}\r\n".to_vec();
    bytes.extend_from_slice(b"{\"question\": \"\xff\", \"answer\": \"1\"}\n");
    bytes.extend_from_slice(b"{\"question\": \"c\", \"answer\": \"3\"}"); // no final newline
    std::fs::write(&path, bytes).unwrap();
    let loaded = load_jsonl(&path, &FieldMap::default()).unwrap();
    assert_eq!(
        loaded
            .problems
            .iter()
            .map(|p| p.prompt.as_str())
            .collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].line, 2);
    assert!(loaded.skipped[0].reason.contains("UTF-8"));
}

#[test]
fn missing_file_is_an_error_naming_the_path() {
    let err = load_jsonl("/nonexistent/dir/data.jsonl", &FieldMap::default()).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert!(
        err.to_string().contains("/nonexistent/dir/data.jsonl"),
        "{err}"
    );
}

#[test]
fn field_map_deserializes_with_defaults() {
    let f: FieldMap = toml::from_str(r#"prompt = ["problem"]"#).unwrap();
    assert_eq!(f.answer.as_deref(), Some("answer"));
    assert!(toml::from_str::<FieldMap>("promt = [\"x\"]").is_err());
}

/// The shared MMATH file (AIME/CNMO-style problems, fields `question` and `answer`), when the
/// machine has it.
#[test]
fn loads_shared_mmath_file_if_present() {
    let path = Path::new("/work/shared/data/mmath_en.jsonl");
    if !path.exists() {
        eprintln!("note: {} not present; skipping", path.display());
        return;
    }
    let loaded = load_jsonl(path, &FieldMap::default()).unwrap();
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    assert!(loaded.problems.len() > 300, "{}", loaded.problems.len());
    assert!(loaded
        .problems
        .iter()
        .all(|p| !p.prompt.is_empty() && p.answer.as_deref().is_some_and(|a| !a.is_empty())));
    // Extra fields ride along in metadata.
    assert!(loaded.problems[0].metadata.get("data_source").is_some());
    assert_eq!(loaded.problems[0].id, "mmath_en:1");
}

#[test]
fn gzip_files_load_and_humaneval_layout_maps() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/HumanEval.jsonl.gz");
    assert!(
        path.exists(),
        "{} missing: the shared data folder must sit next to the repo",
        path.display()
    );
    let fields = FieldMap {
        prompt: vec!["prompt".into()],
        answer: None,
        id: Some("task_id".into()),
        system: None,
    };
    let loaded = load_jsonl(&path, &fields).unwrap();
    assert_eq!(loaded.problems.len(), 164);
    assert!(loaded.skipped.is_empty());
    let first = &loaded.problems[0];
    assert_eq!(first.id, "HumanEval/0");
    assert_eq!(first.metadata["entry_point"], "has_close_elements");
    assert!(first.metadata["test"]
        .as_str()
        .unwrap()
        .contains("def check"));
    // A corrupt gzip stream is an error naming the file, not a silent empty data set.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl.gz");
    std::fs::write(&bad, b"\x1f\x8b\x08\x00garbage").unwrap();
    let err = load_jsonl(&bad, &fields).unwrap_err().to_string();
    assert!(err.contains("bad.jsonl.gz"), "{err}");
}
