//! openraft's state machine on the Barn: the pure [`BarnState`] in memory,
//! made durable by snapshots in the database. On restart the state is the
//! latest snapshot, and openraft applies the committed entries after it
//! again from the log; `apply` is deterministic, so the result is the same.
//!
//! Each snapshot moves the finished runs out of memory into the archive
//! tables, in the transaction that stores it (`state/archive.rs`); readers
//! find a run in memory, in flight to the archive, or in the archive.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use openraft::storage::RaftStateMachine;
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder, Snapshot, StorageIOError};

use super::{Entry, SnapshotWithArchive, Store, blocking};
use crate::error::BarnError;
use crate::ids::RunId;
use crate::raft_types::{LogId, Reply, SnapshotMeta, StorageError, StoredMembership, TypeConfig};
use crate::state::{ArchiveBatch, ArchivedRun, BarnState, StateLimits};

/// The applied state, shared between the state machine (which writes it)
/// and the Barn's readers.
#[derive(Debug, Default)]
pub(crate) struct Machine {
    pub(crate) state: BarnState,
    pub(crate) last_applied: Option<LogId>,
    pub(crate) membership: StoredMembership,
    /// Runs a snapshot being built moved out of the state, until the
    /// transaction that archives them commits.
    pub(crate) archiving: BTreeMap<RunId, ArchivedRun>,
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
    /// For a single voter, the snapshot read at open, kept for openraft's
    /// first question: as it starts, it asks for the current snapshot, for
    /// its metadata only (openraft 0.9, `StorageHelper::get_initial_state`);
    /// building the whole state with the archive for it would cost what the
    /// archive saves. A single voter never sends a snapshot, so the data
    /// without the archive cannot reach another node. Dropped once handed
    /// over, or when a newer snapshot is built or installed.
    opened_snapshot: Option<(SnapshotMeta, Vec<u8>)>,
}

impl StateMachineStore {
    /// Loads the latest snapshot, or starts from an empty state with
    /// `limits`. Blocks.
    pub(crate) fn open(store: Arc<Store>, limits: StateLimits) -> Result<Self, BarnError> {
        Self::load(store, limits, false)
    }

    /// [`open`](Self::open) for a node that is its cluster's only voter
    /// (an embedded Barn), which answers openraft's first question from
    /// the read made here. Blocks.
    pub(crate) fn open_single_voter(
        store: Arc<Store>,
        limits: StateLimits,
    ) -> Result<Self, BarnError> {
        Self::load(store, limits, true)
    }

    fn load(
        store: Arc<Store>,
        limits: StateLimits,
        keep_for_first_question: bool,
    ) -> Result<Self, BarnError> {
        let opened_snapshot = store.snapshot()?;
        let machine = match &opened_snapshot {
            Some((meta, data)) => Machine {
                state: decode_state(data).map_err(|e| BarnError::Corrupted {
                    file: store.file().to_owned(),
                    what: format!("the snapshot's data: {e}"),
                })?,
                last_applied: meta.last_log_id,
                membership: meta.last_membership.clone(),
                archiving: BTreeMap::new(),
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
            opened_snapshot: opened_snapshot.filter(|_| keep_for_first_question),
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

    /// Moves the finished runs out of the state, and captures the state
    /// now, as JSON; the builder stores both later, while entries keep
    /// being applied.
    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.snapshots_built += 1;
        self.opened_snapshot = None;
        let mut machine = write(&self.machine);
        let archive = machine.state.archive_finished();
        for archived in &archive.runs {
            machine.archiving.insert(archived.run.id, archived.clone());
        }
        let snapshot_id = match machine.last_applied {
            Some(log_id) => format!(
                "{}-{}-{}",
                log_id.leader_id.term, log_id.index, self.snapshots_built
            ),
            None => format!("empty-{}", self.snapshots_built),
        };
        SnapshotBuilder {
            store: Arc::clone(&self.store),
            machine: Arc::clone(&self.machine),
            archive,
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

    /// Checks the data is a whole state, then stores it (its finished runs
    /// in the archive, which it replaces) and replaces the state with it.
    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        self.opened_snapshot = None;
        let signature = Some(meta.signature());
        let mut state = decode_state(&snapshot.into_inner())
            .map_err(|e| StorageIOError::read_snapshot(signature.clone(), &e))?;
        let archive = state.archive_finished();
        let data = serde_json::to_vec(&state)
            .map_err(|e| StorageIOError::write_snapshot(signature.clone(), &e))?;
        let stored_meta = meta.clone();
        blocking(&self.store, move |store| {
            store.replace_snapshot(&stored_meta, &data, &archive.runs)
        })
        .await
        .map_err(|e| StorageIOError::write_snapshot(signature, &e))?;
        let mut machine = write(&self.machine);
        machine.state = state;
        machine.last_applied = meta.last_log_id;
        machine.membership = meta.last_membership.clone();
        machine.archiving.clear();
        Ok(())
    }

    /// The latest snapshot, whole: its data with the archived runs put
    /// back, as a node that has none of it needs it.
    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        if let Some((meta, data)) = self.opened_snapshot.take() {
            return Ok(Some(Snapshot {
                meta,
                snapshot: Box::new(Cursor::new(data)),
            }));
        }
        let stored = blocking(&self.store, Store::snapshot_with_archive)
            .await
            .map_err(|e| StorageIOError::read_snapshot(None, &e))?;
        let Some(SnapshotWithArchive {
            meta,
            data,
            archived,
        }) = stored
        else {
            return Ok(None);
        };
        let data = if archived.is_empty() {
            data
        } else {
            let signature = Some(meta.signature());
            let mut state = decode_state(&data)
                .map_err(|e| StorageIOError::read_snapshot(signature.clone(), &e))?;
            state.restore_archived(archived);
            serde_json::to_vec(&state).map_err(|e| StorageIOError::read_snapshot(signature, &e))?
        };
        Ok(Some(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        }))
    }
}

/// A snapshot captured by [`StateMachineStore::get_snapshot_builder`],
/// waiting to be stored with the runs it archives.
#[derive(Debug)]
pub(crate) struct SnapshotBuilder {
    store: Arc<Store>,
    machine: SharedMachine,
    archive: ArchiveBatch,
    meta: SnapshotMeta,
    data: Result<Vec<u8>, serde_json::Error>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    /// Stores the snapshot and archives its runs in one transaction. The
    /// snapshot handed back holds the state without the archive: openraft
    /// 0.9 keeps only its metadata (`sm::worker::build_snapshot`), and
    /// [`StateMachineStore::get_current_snapshot`] is what sends one.
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let signature = Some(self.meta.signature());
        let data = match &self.data {
            Ok(data) => data.clone(),
            Err(e) => return Err(StorageIOError::write_snapshot(signature, e).into()),
        };
        let meta = self.meta.clone();
        let stored = data.clone();
        let archive = std::mem::take(&mut self.archive);
        let archived: Vec<RunId> = archive.runs.iter().map(|a| a.run.id).collect();
        let saved = blocking(&self.store, move |store| {
            store.save_snapshot(&meta, &stored, &archive)
        })
        .await
        .map_err(|e| StorageIOError::write_snapshot(signature, &e))?;
        if !saved {
            tracing::info!(
                snapshot = %self.meta.snapshot_id,
                "a newer snapshot was installed while this one was built; it is not stored"
            );
        }
        // Stored, or superseded by the installed snapshot: either way the
        // runs are no longer in flight.
        let mut machine = write(&self.machine);
        for id in archived {
            machine.archiving.remove(&id);
        }
        drop(machine);
        Ok(Snapshot {
            meta: self.meta.clone(),
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}
