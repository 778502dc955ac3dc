//! The built-in steps as operators over record batches. Each is planned
//! once against its input schema (so a bad expression or an unknown column
//! stops the run before any row is read) and then applied batch by batch.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow::buffer::BooleanBuffer;
use arrow::compute::{CastOptions, cast_with_options, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::prelude::SessionContext;
use runink_contract::{MaskRule, Masker, SeenValues};
use runink_plan::{Step, StepKind};

use crate::EngineError;
use crate::exec_step::{ExecSettings, ExecStep};
use crate::expr::CompiledExpr;
use crate::masking::{apply_masks, masked_schema};
use crate::sql_step::SqlStep;

/// What a step did to the rows it was given.
#[derive(Debug)]
pub enum Kept {
    /// Every row, in order.
    All,
    /// The rows set in the mask, in order.
    Some(BooleanBuffer),
}

/// A row a step could not process (a failed `cast`): it goes to the DLQ.
#[derive(Debug)]
pub struct StepReject {
    pub row: usize,
    pub field: String,
    pub value: Option<String>,
    /// What went wrong, without the value (`cannot be cast to ...`): the
    /// run puts the value in front, or `***` for a sensitive column.
    pub message: String,
}

#[derive(Debug)]
pub struct StepOutput {
    pub batch: RecordBatch,
    pub kept: Kept,
    pub rejects: Vec<StepReject>,
}

/// Rows a step emits on its own schedule rather than per batch pushed: a
/// SQL step at the end of its input, an `exec` step whenever its program
/// writes. They have no source lines.
#[derive(Debug, Default)]
pub struct Emitted {
    pub batches: Vec<RecordBatch>,
    pub rejects: Vec<EmittedReject>,
}

/// A row a step emitted that cannot go on (a malformed line of an `exec`
/// program's output, or a value not of its column's type).
#[derive(Debug)]
pub struct EmittedReject {
    /// 1-based line (JSONL, CSV) or row (Arrow) of the step's output.
    pub line: u64,
    pub rule: &'static str,
    pub field: String,
    pub message: String,
    /// The fields that could be read, as text.
    pub fields: Vec<(String, Option<String>)>,
}

#[derive(Debug)]
enum Operator {
    Mask {
        columns: Vec<(usize, MaskRule)>,
        /// The hashed columns written as raw digests (`masking.rs`).
        digests: Vec<usize>,
    },
    Filter(CompiledExpr),
    Derive(Vec<(String, CompiledExpr)>),
    Select(Vec<usize>),
    Rename,
    Cast(Vec<(usize, DataType)>),
    Dedupe {
        keys: Vec<usize>,
        seen: SeenValues,
        keys_max: usize,
    },
    Sql(Box<SqlStep>),
    Exec(Box<ExecStep>),
}

/// The columns a step reads and the columns it writes (creates, changes,
/// or renames to or from), by name. A column only read leaves the step as
/// it came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnUse {
    pub read: BTreeSet<String>,
    pub written: BTreeSet<String>,
    /// The written columns whose values are `hash` masks (64 hex digits,
    /// or null).
    pub hashed: BTreeSet<String>,
}

/// A step planned for its input schema.
#[derive(Debug)]
pub struct PlannedStep {
    pub number: usize,
    pub label: String,
    pub output_schema: SchemaRef,
    /// The columns the step reads and writes, by name; `None` when it may
    /// touch any (a `sql` or `exec` step). Every other column passes
    /// through it unchanged, in its place (`slice_columns.rs`).
    pub touched: Option<ColumnUse>,
    operator: Operator,
    /// The scenario has sensitive columns: a failure's message shows no
    /// value the engine quotes (`quoted_values.rs`).
    hides_values: bool,
}

/// What planning a step needs besides the step itself.
pub struct StepContext<'a> {
    pub session: &'a SessionContext,
    /// Masking rule of each sensitive column of the input contract.
    pub sensitive: &'a [(String, MaskRule)],
    /// The herd's rule for a listed column the contract does not mark.
    pub default_mask: MaskRule,
    pub unique_keys_max: usize,
    pub sql_rows_max: usize,
    /// What starting an `exec` step needs; its resources are the step's slice's.
    pub exec: ExecSettings<'a>,
    pub slices: &'a [runink_plan::Slice],
    /// Hashed columns a `mask` step writes as raw 32-byte digests rather
    /// than hex: in a slice of built-in steps, the columns that leave the
    /// slice so, for the parent to write as hex (`slice_columns.rs`).
    pub digests: &'a [String],
}

impl std::fmt::Debug for StepContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepContext")
            .field("sensitive", &self.sensitive)
            .finish_non_exhaustive()
    }
}

impl PlannedStep {
    pub fn plan(
        step: &Step,
        input: &SchemaRef,
        context: &StepContext<'_>,
    ) -> Result<Self, EngineError> {
        let fail = |message: String| EngineError::Step {
            step: step.number,
            label: step.label.clone(),
            message,
        };
        let index = |name: &str| {
            input.index_of(name).map_err(|_| {
                fail(format!(
                    "no column `{name}` here; the columns are {}",
                    column_list(input)
                ))
            })
        };
        let (operator, output_schema) = match &step.kind {
            StepKind::Mask { fields, explicit } => {
                let mut columns = Vec::new();
                if *explicit {
                    for name in fields {
                        let rule = context
                            .sensitive
                            .iter()
                            .find(|(n, _)| n == name)
                            .map_or(context.default_mask, |(_, r)| *r);
                        columns.push((index(name)?, rule));
                    }
                } else {
                    for (name, rule) in context.sensitive {
                        if let Ok(i) = input.index_of(name) {
                            columns.push((i, *rule));
                        }
                    }
                }
                let digests = digest_positions(input, &columns, context.digests).map_err(&fail)?;
                let schema = masked_schema(input, &columns, &digests);
                (Operator::Mask { columns, digests }, schema)
            }
            StepKind::Filter { predicate } => {
                let expr = CompiledExpr::plan(context.session, predicate, input).map_err(&fail)?;
                if expr.data_type(input).map_err(&fail)? != DataType::Boolean {
                    return Err(fail(format!(
                        "`{predicate}` is not a condition (true or false)"
                    )));
                }
                (Operator::Filter(expr), Arc::clone(input))
            }
            StepKind::Derive { columns } => {
                let mut schema = input.as_ref().clone();
                let mut planned = Vec::new();
                for (name, text) in columns {
                    let expr = CompiledExpr::plan(context.session, text, &schema).map_err(&fail)?;
                    let field = Field::new(name, expr.data_type(&schema).map_err(&fail)?, true);
                    schema = with_column(&schema, field);
                    planned.push((name.clone(), expr));
                }
                (Operator::Derive(planned), Arc::new(schema))
            }
            StepKind::Select { columns } => {
                let positions = columns
                    .iter()
                    .map(|c| index(c))
                    .collect::<Result<Vec<_>, _>>()?;
                let schema = input.project(&positions)?;
                (Operator::Select(positions), Arc::new(schema))
            }
            StepKind::Rename { pairs } => {
                let mut fields: Vec<Field> =
                    input.fields().iter().map(|f| f.as_ref().clone()).collect();
                for (old, new) in pairs {
                    let i = index(old)?;
                    if new != old && fields.iter().any(|f| f.name() == new) {
                        return Err(fail(format!(
                            "cannot rename `{old}` to `{new}`: `{new}` is already a column; \
                             pick another name, or drop that column first with `select`"
                        )));
                    }
                    fields[i] = fields[i].clone().with_name(new);
                }
                (Operator::Rename, Arc::new(Schema::new(fields)))
            }
            StepKind::Cast { columns } => {
                let mut fields: Vec<Field> =
                    input.fields().iter().map(|f| f.as_ref().clone()).collect();
                let mut planned = Vec::new();
                for (name, type_text) in columns {
                    let i = index(name)?;
                    let target = sql_type(context.session, type_text).map_err(&fail)?;
                    fields[i] = Field::new(name, target.clone(), true);
                    planned.push((i, target));
                }
                (Operator::Cast(planned), Arc::new(Schema::new(fields)))
            }
            StepKind::Dedupe { keys } => {
                let positions = keys
                    .iter()
                    .map(|c| index(c))
                    .collect::<Result<Vec<_>, _>>()?;
                (
                    Operator::Dedupe {
                        keys: positions,
                        seen: SeenValues::new(context.unique_keys_max),
                        keys_max: context.unique_keys_max,
                    },
                    Arc::clone(input),
                )
            }
            StepKind::Sql { query, .. } => {
                let sql = SqlStep::plan(query, input, context.sql_rows_max).map_err(&fail)?;
                let schema = sql.output_schema();
                (Operator::Sql(Box::new(sql)), schema)
            }
            StepKind::Exec { .. } => {
                let resources = context
                    .slices
                    .iter()
                    .find(|s| s.number == step.slice)
                    .map(|s| s.placement.resources.clone())
                    .unwrap_or_default();
                let settings = ExecSettings {
                    resources,
                    hides_values: !context.sensitive.is_empty(),
                    ..context.exec.clone()
                };
                let exec = ExecStep::start(step, input, &settings)?;
                let schema = exec.declared_schema();
                (Operator::Exec(Box::new(exec)), schema)
            }
        };
        let touched = columns_touched(&operator, input, &step.kind);
        Ok(Self {
            number: step.number,
            label: step.label.clone(),
            output_schema,
            touched,
            operator,
            hides_values: !context.sensitive.is_empty(),
        })
    }

    /// Applies the step to one batch. A SQL step keeps its input and
    /// returns nothing until [`PlannedStep::finish`].
    pub fn push(
        &mut self,
        batch: RecordBatch,
        masker: &Masker,
    ) -> Result<Option<StepOutput>, EngineError> {
        let (number, label, hides_values) = (self.number, &self.label, self.hides_values);
        let fail = |message: String| step_failed(number, label, hides_values, message);
        let all = |batch: RecordBatch| {
            Ok(Some(StepOutput {
                batch,
                kept: Kept::All,
                rejects: Vec::new(),
            }))
        };
        match &mut self.operator {
            Operator::Mask { columns, digests } => {
                all(
                    apply_masks(batch, columns, digests, &self.output_schema, masker)
                        .map_err(|e| fail(e.to_string()))?,
                )
            }
            Operator::Filter(expr) => {
                let keep = expr.evaluate_true(&batch).map_err(fail)?;
                let batch = filter_record_batch(&batch, &BooleanArray::new(keep.clone(), None))?;
                Ok(Some(StepOutput {
                    batch,
                    kept: Kept::Some(keep),
                    rejects: Vec::new(),
                }))
            }
            Operator::Derive(exprs) => {
                let mut current = batch;
                for (name, expr) in exprs.iter() {
                    let values = expr.evaluate(&current).map_err(&fail)?;
                    let schema = with_column(
                        current.schema().as_ref(),
                        Field::new(name, values.data_type().clone(), true),
                    );
                    let mut arrays: Vec<ArrayRef> = current.columns().to_vec();
                    match current.schema().index_of(name) {
                        Ok(i) => arrays[i] = values,
                        Err(_) => arrays.push(values),
                    }
                    current = RecordBatch::try_new(Arc::new(schema), arrays)?;
                }
                all(current.with_schema(Arc::clone(&self.output_schema))?)
            }
            Operator::Select(positions) => all(batch.project(positions)?),
            Operator::Rename => all(batch.with_schema(Arc::clone(&self.output_schema))?),
            Operator::Cast(columns) => {
                let mut arrays: Vec<ArrayRef> = batch.columns().to_vec();
                let mut failed = vec![false; batch.num_rows()];
                let mut rejects = Vec::new();
                for (i, target) in columns.iter() {
                    let cast = cast_with_options(
                        &arrays[*i],
                        target,
                        &CastOptions {
                            safe: true,
                            ..CastOptions::default()
                        },
                    )?;
                    for (row, row_failed) in failed.iter_mut().enumerate() {
                        if arrays[*i].is_valid(row) && cast.is_null(row) && !*row_failed {
                            *row_failed = true;
                            let name = self.output_schema.field(*i).name().clone();
                            rejects.push(StepReject {
                                row,
                                field: name,
                                value: crate::dlq::value_text(&arrays[*i], row),
                                message: format!("cannot be cast to `{target}`"),
                            });
                        }
                    }
                    arrays[*i] = cast;
                }
                let keep = BooleanBuffer::from_iter(failed.iter().map(|f| !f));
                let batch = RecordBatch::try_new(Arc::clone(&self.output_schema), arrays)?;
                let batch = filter_record_batch(&batch, &BooleanArray::new(keep.clone(), None))?;
                Ok(Some(StepOutput {
                    batch,
                    kept: Kept::Some(keep),
                    rejects,
                }))
            }
            Operator::Dedupe {
                keys,
                seen,
                keys_max,
            } => {
                let columns: Vec<&ArrayRef> = keys.iter().map(|k| batch.column(*k)).collect();
                let row_keys = seen.row_keys(&columns, batch.num_rows())?;
                // Rows with a null key are kept: null equals nothing, so
                // it is never seen before.
                let seen_before = seen.seen_before_all(row_keys).map_err(|_| {
                    fail(format!(
                        "more than {keys_max} distinct keys; raise `unique_keys_max`"
                    ))
                })?;
                let keep: BooleanBuffer = seen_before.iter().map(|seen| !seen).collect();
                let batch = filter_record_batch(&batch, &BooleanArray::new(keep.clone(), None))?;
                Ok(Some(StepOutput {
                    batch,
                    kept: Kept::Some(keep),
                    rejects: Vec::new(),
                }))
            }
            Operator::Sql(sql) => {
                sql.buffer(batch).map_err(fail)?;
                Ok(None)
            }
            Operator::Exec(exec) => {
                exec.push(batch)?;
                Ok(None)
            }
        }
    }

    /// Rows the step emitted since the last call (an `exec` step's program
    /// writes when it wants); other steps emit nothing here.
    pub fn take_emitted(&mut self) -> Emitted {
        match &mut self.operator {
            Operator::Exec(exec) => exec.take_ready(),
            _ => Emitted::default(),
        }
    }

    /// What the step's program wrote on stderr (`exec` steps, once finished).
    pub fn take_stderr(&mut self) -> Vec<String> {
        match &mut self.operator {
            Operator::Exec(exec) => exec.take_stderr(),
            _ => Vec::new(),
        }
    }

    /// At the end of the input: a SQL step runs its query now; an `exec`
    /// step's program gets the end of its stdin, and the rest of its output
    /// is read.
    pub fn finish(&mut self) -> Result<Emitted, EngineError> {
        match &mut self.operator {
            Operator::Sql(sql) => {
                let (number, label, hides_values) = (self.number, &self.label, self.hides_values);
                let batches = sql
                    .run()
                    .map_err(|message| step_failed(number, label, hides_values, message))?;
                Ok(Emitted {
                    batches,
                    rejects: Vec::new(),
                })
            }
            Operator::Exec(exec) => exec.finish(),
            _ => Ok(Emitted::default()),
        }
    }
}

/// A step's failure on its rows: the run has started, so it fails the
/// run (exit 1), unlike a step that cannot be planned (exit 2).
fn step_failed(number: usize, label: &str, hides_values: bool, message: String) -> EngineError {
    EngineError::StepFailed {
        step: number,
        label: label.to_owned(),
        message: crate::quoted_values::shown(message, hides_values),
    }
}

fn with_column(schema: &Schema, field: Field) -> Schema {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    match fields.iter().position(|f| f.name() == field.name()) {
        Some(i) => fields[i] = field,
        None => fields.push(field),
    }
    Schema::new(fields)
}

/// A SQL type name (`BIGINT`, `DECIMAL(10,2)`, `DATE`) as DataFusion maps it.
fn sql_type(session: &SessionContext, text: &str) -> Result<DataType, String> {
    let empty = Schema::empty();
    let expr = CompiledExpr::plan(session, &format!("CAST(NULL AS {text})"), &empty)?;
    expr.data_type(&empty)
}

pub(crate) fn column_list(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("`{}`", f.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns `operator` (planned over `input` from `kind`) reads and
/// writes; `None` when it may touch any.
/// The positions of the columns in `digests` among the `hash` masks of
/// `columns`. A name that is not one of them is a slice job that does not
/// match its steps.
fn digest_positions(
    input: &Schema,
    columns: &[(usize, MaskRule)],
    digests: &[String],
) -> Result<Vec<usize>, String> {
    digests
        .iter()
        .map(|name| {
            columns
                .iter()
                .find(|(i, rule)| *rule == MaskRule::Hash && input.field(*i).name() == name)
                .map(|(i, _)| *i)
                .ok_or_else(|| format!("asked for the digests of `{name}`, which it does not hash"))
        })
        .collect()
}

fn columns_touched(operator: &Operator, input: &Schema, kind: &StepKind) -> Option<ColumnUse> {
    let names = |positions: &mut dyn Iterator<Item = usize>| -> BTreeSet<String> {
        positions.map(|i| input.field(i).name().clone()).collect()
    };
    let used = match (operator, kind) {
        (Operator::Mask { columns, .. }, _) => {
            let masked = names(&mut columns.iter().map(|(i, _)| *i));
            let hashed = columns.iter().filter(|(_, rule)| *rule == MaskRule::Hash);
            ColumnUse {
                read: masked.clone(),
                written: masked,
                hashed: names(&mut hashed.map(|(i, _)| *i)),
            }
        }
        (Operator::Filter(expr), _) => ColumnUse {
            read: expr.column_names(),
            written: BTreeSet::new(),
            hashed: BTreeSet::new(),
        },
        (Operator::Derive(exprs), _) => ColumnUse {
            read: exprs.iter().flat_map(|(_, e)| e.column_names()).collect(),
            written: exprs.iter().map(|(name, _)| name.clone()).collect(),
            hashed: BTreeSet::new(),
        },
        (Operator::Select(positions), _) => ColumnUse {
            read: names(&mut positions.iter().copied()),
            written: BTreeSet::new(),
            hashed: BTreeSet::new(),
        },
        (Operator::Rename, StepKind::Rename { pairs }) => {
            let renamed: BTreeSet<String> = pairs
                .iter()
                .flat_map(|(old, new)| [old.clone(), new.clone()])
                .collect();
            ColumnUse {
                read: renamed.clone(),
                written: renamed,
                hashed: BTreeSet::new(),
            }
        }
        (Operator::Cast(columns), _) => {
            let cast = names(&mut columns.iter().map(|(i, _)| *i));
            ColumnUse {
                read: cast.clone(),
                written: cast,
                hashed: BTreeSet::new(),
            }
        }
        (Operator::Dedupe { keys, .. }, _) => ColumnUse {
            read: names(&mut keys.iter().copied()),
            written: BTreeSet::new(),
            hashed: BTreeSet::new(),
        },
        (Operator::Rename | Operator::Sql(_) | Operator::Exec(_), _) => return None,
    };
    Some(used)
}
