//! The dead-letter queue: one JSON object per rejected row, holding the
//! row's fields (sensitive ones masked: the DLQ is never a way around
//! masking) and `_runink` = { run_id, step, rule, field, message, source,
//! line }. With `--all-violations`, `_runink.violations` lists every rule
//! the row broke.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use runink_contract::{CheckedBatch, MaskRule, Masker};
use runink_plan::{Endpoint, Location};
use serde::Serialize;
use serde_json::Value;

use crate::EngineError;
use crate::output_file::Compressed;
use crate::staging::StagedFile;

/// Where a rejected row failed and why.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    pub step: String,
    pub rule: String,
    pub field: String,
    pub message: String,
    pub source: String,
    /// 1-based line (text sources) or row (binary sources, or after a SQL
    /// step, the row of the step's output).
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<Violation>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub rule: String,
    pub field: String,
    pub message: String,
}

#[derive(Serialize)]
struct RunInk<'a> {
    run_id: &'a str,
    #[serde(flatten)]
    rejection: &'a Rejection,
}

/// Where the DLQ's lines go.
enum Destination {
    /// `--dry-run`: rows are counted, nothing is written.
    Nowhere,
    /// A file, staged and committed with the run's outputs.
    File(StagedFile, Compressed),
    /// `stdout://`: written as they come (beside a stdout sink's rows,
    /// told apart by their `_runink`), not atomic, as any stdout output.
    Stdout(io::Stdout),
}

pub struct DlqWriter {
    run_id: String,
    uri: String,
    file: Destination,
    masked: HashMap<String, MaskRule>,
    masker: Masker,
    line: Vec<u8>,
    pub rows: u64,
}

impl std::fmt::Debug for DlqWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DlqWriter")
            .field("uri", &self.uri)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl DlqWriter {
    /// Opens the DLQ; `dry_run` counts rows and writes nothing.
    pub fn open(
        endpoint: &Endpoint,
        base_dir: &Path,
        run_id: &str,
        masked: HashMap<String, MaskRule>,
        masker: Masker,
        dry_run: bool,
    ) -> Result<Self, EngineError> {
        let file = match (&endpoint.location, dry_run) {
            (_, true) => {
                crate::staging::check_output(endpoint, base_dir)?;
                Destination::Nowhere
            }
            (Location::File { path }, false) => {
                let target = base_dir.join(path);
                let (staged, file) = Compressed::open(&target, run_id, None)
                    .map_err(|e| EngineError::write(&endpoint.uri, e))?;
                Destination::File(staged, file)
            }
            (Location::Stdout, false) => Destination::Stdout(io::stdout()),
            (Location::Stdin, false) => {
                return Err(EngineError::Plan(format!(
                    "the DLQ `{}` cannot be written to",
                    endpoint.uri
                )));
            }
        };
        Ok(Self {
            run_id: run_id.to_owned(),
            uri: endpoint.uri.clone(),
            file,
            masked,
            masker,
            line: Vec::new(),
            rows: 0,
        })
    }

    /// Writes one rejected row: `fields` are (column, value) in order.
    /// Sensitive fields are masked, but for those in `masked_already` (a
    /// `mask` step before the row was rejected masked them).
    pub fn write(
        &mut self,
        fields: &[(String, Value)],
        rejection: &Rejection,
        masked_already: &HashSet<String>,
    ) -> Result<(), EngineError> {
        if !self.begin_row() {
            return Ok(());
        }
        for (name, value) in fields {
            let rule = self.mask_rule(name, masked_already);
            self.push_field(name, value, rule)
                .map_err(|e| EngineError::write(&self.uri, e))?;
        }
        self.end_line(rejection)
    }

    /// Writes one rejected row from the columns it is in (row `row` of
    /// each), as [`write`](Self::write) writes the same fields, without
    /// making them first.
    pub fn write_row(
        &mut self,
        columns: &[(String, ArrayRef)],
        row: usize,
        rejection: &Rejection,
        masked_already: &HashSet<String>,
    ) -> Result<(), EngineError> {
        if !self.begin_row() {
            return Ok(());
        }
        for (name, array) in columns {
            let rule = self.mask_rule(name, masked_already);
            // Text, the common case (raw CSV fields), goes straight in.
            let written = match array.as_string_opt::<i32>() {
                Some(text) if text.is_valid(row) => {
                    self.push_text_field(name, text.value(row), rule)
                }
                _ => self.push_field(name, &value_json(array, row), rule),
            };
            written.map_err(|e| EngineError::write(&self.uri, e))?;
        }
        self.end_line(rejection)
    }

    /// How the field `name` is masked here: not at all when it is not
    /// sensitive or is masked already.
    fn mask_rule(&self, name: &str, masked_already: &HashSet<String>) -> Option<MaskRule> {
        self.masked
            .get(name)
            .copied()
            .filter(|_| !masked_already.contains(name))
    }

    /// Counts a row and starts its line; `false` when nothing is written
    /// (a dry run).
    fn begin_row(&mut self) -> bool {
        self.rows += 1;
        if matches!(self.file, Destination::Nowhere) {
            return false;
        }
        self.line.clear();
        self.line.push(b'{');
        true
    }

    /// `"name":value,` with the value masked by `rule`.
    fn push_field(
        &mut self,
        name: &str,
        value: &Value,
        rule: Option<MaskRule>,
    ) -> Result<(), serde_json::Error> {
        match (rule, value) {
            (Some(_), Value::String(text)) => return self.push_text_field(name, text, rule),
            (Some(r), other) if !other.is_null() && r != MaskRule::None => {
                return self.push_text_field(name, &other.to_string(), rule);
            }
            _ => {}
        }
        serde_json::to_writer(&mut self.line, name)?;
        self.line.push(b':');
        serde_json::to_writer(&mut self.line, value)?;
        self.line.push(b',');
        Ok(())
    }

    /// `"name":"text",` with the text masked by `rule`.
    fn push_text_field(
        &mut self,
        name: &str,
        text: &str,
        rule: Option<MaskRule>,
    ) -> Result<(), serde_json::Error> {
        serde_json::to_writer(&mut self.line, name)?;
        self.line.push(b':');
        match rule {
            Some(rule) => {
                serde_json::to_writer(&mut self.line, &self.masker.mask_value(rule, text))?;
            }
            None => serde_json::to_writer(&mut self.line, text)?,
        }
        self.line.push(b',');
        Ok(())
    }

    /// Adds `_runink` and writes the line out.
    fn end_line(&mut self, rejection: &Rejection) -> Result<(), EngineError> {
        self.line.extend_from_slice(b"\"_runink\":");
        serde_json::to_writer(
            &mut self.line,
            &RunInk {
                run_id: &self.run_id,
                rejection,
            },
        )
        .map_err(|e| EngineError::write(&self.uri, e))?;
        self.line.extend_from_slice(b"}\n");
        let written = match &mut self.file {
            Destination::Nowhere => return Ok(()),
            Destination::File(_, file) => file.write_all(&self.line),
            Destination::Stdout(stdout) => stdout.lock().write_all(&self.line),
        };
        written.map_err(|e| EngineError::write(&self.uri, e))
    }

    pub fn finish(self) -> Result<Option<StagedFile>, EngineError> {
        match self.file {
            Destination::Nowhere => Ok(None),
            Destination::File(staged, file) => {
                file.finish()
                    .map_err(|e| EngineError::write(&self.uri, e))?;
                Ok(Some(staged))
            }
            Destination::Stdout(stdout) => {
                stdout
                    .lock()
                    .flush()
                    .map_err(|e| EngineError::write(&self.uri, e))?;
                Ok(None)
            }
        }
    }

    pub fn abort(self) {
        if let Destination::File(staged, _) = self.file {
            staged.abort();
        }
    }
}

/// A field as a JSON value: text as a string, numbers and booleans as
/// themselves, anything else as its display text.
fn value_json(array: &ArrayRef, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_owned()),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64 => {
            let text = value_text(array, row).unwrap_or_default();
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        // A list, struct or map as the JSON it is, not Arrow's display.
        nested if nested.is_nested() => value_text(array, row)
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null),
        _ => value_text(array, row).map_or(Value::Null, Value::String),
    }
}

/// A value as text; `None` for null (or a type Arrow cannot display).
pub fn value_text(array: &ArrayRef, row: usize) -> Option<String> {
    runink_contract::value_text(array, row).ok().flatten()
}

/// Row `row` of `batch`: every column's name and value as text (`None`
/// for a null).
pub fn row_texts(batch: &RecordBatch, row: usize) -> Vec<(String, Option<String>)> {
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| (field.name().clone(), value_text(column, row)))
        .collect()
}

/// Row `row` of `batch` as DLQ fields.
pub fn row_fields(batch: &RecordBatch, row: usize) -> Vec<(String, Value)> {
    fields_of(row_texts(batch, row))
}

/// Text values as DLQ fields (`null` for `None`).
pub fn fields_of(texts: Vec<(String, Option<String>)>) -> Vec<(String, Value)> {
    texts
        .into_iter()
        .map(|(name, value)| (name, value.map_or(Value::Null, Value::String)))
        .collect()
}

/// The DLQ rows of a checked batch: the rejected rows' raw fields, as
/// columns by name, and why each row was rejected (row `i` of the columns
/// is `rejections[i]`).
#[derive(Debug, Default)]
pub struct CheckedRejections {
    pub columns: Vec<(String, ArrayRef)>,
    pub rejections: Vec<Rejection>,
}

/// The DLQ rows of a checked batch: each rejected row's raw fields, with
/// the first rule it broke (every rule with `all_violations`). `lines` are
/// the raw batch's source lines (empty when the rows have none).
pub fn checked_rejections(
    raw: &RecordBatch,
    lines: &[u64],
    checked: &CheckedBatch,
    step: &str,
    source: &str,
    all_violations: bool,
) -> Result<CheckedRejections, ArrowError> {
    if checked.rejected_rows.is_empty() {
        return Ok(CheckedRejections::default());
    }
    let indices = UInt32Array::from(checked.rejected_rows.clone());
    let columns: Vec<(String, ArrayRef)> = raw
        .schema()
        .fields()
        .iter()
        .zip(raw.columns())
        .map(|(f, c)| Ok((f.name().clone(), take(c.as_ref(), &indices, None)?)))
        .collect::<Result<_, ArrowError>>()?;
    let rejections = checked
        .rejected_rows
        .iter()
        .zip(&checked.findings)
        .map(|(row, findings)| {
            let first = &findings[0];
            let violations = all_violations.then(|| {
                findings
                    .iter()
                    .map(|f| Violation {
                        rule: f.rule.name().to_owned(),
                        field: f.field.clone(),
                        message: f.message.clone(),
                    })
                    .collect()
            });
            Rejection {
                step: step.to_owned(),
                rule: first.rule.name().to_owned(),
                field: first.field.clone(),
                message: first.message.clone(),
                source: source.to_owned(),
                line: lines.get(*row as usize).copied(),
                violations,
            }
        })
        .collect();
    Ok(CheckedRejections {
        columns,
        rejections,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BooleanArray, Float64Array, Int64Array, StringArray};
    use runink_contract::{MaskKeys, TOKEN_KEY_BYTES};
    use runink_plan::DataFormat;

    use super::*;

    fn writer(dir: &Path) -> DlqWriter {
        let endpoint = Endpoint {
            uri: "jsonl://rejects.jsonl".into(),
            format: DataFormat::Jsonl,
            location: Location::File {
                path: "rejects.jsonl".into(),
            },
        };
        let masked = HashMap::from([
            ("email".to_owned(), MaskRule::Hash),
            ("score".to_owned(), MaskRule::Redact),
        ]);
        let keys = MaskKeys {
            salt: b"salt".to_vec(),
            token_key: [7; TOKEN_KEY_BYTES],
        };
        DlqWriter::open(&endpoint, dir, "run-1", masked, Masker::new(keys), false)
            .expect("the DLQ opens")
    }

    fn written(dlq: DlqWriter, dir: &Path) -> String {
        dlq.finish()
            .expect("the DLQ finishes")
            .expect("a file was staged")
            .commit()
            .expect("the DLQ commits");
        std::fs::read_to_string(dir.join("rejects.jsonl")).expect("the DLQ reads")
    }

    /// Rows written straight from their columns read exactly as the same
    /// fields written as values: text (and null text), numbers, booleans,
    /// masked text and masked numbers.
    #[test]
    fn a_row_from_its_columns_is_written_as_its_fields_are() {
        let columns: Vec<(String, ArrayRef)> = vec![
            (
                "id".into(),
                Arc::new(StringArray::from(vec![Some("a \"quoted\" id"), None])),
            ),
            (
                "email".into(),
                Arc::new(StringArray::from(vec![Some("x@example.com"), None])),
            ),
            (
                "count".into(),
                Arc::new(Int64Array::from(vec![Some(3), None])),
            ),
            (
                "score".into(),
                Arc::new(Float64Array::from(vec![1.5, -2.0])),
            ),
            (
                "ok".into(),
                Arc::new(BooleanArray::from(vec![Some(true), Some(false)])),
            ),
        ];
        let rejection = |line| Rejection {
            step: "input contract".into(),
            rule: "required".into(),
            field: "id".into(),
            message: "no value".into(),
            source: "csv://in.csv".into(),
            line: Some(line),
            violations: None,
        };
        let by_fields = tempfile::tempdir().unwrap();
        let by_columns = tempfile::tempdir().unwrap();
        let mut fields_dlq = writer(by_fields.path());
        let mut columns_dlq = writer(by_columns.path());
        for row in 0..2 {
            let fields: Vec<(String, Value)> = columns
                .iter()
                .map(|(name, array)| (name.clone(), value_json(array, row)))
                .collect();
            fields_dlq
                .write(&fields, &rejection(row as u64 + 1), &HashSet::new())
                .unwrap();
            columns_dlq
                .write_row(&columns, row, &rejection(row as u64 + 1), &HashSet::new())
                .unwrap();
        }
        let expected = written(fields_dlq, by_fields.path());
        let lines: Vec<&str> = expected.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with(r#"{"id":"a \"quoted\" id","email":""#),
            "{expected}"
        );
        assert!(!expected.contains("x@example.com"), "masked: {expected}");
        assert!(
            lines[1].contains(r#""id":null,"email":null,"count":null"#),
            "{expected}"
        );
        assert!(!expected.contains("1.5"), "masked: {expected}");
        assert_eq!(written(columns_dlq, by_columns.path()), expected);
    }

    #[test]
    fn a_struct_field_is_written_as_a_json_object() {
        use arrow::array::StructArray;
        use arrow::datatypes::Field;
        let numbers: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
        let record: ArrayRef = Arc::new(StructArray::from(vec![(
            Arc::new(Field::new("a", DataType::Int64, true)),
            numbers,
        )]));
        assert_eq!(value_json(&record, 0), serde_json::json!({"a": 1}));
        assert_eq!(value_json(&record, 1), serde_json::json!({}));
    }
}
