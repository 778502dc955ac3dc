//! What a run did, counted: rows in, out, rejected and filtered, per
//! source, step, sink and rule, with the asserts and dataset rules.

use std::collections::BTreeMap;

use runink_contract::Drift;
use serde::Serialize;

use crate::slice_messages::Confinement;

#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub scenario: String,
    pub dag_hash: String,
    pub dry_run: bool,
    pub rows_in: u64,
    /// Rows that left the last step (before the sinks' `when`).
    pub rows_out: u64,
    pub rows_rejected: u64,
    /// Rows a `filter` or `dedupe` dropped (not rejects).
    pub rows_dropped: u64,
    /// Rows of `rows_out` that no sink took: every sink has a `when`, and
    /// none held for them (or each was null).
    pub rows_unrouted: u64,
    pub bytes_in: u64,
    pub duration_ms: u64,
    pub sources: Vec<SourceCounts>,
    pub steps: Vec<StepCounts>,
    pub sinks: Vec<SinkCounts>,
    pub dlq: DlqCounts,
    /// Rejected rows per (step, field, rule).
    pub rejects: Vec<RuleCounts>,
    pub drift: Option<Drift>,
    /// The verdict on every dataset rule of the input and output
    /// contracts.
    pub dataset_rules: Vec<runink_contract::DatasetMeasurement>,
    pub asserts: Vec<AssertResult>,
    /// The slices of built-in steps that ran as confined processes, with
    /// what each saw of its confinement.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<SliceRun>,
}

/// A slice of built-in steps that ran as a process of its own.
#[derive(Debug, Clone, Serialize)]
pub struct SliceRun {
    pub number: usize,
    /// The numbers of its steps.
    pub steps: Vec<usize>,
    pub confinement: Confinement,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceCounts {
    pub uri: String,
    pub rows_in: u64,
    /// Bytes of text input read (CSV, JSONL; decompressed).
    pub bytes_in: u64,
    /// Records that could not be read at all (DLQ'd).
    pub rows_unreadable: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StepCounts {
    pub number: usize,
    pub label: String,
    pub rows_in: u64,
    pub rows_out: u64,
    pub rows_rejected: u64,
    /// What an `exec` step's program wrote on stderr, line by line (the
    /// run's log of it; bounded, see `exec_step.rs`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stderr: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SinkCounts {
    pub name: String,
    pub uri: String,
    pub rows_out: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DlqCounts {
    pub uri: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleCounts {
    pub step: String,
    pub field: String,
    pub rule: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssertResult {
    pub expression: String,
    pub passed: bool,
}

/// Tallies rejects as they happen; folded into the report at the end.
#[derive(Debug, Default)]
pub(crate) struct RejectTally(BTreeMap<(String, String, String), u64>);

impl RejectTally {
    pub fn add(&mut self, step: &str, field: &str, rule: &str) {
        *self
            .0
            .entry((step.to_owned(), field.to_owned(), rule.to_owned()))
            .or_default() += 1;
    }

    pub fn into_counts(self) -> Vec<RuleCounts> {
        self.counts()
    }

    /// The counts so far, per step, field and rule.
    pub fn counts(&self) -> Vec<RuleCounts> {
        self.0
            .iter()
            .map(|((step, field, rule), rows)| RuleCounts {
                step: step.clone(),
                field: field.clone(),
                rule: rule.clone(),
                rows: *rows,
            })
            .collect()
    }
}
