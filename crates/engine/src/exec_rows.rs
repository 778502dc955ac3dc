//! The rows of an `exec` step, as data: the columns its program may emit
//! (its declared output schema), the encoders that write its input in the
//! step's format, and the check that turns what it emitted into rows of the
//! declared schema. No processes here; `exec_step.rs` runs the program.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, new_null_array};
use arrow::compute::{CastOptions, cast_with_options, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::ipc::writer::StreamWriter;
use arrow::json::writer::LineDelimited;
use runink_plan::ExecFormat;

/// The columns an `exec` step's program may emit: the columns it was given
/// (with their types), then the output contract's columns it was not given
/// (as text, typed later by the output contract). Any other field is
/// refused.
pub fn declared_schema(input: &Schema, contract_columns: &[String]) -> SchemaRef {
    let mut fields: Vec<Field> = input
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    for name in contract_columns {
        if input.index_of(name).is_err() {
            fields.push(Field::new(name, DataType::Utf8, true));
        }
    }
    Arc::new(Schema::new(fields))
}

/// Writes record batches to a program's stdin in the step's format.
pub enum RowEncoder<W: Write> {
    /// One JSON object per line, nulls written as `null`.
    Jsonl(arrow::json::Writer<W, LineDelimited>),
    /// A header line, then one record per row (a CSV writer per batch, so
    /// that the stream can be flushed between batches).
    Csv(W),
    /// An Arrow IPC stream.
    Arrow(StreamWriter<W>),
}

impl<W: Write> RowEncoder<W> {
    /// Starts the stream: CSV writes its header and Arrow its schema now,
    /// so that a program sees the columns even when no row comes.
    pub fn new(format: ExecFormat, schema: &SchemaRef, out: W) -> Result<Self, ArrowError> {
        Ok(match format {
            ExecFormat::Jsonl => Self::Jsonl(
                arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, LineDelimited>(out),
            ),
            ExecFormat::Csv => {
                let mut out = out;
                arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out)
                    .write(&RecordBatch::new_empty(Arc::clone(schema)))?;
                Self::Csv(out)
            }
            ExecFormat::Arrow => Self::Arrow(StreamWriter::try_new(out, schema)?),
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        match self {
            Self::Jsonl(writer) => writer.write(batch),
            Self::Csv(out) => arrow::csv::WriterBuilder::new()
                .with_header(false)
                .build(out)
                .write(batch),
            Self::Arrow(writer) => writer.write(batch),
        }
    }

    /// Ends the stream (Arrow writes its end-of-stream marker) and hands
    /// back the writer, flushed.
    pub fn finish(self) -> Result<W, ArrowError> {
        let mut out = match self {
            Self::Jsonl(mut writer) => {
                writer.finish()?;
                writer.into_inner()
            }
            Self::Csv(out) => out,
            Self::Arrow(mut writer) => {
                writer.finish()?;
                writer.into_inner()?
            }
        };
        out.flush()?;
        Ok(out)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Jsonl(writer) => writer.get_mut().flush(),
            Self::Csv(out) => out.flush(),
            Self::Arrow(writer) => writer.get_mut().flush(),
        }
    }
}

/// A value the program emitted that does not fit its declared column.
#[derive(Debug, Clone, PartialEq)]
pub struct ConformReject {
    /// Row in the emitted batch.
    pub row: usize,
    pub field: String,
    pub value: Option<String>,
    pub message: String,
}

/// Emitted rows as the declared schema, with the rows that did not fit.
#[derive(Debug)]
pub struct Conformed {
    pub batch: RecordBatch,
    pub rejects: Vec<ConformReject>,
}

/// Checks the columns of what a program emitted against `declared`: a
/// column it does not declare is an error for the whole output (a CSV
/// header or an Arrow schema names it); a declared column it left out is
/// all nulls; a value that cannot be read as its declared type rejects its
/// row.
pub fn conform(emitted: &RecordBatch, declared: &SchemaRef) -> Result<Conformed, String> {
    let emitted_schema = emitted.schema();
    if let Some(extra) = emitted_schema
        .fields()
        .iter()
        .find(|f| declared.index_of(f.name()).is_err())
    {
        return Err(format!(
            "the program emitted the column `{}`, which the step does not declare; \
             it may emit {} (the columns it was given, and the output contract's)",
            extra.name(),
            crate::steps::column_list(declared)
        ));
    }
    let rows = emitted.num_rows();
    let mut failed = vec![false; rows];
    let mut rejects = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(declared.fields().len());
    for field in declared.fields() {
        let Ok(index) = emitted_schema.index_of(field.name()) else {
            columns.push(new_null_array(field.data_type(), rows));
            continue;
        };
        let values = emitted.column(index);
        if values.data_type() == field.data_type() {
            columns.push(Arc::clone(values));
            continue;
        }
        let options = CastOptions {
            safe: true,
            ..CastOptions::default()
        };
        let cast = cast_with_options(values, field.data_type(), &options)
            .map_err(|e| format!("column `{}`: {e}", field.name()))?;
        for (row, row_failed) in failed.iter_mut().enumerate() {
            if values.is_valid(row) && cast.is_null(row) && !*row_failed {
                *row_failed = true;
                let value = crate::dlq::value_text(values, row);
                rejects.push(ConformReject {
                    row,
                    field: field.name().clone(),
                    message: format!(
                        "the program emitted {} for `{}`, which is not a `{}`",
                        value
                            .as_deref()
                            .map_or("null".to_owned(), |v| format!("`{v}`")),
                        field.name(),
                        field.data_type()
                    ),
                    value,
                });
            }
        }
        columns.push(cast);
    }
    let batch = RecordBatch::try_new_with_options(
        Arc::clone(declared),
        columns,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(|e| e.to_string())?;
    if rejects.is_empty() {
        return Ok(Conformed { batch, rejects });
    }
    let keep = BooleanArray::from(failed.iter().map(|f| !f).collect::<Vec<_>>());
    let batch = filter_record_batch(&batch, &keep).map_err(|e| e.to_string())?;
    Ok(Conformed { batch, rejects })
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, Float64Array, StringArray};
    use arrow::datatypes::Float64Type;

    use super::*;

    fn input_schema() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("amount", DataType::Float64, true),
        ])
    }

    #[test]
    fn declared_columns_are_the_input_then_the_contract_s_new_ones() {
        let declared = declared_schema(
            &input_schema(),
            &["id".to_owned(), "score".to_owned(), "amount".to_owned()],
        );
        let names: Vec<&str> = declared
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, ["id", "amount", "score"]);
        assert_eq!(declared.field(1).data_type(), &DataType::Float64);
        assert_eq!(declared.field(2).data_type(), &DataType::Utf8);
    }

    #[test]
    fn emitted_text_is_read_back_as_the_declared_type_and_bad_values_reject_their_row() {
        let declared = declared_schema(&input_schema(), &["score".to_owned()]);
        let emitted = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("score", DataType::Utf8, true),
                Field::new("amount", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(StringArray::from(vec![Some("a"), Some("b"), None])),
                Arc::new(StringArray::from(vec![Some("1.5"), Some("lots"), None])),
            ],
        )
        .unwrap();
        let conformed = conform(&emitted, &declared).unwrap();
        assert_eq!(conformed.rejects.len(), 1);
        let reject = &conformed.rejects[0];
        assert_eq!((reject.row, reject.field.as_str()), (1, "amount"));
        assert_eq!(reject.value.as_deref(), Some("lots"));
        assert!(
            reject.message.contains("not a `Float64`"),
            "{}",
            reject.message
        );
        let batch = &conformed.batch;
        assert_eq!(batch.schema(), declared);
        // `id` was left out: nulls.
        assert_eq!(batch.column(0).null_count(), 2);
        let amount = batch.column(1).as_primitive::<Float64Type>();
        assert_eq!(amount, &Float64Array::from(vec![Some(1.5), None]));
    }

    #[test]
    fn an_undeclared_column_is_refused_naming_it_and_what_is_allowed() {
        let declared = declared_schema(&input_schema(), &[]);
        let emitted = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "secret",
                DataType::Utf8,
                true,
            )])),
            vec![Arc::new(StringArray::from(vec!["x"]))],
        )
        .unwrap();
        let error = conform(&emitted, &declared).unwrap_err();
        assert!(error.contains("`secret`"), "{error}");
        assert!(error.contains("`id`, `amount`"), "{error}");
    }

    #[test]
    fn encoders_write_jsonl_with_nulls_and_csv_with_a_header_even_with_no_rows() {
        let schema = Arc::new(input_schema());
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(vec!["o1"])),
                Arc::new(Float64Array::from(vec![None])),
            ],
        )
        .unwrap();
        let mut jsonl = RowEncoder::new(ExecFormat::Jsonl, &schema, Vec::new()).unwrap();
        jsonl.write(&batch).unwrap();
        let text = String::from_utf8(jsonl.finish().unwrap()).unwrap();
        assert_eq!(text, "{\"id\":\"o1\",\"amount\":null}\n");
        let csv = RowEncoder::new(ExecFormat::Csv, &schema, Vec::new()).unwrap();
        let text = String::from_utf8(csv.finish().unwrap()).unwrap();
        assert_eq!(text, "id,amount\n");
    }
}
