//! TensorBoard scalars written while a run trains, one event per metric as each step ends.
//!
//! Live files are named `events.out.tfevents.<unix seconds>.<host>.NNNN.live`: TensorBoard reads
//! them like any event file (it only asks for `tfevents` in the name), and [`super::write_events`]
//! knows them apart from its own end-of-run file, so it never writes a scalar twice.
//!
//! A resumed run opens a new live file, which sorts after the earlier ones, so TensorBoard draws
//! one continuous curve. When the resume starts at or before a step the earlier files already hold
//! (the run died after its last checkpoint), those later points are stale: on the first
//! [`LiveEvents::log`] they are cut from the earlier files (rewritten atomically), and a
//! `SessionLog START` event at that step tells an already running TensorBoard to drop them too.
//! A truncated last record (a writer killed mid-write) is cut the same way.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::event::{Event, EventContent};
use super::event_file::{unix_now, EventWriter, EVENT_FILE_PREFIX};
use super::record::{valid_records, write_record};
use super::run_metrics::tag_for;
use crate::error::ReportError;

/// The file-name suffix of live event files.
pub const LIVE_EVENT_SUFFIX: &str = ".live";

/// Whether `path` is a live event file (see the module docs).
pub fn is_live_event_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n.starts_with(EVENT_FILE_PREFIX) && n.ends_with(LIVE_EVENT_SUFFIX)
    })
}

/// A live event file from an earlier session of the run, as read when the run was reopened.
struct EarlierFile {
    path: PathBuf,
    events: Vec<Event>,
    /// The file ends in a partial or corrupt record.
    damaged: bool,
}

/// The live TensorBoard log of one run folder: `open`, then `log` each step's metrics, `flush`
/// when a running TensorBoard should see them (each `log` leaves them buffered).
pub struct LiveEvents {
    writer: EventWriter,
    earlier: Vec<EarlierFile>,
    /// The last step logged by this session.
    last_step: Option<u64>,
}

impl LiveEvents {
    /// Creates a new live event file in `run_dir` (and the folder if needed), after reading the
    /// live files an earlier session of the same run left there.
    pub fn open(run_dir: &Path) -> Result<Self, ReportError> {
        let earlier = live_event_files(run_dir)?
            .into_iter()
            .map(|path| read_earlier(&path))
            .collect::<Result<Vec<_>, _>>()?;
        let writer = EventWriter::create_with_suffix(run_dir, LIVE_EVENT_SUFFIX)?;
        Ok(Self {
            writer,
            earlier,
            last_step: None,
        })
    }

    pub fn path(&self) -> &Path {
        self.writer.path()
    }

    /// The highest step logged so far, by this session or an earlier one of the run.
    pub fn last_logged_step(&self) -> Option<u64> {
        let earlier = self
            .earlier
            .iter()
            .flat_map(|f| scalar_steps(&f.events))
            .max();
        earlier.max(self.last_step)
    }

    /// Writes every numeric field of `metrics` (a metrics.jsonl object; `step` itself excepted)
    /// as a scalar at `step`, tagged by [`tag_for`]. Steps must increase within a session.
    pub fn log(&mut self, step: u64, metrics: &Value) -> Result<(), ReportError> {
        let refuse = |what: String| ReportError::LiveLog {
            path: self.writer.path().to_path_buf(),
            step,
            what,
        };
        let Value::Object(fields) = metrics else {
            return Err(refuse("the metrics are not a JSON object".into()));
        };
        match self.last_step {
            Some(last) if step <= last => {
                return Err(refuse(format!(
                    "step {last} was logged already; steps must increase"
                )))
            }
            Some(_) => {}
            None => self.rewind_earlier(step)?,
        }
        self.last_step = Some(step);
        let wall_time = unix_now();
        for (key, value) in fields {
            if let (false, Some(v)) = (key == "step", value.as_f64()) {
                self.writer
                    .add_scalar_at(&tag_for(key), step, v, wall_time)?;
            }
        }
        Ok(())
    }

    /// Pushes buffered events to the file.
    pub fn flush(&mut self) -> Result<(), ReportError> {
        self.writer.flush()
    }

    /// Cuts scalars at `first_step` or later (and damaged tails) from the earlier files, and
    /// marks the restart for a TensorBoard that loaded them already.
    fn rewind_earlier(&mut self, first_step: u64) -> Result<(), ReportError> {
        let first = i64::try_from(first_step).unwrap_or(i64::MAX);
        let mut cut_any = false;
        for file in &mut self.earlier {
            let before = file.events.len();
            file.events
                .retain(|e| !matches!(e.content, EventContent::Scalars(_)) || e.step < first);
            let cut = file.events.len() < before;
            cut_any |= cut;
            if cut || file.damaged {
                rewrite(&file.path, &file.events)?;
                file.damaged = false;
            }
        }
        if cut_any {
            self.writer.write_event(&Event {
                wall_time: unix_now(),
                step: first,
                content: EventContent::SessionStart,
            })?;
        }
        Ok(())
    }
}

/// The live event files of `dir`, sorted by name (TensorBoard's reading order).
pub(crate) fn live_event_files(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(ReportError::read(dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| ReportError::read(dir, e))?.path();
        if is_live_event_file(&path) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The `(tag, step)` of every scalar the live files of `dir` hold (damaged tails ignored).
pub(crate) fn live_scalar_keys(dir: &Path) -> Result<BTreeSet<(String, i64)>, ReportError> {
    let mut keys = BTreeSet::new();
    for path in live_event_files(dir)? {
        for event in read_earlier(&path)?.events {
            if let EventContent::Scalars(values) = event.content {
                keys.extend(values.into_iter().map(|(tag, _)| (tag, event.step)));
            }
        }
    }
    Ok(keys)
}

fn scalar_steps(events: &[Event]) -> impl Iterator<Item = u64> + '_ {
    events
        .iter()
        .filter(|e| matches!(e.content, EventContent::Scalars(_)))
        .filter_map(|e| u64::try_from(e.step).ok())
}

/// Reads a live file up to its first bad record: a torn tail is expected after a crash.
fn read_earlier(path: &Path) -> Result<EarlierFile, ReportError> {
    let bytes = std::fs::read(path).map_err(|e| ReportError::read(path, e))?;
    let (records, error) = valid_records(&bytes);
    let mut events = Vec::with_capacity(records.len());
    let mut damaged = error.is_some();
    for data in records {
        match Event::decode(data) {
            Ok(event) => events.push(event),
            Err(_) => {
                damaged = true;
                break;
            }
        }
    }
    Ok(EarlierFile {
        path: path.to_path_buf(),
        events,
        damaged,
    })
}

/// Replaces `path` with exactly `events`, through a temporary file and a rename, so a crash
/// leaves the old or the new file, never half of one. The temporary name lacks `tfevents`, so
/// TensorBoard never reads it.
fn rewrite(path: &Path, events: &[Event]) -> Result<(), ReportError> {
    let mut bytes = Vec::new();
    for event in events {
        write_record(&mut bytes, &event.encode()).expect("writing to memory");
    }
    let temporary = path.with_file_name(".rlxf-live-rewrite.tmp");
    std::fs::write(&temporary, bytes).map_err(|e| ReportError::write(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| ReportError::write(path, e))
}
