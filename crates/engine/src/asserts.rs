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

/// The run-wide metrics, in the order of their columns; `rows_out.<sink>`
/// follow, one per sink.
const RUN_METRICS: [&str; 4] = ["rows_in", "rows_out", "rows_rejected", "rows_dropped"];

pub fn evaluate_asserts(
    session: &SessionContext,
    asserts: &[String],
    report: &RunReport,
) -> Result<Vec<AssertResult>, String> {
    if asserts.is_empty() {
        return Ok(Vec::new());
    }
    let df_schema = metrics_schema(report.sinks.iter().map(|sink| sink.name.as_str()))?;
    // In the order of `RUN_METRICS`, then the sinks'.
    let values: Vec<ArrayRef> = [
        report.rows_in,
        report.rows_out,
        report.rows_rejected,
        report.rows_dropped,
    ]
    .into_iter()
    .chain(report.sinks.iter().map(|sink| sink.rows_out))
    .map(|value| Arc::new(Int64Array::from(vec![value as i64])) as ArrayRef)
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
/// check`, which has no rows. Each assert that cannot be planned gives
/// its error, in order.
pub fn check_asserts(
    session: &SessionContext,
    asserts: &[String],
    sink_names: &[&str],
) -> Vec<String> {
    let df_schema = match metrics_schema(sink_names.iter().copied()) {
        Ok(schema) => schema,
        Err(error) => return vec![error],
    };
    asserts
        .iter()
        .filter_map(|text| plan_assert(session, text, &df_schema).err())
        .collect()
}

fn plan_assert(
    session: &SessionContext,
    text: &str,
    df_schema: &DFSchema,
) -> Result<CompiledExpr, String> {
    CompiledExpr::plan_condition_with(session, text, df_schema)
        .map_err(|e| format!("`@assert(\"{text}\")`: {e}"))
}

/// The metrics as columns: [`RUN_METRICS`], then `rows_out.<sink>` for
/// each of `sink_names`.
fn metrics_schema<'a>(sink_names: impl Iterator<Item = &'a str>) -> Result<DFSchema, String> {
    let column = |qualifier: Option<&str>, name: &str| {
        (
            qualifier.map(TableReference::bare),
            Arc::new(Field::new(name, DataType::Int64, false)),
        )
    };
    let columns: Vec<(Option<TableReference>, Arc<Field>)> = RUN_METRICS
        .iter()
        .map(|name| column(None, name))
        .chain(sink_names.map(|sink| column(Some("rows_out"), sink)))
        .collect();
    DFSchema::new_with_metadata(columns, HashMap::new()).map_err(|e| e.to_string())
}
