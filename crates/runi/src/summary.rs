//! The end-of-run summary for people: rows in, rejected (by rule),
//! dropped and out (by sink), dataset rules, asserts, time and
//! throughput.

use std::fmt::Write;

use runink_engine::RunReport;

/// `failed`: the run failed, so its outputs were not committed; the
/// counts say how far it went, and the header and each output say that
/// nothing was written.
pub fn render_summary(report: &RunReport, dry_run: bool, failed: bool) -> String {
    let mut out = String::new();
    let seconds = report.duration_ms as f64 / 1000.0;
    let unwritten = dry_run || failed;
    let _ = writeln!(
        out,
        "{} {}  `{}`  {:.2} s{}",
        if dry_run { "dry run" } else { "run" },
        report.run_id,
        report.scenario,
        seconds,
        match (failed, dry_run) {
            (true, _) => "  FAILED: nothing written",
            (false, true) => "  (nothing written)",
            (false, false) => "",
        }
    );
    let not_written = if unwritten { ", not written" } else { "" };
    for source in &report.sources {
        let _ = writeln!(out, "  in        {:>12}  {}", source.rows_in, source.uri);
    }
    let _ = writeln!(
        out,
        "  rejected  {:>12}  {}{}",
        report.rows_rejected,
        report.dlq.uri,
        if unwritten { " (not written)" } else { "" }
    );
    for rule in &report.rejects {
        let field = if rule.field.is_empty() {
            "-"
        } else {
            &rule.field
        };
        let _ = writeln!(
            out,
            "    {:>10}  {} / {} / {}",
            rule.rows, rule.step, field, rule.rule
        );
    }
    if report.rows_dropped > 0 {
        let _ = writeln!(
            out,
            "  dropped   {:>12}  by filter or dedupe",
            report.rows_dropped
        );
    }
    let _ = writeln!(out, "  out       {:>12}", report.rows_out);
    for sink in &report.sinks {
        let _ = writeln!(
            out,
            "    {:>10}  {} ({}{not_written})",
            sink.rows_out, sink.name, sink.uri
        );
    }
    if report.rows_unrouted > 0 {
        let _ = writeln!(
            out,
            "    {:>10}  met no sink's `when`: written nowhere",
            report.rows_unrouted
        );
    }
    for rule in &report.dataset_rules {
        let _ = writeln!(
            out,
            "  rule      {:>12}  {}",
            rule.verdict(),
            dataset_rule_text(rule)
        );
    }
    for assert in &report.asserts {
        let mark = if assert.passed { "ok" } else { "FAILED" };
        let _ = writeln!(out, "  assert    {mark:>12}  {}", assert.expression);
    }
    if let Some(drift) = &report.drift {
        let _ = writeln!(
            out,
            "  drift     extra {:?}, missing {:?}, retyped {:?}",
            drift.extra, drift.missing, drift.retyped
        );
    }
    if seconds > 0.0 {
        let rate = report.rows_in as f64 / seconds;
        let _ = writeln!(out, "  rate      {rate:>12.0}  rows/s");
    }
    out
}

/// One dataset rule's verdict in words: `orders_exist (rowCount): 0,
/// expected mustBeGreaterThan 0`.
pub fn dataset_rule_text(rule: &runink_contract::DatasetMeasurement) -> String {
    let on = rule
        .column
        .as_deref()
        .map_or_else(String::new, |c| format!(" on `{c}`"));
    format!(
        "{} ({}{on}): {}, expected {}",
        rule.name,
        rule.metric,
        rule.measured_text(),
        rule.expectation
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use runink_engine::{DlqCounts, SinkCounts};

    fn report() -> RunReport {
        RunReport {
            run_id: "7".into(),
            scenario: "orders".into(),
            rows_out: 16,
            sinks: vec![SinkCounts {
                name: "orders".into(),
                uri: "parquet://out/orders.parquet".into(),
                rows_out: 16,
            }],
            dlq: DlqCounts {
                uri: "jsonl://out/dlq.jsonl".into(),
                ..DlqCounts::default()
            },
            ..RunReport::default()
        }
    }

    #[test]
    fn a_failed_run_says_its_outputs_were_not_written() {
        let failed = render_summary(&report(), false, true);
        assert!(
            failed.starts_with("run 7  `orders`  0.00 s  FAILED: nothing written\n"),
            "{failed}"
        );
        assert!(
            failed.contains("16  orders (parquet://out/orders.parquet, not written)"),
            "{failed}"
        );
        assert!(
            failed.contains("jsonl://out/dlq.jsonl (not written)"),
            "{failed}"
        );

        let succeeded = render_summary(&report(), false, false);
        assert!(!succeeded.contains("written"), "{succeeded}");
        let dry = render_summary(&report(), true, false);
        assert!(
            dry.starts_with("dry run 7  `orders`  0.00 s  (nothing written)\n"),
            "{dry}"
        );
    }
}
