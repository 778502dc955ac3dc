//! The values of the Barn's public REST API, shared by the server
//! (`api.rs`), the client (`client.rs`) and the peers' forwarding calls.

use serde::{Deserialize, Serialize};

/// Where one node's Raft log and state stand, and the cluster as it sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// The node that answered.
    pub id: u64,
    /// `leader`, `follower`, `candidate`, `learner` or `shutdown`.
    pub state: String,
    pub leader: Option<u64>,
    pub term: u64,
    pub last_log_index: Option<u64>,
    /// The last entry this node knows to be committed (as last stored).
    pub committed_index: Option<u64>,
    pub applied_index: Option<u64>,
    pub snapshot_index: Option<u64>,
    /// The last entry removed from the log (it is in the snapshot).
    pub purged_index: Option<u64>,
    pub members: Vec<Member>,
    /// Replication per follower, as the leader sees it; empty when no
    /// leader could be asked.
    pub followers: Vec<FollowerLag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: u64,
    pub addr: String,
    /// A voter, or a learner that only copies the log.
    pub voter: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerLag {
    pub id: u64,
    /// The last entry the leader knows this follower has.
    pub matched_index: Option<u64>,
    /// Entries the follower is behind the leader's last entry.
    pub lag: u64,
}

/// `POST /v1/members`: add a node (as a learner that catches up, then a
/// voter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddMember {
    pub id: u64,
    /// Where the node listens (`HOST:PORT`).
    pub addr: String,
}

/// A membership change as forwarded to the leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberChange {
    Add(AddMember),
    Remove { id: u64 },
}

/// How a read is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consistency {
    /// Confirmed by the leader with a quorum (read-index) before reading:
    /// sees every write acknowledged before the read began.
    #[default]
    Linearizable,
    /// This node's state as applied, without asking anyone: may miss recent
    /// writes, and is served even by a node cut off from the others.
    Stale,
}

/// An error of the API as JSON: what kind (for programs) and why (for
/// people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub kind: ApiErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorKind {
    /// The request is malformed; the caller must change it.
    BadRequest,
    NotFound,
    /// No leader could serve it now (election, partition, node down), and
    /// a write was not applied; retrying later may succeed.
    Unavailable,
    /// No answer in time, or the connection was lost after the request
    /// went out: a write may or may not have applied. Retry it with the
    /// same request id, which applies it at most once.
    Indeterminate,
    /// The caller's certificate does not allow it (a client's certificate
    /// on a route for nodes).
    Forbidden,
    /// A bug in the Barn.
    Internal,
}

impl ApiError {
    pub fn new(kind: ApiErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Unavailable, message)
    }

    pub fn indeterminate(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Indeterminate, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::BadRequest, message)
    }
}
