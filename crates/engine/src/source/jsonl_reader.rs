//! JSON Lines: one JSON object per line. Every column is read as text
//! (strings as they are, numbers and booleans as JSON writes them, objects
//! and arrays as JSON text); the contract gives types later. A line that is
//! not a JSON object, or whose object gives a key twice, becomes a
//! [`BadRecord`] with its line number; so does an array or object where
//! the contract's column is not of type `object` or `array`.

use std::io::BufRead;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use runink_contract::LogicalType;
use std::collections::BTreeMap;

use super::json_line::{JsonField, JsonLine};
use super::{BadRecord, ExpectedColumns, SourceBatch};
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
    /// The contract's type of each known column, when a contract gives
    /// them: a JSON array or object is read only into an `object` or
    /// `array` column.
    kinds: Option<Vec<(String, LogicalType)>>,
    /// With a contract: the first object's keys the contract does not name
    /// are still to be added as columns after the contract's, as a CSV
    /// header's extra columns are (schema drift, reported and kept).
    extra_keys_pending: bool,
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
            kinds: None,
            extra_keys_pending: false,
        }
    }

    /// Reads the columns `expected` names, and refuses a JSON array or
    /// object in any of them but the `object` and `array` ones.
    pub fn expecting(mut self, expected: &ExpectedColumns) -> Self {
        self.schema = Some(text_schema(&expected.names));
        self.kinds = Some(
            expected
                .names
                .iter()
                .cloned()
                .zip(expected.kinds.iter().copied())
                .collect(),
        );
        self.extra_keys_pending = true;
        self
    }

    /// Refuses a JSON array or object in a column whose kind is not
    /// `object` or `array` (what an `exec` step's program emits).
    pub fn with_column_kinds(mut self, kinds: Vec<(String, LogicalType)>) -> Self {
        self.kinds = Some(kinds);
        self
    }

    /// Makes a key outside `columns` a bad record (see the field).
    pub fn rejecting_undeclared_fields(mut self) -> Self {
        self.undeclared_fields_rejected = true;
        self
    }

    pub fn next_batch(&mut self) -> Result<Option<SourceBatch>, EngineError> {
        let mut objects: Vec<BTreeMap<String, JsonField>> = Vec::new();
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
            match serde_json::from_slice::<JsonLine>(text) {
                Ok(JsonLine::Object(object)) => {
                    match self
                        .undeclared_field(&object)
                        .or_else(|| self.structured_value_in_scalar_column(&object))
                    {
                        Some(message) => bad.push(BadRecord {
                            line: line_number,
                            message,
                            fields: fields_as_text(object),
                        }),
                        None => {
                            objects.push(object);
                            lines.push(line_number);
                        }
                    }
                }
                Ok(JsonLine::Other(kind)) => bad.push(BadRecord {
                    line: line_number,
                    message: format!("expected a JSON object, found {kind}"),
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
        if self.extra_keys_pending
            && let (Some(schema), Some(first)) = (&self.schema, objects.first())
        {
            let extra: Vec<Field> = first
                .keys()
                .filter(|key| schema.index_of(key).is_err())
                .map(|key| Field::new(key, DataType::Utf8, true))
                .collect();
            let mut fields: Vec<Field> =
                schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            fields.extend(extra);
            self.schema = Some(Arc::new(Schema::new(fields)));
            self.extra_keys_pending = false;
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
                match object.get(field.name()).and_then(JsonField::text) {
                    None => builder.append_null(),
                    Some(text) => builder.append_value(text),
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

    fn undeclared_field(&self, object: &BTreeMap<String, JsonField>) -> Option<String> {
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

    /// An array or object in a column the contract types as anything but
    /// `object` or `array`: read as text it would pass for a string.
    fn structured_value_in_scalar_column(
        &self,
        object: &BTreeMap<String, JsonField>,
    ) -> Option<String> {
        self.kinds.as_ref()?.iter().find_map(|(name, kind)| {
            let JsonField::Structured { kind: found, .. } = object.get(name)? else {
                return None;
            };
            let structured = matches!(kind, LogicalType::Object | LogicalType::Array);
            (!structured).then(|| {
                format!(
                    "the field `{name}` is {found}, where the contract's column is of type `{}`; only `object` and `array` columns take JSON objects and arrays",
                    kind.name()
                )
            })
        })
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

/// An object's values as the texts a column holds: strings as they are,
/// other values as JSON writes them.
fn fields_as_text(object: BTreeMap<String, JsonField>) -> Vec<(String, Option<String>)> {
    object
        .into_iter()
        .map(|(key, value)| {
            let text = value.text().map(str::to_owned);
            (key, text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};

    use super::*;

    fn read(text: &str, expected: &ExpectedColumns) -> SourceBatch {
        JsonlReader::new(
            std::io::Cursor::new(text.to_owned()),
            None,
            "t",
            &Limits::default(),
        )
        .expecting(expected)
        .next_batch()
        .unwrap()
        .unwrap()
    }

    #[test]
    fn only_object_and_array_columns_take_json_objects_and_arrays() {
        let expected = ExpectedColumns {
            names: vec!["tags".into(), "name".into()],
            kinds: vec![LogicalType::Array, LogicalType::String],
        };
        let text = concat!(
            "{\"tags\": [1, 2], \"name\": \"a\"}\n",
            "{\"tags\": [3], \"name\": {\"first\": \"b\"}}\n",
            "{\"tags\": null, \"name\": 7}\n",
        );
        let batch = read(text, &expected);
        assert_eq!(batch.lines, vec![1, 3]);
        let tags = batch.batch.column(0).as_string::<i32>();
        assert_eq!(tags.value(0), "[1, 2]");
        assert!(tags.is_null(1));
        // A number is read as its text into a string column.
        assert_eq!(batch.batch.column(1).as_string::<i32>().value(1), "7");
        assert_eq!(batch.bad.len(), 1);
        assert_eq!(batch.bad[0].line, 2);
        assert!(
            batch.bad[0].message.contains("`name` is an object"),
            "{}",
            batch.bad[0].message
        );
    }
}
