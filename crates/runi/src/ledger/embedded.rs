//! The ledger on an embedded Barn: a single-voter Barn in the local state
//! folder.
//!
//! A run's Barn is opened at its start and kept open until its end (a
//! [`HeldBarn`]): each open and close costs fsyncs that a short run would
//! otherwise wait for twice. Another process that wants the folder
//! meanwhile (a second `runi run`, `runi runs`) gets it within a few
//! milliseconds, because the held Barn is closed as soon as someone waits
//! and opened again for the run's last writes. So the second process
//! waits for the first's writes (up to `lock_wait_ms_max`), never for its
//! whole run. Reads open the Barn for the one call.
//!
//! Every open first records as failed the runs whose process is gone
//! (`run_locks.rs`), so a killed run does not stay `running`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, anyhow};
use runink_barn::{
    Applied, Barn, BarnOptions, Command, HeldBarn, Outcome, Run, RunEvent, RunId, RunQuery,
    RunStatus, unix_now_ms,
};

use super::run_locks::{RunLocks, SWEEP_RUNS_MAX, abandoned_end};
use super::{RunFinish, RunHistory, RunLedger, RunStart};

/// The embedded Barn in one folder.
#[derive(Debug)]
pub struct EmbeddedLedger {
    dir: PathBuf,
    options: BarnOptions,
    /// The Barn held from a run's begin to its finish.
    held: Mutex<Option<Held>>,
    /// Which runs still have a process.
    locks: RunLocks,
}

/// A held Barn with the runtime its watcher runs on.
#[derive(Debug)]
struct Held {
    runtime: tokio::runtime::Runtime,
    barn: HeldBarn,
}

impl Held {
    fn new(dir: &Path, options: &BarnOptions) -> anyhow::Result<Self> {
        // One worker: the watcher and the Raft node run between calls.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("cannot start the runtime for the embedded barn")?;
        let barn = runtime.block_on(async { HeldBarn::new(dir, options.clone()) });
        Ok(Self { runtime, barn })
    }

    fn close(self) -> Result<(), runink_barn::BarnError> {
        let Self { runtime, barn } = self;
        runtime.block_on(barn.close())
    }
}

impl EmbeddedLedger {
    pub fn new(dir: &Path, lock_wait_ms_max: u64) -> Self {
        Self {
            dir: dir.to_owned(),
            options: BarnOptions {
                lock_wait_ms_max,
                ..BarnOptions::default()
            },
            held: Mutex::new(None),
            locks: RunLocks::new(dir.parent().unwrap_or(dir)),
        }
    }

    /// Records as failed the runs recorded running whose process is gone.
    /// Only the state in memory is looked at: the archive holds finished
    /// runs, and reading it would cost every open a pass over the history.
    async fn fail_abandoned_runs(&self, barn: &Barn) -> anyhow::Result<()> {
        let running: Vec<RunId> = barn
            .read(|state| {
                state
                    .runs()
                    .filter(|run| run.status == RunStatus::Running)
                    .map(|run| run.id)
                    .take(SWEEP_RUNS_MAX)
                    .collect()
            })
            .await?;
        for run in running {
            if self.locks.is_held(run) {
                continue;
            }
            applied(barn.write(abandoned_end(run, unix_now_ms())).await?)?;
            self.locks.release(run);
        }
        Ok(())
    }

    /// Does `work` on the held Barn, holding it first if it is not held;
    /// with `release`, closes it afterwards. The first error wins.
    fn with_held_barn<T>(
        &self,
        release: bool,
        work: impl AsyncFnOnce(&Barn) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut held = self
            .held
            .lock()
            .map_err(|_| anyhow!("the run ledger's lock was poisoned; this is a bug"))?;
        let current = match held.take() {
            Some(current) => current,
            None => Held::new(&self.dir, &self.options)?,
        };
        let result = current
            .runtime
            .block_on(current.barn.with(work))
            .with_context(|| format!("cannot write the run ledger in `{}`", self.dir.display()));
        if release || result.is_err() {
            let closed = current.close();
            let value = result?;
            closed.with_context(|| {
                format!("cannot close the run ledger in `{}`", self.dir.display())
            })?;
            return Ok(value);
        }
        *held = Some(current);
        result
    }

    /// Opens the Barn, does `work`, and closes it. The first error wins.
    fn with_barn<T>(
        &self,
        work: impl AsyncFnOnce(&Barn) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .context("cannot start the runtime for the embedded barn")?;
        runtime.block_on(async {
            let barn = Barn::open_embedded_with(&self.dir, self.options.clone())
                .await
                .with_context(|| {
                    format!("cannot open the run ledger in `{}`", self.dir.display())
                })?;
            let result = work(&barn).await;
            let closed = barn.close().await;
            let value = result?;
            closed.with_context(|| {
                format!("cannot close the run ledger in `{}`", self.dir.display())
            })?;
            Ok(value)
        })
    }

    /// Reads from the Barn if it exists; a state folder that never recorded
    /// a run reads as empty, and is not created by reading it.
    fn read<T>(
        &self,
        empty: T,
        read: impl AsyncFnOnce(&Barn) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        if !self.dir.exists() {
            return Ok(empty);
        }
        self.with_barn(async |barn| {
            self.fail_abandoned_runs(barn).await?;
            read(barn).await
        })
    }
}

impl RunLedger for EmbeddedLedger {
    fn begin(&self, start: &RunStart) -> anyhow::Result<RunId> {
        self.with_held_barn(false, async |barn| {
            self.fail_abandoned_runs(barn).await?;
            let (herd_known, scenario_known) = barn
                .read(|state| {
                    (
                        state.herd(&start.herd).is_some(),
                        state.scenario(&start.dag_hash).is_some(),
                    )
                })
                .await?;
            // On one machine a herd is created with the default policy on
            // first use (spec/dsl.md, `@herd`).
            if !herd_known {
                let put = Command::PutHerd {
                    herd: start.herd.clone(),
                    at_ms: start.at_ms,
                };
                applied(barn.write(put).await?)?;
            }
            if !scenario_known {
                let register = Command::RegisterScenario {
                    herd: start.herd.clone(),
                    name: start.scenario.clone(),
                    dag_hash: start.dag_hash.clone(),
                    at_ms: start.at_ms,
                };
                applied(barn.write(register).await?)?;
            }
            // This process runs the scenario itself: the run starts here, in
            // the same entry that submits it.
            let submit = Command::SubmitRun {
                dag_hash: start.dag_hash.clone(),
                contracts: start.contracts.clone(),
                start_on: Some(barn.node()),
                bundle: None,
                at_ms: start.at_ms,
            };
            let Applied::RunSubmitted { run } = applied(barn.write(submit).await?)? else {
                return Err(anyhow!(
                    "the barn answered a submission with another outcome; this is a bug"
                ));
            };
            // Before the folder is let go, so nobody sees the run without it.
            self.locks
                .hold(run)
                .with_context(|| format!("cannot take the lock that marks run {run} as alive"))?;
            Ok(run)
        })
    }

    fn finish(&self, run: RunId, finish: &RunFinish) -> anyhow::Result<()> {
        self.with_held_barn(true, async |barn| {
            let batch_max = barn
                .read(|state| state.limits().events_per_request_max)
                .await?;
            for command in finish.commands(run, batch_max) {
                applied(barn.write(command).await?)?;
            }
            self.locks.release(run);
            Ok(())
        })
    }
}

impl RunHistory for EmbeddedLedger {
    fn location(&self) -> String {
        // The state folder the Barn's folder is in.
        let state = self.dir.parent().unwrap_or(&self.dir);
        format!("`{}`", state.display())
    }

    fn runs(&self, filter: &RunQuery) -> anyhow::Result<Vec<Run>> {
        let filter = filter.clone();
        let limit = filter.limit;
        self.read(Vec::new(), async move |barn| {
            Ok(barn
                .runs_newest_first(move |run| filter.admits(run), limit)
                .await?)
        })
    }

    fn run(&self, id: RunId) -> anyhow::Result<Option<Run>> {
        self.read(None, async |barn| Ok(barn.run(id).await?))
    }

    fn events(&self, id: RunId) -> anyhow::Result<Option<Vec<RunEvent>>> {
        self.read(None, async |barn| Ok(barn.run_events(id).await?))
    }
}

/// The applied value, or the refusal as an error: every refusal here means
/// the record of the run could not be kept as asked.
fn applied(outcome: Outcome) -> anyhow::Result<Applied> {
    outcome.map_err(|refusal| anyhow!("the run ledger refused the record: {refusal}"))
}
