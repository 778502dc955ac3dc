//! Dataset rules through `runi run`: measured over the accepted rows,
//! reported per run, `severity: error` fails the run (exit 1, nothing
//! committed), a warning does not, and a query that cannot run is a
//! contract error before any row is read.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use runink_testkit::repo_root;

fn example_copy() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    runink_testkit::copy_tree(&repo_root().join("examples/orders"), temp.path());
    let root = temp.path().to_path_buf();
    (temp, root)
}

fn run_json(root: &Path, state: &Path) -> std::process::Output {
    Command::cargo_bin("runi")
        .unwrap()
        .env("RUNINK_HOME", state)
        .env("RUNINK_MASK_SALT", "test-salt")
        .args(["--json", "run"])
        .arg(root.join("orders.dsl"))
        .output()
        .unwrap()
}

fn edit_contract(root: &Path, from: &str, to: &str) {
    let path = root.join("contracts/orders.yaml");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "the example contract changed: {from}");
    fs::write(&path, text.replace(from, to)).unwrap();
}

fn rule<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["dataset_rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no dataset rule {name} in {report}"))
}

#[test]
fn every_dataset_rule_is_reported() {
    let (_temp, root) = example_copy();
    let state = tempfile::tempdir().unwrap();
    let output = run_json(&root, state.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let report = &value["report"];
    // 24 rows in, 6 rejected: the rules measure the 18 accepted rows.
    let rows = rule(report, "rowCount");
    assert_eq!(rows["measured"], 18.0);
    assert_eq!(rows["passed"], true);
    assert_eq!(rows["expectation"], "mustBeGreaterThan 0");
    let future = rule(report, "no_future_orders");
    assert_eq!(future["metric"], "sql");
    assert_eq!(future["measured"], 0.0);
    assert_eq!(future["passed"], true);
    let emails = rule(report, "emails_mostly_known");
    assert_eq!(emails["column"], "email");
    assert_eq!(emails["unit_percent"], true);
    assert_eq!(emails["passed"], true);
}

#[test]
fn an_error_rule_fails_the_run_and_commits_nothing() {
    let (_temp, root) = example_copy();
    let state = tempfile::tempdir().unwrap();
    // 2026 orders are "future" orders if the run thinks it is 2020.
    edit_contract(
        &root,
        "WHERE created_at > now()",
        "WHERE created_at > TIMESTAMP '2020-01-01T00:00:00Z'",
    );
    let output = run_json(&root, state.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no_future_orders") && stderr.contains("expected mustBe 0"),
        "{stderr}"
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rule(&value["report"], "no_future_orders")["measured"], 18.0);
    assert!(!root.join("out").join("orders.parquet").exists());
    let leftovers: Vec<_> = fs::read_dir(root.join("out"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_failing_warning_is_reported_and_the_run_succeeds() {
    let (_temp, root) = example_copy();
    let state = tempfile::tempdir().unwrap();
    edit_contract(&root, "mustBeLessThan: 10", "mustBeLessThan: 0");
    let output = Command::cargo_bin("runi")
        .unwrap()
        .env("RUNINK_HOME", state.path())
        .env("RUNINK_MASK_SALT", "test-salt")
        .args(["run", "-v"])
        .arg(root.join("orders.dsl"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("WARNING") && text.contains("emails_mostly_known"),
        "{text}"
    );
    assert!(root.join("out/orders.parquet").exists());
}

#[test]
fn a_query_that_cannot_run_fails_before_reading() {
    let (_temp, root) = example_copy();
    let state = tempfile::tempdir().unwrap();
    edit_contract(
        &root,
        "WHERE created_at > now()",
        "WHERE shipped_at > now()",
    );
    let output = run_json(&root, state.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no_future_orders") && stderr.contains("shipped_at"),
        "{stderr}"
    );
    assert!(!root.join("out/orders.dlq.jsonl").exists());
}
