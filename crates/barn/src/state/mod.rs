//! The Barn's state machine: [`BarnState`] and its pure, deterministic
//! [`apply`](BarnState::apply). No IO and no clock: the same requests in the
//! same order give the same state and outcomes on every replica, which is
//! what Raft replication relies on. Each kind of record has its own file:
//! `catalog.rs` (herds, scenarios, contracts), `nodes.rs`, `runs.rs`
//! (with `bundle.rs`, what a run submitted to a cluster brings), and
//! `archive.rs` (finished runs moved out of memory).

mod archive;
mod bundle;
mod catalog;
mod limits;
mod nodes;
mod run;
mod runs;
mod sessions;

use std::collections::{BTreeMap, BTreeSet};

use runink_model::{DagHash, HerdName, Sha256Hex};
use serde::{Deserialize, Serialize};

use archive::ArchivedRunMark;
pub(crate) use archive::{ArchiveBatch, ArchivedRun};
pub use bundle::{RunSettings, ScenarioBundle};
pub use catalog::{ContractVersion, Herd, ScenarioVersion};
pub use limits::StateLimits;
pub use nodes::Node;
pub use run::{
    ContractRole, ContractUse, EventLevel, OutputKind, PlaceCount, RuleCount, Run, RunCounts,
    RunDetail, RunEnd, RunEvent, RunOutput, RunStatus, RunTotals,
};

use crate::command::{Command, Request};
use crate::ids::{NodeId, RunId};
use crate::outcome::{Outcome, Refusal};
use sessions::{CommandDigest, Seen, Sessions};

/// Everything the Barn records, but the records of archived runs
/// (`archive.rs`). Serialized whole (as JSON) into snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarnState {
    limits: StateLimits,
    herds: BTreeMap<HerdName, Herd>,
    scenarios: BTreeMap<DagHash, ScenarioVersion>,
    contracts: BTreeMap<Sha256Hex, ContractVersion>,
    nodes: BTreeMap<NodeId, Node>,
    /// Unfinished runs, and finished runs not archived yet.
    runs: BTreeMap<RunId, Run>,
    run_events: BTreeMap<RunId, Vec<RunEvent>>,
    /// Runs whose records are in the archive.
    #[serde(default)]
    archived: BTreeMap<RunId, ArchivedRunMark>,
    /// Archived runs forgotten since the last snapshot, whose records the
    /// next snapshot deletes.
    #[serde(default)]
    archive_deletes: BTreeSet<RunId>,
    /// The bundles of unfinished runs that an agent runs.
    #[serde(default)]
    run_bundles: BTreeMap<RunId, ScenarioBundle>,
    /// The id the next submitted run gets.
    next_run: u64,
    sessions: Sessions,
}

impl Default for BarnState {
    fn default() -> Self {
        Self::new(StateLimits::default())
    }
}

impl BarnState {
    /// An empty Barn holding only the `default` herd, which scenarios that
    /// name no herd run in.
    pub fn new(limits: StateLimits) -> Self {
        let default = HerdName::default_herd();
        let herds = BTreeMap::from([(default.clone(), Herd::new(default, 0))]);
        Self {
            limits,
            herds,
            scenarios: BTreeMap::new(),
            contracts: BTreeMap::new(),
            nodes: BTreeMap::new(),
            runs: BTreeMap::new(),
            run_events: BTreeMap::new(),
            archived: BTreeMap::new(),
            archive_deletes: BTreeSet::new(),
            run_bundles: BTreeMap::new(),
            next_run: 1,
            sessions: Sessions::default(),
        }
    }

    /// Applies one request. A request already applied (the client's last
    /// one, retried) gets its first outcome again and changes nothing.
    pub fn apply(&mut self, request: Request) -> Outcome {
        let digest = CommandDigest::of(&request.command);
        match self.sessions.check(request.id, &digest) {
            Seen::New => {}
            Seen::Retry(outcome) => return outcome.clone(),
            Seen::Reused => {
                return Err(Refusal::RequestIdReused {
                    request: request.id,
                });
            }
            Seen::Stale { last_seq } => {
                return Err(Refusal::StaleRequest {
                    request: request.id,
                    last_seq,
                });
            }
        }
        let outcome = self.execute(request.command);
        self.sessions.record(
            request.id,
            digest,
            outcome.clone(),
            self.limits.clients_tracked_max,
        );
        outcome
    }

    fn execute(&mut self, command: Command) -> Outcome {
        match command {
            Command::PutHerd { herd, at_ms } => Ok(self.put_herd(herd, at_ms)),
            Command::RegisterScenario {
                herd,
                name,
                dag_hash,
                at_ms,
            } => self.register_scenario(herd, name, dag_hash, at_ms),
            Command::RegisterContract {
                name,
                version,
                hash,
                at_ms,
            } => self.register_contract(name, version, hash, at_ms),
            Command::RegisterNode {
                node,
                addr,
                agent,
                at_ms,
            } => self.register_node(node, addr, agent, at_ms),
            Command::RemoveNode { node } => Ok(self.remove_node(node)),
            Command::SubmitRun {
                dag_hash,
                contracts,
                start_on,
                bundle,
                at_ms,
            } => {
                let submit = runs::Submit {
                    contracts,
                    start_on,
                    bundle,
                    at_ms,
                };
                self.submit_run(&dag_hash, submit)
            }
            Command::PlaceRun { run, node, at_ms } => self.place_run(run, node, at_ms),
            Command::StartRun { run, node, at_ms } => self.start_run(run, node, at_ms),
            Command::AppendRunEvents { run, events } => self.append_run_events(run, events),
            Command::FinishRun {
                run,
                end,
                counts,
                detail,
                summary,
                events,
                at_ms,
            } => {
                let finish = runs::Finish {
                    end,
                    counts,
                    detail,
                    summary,
                    events,
                    at_ms,
                };
                self.finish_run(run, finish)
            }
        }
    }

    pub fn limits(&self) -> &StateLimits {
        &self.limits
    }

    pub fn herds(&self) -> impl Iterator<Item = &Herd> {
        self.herds.values()
    }

    pub fn herd(&self, name: &HerdName) -> Option<&Herd> {
        self.herds.get(name)
    }

    pub fn scenario(&self, dag_hash: &DagHash) -> Option<&ScenarioVersion> {
        self.scenarios.get(dag_hash)
    }

    pub fn contract(&self, hash: &Sha256Hex) -> Option<&ContractVersion> {
        self.contracts.get(hash)
    }

    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// The runs held in memory (unfinished, and finished but not archived
    /// yet) in the order they were submitted. Every run, archived or not:
    /// `Barn::runs_newest_first`.
    pub fn runs(&self) -> impl DoubleEndedIterator<Item = &Run> {
        self.runs.values()
    }

    /// A run held in memory; `None` for an archived run or an unknown one.
    pub fn run(&self, id: RunId) -> Option<&Run> {
        self.runs.get(&id)
    }

    /// The bundle of an unfinished run that an agent runs.
    pub fn run_bundle(&self, id: RunId) -> Option<&ScenarioBundle> {
        self.run_bundles.get(&id)
    }

    /// A run's kept events in arrival order, for a run held in memory;
    /// `None` otherwise.
    pub fn run_events(&self, id: RunId) -> Option<&[RunEvent]> {
        self.runs.get(&id)?;
        Some(self.run_events.get(&id).map_or(&[], Vec::as_slice))
    }

    pub fn run_totals(&self) -> RunTotals {
        let mut totals = RunTotals::default();
        for run in self.runs.values() {
            totals.add(run.status);
        }
        for mark in self.archived.values() {
            totals.add(mark.status);
        }
        totals
    }

    /// Refuses an empty or over-long name.
    fn check_name(&self, what: &str, value: &str) -> Result<(), Refusal> {
        if value.is_empty() {
            return Err(Refusal::Empty { what: what.into() });
        }
        if value.len() > self.limits.name_bytes_max {
            return Err(Refusal::TooLong {
                what: what.into(),
                len: value.len(),
                max: self.limits.name_bytes_max,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
