//! Event files (`events.out.tfevents.<unix seconds>.<host>`): a `file_version` event first, then
//! one event per scalar, each framed as a TFRecord.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::event::{Event, EventContent};
use super::record::{read_records, write_record};
use crate::error::ReportError;

/// The version string TensorBoard expects in the first event of a file.
pub const FILE_VERSION: &str = "brain.Event:2";

/// The prefix TensorBoard looks for when it scans a log folder.
pub const EVENT_FILE_PREFIX: &str = "events.out.tfevents.";

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Appends scalar events to a new event file.
pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl EventWriter {
    /// Creates `dir` if needed and a new event file in it (never overwriting one: a second writer
    /// in the same second gets a `.1`, `.2`... suffix), and writes the `file_version` event.
    pub fn create(dir: &Path) -> Result<Self, ReportError> {
        Self::create_named(dir, |base, n| {
            if n == 0 {
                base.to_string()
            } else {
                format!("{base}.{n}")
            }
        })
    }

    /// Like [`EventWriter::create`], for a file named `<base>.NNNN<suffix>`: the zero-padded
    /// counter makes files created in the same second sort (and so be read by TensorBoard) in
    /// creation order.
    pub(crate) fn create_with_suffix(dir: &Path, suffix: &str) -> Result<Self, ReportError> {
        Self::create_named(dir, |base, n| format!("{base}.{n:04}{suffix}"))
    }

    fn create_named(dir: &Path, name: impl Fn(&str, u32) -> String) -> Result<Self, ReportError> {
        std::fs::create_dir_all(dir).map_err(|e| ReportError::write(dir, e))?;
        let now = unix_now();
        let host = gethostname::gethostname()
            .to_string_lossy()
            .replace(['/', '\\'], "_");
        let base = format!("{EVENT_FILE_PREFIX}{:010}.{host}", now as u64);
        let (path, file) = (0..)
            .map(|n| dir.join(name(&base, n)))
            .find_map(
                |path| match OpenOptions::new().write(true).create_new(true).open(&path) {
                    Ok(file) => Some(Ok((path, file))),
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => None,
                    Err(e) => Some(Err(ReportError::write(&path, e))),
                },
            )
            .expect("an unused file name exists")?;
        let mut writer = Self {
            path,
            out: BufWriter::new(file),
        };
        writer.write_event(&Event {
            wall_time: now,
            step: 0,
            content: EventContent::FileVersion(FILE_VERSION.into()),
        })?;
        Ok(writer)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One scalar at `step`, stamped with the current time.
    pub fn add_scalar(&mut self, tag: &str, step: u64, value: f64) -> Result<(), ReportError> {
        self.add_scalar_at(tag, step, value, unix_now())
    }

    /// One scalar at `step` with an explicit wall time (unix seconds), for converting logs after the fact.
    pub fn add_scalar_at(
        &mut self,
        tag: &str,
        step: u64,
        value: f64,
        wall_time: f64,
    ) -> Result<(), ReportError> {
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        // simple_value is a float in summary.proto; TensorBoard shows f32 precision.
        let content = EventContent::Scalars(vec![(tag.to_string(), value as f32)]);
        self.write_event(&Event {
            wall_time,
            step,
            content,
        })
    }

    /// Pushes buffered events to the file so a running TensorBoard sees them.
    pub fn flush(&mut self) -> Result<(), ReportError> {
        self.out
            .flush()
            .map_err(|e| ReportError::write(&self.path, e))
    }

    pub(crate) fn write_event(&mut self, event: &Event) -> Result<(), ReportError> {
        write_record(&mut self.out, &event.encode()).map_err(|e| ReportError::write(&self.path, e))
    }
}

/// Reads every event of a file, checking each record's CRCs.
pub fn read_event_file(path: &Path) -> Result<Vec<Event>, ReportError> {
    let bytes = std::fs::read(path).map_err(|e| ReportError::read(path, e))?;
    let bad = |what: String| ReportError::BadEventFile {
        path: path.to_path_buf(),
        what,
    };
    let records = read_records(&bytes).map_err(bad)?;
    records
        .iter()
        .enumerate()
        .map(|(i, data)| Event::decode(data).map_err(|e| bad(format!("record {i}: {e}"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_output_reads_back_with_file_version_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = EventWriter::create(dir.path()).unwrap();
        writer.add_scalar("train/kl", 1, 0.5).unwrap();
        writer.add_scalar_at("train/kl", 2, 0.25, 1234.5).unwrap();
        writer.flush().unwrap();
        let name = writer
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with(EVENT_FILE_PREFIX), "{name}");

        let events = read_event_file(writer.path()).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(
            events[0].content,
            EventContent::FileVersion(FILE_VERSION.into())
        );
        assert_eq!(
            (events[1].step, &events[1].content),
            (1, &EventContent::Scalars(vec![("train/kl".into(), 0.5)]))
        );
        assert_eq!(
            events[2],
            Event {
                wall_time: 1234.5,
                step: 2,
                content: EventContent::Scalars(vec![("train/kl".into(), 0.25)])
            }
        );
        assert!(events[1].wall_time > 1.6e9);
    }

    #[test]
    fn two_writers_in_one_folder_get_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let first = EventWriter::create(dir.path()).unwrap();
        let second = EventWriter::create(dir.path()).unwrap();
        assert_ne!(first.path(), second.path());
    }

    #[test]
    fn corrupted_file_is_reported_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = EventWriter::create(dir.path()).unwrap();
        writer.add_scalar("a", 1, 1.0).unwrap();
        writer.flush().unwrap();
        let path = writer.path().to_path_buf();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 6;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        let message = read_event_file(&path).unwrap_err().to_string();
        assert!(
            message.contains("not a TensorBoard event file: record 1: data CRC mismatch"),
            "{message}"
        );
    }
}
