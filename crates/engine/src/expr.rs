//! SQL expressions (`where`, `when`, `derive`, `@assert`) planned with
//! DataFusion against a batch's schema and evaluated batch by batch.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::{DataType, Schema};
use datafusion::common::DFSchema;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::prelude::SessionContext;

/// An expression planned for one input schema.
#[derive(Debug, Clone)]
pub struct CompiledExpr {
    pub text: String,
    physical: Arc<dyn PhysicalExpr>,
}

impl CompiledExpr {
    /// Plans `text` over `schema`; the error is DataFusion's, for the
    /// scenario's author (an unknown function, a type that cannot compare).
    pub fn plan(context: &SessionContext, text: &str, schema: &Schema) -> Result<Self, String> {
        let df_schema = DFSchema::try_from(schema.clone()).map_err(|e| e.to_string())?;
        Self::plan_with(context, text, &df_schema)
    }

    pub fn plan_with(
        context: &SessionContext,
        text: &str,
        df_schema: &DFSchema,
    ) -> Result<Self, String> {
        let logical = context
            .parse_sql_expr(text, df_schema)
            .map_err(|e| clean(&e.to_string()))?;
        // Constant parts are folded once here, not at every batch; a
        // literal that cannot take the type it is compared with
        // (`rows_out > 'x'`, `amount = 'abc'`) fails now, before any row
        // is read, instead of at the first batch or the end of the run.
        let simplifier = ExprSimplifier::new(
            SimplifyContext::builder()
                .with_schema(Arc::new(df_schema.clone()))
                .with_config_options(Arc::clone(context.state().config_options()))
                .build(),
        );
        let simplified = simplifier
            .coerce(logical, df_schema)
            .and_then(|coerced| simplifier.simplify(coerced))
            .map_err(|e| clean(&e.to_string()))?;
        let physical = context
            .create_physical_expr(simplified, df_schema)
            .map_err(|e| clean(&e.to_string()))?;
        Ok(Self {
            text: text.to_owned(),
            physical,
        })
    }

    /// Plans a condition: an expression that is true or false (or null).
    pub fn plan_condition(
        context: &SessionContext,
        text: &str,
        schema: &Schema,
    ) -> Result<Self, String> {
        let df_schema = DFSchema::try_from(schema.clone()).map_err(|e| e.to_string())?;
        Self::plan_condition_with(context, text, &df_schema)
    }

    /// [`Self::plan_condition`] on a schema with qualified names.
    pub fn plan_condition_with(
        context: &SessionContext,
        text: &str,
        df_schema: &DFSchema,
    ) -> Result<Self, String> {
        let expr = Self::plan_with(context, text, df_schema)?;
        match expr.data_type(df_schema.as_arrow())? {
            DataType::Boolean | DataType::Null => Ok(expr),
            other => Err(format!("`{text}` is not true or false but {other}")),
        }
    }

    /// The names of the columns the expression reads.
    pub fn column_names(&self) -> BTreeSet<String> {
        collect_columns(&self.physical)
            .into_iter()
            .map(|column| column.name().to_owned())
            .collect()
    }

    pub fn data_type(&self, schema: &Schema) -> Result<DataType, String> {
        self.physical
            .data_type(schema)
            .map_err(|e| clean(&e.to_string()))
    }

    pub fn evaluate(&self, batch: &RecordBatch) -> Result<ArrayRef, String> {
        self.physical
            .evaluate(batch)
            .and_then(|v| v.into_array(batch.num_rows()))
            .map_err(|e| clean(&e.to_string()))
    }

    /// Rows where a boolean expression is true; false and null both fail.
    pub fn evaluate_true(&self, batch: &RecordBatch) -> Result<BooleanBuffer, String> {
        let array = self.evaluate(batch)?;
        let Some(flags) = array.as_any().downcast_ref::<BooleanArray>() else {
            return Err(format!(
                "`{}` is not true or false but {}",
                self.text,
                array.data_type()
            ));
        };
        Ok(match flags.nulls() {
            Some(nulls) => flags.values() & nulls.inner(),
            None => flags.values().clone(),
        })
    }
}

/// DataFusion's messages carry a backtrace hint and a category prefix
/// that mean nothing to a scenario's author.
fn clean(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    first
        .trim_start_matches("Error during planning: ")
        .trim_start_matches("Schema error: ")
        .trim_start_matches("SQL error: ")
        .trim_start_matches("Arrow error: ")
        .trim_start_matches("Execution error: ")
        .to_owned()
}

use arrow::array::Array;
