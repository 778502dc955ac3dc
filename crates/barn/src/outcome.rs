//! What applying a request did: an [`Applied`] value, or a [`Refusal`] that
//! says why the state was left unchanged. Both are data, replicated and
//! remembered for retries like any other result.

use runink_model::{DagHash, HerdName};
use serde::{Deserialize, Serialize};

use crate::ids::{NodeId, RequestId, RunId};
use crate::state::RunStatus;

/// The result of one request. A refusal is an answer, not a failure of the
/// Barn: the same request is refused the same way on every replica.
pub type Outcome = Result<Applied, Refusal>;

/// A request that changed (or, when idempotent, confirmed) the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    HerdPut {
        created: bool,
    },
    ScenarioRegistered {
        herd: HerdName,
        name: String,
        version: u32,
        created: bool,
    },
    ContractRegistered {
        created: bool,
    },
    NodeRegistered {
        created: bool,
    },
    NodeRemoved {
        existed: bool,
    },
    RunSubmitted {
        run: RunId,
    },
    RunPlaced {
        run: RunId,
        node: NodeId,
    },
    RunStarted {
        run: RunId,
    },
    RunEventsAppended {
        run: RunId,
        /// Events kept; the rest were over the run's event bound.
        kept: u32,
        dropped: u32,
    },
    RunFinished {
        run: RunId,
        status: RunStatus,
    },
}

/// Why a request left the state unchanged. The user (or the client program)
/// must act on each of these; none is a fault of the Barn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    #[error("no herd `{herd}`")]
    UnknownHerd { herd: HerdName },
    #[error("no scenario with dag_hash `{dag_hash}`; register it first")]
    UnknownScenario { dag_hash: DagHash },
    #[error("no run `{run}`")]
    UnknownRun { run: RunId },
    #[error("no node `{node}`; register it first")]
    UnknownNode { node: NodeId },
    #[error("run `{run}` is placed on node `{node}`; only that node may start it")]
    PlacedElsewhere { run: RunId, node: NodeId },
    #[error("node `{node}` runs no agent (started with `--no-agent`); runs cannot be placed on it")]
    NoAgent { node: NodeId },
    #[error(
        "run `{run}` was submitted without its scenario (only its submitter runs it); it cannot be placed"
    )]
    NoBundle { run: RunId },
    #[error("run `{run}` is {from} and cannot become {to}")]
    IllegalTransition {
        run: RunId,
        from: RunStatus,
        to: RunStatus,
    },
    #[error("run `{run}` has finished ({status}); it takes no more events")]
    RunFinished { run: RunId, status: RunStatus },
    #[error(
        "request `{request}` is older than this client's last request `{last_seq}`; a client numbers its requests in order"
    )]
    StaleRequest { request: RequestId, last_seq: u64 },
    #[error(
        "request `{request}` was already applied to another command; a client gives each command a request id of its own (a retry repeats the same command)"
    )]
    RequestIdReused { request: RequestId },
    #[error("{what} is empty")]
    Empty { what: String },
    #[error("{what} has {len} bytes, more than the {max} allowed")]
    TooLong {
        what: String,
        len: usize,
        max: usize,
    },
    #[error("{count} contracts for one run, more than the {max} allowed")]
    TooManyContracts { count: usize, max: usize },
    #[error(
        "the barn keeps {max} runs (`runs_kept_max`) and none of them has finished; finish or cancel runs first"
    )]
    TooManyRuns { max: usize },
    #[error("{count} events in one request, more than the {max} allowed; send them in batches")]
    TooManyEvents { count: usize, max: usize },
}
