//! CSV (RFC 4180 quoting, any delimiter, quote and escape), cut into
//! records by `csv_records.rs`. Every column is read as text; the contract
//! gives types later.
//! A record with the wrong number of fields, invalid UTF-8 or too many
//! bytes becomes a [`BadRecord`] with its line number; the run goes on.

use std::io::BufRead;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::csv_records::{CsvRecords, Record};
use super::{BadRecord, SourceBatch};
use crate::EngineError;
use crate::limits::Limits;

#[derive(Debug, Clone)]
pub struct CsvOptions {
    pub delimiter: u8,
    pub quote: u8,
    /// With an escape character, `""` is no longer an escaped quote.
    pub escape: Option<u8>,
    pub header: bool,
}

pub struct CsvReader {
    records: CsvRecords,
    schema: SchemaRef,
    uri: String,
    batch_rows_max: usize,
    record_bytes_max: usize,
    /// Per column, the text bytes of the last batch: the next batch's
    /// buffers start that large (plus an eighth), so they are not grown
    /// (copied) again and again while it is read.
    column_bytes: Vec<usize>,
    done: bool,
}

/// Text bytes per value a column's buffer starts with, before a batch has
/// shown how long its values are.
const FIRST_VALUE_BYTES: usize = 16;

impl CsvReader {
    pub fn new<R: BufRead + Send + 'static>(
        mut input: R,
        options: &CsvOptions,
        columns: Option<&[String]>,
        uri: &str,
        limits: &Limits,
    ) -> Result<Self, EngineError> {
        skip_bom(&mut input).map_err(|e| EngineError::read(uri, e))?;
        let mut records = CsvRecords::new(
            Box::new(input),
            options.delimiter,
            options.quote,
            options.escape,
            limits.record_bytes_max as u64,
        );
        let names: Vec<String> = if options.header {
            let header = records
                .next_record()
                .map_err(|e| EngineError::read(uri, e))?;
            header.map_or_else(Vec::new, |header| {
                header
                    .fields()
                    .map(|h| String::from_utf8_lossy(h).trim().to_owned())
                    .collect()
            })
        } else if let Some(columns) = columns {
            columns.to_vec()
        } else {
            return Err(EngineError::Plan(format!(
                "`{uri}` has `header=false` and no input contract names its columns; add `Given the contract: …` or a header line"
            )));
        };
        check_column_names(&names).map_err(|problem| {
            EngineError::read(
                uri,
                format!("its header {problem}; give every column a name of its own (or `header=false` with a contract that names them)"),
            )
        })?;
        let fields: Vec<Field> = names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect();
        Ok(Self {
            records,
            schema: Arc::new(Schema::new(fields)),
            uri: uri.to_owned(),
            batch_rows_max: limits.batch_rows_max,
            record_bytes_max: limits.record_bytes_max,
            column_bytes: vec![limits.batch_rows_max * FIRST_VALUE_BYTES; names.len()],
            done: false,
        })
    }

    /// The columns, from the header or the contract, known before any row.
    pub fn schema(&self) -> SchemaRef {
        SchemaRef::clone(&self.schema)
    }

    pub fn next_batch(&mut self) -> Result<Option<SourceBatch>, EngineError> {
        if self.done {
            return Ok(None);
        }
        let mut builders: Vec<StringBuilder> = self
            .column_bytes
            .iter()
            .map(|bytes| StringBuilder::with_capacity(self.batch_rows_max, bytes + bytes / 8))
            .collect();
        let mut lines = Vec::with_capacity(self.batch_rows_max);
        let mut bad = Vec::new();
        while lines.len() < self.batch_rows_max {
            let Some(record) = self
                .records
                .next_record()
                .map_err(|e| EngineError::read(&self.uri, e))?
            else {
                self.done = true;
                break;
            };
            let text = match record_text(&record, &self.schema, self.record_bytes_max) {
                Ok(text) => text,
                Err(problem) => {
                    bad.push(BadRecord {
                        line: record.line,
                        message: problem,
                        fields: readable_fields(&record, &self.schema),
                    });
                    continue;
                }
            };
            for (index, builder) in builders.iter_mut().enumerate() {
                let range = record.range(index);
                if range.is_empty() {
                    builder.append_null();
                } else {
                    builder.append_value(&text[range]);
                }
            }
            lines.push(record.line);
        }
        if lines.is_empty() && bad.is_empty() {
            return Ok(None);
        }
        for (bytes, builder) in self.column_bytes.iter_mut().zip(&builders) {
            *bytes = builder.values_slice().len();
        }
        let columns: Vec<ArrayRef> = builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        let bytes_read = self.records.bytes_read();
        Ok(Some(SourceBatch {
            batch,
            lines,
            bad,
            bytes_read,
        }))
    }
}

/// The record's text, once it has a field for each column, fits the byte
/// bound and is UTF-8 (field boundaries are ASCII, so every field is too);
/// otherwise what is wrong with it.
fn record_text<'a>(
    record: &Record<'a>,
    schema: &Schema,
    record_bytes_max: usize,
) -> Result<&'a str, String> {
    let width = schema.fields().len();
    if record.len() != width {
        return Err(format!("expected {width} fields, found {}", record.len()));
    }
    if record.content_len() > record_bytes_max {
        return Err(format!(
            "the record is longer than {record_bytes_max} bytes (`record_bytes_max`)"
        ));
    }
    std::str::from_utf8(record.bytes).map_err(|_| {
        let at = record
            .fields()
            .position(|f| std::str::from_utf8(f).is_err())
            .unwrap_or(0);
        format!("field `{}` is not valid UTF-8", schema.field(at).name())
    })
}

/// The record's fields under the header's names, as far as both go.
fn readable_fields(record: &Record, schema: &Schema) -> Vec<(String, Option<String>)> {
    schema
        .fields()
        .iter()
        .zip(record.fields())
        .map(|(f, v)| {
            (
                f.name().clone(),
                (!v.is_empty()).then(|| String::from_utf8_lossy(v).into_owned()),
            )
        })
        .collect()
}

/// Every column needs a name, and a name of its own: contracts, steps
/// and sinks find columns by name.
fn check_column_names(names: &[String]) -> Result<(), String> {
    // By name, not by a scan of those before: a file may have 100,000 columns.
    let mut first_of: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(format!("has no name for column {}", i + 1));
        }
        if let Some(first) = first_of.insert(name, i) {
            return Err(format!(
                "names `{name}` twice (columns {} and {})",
                first + 1,
                i + 1
            ));
        }
    }
    Ok(())
}

fn skip_bom<R: BufRead>(input: &mut R) -> std::io::Result<()> {
    let buffer = input.fill_buf()?;
    if buffer.starts_with(&[0xEF, 0xBB, 0xBF]) {
        input.consume(3);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: String, record_bytes_max: usize) -> CsvReader {
        let limits = Limits {
            record_bytes_max,
            ..Limits::default()
        };
        let options = CsvOptions {
            delimiter: b',',
            quote: b'"',
            escape: None,
            header: true,
        };
        CsvReader::new(
            std::io::Cursor::new(text),
            &options,
            None,
            "csv://t",
            &limits,
        )
        .unwrap()
    }

    /// A quote left open makes the rest of the file one record: reading
    /// stops once it is past the bound (plus the parser's read-ahead),
    /// naming the line it starts on, instead of holding the whole file.
    #[test]
    fn a_record_with_no_end_is_refused_past_the_bound() {
        let mut text = String::from("id,note\n1,ok\n2,\"open\n");
        while text.len() < 3 << 20 {
            text.push_str("3,more text that the open quote swallows\n");
        }
        let error = reader(text, 1000).next_batch().unwrap_err().to_string();
        assert!(
            error.contains("the record that starts on line 3 runs past 1000 bytes"),
            "{error}"
        );
    }

    /// Long files of short records are not bounded by it.
    #[test]
    fn many_short_records_pass_a_small_bound() {
        let mut text = String::from("id,note\n");
        for i in 0..100_000 {
            text.push_str(&format!("{i},a short note\n"));
        }
        let batch = reader(text, 100).next_batch().unwrap().unwrap();
        assert!(batch.bad.is_empty());
        assert!(batch.batch.num_rows() > 0);
    }
}
