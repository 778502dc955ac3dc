//! One `type: sql` contract rule, run by DataFusion *while* the rows flow:
//! the accepted batches stream into the query through a bounded channel,
//! so an aggregate such as `SELECT COUNT(*) FROM orders WHERE amount < 0`
//! holds next to nothing however long the run. The query runs on a thread
//! of its own; a slow query blocks the pipeline (backpressure), never
//! buffers without bound.

use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::TableReference;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::{SessionConfig, SessionContext};
use runink_contract::{DatasetMeasurement, SqlRule};
use tokio::sync::mpsc;

use crate::EngineError;
use crate::limits::Limits;

/// A query in progress. `push` each accepted batch, then `finish`.
pub(crate) struct SqlRuleQuery {
    rule: SqlRule,
    contract: String,
    /// `None` once the query has stopped reading (it failed, or it needs
    /// no more rows); the reason comes out of `finish`.
    rows: Option<mpsc::Sender<RecordBatch>>,
    worker: JoinHandle<Result<f64, String>>,
    /// The object has sensitive columns: a failure's message shows no
    /// value the engine quotes (`quoted_values.rs`).
    hides_values: bool,
}

impl SqlRuleQuery {
    /// Plans the query against `schema` (the accepted rows' schema) and
    /// starts it. A query that does not plan (unknown column, bad SQL)
    /// fails here, before any row is read.
    pub fn start(
        rule: SqlRule,
        contract: &str,
        schema: SchemaRef,
        limits: &Limits,
        hides_values: bool,
    ) -> Result<Self, EngineError> {
        let (rows, receiver) = mpsc::channel(limits.queue_len_max);
        let (planned_tx, planned_rx) = sync_channel::<Result<(), String>>(1);
        let table = rule.table.clone();
        let query = rule.query.clone();
        let memory_max = limits.sql_rule_memory_bytes_max;
        let worker = std::thread::Builder::new()
            .name(format!("sql rule {}", rule.rule.name))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .map_err(|e| format!("cannot start a query runtime: {e}"))?;
                runtime.block_on(async move {
                    let context = match session(&table, schema, receiver, memory_max) {
                        Ok(context) => context,
                        Err(e) => {
                            let _ = planned_tx.send(Err(e.clone()));
                            return Err(e);
                        }
                    };
                    let frame = match crate::read_only_sql::query(&context, &query).await {
                        Ok(frame) => frame,
                        Err(e) => {
                            let message = e.to_string();
                            let _ = planned_tx.send(Err(message.clone()));
                            return Err(message);
                        }
                    };
                    let _ = planned_tx.send(Ok(()));
                    let batches = frame.collect().await.map_err(|e| e.to_string())?;
                    one_number(&batches)
                })
            })
            .map_err(|e| EngineError::Plan(format!("cannot start a thread for a sql rule: {e}")))?;
        let fail = |message: String| EngineError::Contract {
            path: contract.to_owned(),
            message: format!("sql rule `{}`: {message}", rule.rule.name),
        };
        match planned_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(message)) => return Err(fail(message)),
            Err(_) => return Err(fail(join_failure(worker))),
        }
        Ok(Self {
            rule,
            contract: contract.to_owned(),
            rows: Some(rows),
            worker,
            hides_values,
        })
    }

    /// Hands the query one batch of accepted rows; blocks while the
    /// query is `queue_len_max` batches behind.
    pub fn push(&mut self, batch: &RecordBatch) {
        if let Some(rows) = &self.rows
            && rows.blocking_send(batch.clone()).is_err()
        {
            // The query stopped reading: it failed, or it has its answer
            // (a LIMIT). `finish` tells which.
            self.rows = None;
        }
    }

    /// Ends the input and judges the query's number; `rows` is how many
    /// rows the query saw, for `unit: percent`.
    pub fn finish(mut self, rows: u64) -> Result<DatasetMeasurement, EngineError> {
        self.rows = None;
        let answer = match self.worker.join() {
            Ok(answer) => answer,
            Err(_) => Err("the query's thread panicked".to_owned()),
        };
        match answer {
            Ok(value) => Ok(self.rule.judge(value, rows)),
            Err(message) => Err(EngineError::RuleFailed {
                path: self.contract,
                rule: self.rule.rule.name.clone(),
                message: crate::quoted_values::shown(message, self.hides_values),
            }),
        }
    }
}

/// A session with one streaming table. Identifiers keep their case, as
/// contracts name columns (`DataValue` is not `datavalue`).
fn session(
    table: &str,
    schema: SchemaRef,
    receiver: mpsc::Receiver<RecordBatch>,
    memory_max: usize,
) -> Result<SessionContext, String> {
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false);
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(memory_max, 1.0)
        .build_arc()
        .map_err(|e| e.to_string())?;
    let context = SessionContext::new_with_config_rt(config, runtime);
    let partition = Arc::new(ChannelPartition {
        schema: Arc::clone(&schema),
        receiver: Mutex::new(Some(receiver)),
    });
    let streaming = StreamingTable::try_new(schema, vec![partition]).map_err(|e| e.to_string())?;
    // A bare reference keeps the object's case, as the query's identifiers
    // keep theirs (a `&str` here would be lowercased: `Air_Quality` was
    // then found by no query).
    context
        .register_table(TableReference::bare(table), Arc::new(streaming))
        .map_err(|e| e.to_string())?;
    Ok(context)
}

/// The rows of one run, as DataFusion reads them: once.
#[derive(Debug)]
struct ChannelPartition {
    schema: SchemaRef,
    receiver: Mutex<Option<mpsc::Receiver<RecordBatch>>>,
}

impl PartitionStream for ChannelPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _context: Arc<TaskContext>) -> SendableRecordBatchStream {
        let schema = Arc::clone(&self.schema);
        match self.receiver.lock().ok().and_then(|mut r| r.take()) {
            Some(receiver) => {
                let batches = futures::stream::unfold(receiver, |mut receiver| async move {
                    let batch = receiver.recv().await?;
                    Some((Ok(batch), receiver))
                });
                Box::pin(RecordBatchStreamAdapter::new(schema, batches))
            }
            // A self-join would read the table twice; the rows are gone.
            None => {
                let read_twice = futures::stream::once(async {
                    Err(DataFusionError::Execution(
                        "a sql rule's query may read its table only once (no self-joins)"
                            .to_owned(),
                    ))
                });
                Box::pin(RecordBatchStreamAdapter::new(schema, read_twice))
            }
        }
    }
}

/// The single number a rule's query must return.
fn one_number(batches: &[RecordBatch]) -> Result<f64, String> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let columns = batches.first().map_or(0, RecordBatch::num_columns);
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Err("the query returned no rows; it must return one number".to_owned());
    };
    if rows != 1 || columns != 1 {
        return Err(format!(
            "the query returned {rows} rows of {columns} columns; it must return one number"
        ));
    }
    let number = cast(batch.column(0), &DataType::Float64).map_err(|_| {
        format!(
            "the query returned a `{}`; it must return a number",
            batch.column(0).data_type()
        )
    })?;
    let number = number.as_primitive::<Float64Type>();
    if batch.column(0).is_null(0) {
        return Err(
            "the query returned NULL; it must return a number (COALESCE covers empty data)"
                .to_owned(),
        );
    }
    if number.is_null(0) {
        return Err(format!(
            "the query returned a `{}` value that is not a number; it must return a number",
            batch.column(0).data_type()
        ));
    }
    Ok(number.value(0))
}

fn join_failure(worker: JoinHandle<Result<f64, String>>) -> String {
    match worker.join() {
        Ok(Err(message)) => message,
        _ => "the query stopped before it was planned".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, Int64Array, StringArray};

    use super::*;

    fn batch(column: ArrayRef) -> RecordBatch {
        RecordBatch::try_from_iter([("n", column)]).unwrap()
    }

    #[test]
    fn one_number_is_read_and_anything_else_says_what_it_was() {
        assert_eq!(
            one_number(&[batch(Arc::new(Int64Array::from(vec![3])))]),
            Ok(3.0)
        );
        let null = one_number(&[batch(Arc::new(Int64Array::from(vec![None::<i64>])))]);
        assert!(null.unwrap_err().contains("returned NULL"));
        let text = one_number(&[batch(Arc::new(StringArray::from(vec!["abc"])))]).unwrap_err();
        assert!(
            text.contains("a `Utf8` value that is not a number"),
            "{text}"
        );
        let two = one_number(&[batch(Arc::new(Int64Array::from(vec![1, 2])))]).unwrap_err();
        assert!(two.contains("2 rows of 1 columns"), "{two}");
    }
}
