//! [`ClusterNode`]: one Barn node of a cluster. It opens its data folder,
//! starts its Raft node with the gRPC transport, serves the REST API and
//! the peer service on one port, and forms or joins the cluster.
//!
//! Writes are applied by the leader: a follower forwards them (once; a
//! leader that has just lost its leadership answers `unavailable`, and the
//! client retries with the same request id). Linearizable reads use
//! openraft's read index: the leader confirms its leadership with a
//! quorum and names the log index the read must see; a follower asks the
//! leader for that index and waits until it has applied it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{CheckIsLeaderError, RaftError};
use openraft::{BasicNode, Config, Raft, RaftMetrics, ServerState, SnapshotPolicy};

use super::api_types::{
    AddMember, ApiError, ApiErrorKind, ClusterStatus, Consistency, FollowerLag, Member,
};
use super::batcher::{BatchError, WriteBatcher};
use super::client::BarnClient;
use super::members::{is_host_port, is_listen_addr};
use super::options::{ClusterOptions, NetLimits};
use super::peer::{self, CallError, PeerTransport, WriteReply};
use super::server::Server;
use super::tls::TlsMaterial;
use crate::clock::unix_now_ms;
use crate::command::{Command, Request};
use crate::error::BarnError;
use crate::ids::{ClientId, NodeId, RequestId};
use crate::raft_types::TypeConfig;
use crate::read_index::read_index;
use crate::state::BarnState;
use crate::store::{self, LogStore, NewFileFormat, SharedMachine, StateMachineStore, Store};

/// A running cluster node. [`ClusterNode::stop`] shuts it down.
#[derive(Debug)]
pub struct ClusterNode {
    inner: Arc<NodeInner>,
    server: Server,
    /// Records this node in the Barn's state (`register_self`).
    registration: tokio::task::JoinHandle<()>,
    /// Places submitted runs while this node leads (`placer.rs`).
    placer: tokio::task::JoinHandle<()>,
}

/// What the REST handlers and the peer service share.
pub(crate) struct NodeInner {
    pub(crate) id: u64,
    pub(crate) raft: Raft<TypeConfig>,
    /// Every client write goes through it (`batcher.rs`).
    writes: WriteBatcher,
    machine: SharedMachine,
    /// For reading archived runs (`store/history.rs`).
    store: Arc<Store>,
    /// The log store Raft writes through; its committed log id is the
    /// latest one.
    log: LogStore,
    pub(super) transport: PeerTransport,
    pub(crate) options: NetLimits,
}

impl std::fmt::Debug for NodeInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeInner")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn unavailable<E: std::fmt::Display>(doing: &'static str) -> impl Fn(E) -> BarnError {
    move |e| BarnError::Unavailable {
        reason: format!("cannot {doing}: {e}"),
    }
}

impl ClusterNode {
    /// Opens the data folder, starts Raft and the server, and forms the
    /// cluster (`peers`) or joins it (`join`). Returns once the node
    /// serves; with `join`, once it has been added.
    pub async fn start(options: ClusterOptions) -> Result<Self, BarnError> {
        if options.id == 0 {
            return Err(BarnError::Config("a node id is at least 1".into()));
        }
        // Refused before the data folder is made or claimed. Port 0 (any
        // free port) is fine to listen on, not to join.
        let no_address = |flag: &str, addr: &str| {
            BarnError::Config(format!(
                "`{flag} {addr}` is no address: a node's address is HOST:PORT, like `10.0.0.4:7004`"
            ))
        };
        if !is_listen_addr(&options.listen) {
            return Err(no_address("--listen", &options.listen));
        }
        if let Some(join) = &options.join
            && !is_host_port(join)
        {
            return Err(no_address("--join", join));
        }
        if !options.peers.is_empty() && !options.peers.contains_key(&options.id) {
            return Err(BarnError::Config(format!(
                "`--peers` does not name this node (`{}`)",
                options.id
            )));
        }
        // The peers reach this node at the address `--peers` gives it: one
        // it does not listen on would leave it out of every election.
        if let Some(addr) = options.peers.get(&options.id)
            && *addr != options.listen
        {
            return Err(BarnError::Config(format!(
                "`--peers` gives this node (`{}`) the address `{addr}`, but it listens on `{}`; give both the same HOST:PORT",
                options.id, options.listen
            )));
        }
        refuse_lost_store(&options.data, options.id)?;
        let tls = options.tls.as_ref().map(TlsMaterial::load).transpose()?;
        let listener = Server::bind(&options.listen).await?;
        let folder = options.data.clone();
        let id = options.id;
        let lock_wait_ms_max = options.storage.lock_wait_ms_max;
        let limits = options.storage.state_limits.clone();
        let (store, state_machine) = tokio::task::spawn_blocking(move || {
            // The `closed` signal is for embedded callers that reopen the
            // folder in the same process; a node holds it until it exits.
            let (store, _closed) = Store::open(
                &folder,
                lock_wait_ms_max,
                NewFileFormat::FewerPagesPerCommit,
            )?;
            // A folder is one node's: its log and vote are that node's.
            store.claim_node(id)?;
            // A node lives long: it checks the archive too before serving.
            store.verify_archive()?;
            let store = Arc::new(store);
            let state_machine = StateMachineStore::open(Arc::clone(&store), limits)?;
            Ok::<_, BarnError>((store, state_machine))
        })
        .await
        .map_err(|e| BarnError::Internal(format!("opening the barn failed: {e}")))??;
        let machine = state_machine.machine();
        let net = options.limits;
        let transport = PeerTransport::new(
            tls.as_ref().map(TlsMaterial::peer_config),
            Duration::from_millis(net.connect_timeout_ms),
            net.rpc_message_bytes_max,
        );
        let log = LogStore::new(Arc::clone(&store));
        let raft = Raft::new(
            options.id,
            Arc::new(raft_config(&options)?),
            transport.clone(),
            log.clone(),
            state_machine,
        )
        .await
        .map_err(unavailable("start the raft node"))?;
        let inner = Arc::new(NodeInner {
            id: options.id,
            writes: WriteBatcher::start(raft.clone(), options.batching),
            raft,
            machine,
            store,
            log,
            transport,
            options: net,
        });
        let server = Server::start(
            listener,
            &options.listen,
            Arc::clone(&inner),
            tls.as_ref(),
            &options,
        )
        .await?;
        let registration = tokio::spawn(register_self(
            Arc::clone(&inner),
            options.listen.clone(),
            options.agent,
            options.limits,
        ));
        let placer = tokio::spawn(super::placer::place_runs(
            Arc::clone(&inner),
            options.placing,
        ));
        let node = Self {
            inner,
            server,
            registration,
            placer,
        };
        node.form_or_join(&options).await?;
        Ok(node)
    }

    async fn form_or_join(&self, options: &ClusterOptions) -> Result<(), BarnError> {
        let raft = &self.inner.raft;
        if raft
            .is_initialized()
            .await
            .map_err(unavailable("read raft state"))?
        {
            return Ok(());
        }
        if !options.peers.is_empty() {
            let members: BTreeMap<u64, BasicNode> = options
                .peers
                .iter()
                .map(|(id, addr)| (*id, BasicNode::new(addr)))
                .collect();
            // Every node of a new cluster does this with the same list,
            // which openraft allows; `NotAllowed` means it was done already.
            return match raft.initialize(members).await {
                Ok(())
                | Err(RaftError::APIError(openraft::error::InitializeError::NotAllowed(_))) => {
                    Ok(())
                }
                Err(e) => Err(unavailable("initialize the cluster")(e)),
            };
        }
        if let Some(join) = &options.join {
            self.join(join, options).await?;
        }
        Ok(())
    }

    /// Asks the node at `join` to add this one, retrying while the
    /// cluster is electing, up to `join_attempts_max` times.
    async fn join(&self, join: &str, options: &ClusterOptions) -> Result<(), BarnError> {
        let scheme = if options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let timeout_ms = options.limits.member_change_wait_ms_max;
        let client = BarnClient::new(
            &format!("{scheme}://{join}"),
            options.tls.as_ref(),
            timeout_ms,
        )?;
        let add = AddMember {
            id: options.id,
            addr: options.listen.clone(),
        };
        let mut last = None;
        for _ in 0..options.limits.join_attempts_max {
            match client.add_member(&add).await {
                Ok(()) => return Ok(()),
                Err(e)
                    if matches!(
                        e.kind,
                        ApiErrorKind::Unavailable | ApiErrorKind::Indeterminate
                    ) =>
                {
                    last = Some(e);
                }
                Err(e) => {
                    return Err(BarnError::Config(format!(
                        "`{join}` refused to add this node: {e}"
                    )));
                }
            }
            tokio::time::sleep(Duration::from_millis(options.limits.join_retry_ms)).await;
        }
        Err(BarnError::Unavailable {
            reason: format!(
                "could not join through `{join}` after {} tries (`join_attempts_max`): {}",
                options.limits.join_attempts_max,
                last.map_or_else(String::new, |e| e.to_string())
            ),
        })
    }

    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// A handle for a program in the same process (the agent).
    pub fn handle(&self) -> super::NodeHandle {
        super::NodeHandle {
            inner: Arc::clone(&self.inner),
        }
    }

    /// The address the server is bound to (useful with port 0).
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }

    /// Stops serving and shuts the Raft node down.
    pub async fn stop(self) -> Result<(), BarnError> {
        self.registration.abort();
        self.placer.abort();
        self.server.stop();
        self.inner
            .raft
            .shutdown()
            .await
            .map_err(|e| BarnError::Unavailable {
                reason: format!("the raft node did not stop cleanly: {e}"),
            })
    }
}

/// Records this node (its id, the address it serves on, and whether it
/// runs an agent) in the Barn's
/// state, where placement finds it: a `RegisterNode` write through this
/// node, retried every `join_retry_ms` while there is no leader, up to
/// `register_attempts_max` times. Each start is a new client, so a node
/// restarted at another address records the new one.
async fn register_self(inner: Arc<NodeInner>, addr: String, agent: bool, limits: NetLimits) {
    let request = Request::new(
        RequestId::new(ClientId::fresh(), 1),
        Command::RegisterNode {
            node: NodeId(inner.id),
            addr,
            agent,
            at_ms: unix_now_ms(),
        },
    );
    for _ in 0..limits.register_attempts_max {
        match inner.write(request.clone()).await {
            Ok(Ok(_)) => return,
            Ok(Err(refusal)) => {
                tracing::error!("the barn refused to record node {}: {refusal}", inner.id);
                return;
            }
            Err(e) => tracing::debug!("recording node {} failed, will retry: {e}", inner.id),
        }
        tokio::time::sleep(Duration::from_millis(limits.join_retry_ms)).await;
    }
    tracing::error!(
        "node {} is not recorded in the barn after {} tries (`register_attempts_max`); it is tried again when the node restarts",
        inner.id,
        limits.register_attempts_max
    );
}

fn raft_config(options: &ClusterOptions) -> Result<Config, BarnError> {
    Config {
        cluster_name: "runink-barn".into(),
        heartbeat_interval: options.timing.heartbeat_ms,
        election_timeout_min: options.timing.election_timeout_ms_min,
        election_timeout_max: options.timing.election_timeout_ms_max,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(options.storage.snapshot_logs_since_last),
        max_in_snapshot_log_to_keep: options.storage.logs_kept_after_snapshot,
        purge_batch_size: 1,
        ..Config::default()
    }
    .validate()
    .map_err(|e| BarnError::Config(format!("invalid raft configuration: {e}")))
}

impl NodeInner {
    fn forward_timeout(&self) -> Duration {
        Duration::from_millis(self.options.forward_timeout_ms_max)
    }

    /// Applies a write: here if this node leads, else at the leader.
    pub(crate) async fn write(&self, request: Request) -> WriteReply {
        match self.writes.write(request.clone()).await {
            Ok(outcome) => Ok(outcome),
            Err(BatchError::NotLeader(Some(leader))) => {
                let reply: WriteReply = self
                    .transport
                    .call(&leader.addr, peer::WRITE, request, self.forward_timeout())
                    .await?;
                reply
            }
            Err(BatchError::NotLeader(None)) => Err(ApiError::unavailable(
                "no leader is known (an election is under way)",
            )),
            Err(BatchError::Failed(why)) => {
                Err(ApiError::indeterminate(format!("the write failed: {why}")))
            }
        }
    }

    /// Applies a forwarded write only if this node leads (no second hop).
    pub(crate) async fn write_here(&self, request: Request) -> WriteReply {
        match self.writes.write(request).await {
            Ok(outcome) => Ok(outcome),
            Err(BatchError::NotLeader(_)) => Err(ApiError::unavailable(
                "the node forwarded to is no longer the leader",
            )),
            Err(BatchError::Failed(why)) => Err(ApiError::indeterminate(format!(
                "the write failed at the leader: {why}"
            ))),
        }
    }

    /// The leader's read index, for a follower's linearizable read.
    pub(crate) async fn read_index_here(&self) -> Result<Option<u64>, ApiError> {
        read_index(&self.raft)
            .await
            .map_err(|e| ApiError::unavailable(format!("cannot confirm leadership: {e}")))
    }

    /// Reads the applied state; first, for a linearizable read, waits
    /// until it holds everything committed before the read began. The
    /// state holds no archived runs: read runs with [`Self::read_history`].
    pub(crate) async fn read<T>(
        &self,
        consistency: Consistency,
        read: impl FnOnce(&BarnState) -> T,
    ) -> Result<T, ApiError> {
        self.wait_readable(consistency).await?;
        let machine = store::read_machine(&self.machine);
        Ok(read(&machine.state))
    }

    /// Reads runs, archived or not, as [`Self::read`] reads the state, on
    /// the blocking pool (the archive is in the file).
    pub(crate) async fn read_history<T: Send + 'static>(
        &self,
        consistency: Consistency,
        read: impl FnOnce(&SharedMachine, &Store) -> Result<T, BarnError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.wait_readable(consistency).await?;
        let machine = Arc::clone(&self.machine);
        store::blocking(&self.store, move |store| read(&machine, store))
            .await
            .map_err(|e| ApiError::new(ApiErrorKind::Internal, e.to_string()))
    }

    /// For a linearizable read, waits until this node has applied
    /// everything committed before the read began.
    async fn wait_readable(&self, consistency: Consistency) -> Result<(), ApiError> {
        if consistency == Consistency::Linearizable {
            let index = match read_index(&self.raft).await {
                Ok(index) => index,
                Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(to))) => {
                    let Some(leader) = to.leader_node else {
                        return Err(ApiError::unavailable(
                            "no leader is known (an election is under way)",
                        ));
                    };
                    let reply: Result<Option<u64>, ApiError> = self
                        .transport
                        .call(&leader.addr, peer::READ_INDEX, (), self.forward_timeout())
                        .await?;
                    reply?
                }
                Err(e) => {
                    return Err(ApiError::unavailable(format!(
                        "cannot confirm leadership: {e}"
                    )));
                }
            };
            if let Some(index) = index {
                self.raft
                    .wait(Some(Duration::from_millis(self.options.read_wait_ms_max)))
                    .applied_index_at_least(Some(index), "linearizable read")
                    .await
                    .map_err(|e| {
                        ApiError::unavailable(format!(
                            "this node did not apply up to the read index {index} in time (`read_wait_ms_max`): {e}"
                        ))
                    })?;
            }
        }
        Ok(())
    }

    /// This node's view; the followers' lag only if it leads.
    pub(crate) async fn local_status(&self) -> ClusterStatus {
        let m = self.raft.metrics().borrow().clone();
        let committed = self.log.committed().await.ok().flatten();
        let membership = m.membership_config.membership();
        let voters: BTreeSet<u64> = membership.voter_ids().collect();
        let members = membership
            .nodes()
            .map(|(id, node)| Member {
                id: *id,
                addr: node.addr.clone(),
                voter: voters.contains(id),
            })
            .collect();
        let last = m.last_log_index.unwrap_or(0);
        let followers = m
            .replication
            .iter()
            .flatten()
            .filter(|(id, _)| **id != m.id)
            .map(|(id, matched)| {
                let matched_index = matched.map(|l| l.index);
                FollowerLag {
                    id: *id,
                    matched_index,
                    lag: last.saturating_sub(matched_index.unwrap_or(0)),
                }
            })
            .collect();
        ClusterStatus {
            id: m.id,
            state: server_state(m.state).into(),
            leader: known_leader(&m),
            term: m.current_term,
            last_log_index: m.last_log_index,
            committed_index: committed.map(|l| l.index),
            applied_index: m.last_applied.map(|l| l.index),
            snapshot_index: m.snapshot.map(|l| l.index),
            purged_index: m.purged.map(|l| l.index),
            members,
            followers,
        }
    }

    /// This node's view, with the followers' lag asked of the leader when
    /// this node does not lead.
    pub(crate) async fn status(&self) -> ClusterStatus {
        let mut status = self.local_status().await;
        if let Some(leader) = status.leader.filter(|l| *l != self.id) {
            let addr = status
                .members
                .iter()
                .find(|m| m.id == leader)
                .map(|m| m.addr.clone());
            if let Some(addr) = addr {
                let asked: Result<ClusterStatus, CallError> = self
                    .transport
                    .call(&addr, peer::STATUS, (), self.forward_timeout())
                    .await;
                if let Ok(leader_view) = asked {
                    status.followers = leader_view.followers;
                }
            }
        }
        status
    }
}
/// The leader this node knows of. openraft goes on naming a removed leader
/// as the leader on that node (it steps down to a learner but keeps its
/// own vote, and no longer hears from the others), so a node names itself
/// only while it leads.
pub(crate) fn known_leader(m: &RaftMetrics<u64, BasicNode>) -> Option<u64> {
    m.current_leader
        .filter(|leader| *leader != m.id || m.state == ServerState::Leader)
}

fn server_state(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "leader",
        ServerState::Follower => "follower",
        ServerState::Candidate => "candidate",
        ServerState::Learner => "learner",
        ServerState::Shutdown => "shutdown",
    }
}

/// A folder that has the lock file a node's store is opened under, but not
/// the store, held a node whose store is gone: its log and its votes went
/// with it. Started afresh under the same id, the node could vote a second
/// time in a term it already voted in, and two leaders could be elected.
fn refuse_lost_store(folder: &std::path::Path, id: u64) -> Result<(), BarnError> {
    let lock_path = folder.join(crate::lock::LOCK_FILE);
    let store_path = folder.join(store::DB_FILE);
    if lock_path.exists() && !store_path.exists() {
        return Err(BarnError::Config(format!(
            "`{}` has `{}` but not `{}`: a node kept its store here and the store is gone. Restore `{}` from a backup; or remove node {id} from the cluster (`runi barn remove --id {id} --server HOST:PORT` of a running node), empty the folder and add it back as a new node (`--join`). If no node ever started here, delete `{}`",
            folder.display(),
            crate::lock::LOCK_FILE,
            store::DB_FILE,
            store::DB_FILE,
            lock_path.display(),
        )));
    }
    Ok(())
}
