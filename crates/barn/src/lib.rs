//! The Barn: Runink's control plane. It records herds, scenarios, contract
//! versions, runs and nodes in a state machine replicated with Raft
//! (openraft), stored in one redb database per node.
//!
//! - `state/` is the pure core: [`BarnState::apply`] turns a [`Request`]
//!   into an [`Outcome`] with no IO and no clock.
//! - `store/` keeps the Raft log and the state's snapshots durable, each
//!   value checksummed.
//! - [`Barn`] (`embedded.rs`) is the running node: open a data folder, write
//!   commands, read the state.
//!
//! ```no_run
//! # async fn record(dir: &std::path::Path, dag_hash: runink_model::DagHash) -> Result<(), Box<dyn std::error::Error>> {
//! use runink_barn::{Applied, Barn, Command, unix_now_ms};
//!
//! let barn = Barn::open_embedded(dir).await?;
//! let submitted = barn
//!     .write(Command::SubmitRun { dag_hash, contracts: vec![], start_on: None, bundle: None, at_ms: unix_now_ms() })
//!     .await??;
//! if let Applied::RunSubmitted { run } = submitted {
//!     println!("run {run}");
//! }
//! barn.close().await?;
//! # Ok(())
//! # }
//! ```

mod clock;
pub mod cluster;
mod command;
mod embedded;
mod error;
mod held;
mod ids;
mod lock;
mod network;
mod options;
mod outcome;
pub mod placement;
mod raft_types;
mod read_index;
mod run_query;
mod state;
mod store;

pub use clock::unix_now_ms;
pub use command::{Command, NewRunEvent, Request};
pub use embedded::{Barn, BarnStatus};
pub use error::BarnError;
pub use held::HeldBarn;
pub use ids::{ClientId, NodeId, RequestId, RunId};
pub use options::BarnOptions;
pub use outcome::{Applied, Outcome, Refusal};
pub use run_query::RunQuery;
pub use state::{
    BarnState, ContractRole, ContractUse, ContractVersion, EventLevel, Herd, Node, OutputKind,
    PlaceCount, RuleCount, Run, RunCounts, RunDetail, RunEnd, RunEvent, RunOutput, RunSettings,
    RunStatus, RunTotals, ScenarioBundle, ScenarioVersion, StateLimits,
};

/// The files in a Barn's data folder: the database, the folder lock and
/// the file that openers waiting for the lock hold.
pub const DATA_FILES: [&str; 3] = [store::DB_FILE, lock::LOCK_FILE, lock::WAIT_FILE];
