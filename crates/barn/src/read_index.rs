//! The index a linearizable read waits for, on the node that leads.
//!
//! openraft 0.9's read index (`Raft::get_read_log_id`, once a quorum has
//! answered this leader's heartbeat) is the larger of the leader's
//! committed index and the first entry it proposed in its term. A leader
//! restarted with its vote takes its leadership back at once, without
//! proposing an entry (`Engine::startup`), and its committed index is the
//! one it last stored, which the Barn writes with the next entries
//! (`store/log.rs`): it can be older than entries the leader committed,
//! applied and acknowledged before it stopped. Its read index was then too
//! old, and a follower answered a linearizable read without a write the
//! client had seen acknowledged (the fault test found it: a leader killed
//! as it acknowledged a write, restarted before the others elected anyone).
//!
//! The leader's last log index has no such gap: everything committed is in
//! the leader's log, so once that index is applied, every write
//! acknowledged before the read began is. It costs a read at most the wait
//! for the entries in flight.

use openraft::error::{CheckIsLeaderError, RaftError};
use openraft::{BasicNode, Raft};

use crate::raft_types::TypeConfig;

/// Confirms this node leads (a quorum answers its heartbeat) and returns
/// the index a linearizable read must see applied: the larger of
/// openraft's read index and this leader's last log index.
pub(crate) async fn read_index(
    raft: &Raft<TypeConfig>,
) -> Result<Option<u64>, RaftError<u64, CheckIsLeaderError<u64, BasicNode>>> {
    let (read, _) = raft.get_read_log_id().await?;
    let last = raft.metrics().borrow().last_log_index;
    Ok(read.map(|id| id.index).max(last))
}
