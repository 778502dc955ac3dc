//! A run's record: its status and the transitions allowed between them,
//! its counts, and its events.

use std::fmt;

use runink_model::{DagHash, HerdName, Sha256Hex};
use serde::{Deserialize, Serialize};

use crate::ids::{NodeId, RunId};

/// Where a run is in its life. Terminal statuses never change again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// The transitions of a run: `Pending → Running → Succeeded | Failed`,
    /// and `Pending → Cancelled`. A started run cannot be cancelled: no
    /// agent can stop one part-way, so it would end with its outputs
    /// written under a record that says it was cancelled.
    pub fn can_become(self, next: RunStatus) -> bool {
        matches!(
            (self, next),
            (Self::Pending, Self::Running | Self::Cancelled)
                | (Self::Running, Self::Succeeded | Self::Failed)
        )
    }

    /// The status named `name` (as [`as_str`](Self::as_str) spells it).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Running,
            Self::Succeeded,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a run ended; only terminal statuses can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunEnd {
    Succeeded,
    Failed,
    Cancelled,
}

impl From<RunEnd> for RunStatus {
    fn from(end: RunEnd) -> Self {
        match end {
            RunEnd::Succeeded => Self::Succeeded,
            RunEnd::Failed => Self::Failed,
            RunEnd::Cancelled => Self::Cancelled,
        }
    }
}

/// Rows through a run, as its agent reports them when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub rows_in: u64,
    pub rows_out: u64,
    /// Rows routed to the dead-letter queue.
    pub rows_rejected: u64,
    /// Rows a step dropped on purpose (a filter, a dedupe): not rejects.
    pub rows_dropped: u64,
}

/// What a contract was to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContractRole {
    /// Rows were checked against it as they were read.
    Input,
    /// Rows were checked against it before they reached a sink.
    Output,
}

/// A contract a run checked rows against, by its canonical hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractUse {
    pub role: ContractRole,
    /// As the scenario names it.
    pub path: String,
    pub hash: Sha256Hex,
}

/// Rows at one place of a run: a source or a step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceCount {
    /// A source's URI, or a step's number and label.
    pub name: String,
    pub rows_in: u64,
    pub rows_out: u64,
    pub rows_rejected: u64,
}

/// Rows rejected for one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    /// Where the rule was checked (`input`, `output`, or a step).
    pub step: String,
    /// The column, or empty for a rule about the whole row.
    pub field: String,
    pub rule: String,
    pub rows: u64,
}

/// What a run's output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    Sink,
    Dlq,
}

/// One thing a run wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOutput {
    pub kind: OutputKind,
    pub name: String,
    pub uri: String,
    pub rows: u64,
}

/// Where a run's rows went, place by place, as its agent reports them when
/// it ends. Each list is kept up to `detail_entries_max` entries, and each
/// text up to `label_bytes_max` bytes; what is left out is counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDetail {
    pub sources: Vec<PlaceCount>,
    pub steps: Vec<PlaceCount>,
    pub rules: Vec<RuleCount>,
    pub outputs: Vec<RunOutput>,
    /// Entries past the bound, counted but not kept.
    pub entries_dropped: u64,
}

/// What the Barn knows about one run (its events are kept apart, see
/// [`crate::BarnState::run_events`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub id: RunId,
    pub herd: HerdName,
    pub scenario: String,
    pub version: u32,
    pub dag_hash: DagHash,
    /// The contracts the run checked rows against.
    pub contracts: Vec<ContractUse>,
    pub status: RunStatus,
    /// The node the run is placed on, then runs on.
    pub node: Option<NodeId>,
    pub submitted_at_ms: u64,
    /// When the leader placed it (a run its submitter runs is never placed).
    #[serde(default)]
    pub placed_at_ms: Option<u64>,
    pub started_at_ms: Option<u64>,
    pub finished_at_ms: Option<u64>,
    pub counts: RunCounts,
    pub detail: RunDetail,
    /// One paragraph for humans: what happened, or why the run failed.
    pub summary: String,
    /// Events received, kept or not.
    pub events_total: u64,
    /// Events received past the run's event bound, counted but not kept.
    pub events_dropped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// One log line or event of a run, numbered from 1 in arrival order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEvent {
    pub seq: u64,
    pub at_ms: u64,
    pub level: EventLevel,
    pub message: String,
    /// The message was longer than the bound and was cut.
    pub truncated: bool,
}

/// How many runs are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTotals {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
}

impl RunTotals {
    pub(crate) fn add(&mut self, status: RunStatus) {
        let slot = match status {
            RunStatus::Pending => &mut self.pending,
            RunStatus::Running => &mut self.running,
            RunStatus::Succeeded => &mut self.succeeded,
            RunStatus::Failed => &mut self.failed,
            RunStatus::Cancelled => &mut self.cancelled,
        };
        *slot += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::RunStatus::*;

    #[test]
    fn only_the_documented_transitions_are_allowed() {
        let all = [Pending, Running, Succeeded, Failed, Cancelled];
        let mut allowed = Vec::new();
        for from in all {
            for to in all {
                if from.can_become(to) {
                    allowed.push((from, to));
                }
            }
        }
        assert_eq!(
            allowed,
            [
                (Pending, Running),
                (Pending, Cancelled),
                (Running, Succeeded),
                (Running, Failed),
            ]
        );
    }
}
