//! openraft's own storage test suite, run against the redb stores.

use std::sync::Arc;

use openraft::StorageIOError;
use openraft::testing::{StoreBuilder, Suite};
use tempfile::TempDir;

use super::{LogStore, NewFileFormat, StateMachineStore, Store};
use crate::raft_types::{StorageError, TypeConfig};
use crate::state::StateLimits;

/// Each build gets a fresh folder, kept until the test ends.
struct TempStores;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, TempDir> for TempStores {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachineStore), StorageError> {
        let dir = tempfile::tempdir().map_err(|e| StorageIOError::write(&e))?;
        let (store, _closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit)
            .map_err(|e| StorageIOError::write(&e))?;
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
        let (store, _closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
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

        let mut reopened =
            StateMachineStore::open_single_voter(store, StateLimits::default()).unwrap();
        let shared = reopened.machine();
        {
            let restored = read_machine(&shared);
            assert!(restored.state.herd(&herd).is_some());
            let ops = runink_model::HerdName::new("ops").unwrap();
            assert!(restored.state.herd(&ops).is_some(), "a batch's requests are applied");
            assert_eq!(restored.last_applied.map(|id| id.index), Some(4));
        }
        // A single voter's first answer comes from the read made at open,
        // the next from the file: both are the snapshot built above.
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
    let (store, _closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
    let committed: Option<LogId> = store.committed().unwrap();
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
    let (store, _closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
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

/// A snapshot moves finished runs to the archive; they read back from it,
/// after reopening too, and the snapshot sent to another node carries them
/// (its install archives them there).
#[test]
fn finished_runs_move_to_the_archive_and_travel_with_the_snapshot() {
    use openraft::storage::RaftStateMachine;
    use openraft::{CommittedLeaderId, EntryPayload, RaftSnapshotBuilder};

    use crate::command::{Command, NewRunEvent, Request};
    use crate::ids::{ClientId, NodeId, RequestId, RunId};
    use crate::raft_types::{LogId, Proposal};
    use crate::state::{EventLevel, RunCounts, RunDetail, RunEnd, RunStatus};
    use crate::store::{Entry, history};
    use runink_model::{DagHash, HerdName, Sha256Hex};

    let dag_hash = DagHash(Sha256Hex::from_digest(&[1; 32]));
    let commands = vec![
        Command::RegisterNode {
            node: NodeId(1),
            addr: "embedded".into(),
            agent: false,
            at_ms: 1,
        },
        Command::RegisterScenario {
            herd: HerdName::default_herd(),
            name: "orders".into(),
            dag_hash: dag_hash.clone(),
            at_ms: 1,
        },
        Command::SubmitRun {
            dag_hash: dag_hash.clone(),
            contracts: vec![],
            start_on: Some(NodeId(1)),
            bundle: None,
            at_ms: 2,
        },
        Command::FinishRun {
            run: RunId(1),
            end: RunEnd::Succeeded,
            counts: RunCounts::default(),
            detail: RunDetail::default(),
            summary: "done".into(),
            events: vec![NewRunEvent {
                at_ms: 3,
                level: EventLevel::Info,
                message: "read 10 rows".into(),
            }],
            at_ms: 3,
        },
        Command::SubmitRun {
            dag_hash,
            contracts: vec![],
            start_on: None,
            bundle: None,
            at_ms: 4,
        },
    ];
    let entries: Vec<Entry> = commands
        .into_iter()
        .zip(1..)
        .map(|(command, seq)| Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), seq),
            payload: EntryPayload::Normal(Proposal::One(Request::new(
                RequestId::new(ClientId(7), seq),
                command,
            ))),
        })
        .collect();
    let listed = |machine: &super::SharedMachine, store: &Store| {
        history::runs_newest_first(machine, store, |_| true, 10)
            .unwrap()
            .iter()
            .map(|run| (run.id, run.status))
            .collect::<Vec<_>>()
    };
    let both = [
        (RunId(2), RunStatus::Pending),
        (RunId(1), RunStatus::Succeeded),
    ];

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (store, _closed) =
            Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
        let store = Arc::new(store);
        let mut machine =
            StateMachineStore::open(Arc::clone(&store), StateLimits::default()).unwrap();
        machine.apply(entries).await.unwrap();
        machine
            .get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .unwrap();
        let shared = machine.machine();
        {
            let held = super::read_machine(&shared);
            assert!(held.state.run(RunId(1)).is_none(), "archived, not held");
            assert!(held.archiving.is_empty(), "the archive has it");
        }
        let archived = history::run(&shared, &store, RunId(1)).unwrap().unwrap();
        assert_eq!(archived.summary, "done");
        let events = history::run_events(&shared, &store, RunId(1))
            .unwrap()
            .unwrap();
        assert_eq!(events[0].message, "read 10 rows");
        assert_eq!(listed(&shared, &store), both);
        assert_eq!(history::run(&shared, &store, RunId(3)).unwrap(), None);

        let reopened = StateMachineStore::open(Arc::clone(&store), StateLimits::default()).unwrap();
        assert_eq!(listed(&reopened.machine(), &store), both);

        // Another node gets the whole state, and archives it as it installs.
        let mut sender = reopened;
        let sent = sender
            .get_current_snapshot()
            .await
            .unwrap()
            .expect("a snapshot is stored");
        let other_dir = tempfile::tempdir().unwrap();
        let (other_store, _closed) =
            Store::open(other_dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
        let other_store = Arc::new(other_store);
        let mut other =
            StateMachineStore::open(Arc::clone(&other_store), StateLimits::default()).unwrap();
        other
            .install_snapshot(&sent.meta, sent.snapshot)
            .await
            .unwrap();
        let other_shared = other.machine();
        assert!(
            super::read_machine(&other_shared)
                .state
                .run(RunId(1))
                .is_none()
        );
        assert_eq!(listed(&other_shared, &other_store), both);
        let events = history::run_events(&other_shared, &other_store, RunId(1))
            .unwrap()
            .unwrap();
        assert_eq!(events.len(), 1);
    });
}

/// A file of the format before the archive opens: it gains the archive's
/// tables and this format's mark, and its snapshot reads as it is.
#[test]
fn a_file_of_the_format_before_the_archive_is_upgraded_on_open() {
    use redb::{Database, TableHandle};

    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap());
    {
        let db = Database::create(dir.path().join(super::DB_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        txn.delete_table(super::ARCHIVED_RUNS).unwrap();
        txn.delete_table(super::ARCHIVED_EVENTS).unwrap();
        let mark = super::record::seal(&"2").unwrap();
        txn.open_table(super::META)
            .unwrap()
            .insert(super::KEY_FORMAT, mark.as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let (store, _closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
    assert_eq!(
        store.stored_format().unwrap().as_deref(),
        Some(super::FORMAT)
    );
    let txn = store.db.begin_read().unwrap();
    let tables: Vec<String> = txn
        .list_tables()
        .unwrap()
        .map(|t| t.name().to_owned())
        .collect();
    assert!(tables.contains(&"archived_runs".to_owned()), "{tables:?}");
    assert!(tables.contains(&"archived_events".to_owned()), "{tables:?}");
}

/// A file of format 3 kept the committed log id in `meta`; opened, it
/// keeps it in `log`, and the log's entries and last id read as before.
#[test]
fn a_file_of_format_3_moves_its_committed_log_id_into_the_log() {
    use openraft::CommittedLeaderId;
    use std::ops::Bound;

    use redb::Database;

    use crate::raft_types::LogId;

    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let barn = crate::Barn::open_embedded(dir.path()).await.unwrap();
        let herd = runink_model::HerdName::new("finance").unwrap();
        barn.write(crate::command::Command::PutHerd { herd, at_ms: 1 })
            .await
            .unwrap()
            .unwrap();
        barn.close().await.unwrap();
    });
    let (before_entries, before_last) = {
        let (store, _closed) =
            Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
        let entries = store
            .log_entries((Bound::Unbounded, Bound::Unbounded))
            .unwrap();
        (entries, store.log_state().unwrap().1)
    };
    let old_committed = LogId::new(CommittedLeaderId::new(1, 1), 1);
    {
        let db = Database::create(dir.path().join(super::DB_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(super::LOG)
            .unwrap()
            .remove(super::COMMITTED_INDEX)
            .unwrap();
        let mut meta = txn.open_table(super::META).unwrap();
        let committed = super::record::seal(&Some(old_committed)).unwrap();
        meta.insert(super::KEY_COMMITTED_BEFORE, committed.as_slice())
            .unwrap();
        let mark = super::record::seal(&"3").unwrap();
        meta.insert(super::KEY_FORMAT, mark.as_slice()).unwrap();
        drop(meta);
        txn.commit().unwrap();
    }
    let (store, _closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
    assert_eq!(
        store.stored_format().unwrap().as_deref(),
        Some(super::FORMAT)
    );
    assert_eq!(store.committed().unwrap(), Some(old_committed));
    let txn = store.db.begin_read().unwrap();
    let meta = txn.open_table(super::META).unwrap();
    assert!(meta.get(super::KEY_COMMITTED_BEFORE).unwrap().is_none());
    let entries = store
        .log_entries((Bound::Unbounded, Bound::Unbounded))
        .unwrap();
    assert_eq!(entries, before_entries);
    assert!(!entries.is_empty());
    assert_eq!(store.log_state().unwrap().1, before_last);
}

/// A snapshot built from an older state (its build began before a newer
/// snapshot was installed) does not replace the newer one.
#[test]
fn a_snapshot_never_replaces_a_newer_one() {
    use openraft::CommittedLeaderId;

    use crate::raft_types::{LogId, SnapshotMeta};
    use crate::state::ArchiveBatch;

    let dir = tempfile::tempdir().unwrap();
    let (store, _closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
    let meta = |index| SnapshotMeta {
        last_log_id: Some(LogId::new(CommittedLeaderId::new(1, 1), index)),
        last_membership: Default::default(),
        snapshot_id: format!("at-{index}"),
    };
    let none = ArchiveBatch::default();
    assert!(store.save_snapshot(&meta(10), b"{}", &none).unwrap());
    assert!(
        !store
            .save_snapshot(&meta(5), b"{\"old\":1}", &none)
            .unwrap()
    );
    let (stored, data) = store.snapshot().unwrap().unwrap();
    assert_eq!(stored.snapshot_id, "at-10");
    assert_eq!(data, b"{}");
    assert!(
        store.save_snapshot(&meta(10), b"{}", &none).unwrap(),
        "the same index again"
    );
    assert!(store.save_snapshot(&meta(11), b"{}", &none).unwrap());
}

/// Opening does not read the archive; `verify_archive` (a cluster node's
/// start) reads all of it and refuses a damaged record, naming it.
#[test]
fn a_damaged_archive_is_found_by_the_full_check() {
    use redb::Database;

    use crate::error::BarnError;
    use crate::ids::RunId;

    let dir = tempfile::tempdir().unwrap();
    let (store, closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
    store.verify_archive().unwrap();
    drop(store);
    drop(closed);
    {
        let db = Database::create(dir.path().join(super::DB_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        let events = super::record::seal(&Vec::<crate::state::RunEvent>::new()).unwrap();
        let mut damaged = events.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 0x01;
        {
            let mut table = txn.open_table(super::ARCHIVED_EVENTS).unwrap();
            table.insert(RunId(7).0, damaged.as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    let (store, _closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit)
        .expect("opening skips the archive");
    let error = store.verify_archive().unwrap_err();
    assert!(matches!(error, BarnError::Corrupted { .. }), "{error:?}");
    assert!(
        error.to_string().contains("archived run 7's events"),
        "{error}"
    );
}

/// The embedded Barn's new file is in redb's v3 format, whose clean close
/// skips rewriting the region tracker (~0.5 MB and an fsync at the end of
/// every embedded `runi run`); a node's is in v2, whose commits write a
/// page less; a v2 file opened by the embedded Barn keeps its format and
/// everything written to it.
#[test]
fn the_embedded_barn_makes_v3_files_nodes_make_v2_and_both_open() {
    use crate::command::Command;

    let dir = tempfile::tempdir().unwrap();
    let (mut store, _closed) = Store::open(dir.path(), 0, NewFileFormat::QuickClose).unwrap();
    assert!(!store.db.upgrade().unwrap(), "a new file is already v3");
    drop(store);
    let node = tempfile::tempdir().unwrap();
    let (mut store, _closed) =
        Store::open(node.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
    assert!(store.db.upgrade().unwrap(), "a node's new file is v2");
    drop(store);

    let older = tempfile::tempdir().unwrap();
    drop(redb::Database::create(older.path().join(super::DB_FILE)).unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let barn = crate::Barn::open_embedded(older.path()).await.unwrap();
        let herd = runink_model::HerdName::new("finance").unwrap();
        barn.write(Command::PutHerd { herd, at_ms: 1 })
            .await
            .unwrap()
            .unwrap();
        barn.close().await.unwrap();
        let barn = crate::Barn::open_embedded(older.path()).await.unwrap();
        let herds: Vec<String> = barn
            .read(|state| state.herds().map(|h| h.name.to_string()).collect())
            .await
            .unwrap();
        assert!(herds.contains(&"finance".to_owned()), "{herds:?}");
        barn.close().await.unwrap();
    });
    let (mut store, _closed) =
        Store::open(older.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
    assert!(
        store.db.upgrade().unwrap(),
        "the older file kept its format"
    );
}

#[test]
fn a_folder_is_one_nodes_and_refuses_another_id() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, _closed) =
            Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
        store.claim_node(3).unwrap();
        store.claim_node(3).unwrap();
    }
    let (store, _closed) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
    let error = store.claim_node(4).unwrap_err().to_string();
    assert!(
        error.contains("is the data of node 3, not node 4") && error.contains("`--id 3`"),
        "{error}"
    );
    store.claim_node(3).unwrap();
}

#[test]
fn a_file_given_as_the_folder_is_refused_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data");
    std::fs::write(&file, "x").unwrap();
    let error = Store::open(&file, 0, NewFileFormat::FewerPagesPerCommit)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("is a file; the barn's data goes in a folder"),
        "{error}"
    );
}

/// A damaged key in `meta` (one flipped byte of `node_id` or `vote`) made
/// the record vanish: the folder was taken for a new node's, or the vote
/// was forgotten. Any key the table does not know is damage.
#[test]
fn a_damaged_meta_key_is_found_not_taken_for_a_missing_record() {
    for (key, damaged) in [(super::KEY_NODE_ID, "node^id"), (super::KEY_VOTE, "vope")] {
        let dir = tempfile::tempdir().unwrap();
        {
            let (store, _closed) =
                Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit).unwrap();
            store.claim_node(3).unwrap();
        }
        {
            let db = redb::Database::create(dir.path().join(super::DB_FILE)).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut meta = txn.open_table(super::META).unwrap();
                let value = super::record::seal(&3u64).unwrap();
                meta.remove(key).unwrap();
                meta.insert(damaged, value.as_slice()).unwrap();
            }
            txn.commit().unwrap();
        }
        let Err(error) = Store::open(dir.path(), 0, NewFileFormat::FewerPagesPerCommit) else {
            panic!("a damaged key `{damaged}` is refused");
        };
        assert!(
            matches!(error, crate::BarnError::Corrupted { .. })
                && error.to_string().contains(damaged),
            "{error}"
        );
    }
}
