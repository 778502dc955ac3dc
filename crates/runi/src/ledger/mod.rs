//! The run ledger: where `runi run` records its runs ([`RunLedger`]) and
//! where `runi runs`, `runi status` and `runi logs` read them
//! ([`RunHistory`]). The embedded Barn in the local state folder
//! (`embedded.rs`) is both; a Barn cluster (`--server`, `remote.rs`) is a
//! history, since a cluster's runs are recorded by its agents.
//!
//! What a run's record holds is decided by `record.rs`, a pure translation
//! of the engine's report into the Barn's terms.

mod embedded;
mod record;
mod recording;
mod remote;
mod run_locks;

use std::path::Path;

use runink_barn::{ContractUse, Run, RunEvent, RunId, RunQuery};

pub use embedded::EmbeddedLedger;
pub use record::{RunFinish, RunStart};
pub use recording::Recording;
pub use remote::RemoteHistory;

/// The records of runs, wherever they are kept.
pub trait RunLedger {
    /// Records that this process starts a run of `start`, and returns the
    /// run's id (the engine writes it into every DLQ row).
    fn begin(&self, start: &RunStart) -> anyhow::Result<RunId>;

    /// Records how run `run` ended: its status, counts, outputs and log.
    fn finish(&self, run: RunId, finish: &RunFinish) -> anyhow::Result<()>;
}

/// The recorded runs, wherever they are kept.
pub trait RunHistory {
    /// Where the runs are, for messages (a folder or a URL).
    fn location(&self) -> String;

    /// The runs that pass `filter`, newest first.
    fn runs(&self, filter: &RunQuery) -> anyhow::Result<Vec<Run>>;

    /// One run; `None` if the ledger has no run `id`.
    fn run(&self, id: RunId) -> anyhow::Result<Option<Run>>;

    /// One run's events in order; `None` if the ledger has no run `id`.
    fn events(&self, id: RunId) -> anyhow::Result<Option<Vec<RunEvent>>>;
}

/// The ledger of the local state folder. Another `runi` writing to it is
/// waited for up to `$RUNINK_LOCK_WAIT_MS` (default
/// [`LOCK_WAIT_MS_DEFAULT`]).
pub fn local_ledger(state: &Path) -> anyhow::Result<EmbeddedLedger> {
    let lock_wait_ms_max = match std::env::var(LOCK_WAIT_ENV) {
        Ok(text) => text.trim().parse::<u64>().map_err(|_| {
            anyhow::anyhow!(
                "`{LOCK_WAIT_ENV}` is `{text}`; expected a number of milliseconds, such as `5000`"
            )
        })?,
        Err(_) => LOCK_WAIT_MS_DEFAULT,
    };
    Ok(EmbeddedLedger::new(
        &state.join(BARN_FOLDER),
        lock_wait_ms_max,
    ))
}

/// The embedded Barn's folder inside the state folder.
pub const BARN_FOLDER: &str = "barn";

/// How long a `runi` waits for another to finish writing to the same state
/// folder, unless `$RUNINK_LOCK_WAIT_MS` says otherwise.
pub const LOCK_WAIT_MS_DEFAULT: u64 = 10_000;

const LOCK_WAIT_ENV: &str = "RUNINK_LOCK_WAIT_MS";

/// The contracts of a plan, as a run records them.
pub fn contracts_of(plan: &runink_plan::Plan) -> Vec<ContractUse> {
    use runink_barn::ContractRole;
    let input = plan.input_contract.iter().map(|c| (ContractRole::Input, c));
    let output = plan
        .output_contract
        .iter()
        .map(|c| (ContractRole::Output, c));
    input
        .chain(output)
        .map(|(role, contract)| ContractUse {
            role,
            path: contract.path.clone(),
            hash: contract.hash.clone(),
        })
        .collect()
}
