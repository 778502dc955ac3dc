//! Reads sources on a thread of their own, so that parsing and checking
//! overlap. The channel between them is the backpressure bound.

use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};

use arrow::array::RecordBatch;
use runink_plan::Source;

use super::{ExpectedColumns, SourceBatch, open_source};
use crate::EngineError;
use crate::limits::Limits;

/// A batch from the source at this index in the list, or why reading stopped.
pub type ReadEvent = Result<(usize, SourceBatch), EngineError>;

/// Reads every source in order on its own thread. The channel holds at
/// most `queue_len_max` batches: a slow consumer blocks the reader.
pub fn spawn_reader(
    sources: Vec<Source>,
    base_dir: &Path,
    expected: Option<ExpectedColumns>,
    limits: &Limits,
) -> Receiver<ReadEvent> {
    let (sender, receiver) = sync_channel(limits.queue_len_max);
    let base_dir = base_dir.to_path_buf();
    let limits = *limits;
    std::thread::spawn(move || {
        for (index, source) in sources.iter().enumerate() {
            let mut reader = match open_source(source, &base_dir, expected.as_ref(), &limits) {
                Ok(reader) => reader,
                Err(e) => {
                    let _ = sender.send(Err(e));
                    return;
                }
            };
            let mut sent_any = false;
            loop {
                match reader.next_batch() {
                    Ok(Some(batch)) => {
                        sent_any = true;
                        if sender.send(Ok((index, batch))).is_err() {
                            return; // The consumer stopped; nothing more to read.
                        }
                    }
                    Ok(None) => {
                        // A source with columns and no rows still says
                        // which columns: the steps and sinks are planned
                        // on them, and a CSV sink writes its header.
                        if let (false, Some(schema)) = (sent_any, reader.schema()) {
                            let empty = SourceBatch {
                                batch: RecordBatch::new_empty(schema),
                                lines: Vec::new(),
                                bad: Vec::new(),
                                bytes_read: 0,
                            };
                            if sender.send(Ok((index, empty))).is_err() {
                                return;
                            }
                        }
                        break;
                    }
                    Err(e) => {
                        let _ = sender.send(Err(e));
                        return;
                    }
                }
            }
        }
    });
    receiver
}
