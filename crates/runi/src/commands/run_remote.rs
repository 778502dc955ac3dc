//! `runi run --server URL FILE`: compile the scenario here (errors are
//! shown before anything is sent), submit each scenario of the file to the
//! Barn cluster with its bundle (the scenario's text and the files it
//! reads, `crate::bundle`), then follow each run until it ends: the leader
//! places it on a node's agent, which runs it and records it. With
//! `--detach`, only submit. docs/remote-runs.md has the whole story.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use runink_barn::cluster::{BarnClient, Consistency};
use runink_barn::{
    Applied, ClientId, Command, Outcome as BarnOutcome, Refusal, Request, RequestId, Run, RunId,
    RunStatus, ScenarioBundle, unix_now_ms,
};
use runink_plan::Plan;

use crate::barn_client::{api_failure, client, client_runtime, write_retrying};
use crate::bundle::RecordingLoader;
use crate::cli::{GlobalOptions, RunArgs};
use crate::exit::{Exit, Failure, Outcome};
use crate::ledger::contracts_of;
use crate::output::{print_error, print_json};
use crate::run_settings::settings_of;
use crate::run_text::status_text;
use crate::scenario_file::{ScenarioFile, compile_file_or_fail, select_plans, steps_path};

/// How often a followed run's record is read.
const FOLLOW_POLL_MS: u64 = 250;

pub fn run_remote(global: &GlobalOptions, args: &RunArgs) -> Outcome {
    let server = args.remote.server.as_deref().unwrap_or_default();
    if args.mask_salt.is_some() {
        return Err(Failure::usage(anyhow!(
            "`--mask-salt` (or `RUNINK_MASK_SALT`) cannot go with `--server`: a run on a cluster masks with the herd's keys on the node that runs it, and a salt is not sent over the network; unset it"
        )));
    }
    if args.isolation != crate::cli::IsolationArg::Slice {
        return Err(Failure::usage(anyhow!(
            "`--isolation none` cannot go with `--server`: a node runs every remote scenario in slices, never its programs unconfined as the node's user; run it locally to opt out"
        )));
    }
    // A bad URL, or https without certificates, is refused before the
    // scenario is even compiled.
    let client = client(server, &args.remote.tls)?;
    // The bundle names files by absolute path, so that the agent resolves
    // them as this machine does.
    let path = std::fs::canonicalize(&args.file)
        .with_context(|| format!("cannot read scenario file `{}`", args.file.display()))
        .map_err(Failure::usage)?;
    let mut file = ScenarioFile::read(&path)?;
    file.shown = args.file.display().to_string();
    let loader = RecordingLoader::default();
    let (file, compilation) = compile_file_or_fail(global, file, &loader)?;
    let plans = select_plans(compilation, args.scenario.as_deref(), &file)?;
    let texts = loader.into_texts();
    let runtime = client_runtime()?;
    let mut submitter = Submitter {
        client: &client,
        id: ClientId::fresh(),
        seq: 0,
    };
    let mut submitted = Vec::new();
    for plan in &plans {
        let bundle = bundle_of(&file, plan, &texts, args);
        let run = runtime.block_on(submitter.submit(plan, bundle))?;
        if !global.quiet && !global.json {
            eprintln!("run {run} of `{}` submitted to {server}", plan.scenario);
        }
        submitted.push((run, plan.scenario.clone()));
    }
    if args.detach {
        if global.json {
            let runs: Vec<u64> = submitted.iter().map(|(run, _)| run.0).collect();
            print_json(&serde_json::json!({ "submitted": runs })).map_err(Failure::infra)?;
        } else {
            for (run, _) in &submitted {
                outln!("{run}");
            }
        }
        return Ok(Exit::Ok);
    }
    let deadline = Instant::now() + Duration::from_secs(args.wait_s);
    let mut worst = Exit::Ok;
    let mut ended = Vec::new();
    for (run, scenario) in submitted {
        let record = runtime.block_on(follow(&client, run, deadline, global))?;
        if !global.json && !global.quiet {
            eprint!("{}", status_text(&record));
        }
        if record.status != RunStatus::Succeeded {
            worst = worst.max(Exit::Failures);
            let node = record
                .node
                .map_or_else(String::new, |n| format!(" on node {n}"));
            print_error(
                global,
                &anyhow!(
                    "run `{run}` of `{scenario}` {}{node}: {}",
                    record.status,
                    record.summary
                ),
            );
        }
        ended.push(record);
    }
    if global.json {
        print_json(&ended).map_err(Failure::infra)?;
    }
    Ok(worst)
}

/// What travels with a run of `plan`.
fn bundle_of(
    file: &ScenarioFile,
    plan: &Plan,
    texts: &BTreeMap<String, String>,
    args: &RunArgs,
) -> ScenarioBundle {
    ScenarioBundle {
        file: file.shown.clone(),
        base_dir: file.base_dir().display().to_string(),
        source: file.source.clone(),
        scenario: plan.scenario.clone(),
        steps_path: steps_path()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        files: texts.clone(),
        settings: settings_of(args),
    }
}

/// One client's writes, numbered in order.
struct Submitter<'a> {
    client: &'a BarnClient,
    id: ClientId,
    seq: u64,
}

impl Submitter<'_> {
    /// What the cluster made of `command`: applied, or refused.
    async fn outcome_of(&mut self, command: Command) -> Result<BarnOutcome, Failure> {
        self.seq += 1;
        let request = Request::new(RequestId::new(self.id, self.seq), command);
        write_retrying(|| self.client.write(&request))
            .await
            .map_err(api_failure)
    }

    async fn write(&mut self, command: Command) -> Result<Applied, Failure> {
        let outcome = self.outcome_of(command).await?;
        outcome.map_err(|refusal| {
            Failure::usage(anyhow!(
                "the barn at `{}` refused: {refusal}",
                self.client.url()
            ))
        })
    }

    /// Records the scenario in its herd, which the cluster must have (a
    /// cluster's herds are made by its operators, `runi barn herd`, not by
    /// the first run that names one), then submits the run; returns its id.
    async fn submit(&mut self, plan: &Plan, bundle: ScenarioBundle) -> Result<RunId, Failure> {
        let at_ms = unix_now_ms();
        let registered = self
            .outcome_of(Command::RegisterScenario {
                herd: plan.herd.clone(),
                name: plan.scenario.clone(),
                dag_hash: plan.dag_hash.clone(),
                at_ms,
            })
            .await?;
        match registered {
            Ok(_) => {}
            Err(Refusal::UnknownHerd { herd }) => {
                return Err(Failure::usage(anyhow!(
                    "scenario `{}` runs in herd `{herd}`, which the cluster at `{}` does not have; \
                     an operator creates it with `runi barn herd {herd} --server {}`",
                    plan.scenario,
                    self.client.url(),
                    self.client.url()
                )));
            }
            Err(refusal) => {
                return Err(Failure::usage(anyhow!(
                    "the barn at `{}` refused: {refusal}",
                    self.client.url()
                )));
            }
        }
        let submitted = self
            .write(Command::SubmitRun {
                dag_hash: plan.dag_hash.clone(),
                contracts: contracts_of(plan),
                start_on: None,
                bundle: Some(bundle),
                at_ms,
            })
            .await?;
        match submitted {
            Applied::RunSubmitted { run } => Ok(run),
            other => Err(Failure::infra(anyhow!(
                "the barn answered a submission with `{other:?}`; this is a bug"
            ))),
        }
    }
}

/// Reads run `run` until it ends or `deadline` passes, telling the user
/// where it is as it moves. Errors while reading (a node restarting, an
/// election) are waited out until the deadline.
async fn follow(
    client: &BarnClient,
    run: RunId,
    deadline: Instant,
    global: &GlobalOptions,
) -> Result<Run, Failure> {
    let mut shown: Option<(RunStatus, Option<runink_barn::NodeId>)> = None;
    let mut last_error = None;
    loop {
        match client.run(run, Consistency::Linearizable).await {
            Ok(Some(record)) => {
                let now = (record.status, record.node);
                if shown != Some(now) && !global.quiet && !global.json {
                    eprintln!("run {run}: {}", where_it_is(&record));
                }
                shown = Some(now);
                if record.status.is_terminal() {
                    return Ok(record);
                }
            }
            Ok(None) => {
                return Err(Failure::infra(anyhow!(
                    "run `{run}` is no longer in the barn at `{}` (forgotten under `runs_kept_max`?)",
                    client.url()
                )));
            }
            Err(e) => last_error = Some(e),
        }
        if Instant::now() >= deadline {
            let status = shown.map_or_else(|| "unknown".to_owned(), |(s, _)| s.to_string());
            let cause = last_error.map_or_else(String::new, |e| format!("; last error: {e}"));
            return Err(Failure::infra(anyhow!(
                "run `{run}` is still {status} after `--wait-s`; it goes on: `runi status {run} --server {}` follows it{cause}",
                client.url()
            )));
        }
        tokio::time::sleep(Duration::from_millis(FOLLOW_POLL_MS)).await;
    }
}

fn where_it_is(run: &Run) -> String {
    match (run.status, run.node) {
        (RunStatus::Pending, None) => "pending, waiting for a node".into(),
        (RunStatus::Pending, Some(node)) => format!("placed on node {node}"),
        (RunStatus::Running, Some(node)) => format!("running on node {node}"),
        (status, _) => status.to_string(),
    }
}
