//! What a client asks the Barn to change: a [`Command`] wrapped in a
//! [`Request`] that names it, so a retried write applies once.
//!
//! Commands carry every value the state machine needs, timestamps included
//! (`at_ms`: milliseconds since the Unix epoch by the writer's clock), so
//! that applying them needs no clock and gives the same state on every
//! replica.

use runink_model::{DagHash, HerdName, Sha256Hex};
use serde::{Deserialize, Serialize};

use crate::ids::{NodeId, RequestId, RunId};
use crate::state::{ContractUse, EventLevel, RunCounts, RunDetail, RunEnd, ScenarioBundle};

/// One write, as it travels through the Raft log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: RequestId,
    pub command: Command,
}

impl Request {
    pub fn new(id: RequestId, command: Command) -> Self {
        Self { id, command }
    }
}

/// A change to the Barn's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Creates a herd; an existing herd is left as it is.
    PutHerd {
        herd: HerdName,
        at_ms: u64,
    },
    /// Records a compiled scenario. A new `dag_hash` under a known
    /// `(herd, name)` becomes its next version.
    RegisterScenario {
        herd: HerdName,
        name: String,
        dag_hash: DagHash,
        at_ms: u64,
    },
    /// Records a contract version by its canonical hash.
    RegisterContract {
        name: String,
        version: String,
        hash: Sha256Hex,
        at_ms: u64,
    },
    /// Records a node (or updates its address and whether it has an agent).
    RegisterNode {
        node: NodeId,
        addr: String,
        /// The node runs an agent: runs may be placed on it.
        #[serde(default)]
        agent: bool,
        at_ms: u64,
    },
    RemoveNode {
        node: NodeId,
    },
    /// Queues a run of a registered scenario; the run starts `Pending`.
    /// With `start_on`, the run is placed and started on that node in the
    /// same entry (`Pending` → `Running`): for a client that runs the
    /// scenario itself, such as `runi run` on one machine. With `bundle`,
    /// the run waits for the leader to place it on an agent
    /// (`PlaceRun`), which runs it: `runi run --server`.
    SubmitRun {
        dag_hash: DagHash,
        /// The contracts the run checks rows against.
        contracts: Vec<ContractUse>,
        start_on: Option<NodeId>,
        #[serde(default)]
        bundle: Option<ScenarioBundle>,
        at_ms: u64,
    },
    /// Places a pending run that has a bundle on `node`, a node with an
    /// agent; the leader decides where (`crate::placement`). A pending run
    /// may be placed again (its node left the cluster).
    PlaceRun {
        run: RunId,
        node: NodeId,
        at_ms: u64,
    },
    /// `Pending` → `Running` on `node`; a placed run only on its node.
    StartRun {
        run: RunId,
        node: NodeId,
        at_ms: u64,
    },
    /// Adds log lines and events to a run that has not finished.
    AppendRunEvents {
        run: RunId,
        events: Vec<NewRunEvent>,
    },
    /// Ends a run: `Running` → `Succeeded | Failed | Cancelled`, or
    /// `Pending` → `Cancelled`.
    FinishRun {
        run: RunId,
        end: RunEnd,
        counts: RunCounts,
        /// Counts per source, step and rule, and the outputs.
        detail: RunDetail,
        /// One paragraph for humans: what happened, or why it failed.
        summary: String,
        /// The run's last log lines, appended before it ends, in the same
        /// entry (at most `events_per_request_max`).
        events: Vec<NewRunEvent>,
        at_ms: u64,
    },
}

/// An event or log line as a client sends it; the Barn numbers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRunEvent {
    pub at_ms: u64,
    pub level: EventLevel,
    pub message: String,
}
