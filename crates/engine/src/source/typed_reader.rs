//! Parquet and Arrow IPC files: already typed, read batch by batch. Row
//! numbers stand in for line numbers.

use std::fs::File;
use std::io::Read;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::reader::StreamReader;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::SourceBatch;
use crate::EngineError;
use crate::limits::Limits;

pub struct TypedReader {
    batches: Batches,
    schema: SchemaRef,
    uri: String,
    rows_read: u64,
}

enum Batches {
    Parquet(Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>),
    /// An Arrow IPC stream; `in_file` when it is the stream of a file, whose
    /// footer follows its end.
    Arrow {
        reader: StreamReader<Box<dyn Read + Send>>,
        in_file: bool,
    },
}

impl TypedReader {
    pub fn parquet(file: File, uri: &str, limits: &Limits) -> Result<Self, EngineError> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| EngineError::read(uri, e))?
            .with_batch_size(limits.batch_rows_max)
            .build()
            .map_err(|e| EngineError::read(uri, e))?;
        Ok(Self {
            schema: arrow::array::RecordBatchReader::schema(&reader),
            batches: Batches::Parquet(Box::new(reader)),
            uri: uri.to_owned(),
            rows_read: 0,
        })
    }

    /// An Arrow IPC file (`arrow://`) or stream (`stdin://` with
    /// `format=arrow`): a file holds a stream after its magic and padding
    /// (its footer comes after the stream's end), so the stream reader
    /// reads either once those are skipped.
    pub fn arrow_ipc(input: Box<dyn Read + Send>, uri: &str) -> Result<Self, EngineError> {
        let mut input = input;
        let mut word = [0u8; 8];
        let mut peeked =
            read_up_to(&mut input, &mut word).map_err(|e| EngineError::read(uri, e))?;
        let in_file = peeked == 8 && &word[..6] == b"ARROW1";
        if in_file {
            // A file: its messages start after the magic, padded with
            // zeros to the writer's alignment (arrow-rs pads to 64 bytes).
            peeked = 0;
            for _ in 0..ARROW_FILE_PADDING_WORDS_MAX {
                peeked =
                    read_up_to(&mut input, &mut word).map_err(|e| EngineError::read(uri, e))?;
                if peeked < 8 || word != [0; 8] {
                    break;
                }
                peeked = 0;
            }
        }
        let rest: Box<dyn Read + Send> =
            Box::new(std::io::Cursor::new(word[..peeked].to_vec()).chain(input));
        let reader = StreamReader::try_new(rest, None).map_err(|e| EngineError::read(uri, e))?;
        Ok(Self {
            schema: reader.schema(),
            batches: Batches::Arrow { reader, in_file },
            uri: uri.to_owned(),
            rows_read: 0,
        })
    }

    pub fn schema(&self) -> SchemaRef {
        SchemaRef::clone(&self.schema)
    }

    pub fn next_batch(&mut self) -> Result<Option<SourceBatch>, EngineError> {
        let next = match &mut self.batches {
            Batches::Parquet(batches) => batches.next(),
            Batches::Arrow { reader, in_file } => match reader.next() {
                // A stream's end is the input's end: whatever follows (a
                // second stream, garbage) would be lost without a word.
                None if !*in_file => {
                    let mut byte = [0u8; 1];
                    let more = read_up_to(reader.get_mut(), &mut byte)
                        .map_err(|e| EngineError::read(&self.uri, e))?;
                    if more > 0 {
                        return Err(EngineError::read(
                            &self.uri,
                            "more data follows the end of the Arrow stream (a second stream, or bytes after it); write one stream",
                        ));
                    }
                    None
                }
                next => next,
            },
        };
        let Some(batch) = next else {
            return Ok(None);
        };
        let batch = batch.map_err(|e| EngineError::read(&self.uri, e))?;
        let first = self.rows_read + 1;
        self.rows_read += batch.num_rows() as u64;
        let lines = (first..=self.rows_read).collect();
        Ok(Some(SourceBatch {
            batch,
            lines,
            bad: Vec::new(),
            bytes_read: 0,
        }))
    }
}

/// 8-byte words of zeros skipped after an Arrow file's magic, at most: a
/// message never starts with eight zero bytes (it starts with its length
/// or the 0xFFFFFFFF continuation marker), so they can only be padding.
const ARROW_FILE_PADDING_WORDS_MAX: usize = 512;

fn read_up_to(input: &mut dyn Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
