//! Pair and KTO loaders: bad lines reported by number, optional fields, the held-out split.

use std::io::Write;

use rlxf_data::preference::preference_split;
use rlxf_data::{
    load_labelled, load_pairs, split_held_out, LabelledFields, PairFields, PreferencePair, Split,
};

fn file(lines: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    f.write_all(lines.as_bytes()).unwrap();
    f
}

#[test]
fn pairs_load_with_optional_fields_and_report_bad_lines() {
    let f = file(concat!(
        r#"{"prompt": "1+1?", "chosen": "2", "rejected": "3"}"#,
        "\n",
        r#"{"id": 7, "system": "Be brief.", "prompt": "2+2?", "chosen": "4", "rejected": "", "margin": 1.5}"#,
        "\n",
        "\n",
        "not json\n",
        r#"{"prompt": "3+3?", "chosen": "6"}"#,
        "\n",
        r#"{"prompt": "3+3?", "chosen": "6", "rejected": "6"}"#,
        "\n",
        r#"{"prompt": "", "chosen": "6", "rejected": "5"}"#,
        "\n",
        r#"{"prompt": "3+3?", "chosen": "6", "rejected": "5", "margin": "big"}"#,
        "\n",
        r#"[1, 2]"#,
        "\n",
        r#"{"prompt": "3+3?", "chosen": 6, "rejected": "5"}"#,
        "\n",
    ));
    let loaded = load_pairs(f.path(), &PairFields::default()).unwrap();
    assert_eq!(loaded.records.len(), 2);
    let stem = f.path().file_stem().unwrap().to_string_lossy().into_owned();
    assert_eq!(loaded.records[0].id, format!("{stem}:1"));
    assert_eq!(loaded.records[0].margin, None);
    let second = &loaded.records[1];
    assert_eq!(
        (
            second.id.as_str(),
            second.system.as_deref(),
            second.rejected.as_str(),
            second.margin
        ),
        ("7", Some("Be brief."), "", Some(1.5))
    );
    let lines: Vec<usize> = loaded.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![4, 5, 6, 7, 8, 9, 10]);
    let reasons: Vec<&str> = loaded.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert!(reasons[0].starts_with("invalid JSON"), "{}", reasons[0]);
    assert_eq!(reasons[1], "missing field `rejected`");
    assert!(reasons[2].contains("identical"), "{}", reasons[2]);
    assert_eq!(reasons[3], "field `prompt` is empty");
    assert_eq!(
        reasons[4],
        "field `margin` must be a number, found a string"
    );
    assert_eq!(reasons[5], "not a JSON object");
    assert_eq!(
        reasons[6],
        "field `chosen` must be a string, found a number"
    );
    // The message names the file and line.
    assert!(loaded.skipped[0]
        .to_string()
        .contains(&format!("{}:4: skipped", f.path().display())));
}

#[test]
fn pair_fields_map_other_names() {
    let f = file(r#"{"question": "q", "good": "a", "bad": "b", "key": "k1"}"#);
    let fields = PairFields {
        prompt: "question".into(),
        chosen: "good".into(),
        rejected: "bad".into(),
        id: "key".into(),
        ..PairFields::default()
    };
    let loaded = load_pairs(f.path(), &fields).unwrap();
    assert_eq!(loaded.records[0].id, "k1");
    assert_eq!(loaded.records[0].chosen, "a");
    // Unknown keys in the mapping are refused (a typo must not silently use the default).
    assert!(toml::from_str::<PairFields>("choosen = \"x\"").is_err());
}

#[test]
fn labelled_completions_need_a_boolean_label() {
    let f = file(concat!(
        r#"{"prompt": "p", "completion": "c", "label": true}"#,
        "\n",
        r#"{"prompt": "p", "completion": "d", "label": false, "id": "x"}"#,
        "\n",
        r#"{"prompt": "p", "completion": "e", "label": 1}"#,
        "\n",
        r#"{"prompt": "p", "completion": "e"}"#,
        "\n",
    ));
    let loaded = load_labelled(f.path(), &LabelledFields::default()).unwrap();
    assert_eq!(
        loaded
            .records
            .iter()
            .map(|r| r.desirable)
            .collect::<Vec<_>>(),
        vec![true, false]
    );
    assert_eq!(loaded.records[1].id, "x");
    assert_eq!(loaded.skipped.len(), 2);
    assert_eq!(
        loaded.skipped[0].reason,
        "field `label` must be true or false, found a number"
    );
    assert!(loaded.skipped[1]
        .reason
        .starts_with("missing field `label`"));
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let err = load_pairs("/nonexistent/pairs.jsonl", &PairFields::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/pairs.jsonl"), "{err}");
}

fn pair(prompt: &str, chosen: &str) -> PreferencePair {
    PreferencePair {
        id: chosen.into(),
        system: None,
        prompt: prompt.into(),
        chosen: chosen.into(),
        rejected: "x".into(),
        margin: None,
    }
}

#[test]
fn held_out_split_is_by_prompt_deterministic_and_near_the_fraction() {
    let pairs: Vec<PreferencePair> = (0..2000)
        .flat_map(|i| {
            [
                pair(&format!("What is {i}+1?"), "a"),
                pair(&format!("What is {i}+1?"), "b"),
            ]
        })
        .collect();
    let (train, held) = split_held_out(pairs.clone(), 0.2);
    assert_eq!(train.len() + held.len(), pairs.len());
    let share = held.len() as f64 / pairs.len() as f64;
    assert!((share - 0.2).abs() < 0.03, "held-out share {share}");
    // Both completions of a prompt stay on one side.
    for p in &held {
        assert!(!train.iter().any(|t| t.prompt == p.prompt));
    }
    // The same input splits the same way in any order; fractions 0 and 1 are all-train / all-held-out.
    let mut reversed = pairs.clone();
    reversed.reverse();
    let (_, held_rev) = split_held_out(reversed, 0.2);
    let mut a: Vec<String> = held
        .iter()
        .map(|p| format!("{}{}", p.prompt, p.chosen))
        .collect();
    let mut b: Vec<String> = held_rev
        .iter()
        .map(|p| format!("{}{}", p.prompt, p.chosen))
        .collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(preference_split("What is 3+1?", 0.0), Split::Train);
    assert_eq!(preference_split("What is 3+1?", 1.0), Split::HeldOut);
    assert_eq!(split_held_out(pairs, 0.0).1.len(), 0);
}
