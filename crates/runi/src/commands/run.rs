//! `runi run FILE`: compile the scenario, run it with the engine, print
//! the summary (or the JSON report), and record the run in the run ledger
//! (`crate::ledger`).

use std::io::IsTerminal;
use std::sync::Arc;

use runink_contract::Masker;
use runink_engine::{
    EngineError, RunError, RunOptions, RunProgress, RunReport, RunRequest, execute,
    input_bytes_total,
};

use crate::cli::{GlobalOptions, RunArgs};
use crate::exit::{Exit, Failure, Outcome};
use crate::ledger::{Recording, local_ledger};
use crate::output::print_json_line;
use crate::progress_bar::ProgressBar;
use crate::run_settings::{engine_options, settings_of};
use crate::scenario_file::{compile_or_fail, select_plans};
use crate::state_dir::{mask_keys, state_dir};
use crate::summary::render_summary;

pub fn run(global: &GlobalOptions, args: &RunArgs) -> Outcome {
    if args.remote.server.is_some() {
        return super::run_remote::run_remote(global, args);
    }
    crate::interrupt::watch();
    runink_engine::keep_freed_memory();
    let (file, compilation) = compile_or_fail(global, &args.file)?;
    let plans = select_plans(compilation, args.scenario.as_deref(), &file)?;
    if global.json {
        refuse_stdout_streams_beside_json(&plans)?;
    }
    let state = state_dir().map_err(Failure::infra)?;
    let ledger = local_ledger(&state).map_err(Failure::usage)?;
    let base_dir = file.base_dir();
    let settings = settings_of(args);
    let mut worst = Exit::Ok;
    for plan in &plans {
        let keys = mask_keys(&state, plan.herd.as_str(), args.mask_salt.as_deref())
            .map_err(Failure::infra)?;
        let recording =
            Recording::begin(&ledger, plan, &file.shown, settings.isolated, args.dry_run)
                .map_err(|e| Failure::infra(e.context("the run was not started")))?;
        let run_id = recording.run_id();
        // A live progress line for people at a terminal; never in --json.
        let progress = (!global.json && !global.quiet && std::io::stderr().is_terminal())
            .then(|| Arc::new(RunProgress::default()));
        let bar = progress
            .as_ref()
            .map(|p| ProgressBar::start(Arc::clone(p), input_bytes_total(plan, &base_dir)));
        let request = RunRequest {
            plan,
            base_dir: &base_dir,
            run_id: run_id.clone(),
            masker: Masker::new(keys),
            options: RunOptions {
                dry_run: args.dry_run,
                progress,
                ..engine_options(&settings)
            },
        };
        let result = execute(request);
        if let Some(bar) = bar {
            bar.finish();
        }
        let (report, error) = match result {
            Ok(report) => (report, None),
            Err(failure) => {
                let mut report = failure.report;
                report.run_id = run_id.clone();
                report.scenario = plan.scenario.clone();
                (report, Some(failure.error))
            }
        };
        let error_source = error
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        recording.finish(&report, error_source).map_err(|e| {
            Failure::infra(e.context(format!(
                "run `{run_id}` ended, but its record could not be kept"
            )))
        })?;
        print_outcome(global, &report, error.as_ref(), args.dry_run).map_err(Failure::infra)?;
        if let Some(error) = error {
            let exit = exit_for(&error);
            worst = worst.max(exit);
            if exit == Exit::Usage {
                return Err(Failure::usage(
                    anyhow::Error::new(error)
                        .context(format!("scenario `{}` did not run", plan.scenario)),
                ));
            }
            crate::output::print_error(
                global,
                &anyhow::Error::new(error).context(format!(
                    "run `{run_id}` of `{}` failed; {}",
                    plan.scenario,
                    nothing_written(plan)
                )),
            );
        }
    }
    Ok(worst)
}

/// `--json` prints each run's report as a line on stdout: a CSV or Arrow
/// stream there would be broken by it (JSON lines may share stdout).
fn refuse_stdout_streams_beside_json(plans: &[runink_plan::Plan]) -> Result<(), Failure> {
    let stream = plans
        .iter()
        .flat_map(runink_plan::Plan::outputs)
        .find(|endpoint| {
            endpoint.location == runink_plan::Location::Stdout
                && endpoint.format != runink_plan::DataFormat::Jsonl
        });
    match stream {
        None => Ok(()),
        Some(endpoint) => Err(Failure::usage(anyhow::anyhow!(
            "`--json` prints the run's report on stdout, where `{}` writes {}; drop `--json` or write that sink to a file",
            endpoint.uri,
            endpoint.format.as_str()
        ))),
    }
}

/// What a failed run left, in words: no file, and on stdout what it had
/// printed already (stdout cannot be taken back).
fn nothing_written(plan: &runink_plan::Plan) -> &'static str {
    let to_stdout = plan
        .outputs()
        .any(|endpoint| endpoint.location == runink_plan::Location::Stdout);
    if to_stdout {
        "no file was written (rows it printed on stdout before failing stay printed)"
    } else {
        "nothing was written"
    }
}

/// Problems in the scenario or its contracts are the author's (2);
/// isolation the machine cannot give is the operator's (3); a run that
/// started and failed, for any other reason (a step's program too), exits 1.
fn exit_for(error: &RunError) -> Exit {
    match error {
        RunError::Engine(
            EngineError::Plan(_) | EngineError::Step { .. } | EngineError::Contract { .. },
        ) => Exit::Usage,
        RunError::Engine(EngineError::Isolation(_)) => Exit::Infra,
        _ => Exit::Failures,
    }
}

fn print_outcome(
    global: &GlobalOptions,
    report: &RunReport,
    error: Option<&RunError>,
    dry_run: bool,
) -> anyhow::Result<()> {
    if global.json {
        // One line per scenario: a file of several prints JSON lines.
        return print_json_line(&serde_json::json!({ "ok": error.is_none(), "report": report }));
    }
    // A summary for people: on a terminal, or when asked with -v.
    if !global.quiet && (std::io::stderr().is_terminal() || global.verbose > 0) {
        eprint!("{}", render_summary(report, dry_run, error.is_some()));
    }
    Ok(())
}
