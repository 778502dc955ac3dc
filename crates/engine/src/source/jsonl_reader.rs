//! JSON Lines: one JSON object per line. Every column is read as text
//! (strings as they are, numbers and booleans as JSON writes them, objects
//! and arrays as JSON text); the contract gives types later. A line that is
//! not a JSON object becomes a [`BadRecord`] with its line number.

use std::io::BufRead;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde_json::{Map, Value};

use super::{BadRecord, SourceBatch};
use crate::EngineError;
use crate::limits::Limits;

pub struct JsonlReader {
    input: Box<dyn BufRead + Send>,
    /// Known once the first object is read when no contract names them.
    schema: Option<SchemaRef>,
    uri: String,
    batch_rows_max: usize,
    record_bytes_max: usize,
    line_number: u64,
    bytes_read: u64,
    line: Vec<u8>,
    done: bool,
    /// An object with a key outside the known columns is a bad record
    /// (what an `exec` step's program emits), instead of the key being
    /// ignored (a source, whose extra keys are drift).
    undeclared_fields_rejected: bool,
}

impl JsonlReader {
    pub fn new<R: BufRead + Send + 'static>(
        input: R,
        columns: Option<&[String]>,
        uri: &str,
        limits: &Limits,
    ) -> Self {
        Self {
            input: Box::new(input),
            schema: columns.map(text_schema),
            uri: uri.to_owned(),
            batch_rows_max: limits.batch_rows_max,
            record_bytes_max: limits.record_bytes_max,
            line_number: 0,
            bytes_read: 0,
            line: Vec::new(),
            done: false,
            undeclared_fields_rejected: false,
        }
    }

    /// Makes a key outside `columns` a bad record (see the field).
    pub fn rejecting_undeclared_fields(mut self) -> Self {
        self.undeclared_fields_rejected = true;
        self
    }

    pub fn next_batch(&mut self) -> Result<Option<SourceBatch>, EngineError> {
        let mut objects: Vec<Map<String, Value>> = Vec::new();
        let mut lines = Vec::new();
        let mut bad = Vec::new();
        while !self.done && objects.len() < self.batch_rows_max {
            self.line.clear();
            let read = std::io::Read::take(&mut self.input, self.record_bytes_max as u64 + 1)
                .read_until(b'\n', &mut self.line)
                .map_err(|e| EngineError::read(&self.uri, e))?;
            if read == 0 {
                self.done = true;
                break;
            }
            self.bytes_read += read as u64;
            self.line_number += 1;
            let line_number = self.line_number;
            if self.line.len() > self.record_bytes_max {
                self.skip_rest_of_line()?;
                bad.push(BadRecord {
                    line: line_number,
                    message: format!(
                        "the line is longer than {} bytes (`record_bytes_max`)",
                        self.record_bytes_max
                    ),
                    fields: Vec::new(),
                });
                continue;
            }
            let text = trim_line(&self.line);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Value>(text) {
                Ok(Value::Object(object)) => match self.undeclared_field(&object) {
                    Some(message) => bad.push(BadRecord {
                        line: line_number,
                        message,
                        fields: object
                            .into_iter()
                            .map(|(k, v)| {
                                let text = match v {
                                    Value::Null => None,
                                    Value::String(s) => Some(s),
                                    other => Some(other.to_string()),
                                };
                                (k, text)
                            })
                            .collect(),
                    }),
                    None => {
                        objects.push(object);
                        lines.push(line_number);
                    }
                },
                Ok(other) => bad.push(BadRecord {
                    line: line_number,
                    message: format!("expected a JSON object, found {}", kind(&other)),
                    fields: Vec::new(),
                }),
                Err(e) => bad.push(BadRecord {
                    line: line_number,
                    message: format!("not valid JSON: {e}"),
                    fields: Vec::new(),
                }),
            }
        }
        if objects.is_empty() && bad.is_empty() {
            return Ok(None);
        }
        let schema = match &self.schema {
            Some(schema) => Arc::clone(schema),
            None => {
                let mut names: Vec<String> = objects
                    .first()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                names.sort();
                let schema = text_schema(&names);
                if !objects.is_empty() {
                    self.schema = Some(Arc::clone(&schema));
                }
                schema
            }
        };
        let mut builders: Vec<StringBuilder> = schema
            .fields()
            .iter()
            .map(|_| StringBuilder::with_capacity(objects.len(), objects.len() * 16))
            .collect();
        for object in &objects {
            for (builder, field) in builders.iter_mut().zip(schema.fields()) {
                match object.get(field.name()) {
                    None | Some(Value::Null) => builder.append_null(),
                    Some(Value::String(s)) => builder.append_value(s),
                    Some(other) => builder.append_value(other.to_string()),
                }
            }
        }
        let columns: Vec<ArrayRef> = builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(schema, columns)?;
        Ok(Some(SourceBatch {
            batch,
            lines,
            bad,
            bytes_read: self.bytes_read,
        }))
    }

    fn undeclared_field(&self, object: &Map<String, Value>) -> Option<String> {
        let schema = self
            .schema
            .as_ref()
            .filter(|_| self.undeclared_fields_rejected)?;
        let name = object.keys().find(|k| schema.index_of(k).is_err())?;
        Some(format!(
            "the field `{name}` is not one of the declared columns ({})",
            crate::steps::column_list(schema)
        ))
    }

    fn skip_rest_of_line(&mut self) -> Result<(), EngineError> {
        if self.line.last() == Some(&b'\n') {
            return Ok(());
        }
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let read = std::io::Read::take(&mut self.input, 1 << 20)
                .read_until(b'\n', &mut rest)
                .map_err(|e| EngineError::read(&self.uri, e))?;
            self.bytes_read += read as u64;
            if read == 0 || rest.last() == Some(&b'\n') {
                return Ok(());
            }
        }
    }
}

fn text_schema(names: &[String]) -> SchemaRef {
    Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(line)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
