//! Output files go to disk while they are written ("write-behind"), so that
//! a run's commit, which syncs every file before renaming it, waits for
//! the last few MiB instead of the whole file: W's 10M-row outputs took
//! 0.7 s to sync at the end of the run, with both cores idle.
//!
//! Every [`WRITE_BEHIND_BYTES`] written, a thread of the file's own syncs
//! it (`fdatasync`), off the writer's path. Its errors are not lost: once
//! one failed, every later write and [`WriteBehindFile::finish`] fail, the
//! first with its error. (The kernel reports a sync error once per open
//! file, so the commit's own sync might not see it again.)

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// Bytes written between two background syncs.
pub(crate) const WRITE_BEHIND_BYTES: u64 = 8 << 20;

#[derive(Debug, Default)]
struct SyncFailure {
    failed: AtomicBool,
    first: Mutex<Option<io::Error>>,
}

impl SyncFailure {
    fn record(&self, error: io::Error) {
        let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(error);
        self.failed.store(true, Ordering::Release);
    }

    fn take(&self) -> Option<io::Error> {
        if !self.failed.load(Ordering::Acquire) {
            return None;
        }
        let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        Some(
            first
                .take()
                .unwrap_or_else(|| io::Error::other("an earlier background sync failed")),
        )
    }
}

#[derive(Debug)]
struct Syncer {
    /// One pending request at most: a request made while a sync runs is
    /// covered by the next one.
    wake: SyncSender<()>,
    thread: JoinHandle<()>,
}

/// A file being written whose data goes to disk as it grows.
#[derive(Debug)]
pub struct WriteBehindFile {
    file: File,
    since_sync: u64,
    /// `None` when no thread could be started (or a copy of the file's
    /// descriptor made): the file is then synced only at commit.
    syncer: Option<Syncer>,
    failure: Arc<SyncFailure>,
}

impl WriteBehindFile {
    pub fn new(file: File) -> Self {
        let failure = Arc::new(SyncFailure::default());
        let syncer = file.try_clone().ok().and_then(|copy| {
            let (wake, requests) = sync_channel::<()>(1);
            let for_thread = Arc::clone(&failure);
            std::thread::Builder::new()
                .name("write-behind".into())
                .spawn(move || {
                    for () in requests {
                        if let Err(error) = copy.sync_data() {
                            for_thread.record(error);
                            return;
                        }
                    }
                })
                .ok()
                .map(|thread| Syncer { wake, thread })
        });
        Self {
            file,
            since_sync: 0,
            syncer,
            failure,
        }
    }

    /// Stops the background syncs (waiting for one under way) and returns
    /// the first error any of them met.
    pub fn finish(mut self) -> io::Result<()> {
        self.stop_syncer();
        match self.failure.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn stop_syncer(&mut self) {
        if let Some(Syncer { wake, thread }) = self.syncer.take() {
            drop(wake);
            let _ = thread.join();
        }
    }
}

impl Write for WriteBehindFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(error) = self.failure.take() {
            return Err(error);
        }
        let written = self.file.write(buf)?;
        self.since_sync += written as u64;
        if self.since_sync >= WRITE_BEHIND_BYTES {
            self.since_sync = 0;
            if let Some(syncer) = &self.syncer {
                match syncer.wake.try_send(()) {
                    Ok(()) | Err(TrySendError::Full(())) => {}
                    Err(TrySendError::Disconnected(())) => {
                        // The thread stopped on an error; it is returned
                        // by the next write or by `finish`.
                    }
                }
            }
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for WriteBehindFile {
    fn drop(&mut self) {
        self.stop_syncer();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_written_reaches_the_file_and_finish_reports_success() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let mut file = WriteBehindFile::new(File::create(&path).unwrap());
        let chunk = vec![7u8; 1 << 20];
        // Past the threshold a few times, so background syncs run.
        let chunks = 3 * WRITE_BEHIND_BYTES as usize / chunk.len() + 1;
        for _ in 0..chunks {
            file.write_all(&chunk).unwrap();
        }
        file.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), chunks * chunk.len());
        assert!(bytes.iter().all(|b| *b == 7));
    }

    #[test]
    fn after_a_failed_background_sync_every_write_and_finish_fail() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = WriteBehindFile::new(File::create(dir.path().join("out")).unwrap());
        file.failure.record(io::Error::other("disk on fire"));
        let error = file.write(b"row").unwrap_err();
        assert_eq!(error.to_string(), "disk on fire");
        assert!(file.write_all(b"row").is_err());
        assert!(file.finish().is_err());
    }

    #[test]
    fn finish_returns_an_error_met_after_the_last_write() {
        let dir = tempfile::tempdir().unwrap();
        let file = WriteBehindFile::new(File::create(dir.path().join("out")).unwrap());
        file.failure.record(io::Error::other("late failure"));
        assert_eq!(file.finish().unwrap_err().to_string(), "late failure");
    }
}
