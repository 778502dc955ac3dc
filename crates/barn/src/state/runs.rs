//! Run commands: submit, start, record events, finish. Each checks the
//! run's status transition first and refuses, changing nothing, when the
//! transition is not allowed.

use runink_model::DagHash;

use super::BarnState;
use super::limits::truncate_utf8;
use super::run::{Run, RunCounts, RunEnd, RunEvent, RunStatus};
use crate::command::NewRunEvent;
use crate::ids::{NodeId, RunId};
use crate::outcome::{Applied, Outcome, Refusal};

impl BarnState {
    pub(super) fn submit_run(&mut self, dag_hash: &DagHash, at_ms: u64) -> Outcome {
        let Some(scenario) = self.scenarios.get(dag_hash) else {
            return Err(Refusal::UnknownScenario {
                dag_hash: dag_hash.clone(),
            });
        };
        let id = RunId(self.next_run);
        self.next_run += 1;
        let run = Run {
            id,
            herd: scenario.herd.clone(),
            scenario: scenario.name.clone(),
            version: scenario.version,
            dag_hash: scenario.dag_hash.clone(),
            status: RunStatus::Pending,
            node: None,
            submitted_at_ms: at_ms,
            started_at_ms: None,
            finished_at_ms: None,
            counts: RunCounts::default(),
            summary: String::new(),
            events_total: 0,
            events_dropped: 0,
        };
        self.runs.insert(id, run);
        Ok(Applied::RunSubmitted { run: id })
    }

    pub(super) fn start_run(&mut self, id: RunId, node: NodeId, at_ms: u64) -> Outcome {
        if !self.nodes.contains_key(&node) {
            return Err(Refusal::UnknownNode { node });
        }
        let run = self.transition(id, RunStatus::Running)?;
        run.node = Some(node);
        run.started_at_ms = Some(at_ms);
        Ok(Applied::RunStarted { run: id })
    }

    pub(super) fn finish_run(
        &mut self,
        id: RunId,
        end: RunEnd,
        counts: RunCounts,
        summary: String,
        at_ms: u64,
    ) -> Outcome {
        let summary_bytes_max = self.limits.summary_bytes_max;
        let status = RunStatus::from(end);
        let run = self.transition(id, status)?;
        run.finished_at_ms = Some(at_ms);
        run.counts = counts;
        run.summary = truncate_utf8(summary, summary_bytes_max).0;
        Ok(Applied::RunFinished { run: id, status })
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
            return Err(Refusal::UnknownRun { run: id });
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
        let Some(run) = self.runs.get_mut(&id) else {
            return Err(Refusal::UnknownRun { run: id });
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
}
