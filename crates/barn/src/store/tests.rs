//! openraft's own storage test suite, run against the redb stores.

use std::sync::Arc;

use openraft::StorageIOError;
use openraft::testing::{StoreBuilder, Suite};
use tempfile::TempDir;

use super::{LogStore, StateMachineStore, Store};
use crate::raft_types::{StorageError, TypeConfig};
use crate::state::StateLimits;

/// Each build gets a fresh folder, kept until the test ends.
struct TempStores;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, TempDir> for TempStores {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachineStore), StorageError> {
        let dir = tempfile::tempdir().map_err(|e| StorageIOError::write(&e))?;
        let (store, _closed) = Store::open(dir.path(), 0).map_err(|e| StorageIOError::write(&e))?;
        let store = Arc::new(store);
        let state_machine = StateMachineStore::open(Arc::clone(&store), StateLimits::default())
            .map_err(|e| StorageIOError::read(&e))?;
        Ok((dir, LogStore::new(store), state_machine))
    }
}

#[test]
fn the_stores_pass_openraft_storage_suite() {
    Suite::test_all(TempStores).expect("the storage suite passes");
}

/// The suite applies only blank and membership entries; this applies
/// client requests, snapshots them, and reopens from the snapshot.
#[test]
fn requests_applied_and_snapshotted_come_back_after_reopening() {
    use openraft::storage::RaftStateMachine;
    use openraft::{CommittedLeaderId, EntryPayload, RaftSnapshotBuilder};

    use crate::command::{Command, Request};
    use crate::ids::{ClientId, RequestId};
    use crate::outcome::Applied;
    use crate::raft_types::{LogId, Proposal, Reply};
    use crate::store::{Entry, read_machine};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (store, _closed) = Store::open(dir.path(), 0).unwrap();
        let store = Arc::new(store);
        let mut machine =
            StateMachineStore::open(Arc::clone(&store), StateLimits::default()).unwrap();
        let herd = runink_model::HerdName::new("finance").unwrap();
        let put = Request::new(
            RequestId::new(ClientId(9), 1),
            Command::PutHerd {
                herd: herd.clone(),
                at_ms: 1,
            },
        );
        let entry = |index, payload| Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
            payload,
        };
        let other = Request::new(
            RequestId::new(ClientId(10), 1),
            Command::PutHerd {
                herd: runink_model::HerdName::new("ops").unwrap(),
                at_ms: 1,
            },
        );
        let replies = machine
            .apply([
                entry(1, EntryPayload::Blank),
                entry(2, EntryPayload::Normal(Proposal::One(put.clone()))),
                entry(3, EntryPayload::Normal(Proposal::One(put.clone()))),
                entry(4, EntryPayload::Normal(Proposal::Batch(vec![other, put]))),
            ])
            .await
            .unwrap();
        let created = Ok(Applied::HerdPut { created: true });
        assert_eq!(
            replies,
            [
                Reply(vec![]),
                Reply(vec![created.clone()]),
                Reply(vec![created.clone()]),
                Reply(vec![created.clone(), created]),
            ],
            "the retry gets the first reply, in a batch as alone; a batch answers each request in order"
        );


        let snapshot = machine
            .get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .unwrap();
        assert_eq!(snapshot.meta.last_log_id.map(|id| id.index), Some(4));

        let mut reopened = StateMachineStore::open(store, StateLimits::default()).unwrap();
        let shared = reopened.machine();
        {
            let restored = read_machine(&shared);
            assert!(restored.state.herd(&herd).is_some());
            let ops = runink_model::HerdName::new("ops").unwrap();
            assert!(restored.state.herd(&ops).is_some(), "a batch's requests are applied");
            assert_eq!(restored.last_applied.map(|id| id.index), Some(4));
        }
        // The first answer comes from the read made at open, the next from
        // the file: both are the snapshot built above.
        let built = snapshot.snapshot.into_inner();
        for ask in ["first", "second"] {
            let current = reopened
                .get_current_snapshot()
                .await
                .unwrap()
                .expect("a snapshot is stored");
            assert_eq!(current.meta, snapshot.meta, "{ask} answer");
            assert_eq!(current.snapshot.into_inner(), built, "{ask} answer");
        }
    });
}

/// The committed log id costs no transaction of its own: each append
/// stores the one openraft gave before it, so after writes one at a time
/// the stored id is the entry before the last.
#[test]
fn the_committed_log_id_is_stored_with_the_next_entries() {
    use crate::command::Command;
    use crate::raft_types::LogId;
    use crate::store::KEY_COMMITTED;

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    runtime.block_on(async {
        let barn = crate::Barn::open_embedded(dir.path()).await.unwrap();
        for name in ["finance", "ops", "sales"] {
            let herd = runink_model::HerdName::new(name).unwrap();
            barn.write(Command::PutHerd { herd, at_ms: 1 })
                .await
                .unwrap()
                .unwrap();
        }
        barn.close().await.unwrap();
    });
    let (store, _closed) = Store::open(dir.path(), 0).unwrap();
    let committed: Option<LogId> = store.read_meta(KEY_COMMITTED).unwrap().flatten();
    let (_, last) = store.log_state().unwrap();
    let last = last.expect("the writes are in the log").index;
    assert_eq!(committed.map(|id| id.index), Some(last - 1));
}

/// Older entries leave the in-memory tail once written; a read that spans
/// the database and the tail gets every entry, in order.
#[test]
fn entries_read_back_whole_across_the_database_and_the_tail() {
    use openraft::{CommittedLeaderId, EntryPayload, RaftLogReader};

    use super::log_tail::LOG_TAIL_ENTRIES_MAX;
    use crate::raft_types::LogId;
    use crate::store::Entry;

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, _closed) = Store::open(dir.path(), 0).unwrap();
    let mut log = LogStore::new(Arc::new(store));
    let total = 3 * LOG_TAIL_ENTRIES_MAX as u64;
    let indexes = |entries: &[Entry]| entries.iter().map(|e| e.log_id.index).collect::<Vec<_>>();
    runtime.block_on(async {
        for first in (1..=total).step_by(100) {
            let entries = (first..(first + 100).min(total + 1))
                .map(|index| Entry {
                    log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
                    payload: EntryPayload::Blank,
                })
                .collect();
            log.write_entries(entries).await.unwrap();
        }
        let first_held = log.first_held().expect("the tail holds the newest");
        assert!(first_held > 1, "the oldest entries left the tail");
        let all = log.try_get_log_entries(1..=total).await.unwrap();
        assert_eq!(indexes(&all), (1..=total).collect::<Vec<_>>());
        let across = log
            .try_get_log_entries(first_held - 3..first_held + 3)
            .await
            .unwrap();
        assert_eq!(
            indexes(&across),
            (first_held - 3..first_held + 3).collect::<Vec<_>>()
        );
    });
}
