//! `runi runs`: the recorded runs, newest first, filtered by status,
//! scenario, herd or `dag_hash`; a table, or JSON with `--json`.

use anyhow::Context;
use runink_barn::{RunQuery, RunStatus};
use runink_model::HerdName;

use crate::barn_client::{history, history_failure};
use crate::cli::{GlobalOptions, RunStatusArg, RunsArgs};
use crate::exit::{Exit, Failure, Outcome};

use crate::output::print_json;
use crate::run_text::runs_table;

pub fn runs(global: &GlobalOptions, args: &RunsArgs) -> Outcome {
    let filter = filter(args).map_err(Failure::usage)?;
    let history = history(&args.history)?;
    let runs = history.runs(&filter).map_err(history_failure)?;
    if global.json {
        print_json(&runs).map_err(Failure::infra)?;
    } else if runs.is_empty() {
        if !global.quiet && filter.narrows() {
            eprintln!(
                "no run recorded in {} matches these filters",
                history.location()
            );
        } else if !global.quiet {
            eprintln!("no runs recorded in {}", history.location());
        }
    } else {
        out!("{}", runs_table(&runs));
    }
    Ok(Exit::Ok)
}

fn filter(args: &RunsArgs) -> anyhow::Result<RunQuery> {
    let herd = args
        .herd
        .as_deref()
        .map(HerdName::new)
        .transpose()
        .context("`--herd` is not a herd name")?;
    let dag_hash = args
        .dag_hash
        .as_deref()
        .map(|prefix| {
            RunQuery::dag_hash_prefix(prefix).with_context(|| {
                format!(
                    "`--dag-hash {prefix}` is not a dag_hash: expected up to 64 hex digits (its start is enough), as `runi explain` shows"
                )
            })
        })
        .transpose()?;
    Ok(RunQuery {
        statuses: args.status.iter().map(|s| status(*s)).collect(),
        scenario: args.scenario.clone(),
        herd,
        dag_hash_prefix: dag_hash,
        limit: args.limit as usize,
    })
}

fn status(arg: RunStatusArg) -> RunStatus {
    match arg {
        RunStatusArg::Pending => RunStatus::Pending,
        RunStatusArg::Running => RunStatus::Running,
        RunStatusArg::Succeeded => RunStatus::Succeeded,
        RunStatusArg::Failed => RunStatus::Failed,
        RunStatusArg::Cancelled => RunStatus::Cancelled,
    }
}
