//! The Barn's durable storage: one redb database, `barn.redb`, in the data
//! folder, behind the folder lock (`lock.rs`).
//!
//! Tables (layout and reasons in `docs/adr/004-barn-storage.md`):
//! - `log`: Raft log entries by index, and the committed log id under
//!   [`COMMITTED_INDEX`];
//! - `meta`: the vote, the last purged log id, and the file's format;
//! - `snapshot`: the latest snapshot, its metadata and its data (the
//!   [`BarnState`](crate::BarnState) as JSON);
//! - `archived_runs`, `archived_events`: the records and events of finished
//!   runs moved out of the state (`state/archive.rs`), by run id, as of the
//!   latest snapshot: each snapshot writes them with its data.
//!
//! Every value is sealed with a checksum (`record.rs`) and checked on every
//! read. Opening checks the log and the small records (the snapshot's data
//! is checked as the state machine loads it right after, and the archive,
//! which grows with the runs kept, as it is read, or all at once by a
//! cluster node before it serves), so a damaged file is refused before the
//! Barn serves anything from it. All
//! calls into redb block; async callers run them through [`blocking`].

pub(crate) mod history;
mod log;
mod log_tail;
mod record;
mod state_machine;

#[cfg(test)]
mod tests;

use std::ops::{Bound, ControlFlow};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::RaftLogId;
use redb::{Database, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use crate::error::BarnError;
use crate::ids::RunId;
use crate::lock::FolderLock;
use crate::raft_types::{LogId, SnapshotMeta, TypeConfig};
use crate::state::{ArchiveBatch, ArchivedRun, Run, RunEvent};
use record::RecordError;

pub(crate) use log::LogStore;
pub(crate) use state_machine::{SharedMachine, StateMachineStore, read as read_machine};

/// The database file's name inside the data folder.
pub(crate) const DB_FILE: &str = "barn.redb";

/// The layout this code reads and writes; stored under `meta/format`.
/// Format 2: runs carry their contracts and their detail. Format 3: finished
/// runs move to the archive tables. Format 4: the committed log id moves
/// from `meta` into `log` ([`COMMITTED_INDEX`]).
const FORMAT: &str = "4";

/// The formats a file of [`FORMAT`] grew from. Opening one adds the tables
/// missing (the archive's, for format 2: its snapshot reads as it is, every
/// run in the state, none archived yet), moves the committed log id into
/// `log`, and marks the file with [`FORMAT`].
const FORMATS_BEFORE: [&str; 2] = ["2", "3"];

/// Where the `log` table keeps the committed log id: an index no entry
/// reaches (openraft counts entries one by one from 0), the table's last
/// key, so it lies in the same leaf page as the newest entries and an
/// append that carries it writes no page more. In a table of its own it
/// cost every fsynced append a page (~15% of a one-entry commit here;
/// docs/adr/004-barn-storage.md).
const COMMITTED_INDEX: u64 = u64::MAX;

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const SNAPSHOT: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshot");
const ARCHIVED_RUNS: TableDefinition<u64, &[u8]> = TableDefinition::new("archived_runs");
const ARCHIVED_EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("archived_events");

pub(crate) const KEY_VOTE: &str = "vote";
/// Where formats before 4 kept the committed log id.
const KEY_COMMITTED_BEFORE: &str = "committed";
const KEY_PURGED: &str = "last_purged";
const KEY_FORMAT: &str = "format";
/// The id of the cluster node whose folder this is, once it has served.
const KEY_NODE_ID: &str = "node_id";
/// Every key the `meta` table may hold.
const META_KEYS: [&str; 4] = [KEY_VOTE, KEY_PURGED, KEY_FORMAT, KEY_NODE_ID];
const KEY_SNAPSHOT_META: &str = "meta";
const KEY_SNAPSHOT_DATA: &str = "data";

type Entry = openraft::Entry<TypeConfig>;

/// The latest snapshot and the archive beside it, as one read saw them.
pub(crate) struct SnapshotWithArchive {
    pub(crate) meta: SnapshotMeta,
    /// The state without the archived runs.
    pub(crate) data: Vec<u8>,
    pub(crate) archived: Vec<ArchivedRun>,
}

/// Resolves once the store is closed: its database and folder lock are
/// released, and another open of the folder can succeed.
pub(crate) type Closed = oneshot::Receiver<()>;

/// The redb file format a new database file is created in; an existing
/// file keeps its own (redb opens both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewFileFormat {
    /// redb's v2: a one-entry commit writes six pages and the header. For
    /// cluster nodes, which commit often and close rarely.
    FewerPagesPerCommit,
    /// redb's v3 (redb 2.6): a commit writes one page more (a lone write
    /// on a node is ~10% slower), but a clean close writes the allocator
    /// state once instead of also rewriting the region tracker (~0.5 MB
    /// and an fsync). For the embedded Barn, which commits a few times in
    /// a `runi run` and closes at its end.
    QuickClose,
}

/// The open database. Shared (`Arc`) by the log store, the state machine
/// and their background tasks; closed when the last of them lets go.
#[derive(Debug)]
pub(crate) struct Store {
    // Fields drop in order: the database, then the lock, then the signal.
    db: Database,
    file: PathBuf,
    _lock: FolderLock,
    _closed: ClosedSignal,
}

#[derive(Debug)]
struct ClosedSignal(Option<oneshot::Sender<()>>);

impl Drop for ClosedSignal {
    fn drop(&mut self) {
        if let Some(closed) = self.0.take() {
            // Nobody may be waiting for the close; that is fine.
            let _ = closed.send(());
        }
    }
}

impl Store {
    /// Locks `dir` (waiting up to `lock_wait_ms_max`), opens or creates the
    /// database in it, and checks every stored value but the snapshot's
    /// data, which [`StateMachineStore::open`] checks as it loads it. Blocks.
    pub(crate) fn open(
        dir: &Path,
        lock_wait_ms_max: u64,
        format: NewFileFormat,
    ) -> Result<(Self, Closed), BarnError> {
        if dir.is_file() {
            return Err(BarnError::Config(format!(
                "`{}` is a file; the barn's data goes in a folder (give a folder's path, new or one a barn made)",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|source| BarnError::Io {
            action: "create the barn folder",
            path: dir.to_owned(),
            source,
        })?;
        let lock = FolderLock::acquire(dir, lock_wait_ms_max)?;
        let file = dir.join(DB_FILE);
        refuse_empty_file(&file)?;
        let (closed_tx, closed_rx) = oneshot::channel();
        // redb stops on some damage with a failed assertion rather than an
        // error: caught here, it is the damaged file it is.
        let opened = without_panic_output(|| {
            let db = redb::Builder::new()
                .create_with_file_format_v3(format == NewFileFormat::QuickClose)
                .create(&file)
                .map_err(|e| open_error(&file, e))?;
            let store = Self {
                db,
                file: file.clone(),
                _lock: lock,
                _closed: ClosedSignal(Some(closed_tx)),
            };
            store.prepare()?;
            store.verify()?;
            Ok(store)
        });
        match opened {
            Ok(result) => result.map(|store| (store, closed_rx)),
            Err(panic) => Err(BarnError::Corrupted {
                file,
                what: format!(
                    "the database stopped on an internal check while reading it ({panic})"
                ),
            }),
        }
    }

    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// Creates the tables and the format mark on a new file, and refuses a
    /// file of another format. A file already marked with this format is
    /// only read: opening the Barn costs no write (and no fsync).
    fn prepare(&self) -> Result<(), BarnError> {
        match self.stored_format()? {
            Some(found) if found == FORMAT => Ok(()),
            Some(found) if FORMATS_BEFORE.contains(&found.as_str()) => self.create_tables(),
            Some(found) => Err(BarnError::UnsupportedFormat {
                file: self.file.clone(),
                found,
                supported: FORMAT.into(),
            }),
            None => self.create_tables(),
        }
    }

    /// Marks the file as node `id`'s, or refuses when another node's mark
    /// is on it: its log and vote would be taken for this node's.
    pub(crate) fn claim_node(&self, id: u64) -> Result<(), BarnError> {
        let stored = {
            let txn = self.db.begin_read().map_err(self.err())?;
            let meta = txn.open_table(META).map_err(self.err())?;
            match meta.get(KEY_NODE_ID).map_err(self.err())? {
                Some(value) => Some(self.decode::<u64>(value.value(), "the node id")?),
                None => None,
            }
        };
        match stored {
            Some(stored) if stored == id => Ok(()),
            Some(stored) => Err(BarnError::Config(format!(
                "`{}` is the data of node {stored}, not node {id}; start it with `--id {stored}`, or give node {id} a folder of its own",
                self.file.parent().unwrap_or(&self.file).display()
            ))),
            None => {
                let txn = self.db.begin_write().map_err(self.err())?;
                {
                    let mut meta = txn.open_table(META).map_err(self.err())?;
                    meta.insert(KEY_NODE_ID, self.encode(&id)?.as_slice())
                        .map_err(self.err())?;
                }
                txn.commit().map_err(self.err())
            }
        }
    }

    /// The format mark, if the file has one.
    fn stored_format(&self) -> Result<Option<String>, BarnError> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let meta = match txn.open_table(META) {
            Ok(meta) => meta,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(BarnError::database(&self.file, e)),
        };
        match meta.get(KEY_FORMAT).map_err(self.err())? {
            Some(value) => Ok(Some(self.decode(value.value(), "the format mark")?)),
            None => Ok(None),
        }
    }

    /// Creates the tables missing, moves a committed log id stored by an
    /// older format into `log`, and marks the file with this format, in
    /// one transaction, so a file with the mark has every table.
    fn create_tables(&self) -> Result<(), BarnError> {
        let txn = self.db.begin_write().map_err(self.err())?;
        {
            let mut log = txn.open_table(LOG).map_err(self.err())?;
            txn.open_table(SNAPSHOT).map_err(self.err())?;
            txn.open_table(ARCHIVED_RUNS).map_err(self.err())?;
            txn.open_table(ARCHIVED_EVENTS).map_err(self.err())?;
            let mut meta = txn.open_table(META).map_err(self.err())?;
            let committed_before = match meta.remove(KEY_COMMITTED_BEFORE).map_err(self.err())? {
                Some(value) => {
                    self.decode::<Option<LogId>>(value.value(), "the `committed` record")?
                }
                None => None,
            };
            if let Some(committed) = committed_before {
                log.insert(COMMITTED_INDEX, self.encode(&committed)?.as_slice())
                    .map_err(self.err())?;
            }
            let mark = self.encode(&FORMAT)?;
            meta.insert(KEY_FORMAT, mark.as_slice())
                .map_err(self.err())?;
        }
        txn.commit().map_err(self.err())
    }

    /// Reads back every stored value but the snapshot's data (the state
    /// machine's to check), so that damage is found before the Barn serves
    /// anything.
    fn verify(&self) -> Result<(), BarnError> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let log = txn.open_table(LOG).map_err(self.err())?;
        for row in log.range(..COMMITTED_INDEX).map_err(self.err())? {
            let (index, value) = row.map_err(self.err())?;
            self.decode_entry(index.value(), value.value())?;
        }
        self.committed_in(&log)?;
        let meta = txn.open_table(META).map_err(self.err())?;
        for row in meta.iter().map_err(self.err())? {
            let (key, value) = row.map_err(self.err())?;
            // A damaged key is a record that vanished: a vote forgotten (and
            // cast twice in a term), or a folder taken for another node's.
            if !META_KEYS.contains(&key.value()) {
                return Err(BarnError::Corrupted {
                    file: self.file.clone(),
                    what: format!(
                        "the `meta` table holds a record under an unknown key `{}`",
                        key.value().escape_debug()
                    ),
                });
            }
            record::open_bytes(value.value())
                .map_err(|e| self.corrupted(&format!("the `{}` record", key.value()), &e))?;
        }
        let snapshot = txn.open_table(SNAPSHOT).map_err(self.err())?;
        self.snapshot_meta_in(&snapshot)?;
        Ok(())
    }

    // --- the log ---

    pub(crate) fn log_entries(
        &self,
        (start, end): (Bound<u64>, Bound<u64>),
    ) -> Result<Vec<Entry>, BarnError> {
        let end = match end {
            Bound::Unbounded | Bound::Included(COMMITTED_INDEX) => Bound::Excluded(COMMITTED_INDEX),
            end => end,
        };
        let txn = self.db.begin_read().map_err(self.err())?;
        let log = txn.open_table(LOG).map_err(self.err())?;
        let mut entries = Vec::new();
        for row in log.range((start, end)).map_err(self.err())? {
            let (index, value) = row.map_err(self.err())?;
            entries.push(self.decode_entry(index.value(), value.value())?);
        }
        Ok(entries)
    }

    /// The last purged log id, and the last log id (or the last purged one
    /// if the log is empty).
    pub(crate) fn log_state(&self) -> Result<(Option<LogId>, Option<LogId>), BarnError> {
        let purged: Option<LogId> = self.read_meta(KEY_PURGED)?;
        let txn = self.db.begin_read().map_err(self.err())?;
        let log = txn.open_table(LOG).map_err(self.err())?;
        let newest = log
            .range(..COMMITTED_INDEX)
            .map_err(self.err())?
            .next_back()
            .transpose()
            .map_err(self.err())?;
        let last = match newest {
            Some((index, value)) => Some(
                *self
                    .decode_entry(index.value(), value.value())?
                    .get_log_id(),
            ),
            None => purged,
        };
        Ok((purged, last))
    }

    /// Writes sealed entries (by index), and the committed log id if
    /// given, in one transaction; durable when it returns (redb fsyncs on
    /// commit).
    pub(crate) fn write_log(
        &self,
        entries: &[(u64, Vec<u8>)],
        committed: Option<&LogId>,
    ) -> Result<(), BarnError> {
        let txn = self.db.begin_write().map_err(self.err())?;
        {
            let mut log = txn.open_table(LOG).map_err(self.err())?;
            for (index, sealed) in entries {
                log.insert(*index, sealed.as_slice()).map_err(self.err())?;
            }
            if let Some(committed) = committed {
                log.insert(COMMITTED_INDEX, self.encode(committed)?.as_slice())
                    .map_err(self.err())?;
            }
        }
        txn.commit().map_err(self.err())
    }

    /// The committed log id last stored, if any.
    pub(crate) fn committed(&self) -> Result<Option<LogId>, BarnError> {
        let txn = self.db.begin_read().map_err(self.err())?;
        self.committed_in(&txn.open_table(LOG).map_err(self.err())?)
    }

    fn committed_in(
        &self,
        log: &impl ReadableTable<u64, &'static [u8]>,
    ) -> Result<Option<LogId>, BarnError> {
        match log.get(COMMITTED_INDEX).map_err(self.err())? {
            Some(value) => self.decode(value.value(), "the committed log id").map(Some),
            None => Ok(None),
        }
    }

    /// Removes the entries from `index` on (a conflicting suffix).
    pub(crate) fn truncate(&self, index: u64) -> Result<(), BarnError> {
        let txn = self.db.begin_write().map_err(self.err())?;
        txn.open_table(LOG)
            .map_err(self.err())?
            .retain_in(index..COMMITTED_INDEX, |_, _| false)
            .map_err(self.err())?;
        txn.commit().map_err(self.err())
    }

    /// Records `upto` as purged and removes the entries up to it, in one
    /// transaction.
    pub(crate) fn purge(&self, upto: LogId) -> Result<(), BarnError> {
        let purged = self.encode(&upto)?;
        let txn = self.db.begin_write().map_err(self.err())?;
        {
            let mut meta = txn.open_table(META).map_err(self.err())?;
            meta.insert(KEY_PURGED, purged.as_slice())
                .map_err(self.err())?;
            let mut log = txn.open_table(LOG).map_err(self.err())?;
            log.retain_in(..=upto.index, |_, _| false)
                .map_err(self.err())?;
        }
        txn.commit().map_err(self.err())
    }

    // --- small records: the vote ---

    pub(crate) fn read_meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, BarnError> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let meta = txn.open_table(META).map_err(self.err())?;
        let Some(value) = meta.get(key).map_err(self.err())? else {
            return Ok(None);
        };
        self.decode(value.value(), &format!("the `{key}` record"))
            .map(Some)
    }

    /// Writes a small record durably.
    pub(crate) fn write_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<(), BarnError> {
        let value = self.encode(value)?;
        let txn = self.db.begin_write().map_err(self.err())?;
        txn.open_table(META)
            .map_err(self.err())?
            .insert(key, value.as_slice())
            .map_err(self.err())?;
        txn.commit().map_err(self.err())
    }

    // --- the snapshot ---

    /// The latest snapshot: its metadata and its data (without the
    /// archive).
    pub(crate) fn snapshot(&self) -> Result<Option<(SnapshotMeta, Vec<u8>)>, BarnError> {
        let txn = self.db.begin_read().map_err(self.err())?;
        self.snapshot_in(&txn)
    }

    fn snapshot_in(
        &self,
        txn: &redb::ReadTransaction,
    ) -> Result<Option<(SnapshotMeta, Vec<u8>)>, BarnError> {
        let table = txn.open_table(SNAPSHOT).map_err(self.err())?;
        let meta = table.get(KEY_SNAPSHOT_META).map_err(self.err())?;
        let data = table.get(KEY_SNAPSHOT_DATA).map_err(self.err())?;
        let (meta, data) = match (meta, data) {
            (Some(meta), Some(data)) => (meta, data),
            (None, None) => return Ok(None),
            _ => {
                return Err(BarnError::Corrupted {
                    file: self.file.clone(),
                    what: "the snapshot has metadata or data but not both".into(),
                });
            }
        };
        let meta = self.decode_snapshot_meta(meta.value())?;
        let data = record::open_bytes(data.value())
            .map_err(|e| self.corrupted("the snapshot's data", &e))?
            .to_vec();
        Ok(Some((meta, data)))
    }

    /// The snapshot's metadata in `table` (the `snapshot` table), if any.
    fn snapshot_meta_in(
        &self,
        table: &impl ReadableTable<&'static str, &'static [u8]>,
    ) -> Result<Option<SnapshotMeta>, BarnError> {
        match table.get(KEY_SNAPSHOT_META).map_err(self.err())? {
            Some(value) => self.decode_snapshot_meta(value.value()).map(Some),
            None => Ok(None),
        }
    }

    fn decode_snapshot_meta(&self, sealed: &[u8]) -> Result<SnapshotMeta, BarnError> {
        self.decode(sealed, "the snapshot's metadata")
    }

    /// Replaces the snapshot, metadata and data, and writes `archive` (the
    /// runs the data no longer holds, and the deletes of forgotten ones), in
    /// one transaction. A snapshot never replaces a newer one (a snapshot
    /// installed from the leader while this one was being built): then
    /// nothing is written and the answer is `false`.
    pub(crate) fn save_snapshot(
        &self,
        meta: &SnapshotMeta,
        data: &[u8],
        archive: &ArchiveBatch,
    ) -> Result<bool, BarnError> {
        let txn = self.db.begin_write().map_err(self.err())?;
        let stored = self.snapshot_meta_in(&txn.open_table(SNAPSHOT).map_err(self.err())?)?;
        if stored.is_some_and(|stored| stored.last_log_id > meta.last_log_id) {
            return Ok(false);
        }
        self.put_snapshot(&txn, meta, data)?;
        self.put_archived(&txn, &archive.runs)?;
        {
            let mut runs = txn.open_table(ARCHIVED_RUNS).map_err(self.err())?;
            let mut events = txn.open_table(ARCHIVED_EVENTS).map_err(self.err())?;
            for id in &archive.deletes {
                runs.remove(id.0).map_err(self.err())?;
                events.remove(id.0).map_err(self.err())?;
            }
        }
        txn.commit().map_err(self.err())?;
        Ok(true)
    }

    /// Replaces the snapshot and the whole archive (a snapshot installed
    /// from the leader), in one transaction.
    pub(crate) fn replace_snapshot(
        &self,
        meta: &SnapshotMeta,
        data: &[u8],
        archived: &[ArchivedRun],
    ) -> Result<(), BarnError> {
        let txn = self.db.begin_write().map_err(self.err())?;
        for table in [ARCHIVED_RUNS, ARCHIVED_EVENTS] {
            txn.open_table(table)
                .map_err(self.err())?
                .retain(|_, _| false)
                .map_err(self.err())?;
        }
        self.put_snapshot(&txn, meta, data)?;
        self.put_archived(&txn, archived)?;
        txn.commit().map_err(self.err())
    }

    fn put_snapshot(
        &self,
        txn: &redb::WriteTransaction,
        meta: &SnapshotMeta,
        data: &[u8],
    ) -> Result<(), BarnError> {
        let meta = self.encode(meta)?;
        let data = record::seal_bytes(data);
        let mut table = txn.open_table(SNAPSHOT).map_err(self.err())?;
        table
            .insert(KEY_SNAPSHOT_META, meta.as_slice())
            .map_err(self.err())?;
        table
            .insert(KEY_SNAPSHOT_DATA, data.as_slice())
            .map_err(self.err())?;
        Ok(())
    }

    fn put_archived(
        &self,
        txn: &redb::WriteTransaction,
        archived: &[ArchivedRun],
    ) -> Result<(), BarnError> {
        let mut runs = txn.open_table(ARCHIVED_RUNS).map_err(self.err())?;
        let mut events = txn.open_table(ARCHIVED_EVENTS).map_err(self.err())?;
        for entry in archived {
            let id = entry.run.id.0;
            runs.insert(id, self.encode(&entry.run)?.as_slice())
                .map_err(self.err())?;
            events
                .insert(id, self.encode(&entry.events)?.as_slice())
                .map_err(self.err())?;
        }
        Ok(())
    }

    /// The latest snapshot with every archived run put back: the state
    /// whole, as a node that has none of it needs it. O(everything kept).
    pub(crate) fn snapshot_with_archive(&self) -> Result<Option<SnapshotWithArchive>, BarnError> {
        // One read transaction: the data and the archive as one snapshot.
        let txn = self.db.begin_read().map_err(self.err())?;
        let Some((meta, data)) = self.snapshot_in(&txn)? else {
            return Ok(None);
        };
        let runs = txn.open_table(ARCHIVED_RUNS).map_err(self.err())?;
        let events = txn.open_table(ARCHIVED_EVENTS).map_err(self.err())?;
        let mut archived = Vec::new();
        for row in runs.iter().map_err(self.err())? {
            let (id, value) = row.map_err(self.err())?;
            let id = RunId(id.value());
            let run = self.decode_archived_run(id, value.value())?;
            let run_events = match events.get(id.0).map_err(self.err())? {
                Some(value) => self.decode_archived_events(id, value.value())?,
                None => Vec::new(),
            };
            archived.push(ArchivedRun {
                run,
                events: run_events,
            });
        }
        Ok(Some(SnapshotWithArchive {
            meta,
            data,
            archived,
        }))
    }

    // --- the archive ---

    /// Reads back every archived run and its events: what opening skips,
    /// for a process that lives long enough to pay for it once (a cluster
    /// node), so that it refuses to start on a damaged archive. Blocks.
    pub(crate) fn verify_archive(&self) -> Result<(), BarnError> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let runs = txn.open_table(ARCHIVED_RUNS).map_err(self.err())?;
        for row in runs.iter().map_err(self.err())? {
            let (id, value) = row.map_err(self.err())?;
            self.decode_archived_run(RunId(id.value()), value.value())?;
        }
        let events = txn.open_table(ARCHIVED_EVENTS).map_err(self.err())?;
        for row in events.iter().map_err(self.err())? {
            let (id, value) = row.map_err(self.err())?;
            self.decode_archived_events(RunId(id.value()), value.value())?;
        }
        Ok(())
    }

    /// An archived run's record.
    pub(crate) fn archived_run(&self, id: RunId) -> Result<Option<Run>, BarnError> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let runs = txn.open_table(ARCHIVED_RUNS).map_err(self.err())?;
        let Some(value) = runs.get(id.0).map_err(self.err())? else {
            return Ok(None);
        };
        self.decode_archived_run(id, value.value()).map(Some)
    }

    /// An archived run's events.
    pub(crate) fn archived_events(&self, id: RunId) -> Result<Option<Vec<RunEvent>>, BarnError> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let events = txn.open_table(ARCHIVED_EVENTS).map_err(self.err())?;
        let Some(value) = events.get(id.0).map_err(self.err())? else {
            return Ok(None);
        };
        self.decode_archived_events(id, value.value()).map(Some)
    }

    /// Hands archived runs to `visit`, newest first, until it breaks.
    pub(crate) fn visit_archived_runs_newest_first(
        &self,
        mut visit: impl FnMut(Run) -> ControlFlow<()>,
    ) -> Result<(), BarnError> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let runs = txn.open_table(ARCHIVED_RUNS).map_err(self.err())?;
        for row in runs.iter().map_err(self.err())?.rev() {
            let (id, value) = row.map_err(self.err())?;
            let run = self.decode_archived_run(RunId(id.value()), value.value())?;
            if visit(run).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn decode_archived_events(&self, id: RunId, sealed: &[u8]) -> Result<Vec<RunEvent>, BarnError> {
        self.decode(sealed, &format!("archived run {id}'s events"))
    }

    fn decode_archived_run(&self, id: RunId, sealed: &[u8]) -> Result<Run, BarnError> {
        let what = || format!("archived run {id}");
        let run: Run = self.decode(sealed, &what())?;
        if run.id != id {
            return Err(BarnError::Corrupted {
                file: self.file.clone(),
                what: format!("{} holds run {}", what(), run.id),
            });
        }
        Ok(run)
    }

    // --- encoding ---

    /// Wraps a redb error with this file's path.
    fn err<E: Into<redb::Error>>(&self) -> impl FnOnce(E) -> BarnError + '_ {
        |e| BarnError::database(&self.file, e)
    }

    pub(super) fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, BarnError> {
        record::seal(value)
            .map_err(|e| BarnError::Internal(format!("cannot encode a barn record: {e}")))
    }

    fn decode<T: DeserializeOwned>(&self, sealed: &[u8], what: &str) -> Result<T, BarnError> {
        record::open(sealed).map_err(|e| self.corrupted(what, &e))
    }

    fn decode_entry(&self, index: u64, sealed: &[u8]) -> Result<Entry, BarnError> {
        let what = || format!("log entry {index}");
        let entry: Entry = self.decode(sealed, &what())?;
        if entry.get_log_id().index != index {
            return Err(BarnError::Corrupted {
                file: self.file.clone(),
                what: format!("{} holds entry {}", what(), entry.get_log_id().index),
            });
        }
        Ok(entry)
    }

    fn corrupted(&self, what: &str, error: &RecordError) -> BarnError {
        BarnError::Corrupted {
            file: self.file.clone(),
            what: format!("{what}: {error}"),
        }
    }
}

/// A file of no bytes where the database was: truncated (a full disk, a
/// copy cut short), not a new node. redb would start it afresh and the
/// node would forget its log, its vote and every run.
fn refuse_empty_file(file: &Path) -> Result<(), BarnError> {
    match std::fs::metadata(file) {
        Ok(meta) if meta.is_file() && meta.len() == 0 => Err(BarnError::Corrupted {
            file: file.to_owned(),
            what: "it is empty (0 bytes): it was truncated, and starting afresh would forget the node's log and vote".into(),
        }),
        _ => Ok(()),
    }
}

/// Runs `work`, turning a panic into its message without printing it.
fn without_panic_output<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    std::panic::set_hook(hook);
    result.map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned())
    })
}

/// Says what a failed `Database::create` means for the operator.
fn open_error(file: &Path, error: redb::DatabaseError) -> BarnError {
    match error {
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(what)) => BarnError::Corrupted {
            file: file.to_owned(),
            what,
        },
        // redb's answer to a file whose header is not its own.
        redb::DatabaseError::Storage(redb::StorageError::Io(e))
            if e.kind() == std::io::ErrorKind::InvalidData =>
        {
            BarnError::Corrupted {
                file: file.to_owned(),
                what: format!("its header is not a redb database header: {e}"),
            }
        }
        redb::DatabaseError::UpgradeRequired(found) => BarnError::UnsupportedFormat {
            file: file.to_owned(),
            found: format!("redb file format {found}"),
            supported: "the current redb file format".into(),
        },
        other => BarnError::database(file, other),
    }
}

/// Runs `work` on tokio's blocking pool, so that redb's IO (and fsync)
/// never stalls an async worker thread.
pub(crate) async fn blocking<T, F>(store: &Arc<Store>, work: F) -> Result<T, BarnError>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> Result<T, BarnError> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || work(&store))
        .await
        .map_err(|e| BarnError::Internal(format!("a storage task failed: {e}")))?
}
