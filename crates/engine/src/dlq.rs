//! The dead-letter queue: one JSON object per rejected row, holding the
//! row's fields (sensitive ones masked: the DLQ is never a way around
//! masking) and `_runink` = { run_id, step, rule, field, message, source,
//! line }. With `--all-violations`, `_runink.violations` lists every rule
//! the row broke.

use std::collections::HashMap;
use std::io::Write;
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

pub struct DlqWriter {
    run_id: String,
    uri: String,
    file: Option<(StagedFile, Compressed)>,
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
            (_, true) => None,
            (Location::File { path }, false) => {
                let target = base_dir.join(path);
                Some(
                    Compressed::open(&target, run_id, None)
                        .map_err(|e| EngineError::write(&endpoint.uri, e))?,
                )
            }
            (_, false) => {
                return Err(EngineError::Plan(format!(
                    "the DLQ `{}` must be a file",
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
    pub fn write(
        &mut self,
        fields: &[(String, Value)],
        rejection: &Rejection,
    ) -> Result<(), EngineError> {
        self.rows += 1;
        let Some((_, file)) = &mut self.file else {
            return Ok(());
        };
        self.line.clear();
        self.line.push(b'{');
        for (name, value) in fields {
            let value = match (self.masked.get(name), value) {
                (Some(rule), Value::String(text)) => {
                    Value::String(self.masker.mask_value(*rule, text))
                }
                (Some(rule), other) if !other.is_null() && *rule != MaskRule::None => {
                    Value::String(self.masker.mask_value(*rule, &other.to_string()))
                }
                _ => value.clone(),
            };
            serde_json::to_writer(&mut self.line, name)
                .map_err(|e| EngineError::write(&self.uri, e))?;
            self.line.push(b':');
            serde_json::to_writer(&mut self.line, &value)
                .map_err(|e| EngineError::write(&self.uri, e))?;
            self.line.push(b',');
        }
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
        file.write_all(&self.line)
            .map_err(|e| EngineError::write(&self.uri, e))
    }

    pub fn finish(self) -> Result<Option<StagedFile>, EngineError> {
        match self.file {
            None => Ok(None),
            Some((staged, file)) => {
                file.finish()
                    .map_err(|e| EngineError::write(&self.uri, e))?;
                Ok(Some(staged))
            }
        }
    }

    pub fn abort(self) {
        if let Some((staged, _)) = self.file {
            staged.abort();
        }
    }
}

/// A row's fields as JSON values: text as strings, numbers and booleans as
/// themselves, anything else as its display text.
pub fn row_fields(columns: &[(String, ArrayRef)], row: usize) -> Vec<(String, Value)> {
    columns
        .iter()
        .map(|(name, array)| (name.clone(), value_json(array, row)))
        .collect()
}

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
        _ => value_text(array, row).map_or(Value::Null, Value::String),
    }
}

/// A value as text; `None` for null (or a type Arrow cannot display).
pub fn value_text(array: &ArrayRef, row: usize) -> Option<String> {
    runink_contract::value_text(array, row).ok().flatten()
}

/// One DLQ row: the raw fields by column name, and why it was rejected.
pub type RejectedRow = (Vec<(String, Value)>, Rejection);

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
) -> Result<Vec<RejectedRow>, ArrowError> {
    if checked.rejected_rows.is_empty() {
        return Ok(Vec::new());
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
        .enumerate()
        .map(|(position, (row, findings))| {
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
            let rejection = Rejection {
                step: step.to_owned(),
                rule: first.rule.name().to_owned(),
                field: first.field.clone(),
                message: first.message.clone(),
                source: source.to_owned(),
                line: lines.get(*row as usize).copied(),
                violations,
            };
            (row_fields(&columns, position), rejection)
        })
        .collect();
    Ok(rejections)
}
