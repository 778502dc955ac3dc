//! The types openraft is instantiated with: the Raft log carries
//! [`Proposal`]s (one client request, or a batch of them), and applying
//! one answers a [`Reply`].

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::command::Request;
use crate::outcome::Outcome;

openraft::declare_raft_types!(
    /// The Barn's Raft: u64 node ids, `BasicNode` addresses, JSON-able
    /// entries, snapshots as bytes in memory, tokio.
    pub(crate) TypeConfig:
        D = Proposal,
        R = Reply,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// What one log entry asks the state machine to apply.
///
/// A cluster's leader puts the writes that arrive while earlier ones are
/// being made durable into one entry (`cluster/batcher.rs`), so that one
/// fsync on each node serves them all. The embedded Barn writes one
/// request per entry. Untagged, so a log written before batches existed
/// (one request object per entry) still reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Proposal {
    One(Request),
    /// Applied in order, each as if it were an entry of its own.
    Batch(Vec<Request>),
}

impl Proposal {
    pub(crate) fn into_requests(self) -> Vec<Request> {
        match self {
            Self::One(request) => vec![request],
            Self::Batch(requests) => requests,
        }
    }
}

/// What applying a log entry gave: the outcome of each of its client
/// requests, in order; nothing for Raft's own entries (blank and
/// membership entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Reply(pub(crate) Vec<Outcome>);

pub(crate) type LogId = openraft::LogId<u64>;
pub(crate) type StorageError = openraft::StorageError<u64>;
pub(crate) type StoredMembership = openraft::StoredMembership<u64, openraft::BasicNode>;
pub(crate) type SnapshotMeta = openraft::SnapshotMeta<u64, openraft::BasicNode>;

#[cfg(test)]
mod tests {
    use super::Proposal;
    use crate::command::{Command, Request};
    use crate::ids::{ClientId, NodeId, RequestId};

    fn request(seq: u64) -> Request {
        Request::new(
            RequestId::new(ClientId(7), seq),
            Command::RegisterNode {
                node: NodeId(seq),
                addr: format!("n{seq}:1"),
                agent: false,
                at_ms: 0,
            },
        )
    }

    #[test]
    fn an_entry_written_as_one_request_reads_as_one() {
        // The shape of a log entry's payload before batches existed.
        let old = serde_json::to_string(&request(1)).unwrap();
        let read: Proposal = serde_json::from_str(&old).unwrap();
        assert_eq!(read, Proposal::One(request(1)));
    }

    #[test]
    fn a_batch_reads_back_in_order() {
        let batch = Proposal::Batch(vec![request(1), request(2)]);
        let text = serde_json::to_string(&batch).unwrap();
        assert_eq!(serde_json::from_str::<Proposal>(&text).unwrap(), batch);
        assert_eq!(batch.into_requests(), [request(1), request(2)]);
    }
}
