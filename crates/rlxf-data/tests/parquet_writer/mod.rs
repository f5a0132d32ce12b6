//! Writes small Parquet files with the `parquet` crate's low-level writer, in the layouts pyarrow
//! uses (optional columns; lists in the three-level LIST structure).

use std::path::Path;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// One optional column of a test file.
pub enum Column {
    Str(&'static str, Vec<Option<&'static str>>),
    Long(&'static str, Vec<Option<i64>>),
    Double(&'static str, Vec<Option<f64>>),
    Bool(&'static str, Vec<Option<bool>>),
    /// A list<string> column in the three-level layout pyarrow writes.
    StrList(&'static str, Vec<Option<Vec<&'static str>>>),
}

impl Column {
    fn schema(&self) -> String {
        match self {
            Column::Str(n, _) => format!("optional binary {n} (STRING);"),
            Column::Long(n, _) => format!("optional int64 {n};"),
            Column::Double(n, _) => format!("optional double {n};"),
            Column::Bool(n, _) => format!("optional boolean {n};"),
            Column::StrList(n, _) => {
                format!("optional group {n} (LIST) {{ repeated group list {{ optional binary element (STRING); }} }}")
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Str(_, v) => v.len(),
            Column::Long(_, v) => v.len(),
            Column::Double(_, v) => v.len(),
            Column::Bool(_, v) => v.len(),
            Column::StrList(_, v) => v.len(),
        }
    }
}

/// Values and definition levels of rows `rows` of an optional flat column.
fn flat<T: Clone>(values: &[Option<T>], rows: std::ops::Range<usize>) -> (Vec<T>, Vec<i16>) {
    let slice = &values[rows];
    (
        slice.iter().flatten().cloned().collect(),
        slice.iter().map(|v| i16::from(v.is_some())).collect(),
    )
}

/// Writes `columns` to `path`, `rows_per_group` rows per row group.
pub fn write_parquet(path: &Path, columns: &[Column], rows_per_group: usize) {
    let schema = format!(
        "message row {{ {} }}",
        columns
            .iter()
            .map(Column::schema)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let schema = Arc::new(parse_message_type(&schema).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut writer =
        SerializedFileWriter::new(std::fs::File::create(path).unwrap(), schema, props).unwrap();
    let total = columns[0].len();
    for start in (0..total).step_by(rows_per_group) {
        let rows = start..(start + rows_per_group).min(total);
        let mut group = writer.next_row_group().unwrap();
        for column in columns {
            let mut out = group.next_column().unwrap().unwrap();
            match column {
                Column::Str(_, v) => {
                    let (values, def) = flat(v, rows.clone());
                    let values: Vec<ByteArray> = values.into_iter().map(ByteArray::from).collect();
                    out.typed::<ByteArrayType>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Column::Long(_, v) => {
                    let (values, def) = flat(v, rows.clone());
                    out.typed::<Int64Type>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Column::Double(_, v) => {
                    let (values, def) = flat(v, rows.clone());
                    out.typed::<DoubleType>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Column::Bool(_, v) => {
                    let (values, def) = flat(v, rows.clone());
                    out.typed::<BoolType>()
                        .write_batch(&values, Some(&def), None)
                        .unwrap();
                }
                Column::StrList(_, v) => {
                    // Levels: definition 0 = null list, 1 = empty list, 3 = present element;
                    // repetition 1 continues the current row's list.
                    let (mut values, mut def, mut rep) = (Vec::new(), Vec::new(), Vec::new());
                    for row in &v[rows.clone()] {
                        match row.as_deref() {
                            None => {
                                def.push(0);
                                rep.push(0);
                            }
                            Some([]) => {
                                def.push(1);
                                rep.push(0);
                            }
                            Some(items) => {
                                for (i, item) in items.iter().enumerate() {
                                    values.push(ByteArray::from(*item));
                                    def.push(3);
                                    rep.push(i16::from(i > 0));
                                }
                            }
                        }
                    }
                    out.typed::<ByteArrayType>()
                        .write_batch(&values, Some(&def), Some(&rep))
                        .unwrap();
                }
            }
            out.close().unwrap();
        }
        group.close().unwrap();
    }
    writer.close().unwrap();
}
