//! Runs as text for people: the table of `runi runs`, the page of
//! `runi status` and the lines of `runi logs`. Pure functions of the
//! records; times are shown in UTC, RFC 3339, to the millisecond.

use std::fmt::Write;

use runink_barn::{ContractRole, EventLevel, OutputKind, Run, RunEvent};

/// `2026-11-26T11:28:01.123Z`, or `-` for no time. A record's time past
/// what a calendar shows (a damaged or forged record) is said to be one.
pub fn time_text(at_ms: Option<u64>) -> String {
    let Some(at_ms) = at_ms else {
        return "-".into();
    };
    i64::try_from(at_ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || format!("(no date: {at_ms} ms after 1970)"),
            |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
}

/// `0.042 s`, `12.3 s`, `4 min 5 s`; `-` while a run has not ended.
pub fn duration_text(run: &Run) -> String {
    let (Some(start), Some(end)) = (run.started_at_ms, run.finished_at_ms) else {
        return "-".into();
    };
    let ms = end.saturating_sub(start);
    if ms < 60_000 {
        format!("{:.3} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// The table of `runi runs`, one run per line, newest first as given.
pub fn runs_table(runs: &[Run]) -> String {
    let header = [
        "RUN",
        "STATUS",
        "SCENARIO",
        "HERD",
        "SUBMITTED",
        "DURATION",
        "IN",
        "OUT",
        "REJECTED",
    ];
    let rows: Vec<[String; 9]> = runs
        .iter()
        .map(|run| {
            [
                run.id.to_string(),
                run.status.to_string(),
                one_line(&run.scenario),
                run.herd.to_string(),
                // Every run has been submitted; a queued or refused one
                // has not started, and its duration says `-`.
                time_text(Some(run.submitted_at_ms)),
                duration_text(run),
                run.counts.rows_in.to_string(),
                run.counts.rows_out.to_string(),
                run.counts.rows_rejected.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(String::from);
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    terminal_safe(out)
}

/// The page of `runi status RUN`.
pub fn status_text(run: &Run) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "run        {}", run.id);
    let _ = writeln!(out, "status     {}", run.status);
    let _ = writeln!(
        out,
        "scenario   {} (version {}, herd {})",
        one_line(&run.scenario),
        run.version,
        run.herd
    );
    let _ = writeln!(out, "dag_hash   {}", run.dag_hash);
    for contract in &run.contracts {
        let role = match contract.role {
            ContractRole::Input => "input",
            ContractRole::Output => "output",
        };
        let _ = writeln!(
            out,
            "contract   {role} {} ({})",
            contract.path, contract.hash
        );
    }
    if let Some(node) = run.node {
        let _ = writeln!(out, "node       {node}");
    }
    let _ = writeln!(out, "submitted  {}", time_text(Some(run.submitted_at_ms)));
    if run.placed_at_ms.is_some() {
        let _ = writeln!(out, "placed     {}", time_text(run.placed_at_ms));
    }
    let _ = writeln!(out, "started    {}", time_text(run.started_at_ms));
    let _ = writeln!(out, "ended      {}", time_text(run.finished_at_ms));
    let _ = writeln!(out, "duration   {}", duration_text(run));
    let counts = &run.counts;
    let _ = writeln!(
        out,
        "rows       {} in, {} out, {} rejected, {} dropped",
        counts.rows_in, counts.rows_out, counts.rows_rejected, counts.rows_dropped
    );
    let detail = &run.detail;
    for source in &detail.sources {
        let _ = writeln!(
            out,
            "  source   {:>10} in  {}{}",
            source.rows_in,
            source.name,
            unreadable(source.rows_rejected)
        );
    }
    for step in &detail.steps {
        let _ = writeln!(
            out,
            "  step     {:>10} in  {:>10} out  {:>10} rejected  {}",
            step.rows_in, step.rows_out, step.rows_rejected, step.name
        );
    }
    for rule in &detail.rules {
        let field = if rule.field.is_empty() {
            "-"
        } else {
            &rule.field
        };
        let _ = writeln!(
            out,
            "  rejected {:>10}     {} / {field} / {}",
            rule.rows, rule.step, rule.rule
        );
    }
    for output in &detail.outputs {
        let kind = match output.kind {
            OutputKind::Sink => "output",
            OutputKind::Dlq => "dlq",
        };
        let _ = writeln!(
            out,
            "  {kind:<8} {:>10} rows  {} ({})",
            output.rows, output.name, output.uri
        );
    }
    if detail.entries_dropped > 0 {
        let _ = writeln!(
            out,
            "  ({} more entries were not kept)",
            detail.entries_dropped
        );
    }
    if !run.summary.is_empty() {
        let label = if run.status == runink_barn::RunStatus::Failed {
            "reason"
        } else {
            "summary"
        };
        let _ = writeln!(out, "{label:<10} {}", run.summary);
    }
    let _ = writeln!(
        out,
        "log        {} lines (`runi logs {}`){}",
        run.events_total,
        run.id,
        if run.events_dropped > 0 {
            format!(", {} not kept", run.events_dropped)
        } else {
            String::new()
        }
    );
    terminal_safe(out)
}

fn unreadable(rows: u64) -> String {
    if rows == 0 {
        String::new()
    } else {
        format!(" ({rows} unreadable)")
    }
}

pub fn level_text(level: EventLevel) -> &'static str {
    match level {
        EventLevel::Debug => "DEBUG",
        EventLevel::Info => "INFO",
        EventLevel::Warn => "WARN",
        EventLevel::Error => "ERROR",
    }
}

/// The lines of `runi logs RUN`.
pub fn log_text(events: &[RunEvent]) -> String {
    let mut out = String::new();
    for event in events {
        let cut = if event.truncated { " […]" } else { "" };
        let _ = writeln!(
            out,
            "{} {:<5} {}{cut}",
            time_text(Some(event.at_ms)),
            level_text(event.level),
            event.message
        );
    }
    terminal_safe(out)
}

/// `text` safe to print on a terminal: control characters other than line
/// ends and tabs are shown escaped (`\u{1b}`), so that a name or a message
/// that came through the Barn's API cannot move the cursor, recolour or
/// clear the screen.
fn terminal_safe(text: String) -> String {
    let drives_terminal = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(drives_terminal) {
        return text;
    }
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if drives_terminal(c) {
            safe.extend(c.escape_unicode());
        } else {
            safe.push(c);
        }
    }
    safe
}

/// `text` on one line: line ends escaped too, so that a name cannot forge
/// a line of a table.
fn one_line(text: &str) -> String {
    text.replace('\n', "\\n").replace('\r', "\\r")
}

#[cfg(test)]
mod tests {
    use runink_barn::{RunCounts, RunDetail, RunId, RunStatus};
    use runink_model::{DagHash, HerdName, Sha256Hex};

    use super::*;

    fn run(id: u64, scenario: &str) -> Run {
        Run {
            id: RunId(id),
            herd: HerdName::default_herd(),
            scenario: scenario.into(),
            version: 1,
            dag_hash: DagHash(Sha256Hex::from_digest(&[1; 32])),
            contracts: vec![],
            status: RunStatus::Succeeded,
            node: None,
            submitted_at_ms: 1_764_156_481_000,
            placed_at_ms: None,
            started_at_ms: Some(1_764_156_481_000),
            finished_at_ms: Some(1_764_156_481_042),
            counts: RunCounts {
                rows_in: 24,
                rows_out: 19,
                rows_rejected: 5,
                rows_dropped: 0,
            },
            detail: RunDetail::default(),
            summary: String::new(),
            events_total: 0,
            events_dropped: 0,
        }
    }

    #[test]
    fn names_and_messages_cannot_drive_the_terminal_or_forge_lines() {
        let table = runs_table(&[run(1, "evil\u{1b}[2J\nRUN 2 succeeded")]);
        assert!(!table.contains('\u{1b}'), "{table}");
        assert!(table.contains("\\u{1b}[2J\\nRUN 2"), "{table}");
        assert_eq!(table.lines().count(), 2, "{table}");
        let mut failed = run(3, "s");
        failed.summary = "first\nsecond\u{7}".to_owned();
        let page = status_text(&failed);
        assert!(page.contains("first\nsecond\\u{7}"), "{page}");
    }

    #[test]
    fn the_runs_table_lines_up_its_columns() {
        let table = runs_table(&[run(12, "a much longer name"), run(3, "orders")]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "RUN  STATUS     SCENARIO            HERD     SUBMITTED                 DURATION  IN  OUT  REJECTED",
                "12   succeeded  a much longer name  default  2025-11-26T11:28:01.000Z  0.042 s   24  19   5",
                "3    succeeded  orders              default  2025-11-26T11:28:01.000Z  0.042 s   24  19   5",
            ]
        );
    }

    #[test]
    fn a_run_is_listed_by_when_it_was_submitted() {
        let mut queued = run(7, "orders");
        queued.submitted_at_ms = 1_764_156_400_000;
        queued.started_at_ms = None;
        queued.finished_at_ms = None;
        let table = runs_table(&[queued]);
        assert!(table.contains("2025-11-26T11:26:40.000Z  -"), "{table}");
        assert_eq!(
            time_text(Some(u64::MAX)),
            "(no date: 18446744073709551615 ms after 1970)"
        );
    }

    #[test]
    fn durations_read_in_seconds_then_minutes() {
        let mut long = run(1, "orders");
        long.finished_at_ms = long.started_at_ms.map(|s| s + 245_500);
        assert_eq!(duration_text(&long), "4 min 5 s");
        long.finished_at_ms = None;
        assert_eq!(duration_text(&long), "-");
    }
}
