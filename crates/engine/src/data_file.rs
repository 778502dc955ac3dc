//! One data file outside any scenario, for the contract commands: read it
//! batch by batch with the same readers a run uses, or write one
//! atomically (or to stdout) with the same writers as sinks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::Receiver;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use runink_plan::{DataFormat, Endpoint, Location, OptionValue, Source};

use crate::EngineError;
use crate::limits::Limits;
use crate::sink::SinkWriter;
use crate::source::{ReadEvent, spawn_reader};

/// A file as a scenario's source would name it.
pub fn file_source(
    path: &Path,
    format: DataFormat,
    options: BTreeMap<String, OptionValue>,
) -> Source {
    Source {
        endpoint: Endpoint {
            uri: format!("{}://{}", format.as_str(), path.display()),
            format,
            location: Location::File {
                path: path.display().to_string(),
            },
        },
        options,
        meta: BTreeMap::new(),
        window: None,
    }
}

/// The readable batches of a file, read on a thread of its own; records
/// that cannot be read are counted, not returned.
#[derive(Debug)]
pub struct DataBatches {
    receiver: Receiver<ReadEvent>,
    /// Records the reader could not turn into a row, so far.
    pub rows_unreadable: u64,
}

impl Iterator for DataBatches {
    type Item = Result<RecordBatch, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let event = self.receiver.recv().ok()?;
        Some(event.map(|(_, batch)| {
            self.rows_unreadable += batch.bad.len() as u64;
            batch.batch
        }))
    }
}

/// Reads `path` (relative paths from the working folder).
pub fn read_file(
    path: &Path,
    format: DataFormat,
    options: BTreeMap<String, OptionValue>,
    limits: &Limits,
) -> DataBatches {
    let source = file_source(path, format, options);
    DataBatches {
        receiver: spawn_reader(vec![source], Path::new(""), None, limits),
        rows_unreadable: 0,
    }
}

/// Writes batches of one schema to a file, visible only after
/// [`DataWriter::finish`], or to stdout.
#[derive(Debug)]
pub struct DataWriter {
    writer: Option<SinkWriter>,
}

impl DataWriter {
    /// `path` `None` writes to stdout (CSV, JSON Lines and Arrow only).
    pub fn create(
        path: Option<&Path>,
        format: DataFormat,
        schema: &SchemaRef,
        run_id: &str,
        limits: &Limits,
    ) -> Result<Self, EngineError> {
        let location = match path {
            Some(path) => Location::File {
                path: path.display().to_string(),
            },
            None if format == DataFormat::Parquet => {
                return Err(EngineError::Plan(
                    "Parquet cannot be written to stdout; name a file".to_owned(),
                ));
            }
            None => Location::Stdout,
        };
        let endpoint = Endpoint {
            uri: match path {
                Some(path) => format!("{}://{}", format.as_str(), path.display()),
                None => "stdout://".to_owned(),
            },
            format,
            location,
        };
        let writer = SinkWriter::open(
            &endpoint,
            &BTreeMap::new(),
            schema,
            Path::new(""),
            run_id,
            limits,
        )?;
        Ok(Self {
            writer: Some(writer),
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), EngineError> {
        match self.writer.as_mut() {
            Some(writer) => writer.write(batch),
            None => Ok(()),
        }
    }

    /// Finishes the file and makes it visible under its name.
    pub fn finish(mut self) -> Result<(), EngineError> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        if let Some(staged) = writer.finish()? {
            staged.commit()?;
        }
        Ok(())
    }
}

impl Drop for DataWriter {
    /// A writer dropped before `finish` leaves no partial file.
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            writer.abort();
        }
    }
}
