//! A sink that encodes and writes on a thread of its own, so that Parquet
//! encoding and compression (the costliest part of a typical run) overlap
//! with reading and checking the next batches. Batches reach the thread
//! through a channel of `queue_len_max` batches: a slow sink blocks the
//! pipeline there (backpressure), never buffers without bound.

use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow::array::RecordBatch;

use crate::EngineError;
use crate::sink::SinkWriter;
use crate::staging::StagedFile;

/// What the writer thread hands back: the writer, ready to finish or
/// abort, or the error that stopped it (its staged file already removed).
type Worker = JoinHandle<Result<SinkWriter, EngineError>>;

#[derive(Debug)]
pub(crate) struct SinkThread {
    uri: String,
    /// `None` once the thread has been joined.
    batches: Option<SyncSender<RecordBatch>>,
    worker: Option<Worker>,
}

impl SinkThread {
    pub fn spawn(writer: SinkWriter, queue_len_max: usize) -> Result<Self, EngineError> {
        let uri = writer.uri().to_owned();
        let (batches, received) = sync_channel::<RecordBatch>(queue_len_max.max(1));
        let worker = std::thread::Builder::new()
            .name(format!("sink {uri}"))
            .spawn(move || {
                let mut writer = writer;
                for batch in received {
                    if let Err(error) = writer.write(&batch) {
                        writer.abort();
                        return Err(error);
                    }
                }
                Ok(writer)
            })
            .map_err(|e| {
                EngineError::write(&uri, format!("cannot start its writer thread: {e}"))
            })?;
        Ok(Self {
            uri,
            batches: Some(batches),
            worker: Some(worker),
        })
    }

    /// Queues `batch`; waits while the queue is full. A write that failed
    /// earlier is reported here, at the latest at `finish`.
    pub fn write(&mut self, batch: RecordBatch) -> Result<(), EngineError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let sent = match &self.batches {
            Some(batches) => batches.send(batch).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The thread stopped: it hands back why.
        match self.join() {
            Ok(writer) => {
                writer.abort();
                Err(EngineError::write(
                    &self.uri,
                    "its writer thread stopped early (this is a bug in Runink)",
                ))
            }
            Err(error) => Err(error),
        }
    }

    /// Writes what is queued, then finishes the file without making it
    /// visible; returns the staged file to commit with the others.
    pub fn finish(mut self) -> Result<Option<StagedFile>, EngineError> {
        self.join()?.finish()
    }

    /// Stops the thread and removes the staged file.
    pub fn abort(mut self) {
        if let Ok(writer) = self.join() {
            writer.abort();
        }
    }

    fn join(&mut self) -> Result<SinkWriter, EngineError> {
        self.batches = None;
        let Some(worker) = self.worker.take() else {
            return Err(EngineError::write(
                &self.uri,
                "its writer thread has already stopped",
            ));
        };
        worker.join().unwrap_or_else(|_| {
            Err(EngineError::write(
                &self.uri,
                "its writer thread panicked (this is a bug in Runink)",
            ))
        })
    }
}

impl Drop for SinkThread {
    /// A sink dropped without `finish` or `abort` (a run that unwinds)
    /// leaves no staged file behind.
    fn drop(&mut self) {
        if self.worker.is_some()
            && let Ok(writer) = self.join()
        {
            writer.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
    use runink_plan::{DataFormat, Endpoint, Location};
    use runink_testkit::file_names_in;

    use super::*;
    use crate::limits::Limits;

    fn parquet_sink(dir: &std::path::Path, schema: &SchemaRef) -> SinkWriter {
        let endpoint = Endpoint {
            uri: "parquet://out.parquet".to_owned(),
            format: DataFormat::Parquet,
            location: Location::File {
                path: "out.parquet".to_owned(),
            },
        };
        SinkWriter::open(
            &endpoint,
            &BTreeMap::new(),
            schema,
            dir,
            "7",
            &Limits::default(),
        )
        .expect("the sink opens")
    }

    fn numbers(values: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
        let column = Arc::new(Int64Array::from(values.to_vec()));
        RecordBatch::try_new(schema, vec![column]).expect("a batch")
    }

    #[test]
    fn writes_every_queued_batch_before_finishing() {
        let dir = tempfile::tempdir().expect("a folder");
        let batch = numbers(&[1, 2, 3]);
        let mut sink = SinkThread::spawn(parquet_sink(dir.path(), &batch.schema()), 1)
            .expect("the thread starts");
        for _ in 0..10 {
            sink.write(batch.clone()).expect("queued");
        }
        let staged = sink.finish().expect("finished").expect("a staged file");
        staged.commit().expect("committed");
        let file = std::fs::File::open(dir.path().join("out.parquet")).expect("the output");
        let rows: usize =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("a Parquet file")
                .build()
                .expect("a reader")
                .map(|b| b.expect("a batch").num_rows())
                .sum();
        assert_eq!(rows, 30);
    }

    #[test]
    fn a_failed_write_is_reported_and_leaves_no_file() {
        let dir = tempfile::tempdir().expect("a folder");
        let good = numbers(&[1]);
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true)]));
        let wrong = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(StringArray::from(vec!["x"]))],
        )
        .expect("a batch");
        let mut sink = SinkThread::spawn(parquet_sink(dir.path(), &good.schema()), 1)
            .expect("the thread starts");
        sink.write(good).expect("queued");
        // The bad batch fails on the thread; the error comes back on a
        // later write or at the latest from `finish`.
        let mut outcome = sink.write(wrong);
        for _ in 0..3 {
            if outcome.is_err() {
                break;
            }
            outcome = sink.write(numbers(&[2]));
        }
        let error = match outcome {
            Err(error) => error,
            Ok(()) => sink.finish().expect_err("the bad batch fails the sink"),
        };
        let message = error.to_string();
        assert!(message.contains("out.parquet"), "{message}");
        assert!(
            file_names_in(dir.path()).is_empty(),
            "{:?}",
            file_names_in(dir.path())
        );
    }

    #[test]
    fn abort_removes_the_staged_file() {
        let dir = tempfile::tempdir().expect("a folder");
        let batch = numbers(&[1, 2]);
        let mut sink = SinkThread::spawn(parquet_sink(dir.path(), &batch.schema()), 2)
            .expect("the thread starts");
        sink.write(batch).expect("queued");
        sink.abort();
        assert!(
            file_names_in(dir.path()).is_empty(),
            "{:?}",
            file_names_in(dir.path())
        );
    }
}
