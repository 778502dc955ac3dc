//! openraft's state machine on the Barn: the pure [`BarnState`] in memory,
//! made durable by snapshots in the database. On restart the state is the
//! latest snapshot, and openraft applies the committed entries after it
//! again from the log; `apply` is deterministic, so the result is the same.

use std::io::Cursor;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use openraft::storage::RaftStateMachine;
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder, Snapshot, StorageIOError};

use super::{Entry, Store, blocking};
use crate::error::BarnError;
use crate::raft_types::{LogId, Reply, SnapshotMeta, StorageError, StoredMembership, TypeConfig};
use crate::state::{BarnState, StateLimits};

/// The applied state, shared between the state machine (which writes it)
/// and the Barn's readers.
#[derive(Debug, Default)]
pub(crate) struct Machine {
    pub(crate) state: BarnState,
    pub(crate) last_applied: Option<LogId>,
    pub(crate) membership: StoredMembership,
}

pub(crate) type SharedMachine = Arc<RwLock<Machine>>;

/// Reads the shared machine. Nothing panics while holding the lock (`apply`
/// refuses, it does not panic), so a poisoned lock still holds a whole state.
pub(crate) fn read(machine: &SharedMachine) -> RwLockReadGuard<'_, Machine> {
    machine.read().unwrap_or_else(PoisonError::into_inner)
}

fn write(machine: &SharedMachine) -> RwLockWriteGuard<'_, Machine> {
    machine.write().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
pub(crate) struct StateMachineStore {
    store: Arc<Store>,
    machine: SharedMachine,
    /// Snapshots built by this process, to tell their ids apart.
    snapshots_built: u64,
    /// The snapshot read at open, kept for openraft's first question: as it
    /// starts, it asks for the current snapshot (for its metadata), and
    /// reading and checking the largest value in the file a second time
    /// would double what opening costs. Dropped once handed over, or when a
    /// newer snapshot is built or installed.
    opened_snapshot: Option<(SnapshotMeta, Vec<u8>)>,
}

impl StateMachineStore {
    /// Loads the latest snapshot, or starts from an empty state with
    /// `limits`. Blocks.
    pub(crate) fn open(store: Arc<Store>, limits: StateLimits) -> Result<Self, BarnError> {
        let opened_snapshot = store.snapshot()?;
        let machine = match &opened_snapshot {
            Some((meta, data)) => Machine {
                state: decode_state(data).map_err(|e| BarnError::Corrupted {
                    file: store.file().to_owned(),
                    what: format!("the snapshot's data: {e}"),
                })?,
                last_applied: meta.last_log_id,
                membership: meta.last_membership.clone(),
            },
            None => Machine {
                state: BarnState::new(limits),
                ..Machine::default()
            },
        };
        Ok(Self {
            store,
            machine: Arc::new(RwLock::new(machine)),
            snapshots_built: 0,
            opened_snapshot,
        })
    }

    pub(crate) fn machine(&self) -> SharedMachine {
        Arc::clone(&self.machine)
    }
}

fn decode_state(data: &[u8]) -> Result<BarnState, serde_json::Error> {
    serde_json::from_slice(data)
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let machine = read(&self.machine);
        Ok((machine.last_applied, machine.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Reply>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut machine = write(&self.machine);
        let mut replies = Vec::new();
        for entry in entries {
            machine.last_applied = Some(entry.log_id);
            let reply = match entry.payload {
                EntryPayload::Blank => Reply(Vec::new()),
                EntryPayload::Normal(proposal) => Reply(
                    proposal
                        .into_requests()
                        .into_iter()
                        .map(|request| machine.state.apply(request))
                        .collect(),
                ),
                EntryPayload::Membership(membership) => {
                    machine.membership = StoredMembership::new(Some(entry.log_id), membership);
                    Reply(Vec::new())
                }
            };
            replies.push(reply);
        }
        Ok(replies)
    }

    /// Captures the state now, as JSON; the builder stores it later, while
    /// entries keep being applied.
    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.snapshots_built += 1;
        self.opened_snapshot = None;
        let machine = read(&self.machine);
        let snapshot_id = match machine.last_applied {
            Some(log_id) => format!(
                "{}-{}-{}",
                log_id.leader_id.term, log_id.index, self.snapshots_built
            ),
            None => format!("empty-{}", self.snapshots_built),
        };
        SnapshotBuilder {
            store: Arc::clone(&self.store),
            meta: SnapshotMeta {
                last_log_id: machine.last_applied,
                last_membership: machine.membership.clone(),
                snapshot_id,
            },
            data: serde_json::to_vec(&machine.state),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    /// Checks the data is a whole state before storing it and replacing the
    /// state with it.
    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        self.opened_snapshot = None;
        let data = snapshot.into_inner();
        let signature = Some(meta.signature());
        let state = decode_state(&data)
            .map_err(|e| StorageIOError::read_snapshot(signature.clone(), &e))?;
        let stored_meta = meta.clone();
        blocking(&self.store, move |store| {
            store.save_snapshot(&stored_meta, &data)
        })
        .await
        .map_err(|e| StorageIOError::write_snapshot(signature, &e))?;
        let mut machine = write(&self.machine);
        machine.state = state;
        machine.last_applied = meta.last_log_id;
        machine.membership = meta.last_membership.clone();
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let current = match self.opened_snapshot.take() {
            Some(opened) => Some(opened),
            None => blocking(&self.store, Store::snapshot)
                .await
                .map_err(|e| StorageIOError::read_snapshot(None, &e))?,
        };
        Ok(current.map(|(meta, data)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        }))
    }
}

/// A snapshot captured by [`StateMachineStore::get_snapshot_builder`],
/// waiting to be stored.
#[derive(Debug)]
pub(crate) struct SnapshotBuilder {
    store: Arc<Store>,
    meta: SnapshotMeta,
    data: Result<Vec<u8>, serde_json::Error>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let signature = Some(self.meta.signature());
        let data = match &self.data {
            Ok(data) => data.clone(),
            Err(e) => return Err(StorageIOError::write_snapshot(signature, e).into()),
        };
        let meta = self.meta.clone();
        let stored = data.clone();
        blocking(&self.store, move |store| {
            store.save_snapshot(&meta, &stored)
        })
        .await
        .map_err(|e| StorageIOError::write_snapshot(signature, &e))?;
        Ok(Snapshot {
            meta: self.meta.clone(),
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}
