//! The end-of-run summary for people: rows in, rejected (by rule),
//! dropped and out (by sink), dataset rules, asserts, time and
//! throughput.

use std::fmt::Write;

use runink_engine::RunReport;

pub fn render_summary(report: &RunReport, dry_run: bool) -> String {
    let mut out = String::new();
    let seconds = report.duration_ms as f64 / 1000.0;
    let verb = if dry_run {
        "dry run (nothing written)"
    } else {
        "run"
    };
    let _ = writeln!(
        out,
        "{verb} {}  `{}`  {:.2} s",
        report.run_id, report.scenario, seconds
    );
    for source in &report.sources {
        let _ = writeln!(out, "  in        {:>12}  {}", source.rows_in, source.uri);
    }
    let _ = writeln!(
        out,
        "  rejected  {:>12}  {}",
        report.rows_rejected, report.dlq.uri
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
            "    {:>10}  {} ({})",
            sink.rows_out, sink.name, sink.uri
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
