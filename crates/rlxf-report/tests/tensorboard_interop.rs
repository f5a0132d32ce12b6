//! The event files are read by TensorBoard itself, through the repo venv (.venv, made by
//! scripts/setup-venv.sh with tensorboard pinned in scripts/requirements.txt): its Python loader
//! (EventAccumulator) and its server (`tensorboard --logdir`, asked for its scalar tags over
//! loopback). These tests fail, with a message saying so, when the venv lacks tensorboard.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn venv_bin(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join(".venv/bin").join(name);
    let has_tensorboard = Command::new(root.join(".venv/bin/python"))
        .args(["-c", "import tensorboard"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_tensorboard,
        "the repo venv (.venv) lacks tensorboard; run scripts/setup-venv.sh"
    );
    path
}

/// A run folder with two steps of metrics and a summary, converted to an event file.
fn converted_run(parent: &Path) -> PathBuf {
    let run = parent.join("run-a");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(
        run.join("metrics.jsonl"),
        "{\"step\":1,\"reward_mean\":0.078125,\"kl\":0.001,\"generated_tokens_per_second\":156.25,\"step_seconds\":49.5}\n\
         {\"step\":2,\"reward_mean\":0.171875,\"kl\":0.002,\"generated_tokens_per_second\":153.5,\"step_seconds\":52.25}\n",
    )
    .unwrap();
    let totals = |a: f64| {
        format!("{{\"accuracy\":{a},\"mean_reward\":{a},\"mean_tokens\":9,\"problems\":100,\"seconds\":1}}")
    };
    let summary = format!(
        "{{\"before\":{},\"after\":{},\"steps\":2,\"train_seconds\":101.75,\"total_seconds\":120}}",
        totals(0.22),
        totals(0.68)
    );
    std::fs::write(run.join("summary.json"), summary).unwrap();
    rlxf_report::write_run_metrics(&run).unwrap();
    run
}

/// What TensorBoard's loader (EventAccumulator) makes of `dir`: tag -> [[step, value]...].
fn scalars_seen_by_tensorboard(dir: &Path) -> serde_json::Map<String, serde_json::Value> {
    let python = venv_bin("python");
    let script = "import json, sys\n\
                  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator\n\
                  acc = EventAccumulator(sys.argv[1]); acc.Reload()\n\
                  print(json.dumps({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()['scalars']}))";
    let out = Command::new(python)
        .args(["-c", script])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "EventAccumulator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn tensorboard_event_accumulator_reads_the_scalars() {
    let dir = tempfile::tempdir().unwrap();
    let run = converted_run(dir.path());
    let scalars = scalars_seen_by_tensorboard(&run);

    let expected: &[(&str, &[(u64, f64)])] = &[
        ("train/reward_mean", &[(1, 0.078125), (2, 0.171875)]),
        ("train/kl", &[(1, 0.001), (2, 0.002)]),
        (
            "perf/generated_tokens_per_second",
            &[(1, 156.25), (2, 153.5)],
        ),
        ("perf/step_seconds", &[(1, 49.5), (2, 52.25)]),
        ("eval/accuracy", &[(0, 0.22), (2, 0.68)]),
    ];
    assert_eq!(
        scalars.len(),
        expected.len(),
        "tags: {:?}",
        scalars.keys().collect::<Vec<_>>()
    );
    for (tag, points) in expected {
        let got = scalars[*tag].as_array().unwrap();
        assert_eq!(got.len(), points.len(), "{tag}");
        for (g, &(step, value)) in got.iter().zip(points.iter()) {
            assert_eq!(g[0].as_u64().unwrap(), step, "{tag}");
            // simple_value is an f32.
            assert!(
                (g[1].as_f64().unwrap() - value).abs() <= value.abs() * 1e-6,
                "{tag}: {g} vs {value}"
            );
        }
    }
}

fn log_live(run: &Path, steps: std::ops::RangeInclusive<u64>, offset: f64) -> PathBuf {
    let mut live = rlxf_report::LiveEvents::open(run).unwrap();
    for step in steps {
        let metrics = serde_json::json!({"step": step, "reward_mean": step as f64 + offset, "step_seconds": 2.0});
        live.log(step, &metrics).unwrap();
    }
    live.flush().unwrap();
    live.path().to_path_buf()
}

/// `(step, value)` of one tag as TensorBoard loaded it.
fn points(scalars: &serde_json::Map<String, serde_json::Value>, tag: &str) -> Vec<(u64, f64)> {
    scalars[tag]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap(), p[1].as_f64().unwrap()))
        .collect()
}

#[test]
fn tensorboard_reads_live_logs_across_resumes_as_one_curve() {
    let dir = tempfile::tempdir().unwrap();
    // Steps 1-3, then a resume logging 4-5.
    let resumed = dir.path().join("resumed");
    log_live(&resumed, 1..=3, 0.0);
    log_live(&resumed, 4..=5, 0.0);
    let seen = scalars_seen_by_tensorboard(&resumed);
    let expected: Vec<(u64, f64)> = (1..=5).map(|s| (s, s as f64)).collect();
    assert_eq!(points(&seen, "train/reward_mean"), expected);
    assert_eq!(points(&seen, "perf/step_seconds").len(), 5);

    // Steps 1-5, then a resume from the step-3 checkpoint redoing 4-5 with other values.
    let rewound = dir.path().join("rewound");
    let first = log_live(&rewound, 1..=5, 0.0);
    // What a TensorBoard running during the crash had loaded: the first file before the rewind.
    let running_view = dir.path().join("running-view");
    std::fs::create_dir(&running_view).unwrap();
    std::fs::copy(&first, running_view.join(first.file_name().unwrap())).unwrap();
    let second = log_live(&rewound, 4..=5, 10.0);
    std::fs::copy(&second, running_view.join(second.file_name().unwrap())).unwrap();
    let expected = vec![(1, 1.0), (2, 2.0), (3, 3.0), (4, 14.0), (5, 15.0)];
    assert_eq!(
        points(&scalars_seen_by_tensorboard(&rewound), "train/reward_mean"),
        expected
    );
    // The SessionLog START event makes TensorBoard drop the stale 4 and 5 it had loaded.
    assert_eq!(
        points(
            &scalars_seen_by_tensorboard(&running_view),
            "train/reward_mean"
        ),
        expected
    );
}

/// Kills the server when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    // The status line may say HTTP/1.1 even to a 1.0 request.
    (head.split_whitespace().nth(1) == Some("200")).then(|| body.to_string())
}

#[test]
fn tensorboard_server_lists_the_tags() {
    let tensorboard = venv_bin("tensorboard");
    let dir = tempfile::tempdir().unwrap();
    converted_run(dir.path());
    // A port the OS says is free now; the server binds it a moment later.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(tensorboard)
        .arg("--logdir")
        .arg(dir.path())
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--reload_interval",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = None;
    while Instant::now() < deadline {
        last = http_get(port, "/data/plugin/scalars/tags");
        if last
            .as_deref()
            .is_some_and(|body| body.contains("eval/accuracy"))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let body = last.expect("tensorboard answered nothing on loopback within 30 s");
    let tags: serde_json::Value = serde_json::from_str(&body).unwrap();
    let run_tags = tags["run-a"]
        .as_object()
        .unwrap_or_else(|| panic!("no run-a in {body}"));
    for tag in [
        "train/reward_mean",
        "train/kl",
        "perf/generated_tokens_per_second",
        "perf/step_seconds",
        "eval/accuracy",
    ] {
        assert!(run_tags.contains_key(tag), "{tag} missing from {body}");
    }
}
