//! Reads a written output back as JSON rows, whatever its format, for
//! `runi test`'s golden comparison.

use std::fs::File;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::json::writer::{JsonArray, WriterBuilder};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use runink_plan::DataFormat;
use serde_json::{Map, Value};

use crate::EngineError;

pub fn read_rows(format: DataFormat, path: &Path) -> Result<Vec<Value>, EngineError> {
    let shown = path.display().to_string();
    let fail = |e: &dyn std::fmt::Display| EngineError::read(&shown, e);
    match format {
        DataFormat::Jsonl => {
            let text = read_text(path).map_err(|e| fail(&e))?;
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).map_err(|e| fail(&e)))
                .collect()
        }
        DataFormat::Csv => {
            let text = read_text(path).map_err(|e| fail(&e))?;
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let header = reader.headers().map_err(|e| fail(&e))?.clone();
            let mut rows = Vec::new();
            for record in reader.records() {
                let record = record.map_err(|e| fail(&e))?;
                let row: Map<String, Value> = header
                    .iter()
                    .zip(record.iter())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
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

fn read_text(path: &Path) -> std::io::Result<String> {
    let name = path.to_string_lossy();
    let bytes = std::fs::read(path)?;
    let bytes = if name.ends_with(".gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(bytes.as_slice()),
            &mut out,
        )?;
        out
    } else if name.ends_with(".zst") {
        zstd::decode_all(bytes.as_slice())?
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
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
