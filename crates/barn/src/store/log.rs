//! openraft's log storage on the Barn's database: entries, the vote and the
//! committed log id (in the log table, `COMMITTED_INDEX`).
//!
//! Appended entries go into the in-memory tail (`log_tail.rs`) before they
//! are written, so readers find the newest entries without a database
//! read or a hop to the blocking pool. Entries and the vote are fsynced
//! before openraft is told; the committed log id is kept in memory and
//! written with the next entries (docs/adr/004-barn-storage.md).

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{LogState, OptionalSend, RaftLogId, RaftLogReader, StorageIOError, Vote};

use super::log_tail::LogTail;
use super::{Entry, KEY_VOTE, Store, blocking};
use crate::error::BarnError;
use crate::raft_types::{LogId, StorageError, TypeConfig};

#[derive(Debug, Clone)]
pub(crate) struct LogStore {
    store: Arc<Store>,
    shared: Arc<Shared>,
}

/// What the log store and its readers share.
#[derive(Debug, Default)]
struct Shared {
    tail: Mutex<LogTail>,
    /// The latest committed log id openraft gave, if any since opening.
    committed: Mutex<Option<LogId>>,
}

impl Shared {
    fn tail(&self) -> MutexGuard<'_, LogTail> {
        // The tail is changed only by whole calls that do not panic.
        self.tail.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn committed(&self) -> Option<LogId> {
        *self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl LogStore {
    pub(crate) fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            shared: Arc::default(),
        }
    }

    /// The index of the oldest entry the tail holds.
    #[cfg(test)]
    pub(crate) fn first_held(&self) -> Option<u64> {
        self.shared.tail().first_index()
    }

    /// The committed log id: the latest openraft gave, else the one stored.
    pub(crate) async fn committed(&self) -> Result<Option<LogId>, BarnError> {
        if let Some(committed) = self.shared.committed() {
            return Ok(Some(committed));
        }
        blocking(&self.store, Store::committed).await
    }

    /// Puts the entries in the tail (readable from here on), then writes
    /// and fsyncs them, with the committed log id if it is among the
    /// entries now stored.
    pub(super) async fn write_entries(&self, entries: Vec<Entry>) -> Result<(), BarnError> {
        let mut sealed = Vec::with_capacity(entries.len());
        let mut held = Vec::with_capacity(entries.len());
        for entry in entries {
            let bytes = self.store.encode(&entry)?;
            let len = bytes.len();
            sealed.push((entry.get_log_id().index, bytes));
            held.push((entry, len));
        }
        let last_index = sealed.last().map(|(index, _)| *index);
        let committed = self
            .shared
            .committed()
            .filter(|committed| Some(committed.index) <= last_index);
        let write = self.shared.tail().push(held);
        blocking(&self.store, move |store| {
            store.write_log(&sealed, committed.as_ref())
        })
        .await?;
        self.shared.tail().written(write);
        Ok(())
    }
}

/// `range` as `start..end`, end exclusive.
fn index_range<RB: RangeBounds<u64>>(range: &RB) -> (u64, u64) {
    let start = match range.start_bound() {
        Bound::Included(i) => *i,
        Bound::Excluded(i) => i.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(i) => i.saturating_add(1),
        Bound::Excluded(i) => *i,
        Bound::Unbounded => u64::MAX,
    };
    (start, end)
}

impl RaftLogReader<TypeConfig> for LogStore {
    /// The part of `range` before the tail comes from the database, the
    /// rest from the tail.
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let (start, end) = index_range(&range);
        let (held, first_held) = {
            let tail = self.shared.tail();
            (tail.range(start, end), tail.first_index())
        };
        let stored_end = first_held.map_or(end, |first| first.min(end));
        if start >= stored_end {
            return Ok(held);
        }
        let bounds = (Bound::Included(start), Bound::Excluded(stored_end));
        let mut entries = blocking(&self.store, move |store| store.log_entries(bounds))
            .await
            .map_err(|e| StorageIOError::read_logs(&e))?;
        entries.extend(held);
        Ok(entries)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let (last_purged_log_id, stored_last) = blocking(&self.store, Store::log_state)
            .await
            .map_err(|e| StorageIOError::read_logs(&e))?;
        let last_log_id = self.shared.tail().last_log_id().or(stored_last);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), StorageError> {
        let vote = *vote;
        blocking(&self.store, move |store| store.write_meta(KEY_VOTE, &vote))
            .await
            .map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError> {
        blocking(&self.store, |store| store.read_meta(KEY_VOTE))
            .await
            .map_err(|e| StorageIOError::read_vote(&e).into())
    }

    /// Kept in memory, and written with the next entries: a committed log
    /// id lost in a crash is only an older one, which openraft tolerates
    /// (it learns the commit again from the leader, or, alone, by
    /// committing anew). The vote and the entries are what must not be
    /// lost.
    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        *self
            .shared
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        self.committed()
            .await
            .map_err(|e| StorageIOError::read(&e).into())
    }

    /// Reports the entries flushed once [`LogStore::write_entries`] has
    /// written them.
    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        match self.write_entries(entries.into_iter().collect()).await {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                let report = std::io::Error::other(e.to_string());
                callback.log_io_completed(Err(report));
                Err(StorageIOError::write_logs(&e).into())
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.shared.tail().truncate(log_id.index);
        blocking(&self.store, move |store| store.truncate(log_id.index))
            .await
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        blocking(&self.store, move |store| store.purge(log_id))
            .await
            .map_err(|e| StorageIOError::write_logs(&e))?;
        self.shared.tail().purge(log_id.index);
        Ok(())
    }
}
