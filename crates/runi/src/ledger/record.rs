//! What a run's record says, decided from the plan (at the start) and the
//! engine's report (at the end): the counts, the detail per source, step,
//! rule and output, a summary, and the run's log lines. Pure: data in,
//! data out, so each line of the log is tested without running anything.

use std::error::Error;
use std::fmt::Write;

use runink_barn::{
    Command, ContractUse, EventLevel, NewRunEvent, OutputKind, PlaceCount, RuleCount, RunCounts,
    RunDetail, RunEnd, RunId, RunOutput,
};
use runink_engine::RunReport;
use runink_model::{DagHash, HerdName};
use runink_plan::Plan;

use super::contracts_of;

/// A run as it starts: what it runs, from where, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    pub herd: HerdName,
    pub scenario: String,
    pub dag_hash: DagHash,
    pub contracts: Vec<ContractUse>,
    /// The `.dsl` file, as the user named it.
    pub file: String,
    /// Steps run in slices; false only for an explicit `--isolation none`.
    pub isolated: bool,
    pub at_ms: u64,
}

impl RunStart {
    pub fn of(plan: &Plan, file: &str, isolated: bool, at_ms: u64) -> Self {
        Self {
            herd: plan.herd.clone(),
            scenario: plan.scenario.clone(),
            dag_hash: plan.dag_hash.clone(),
            contracts: contracts_of(plan),
            file: file.to_owned(),
            isolated,
            at_ms,
        }
    }
}

/// A run as it ends: everything its record gets at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFinish {
    pub end: RunEnd,
    pub counts: RunCounts,
    pub detail: RunDetail,
    /// What happened, in one line; for a failed run, the reason.
    pub summary: String,
    /// The run's log, oldest first.
    pub events: Vec<NewRunEvent>,
    pub at_ms: u64,
}

impl RunFinish {
    /// The writes that record this end of `run`, in order: the earlier log
    /// lines in batches of `events_per_request_max`, then `FinishRun` with
    /// the last batch, so that a short log ends the run in one entry.
    pub fn commands(&self, run: RunId, events_per_request_max: usize) -> Vec<Command> {
        let batch_max = events_per_request_max.max(1);
        let last_batch_start = self.events.len().saturating_sub(batch_max);
        let (earlier, last) = self.events.split_at(last_batch_start);
        let mut commands: Vec<Command> = earlier
            .chunks(batch_max)
            .map(|batch| Command::AppendRunEvents {
                run,
                events: batch.to_vec(),
            })
            .collect();
        commands.push(Command::FinishRun {
            run,
            end: self.end,
            counts: self.counts,
            detail: self.detail.clone(),
            summary: self.summary.clone(),
            events: last.to_vec(),
            at_ms: self.at_ms,
        });
        commands
    }

    /// The end of a run from the engine's report; `error` is why it
    /// failed, if it did.
    pub fn from_report(
        start: &RunStart,
        report: &RunReport,
        error: Option<&(dyn Error + 'static)>,
        at_ms: u64,
    ) -> Self {
        let reason = error.map(error_chain);
        let summary = match &reason {
            Some(reason) => reason.clone(),
            None => format!(
                "read {} rows, wrote {}, rejected {}, dropped {} in {} ms",
                report.rows_in,
                report.rows_out,
                report.rows_rejected,
                report.rows_dropped,
                report.duration_ms
            ),
        };
        Self {
            end: if error.is_some() {
                RunEnd::Failed
            } else {
                RunEnd::Succeeded
            },
            counts: RunCounts {
                rows_in: report.rows_in,
                rows_out: report.rows_out,
                rows_rejected: report.rows_rejected,
                rows_dropped: report.rows_dropped,
            },
            detail: detail(report),
            events: log_lines(start, report, reason.as_deref(), at_ms),
            summary,
            at_ms,
        }
    }

    /// A run that failed before it read anything, for `reason`, which is
    /// also its one log line.
    pub fn failed(reason: String, at_ms: u64) -> Self {
        Self {
            end: RunEnd::Failed,
            counts: RunCounts::default(),
            detail: RunDetail::default(),
            events: vec![NewRunEvent {
                at_ms,
                level: EventLevel::Error,
                message: reason.clone(),
            }],
            summary: reason,
            at_ms,
        }
    }
}

/// One slice of built-in steps and the confinement it reported from inside,
/// so that the run's log shows what the steps ran under.
fn slice_line(slice: &runink_engine::SliceRun) -> String {
    let steps: Vec<String> = slice.steps.iter().map(ToString::to_string).collect();
    let shown = |value: Option<String>| value.unwrap_or_else(|| "unknown".into());
    let confinement = &slice.confinement;
    format!(
        "slice {} (steps {}) ran confined: NoNewPrivs {}, Seccomp {}, CapEff {}",
        slice.number,
        steps.join(", "),
        shown(confinement.no_new_privs.map(|v| v.to_string())),
        shown(confinement.seccomp.map(|v| v.to_string())),
        shown(confinement.cap_eff.clone()),
    )
}

/// `what: cause: cause`, the way errors chain into logs.
fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

fn detail(report: &RunReport) -> RunDetail {
    let sources = report
        .sources
        .iter()
        .map(|source| PlaceCount {
            name: source.uri.clone(),
            rows_in: source.rows_in,
            rows_out: source.rows_in.saturating_sub(source.rows_unreadable),
            rows_rejected: source.rows_unreadable,
        })
        .collect();
    let steps = report
        .steps
        .iter()
        .map(|step| PlaceCount {
            name: format!("{} {}", step.number, step.label),
            rows_in: step.rows_in,
            rows_out: step.rows_out,
            rows_rejected: step.rows_rejected,
        })
        .collect();
    let rules = report
        .rejects
        .iter()
        .map(|rule| RuleCount {
            step: rule.step.clone(),
            field: rule.field.clone(),
            rule: rule.rule.clone(),
            rows: rule.rows,
        })
        .collect();
    let sinks = report.sinks.iter().map(|sink| RunOutput {
        kind: OutputKind::Sink,
        name: sink.name.clone(),
        uri: sink.uri.clone(),
        rows: sink.rows_out,
    });
    // A run that failed before it opened its DLQ has none to name.
    let dlq = (!report.dlq.uri.is_empty()).then(|| RunOutput {
        kind: OutputKind::Dlq,
        name: "dlq".into(),
        uri: report.dlq.uri.clone(),
        rows: report.dlq.rows,
    });
    RunDetail {
        sources,
        steps,
        rules,
        outputs: sinks.chain(dlq).collect(),
        entries_dropped: 0,
    }
}

/// The run's log: how it started, what each place did, what it checked,
/// what it wrote, and how it ended.
fn log_lines(
    start: &RunStart,
    report: &RunReport,
    failure: Option<&str>,
    at_ms: u64,
) -> Vec<NewRunEvent> {
    let mut log = Log::default();
    log.at(start.at_ms).info(format!(
        "started `{}` from `{}` in herd `{}` (dag_hash {}) by pid {}",
        start.scenario,
        start.file,
        start.herd,
        start.dag_hash,
        std::process::id()
    ));
    for contract in &start.contracts {
        log.info(format!(
            "{} contract `{}` ({})",
            match contract.role {
                runink_barn::ContractRole::Input => "input",
                runink_barn::ContractRole::Output => "output",
            },
            contract.path,
            contract.hash
        ));
    }
    if !start.isolated {
        log.warn(
            "isolation was off (`--isolation none`): steps ran unconfined, built-in ones in the runi process"
                .to_owned(),
        );
    }
    log.at(at_ms);
    for source in &report.sources {
        log.info(format!("read {} rows from {}", source.rows_in, source.uri));
        if source.rows_unreadable > 0 {
            log.warn(format!(
                "{} records of {} could not be read; they went to the DLQ",
                source.rows_unreadable, source.uri
            ));
        }
    }
    if let Some(drift) = &report.drift {
        log.warn(format!(
            "schema drift: extra columns {:?}, missing {:?}, retyped {:?}",
            drift.extra, drift.missing, drift.retyped
        ));
    }
    for step in &report.steps {
        log.info(format!(
            "step {} {}: {} rows in, {} out, {} rejected",
            step.number, step.label, step.rows_in, step.rows_out, step.rows_rejected
        ));
    }
    for slice in &report.slices {
        log.info(slice_line(slice));
    }
    for rule in &report.rejects {
        let field = if rule.field.is_empty() {
            String::new()
        } else {
            format!(" on `{}`", rule.field)
        };
        log.warn(format!(
            "rejected {} rows at {}{field}: {}",
            rule.rows, rule.step, rule.rule
        ));
    }
    for rule in &report.dataset_rules {
        let column = rule
            .column
            .as_ref()
            .map(|c| format!(" on `{c}`"))
            .unwrap_or_default();
        let message = format!(
            "dataset rule {}{column}: measured {}, expected {}: {}",
            rule.name,
            rule.measured,
            rule.expectation,
            if rule.passed { "passed" } else { "failed" }
        );
        if rule.passed {
            log.info(message);
        } else {
            log.warn(message);
        }
    }
    for assert in &report.asserts {
        if assert.passed {
            log.info(format!("assert `{}` passed", assert.expression));
        } else {
            log.error(format!("assert `{}` failed", assert.expression));
        }
    }
    if failure.is_none() {
        for sink in &report.sinks {
            log.info(format!(
                "wrote {} rows to {} ({})",
                sink.rows_out, sink.name, sink.uri
            ));
        }
        if !report.dlq.uri.is_empty() {
            log.info(format!(
                "wrote {} rejected rows to {}",
                report.dlq.rows, report.dlq.uri
            ));
        }
    }
    match failure {
        Some(reason) => log.error(format!("failed, nothing was written: {reason}")),
        None => log.info(format!("succeeded in {} ms", report.duration_ms)),
    }
    log.lines
}

/// Collects log lines, each stamped with the time last set.
#[derive(Default)]
struct Log {
    at_ms: u64,
    lines: Vec<NewRunEvent>,
}

impl Log {
    fn at(&mut self, at_ms: u64) -> &mut Self {
        self.at_ms = at_ms;
        self
    }

    fn push(&mut self, level: EventLevel, message: String) {
        self.lines.push(NewRunEvent {
            at_ms: self.at_ms,
            level,
            message,
        });
    }

    fn info(&mut self, message: String) {
        self.push(EventLevel::Info, message);
    }

    fn warn(&mut self, message: String) {
        self.push(EventLevel::Warn, message);
    }

    fn error(&mut self, message: String) {
        self.push(EventLevel::Error, message);
    }
}

#[cfg(test)]
mod tests {
    use runink_barn::ContractRole;
    use runink_engine::{
        AssertResult, DlqCounts, RuleCounts, SinkCounts, SourceCounts, StepCounts,
    };
    use runink_model::Sha256Hex;

    use super::*;

    fn start() -> RunStart {
        RunStart {
            herd: HerdName::default_herd(),
            scenario: "orders".into(),
            dag_hash: DagHash(Sha256Hex::from_digest(&[1; 32])),
            contracts: vec![ContractUse {
                role: ContractRole::Input,
                path: "contracts/orders.yaml".into(),
                hash: Sha256Hex::from_digest(&[2; 32]),
            }],
            file: "orders.dsl".into(),
            isolated: true,
            at_ms: 1_000,
        }
    }

    fn report() -> RunReport {
        RunReport {
            rows_in: 10,
            rows_out: 7,
            rows_rejected: 2,
            rows_dropped: 1,
            duration_ms: 12,
            sources: vec![SourceCounts {
                uri: "csv://data/orders.csv".into(),
                rows_in: 10,
                bytes_in: 512,
                rows_unreadable: 0,
            }],
            steps: vec![StepCounts {
                number: 1,
                label: "filter amount > 0".into(),
                rows_in: 8,
                rows_out: 7,
                rows_rejected: 0,
                stderr: Vec::new(),
            }],
            sinks: vec![SinkCounts {
                name: "orders".into(),
                uri: "parquet://out/orders.parquet".into(),
                rows_out: 7,
            }],
            dlq: DlqCounts {
                uri: "jsonl://out/orders.dlq.jsonl".into(),
                rows: 2,
            },
            rejects: vec![RuleCounts {
                step: "input".into(),
                field: "amount".into(),
                rule: "minimum".into(),
                rows: 2,
            }],
            asserts: vec![AssertResult {
                expression: "rows_out >= 1".into(),
                passed: true,
            }],
            ..RunReport::default()
        }
    }

    fn messages(finish: &RunFinish) -> Vec<(EventLevel, &str)> {
        finish
            .events
            .iter()
            .map(|e| (e.level, e.message.as_str()))
            .collect()
    }

    #[test]
    fn a_successful_run_records_its_counts_outputs_and_log() {
        let finish = RunFinish::from_report(&start(), &report(), None, 2_000);
        assert_eq!(finish.end, RunEnd::Succeeded);
        assert_eq!(
            finish.counts,
            RunCounts {
                rows_in: 10,
                rows_out: 7,
                rows_rejected: 2,
                rows_dropped: 1
            }
        );
        assert_eq!(
            finish.summary,
            "read 10 rows, wrote 7, rejected 2, dropped 1 in 12 ms"
        );
        assert_eq!(finish.detail.steps[0].name, "1 filter amount > 0");
        assert_eq!(finish.detail.rules[0].rule, "minimum");
        let outputs: Vec<_> = finish
            .detail
            .outputs
            .iter()
            .map(|o| (o.kind, o.uri.as_str(), o.rows))
            .collect();
        assert_eq!(
            outputs,
            [
                (OutputKind::Sink, "parquet://out/orders.parquet", 7),
                (OutputKind::Dlq, "jsonl://out/orders.dlq.jsonl", 2)
            ]
        );
        let log = messages(&finish);
        assert!(log[0].1.starts_with("started `orders` from `orders.dsl`"));
        assert_eq!(finish.events[0].at_ms, 1_000);
        assert_eq!(finish.events.last().unwrap().at_ms, 2_000);
        assert_eq!(
            &log[1..],
            [
                (
                    EventLevel::Info,
                    format!(
                        "input contract `contracts/orders.yaml` ({})",
                        Sha256Hex::from_digest(&[2; 32])
                    )
                    .as_str()
                ),
                (EventLevel::Info, "read 10 rows from csv://data/orders.csv"),
                (
                    EventLevel::Info,
                    "step 1 filter amount > 0: 8 rows in, 7 out, 0 rejected"
                ),
                (
                    EventLevel::Warn,
                    "rejected 2 rows at input on `amount`: minimum"
                ),
                (EventLevel::Info, "assert `rows_out >= 1` passed"),
                (
                    EventLevel::Info,
                    "wrote 7 rows to orders (parquet://out/orders.parquet)"
                ),
                (
                    EventLevel::Info,
                    "wrote 2 rejected rows to jsonl://out/orders.dlq.jsonl"
                ),
                (EventLevel::Info, "succeeded in 12 ms"),
            ]
        );
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("cannot write `out/orders.parquet`")
        }
    }

    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_failed_run_records_the_reason_with_its_causes_and_claims_no_outputs_written() {
        let error = Outer(std::io::Error::other("disk full"));
        let finish = RunFinish::from_report(&start(), &report(), Some(&error), 2_000);
        assert_eq!(finish.end, RunEnd::Failed);
        assert_eq!(
            finish.summary,
            "cannot write `out/orders.parquet`: disk full"
        );
        let log = messages(&finish);
        assert_eq!(
            log.last().unwrap(),
            &(
                EventLevel::Error,
                "failed, nothing was written: cannot write `out/orders.parquet`: disk full"
            )
        );
        assert!(!log.iter().any(|(_, m)| m.starts_with("wrote")));
    }

    #[test]
    fn a_run_that_failed_before_reading_has_no_outputs() {
        let error = std::io::Error::other("no such file");
        let finish = RunFinish::from_report(&start(), &RunReport::default(), Some(&error), 5);
        assert!(finish.detail.outputs.is_empty());
        assert_eq!(finish.counts, RunCounts::default());
    }

    #[test]
    fn a_run_without_isolation_says_so_in_its_log() {
        let off = "isolation was off (`--isolation none`): steps ran unconfined, built-in ones in the runi process";
        let unconfined = RunStart {
            isolated: false,
            ..start()
        };
        let finish = RunFinish::from_report(&unconfined, &report(), None, 2_000);
        assert!(messages(&finish).contains(&(EventLevel::Warn, off)));
        let finish = RunFinish::from_report(&start(), &report(), None, 2_000);
        assert!(!messages(&finish).iter().any(|(_, m)| *m == off));
    }
}
