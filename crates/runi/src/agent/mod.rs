//! The agent of a Barn node (`runi barn start` without `--no-agent`): it
//! runs the runs the leader placed on its node, one after another, on a
//! thread of its own, and records them through the node.
//!
//! Each round, every `POLL_MS`, it reads its node's applied state:
//! - a run `running` on this node (confirmed by a linearizable read) is an
//!   orphan, since this agent runs one run at a time and is between runs:
//!   the node was restarted while it ran. It is ended `failed` (its
//!   outputs were never committed, so nothing it wrote is visible);
//! - the oldest run placed here and still `pending` is claimed with
//!   `StartRun` (refused if it was placed elsewhere meanwhile), run
//!   (`execute.rs`), and ended with its record.

mod execute;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use runink_barn::cluster::{Consistency, NodeHandle};
use runink_barn::{
    ClientId, Command, Request, RequestId, RunId, RunStatus, ScenarioBundle, unix_now_ms,
};
use runink_model::DagHash;

use crate::barn_client::write_retrying;
use crate::ledger::RunFinish;

/// How often the agent looks for work.
const POLL_MS: u64 = 250;

/// The agent's thread; [`Agent::stop`] ends it after the run in hand.
#[derive(Debug)]
pub struct Agent {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Agent {
    /// Starts the agent of `node`; masking keys come from `state_dir`.
    pub fn start(
        node: NodeHandle,
        runtime: tokio::runtime::Handle,
        state_dir: PathBuf,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            node,
            runtime,
            state_dir,
            client: ClientId::fresh(),
            seq: 0,
            stop: Arc::clone(&stop),
        };
        let thread = std::thread::Builder::new()
            .name("runi-agent".into())
            .spawn(move || worker.serve())?;
        Ok(Self { stop, thread })
    }

    /// Asks the agent to stop and waits for the run in hand to end.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        if self.thread.join().is_err() {
            tracing::error!("the agent's thread panicked; this is a bug");
        }
    }
}

/// What the agent does next.
enum Work {
    /// End an orphaned run as failed.
    Orphan(RunId),
    Run {
        run: RunId,
        dag_hash: DagHash,
        bundle: Box<ScenarioBundle>,
    },
}

struct Worker {
    node: NodeHandle,
    runtime: tokio::runtime::Handle,
    state_dir: PathBuf,
    client: ClientId,
    seq: u64,
    stop: Arc<AtomicBool>,
}

impl Worker {
    fn serve(mut self) {
        let me = self.node.id();
        tracing::info!(node = %me, "agent started");
        while !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(POLL_MS));
            let next = self
                .runtime
                .block_on(self.node.read(Consistency::Stale, |state| {
                    let mine = || state.runs().filter(|run| run.node == Some(me));
                    if let Some(orphan) = mine().find(|run| run.status == RunStatus::Running) {
                        return Some(Work::Orphan(orphan.id));
                    }
                    let run = mine().find(|run| run.status == RunStatus::Pending)?;
                    let bundle = state.run_bundle(run.id)?;
                    Some(Work::Run {
                        run: run.id,
                        dag_hash: run.dag_hash.clone(),
                        bundle: Box::new(bundle.clone()),
                    })
                }));
            match next {
                Ok(Some(Work::Orphan(run))) => self.end_orphan(run),
                Ok(Some(Work::Run {
                    run,
                    dag_hash,
                    bundle,
                })) => self.claim_and_run(run, &dag_hash, &bundle),
                Ok(None) => {}
                Err(e) => tracing::debug!("the agent cannot read its node's state: {e}"),
            }
        }
        tracing::info!(node = %me, "agent stopped");
    }

    fn claim_and_run(&mut self, run: RunId, dag_hash: &DagHash, bundle: &ScenarioBundle) {
        let me = self.node.id();
        let start = Command::StartRun {
            run,
            node: me,
            at_ms: unix_now_ms(),
        };
        if !self.write(start) {
            return;
        }
        tracing::info!(%run, scenario = %bundle.scenario, "running");
        let finish = execute::execute(me, run, dag_hash, bundle, &self.state_dir);
        tracing::info!(%run, end = ?finish.end, "ran");
        self.record_end(run, &finish);
    }

    fn end_orphan(&mut self, run: RunId) {
        let me = self.node.id();
        // This node's state may lag behind the end this agent just wrote:
        // only a run the leader still sees running here is an orphan.
        let still_running = self
            .runtime
            .block_on(self.node.read(Consistency::Linearizable, |s| {
                s.run(run)
                    .is_some_and(|r| r.status == RunStatus::Running && r.node == Some(me))
            }));
        if !matches!(still_running, Ok(true)) {
            return;
        }
        tracing::warn!(%run, "a run was running here when this node stopped; it is ended as failed");
        let reason = format!(
            "node {me} stopped while the run was running (it was restarted or killed); nothing the run wrote was committed. Submit it again."
        );
        let finish = RunFinish::failed(reason, unix_now_ms());
        self.record_end(run, &finish);
    }

    fn record_end(&mut self, run: RunId, finish: &RunFinish) {
        let batch_max = self
            .runtime
            .block_on(
                self.node
                    .read(Consistency::Stale, |s| s.limits().events_per_request_max),
            )
            .unwrap_or(1);
        for command in finish.commands(run, batch_max) {
            if !self.write(command) {
                return;
            }
        }
    }

    /// Writes one command (retried while the cluster is electing); says
    /// whether it applied.
    fn write(&mut self, command: Command) -> bool {
        self.seq += 1;
        let request = Request::new(RequestId::new(self.client, self.seq), command);
        let node = &self.node;
        let outcome = self
            .runtime
            .block_on(write_retrying(|| node.write(request.clone())));
        match outcome {
            Ok(Ok(_)) => true,
            Ok(Err(refusal)) => {
                tracing::info!("the barn refused the agent's write: {refusal}");
                false
            }
            Err(e) => {
                tracing::error!("the agent could not write to the barn: {e}");
                false
            }
        }
    }
}
