//! Which recorded runs still have a process. A `runi run` holds a lock on
//! `<state>/running/<run>.lock` from the entry that records its run as
//! running to the one that records how it ended. A run recorded running
//! whose lock is free, or gone, lost its process (kill -9, a crash, the
//! machine going down): the next `runi` that opens the ledger records it
//! as failed ([`abandoned_end`]). The lock is taken while the ledger's
//! folder lock is held, so no other process can see the run running
//! before its lock exists.

use std::collections::HashMap;
use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use runink_barn::{Command, EventLevel, NewRunEvent, RunEnd, RunId};

/// The folder of run locks inside the state folder.
const RUNNING_FOLDER: &str = "running";

/// Runs looked at per sweep, at most: runs recorded running at once on
/// one machine are few; a ledger with more is swept over several opens.
pub const SWEEP_RUNS_MAX: usize = 1_000;

#[derive(Debug)]
pub struct RunLocks {
    dir: PathBuf,
    /// The locks this process holds, by run.
    held: Mutex<HashMap<RunId, File>>,
}

impl RunLocks {
    /// The run locks of state folder `state`.
    pub fn new(state: &Path) -> Self {
        Self {
            dir: state.join(RUNNING_FOLDER),
            held: Mutex::default(),
        }
    }

    fn path(&self, run: RunId) -> PathBuf {
        self.dir.join(format!("{run}.lock"))
    }

    /// Takes the lock of `run`, held until [`RunLocks::release`] or the
    /// process ends.
    pub fn hold(&self, run: RunId) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let file = File::create(self.path(run))?;
        file.lock()?;
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(run, file);
        Ok(())
    }

    /// Removes the lock of `run` and lets go of it.
    pub fn release(&self, run: RunId) {
        // A file left behind is only a free lock: the run has ended.
        let _ = fs::remove_file(self.path(run));
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&run);
    }

    /// Whether a process still holds the lock of `run`. A lock that cannot
    /// be asked about counts as held: a run is never failed on a doubt.
    pub fn is_held(&self, run: RunId) -> bool {
        let Ok(file) = File::open(self.path(run)) else {
            return false;
        };
        match file.try_lock() {
            Ok(()) => false,
            Err(TryLockError::WouldBlock) => true,
            Err(TryLockError::Error(_)) => true,
        }
    }
}

/// The entry that records run `run` as failed because its process is gone.
pub fn abandoned_end(run: RunId, at_ms: u64) -> Command {
    let summary = "its process ended before recording how the run ended (killed, crashed, \
                   or the machine stopped); none of its outputs were committed"
        .to_owned();
    Command::FinishRun {
        run,
        end: RunEnd::Failed,
        counts: Default::default(),
        detail: Default::default(),
        events: vec![NewRunEvent {
            at_ms,
            level: EventLevel::Error,
            message: format!("run {run} failed: {summary}"),
        }],
        summary,
        at_ms,
    }
}
