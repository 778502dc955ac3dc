//! Dataset rules: ODCS quality rules judged once over a whole run rather
//! than row by row. `rowCount`, and the `nullValues`, `invalidValues` and
//! `duplicateValues` metrics where some failing rows are tolerated
//! (`mustBeLessThan: 5`, `unit: percent`, ...). A `nullValues` or
//! `invalidValues` rule that tolerates none is a row rule instead (see
//! `column_check`).
//!
//! They measure the rows the contract *accepted*: the dataset the run
//! publishes. So `rowCount: mustBeGreaterThan: 0` fails a run whose every
//! row was rejected, and a tolerance on nulls speaks of the rows that go
//! out. `type: sql` rules need a query engine: this module states them
//! (`SqlRule`) and judges their result; the engine runs the query.

use std::collections::HashSet;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::buffer::BooleanBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema};
use serde::Serialize;

use crate::ContractError;
use crate::column_check::{ValueSet, membership, null_bits, to_f64, value_set};
use crate::logical_type::LogicalType;
use crate::model::SchemaObject;
use crate::quality::{QualityCheck, QualityRule, Severity};
use crate::row_check::CheckError;
use crate::unique::SeenValues;

/// The verdict on one dataset rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetMeasurement {
    pub name: String,
    /// The property the rule sits on; `None` for the schema object.
    pub column: Option<String>,
    /// `rowCount`, `nullValues`, `invalidValues`, `duplicateValues`, `sql`.
    pub metric: &'static str,
    /// The count (or the query's number), or its percentage of the rows
    /// measured with `unit: percent`.
    pub measured: f64,
    /// The ODCS comparison, e.g. `mustBeLessThan 5`.
    pub expectation: String,
    pub unit_percent: bool,
    pub severity: Severity,
    pub passed: bool,
}

impl DatasetMeasurement {
    /// Compares `count` with the rule; with `unit: percent` as a
    /// percentage of `rows` (0 when there are no rows).
    pub fn judge(
        rule: &QualityRule,
        column: Option<&str>,
        metric: &'static str,
        count: f64,
        rows: u64,
    ) -> Self {
        let measured = match (rule.unit_percent, rows) {
            (false, _) => count,
            (true, 0) => 0.0,
            (true, rows) => count * 100.0 / rows as f64,
        };
        Self {
            name: rule.name.clone(),
            column: column.map(str::to_owned),
            metric,
            measured,
            expectation: rule.operator.to_string(),
            unit_percent: rule.unit_percent,
            severity: rule.severity,
            passed: rule.operator.holds(measured),
        }
    }

    /// The measure as people read it: `18`, `5.56%`.
    pub fn measured_text(&self) -> String {
        let unit = if self.unit_percent { "%" } else { "" };
        if self.measured.fract() == 0.0 && self.measured.abs() < 1e15 {
            format!("{}{unit}", self.measured as i64)
        } else {
            format!("{:.2}{unit}", self.measured)
        }
    }

    /// Failed, and bad enough to fail the run.
    pub fn fails_run(&self) -> bool {
        !self.passed && self.severity == Severity::Error
    }

    /// The verdict as a summary shows it: `ok`, or how much a failure
    /// matters (`FAILED` for errors, `WARNING`, `info`).
    pub fn verdict(&self) -> &'static str {
        match (self.passed, self.severity) {
            (true, _) => "ok",
            (false, Severity::Error) => "FAILED",
            (false, Severity::Warning) => "WARNING",
            (false, Severity::Info) => "info",
        }
    }
}

/// A `type: sql` rule, ready for a query engine: the query reads one
/// table named after the schema object, with `{object}` and `{property}`
/// (also written `${object}`, `${property}`) replaced by the names.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlRule {
    pub rule: QualityRule,
    pub column: Option<String>,
    pub table: String,
    pub query: String,
}

impl SqlRule {
    /// Every `type: sql` rule of `object`, object-level ones first.
    pub fn all_of(object: &SchemaObject) -> Vec<Self> {
        let object_rules = object.quality.iter().map(|rule| (None, rule));
        let column_rules = object.columns.iter().flat_map(|c| {
            c.quality
                .iter()
                .map(move |rule| (Some(c.name.as_str()), rule))
        });
        object_rules
            .chain(column_rules)
            .filter_map(|(column, rule)| match &rule.check {
                QualityCheck::Sql { query } => Some(Self {
                    rule: rule.clone(),
                    column: column.map(str::to_owned),
                    table: object.name.clone(),
                    query: substitute(query, &object.name, column),
                }),
                _ => None,
            })
            .collect()
    }

    pub fn judge(&self, value: f64, rows: u64) -> DatasetMeasurement {
        DatasetMeasurement::judge(&self.rule, self.column.as_deref(), "sql", value, rows)
    }
}

fn substitute(query: &str, object: &str, column: Option<&str>) -> String {
    let mut text = query
        .replace("${object}", object)
        .replace("{object}", object);
    if let Some(column) = column {
        text = text
            .replace("${property}", column)
            .replace("{property}", column);
    }
    text
}

/// Measures the library metrics of one schema object over the batches
/// the contract accepted, then judges them.
#[derive(Debug)]
pub struct DatasetMeter {
    rows: u64,
    measures: Vec<Measure>,
}

#[derive(Debug)]
struct Measure {
    rule: QualityRule,
    column: Option<String>,
    kind: MeasureKind,
    count: u64,
}

#[derive(Debug)]
enum MeasureKind {
    RowCount,
    Nulls {
        column: usize,
        missing: HashSet<String>,
    },
    Invalid {
        column: usize,
        numeric: bool,
        valid: Option<ValueSet>,
        invalid: Option<ValueSet>,
    },
    /// Rows whose value (or, on the object, whole row of contract
    /// columns) was seen before; remembered as fingerprints, at most
    /// `keys_max` of them.
    Duplicates {
        columns: Vec<usize>,
        label: String,
        seen: SeenValues,
    },
}

impl MeasureKind {
    fn metric(&self) -> &'static str {
        match self {
            Self::RowCount => "rowCount",
            Self::Nulls { .. } => "nullValues",
            Self::Invalid { .. } => "invalidValues",
            Self::Duplicates { .. } => "duplicateValues",
        }
    }
}

impl DatasetMeter {
    /// Compiles the dataset rules of `object` for accepted batches shaped
    /// like `accepted` (the checker's output schema). `keys_max` bounds
    /// the values each `duplicateValues` rule remembers.
    pub fn new(
        object: &SchemaObject,
        accepted: &Schema,
        keys_max: usize,
    ) -> Result<Self, ContractError> {
        let position = |name: &str| {
            accepted.index_of(name).map_err(|_| ContractError::Rule {
                column: name.to_owned(),
                message: "the checked rows have no such column".to_owned(),
            })
        };
        let mut measures = Vec::new();
        for rule in &object.quality {
            let kind = match &rule.check {
                QualityCheck::RowCount => MeasureKind::RowCount,
                QualityCheck::DuplicateValues => {
                    let columns = object
                        .columns
                        .iter()
                        .map(|c| position(&c.name))
                        .collect::<Result<Vec<_>, _>>()?;
                    MeasureKind::Duplicates {
                        columns,
                        label: format!("rows of `{}`", object.name),
                        seen: SeenValues::new(keys_max),
                    }
                }
                QualityCheck::NullValues { .. } | QualityCheck::InvalidValues { .. } => {
                    return Err(ContractError::Rule {
                        column: object.name.clone(),
                        message: format!(
                            "quality rule `{}` measures a property's values; move it under that property's `quality`",
                            rule.name
                        ),
                    });
                }
                QualityCheck::Sql { .. } | QualityCheck::NotExecutable { .. } => continue,
            };
            measures.push(Measure {
                rule: rule.clone(),
                column: None,
                kind,
                count: 0,
            });
        }
        for column in &object.columns {
            let rule_error = |message: String| ContractError::Rule {
                column: column.name.clone(),
                message,
            };
            let kind_of_column = LogicalType::of(column.logical_type.as_deref());
            for rule in &column.quality {
                let tolerated = !rule.operator.is_zero_tolerance();
                let kind = match &rule.check {
                    QualityCheck::NullValues { missing } if tolerated => MeasureKind::Nulls {
                        column: position(&column.name)?,
                        missing: missing.iter().cloned().collect(),
                    },
                    QualityCheck::InvalidValues { valid, invalid } if tolerated => {
                        let set = |values: &Option<Vec<String>>| {
                            values
                                .as_ref()
                                .map(|v| value_set(kind_of_column, v))
                                .transpose()
                                .map_err(rule_error)
                        };
                        MeasureKind::Invalid {
                            column: position(&column.name)?,
                            numeric: kind_of_column.is_numeric(),
                            valid: set(valid)?,
                            invalid: set(invalid)?,
                        }
                    }
                    QualityCheck::DuplicateValues => MeasureKind::Duplicates {
                        columns: vec![position(&column.name)?],
                        label: column.name.clone(),
                        seen: SeenValues::new(keys_max),
                    },
                    QualityCheck::RowCount => MeasureKind::RowCount,
                    _ => continue,
                };
                measures.push(Measure {
                    rule: rule.clone(),
                    column: Some(column.name.clone()),
                    kind,
                    count: 0,
                });
            }
        }
        Ok(Self { rows: 0, measures })
    }

    /// No rule to measure: the caller may skip `observe`.
    pub fn is_empty(&self) -> bool {
        self.measures.is_empty()
    }

    /// Rows measured so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Counts one batch of accepted rows.
    pub fn observe(&mut self, batch: &RecordBatch) -> Result<(), CheckError> {
        let n = batch.num_rows();
        self.rows += n as u64;
        for measure in &mut self.measures {
            let failing = match &mut measure.kind {
                MeasureKind::RowCount => 0,
                MeasureKind::Nulls { column, missing } => {
                    count_missing(batch.column(*column), missing)?
                }
                MeasureKind::Invalid {
                    column,
                    numeric,
                    valid,
                    invalid,
                } => count_invalid(batch.column(*column), *numeric, valid, invalid)?,
                MeasureKind::Duplicates {
                    columns,
                    label,
                    seen,
                } => {
                    let arrays: Vec<&ArrayRef> = columns.iter().map(|c| batch.column(*c)).collect();
                    let keys = seen.row_keys(&arrays, n)?;
                    let repeated =
                        seen.seen_before_all(keys)
                            .map_err(|_| CheckError::UniqueStateFull {
                                column: label.clone(),
                                keys_max: seen.keys_max(),
                            })?;
                    repeated.iter().filter(|&&repeated| repeated).count() as u64
                }
            };
            measure.count += failing;
        }
        Ok(())
    }

    /// The verdict on every rule, in contract order.
    pub fn results(&self) -> Vec<DatasetMeasurement> {
        self.measures
            .iter()
            .map(|m| {
                let count = match m.kind {
                    MeasureKind::RowCount => self.rows,
                    _ => m.count,
                };
                DatasetMeasurement::judge(
                    &m.rule,
                    m.column.as_deref(),
                    m.kind.metric(),
                    count as f64,
                    self.rows,
                )
            })
            .collect()
    }
}

/// Nulls, plus values listed as missing (compared as text).
fn count_missing(array: &ArrayRef, missing: &HashSet<String>) -> Result<u64, CheckError> {
    let nulls = null_bits(array).count_set_bits() as u64;
    if missing.is_empty() {
        return Ok(nulls);
    }
    let text = match array.data_type() {
        DataType::Utf8 => array.clone(),
        _ => cast(array, &DataType::Utf8)?,
    };
    let text = text.as_string::<i32>();
    let listed = (0..text.len())
        .filter(|i| text.is_valid(*i) && missing.contains(text.value(*i)))
        .count() as u64;
    Ok(nulls + listed)
}

/// Present values outside `valid` or inside `invalid`.
fn count_invalid(
    array: &ArrayRef,
    numeric: bool,
    valid: &Option<ValueSet>,
    invalid: &Option<ValueSet>,
) -> Result<u64, CheckError> {
    let comparable = if numeric {
        to_f64(array)?
    } else {
        array.clone()
    };
    let mut failing = BooleanBuffer::new_unset(array.len());
    if let Some(set) = valid {
        failing = &failing | &membership(set, &comparable, None, false);
    }
    if let Some(set) = invalid {
        failing = &failing | &membership(set, &comparable, None, true);
    }
    Ok(failing.count_set_bits() as u64)
}
