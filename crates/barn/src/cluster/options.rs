//! How a cluster node is started: its identity, addresses, TLS, and every
//! wait and bound of its network layer.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::options::BarnOptions;

/// The knobs of [`ClusterNode::start`](super::ClusterNode::start).
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// This node's Raft id (not 0).
    pub id: u64,
    /// Where this node serves peers and clients (`HOST:PORT`); also the
    /// address its peers reach it at.
    pub listen: String,
    /// The initial voters (`id → HOST:PORT`), this node included. Every
    /// node of a new cluster is started with the same list; empty for a
    /// node that will be added to a running cluster.
    pub peers: BTreeMap<u64, String>,
    /// A running node to ask to add this one (`HOST:PORT`).
    pub join: Option<String>,
    pub data: PathBuf,
    /// Certificates for mTLS; `None` only when started with `--insecure`.
    pub tls: Option<TlsFiles>,
    pub storage: BarnOptions,
    pub timing: RaftTiming,
    pub limits: NetLimits,
    pub batching: WriteBatching,
    /// This node runs an agent (`runi barn start` without `--no-agent`):
    /// it records so, and the leader places runs on it.
    pub agent: bool,
    pub placing: Placing,
}

/// Certificate files in PEM: the CA that signs every node and client, and
/// this party's certificate and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Raft's clocks. An election starts after a random wait between the two
/// election bounds without hearing from a leader, and a follower refuses
/// to vote for another node until `election_timeout_ms_max` has passed
/// since it last heard from its leader (openraft's leader lease), so a
/// failover takes between one and about two `election_timeout_ms_max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaftTiming {
    pub heartbeat_ms: u64,
    pub election_timeout_ms_min: u64,
    pub election_timeout_ms_max: u64,
}

impl Default for RaftTiming {
    fn default() -> Self {
        Self {
            heartbeat_ms: 50,
            election_timeout_ms_min: 150,
            election_timeout_ms_max: 300,
        }
    }
}

/// Every wait and bound of the node's network layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetLimits {
    /// Connecting to a peer.
    pub connect_timeout_ms: u64,
    /// A call forwarded to the leader (a write, a read index, a status).
    pub forward_timeout_ms_max: u64,
    /// A linearizable read on a follower: waiting to apply up to the
    /// leader's read index.
    pub read_wait_ms_max: u64,
    /// Adding a node: the learner catching up, then its promotion.
    pub member_change_wait_ms_max: u64,
    /// Of which the learner catching up; a node that does not is removed
    /// again instead of becoming a voter no quorum can count on.
    pub member_change_catch_up_ms_max: u64,
    /// Tries of `--join`, one every `join_retry_ms`.
    pub join_attempts_max: u32,
    pub join_retry_ms: u64,
    /// Tries, one every `join_retry_ms`, to record this node in the
    /// Barn's state after it starts (while there is no leader).
    pub register_attempts_max: u32,
    /// The largest gRPC message between peers (log entries, snapshot chunks).
    pub rpc_message_bytes_max: usize,
    /// The largest REST request body.
    pub request_body_bytes_max: usize,
    /// Client and peer connections served at once; more wait to be accepted.
    pub connections_max: usize,
    /// A TLS handshake with a connecting client or peer.
    pub handshake_timeout_ms: u64,
}

impl Default for NetLimits {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 1_000,
            forward_timeout_ms_max: 5_000,
            read_wait_ms_max: 5_000,
            member_change_wait_ms_max: 30_000,
            member_change_catch_up_ms_max: 10_000,
            join_attempts_max: 60,
            join_retry_ms: 500,
            register_attempts_max: 1_200,
            rpc_message_bytes_max: 64 << 20,
            request_body_bytes_max: 8 << 20,
            connections_max: 1_024,
            handshake_timeout_ms: 5_000,
        }
    }
}

/// How the leader groups client writes into log entries
/// (`cluster/batcher.rs`): the writes that arrive while earlier entries are
/// being made durable go into one entry, up to these bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteBatching {
    /// Requests in one entry.
    pub requests_max: usize,
    /// Bytes of requests (as JSON) in one entry; a single larger request
    /// still goes, alone.
    pub bytes_max: usize,
    /// Entries proposed and not yet applied; while they are all out, new
    /// writes wait and gather into the next entry.
    pub in_flight_max: usize,
    /// Writes waiting for an entry; a write that finds the queue full waits
    /// for room (backpressure on the API).
    pub queue_len_max: usize,
}

impl Default for WriteBatching {
    fn default() -> Self {
        Self {
            requests_max: 256,
            bytes_max: 1 << 20,
            in_flight_max: 1,
            queue_len_max: 4_096,
        }
    }
}

/// How the leader places submitted runs (`cluster/placer.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placing {
    /// How often the leader looks for runs to place.
    pub interval_ms: u64,
    /// Runs placed in one look; the rest wait for the next.
    pub per_round_max: usize,
    /// How long a member may take to answer the leader's status call
    /// before it is taken as down and gets no runs.
    pub probe_timeout_ms: u64,
    /// How long the answers of one round of status calls are trusted.
    pub probe_every_ms: u64,
}

impl Default for Placing {
    fn default() -> Self {
        Self {
            interval_ms: 100,
            per_round_max: 32,
            probe_timeout_ms: 500,
            probe_every_ms: 1_000,
        }
    }
}
