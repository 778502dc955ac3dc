//! The types openraft is instantiated with: the Raft log carries
//! [`Request`]s, and applying one answers a [`Reply`].

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::command::Request;
use crate::outcome::Outcome;

openraft::declare_raft_types!(
    /// The Barn's Raft: u64 node ids, `BasicNode` addresses, JSON-able
    /// entries, snapshots as bytes in memory, tokio.
    pub(crate) TypeConfig:
        D = Request,
        R = Reply,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// What applying a log entry gave: the outcome of a client request, or
/// nothing for Raft's own entries (blank and membership entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Reply(pub(crate) Option<Outcome>);

pub(crate) type LogId = openraft::LogId<u64>;
pub(crate) type StorageError = openraft::StorageError<u64>;
pub(crate) type StoredMembership = openraft::StoredMembership<u64, openraft::BasicNode>;
pub(crate) type SnapshotMeta = openraft::SnapshotMeta<u64, openraft::BasicNode>;
