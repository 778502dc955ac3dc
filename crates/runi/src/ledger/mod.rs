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

use std::path::Path;

use runink_barn::{ContractUse, Run, RunEvent, RunId, RunStatus};
use runink_model::HerdName;

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
    fn runs(&self, filter: &RunFilter) -> anyhow::Result<Vec<Run>>;

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

/// Which runs `runi runs` lists.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Only runs in one of these statuses (any status when empty).
    pub statuses: Vec<RunStatus>,
    pub scenario: Option<String>,
    pub herd: Option<HerdName>,
    /// Only runs whose `dag_hash` starts with these hex digits.
    pub dag_hash_prefix: Option<String>,
    /// At most this many, the newest.
    pub limit: usize,
}

impl RunFilter {
    /// Whether it leaves out some runs (besides the limit).
    pub fn narrows(&self) -> bool {
        !self.statuses.is_empty()
            || self.scenario.is_some()
            || self.herd.is_some()
            || self.dag_hash_prefix.is_some()
    }

    pub fn admits(&self, run: &Run) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&run.status))
            && self.scenario.as_ref().is_none_or(|s| *s == run.scenario)
            && self.herd.as_ref().is_none_or(|h| *h == run.herd)
            && self
                .dag_hash_prefix
                .as_ref()
                .is_none_or(|p| run.dag_hash.0.as_str().starts_with(p.as_str()))
    }

    /// The runs that pass, newest first, at most `limit`.
    pub fn select<'a>(&self, runs: impl DoubleEndedIterator<Item = &'a Run>) -> Vec<Run> {
        runs.rev()
            .filter(|run| self.admits(run))
            .take(self.limit)
            .cloned()
            .collect()
    }
}

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

#[cfg(test)]
mod tests {
    use runink_barn::{RunCounts, RunDetail};
    use runink_model::{DagHash, Sha256Hex};

    use super::*;

    fn run(id: u64, scenario: &str, status: RunStatus) -> Run {
        Run {
            id: RunId(id),
            herd: HerdName::default_herd(),
            scenario: scenario.into(),
            version: 1,
            dag_hash: DagHash(Sha256Hex::from_digest(&[1; 32])),
            contracts: vec![],
            status,
            node: None,
            submitted_at_ms: id,
            placed_at_ms: None,
            started_at_ms: None,
            finished_at_ms: None,
            counts: RunCounts::default(),
            detail: RunDetail::default(),
            summary: String::new(),
            events_total: 0,
            events_dropped: 0,
        }
    }

    #[test]
    fn a_filter_keeps_the_newest_matching_runs_first() {
        let runs = [
            run(1, "orders", RunStatus::Succeeded),
            run(2, "orders", RunStatus::Failed),
            run(3, "users", RunStatus::Failed),
            run(4, "orders", RunStatus::Failed),
            run(5, "orders", RunStatus::Succeeded),
        ];
        let failed_orders = RunFilter {
            statuses: vec![RunStatus::Failed],
            scenario: Some("orders".into()),
            limit: 10,
            ..RunFilter::default()
        };
        let ids: Vec<u64> = failed_orders
            .select(runs.iter())
            .iter()
            .map(|r| r.id.0)
            .collect();
        assert_eq!(ids, [4, 2]);

        let newest_two = RunFilter {
            limit: 2,
            ..RunFilter::default()
        };
        let ids: Vec<u64> = newest_two
            .select(runs.iter())
            .iter()
            .map(|r| r.id.0)
            .collect();
        assert_eq!(ids, [5, 4]);
    }
}
