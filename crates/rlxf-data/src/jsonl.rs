//! Problems from JSON Lines files, with a configurable field mapping ([`FieldMap`]), and the line
//! reader every JSONL loader of the crate shares (problems, preference pairs, KTO examples).
//!
//! A bad line (invalid JSON, missing or mistyped field) is skipped, logged with its file and
//! 1-based line number, and returned in [`Loaded::skipped`] so the caller can report it: data is
//! never dropped silently. Blank lines are not records and are ignored.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use rlxf_core::Problem;
use serde_json::Value;

use crate::error::DataError;
pub(crate) use crate::records::{kind, scalar};
pub use crate::records::{FieldMap, Loaded, RecordUnit, Skipped};

/// Reads `path` (gzip-compressed when it ends in `.gz`). I/O failures (missing file, unreadable,
/// corrupt gzip) are errors; bad lines are [`Skipped`].
pub fn load_jsonl(path: impl AsRef<Path>, fields: &FieldMap) -> Result<Loaded, DataError> {
    let path = path.as_ref();
    read_jsonl(open_lines(path)?, path, fields)
}

/// Like [`load_jsonl`] from any reader; `path` is used in ids and messages.
pub fn read_jsonl(reader: impl BufRead, path: &Path, fields: &FieldMap) -> Result<Loaded, DataError> {
    let stem = file_stem(path);
    let (problems, skipped) = read_records(reader, path, |text, line| parse_line(text, fields, &stem, line))?;
    Ok(Loaded { problems, skipped })
}

/// Opens `path` for line reading, gunzipping when it ends in `.gz`.
pub(crate) fn open_lines(path: &Path) -> Result<Box<dyn BufRead>, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// `data.jsonl(.gz)` -> `data`, for ids made from the file name and line number.
pub(crate) fn file_stem(path: &Path) -> String {
    let name = path.file_name().map_or_else(|| "data".into(), |s| s.to_string_lossy().into_owned());
    name.trim_end_matches(".gz").trim_end_matches(".jsonl").to_string()
}

/// Reads non-blank lines and turns each into a record with `parse(text, line_number)`; a line that
/// is not UTF-8 or that `parse` rejects is logged and returned as [`Skipped`], never dropped silently.
pub fn read_records<T>(
    mut reader: impl BufRead,
    path: &Path,
    mut parse: impl FnMut(&str, usize) -> Result<T, String>,
) -> Result<(Vec<T>, Vec<Skipped>), DataError> {
    let mut records = Vec::new();
    let mut skipped = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let parsed = std::str::from_utf8(&buf).map_err(|e| format!("not valid UTF-8 ({e})")).and_then(|text| {
            let text = text.trim();
            if text.is_empty() {
                Ok(None)
            } else {
                parse(text, line_no).map(Some)
            }
        });
        match parsed {
            Ok(Some(record)) => records.push(record),
            Ok(None) => {}
            Err(reason) => {
                let s = Skipped { path: path.to_path_buf(), line: line_no, unit: RecordUnit::Line, reason };
                tracing::warn!("{s}");
                skipped.push(s);
            }
        }
    }
    Ok((records, skipped))
}

fn parse_line(text: &str, fields: &FieldMap, stem: &str, line: usize) -> Result<Problem, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON ({e})"))?;
    let Value::Object(obj) = value else {
        return Err("not a JSON object".into());
    };
    fields.problem_from(obj, format!("{stem}:{line}"))
}
