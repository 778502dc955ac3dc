//! `runi status RUN`: one run's record: status, scenario, `dag_hash`,
//! contract hashes, times, counts per source, step and rule, outputs, and
//! why it failed.

use anyhow::anyhow;
use runink_barn::RunId;

use crate::barn_client::{history, history_failure};
use crate::cli::{GlobalOptions, StatusArgs};
use crate::exit::{Exit, Failure, Outcome};
use crate::ledger::RunHistory;
use crate::output::print_json;
use crate::run_text::status_text;

pub fn status(global: &GlobalOptions, args: &StatusArgs) -> Outcome {
    let history = history(&args.history)?;
    let id = RunId(args.run);
    let Some(run) = history.run(id).map_err(history_failure)? else {
        return Err(Failure::usage(unknown_run(id, history.as_ref())));
    };
    if global.json {
        print_json(&run).map_err(Failure::infra)?;
    } else {
        out!("{}", status_text(&run));
    }
    Ok(Exit::Ok)
}

/// The error for a run the ledger does not know.
pub fn unknown_run(id: RunId, history: &dyn RunHistory) -> anyhow::Error {
    anyhow!(
        "no run `{id}` in {}; `runi runs` lists the recorded runs",
        history.location()
    )
}
