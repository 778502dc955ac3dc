//! [`WriteBatcher`]: puts the client writes a node receives into as few
//! log entries as it can.
//!
//! openraft makes each entry durable before it takes the next one, so one
//! request per entry costs one fsync per write on the leader, one after
//! the other. The batcher keeps at most `in_flight_max` entries proposed;
//! the writes that arrive meanwhile wait in a queue and go together into
//! the next entry (a [`Proposal::Batch`], applied in order), up to
//! `requests_max` requests and `bytes_max` bytes. A lone write (nothing
//! waiting, a slot free) is proposed at once by its caller, without a hop
//! through the batching task, so batching adds no wait when the Barn is
//! idle.
//!
//! On a follower the proposal fails with "forward to the leader" before
//! anything is written, and each write in it goes on to the leader, whose
//! own batcher groups it with the others.

use std::sync::Arc;

use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, Raft};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::options::WriteBatching;
use crate::command::Request;
use crate::outcome::Outcome;
use crate::raft_types::{Proposal, TypeConfig};

/// Why a write did not go through this node's Raft.
#[derive(Debug, Clone)]
pub(crate) enum BatchError {
    /// This node does not lead, so nothing was written; the leader, if
    /// one is known.
    NotLeader(Option<BasicNode>),
    /// The entry failed after it may have been proposed: the write may or
    /// may not be applied.
    Failed(String),
}

type BatchResult = Result<Outcome, BatchError>;

/// A write waiting for its entry.
struct Pending {
    request: Request,
    /// Its size as JSON, for `bytes_max`.
    bytes: usize,
    reply: oneshot::Sender<BatchResult>,
}

/// The node's one write path into Raft. Cheap to share; the batching task
/// ends when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct WriteBatcher {
    queue: mpsc::Sender<Pending>,
    raft: Raft<TypeConfig>,
    /// Entries that may be proposed at once (`in_flight_max`), shared by
    /// the batching task and lone writes.
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for WriteBatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBatcher")
            .field("slots_free", &self.slots.available_permits())
            .finish_non_exhaustive()
    }
}

impl WriteBatcher {
    /// Starts the batching task for `raft` on the current tokio runtime.
    pub(crate) fn start(raft: Raft<TypeConfig>, bounds: WriteBatching) -> Self {
        let (queue, waiting) = mpsc::channel(bounds.queue_len_max.max(1));
        let slots = Arc::new(Semaphore::new(bounds.in_flight_max.max(1)));
        tokio::spawn(propose_batches(
            raft.clone(),
            waiting,
            bounds,
            Arc::clone(&slots),
        ));
        Self { queue, raft, slots }
    }

    /// Applies `request` in the next entry this node proposes, and returns
    /// its outcome. A lone write (nothing waiting, an entry slot free) is
    /// proposed by its caller, without going through the batching task.
    pub(crate) async fn write(&self, request: Request) -> BatchResult {
        let stopping = || BatchError::Failed("the node is stopping".into());
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            bytes: json_len(&request),
            request,
            reply,
        };
        let nothing_waits = self.queue.capacity() == self.queue.max_capacity();
        let free_slot = nothing_waits
            .then(|| Arc::clone(&self.slots).try_acquire_owned().ok())
            .flatten();
        match free_slot {
            // If the caller goes away meanwhile (its connection closed), the
            // entry is still proposed and the slot freed early: openraft's
            // own bounded queue holds it.
            Some(slot) => {
                propose(&self.raft, vec![pending]).await;
                drop(slot);
            }
            None => self.queue.send(pending).await.map_err(|_| stopping())?,
        }
        answer.await.map_err(|_| stopping())?
    }
}

/// The batching task: takes the first waiting write, waits for an entry
/// slot, gathers what else waits, and proposes them together.
async fn propose_batches(
    raft: Raft<TypeConfig>,
    mut waiting: mpsc::Receiver<Pending>,
    bounds: WriteBatching,
    slots: Arc<Semaphore>,
) {
    // A write taken off the queue that did not fit the last batch.
    let mut carried: Option<Pending> = None;
    loop {
        let first = match carried.take() {
            Some(pending) => pending,
            None => match waiting.recv().await {
                Some(pending) => pending,
                None => return,
            },
        };
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        let mut bytes = batch[0].bytes;
        while let Ok(next) = waiting.try_recv() {
            if !fits(batch.len(), bytes, next.bytes, &bounds) {
                carried = Some(next);
                break;
            }
            bytes += next.bytes;
            batch.push(next);
        }
        let raft = raft.clone();
        tokio::spawn(async move {
            propose(&raft, batch).await;
            drop(slot);
        });
    }
}

/// Whether a write of `next_bytes` joins a batch of `len` requests and
/// `bytes` bytes.
fn fits(len: usize, bytes: usize, next_bytes: usize, bounds: &WriteBatching) -> bool {
    len < bounds.requests_max && bytes.saturating_add(next_bytes) <= bounds.bytes_max
}

/// Proposes one entry and answers each of its writes.
async fn propose(raft: &Raft<TypeConfig>, batch: Vec<Pending>) {
    let (requests, replies): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .map(|pending| (pending.request, pending.reply))
        .unzip();
    let count = requests.len();
    let answers: Vec<BatchResult> = match raft.client_write(Proposal::Batch(requests)).await {
        Ok(response) if response.data.0.len() == count => {
            response.data.0.into_iter().map(Ok).collect()
        }
        Ok(response) => vec![
            Err(BatchError::Failed(format!(
                "an entry of {count} requests was applied with {} outcomes",
                response.data.0.len()
            )));
            count
        ],
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(to))) => {
            vec![Err(BatchError::NotLeader(to.leader_node)); count]
        }
        Err(e) => vec![Err(BatchError::Failed(e.to_string())); count],
    };
    for (reply, answer) in replies.into_iter().zip(answers) {
        // A caller that gave up (its connection closed) no longer listens.
        let _ = reply.send(answer);
    }
}

/// The length of `request` as JSON, counted without building the text.
fn json_len(request: &Request) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Serializing a `Request` cannot fail: every field is a plain value.
    let _ = serde_json::to_writer(&mut counter, request);
    counter.0
}

#[cfg(test)]
mod tests {
    use super::{fits, json_len};
    use crate::cluster::options::WriteBatching;
    use crate::command::{Command, Request};
    use crate::ids::{ClientId, NodeId, RequestId};

    #[test]
    fn a_batch_stops_at_either_bound() {
        let bounds = WriteBatching {
            requests_max: 3,
            bytes_max: 100,
            ..WriteBatching::default()
        };
        assert!(fits(1, 10, 10, &bounds));
        assert!(fits(2, 50, 50, &bounds), "exactly at the byte bound");
        assert!(!fits(3, 10, 10, &bounds), "at the request bound");
        assert!(!fits(1, 60, 41, &bounds), "past the byte bound");
        assert!(!fits(1, usize::MAX, 1, &bounds), "no overflow");
    }

    #[test]
    fn a_requests_length_is_its_json_length() {
        let request = Request::new(
            RequestId::new(ClientId(1), 2),
            Command::RegisterNode {
                node: NodeId(3),
                addr: "node-3:7000".into(),
                agent: false,
                at_ms: 4,
            },
        );
        assert_eq!(
            json_len(&request),
            serde_json::to_vec(&request).unwrap().len()
        );
    }
}
