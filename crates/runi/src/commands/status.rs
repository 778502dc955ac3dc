//! `runi status RUN`: one run's record: status, scenario, `dag_hash`,
//! contract hashes, times, counts per source, step and rule, outputs, and
//! why it failed.

use anyhow::anyhow;
use runink_barn::RunId;

use crate::cli::{GlobalOptions, StatusArgs};
use crate::exit::{Exit, Failure, Outcome};
use crate::ledger::{RunLedger, local_ledger};
use crate::output::print_json;
use crate::run_text::status_text;
use crate::state_dir::state_dir;

pub fn status(global: &GlobalOptions, args: &StatusArgs) -> Outcome {
    let state = state_dir().map_err(Failure::infra)?;
    let ledger = local_ledger(&state).map_err(Failure::usage)?;
    let id = RunId(args.run);
    let Some(run) = ledger.run(id).map_err(Failure::infra)? else {
        return Err(Failure::usage(unknown_run(id, &state)));
    };
    if global.json {
        print_json(&run).map_err(Failure::infra)?;
    } else {
        print!("{}", status_text(&run));
    }
    Ok(Exit::Ok)
}

/// The error for a run the ledger does not know.
pub fn unknown_run(id: RunId, state: &std::path::Path) -> anyhow::Error {
    anyhow!(
        "no run `{id}` in `{}`; `runi runs` lists the recorded runs",
        state.display()
    )
}
