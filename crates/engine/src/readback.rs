//! Reads a written output back as JSON rows, whatever its format, for
//! `runi test`'s golden comparison. Text outputs are read with the sink's
//! own options: its compression, and a CSV sink's delimiter, quote, escape
//! and header. A CSV written without a header is keyed by field position
//! (`"1"`, `"2"`, ...).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::json::writer::{JsonArray, WriterBuilder};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use runink_plan::{DataFormat, OptionValue};
use serde_json::{Map, Value};

use crate::EngineError;
use crate::options::text_option;
use crate::sink::csv_sink_options;
use crate::source::decompress;

/// The rows of the output at `path`, written in `format` with a sink's
/// `options`.
pub fn read_rows(
    format: DataFormat,
    path: &Path,
    options: &BTreeMap<String, OptionValue>,
) -> Result<Vec<Value>, EngineError> {
    let shown = path.display().to_string();
    let fail = |e: &dyn std::fmt::Display| EngineError::read(&shown, e);
    let compression = text_option(options, "compression");
    match format {
        DataFormat::Jsonl => {
            let text = read_text(path, compression.as_deref()).map_err(|e| fail(&e))?;
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).map_err(|e| fail(&e)))
                .collect()
        }
        DataFormat::Csv => {
            let text = read_text(path, compression.as_deref()).map_err(|e| fail(&e))?;
            let dialect = csv_sink_options(options);
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(dialect.header)
                .delimiter(dialect.delimiter)
                .quote(dialect.quote)
                .escape(dialect.escape)
                .double_quote(dialect.escape.is_none())
                .from_reader(text.as_bytes());
            let names: Vec<String> = if dialect.header {
                let header = reader.headers().map_err(|e| fail(&e))?;
                header.iter().map(str::to_owned).collect()
            } else {
                Vec::new()
            };
            let mut rows = Vec::new();
            for record in reader.records() {
                let record = record.map_err(|e| fail(&e))?;
                let row: Map<String, Value> = record
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(i, v)| {
                        let name = names.get(i).cloned().unwrap_or_else(|| (i + 1).to_string());
                        (name, Value::String(v.to_owned()))
                    })
                    .collect();
                rows.push(Value::Object(row));
            }
            Ok(rows)
        }
        DataFormat::Parquet => {
            let file = File::open(path).map_err(|e| fail(&e))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.build())
                .map_err(|e| fail(&e))?;
            let batches: Vec<RecordBatch> =
                reader.collect::<Result<_, _>>().map_err(|e| fail(&e))?;
            batches_to_json(&batches).map_err(|e| fail(&e))
        }
        DataFormat::Arrow => {
            let file = File::open(path).map_err(|e| fail(&e))?;
            let reader =
                arrow::ipc::reader::FileReader::try_new(file, None).map_err(|e| fail(&e))?;
            let batches: Vec<RecordBatch> =
                reader.collect::<Result<_, _>>().map_err(|e| fail(&e))?;
            batches_to_json(&batches).map_err(|e| fail(&e))
        }
    }
}

/// The text of a CSV or JSON Lines output, decompressed as the sink's
/// `compression` says (or the file's extension).
fn read_text(path: &Path, compression: Option<&str>) -> std::io::Result<String> {
    let file = File::open(path)?;
    let mut text = String::new();
    decompress(Box::new(file), compression, &path.to_string_lossy())?.read_to_string(&mut text)?;
    Ok(text)
}

fn batches_to_json(batches: &[RecordBatch]) -> Result<Vec<Value>, String> {
    let mut buffer = Vec::new();
    let mut writer = WriterBuilder::new().build::<_, JsonArray>(&mut buffer);
    for batch in batches {
        writer.write(batch).map_err(|e| e.to_string())?;
    }
    writer.finish().map_err(|e| e.to_string())?;
    drop(writer);
    if buffer.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&buffer).map_err(|e| e.to_string())
}
