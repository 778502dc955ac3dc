//! Sources: where rows come from. Each source yields raw record batches
//! with the line (text formats) or row (binary formats) each row came
//! from, plus the records it could not read, which go to the DLQ.

mod csv_reader;
mod csv_records;
mod json_line;
mod jsonl_reader;
mod open;
mod pump;
mod typed_reader;
mod whole_file;

use arrow::array::RecordBatch;
use runink_contract::{LogicalType, SchemaObject};

pub use csv_reader::{CsvOptions, CsvReader};
pub use jsonl_reader::JsonlReader;
pub(crate) use open::decompress;
pub use open::{SourceReader, is_compressed, open_source};
pub use pump::{ReadEvent, spawn_reader};
pub use typed_reader::TypedReader;

/// A record a source could not turn into a row.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRecord {
    /// 1-based line (CSV, JSONL) or row (Parquet, Arrow).
    pub line: u64,
    pub message: String,
    /// The fields that could be read, by column name, when the record's
    /// shape was readable at all (a CSV record with a wrong field count).
    pub fields: Vec<(String, Option<String>)>,
}

/// One batch read from a source.
#[derive(Debug)]
pub struct SourceBatch {
    pub batch: RecordBatch,
    /// The 1-based line or row of each row of `batch`.
    pub lines: Vec<u64>,
    /// Records in the same stretch of input that could not be read.
    pub bad: Vec<BadRecord>,
    /// Bytes of input consumed so far, for progress.
    pub bytes_read: u64,
}

/// The columns the input contract gives a source, in its order, with
/// their types: a CSV without a header takes the names, and JSON Lines
/// accept arrays and objects only where the type is `object` or `array`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedColumns {
    pub names: Vec<String>,
    pub kinds: Vec<LogicalType>,
}

impl ExpectedColumns {
    pub fn of(object: &SchemaObject) -> Self {
        Self {
            names: object.columns.iter().map(|c| c.name.clone()).collect(),
            kinds: object
                .columns
                .iter()
                .map(|c| LogicalType::of(c.logical_type.as_deref()))
                .collect(),
        }
    }
}
