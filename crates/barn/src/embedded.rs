//! [`Barn`]: the control plane as a library. `open_embedded` starts a
//! single-voter Raft node in this process on a data folder; writes go
//! through the Raft log, reads see everything written before them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use openraft::{BasicNode, Config, Raft, ServerState, SnapshotPolicy};
use tokio::sync::Mutex;

use crate::clock::unix_now_ms;
use crate::command::{Command, Request};
use crate::error::BarnError;
use crate::ids::{ClientId, NodeId, RequestId, RunId};
use crate::network::NoPeers;
use crate::options::BarnOptions;
use crate::outcome::Outcome;
use crate::raft_types::{Proposal, TypeConfig};
use crate::read_index::read_index;
use crate::state::{BarnState, Run, RunEvent};
use crate::store::{
    self, Closed, LogStore, NewFileFormat, SharedMachine, StateMachineStore, Store, history,
};

/// The Raft node id of an embedded Barn, and its node in the state.
const EMBEDDED_NODE: u64 = 1;

/// What an embedded node calls its address.
const EMBEDDED_ADDR: &str = "embedded";

/// An open Barn. Close it with [`Barn::close`] to release its folder;
/// dropped without closing, its Raft node runs on until the tokio runtime
/// stops.
pub struct Barn {
    raft: Raft<TypeConfig>,
    machine: SharedMachine,
    /// For reading archived runs (`store/history.rs`).
    store: Arc<Store>,
    dir: PathBuf,
    client: ClientId,
    /// The last request number this handle used. Held across a write, so
    /// that this handle's requests reach the log in the order they are
    /// numbered (the deduplication table refuses an older number).
    last_seq: Mutex<u64>,
    closed: Closed,
    options: BarnOptions,
}

impl fmt::Debug for Barn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barn")
            .field("dir", &self.dir)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Where this node's Raft log and state stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarnStatus {
    pub node: NodeId,
    pub leader: Option<NodeId>,
    pub term: u64,
    pub last_log_index: Option<u64>,
    pub applied_index: Option<u64>,
    /// The last entry in the latest snapshot.
    pub snapshot_index: Option<u64>,
    /// The last entry removed from the log (it is in the snapshot).
    pub purged_index: Option<u64>,
}

impl Barn {
    /// Opens the Barn in `dir` (created if missing) with default options.
    pub async fn open_embedded(dir: &Path) -> Result<Self, BarnError> {
        Self::open_embedded_with(dir, BarnOptions::default()).await
    }

    /// Opens the Barn in `dir` as a single-voter Raft node in this process.
    /// Waits up to `lock_wait_ms_max` if another process has the folder,
    /// and refuses a damaged folder, naming the file.
    pub async fn open_embedded_with(dir: &Path, options: BarnOptions) -> Result<Self, BarnError> {
        let folder = dir.to_owned();
        let lock_wait_ms_max = options.lock_wait_ms_max;
        let limits = options.state_limits.clone();
        let (store, closed, state_machine) = tokio::task::spawn_blocking(move || {
            let (store, closed) =
                Store::open(&folder, lock_wait_ms_max, NewFileFormat::QuickClose)?;
            let store = Arc::new(store);
            let state_machine = StateMachineStore::open_single_voter(Arc::clone(&store), limits)?;
            Ok::<_, BarnError>((store, closed, state_machine))
        })
        .await
        .map_err(|e| BarnError::Internal(format!("opening the barn failed: {e}")))??;
        let machine = state_machine.machine();
        let raft = Raft::new(
            EMBEDDED_NODE,
            Arc::new(raft_config(&options)?),
            NoPeers,
            LogStore::new(Arc::clone(&store)),
            state_machine,
        )
        .await
        .map_err(unavailable("start the raft node"))?;
        let barn = Self {
            raft,
            machine,
            store,
            dir: dir.to_owned(),
            client: ClientId::fresh(),
            last_seq: Mutex::new(0),
            closed,
            options,
        };
        match barn.lead_and_register().await {
            Ok(()) => Ok(barn),
            Err(error) => {
                // Release the folder before reporting; the first error is
                // the one to report.
                let _ = barn.close().await;
                Err(error)
            }
        }
    }

    /// Initializes membership on first open, waits to lead, and records
    /// this node in the state.
    async fn lead_and_register(&self) -> Result<(), BarnError> {
        let initialized = self
            .raft
            .is_initialized()
            .await
            .map_err(unavailable("read raft state"))?;
        if !initialized {
            let members = BTreeMap::from([(EMBEDDED_NODE, BasicNode::new(EMBEDDED_ADDR))]);
            self.raft
                .initialize(members)
                .await
                .map_err(unavailable("initialize membership"))?;
        }
        self.raft
            .wait(Some(Duration::from_millis(self.options.leader_wait_ms_max)))
            .state(ServerState::Leader, "open the embedded barn")
            .await
            .map_err(unavailable("become leader (`leader_wait_ms_max`)"))?;
        let registered = self
            .read(|state| state.nodes().any(|n| n.id == self.node()))
            .await?;
        if !registered {
            let register = Command::RegisterNode {
                node: self.node(),
                addr: EMBEDDED_ADDR.into(),
                agent: false,
                at_ms: unix_now_ms(),
            };
            self.write(register).await?.map_err(|refusal| {
                BarnError::Internal(format!("registering this node was refused: {refusal}"))
            })?;
        }
        Ok(())
    }

    /// This node: where an embedded Barn's runs are placed.
    pub fn node(&self) -> NodeId {
        NodeId(EMBEDDED_NODE)
    }

    /// The folder this Barn keeps its files in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The client id this handle numbers its requests under.
    pub fn client_id(&self) -> ClientId {
        self.client
    }

    /// Applies `command` through the Raft log, as the next request of this
    /// handle, and returns its outcome. A refusal is `Ok(Err(refusal))`.
    ///
    /// After an error the command may or may not have been applied. Its
    /// request number is used up either way, so that the next command is
    /// never mistaken for a retry of this one. To retry safely, number the
    /// request yourself and use [`Barn::write_request`].
    pub async fn write(&self, command: Command) -> Result<Outcome, BarnError> {
        let mut last_seq = self.last_seq.lock().await;
        *last_seq += 1;
        let request = Request::new(RequestId::new(self.client, *last_seq), command);
        self.write_request(request).await
    }

    /// Applies a request numbered by the caller (a client that retries
    /// with the same [`RequestId`] gets the first outcome again).
    pub async fn write_request(&self, request: Request) -> Result<Outcome, BarnError> {
        let response = self
            .raft
            .client_write(Proposal::One(request))
            .await
            .map_err(unavailable("write"))?;
        response
            .data
            .0
            .into_iter()
            .next()
            .ok_or_else(|| BarnError::Internal("a request was applied without an outcome".into()))
    }

    /// Reads the state after everything written before this call has been
    /// applied. The state holds no archived runs: read runs with the
    /// methods below.
    pub async fn read<T>(&self, read: impl FnOnce(&BarnState) -> T) -> Result<T, BarnError> {
        self.ensure_linearizable().await?;
        let machine = store::read_machine(&self.machine);
        Ok(read(&machine.state))
    }

    async fn ensure_linearizable(&self) -> Result<(), BarnError> {
        let index = read_index(&self.raft)
            .await
            .map_err(unavailable("confirm leadership for a read"))?;
        if let Some(index) = index {
            self.raft
                .wait(None)
                .applied_index_at_least(Some(index), "linearizable read")
                .await
                .map_err(unavailable("apply up to the read index"))?;
        }
        Ok(())
    }

    /// Reads runs, archived or not, after everything written before this
    /// call has been applied, on the blocking pool (the archive is in the
    /// file).
    async fn read_history<T: Send + 'static>(
        &self,
        read: impl FnOnce(&SharedMachine, &Store) -> Result<T, BarnError> + Send + 'static,
    ) -> Result<T, BarnError> {
        self.ensure_linearizable().await?;
        let machine = Arc::clone(&self.machine);
        store::blocking(&self.store, move |store| read(&machine, store)).await
    }

    /// Every run, in the order they were submitted (without their events).
    pub async fn runs(&self) -> Result<Vec<Run>, BarnError> {
        let mut runs = self.runs_newest_first(|_| true, usize::MAX).await?;
        runs.reverse();
        Ok(runs)
    }

    /// The runs `keep` admits, newest first, at most `limit`; reads no
    /// more of the archive than it needs.
    pub async fn runs_newest_first(
        &self,
        keep: impl FnMut(&Run) -> bool + Send + 'static,
        limit: usize,
    ) -> Result<Vec<Run>, BarnError> {
        self.read_history(move |machine, store| {
            history::runs_newest_first(machine, store, keep, limit)
        })
        .await
    }

    pub async fn run(&self, id: RunId) -> Result<Option<Run>, BarnError> {
        self.read_history(move |machine, store| history::run(machine, store, id))
            .await
    }

    /// A run's kept events in order; `None` for an unknown run.
    pub async fn run_events(&self, id: RunId) -> Result<Option<Vec<RunEvent>>, BarnError> {
        self.read_history(move |machine, store| history::run_events(machine, store, id))
            .await
    }

    pub fn status(&self) -> BarnStatus {
        let metrics = self.raft.metrics().borrow().clone();
        BarnStatus {
            node: NodeId(metrics.id),
            leader: metrics.current_leader.map(NodeId),
            term: metrics.current_term,
            last_log_index: metrics.last_log_index,
            applied_index: metrics.last_applied.map(|id| id.index),
            snapshot_index: metrics.snapshot.map(|id| id.index),
            purged_index: metrics.purged.map(|id| id.index),
        }
    }

    /// Builds a snapshot of everything applied so far, and waits (up to
    /// `snapshot_wait_ms_max`) until it is stored and the log is purged up
    /// to it, less `logs_kept_after_snapshot` entries.
    pub async fn snapshot(&self) -> Result<BarnStatus, BarnError> {
        let applied = self.raft.metrics().borrow().last_applied;
        let Some(applied) = applied else {
            return Ok(self.status());
        };
        self.raft
            .trigger()
            .snapshot()
            .await
            .map_err(unavailable("trigger a snapshot"))?;
        let purge_end = (applied.index + 1).saturating_sub(self.options.logs_kept_after_snapshot);
        self.raft
            .wait(Some(Duration::from_millis(
                self.options.snapshot_wait_ms_max,
            )))
            .metrics(
                |m| {
                    let snapshotted = m.snapshot.is_some_and(|s| s.index >= applied.index);
                    let purged_end = m.purged.map_or(0, |p| p.index + 1);
                    snapshotted && purged_end >= purge_end
                },
                "snapshot and purge (`snapshot_wait_ms_max`)",
            )
            .await
            .map_err(unavailable("snapshot"))?;
        Ok(self.status())
    }

    /// Stops the Raft node and waits (up to `close_wait_ms_max`) until the
    /// database and the folder lock are released. First builds a snapshot
    /// when more than `replay_entries_max` entries were applied since the
    /// last one, or more than `finished_runs_held_max` finished runs are
    /// held in memory, so that the next open applies and reads little; a
    /// snapshot that fails is only logged (the entries are safe in the log).
    pub async fn close(self) -> Result<(), BarnError> {
        let status = self.status();
        let since_snapshot = status
            .applied_index
            .unwrap_or(0)
            .saturating_sub(status.snapshot_index.unwrap_or(0));
        let finished_held = store::read_machine(&self.machine)
            .state
            .runs()
            .filter(|run| run.status.is_terminal())
            .count();
        let snapshot_first = since_snapshot > self.options.replay_entries_max
            || finished_held as u64 > self.options.finished_runs_held_max;
        if snapshot_first && let Err(error) = self.snapshot().await {
            tracing::warn!(%error, "the Barn could not snapshot before closing");
        }
        let Self {
            raft,
            machine,
            store,
            dir,
            closed,
            options,
            ..
        } = self;
        raft.shutdown().await.map_err(|e| BarnError::Unavailable {
            reason: format!("the raft node did not stop cleanly: {e}"),
        })?;
        drop((raft, machine, store));
        match tokio::time::timeout(Duration::from_millis(options.close_wait_ms_max), closed).await {
            // A dropped sender also means the store is gone.
            Ok(_) => Ok(()),
            Err(_) => Err(BarnError::Unavailable {
                reason: format!(
                    "`{}` was still open {} ms after its raft node stopped (`close_wait_ms_max`)",
                    dir.display(),
                    options.close_wait_ms_max
                ),
            }),
        }
    }
}

fn raft_config(options: &BarnOptions) -> Result<Config, BarnError> {
    Config {
        cluster_name: "runink-barn".into(),
        heartbeat_interval: 50,
        election_timeout_min: 150,
        election_timeout_max: 300,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(options.snapshot_logs_since_last),
        max_in_snapshot_log_to_keep: options.logs_kept_after_snapshot,
        purge_batch_size: 1,
        ..Config::default()
    }
    .validate()
    .map_err(|e| BarnError::Internal(format!("invalid raft configuration: {e}")))
}

/// Maps a Raft failure to an `Unavailable` error saying what was attempted.
fn unavailable<E: fmt::Display>(doing: &'static str) -> impl Fn(E) -> BarnError {
    move |e| BarnError::Unavailable {
        reason: format!("cannot {doing}: {e}"),
    }
}
