use base64::Engine as _;

use super::*;
use crate::synthetic_run::{write_finished_run, write_metrics, CONFIG};

#[test]
fn report_inlines_every_chart_and_escapes_the_config() {
    let dir = tempfile::tempdir().unwrap();
    write_finished_run(dir.path(), 6);
    let path = write_report(dir.path()).unwrap();
    assert_eq!(path, dir.path().join("report.html"));
    let html = std::fs::read_to_string(&path).unwrap();

    let charts = std::fs::read_dir(dir.path().join("charts"))
        .unwrap()
        .count();
    assert_eq!(charts, 10);
    for entry in std::fs::read_dir(dir.path().join("charts")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let uri = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        );
        assert!(html.contains(&uri), "chart not inlined");
    }
    assert_eq!(html.matches("<img ").count(), charts);

    // minijinja's HTML escaping also escapes '/'.
    // minijinja's HTML escaping also escapes '/'.
    let escaped_config = CONFIG
        .replace('&', "&amp;")
        .replace('/', "&#x2f;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    assert!(
        html.contains(&escaped_config),
        "config missing or not escaped"
    );
    assert!(
        !html.contains("<b>\\boxed"),
        "raw markup from the config leaked"
    );
}

#[test]
fn completions_are_escaped_and_collapsible() {
    let dir = tempfile::tempdir().unwrap();
    write_finished_run(dir.path(), 3);
    let html = std::fs::read_to_string(write_report(dir.path()).unwrap()).unwrap();
    assert!(
        !html.contains("<script"),
        "a completion's markup became live HTML"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(html.contains("I &amp; you don&#x27;t know"));
    // One <details> per step of samples, plus the two evaluation tables.
    assert_eq!(html.matches("<details").count(), 3 + 2);
    assert!(html.contains("Step 2: best reward 1, worst 0"));
    assert!(html.contains("3 problems: 0 correct before, 3 after; training fixed 3 and broke 0."));
    assert!(html.contains("no idea &lt;sorry&gt;"));
}

#[test]
fn summary_numbers_are_shown() {
    let dir = tempfile::tempdir().unwrap();
    write_finished_run(dir.path(), 4);
    let html = std::fs::read_to_string(write_report(dir.path()).unwrap()).unwrap();
    for expected in [
        "22.0%",
        "68.0%",
        "+46.0 points",
        "7 min 26 s",
        "8 min 16 s",
        "<th>grad_\u{200b}norm</th>",
        "<td class=\"text\">cpu</td>",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
}

#[test]
fn metrics_only_run_reports_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    write_metrics(dir.path(), &["reward_mean", "kl"], 2);
    let html = std::fs::read_to_string(write_report(dir.path()).unwrap()).unwrap();
    assert_eq!(html.matches("<img ").count(), 2);
    assert!(html.contains("no summary.json yet"));
    assert!(html.contains("Policy entropy (entropy)"));
    assert!(html.contains("No sample completions"));
    assert!(html.contains("No eval_before.jsonl"));
    assert!(html.contains("No config.toml"));
    assert!(!html.contains("<details"));
}

#[test]
fn no_external_assets_or_scripts() {
    let dir = tempfile::tempdir().unwrap();
    write_finished_run(dir.path(), 2);
    let html = std::fs::read_to_string(write_report(dir.path()).unwrap()).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<link") && !html.contains("<script"));
}

#[test]
fn empty_samples_file_is_reported_as_no_samples() {
    let dir = tempfile::tempdir().unwrap();
    write_finished_run(dir.path(), 2);
    std::fs::write(dir.path().join("samples.jsonl"), "").unwrap();
    let html = std::fs::read_to_string(write_report(dir.path()).unwrap()).unwrap();
    assert!(html.contains("No sample completions: samples.jsonl is missing or empty"));
    // Only the two evaluation tables remain collapsible.
    assert_eq!(html.matches("<details").count(), 2);
}
