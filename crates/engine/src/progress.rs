//! Live counters of a run, for a progress display. The engine stores into
//! them once per batch; a reader on another thread loads them whenever it
//! likes. Nothing here blocks or allocates on the hot path.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use runink_plan::{DataFormat, Location, Plan};

use crate::source::is_compressed;

#[derive(Debug, Default)]
pub struct RunProgress {
    rows_in: AtomicU64,
    bytes_in: AtomicU64,
    rows_out: AtomicU64,
    rows_rejected: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    pub rows_in: u64,
    /// Bytes of text input consumed (CSV, JSONL), over all sources.
    pub bytes_in: u64,
    pub rows_out: u64,
    pub rows_rejected: u64,
}

impl RunProgress {
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            rows_in: self.rows_in.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            rows_out: self.rows_out.load(Ordering::Relaxed),
            rows_rejected: self.rows_rejected.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn store(&self, now: ProgressSnapshot) {
        self.rows_in.store(now.rows_in, Ordering::Relaxed);
        self.bytes_in.store(now.bytes_in, Ordering::Relaxed);
        self.rows_out.store(now.rows_out, Ordering::Relaxed);
        self.rows_rejected
            .store(now.rows_rejected, Ordering::Relaxed);
    }
}

/// The bytes a run will read, when that is known up front: every source
/// is an uncompressed CSV or JSONL file (progress counts decompressed
/// bytes, and Parquet is not read front to back).
pub fn input_bytes_total(plan: &Plan, base_dir: &Path) -> Option<u64> {
    let mut total = 0;
    for source in &plan.sources {
        let Location::File { path } = &source.endpoint.location else {
            return None;
        };
        if !matches!(source.endpoint.format, DataFormat::Csv | DataFormat::Jsonl)
            || is_compressed(source, path)
        {
            return None;
        }
        let metadata = std::fs::metadata(base_dir.join(path)).ok()?;
        if !metadata.is_file() {
            return None; // A FIFO or a device: no size to go by.
        }
        total += metadata.len();
    }
    Some(total)
}
