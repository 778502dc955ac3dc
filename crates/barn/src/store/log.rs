//! openraft's log storage on the Barn's database: entries, the vote and the
//! committed log id, each write durable before openraft is told.

use std::fmt::Debug;
use std::ops::RangeBounds;
use std::sync::Arc;

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{LogState, OptionalSend, RaftLogReader, StorageIOError, Vote};

use super::{Entry, KEY_COMMITTED, KEY_VOTE, Store, blocking};
use crate::raft_types::{LogId, StorageError, TypeConfig};

#[derive(Debug, Clone)]
pub(crate) struct LogStore {
    store: Arc<Store>,
}

impl LogStore {
    pub(crate) fn new(store: Arc<Store>) -> Self {
        Self { store }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let bounds = (range.start_bound().cloned(), range.end_bound().cloned());
        blocking(&self.store, move |store| store.log_entries(bounds))
            .await
            .map_err(|e| StorageIOError::read_logs(&e).into())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let (last_purged_log_id, last_log_id) = blocking(&self.store, Store::log_state)
            .await
            .map_err(|e| StorageIOError::read_logs(&e))?;
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
        blocking(&self.store, move |store| {
            store.write_meta(KEY_VOTE, &vote, true)
        })
        .await
        .map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError> {
        blocking(&self.store, |store| store.read_meta(KEY_VOTE))
            .await
            .map_err(|e| StorageIOError::read_vote(&e).into())
    }

    /// Not fsynced: a committed log id lost in a crash is only an older
    /// one, which openraft tolerates (it learns the commit again from the
    /// leader, or, alone, by committing anew). The vote and the entries are
    /// what must not be lost.
    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        blocking(&self.store, move |store| {
            store.write_meta(KEY_COMMITTED, &committed, false)
        })
        .await
        .map_err(|e| StorageIOError::write(&e).into())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        let committed: Option<Option<LogId>> =
            blocking(&self.store, |store| store.read_meta(KEY_COMMITTED))
                .await
                .map_err(|e| StorageIOError::read(&e))?;
        Ok(committed.flatten())
    }

    /// Writes and fsyncs before reporting the entries flushed; the await
    /// keeps appends in order.
    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let written = blocking(&self.store, move |store| store.append(entries)).await;
        match written {
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
        blocking(&self.store, move |store| store.truncate(log_id.index))
            .await
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        blocking(&self.store, move |store| store.purge(log_id))
            .await
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }
}
