//! `@assert("EXPR")`: run-level checks over the run's metrics, evaluated
//! with DataFusion once every row has been processed. `rows_in`,
//! `rows_out`, `rows_rejected` and `rows_dropped` are numbers;
//! `rows_out.<sink>` is the rows a sink received.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field};
use datafusion::common::{DFSchema, TableReference};
use datafusion::prelude::SessionContext;

use crate::expr::CompiledExpr;
use crate::report::{AssertResult, RunReport};

pub fn evaluate_asserts(
    session: &SessionContext,
    asserts: &[String],
    report: &RunReport,
) -> Result<Vec<AssertResult>, String> {
    if asserts.is_empty() {
        return Ok(Vec::new());
    }
    let metrics = Metrics::of(report);
    let df_schema = metrics.schema()?;
    let values: Vec<ArrayRef> = metrics
        .values
        .iter()
        .map(|value| Arc::new(Int64Array::from(vec![*value as i64])) as ArrayRef)
        .collect();
    let batch =
        RecordBatch::try_new(Arc::clone(df_schema.inner()), values).map_err(|e| e.to_string())?;
    asserts
        .iter()
        .map(|text| {
            let expr = plan_assert(session, text, &df_schema)?;
            let passed = expr
                .evaluate_true(&batch)
                .map_err(|e| format!("`@assert(\"{text}\")`: {e}"))?
                .value(0);
            Ok(AssertResult {
                expression: text.clone(),
                passed,
            })
        })
        .collect()
}

/// Plans each of `asserts` on the metrics of a run whose sinks are
/// `sink_names`, as the run will once its rows are counted: for `runi
/// check`, which has no rows.
pub fn check_asserts(
    session: &SessionContext,
    asserts: &[String],
    sink_names: &[&str],
) -> Result<(), String> {
    let metrics = Metrics {
        names: ["rows_in", "rows_out", "rows_rejected", "rows_dropped"]
            .iter()
            .map(|name| (None, (*name).to_owned()))
            .chain(
                sink_names
                    .iter()
                    .map(|sink| (Some("rows_out"), (*sink).to_owned())),
            )
            .collect(),
        values: Vec::new(),
    };
    let df_schema = metrics.schema()?;
    for text in asserts {
        plan_assert(session, text, &df_schema)?;
    }
    Ok(())
}

fn plan_assert(
    session: &SessionContext,
    text: &str,
    df_schema: &DFSchema,
) -> Result<CompiledExpr, String> {
    CompiledExpr::plan_condition_with(session, text, df_schema)
        .map_err(|e| format!("`@assert(\"{text}\")`: {e}"))
}

/// A run's metrics by name (`rows_out.<sink>` qualified by `rows_out`),
/// with their values when the run has them.
struct Metrics {
    names: Vec<(Option<&'static str>, String)>,
    values: Vec<u64>,
}

impl Metrics {
    fn of(report: &RunReport) -> Self {
        let mut names = Vec::new();
        let mut values = Vec::new();
        for (name, value) in [
            ("rows_in", report.rows_in),
            ("rows_out", report.rows_out),
            ("rows_rejected", report.rows_rejected),
            ("rows_dropped", report.rows_dropped),
        ] {
            names.push((None, name.to_owned()));
            values.push(value);
        }
        for sink in &report.sinks {
            names.push((Some("rows_out"), sink.name.clone()));
            values.push(sink.rows_out);
        }
        Self { names, values }
    }

    fn schema(&self) -> Result<DFSchema, String> {
        let qualified: Vec<(Option<TableReference>, Arc<Field>)> = self
            .names
            .iter()
            .map(|(qualifier, name)| {
                (
                    qualifier.map(TableReference::bare),
                    Arc::new(Field::new(name, DataType::Int64, false)),
                )
            })
            .collect();
        DFSchema::new_with_metadata(qualified, HashMap::new()).map_err(|e| e.to_string())
    }
}
