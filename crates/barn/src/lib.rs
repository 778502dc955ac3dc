//! The Barn: Runink's control plane. It records herds, scenarios, contract
//! versions, runs and nodes in a state machine replicated with Raft.
//!
//! - `state/` is the pure core: [`BarnState::apply`] turns a [`Request`]
//!   into an [`Outcome`] with no IO and no clock.

mod command;
mod ids;
mod outcome;
mod state;

pub use command::{Command, NewRunEvent, Request};
pub use ids::{ClientId, NodeId, RequestId, RunId};
pub use outcome::{Applied, Outcome, Refusal};
pub use state::{
    BarnState, ContractVersion, EventLevel, Herd, Node, Run, RunCounts, RunEnd, RunEvent,
    RunStatus, RunTotals, ScenarioVersion, StateLimits,
};
