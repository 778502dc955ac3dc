//! `@assert("EXPR")`: run-level checks over the run's metrics, evaluated
//! with DataFusion once every row has been processed. `rows_in`,
//! `rows_out`, `rows_rejected` and `rows_dropped` are numbers;
//! `rows_out.<sink>` is the rows a sink received.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
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
    let mut qualified: Vec<(Option<TableReference>, Arc<Field>)> = Vec::new();
    let mut values: Vec<ArrayRef> = Vec::new();
    let mut metric = |qualifier: Option<&str>, name: &str, value: u64| {
        qualified.push((
            qualifier.map(TableReference::bare),
            Arc::new(Field::new(name, DataType::Int64, false)),
        ));
        values.push(Arc::new(Int64Array::from(vec![value as i64])));
    };
    metric(None, "rows_in", report.rows_in);
    metric(None, "rows_out", report.rows_out);
    metric(None, "rows_rejected", report.rows_rejected);
    metric(None, "rows_dropped", report.rows_dropped);
    for sink in &report.sinks {
        metric(Some("rows_out"), &sink.name, sink.rows_out);
    }
    let df_schema =
        DFSchema::new_with_metadata(qualified, HashMap::new()).map_err(|e| e.to_string())?;
    let schema: Arc<Schema> = Arc::clone(df_schema.inner());
    let batch = RecordBatch::try_new(schema, values).map_err(|e| e.to_string())?;
    asserts
        .iter()
        .map(|text| {
            let expr = CompiledExpr::plan_with(session, text, &df_schema)
                .map_err(|e| format!("`@assert(\"{text}\")`: {e}"))?;
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
