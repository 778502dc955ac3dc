//! One run being recorded: begun in the ledger before the engine starts
//! (so the run has its id, and `runi runs` shows it running), finished
//! when the engine returns. A dry run writes nothing, so it is not
//! recorded.

use std::error::Error;

use runink_barn::{RunId, unix_now_ms};
use runink_engine::RunReport;
use runink_plan::Plan;

use super::{RunFinish, RunLedger, RunStart};

/// The id the engine writes into a dry run's report (a dry run writes no
/// DLQ row, so the id is seen only there).
pub const DRY_RUN_ID: &str = "dry-run";

#[derive(Debug)]
pub struct Recording<'a, L: RunLedger> {
    ledger: &'a L,
    started: Option<(RunId, RunStart)>,
}

impl<'a, L: RunLedger> Recording<'a, L> {
    /// Records the start of a run of `plan` from `file` (its steps in
    /// slices when `isolated`); nothing for a dry run.
    pub fn begin(
        ledger: &'a L,
        plan: &Plan,
        file: &str,
        isolated: bool,
        dry_run: bool,
    ) -> anyhow::Result<Self> {
        let started = if dry_run {
            None
        } else {
            let start = RunStart::of(plan, file, isolated, unix_now_ms());
            Some((ledger.begin(&start)?, start))
        };
        Ok(Self { ledger, started })
    }

    /// The run's id as the engine and the summary show it.
    pub fn run_id(&self) -> String {
        match &self.started {
            Some((run, _)) => run.to_string(),
            None => DRY_RUN_ID.to_owned(),
        }
    }

    /// Records how the run ended.
    pub fn finish(
        self,
        report: &RunReport,
        error: Option<&(dyn Error + 'static)>,
    ) -> anyhow::Result<()> {
        let Some((run, start)) = self.started else {
            return Ok(());
        };
        let finish = RunFinish::from_report(&start, report, error, unix_now_ms());
        self.ledger.finish(run, &finish)
    }
}
