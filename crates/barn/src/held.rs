//! [`HeldBarn`]: an embedded Barn kept open between one client's writes,
//! and handed off to any other process that waits for its folder.
//!
//! Opening and closing the Barn costs three fsyncs of its database (redb
//! marks the file in use on open and clean on close). A run writes at its
//! start and at its end; holding the Barn open in between saves a close and
//! an open on every run. Holding it must not make another process wait for
//! a whole run, so a watcher task checks every `HAND_OFF_POLL_MS` whether
//! an opener waits for the folder (it holds the wait file, see `lock.rs`),
//! and if so closes the Barn between two writes. The next write opens it
//! again, waiting its turn like any other opener.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::embedded::Barn;
use crate::error::BarnError;
use crate::lock::someone_waits;
use crate::options::BarnOptions;

/// How often the holder looks for a waiting opener: the longest a waiter
/// waits beyond the holder's current write and close.
const HAND_OFF_POLL_MS: u64 = 20;

/// The open Barn, if it is open, and why the watcher's last close failed.
#[derive(Default)]
struct Slot {
    barn: Option<Barn>,
    hand_off_error: Option<BarnError>,
}

/// An embedded Barn opened on first use and kept open until [`close`], or
/// until another process waits for the folder. Needs a tokio runtime that
/// runs between calls (a multi-threaded one): its watcher is a task.
///
/// [`close`]: HeldBarn::close
pub struct HeldBarn {
    dir: PathBuf,
    options: BarnOptions,
    slot: Arc<Mutex<Slot>>,
    watcher: JoinHandle<()>,
}

impl std::fmt::Debug for HeldBarn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldBarn")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl HeldBarn {
    /// Holds nothing yet: the Barn in `dir` opens on the first [`with`].
    ///
    /// [`with`]: HeldBarn::with
    pub fn new(dir: &Path, options: BarnOptions) -> Self {
        let slot = Arc::new(Mutex::new(Slot::default()));
        let watcher = tokio::spawn(hand_off_when_asked(dir.to_owned(), Arc::clone(&slot)));
        Self {
            dir: dir.to_owned(),
            options,
            slot,
            watcher,
        }
    }

    /// Runs `work` on the Barn, opening it first if it is not open. No
    /// hand-off happens while `work` runs.
    pub async fn with<T, E: From<BarnError>>(
        &self,
        work: impl AsyncFnOnce(&Barn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut slot = self.slot.lock().await;
        if let Some(error) = slot.hand_off_error.take() {
            return Err(error.into());
        }
        if slot.barn.is_none() {
            slot.barn = Some(Barn::open_embedded_with(&self.dir, self.options.clone()).await?);
        }
        let barn = slot.barn.as_ref().expect("opened above");
        work(barn).await
    }

    /// Stops watching and closes the Barn if it is open.
    pub async fn close(self) -> Result<(), BarnError> {
        self.watcher.abort();
        let mut slot = self.slot.lock().await;
        if let Some(error) = slot.hand_off_error.take() {
            return Err(error);
        }
        match slot.barn.take() {
            Some(barn) => barn.close().await,
            None => Ok(()),
        }
    }
}

impl Drop for HeldBarn {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

/// The watcher: closes the Barn whenever another process waits for `dir`.
async fn hand_off_when_asked(dir: PathBuf, slot: Arc<Mutex<Slot>>) {
    let mut ticks = tokio::time::interval(Duration::from_millis(HAND_OFF_POLL_MS));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if !someone_waits(&dir) {
            continue;
        }
        let mut slot = slot.lock().await;
        if let Some(barn) = slot.barn.take()
            && let Err(error) = barn.close().await
        {
            slot.hand_off_error = Some(error);
        }
    }
}
