//! `runi cancel RUN --server URL`: ends a run submitted to a cluster
//! before an agent starts it (`pending` → `cancelled`). A run that has
//! started cannot be cancelled yet: the engine has no way to stop a run
//! part-way; the command says so and changes nothing.

use anyhow::anyhow;
use runink_barn::{
    Applied, ClientId, Command, Refusal, Request, RequestId, RunCounts, RunDetail, RunEnd, RunId,
    RunStatus, unix_now_ms,
};

use crate::barn_client::{api_failure, client, client_runtime, write_retrying};
use crate::cli::{CancelArgs, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json;

pub fn cancel(global: &GlobalOptions, args: &CancelArgs) -> Outcome {
    let client = client(&args.server, &args.tls)?;
    let run = RunId(args.run);
    let request = Request::new(
        RequestId::new(ClientId::fresh(), 1),
        Command::FinishRun {
            run,
            end: RunEnd::Cancelled,
            counts: RunCounts::default(),
            detail: RunDetail::default(),
            summary: "cancelled before it started (`runi cancel`)".into(),
            events: vec![],
            at_ms: unix_now_ms(),
        },
    );
    let outcome = client_runtime()?
        .block_on(write_retrying(|| client.write(&request)))
        .map_err(api_failure)?;
    match outcome {
        Ok(Applied::RunFinished { .. }) => {
            if global.json {
                print_json(&serde_json::json!({ "run": run.0, "status": "cancelled" }))
                    .map_err(Failure::infra)?;
            } else if !global.quiet {
                eprintln!("run {run} cancelled");
            }
            Ok(Exit::Ok)
        }
        Ok(other) => Err(Failure::infra(anyhow!(
            "the barn answered a cancellation with `{other:?}`; this is a bug"
        ))),
        Err(Refusal::IllegalTransition {
            from: RunStatus::Running,
            ..
        }) => Err(Failure::usage(anyhow!(
            "run `{run}` is running; a run that has started cannot be cancelled yet (`runi status {run} --server {}` follows it)",
            args.server
        ))),
        Err(Refusal::IllegalTransition { from, .. }) => Err(Failure::usage(anyhow!(
            "run `{run}` has already ended ({from})"
        ))),
        Err(refusal) => Err(Failure::usage(anyhow!(
            "the barn at `{}` refused: {refusal}",
            args.server
        ))),
    }
}
