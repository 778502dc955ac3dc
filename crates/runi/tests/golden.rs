//! `runi test`: every example's golden files match what the example
//! writes, and a difference is reported with the rows that differ.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use runink_testkit::repo_root;

fn copy_examples() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    runink_testkit::copy_tree(&repo_root().join("examples"), temp.path());
    let root = temp.path().to_path_buf();
    (temp, root)
}

/// `runi test FILE`, which must fail (exit 1): what it said on stderr.
fn failed_test_stderr(state: &Path, file: &Path) -> String {
    let output = runi(state).arg("test").arg(file).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn runi(state: &Path) -> Command {
    let mut command = Command::cargo_bin("runi").unwrap();
    command
        .env("RUNINK_HOME", state)
        .env_remove("RUNINK_MASK_SALT")
        .env_remove("RUNINK_STEPS_PATH");
    command
}

#[test]
fn every_example_matches_its_golden_files() {
    let (_temp, root) = copy_examples();
    let state = tempfile::tempdir().unwrap();
    // Silver reads bronze's output and gold reads silver's: land them first,
    // masked with the salt golden runs use, as when the files were made.
    for file in ["medallion/bronze.dsl", "medallion/silver.dsl"] {
        runi(state.path())
            .env("RUNINK_MASK_SALT", "runink-golden")
            .arg("run")
            .arg(root.join(file))
            .assert()
            .success();
    }
    let mut tested = 0;
    for file in [
        "orders/orders.dsl",
        "legacy/legacy.dsl",
        "medallion/bronze.dsl",
        "medallion/silver.dsl",
        "medallion/gold.dsl",
        "enrich/enrich.dsl",
    ] {
        let output = runi(state.path())
            .arg("test")
            .arg(root.join(file))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        tested += 1;
    }
    // Every example scenario file is covered.
    assert_eq!(tested, runink_testkit::example_scenarios().len());
}

#[test]
fn a_difference_fails_with_the_rows_that_differ() {
    let (_temp, root) = copy_examples();
    let state = tempfile::tempdir().unwrap();
    let expected = root.join("orders/golden/orders/big_orders.expected.jsonl");
    let text = fs::read_to_string(&expected).unwrap();
    let changed = text.replacen("\"currency\":\"USD\"", "\"currency\":\"XXX\"", 1);
    assert_ne!(text, changed);
    fs::write(&expected, changed).unwrap();
    let stderr = failed_test_stderr(state.path(), &root.join("orders/orders.dsl"));
    assert!(
        stderr.contains("big_orders: expected 5 rows, got 5"),
        "{stderr}"
    );
    assert!(
        stderr.contains("- {") && stderr.contains("\"XXX\"") && stderr.contains("+ {"),
        "{stderr}"
    );

    // --update brings the expected file back in line.
    runi(state.path())
        .args(["test", "--update"])
        .arg(root.join("orders/orders.dsl"))
        .assert()
        .success();
    assert_eq!(fs::read_to_string(&expected).unwrap(), text);
    runi(state.path())
        .arg("test")
        .arg(root.join("orders/orders.dsl"))
        .assert()
        .success();
}

/// A scenario whose run fails fails its own test (exit 1, with the
/// reason); the scenarios after it are still tested.
#[test]
fn a_failing_run_fails_its_scenario_and_the_others_are_still_tested() {
    let (_temp, root) = copy_examples();
    let state = tempfile::tempdir().unwrap();
    let orders = root.join("orders");
    fs::write(
        orders.join("two.dsl"),
        "Feature: two\n\n\
         Scenario: one\n  @source(\"csv://data/orders.csv\")\n  @sink(\"jsonl://out/one.jsonl\")\n  \
         @golden(\"golden_one\")\n  @assert(\"rows_out > 1000\")\n  Given the contract: contracts/orders.yaml\n\n\
         Scenario: two\n  @source(\"csv://data/orders.csv\")\n  @sink(\"jsonl://out/two.jsonl\")\n  \
         @golden(\"golden_two\")\n  Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    // --update writes scenario two's files; one's run fails all the same.
    let update = runi(state.path())
        .args(["test", "--update"])
        .arg(orders.join("two.dsl"))
        .output()
        .unwrap();
    assert_eq!(update.status.code(), Some(1));
    assert!(orders.join("golden_two/two.expected.jsonl").exists());

    let stderr = failed_test_stderr(state.path(), &orders.join("two.dsl"));
    assert!(
        stderr.contains("FAILED: `one`")
            && stderr.contains("the run failed")
            && stderr.contains("rows_out > 1000")
            && stderr.contains("ok: `two`")
            && stderr.contains("1 passed, 1 failed"),
        "{stderr}"
    );
}

/// An expected file that is not JSON lines fails its scenario, naming the
/// line; the other scenarios are still tested.
#[test]
fn a_broken_expected_file_fails_its_scenario_with_the_line() {
    let (_temp, root) = copy_examples();
    let state = tempfile::tempdir().unwrap();
    let expected = root.join("orders/golden/orders/big_orders.expected.jsonl");
    let mut text = fs::read_to_string(&expected).unwrap();
    let second_line_end = text.match_indices('\n').nth(1).unwrap().0;
    text.insert_str(second_line_end + 1, "{oops}\n");
    fs::write(&expected, text).unwrap();
    let stderr = failed_test_stderr(state.path(), &root.join("orders/orders.dsl"));
    assert!(
        stderr.contains("big_orders: line 3, column 2 of") && stderr.contains("is not JSON"),
        "{stderr}"
    );

    // Bytes that are not UTF-8 fail the scenario the same way.
    fs::write(&expected, b"\xff\n").unwrap();
    let stderr = failed_test_stderr(state.path(), &root.join("orders/orders.dsl"));
    assert!(stderr.contains("is not UTF-8 text"), "{stderr}");
}

#[test]
fn outputs_are_read_back_as_their_sink_wrote_them() {
    // A CSV without a header, with `;` between fields and a comma in a
    // value, and gzip'd JSON lines: `--update` records them, a rerun
    // passes, and a changed input fails.
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("in.csv"), "id,name\n1,\"alice, a.\"\n").unwrap();
    fs::write(
        dir.path().join("s.dsl"),
        "Feature: f\n@golden(\"g\")\nScenario: s\n  @source(\"csv://in.csv\")\n  \
         @sink(\"csv://out/h.csv\", header=false, delimiter=\";\")\n  \
         @sink(\"jsonl://out/z.jsonl\", compression=\"gzip\")\n",
    )
    .unwrap();
    let file = dir.path().join("s.dsl");
    runi(state.path())
        .args(["test", "--update"])
        .arg(&file)
        .assert()
        .success();
    let expected = fs::read_to_string(dir.path().join("g/h.expected.jsonl")).unwrap();
    assert_eq!(expected, "{\"1\":\"1\",\"2\":\"alice, a.\"}\n");
    let expected = fs::read_to_string(dir.path().join("g/z.expected.jsonl")).unwrap();
    assert_eq!(expected, "{\"id\":\"1\",\"name\":\"alice, a.\"}\n");
    runi(state.path()).arg("test").arg(&file).assert().success();

    fs::write(dir.path().join("in.csv"), "id,name\n999,mallory\n").unwrap();
    let output = runi(state.path()).arg("test").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mallory"), "{stderr}");

    // `--json`: a line per scenario on stdout, the same exit code.
    let output = runi(state.path())
        .args(["--json", "test"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(line["scenario"], "s");
    assert_eq!(line["passed"], false);
    let problems = line["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("mallory")),
        "{line}"
    );
}
