//! Live TensorBoard events: resume continues the curve, a resume behind the last logged step cuts
//! the stale points, torn tails are repaired, and the end-of-run conversion adds only what the
//! live files lack. Read back with the crate's own reader (tensorboard_interop.rs reads the same
//! layouts with TensorBoard).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rlxf_report::tensorboard::{
    is_live_event_file, read_event_file, EventContent, EVENT_FILE_PREFIX,
};
use rlxf_report::{write_run_metrics, LiveEvents, ReportError};
use serde_json::json;

fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(EVENT_FILE_PREFIX)
        })
        .collect();
    files.sort();
    files
}

/// tag -> [(step, value)] over every event file of `dir`, in TensorBoard's reading order.
fn scalars(dir: &Path) -> BTreeMap<String, Vec<(i64, f32)>> {
    let mut out: BTreeMap<String, Vec<(i64, f32)>> = BTreeMap::new();
    for file in event_files(dir) {
        for event in read_event_file(&file).unwrap() {
            if let EventContent::Scalars(values) = event.content {
                for (tag, value) in values {
                    out.entry(tag).or_default().push((event.step, value));
                }
            }
        }
    }
    out
}

fn metrics(step: u64, offset: f64) -> serde_json::Value {
    json!({"step": step, "reward_mean": step as f64 / 10.0 + offset, "step_seconds": 2.5, "note": "text is not a scalar"})
}

fn log_steps(run: &Path, steps: std::ops::RangeInclusive<u64>, offset: f64) -> PathBuf {
    let mut live = LiveEvents::open(run).unwrap();
    for step in steps {
        live.log(step, &metrics(step, offset)).unwrap();
    }
    live.flush().unwrap();
    live.path().to_path_buf()
}

#[test]
fn a_resumed_run_continues_one_curve() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let first = log_steps(&run, 1..=3, 0.0);
    assert!(is_live_event_file(&first), "{}", first.display());
    let reopened = LiveEvents::open(&run).unwrap();
    assert_eq!(reopened.last_logged_step(), Some(3));
    drop(reopened); // a session that logs nothing changes nothing but leaves an empty file
    let second = log_steps(&run, 4..=5, 0.0);
    assert!(second > first, "the resumed file sorts after the first");

    let got = scalars(&run);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        ["perf/step_seconds", "train/reward_mean"]
    );
    let steps: Vec<i64> = got["train/reward_mean"].iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, [1, 2, 3, 4, 5], "every step once");
    assert_eq!(got["train/reward_mean"][3].1, 0.4);
    assert_eq!(got["perf/step_seconds"].len(), 5);
}

#[test]
fn resuming_behind_the_last_logged_step_cuts_the_stale_points() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let first = log_steps(&run, 1..=5, 0.0);
    // The run died after step 5 with its last checkpoint at step 3: steps 4 and 5 are redone.
    let second = log_steps(&run, 4..=5, 100.0);
    let got = scalars(&run);
    let rewards = &got["train/reward_mean"];
    assert_eq!(
        rewards.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        rewards[4].1, 100.5,
        "the resumed values replace the stale ones"
    );
    assert!(read_event_file(&first)
        .unwrap()
        .iter()
        .all(|e| e.step <= 3 || matches!(e.content, EventContent::FileVersion(_))));
    // The new file tells a running TensorBoard to drop what it loaded from step 4 on.
    let events = read_event_file(&second).unwrap();
    assert_eq!(
        (events[1].step, &events[1].content),
        (4, &EventContent::SessionStart)
    );
    assert!(!dir.path().join("run/.rlxf-live-rewrite.tmp").exists());
}

#[test]
fn a_torn_last_record_is_repaired_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let first = log_steps(&run, 1..=3, 0.0);
    let bytes = std::fs::read(&first).unwrap();
    std::fs::write(&first, &bytes[..bytes.len() - 7]).unwrap();
    assert!(read_event_file(&first).is_err());
    let mut live = LiveEvents::open(&run).unwrap();
    assert_eq!(
        live.last_logged_step(),
        Some(3),
        "step 3's other scalar survived the tear"
    );
    live.log(4, &metrics(4, 0.0)).unwrap();
    live.flush().unwrap();
    // The damaged file is whole again, minus the torn record (step 3's last scalar).
    let events = read_event_file(&first).unwrap();
    assert_eq!(events.len(), 1 + 5);
    let got = scalars(&run);
    assert_eq!(
        got["train/reward_mean"]
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
}

#[test]
fn bad_calls_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut live = LiveEvents::open(dir.path()).unwrap();
    let err = live.log(1, &json!([1, 2])).unwrap_err();
    assert!(matches!(err, ReportError::LiveLog { step: 1, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("cannot log step 1: the metrics are not a JSON object"),
        "{err}"
    );
    live.log(2, &json!({"kl": 0.1})).unwrap();
    let err = live.log(2, &json!({"kl": 0.1})).unwrap_err().to_string();
    assert!(
        err.contains("step 2 was logged already; steps must increase"),
        "{err}"
    );
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, "x").unwrap();
    assert!(
        LiveEvents::open(&blocked).is_err(),
        "a file where the run folder should be"
    );
}

#[test]
fn the_end_of_run_conversion_adds_only_what_live_files_lack() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path();
    // Steps 1-2 were logged live; step 3's line exists only in metrics.jsonl (say the live
    // log was switched on late, or its write failed).
    log_steps(run, 1..=2, 0.0);
    let lines: Vec<String> = (1..=3).map(|s| metrics(s, 0.0).to_string()).collect();
    std::fs::write(run.join("metrics.jsonl"), lines.join("\n") + "\n").unwrap();
    let totals = |a: f64| {
        format!(
            "{{\"accuracy\":{a},\"mean_reward\":0,\"mean_tokens\":0,\"problems\":1,\"seconds\":0}}"
        )
    };
    let summary = format!(
        "{{\"before\":{},\"after\":{},\"steps\":3,\"train_seconds\":7.5,\"total_seconds\":8}}",
        totals(0.25),
        totals(0.5)
    );
    std::fs::write(run.join("summary.json"), summary).unwrap();

    write_run_metrics(run).unwrap();
    let converted = write_run_metrics(run).unwrap();
    assert!(!is_live_event_file(&converted));
    assert_eq!(
        event_files(run).len(),
        2,
        "one live file, one converted file (the rerun replaced the first)"
    );
    let got = scalars(run);
    let steps = |tag: &str| {
        let mut steps: Vec<i64> = got[tag].iter().map(|(s, _)| *s).collect();
        steps.sort();
        steps
    };
    assert_eq!(
        steps("train/reward_mean"),
        [1, 2, 3],
        "each step once, from one file or the other"
    );
    assert_eq!(steps("perf/step_seconds"), [1, 2, 3]);
    assert_eq!(got["eval/accuracy"], [(0, 0.25), (3, 0.5)]);
}
