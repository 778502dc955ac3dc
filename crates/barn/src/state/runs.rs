//! Run commands: submit, place, start, record events, finish. Each checks the
//! run's status transition first and refuses, changing nothing, when the
//! transition is not allowed.

use runink_model::DagHash;

use super::BarnState;
use super::bundle::ScenarioBundle;
use super::limits::{StateLimits, truncate_utf8};
use super::run::{
    ContractUse, PlaceCount, RuleCount, Run, RunCounts, RunDetail, RunEnd, RunEvent, RunOutput,
    RunStatus,
};
use crate::command::NewRunEvent;
use crate::ids::{NodeId, RunId};
use crate::outcome::{Applied, Outcome, Refusal};

impl BarnState {
    pub(super) fn submit_run(&mut self, dag_hash: &DagHash, submit: Submit) -> Outcome {
        let Submit {
            contracts,
            start_on,
            bundle,
            at_ms,
        } = submit;
        let Some(scenario) = self.scenarios.get(dag_hash) else {
            return Err(Refusal::UnknownScenario {
                dag_hash: dag_hash.clone(),
            });
        };
        check_contracts(&contracts, &self.limits)?;
        if let Some(bundle) = &bundle
            && bundle.text_bytes() > self.limits.bundle_bytes_max
        {
            return Err(Refusal::TooLong {
                what: "the scenario bundle (the scenario and the files it reads)".into(),
                len: bundle.text_bytes(),
                max: self.limits.bundle_bytes_max,
            });
        }
        if let Some(node) = start_on
            && !self.nodes.contains_key(&node)
        {
            return Err(Refusal::UnknownNode { node });
        }
        let scenario = scenario.clone();
        self.make_room_for_a_run()?;
        let id = RunId(self.next_run);
        self.next_run += 1;
        let run = Run {
            id,
            herd: scenario.herd,
            scenario: scenario.name,
            version: scenario.version,
            dag_hash: scenario.dag_hash,
            contracts,
            status: RunStatus::Pending,
            node: None,
            submitted_at_ms: at_ms,
            placed_at_ms: None,
            started_at_ms: None,
            finished_at_ms: None,
            counts: RunCounts::default(),
            detail: RunDetail::default(),
            summary: String::new(),
            events_total: 0,
            events_dropped: 0,
        };
        self.runs.insert(id, run);
        if let Some(bundle) = bundle {
            self.run_bundles.insert(id, bundle);
        }
        if let Some(node) = start_on {
            self.start_run(id, node, at_ms)
                .expect("a new run is pending on a known node, so it can start");
        }
        Ok(Applied::RunSubmitted { run: id })
    }

    pub(super) fn place_run(&mut self, id: RunId, node: NodeId, at_ms: u64) -> Outcome {
        let Some(target) = self.nodes.get(&node) else {
            return Err(Refusal::UnknownNode { node });
        };
        if !target.agent {
            return Err(Refusal::NoAgent { node });
        }
        let Some(run) = self.runs.get_mut(&id) else {
            return Err(self.refuse_absent(id, RunStatus::Pending));
        };
        if run.status != RunStatus::Pending {
            return Err(Refusal::IllegalTransition {
                run: id,
                from: run.status,
                to: RunStatus::Pending,
            });
        }
        if !self.run_bundles.contains_key(&id) {
            return Err(Refusal::NoBundle { run: id });
        }
        run.node = Some(node);
        run.placed_at_ms = Some(at_ms);
        Ok(Applied::RunPlaced { run: id, node })
    }

    pub(super) fn start_run(&mut self, id: RunId, node: NodeId, at_ms: u64) -> Outcome {
        if !self.nodes.contains_key(&node) {
            return Err(Refusal::UnknownNode { node });
        }
        let placed = match self.runs.get(&id) {
            Some(run) => run.node,
            None => self.archived_mark(id).and_then(|mark| mark.node),
        };
        if let Some(placed) = placed
            && placed != node
        {
            return Err(Refusal::PlacedElsewhere {
                run: id,
                node: placed,
            });
        }
        let run = self.transition(id, RunStatus::Running)?;
        run.node = Some(node);
        run.started_at_ms = Some(at_ms);
        Ok(Applied::RunStarted { run: id })
    }

    pub(super) fn finish_run(&mut self, id: RunId, finish: Finish) -> Outcome {
        let limits = self.limits.clone();
        let status = RunStatus::from(finish.end);
        // Check everything before changing anything: a refusal changes nothing.
        if finish.events.len() > limits.events_per_request_max {
            return Err(Refusal::TooManyEvents {
                count: finish.events.len(),
                max: limits.events_per_request_max,
            });
        }
        let Some(run) = self.runs.get(&id) else {
            return Err(self.refuse_absent(id, status));
        };
        if !run.status.can_become(status) {
            return Err(Refusal::IllegalTransition {
                run: id,
                from: run.status,
                to: status,
            });
        }
        if !finish.events.is_empty() {
            self.append_run_events(id, finish.events)?;
        }
        self.run_bundles.remove(&id);
        let run = self.transition(id, status)?;
        run.finished_at_ms = Some(finish.at_ms);
        run.counts = finish.counts;
        run.detail = bound_detail(finish.detail, &limits);
        run.summary = truncate_utf8(finish.summary, limits.summary_bytes_max).0;
        Ok(Applied::RunFinished { run: id, status })
    }

    /// Keeps the number of runs under `runs_kept_max` by forgetting the
    /// oldest finished runs; refuses when every kept run is unfinished.
    fn make_room_for_a_run(&mut self) -> Result<(), Refusal> {
        let max = self.limits.runs_kept_max;
        while self.runs.len() + self.archived.len() >= max {
            let in_memory = self
                .runs
                .values()
                .find(|run| run.status.is_terminal())
                .map(|run| run.id);
            let archived = self.archived.keys().next().copied();
            let oldest_finished = match (in_memory, archived) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let Some(oldest) = oldest_finished else {
                return Err(Refusal::TooManyRuns { max });
            };
            if self.archived.remove(&oldest).is_some() {
                self.archive_deletes.insert(oldest);
            } else {
                self.runs.remove(&oldest);
                self.run_events.remove(&oldest);
                self.run_bundles.remove(&oldest);
            }
        }
        Ok(())
    }

    pub(super) fn append_run_events(&mut self, id: RunId, events: Vec<NewRunEvent>) -> Outcome {
        let limits = &self.limits;
        if events.len() > limits.events_per_request_max {
            return Err(Refusal::TooManyEvents {
                count: events.len(),
                max: limits.events_per_request_max,
            });
        }
        let Some(run) = self.runs.get_mut(&id) else {
            return Err(match self.archived.get(&id) {
                Some(mark) => Refusal::RunFinished {
                    run: id,
                    status: mark.status,
                },
                None => Refusal::UnknownRun { run: id },
            });
        };
        if run.status.is_terminal() {
            return Err(Refusal::RunFinished {
                run: id,
                status: run.status,
            });
        }
        let kept_events = self.run_events.entry(id).or_default();
        let room = limits.run_events_max.saturating_sub(kept_events.len());
        let kept = events.len().min(room);
        let dropped = events.len() - kept;
        for event in events.into_iter().take(kept) {
            run.events_total += 1;
            let (message, truncated) = truncate_utf8(event.message, limits.event_message_bytes_max);
            kept_events.push(RunEvent {
                seq: run.events_total,
                at_ms: event.at_ms,
                level: event.level,
                message,
                truncated,
            });
        }
        run.events_total += dropped as u64;
        run.events_dropped += dropped as u64;
        Ok(Applied::RunEventsAppended {
            run: id,
            kept: u32::try_from(kept).unwrap_or(u32::MAX),
            dropped: u32::try_from(dropped).unwrap_or(u32::MAX),
        })
    }

    /// Moves run `id` to `next` if its status allows, and hands it back for
    /// the caller to fill in.
    fn transition(&mut self, id: RunId, next: RunStatus) -> Result<&mut Run, Refusal> {
        let refusal = self.refuse_absent(id, next);
        let Some(run) = self.runs.get_mut(&id) else {
            return Err(refusal);
        };
        if !run.status.can_become(next) {
            return Err(Refusal::IllegalTransition {
                run: id,
                from: run.status,
                to: next,
            });
        }
        run.status = next;
        Ok(run)
    }

    /// The refusal of a move to `next` for a run not held in memory: an
    /// archived run is refused as it was before it left (a finished run
    /// cannot move), any other is unknown.
    fn refuse_absent(&self, id: RunId, next: RunStatus) -> Refusal {
        match self.archived.get(&id) {
            Some(mark) => Refusal::IllegalTransition {
                run: id,
                from: mark.status,
                to: next,
            },
            None => Refusal::UnknownRun { run: id },
        }
    }
}

/// A run as `SubmitRun` carries it.
#[derive(Debug)]
pub(super) struct Submit {
    pub contracts: Vec<ContractUse>,
    pub start_on: Option<NodeId>,
    pub bundle: Option<ScenarioBundle>,
    pub at_ms: u64,
}

/// The end of a run, as `FinishRun` carries it.
#[derive(Debug)]
pub(super) struct Finish {
    pub end: RunEnd,
    pub counts: RunCounts,
    pub detail: RunDetail,
    pub summary: String,
    pub events: Vec<NewRunEvent>,
    pub at_ms: u64,
}

fn check_contracts(contracts: &[ContractUse], limits: &StateLimits) -> Result<(), Refusal> {
    if contracts.len() > limits.contracts_per_run_max {
        return Err(Refusal::TooManyContracts {
            count: contracts.len(),
            max: limits.contracts_per_run_max,
        });
    }
    for contract in contracts {
        if contract.path.len() > limits.label_bytes_max {
            return Err(Refusal::TooLong {
                what: "contract path".into(),
                len: contract.path.len(),
                max: limits.label_bytes_max,
            });
        }
    }
    Ok(())
}

/// Cuts each list of `detail` to `detail_entries_max` entries and each text
/// to `label_bytes_max` bytes, counting the entries left out.
fn bound_detail(detail: RunDetail, limits: &StateLimits) -> RunDetail {
    let cut = |text: String| truncate_utf8(text, limits.label_bytes_max).0;
    let mut dropped = detail.entries_dropped;
    let mut bounded = |len: usize| {
        dropped += len.saturating_sub(limits.detail_entries_max) as u64;
        limits.detail_entries_max
    };
    let place = |count: PlaceCount| PlaceCount {
        name: cut(count.name),
        ..count
    };
    let rule = |rule: RuleCount| RuleCount {
        step: cut(rule.step),
        field: cut(rule.field),
        rule: cut(rule.rule),
        ..rule
    };
    let output = |output: RunOutput| RunOutput {
        name: cut(output.name),
        uri: cut(output.uri),
        ..output
    };
    let sources_kept = bounded(detail.sources.len());
    let steps_kept = bounded(detail.steps.len());
    let rules_kept = bounded(detail.rules.len());
    let outputs_kept = bounded(detail.outputs.len());
    RunDetail {
        sources: detail
            .sources
            .into_iter()
            .take(sources_kept)
            .map(place)
            .collect(),
        steps: detail
            .steps
            .into_iter()
            .take(steps_kept)
            .map(place)
            .collect(),
        rules: detail
            .rules
            .into_iter()
            .take(rules_kept)
            .map(rule)
            .collect(),
        outputs: detail
            .outputs
            .into_iter()
            .take(outputs_kept)
            .map(output)
            .collect(),
        entries_dropped: dropped,
    }
}
