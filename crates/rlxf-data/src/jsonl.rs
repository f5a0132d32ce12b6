//! Problems from JSON Lines files, with a configurable field mapping ([`FieldMap`]).
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
pub use crate::records::{FieldMap, Loaded, RecordUnit, Skipped};

/// Reads `path` (gzip-compressed when it ends in `.gz`). I/O failures (missing file, unreadable,
/// corrupt gzip) are errors; bad lines are [`Skipped`].
pub fn load_jsonl(path: impl AsRef<Path>, fields: &FieldMap) -> Result<Loaded, DataError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if path.extension().is_some_and(|e| e == "gz") {
        read_jsonl(
            BufReader::new(flate2::read::GzDecoder::new(file)),
            path,
            fields,
        )
    } else {
        read_jsonl(BufReader::new(file), path, fields)
    }
}

/// Like [`load_jsonl`] from any reader; `path` is used in ids and messages.
pub fn read_jsonl(
    mut reader: impl BufRead,
    path: &Path,
    fields: &FieldMap,
) -> Result<Loaded, DataError> {
    let name = path
        .file_name()
        .map_or_else(|| "data".into(), |s| s.to_string_lossy().into_owned());
    let stem = name
        .trim_end_matches(".gz")
        .trim_end_matches(".jsonl")
        .to_string();
    let mut out = Loaded::default();
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let parsed = std::str::from_utf8(&buf)
            .map_err(|e| format!("not valid UTF-8 ({e})"))
            .and_then(|text| {
                let text = text.trim();
                if text.is_empty() {
                    Ok(None)
                } else {
                    parse_line(text, fields, &stem, line_no).map(Some)
                }
            });
        match parsed {
            Ok(Some(p)) => out.problems.push(p),
            Ok(None) => {}
            Err(reason) => {
                let skipped = Skipped {
                    path: path.to_path_buf(),
                    line: line_no,
                    unit: RecordUnit::Line,
                    reason,
                };
                tracing::warn!("{skipped}");
                out.skipped.push(skipped);
            }
        }
    }
    Ok(out)
}

fn parse_line(text: &str, fields: &FieldMap, stem: &str, line: usize) -> Result<Problem, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON ({e})"))?;
    let Value::Object(obj) = value else {
        return Err("not a JSON object".into());
    };
    fields.problem_from(obj, format!("{stem}:{line}"))
}
