//! The `sql` step: a query over the step's input, named `input`, run by
//! DataFusion. A query sees its whole input (it may aggregate or join), so
//! the input is buffered, up to `sql_rows_max` rows, and the query runs at
//! the end of the input.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use tokio::runtime::Runtime;

pub struct SqlStep {
    query: String,
    input_schema: SchemaRef,
    output_schema: SchemaRef,
    buffered: Vec<RecordBatch>,
    rows: usize,
    rows_max: usize,
    runtime: Runtime,
}

impl std::fmt::Debug for SqlStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStep")
            .field("query", &self.query)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl SqlStep {
    /// Plans the query over an empty `input`, to learn its output schema
    /// and report a bad query before any row is read.
    pub fn plan(query: &str, input_schema: &SchemaRef, rows_max: usize) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| format!("cannot start the SQL runtime: {e}"))?;
        let output_schema = runtime.block_on(async {
            let context = context_with_input(input_schema, Vec::new())?;
            let frame = crate::read_only_sql::query(&context, query)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<SchemaRef, String>(Arc::clone(frame.schema().inner()))
        })?;
        Ok(Self {
            query: query.to_owned(),
            input_schema: Arc::clone(input_schema),
            output_schema,
            buffered: Vec::new(),
            rows: 0,
            rows_max,
            runtime,
        })
    }

    pub fn output_schema(&self) -> SchemaRef {
        Arc::clone(&self.output_schema)
    }

    pub fn buffer(&mut self, batch: RecordBatch) -> Result<(), String> {
        self.rows += batch.num_rows();
        if self.rows > self.rows_max {
            return Err(format!(
                "the query's input passed {} rows (`sql_rows_max`); raise it with `--sql-rows-max`, or filter earlier",
                self.rows_max
            ));
        }
        self.buffered.push(batch);
        Ok(())
    }

    pub fn run(&mut self) -> Result<Vec<RecordBatch>, String> {
        let batches = std::mem::take(&mut self.buffered);
        let output_schema = Arc::clone(&self.output_schema);
        self.runtime.block_on(async {
            let context = context_with_input(&self.input_schema, batches)?;
            let frame = crate::read_only_sql::query(&context, &self.query)
                .await
                .map_err(|e| e.to_string())?;
            let batches = frame.collect().await.map_err(|e| e.to_string())?;
            // DataFusion may mark columns non-nullable; the planned schema
            // is what later steps were planned against.
            batches
                .into_iter()
                .map(|b| {
                    RecordBatch::try_new(Arc::clone(&output_schema), b.columns().to_vec())
                        .map_err(|e| e.to_string())
                })
                .collect()
        })
    }
}

fn context_with_input(
    schema: &SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<SessionContext, String> {
    let context = SessionContext::new();
    let table = MemTable::try_new(Arc::clone(schema), vec![batches]).map_err(|e| e.to_string())?;
    context
        .register_table("input", Arc::new(table))
        .map_err(|e| e.to_string())?;
    Ok(context)
}
