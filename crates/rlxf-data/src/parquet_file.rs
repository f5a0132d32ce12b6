//! Problems from Parquet files (the Hugging Face `datasets` layout), with the same [`FieldMap`] and
//! bad-record reporting as JSONL.
//!
//! Rows are read through the `parquet` crate's record API and turned into JSON objects (strings,
//! integers, floats, booleans; lists as arrays, structs as objects; binary as base64), then mapped
//! exactly like a JSONL line. A row whose prompt is null or of the wrong type is skipped and
//! reported with its file and 1-based row number (counted over all row groups). A file that is not
//! Parquet, or whose schema lacks every prompt column, is an error naming the file.

use std::fs::File;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

use crate::error::DataError;
use crate::records::{quoted, FieldMap, Loaded, RecordUnit, Skipped};

/// Reads one `.parquet` file.
pub fn load_parquet(path: impl AsRef<Path>, fields: &FieldMap) -> Result<Loaded, DataError> {
    let path = path.as_ref();
    let mut out = Loaded::default();
    read_into(path, fields, &mut out)?;
    Ok(out)
}

/// Appends the problems and skipped rows of `path` to `out`.
pub(crate) fn read_into(path: &Path, fields: &FieldMap, out: &mut Loaded) -> Result<(), DataError> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bad_file = |e: parquet::errors::ParquetError| DataError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let reader = SerializedFileReader::new(file).map_err(bad_file)?;
    check_columns(path, fields, &reader)?;
    let stem = path.file_name().map_or_else(
        || "data".into(),
        |s| s.to_string_lossy().trim_end_matches(".parquet").to_string(),
    );
    let rows = reader.get_row_iter(None).map_err(bad_file)?;
    for (i, row) in rows.enumerate() {
        let row_no = i + 1;
        // A row that cannot be decoded means a damaged page: the rest of the file is not trustworthy.
        let row = row.map_err(|e| DataError::Parquet {
            path: path.to_path_buf(),
            message: format!("row {row_no}: {e}"),
        })?;
        let Value::Object(obj) = row.to_json_value() else {
            unreachable!("a Parquet row converts to a JSON object")
        };
        match fields.problem_from(obj, format!("{stem}:{row_no}")) {
            Ok(p) => out.problems.push(p),
            Err(reason) => {
                let skipped = Skipped {
                    path: path.to_path_buf(),
                    line: row_no,
                    unit: RecordUnit::Row,
                    reason,
                };
                tracing::warn!("{skipped}");
                out.skipped.push(skipped);
            }
        }
    }
    Ok(())
}

/// A mapping that names no column of the file would skip every row; say so once, with the
/// columns the file has.
fn check_columns(
    path: &Path,
    fields: &FieldMap,
    reader: &SerializedFileReader<File>,
) -> Result<(), DataError> {
    let schema = reader.metadata().file_metadata().schema();
    let columns: Vec<String> = schema
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let has = |name: &str| columns.iter().any(|c| c == name);
    let missing = |wanted: String| DataError::MissingColumn {
        path: path.to_path_buf(),
        wanted,
        columns: quoted(&columns),
    };
    if !fields.prompt.iter().any(|f| has(f)) {
        return Err(missing(format!(
            "prompt column ({})",
            quoted(&fields.prompt)
        )));
    }
    for (role, field) in [
        ("answer", &fields.answer),
        ("id", &fields.id),
        ("system", &fields.system),
    ] {
        if let Some(f) = field.as_ref().filter(|f| !has(f)) {
            return Err(missing(format!("{role} column `{f}`")));
        }
    }
    Ok(())
}
