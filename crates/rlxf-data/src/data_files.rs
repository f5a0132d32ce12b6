//! One entry point for every data set layout: a JSON Lines file (`.jsonl`, `.json`, `.ndjson`,
//! optionally `.gz`), a Parquet file, a folder of Parquet shards (Hugging Face's
//! `data/train-00000-of-00002.parquet`), or a file-name pattern (`data/train-*.parquet`).

use std::path::{Path, PathBuf};

use crate::error::DataError;
use crate::jsonl::load_jsonl;
use crate::parquet_file;
use crate::records::{FieldMap, Loaded};

/// The file formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    JsonLines,
    Parquet,
}

impl DataFormat {
    /// The format a file name says, if any.
    pub fn of(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".parquet") {
            Some(Self::Parquet)
        } else if [".jsonl", ".json", ".ndjson"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            Some(Self::JsonLines)
        } else {
            None
        }
    }
}

/// Loads every record of `path` (a file, a folder of `.parquet` shards or a glob pattern), in
/// order: shards and pattern matches sorted by name, each file in record order.
pub fn load_problems(path: impl AsRef<Path>, fields: &FieldMap) -> Result<Loaded, DataError> {
    let mut out = Loaded::default();
    for file in data_files(path.as_ref())? {
        match DataFormat::of(&file) {
            Some(DataFormat::Parquet) => parquet_file::read_into(&file, fields, &mut out)?,
            Some(DataFormat::JsonLines) => {
                let loaded = load_jsonl(&file, fields)?;
                out.problems.extend(loaded.problems);
                out.skipped.extend(loaded.skipped);
            }
            None => return Err(DataError::UnknownFormat { path: file }),
        }
    }
    Ok(out)
}

/// The files `path` stands for, sorted by name.
pub fn data_files(path: &Path) -> Result<Vec<PathBuf>, DataError> {
    let text = path.to_string_lossy();
    if text.contains(['*', '?', '[']) {
        let bad_pattern = |e: String| DataError::Dataset {
            path: path.to_path_buf(),
            what: format!("not a valid file pattern ({e})"),
            fix: "use `*` for any part of a file name, e.g. data/train-*.parquet".into(),
        };
        let mut files = Vec::new();
        for entry in glob::glob(&text).map_err(|e| bad_pattern(e.to_string()))? {
            let file = entry.map_err(|e| DataError::Io {
                path: e.path().to_path_buf(),
                source: e.into(),
            })?;
            if file.is_file() {
                files.push(file);
            }
        }
        files.sort();
        return non_empty(path, files, "match this pattern");
    }
    if path.is_dir() {
        let io = |source| DataError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            let file = entry.map_err(io)?.path();
            if file.is_file() && DataFormat::of(&file) == Some(DataFormat::Parquet) {
                files.push(file);
            }
        }
        files.sort();
        return non_empty(path, files, "(*.parquet) in this folder");
    }
    if DataFormat::of(path).is_none() {
        return Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
        });
    }
    Ok(vec![path.to_path_buf()])
}

fn non_empty(
    path: &Path,
    files: Vec<PathBuf>,
    what: &'static str,
) -> Result<Vec<PathBuf>, DataError> {
    if files.is_empty() {
        return Err(DataError::NoFiles {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_file_name() {
        let of = |s: &str| DataFormat::of(Path::new(s));
        assert_eq!(
            of("a/train-00000-of-00002.parquet"),
            Some(DataFormat::Parquet)
        );
        assert_eq!(of("x.JSONL.gz"), Some(DataFormat::JsonLines));
        assert_eq!(of("x.json"), Some(DataFormat::JsonLines));
        assert_eq!(of("x.csv"), None);
        assert_eq!(of("data"), None);
    }

    #[test]
    fn empty_folder_pattern_and_unknown_type_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let err = data_files(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("no data files (*.parquet) in this folder"),
            "{err}"
        );
        let err = data_files(&dir.path().join("train-*.parquet"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no data files match this pattern"), "{err}");
        let err = data_files(&dir.path().join("notes.txt"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown data file type"), "{err}");
    }
}
