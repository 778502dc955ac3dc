//! `runi run` on real files: outputs, the DLQ with its reasons and line
//! numbers, masking, atomic commits, bad records, dry runs.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use runink_testkit::repo_root;
use sha2::{Digest, Sha256};

const SALT: &str = "test-salt";

/// A copy of an example folder, so runs write into a temporary place.
fn example_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    runink_testkit::copy_tree(&repo_root().join("examples").join(name), temp.path());
    let root = temp.path().to_path_buf();
    (temp, root)
}

fn runi(state: &Path) -> Command {
    let mut command = Command::cargo_bin("runi").unwrap();
    command
        .env("RUNINK_HOME", state)
        .env("RUNINK_MASK_SALT", SALT)
        .env_remove("RUNINK_STEPS_PATH");
    command
}

/// `runi run ARGS FILE`, waited for.
fn run_file(state: &Path, args: &[&str], file: impl AsRef<Path>) -> std::process::Output {
    runi(state)
        .arg("run")
        .args(args)
        .arg(file.as_ref())
        .output()
        .unwrap()
}

/// A folder holding `in.csv` (`csv`) and `s.dsl`: one scenario reading it,
/// with `body` (its tags) after the `@source`.
fn csv_scenario(csv: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    fs::write(temp.path().join("in.csv"), csv).unwrap();
    let dsl = format!("Feature: f\nScenario: s\n  @source(\"csv://in.csv\")\n{body}");
    fs::write(temp.path().join("s.dsl"), dsl).unwrap();
    let root = temp.path().to_path_buf();
    (temp, root)
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn report(output: &[u8]) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_slice(output).unwrap();
    value["report"].clone()
}

#[test]
fn orders_example_writes_valid_rows_rejects_and_masks() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    let output = runi(state.path())
        .args(["--json", "run"])
        .arg(root.join("orders.dsl"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = report(&output.stdout);
    assert_eq!(report["rows_in"], 24);
    assert_eq!(report["rows_rejected"], 6);
    assert_eq!(report["rows_out"], 16);
    assert_eq!(report["asserts"][0]["passed"], true);

    let dlq = json_lines(&root.join("out/orders.dlq.jsonl"));
    assert_eq!(dlq.len(), 6);
    let reasons: Vec<(String, String, u64)> = dlq
        .iter()
        .map(|r| {
            let meta = &r["_runink"];
            (
                meta["field"].as_str().unwrap().to_owned(),
                meta["rule"].as_str().unwrap().to_owned(),
                meta["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        reasons.contains(&("order_id".into(), "pattern".into(), 10)),
        "{reasons:?}"
    );
    assert!(reasons.contains(&(
        "order_id".into(),
        "duplicate".into(),
        reasons.iter().find(|r| r.1 == "duplicate").unwrap().2
    )));
    for row in &dlq {
        assert_eq!(row["_runink"]["source"], "csv://data/orders.csv");
        assert_eq!(row["_runink"]["step"], "input contract");
        assert!(row["_runink"]["run_id"].as_str().unwrap() == report["run_id"].as_str().unwrap());
    }
    // PII is hashed in the DLQ too: the DLQ is never a way around masking.
    let first = &dlq[0];
    let email = first["email"].as_str().unwrap();
    assert_eq!(email.len(), 64);
    let csv = fs::read_to_string(root.join("data/orders.csv")).unwrap();
    let line: Vec<&str> = csv
        .lines()
        .nth(first["_runink"]["line"].as_u64().unwrap() as usize - 1)
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(
        email,
        format!("{:x}", Sha256::digest(format!("{SALT}{}", line[2])))
    );

    let big = json_lines(&root.join("out/big_orders.jsonl"));
    assert_eq!(
        big.len() as u64,
        report["sinks"][1]["rows_out"].as_u64().unwrap()
    );
    assert!(big.iter().all(|r| r["amount"].as_f64().unwrap() >= 1000.0));
    assert!(
        big.iter()
            .all(|r| r["email"].as_str().unwrap().len() == 64 && r["total_cents"].is_i64())
    );
    assert!(root.join("out/orders.parquet").is_file());
    // The run is recorded in the state folder, under the id in the DLQ.
    let runs = runi(state.path())
        .args(["--json", "runs"])
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(
        runs[0]["id"].to_string(),
        report["run_id"].as_str().unwrap()
    );
}

#[test]
fn a_failed_assert_leaves_earlier_outputs_untouched() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    runi(state.path())
        .arg("run")
        .arg(root.join("orders.dsl"))
        .assert()
        .success();
    let before = fs::read(root.join("out/orders.parquet")).unwrap();
    let dsl = fs::read_to_string(root.join("orders.dsl"))
        .unwrap()
        .replace("rows_out >= 1", "rows_out >= 1000");
    fs::write(root.join("orders.dsl"), dsl).unwrap();
    fs::write(root.join("data/orders.csv"), "order_id,customer_id,email,amount,currency,created_at\nORD-100001,C1,a@b.c,5.00,USD,2026-03-01T10:15:00Z\n").unwrap();
    let output = run_file(state.path(), &[], root.join("orders.dsl"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("rows_out >= 1000") && stderr.contains("nothing was written"),
        "{stderr}"
    );
    assert_eq!(fs::read(root.join("out/orders.parquet")).unwrap(), before);
    let leftovers: Vec<_> = fs::read_dir(root.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("runink-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn bad_records_go_to_the_dlq_with_their_line_and_the_run_goes_on() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    let mut data = b"order_id,customer_id,email,amount,currency,created_at\n".to_vec();
    data.extend_from_slice(b"ORD-100001,C1,a@b.c,5.00,USD,2026-03-01T10:15:00Z\n");
    data.extend_from_slice(b"ORD-100002,C2,b@b.c,5.00,USD\n");
    data.extend_from_slice(b"ORD-100003,C3,\xff@b.c,5.00,USD,2026-03-01T10:15:00Z\n");
    data.extend_from_slice(b"\"ORD-100004\",C4,\"d,@b.c\",6.00,EUR,2026-03-01T10:15:00Z\n");
    fs::write(root.join("data/orders.csv"), data).unwrap();
    let output = runi(state.path())
        .args(["--json", "run"])
        .arg(root.join("orders.dsl"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = report(&output.stdout);
    assert_eq!(
        (report["rows_in"].as_u64(), report["rows_out"].as_u64()),
        (Some(4), Some(2))
    );
    let dlq = json_lines(&root.join("out/orders.dlq.jsonl"));
    let parse: Vec<(u64, String)> = dlq
        .iter()
        .map(|r| {
            (
                r["_runink"]["line"].as_u64().unwrap(),
                r["_runink"]["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(parse[0], (3, "expected 6 fields, found 5".to_owned()));
    assert_eq!(parse[1], (4, "field `email` is not valid UTF-8".to_owned()));
    // The unreadable row's email is masked even there.
    assert_eq!(dlq[0]["email"].as_str().unwrap().len(), 64);
}

#[test]
fn dry_run_reads_and_checks_but_writes_nothing() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    let output = runi(state.path())
        .args(["--json", "run", "--dry-run"])
        .arg(root.join("orders.dsl"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let report = report(&output.stdout);
    assert_eq!(
        (
            report["rows_rejected"].as_u64(),
            report["sinks"][0]["rows_out"].as_u64()
        ),
        (Some(6), Some(16))
    );
    assert!(!root.join("out").exists());
    // A dry run is not recorded: the run ledger is not even created.
    assert!(!state.path().join("barn").exists());
}

#[test]
fn a_missing_source_fails_with_its_name_and_writes_nothing() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    fs::remove_file(root.join("data/orders.csv")).unwrap();
    let output = run_file(state.path(), &[], root.join("orders.dsl"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("csv://data/orders.csv"), "{stderr}");
    assert!(!root.join("out/orders.parquet").exists());
}

/// A sink and the DLQ on one file used to deadlock (the second staging
/// waited for the first's lock); the scenario is now refused before
/// anything runs.
#[test]
fn a_sink_and_the_dlq_on_one_file_are_refused_before_the_run() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    let scenario = root.join("same_file.dsl");
    fs::write(
        &scenario,
        "Feature: f\nScenario: s\n  @source(\"csv://data/orders.csv\")\n  \
         @sink(\"jsonl://out/x.jsonl\")\n  @dlq(\"jsonl://./out/x.jsonl\")\n  \
         Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    let output = runi(state.path())
        .arg("run")
        .arg(&scenario)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("same_file.dsl:5:3")
            && stderr.contains("a sink of this scenario writes too"),
        "{stderr}"
    );
    assert!(!root.join("out").exists(), "nothing is staged or written");
}

/// A batch bound past the ceiling is refused as a bad flag (exit 2), not
/// tried: its buffers are allocated up front.
#[test]
fn a_batch_bound_past_the_ceiling_is_refused() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    let output = run_file(
        state.path(),
        &["--batch-rows-max", "4294967295"],
        root.join("orders.dsl"),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--batch-rows-max") && stderr.contains("1048576"),
        "{stderr}"
    );
    assert!(!root.join("out").exists());
}

/// A failed `cast` of a sensitive column names the value `***` in its
/// message, in a slice and in-process: the clear value is nowhere in the
/// DLQ (its field is masked as the contract says). The DLQ row holds the
/// whole row.
#[test]
fn a_failed_cast_of_a_sensitive_column_does_not_show_its_value() {
    let (_temp, root) = example_copy("orders");
    let scenario = root.join("cast.dsl");
    fs::write(
        &scenario,
        "Feature: f\nScenario: c\n  @source(\"csv://data/orders.csv\")\n  \
         @step(\"cast\", email=\"INT\")\n  @sink(\"jsonl://out/c.jsonl\")\n  \
         @dlq(\"jsonl://out/c.dlq.jsonl\")\n  Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    let clear = fs::read_to_string(root.join("data/orders.csv")).unwrap();
    let an_email = clear
        .split([',', '\n'])
        .find(|v| v.contains('@'))
        .unwrap()
        .to_owned();
    for isolation in ["none", "slice"] {
        let state = tempfile::tempdir().unwrap();
        let output = run_file(state.path(), &["--isolation", isolation], &scenario);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let dlq = fs::read_to_string(root.join("out/c.dlq.jsonl")).unwrap();
        assert!(
            !dlq.contains('@'),
            "a clear email in the DLQ ({isolation}): {dlq}"
        );
        assert!(!dlq.contains(&an_email), "{dlq}");
        let casts: Vec<serde_json::Value> = json_lines(&root.join("out/c.dlq.jsonl"))
            .into_iter()
            .filter(|row| row["_runink"]["rule"] == "cast")
            .collect();
        assert!(!casts.is_empty(), "{dlq}");
        for row in casts {
            assert_eq!(row["_runink"]["message"], "`***` cannot be cast to `Int32`");
            // The whole row, not only the field that failed.
            for field in [
                "order_id",
                "customer_id",
                "amount",
                "currency",
                "created_at",
            ] {
                assert!(row[field].is_string(), "no `{field}` in {row}");
            }
            assert_eq!(row["email"].as_str().map(str::len), Some(64), "{row}");
        }
    }
}

/// A folder where an output goes fails the run before it reads a row
/// (and a dry run too), naming the output; no other output is written.
#[test]
fn a_folder_in_the_way_of_an_output_fails_the_run_before_anything_is_written() {
    let (_temp, root) = example_copy("orders");
    fs::create_dir_all(root.join("out/orders.parquet")).unwrap();
    for dry_run in [true, false] {
        let state = tempfile::tempdir().unwrap();
        let mut command = runi(state.path());
        command.arg("run");
        if dry_run {
            command.arg("--dry-run");
        }
        let output = command.arg(root.join("orders.dsl")).output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("parquet://out/orders.parquet")
                && stderr.contains("a folder has the output's name"),
            "{stderr}"
        );
        let mut names: Vec<String> = fs::read_dir(root.join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["orders.parquet"], "dry run: {dry_run}");
    }
}

/// DLQ line numbers are the lines an editor shows, whatever the line ends
/// (`\r\n`, `\r`) and with blank lines between records.
#[test]
fn dlq_lines_count_crlf_cr_and_blank_lines() {
    let header = "order_id,customer_id,email,amount,currency,created_at";
    let good = "ORD-100001,C1,a@b.c,5.00,USD,2026-03-01T10:15:00Z";
    let short = "ORD-100002,C2,b@b.c,5.00,USD";
    let pattern = "ORD-12,C3,c@b.c,5.00,USD,2026-03-01T10:15:00Z";
    for end in ["\r\n", "\r", "\n"] {
        let (_temp, root) = example_copy("orders");
        let state = tempfile::tempdir().unwrap();
        // Lines: 1 header, 2 good, 3-4 blank, 5 short, 6 blank, 7 pattern.
        let lines = [header, good, "", "", short, "", pattern];
        fs::write(root.join("data/orders.csv"), lines.join(end) + end).unwrap();
        let output = run_file(state.path(), &[], root.join("orders.dsl"));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let dlq = json_lines(&root.join("out/orders.dlq.jsonl"));
        let mut found: Vec<(u64, String)> = dlq
            .iter()
            .map(|r| {
                let order = r["order_id"].as_str().unwrap_or_default().to_owned();
                (r["_runink"]["line"].as_u64().unwrap(), order)
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            [(5, "ORD-100002".to_owned()), (7, "ORD-12".to_owned())],
            "line ends {end:?}"
        );
    }
}

/// An Arrow IPC file `runi` writes, `runi` reads back: the same rows.
#[test]
fn an_arrow_file_runi_writes_runi_reads_back() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    fs::write(
        root.join("arrow.dsl"),
        "Feature: arrow round trip\n\n\
         Scenario: write\n  @source(\"csv://data/orders.csv\")\n  \
         @sink(\"arrow://out/rows.arrow\")\n  @sink(\"jsonl://out/written.jsonl\")\n  \
         @dlq(\"jsonl://out/write.dlq.jsonl\")\n\n\
         Scenario: read\n  @source(\"arrow://out/rows.arrow\")\n  \
         @sink(\"jsonl://out/read.jsonl\")\n  @dlq(\"jsonl://out/read.dlq.jsonl\")\n",
    )
    .unwrap();
    for scenario in ["write", "read"] {
        let output = run_file(
            state.path(),
            &["--scenario", scenario],
            root.join("arrow.dsl"),
        );
        assert!(
            output.status.success(),
            "{scenario}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let written = json_lines(&root.join("out/written.jsonl"));
    assert_eq!(written.len(), 24);
    assert_eq!(json_lines(&root.join("out/read.jsonl")), written);
}

/// `--json run` of a file with several scenarios prints JSON lines: one
/// object per scenario, each on its own line.
#[test]
fn json_run_of_several_scenarios_prints_one_line_each() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    fs::write(
        root.join("two.dsl"),
        "Feature: two\n\n\
         Scenario: first\n  @source(\"csv://data/orders.csv\")\n  @sink(\"jsonl://out/a.jsonl\")\n\n\
         Scenario: second\n  @source(\"csv://data/orders.csv\")\n  @sink(\"jsonl://out/b.jsonl\")\n",
    )
    .unwrap();
    let output = runi(state.path())
        .args(["--json", "run"])
        .arg(root.join("two.dsl"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let scenarios: Vec<String> = stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["ok"], true, "{line}");
            value["report"]["scenario"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(scenarios, ["first", "second"]);
}

/// A rename onto a column the input already has, known only once the
/// file's header is read, fails with the step and both names (exit 2),
/// not an internal error.
#[test]
fn a_rename_onto_an_existing_column_fails_clearly() {
    let (_temp, root) = csv_scenario(
        "a,b\n1,2\n",
        "  @step(\"rename\", a=\"b\")\n  @sink(\"jsonl://out/o.jsonl\")\n",
    );
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &[], root.join("s.dsl"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("step 1 (`rename`)")
            && stderr.contains("`b` is already a column")
            && !stderr.contains("bug"),
        "{stderr}"
    );
    // Nothing written, not even the sink's folder.
    assert!(!root.join("out").exists());
}

/// A CSV with a header and no rows keeps its columns: steps are planned
/// on them, and a CSV sink writes its header even with no row to write.
#[test]
fn an_input_with_no_rows_keeps_its_columns() {
    let (_temp, root) = csv_scenario(
        "id,name\n",
        "  @step(\"select\", columns=\"id\")\n  @sink(\"csv://out/o.csv\")\n  \
         @sink(\"jsonl://out/o.jsonl\", name=\"lines\")\n",
    );
    for isolation in ["none", "slice"] {
        let state = tempfile::tempdir().unwrap();
        let output = run_file(
            state.path(),
            &["--isolation", isolation],
            root.join("s.dsl"),
        );
        assert!(
            output.status.success(),
            "{isolation}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(fs::read_to_string(root.join("out/o.csv")).unwrap(), "id\n");
        assert_eq!(fs::read_to_string(root.join("out/o.jsonl")).unwrap(), "");
    }
}

/// `@dlq("stdout://")` writes the rejected rows on stdout, masked as in a
/// file DLQ.
#[test]
fn a_dlq_on_stdout_prints_the_rejected_rows() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(root.join("orders.dsl"))
        .unwrap()
        .replace(
            "@dlq(\"jsonl://out/orders.dlq.jsonl\")",
            "@dlq(\"stdout://\")",
        );
    fs::write(root.join("orders.dsl"), text).unwrap();
    let output = run_file(state.path(), &[], root.join("orders.dsl"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let rejected: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(!rejected.is_empty());
    for row in &rejected {
        assert!(row["_runink"]["rule"].is_string(), "{row}");
        assert!(!row.to_string().contains('@'), "a clear email: {row}");
    }
    assert!(!root.join("out/orders.dlq.jsonl").exists());
}

/// A step that fails on the rows (a division by zero in `derive`) fails
/// the run that started (exit 1, "failed"), in a slice or in-process.
#[test]
fn a_step_failing_on_rows_fails_the_run_with_exit_1() {
    let (_temp, root) = example_copy("orders");
    fs::write(
        root.join("div.dsl"),
        "Feature: f\nScenario: d\n  @source(\"csv://data/orders.csv\")\n  \
         @step(\"derive\", per_unit=\"100 / CAST(amount * 0 AS BIGINT)\")\n  \
         @sink(\"jsonl://out/d.jsonl\")\n  Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    for isolation in ["none", "slice"] {
        let state = tempfile::tempdir().unwrap();
        let output = run_file(
            state.path(),
            &["--isolation", isolation],
            root.join("div.dsl"),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{isolation}: {stderr}");
        assert!(
            stderr.contains("failed; nothing was written")
                && stderr.contains("step 1 (`derive`) failed: Divide by zero"),
            "{stderr}"
        );
        assert!(!root.join("out/d.jsonl").exists());
    }
}

/// A CSV header that names a column twice, or leaves one unnamed, fails
/// the run with the column numbers: rows are found by column name.
#[test]
fn a_header_with_a_name_twice_or_none_fails_the_run_with_the_columns() {
    for (header, problem) in [
        ("a,b,a", "names `a` twice (columns 1 and 3)"),
        ("a,,b", "has no name for column 2"),
    ] {
        let (_temp, root) = csv_scenario(
            &format!("{header}\n1,2,3\n"),
            "  @sink(\"jsonl://out/o.jsonl\")\n",
        );
        let state = tempfile::tempdir().unwrap();
        let output = run_file(state.path(), &[], root.join("s.dsl"));
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("csv://in.csv") && stderr.contains(problem),
            "{stderr}"
        );
        assert!(!root.join("out/o.jsonl").exists());
    }
}

/// A failed run that printed rows on stdout does not claim that nothing
/// was written: no file was, and what it printed stays printed.
#[test]
fn a_failed_run_with_a_stdout_sink_says_what_it_left() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    fs::write(
        root.join("out.dsl"),
        "Feature: f\nScenario: s\n  @source(\"csv://data/orders.csv\")\n  @sink(\"stdout://\")\n  \
         @dlq(\"jsonl://out/s.dlq.jsonl\")\n  @assert(\"rows_out > 1000\")\n",
    )
    .unwrap();
    let output = run_file(state.path(), &[], root.join("out.dsl"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "no file was written (rows it printed on stdout before failing stay printed)"
        ),
        "{stderr}"
    );
    assert!(!root.join("out/s.dlq.jsonl").exists());
}

#[test]
fn json_lines_of_the_wrong_shape_go_to_the_dlq_with_their_reason() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    let good = r#""customer_id":"C1","email":"a@b.c","amount":5,"currency":"USD","created_at":"2026-03-01T10:15:00Z""#;
    let lines = [
        format!(r#"{{"order_id":"ORD-100001",{good}}}"#),
        // An array where the contract has a string: read as its JSON text
        // it would have passed for one.
        format!(r#"{{"order_id":["ORD-100002"],{good}}}"#),
        format!(r#"{{"order_id":{{"id":"ORD-100003"}},{good}}}"#),
        // A key given twice: which value is meant is anyone's guess.
        format!(r#"{{"order_id":"ORD-100004","order_id":"ORD-100005",{good}}}"#),
        format!(r#"{{"order_id":"ORD-100006",{good}}}"#),
    ];
    fs::write(root.join("data/orders.jsonl"), lines.join("\n")).unwrap();
    let dsl = fs::read_to_string(root.join("orders.dsl"))
        .unwrap()
        .replace("csv://data/orders.csv", "jsonl://data/orders.jsonl");
    fs::write(root.join("orders.dsl"), dsl).unwrap();
    let output = run_file(state.path(), &["--json"], root.join("orders.dsl"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = report(&output.stdout);
    assert_eq!(
        (report["rows_in"].as_u64(), report["rows_out"].as_u64()),
        (Some(5), Some(2))
    );
    let dlq = json_lines(&root.join("out/orders.dlq.jsonl"));
    let reasons: Vec<(u64, &str)> = dlq
        .iter()
        .map(|r| {
            (
                r["_runink"]["line"].as_u64().unwrap(),
                r["_runink"]["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert_eq!(reasons[0].0, 2);
    assert!(
        reasons[0].1.contains(
            "the field `order_id` is an array, where the contract's column is of type `string`"
        ),
        "{reasons:?}"
    );
    assert_eq!(reasons[1].0, 3);
    assert!(reasons[1].1.contains("is an object"), "{reasons:?}");
    assert_eq!(reasons[2].0, 4);
    assert!(
        reasons[2].1.contains("the key `order_id` appears twice"),
        "{reasons:?}"
    );
    // The rejected rows keep what could be read, the email masked.
    assert_eq!(dlq[0]["order_id"], r#"["ORD-100002"]"#);
    assert_eq!(dlq[0]["email"].as_str().unwrap().len(), 64);
}

/// A row a step rejects after a `mask` step holds the masked values; the
/// DLQ does not mask them twice, so they equal what the sinks write.
#[test]
fn a_row_rejected_after_the_mask_step_is_masked_once() {
    let (_temp, root) = example_copy("orders");
    fs::write(
        root.join("data/orders.csv"),
        "order_id,customer_id,email,amount,currency,created_at\n\
         ORD-100001,7,same@b.c,5.00,USD,2026-03-01T10:15:00Z\n\
         ORD-100002,C2,same@b.c,6.00,USD,2026-03-01T10:15:00Z\n",
    )
    .unwrap();
    let scenario = root.join("m.dsl");
    fs::write(
        &scenario,
        "Feature: f\nScenario: m\n  @source(\"csv://data/orders.csv\")\n  @step(\"mask\")\n  \
         @step(\"cast\", customer_id=\"INT\")\n  @sink(\"jsonl://out/m.jsonl\")\n  \
         @dlq(\"jsonl://out/m.dlq.jsonl\")\n  Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    for isolation in ["none", "slice"] {
        let state = tempfile::tempdir().unwrap();
        let output = run_file(state.path(), &["--isolation", isolation], &scenario);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let written = json_lines(&root.join("out/m.jsonl"));
        let rejected = json_lines(&root.join("out/m.dlq.jsonl"));
        assert_eq!((written.len(), rejected.len()), (1, 1), "{rejected:?}");
        assert_eq!(rejected[0]["_runink"]["rule"], "cast");
        assert_eq!(written[0]["email"].as_str().map(str::len), Some(64));
        assert_eq!(
            rejected[0]["email"], written[0]["email"],
            "masked twice ({isolation})"
        );
    }
}

/// The query engine quotes the value a cast failed on; with sensitive
/// columns in the contract, that value reaches neither the terminal nor
/// the run's record. A step failing on its rows fails the run (exit 1).
#[test]
fn a_step_failing_on_a_sensitive_value_does_not_show_it() {
    let (_temp, root) = example_copy("orders");
    let clear = fs::read_to_string(root.join("data/orders.csv")).unwrap();
    let an_email = clear
        .split([',', '\n'])
        .find(|v| v.contains('@'))
        .unwrap()
        .to_owned();
    let steps = [
        "@step(\"derive\", n=\"CAST(email AS INT)\")",
        "@step(\"sql\", query=\"SELECT CAST(email AS INT) AS n FROM input\")",
    ];
    for (index, step) in steps.iter().enumerate() {
        for isolation in ["none", "slice"] {
            let scenario = root.join(format!("leak{index}.dsl"));
            fs::write(
                &scenario,
                format!(
                    "Feature: f\nScenario: l\n  @source(\"csv://data/orders.csv\")\n  {step}\n  \
                     @sink(\"jsonl://out/l.jsonl\")\n  Given the contract: contracts/orders.yaml\n"
                ),
            )
            .unwrap();
            let state = tempfile::tempdir().unwrap();
            let output = run_file(state.path(), &["--isolation", isolation], &scenario);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{step} ({isolation}): {stderr}"
            );
            assert!(stderr.contains("Cannot cast string '***'"), "{stderr}");
            assert!(
                !stderr.contains(&an_email),
                "{step} ({isolation}): {stderr}"
            );
            for command in ["status", "logs"] {
                let shown = runi(state.path()).args([command, "1"]).output().unwrap();
                let shown = String::from_utf8_lossy(&shown.stdout);
                assert!(shown.contains("'***'"), "runi {command}: {shown}");
                assert!(!shown.contains(&an_email), "runi {command}: {shown}");
            }
        }
    }
}

/// A column both contracts mark sensitive is masked once by the `mask`
/// step, and a role-scoped sink does not mask again what it masked.
#[test]
fn a_column_marked_by_both_contracts_is_masked_once() {
    let (_temp, root) = example_copy("orders");
    fs::write(
        root.join("data/orders.csv"),
        "order_id,customer_id,email,amount,currency,created_at\n\
         ORD-100001,C1,same@b.c,5.00,USD,2026-03-01T10:15:00Z\n",
    )
    .unwrap();
    let contract = root.join("contracts/orders.yaml");
    let text = fs::read_to_string(&contract).unwrap();
    // The email is kept from every role but `ops`.
    let restricted = text.replacen(
        "          - property: mask\n            value: hash\n",
        "          - { property: access, value: ops }\n          - property: mask\n            value: hash\n",
        1,
    );
    assert_ne!(text, restricted, "the contract's email is masked by `hash`");
    fs::write(root.join("contracts/restricted.yaml"), restricted).unwrap();
    let scenario = root.join("twice.dsl");
    fs::write(
        &scenario,
        "Feature: f\nScenario: t\n  @source(\"csv://data/orders.csv\")\n  @step(\"mask\")\n  \
         @sink(\"jsonl://out/t.jsonl\")\n  @sink(\"jsonl://out/audit.jsonl\", role=\"audit\")\n  \
         Given the contract: contracts/restricted.yaml\n  \
         Then the output contract: contracts/restricted.yaml\n",
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &[], &scenario);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let once = format!("{:x}", Sha256::digest(format!("{SALT}same@b.c")));
    for sink in ["t", "audit"] {
        let rows = json_lines(&root.join(format!("out/{sink}.jsonl")));
        assert_eq!(rows[0]["email"], once.as_str(), "sink `{sink}`");
    }
}

/// A struct (or list) column cannot go to a CSV sink: the run is refused before any
/// row, naming the sink and the column, and nothing is written.
#[test]
fn a_struct_column_into_a_csv_sink_is_refused_with_its_name() {
    let (_temp, root) = csv_scenario(
        "id\n1\n2\n",
        "  @step(\"sql\", query=\"SELECT id, struct(id, id) AS pair FROM input\")\n  \
         @sink(\"csv://out/o.csv\")\n",
    );
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &[], root.join("s.dsl"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`csv://out/o.csv`: CSV cannot hold the column `pair`"),
        "{stderr}"
    );
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert!(!root.join("out/o.csv").exists());
}

/// `--json`'s report line would break a CSV or Arrow stream on stdout:
/// refused before anything runs.
#[test]
fn json_reports_beside_a_csv_stream_on_stdout_are_refused() {
    let (_temp, root) = csv_scenario("id\n1\n", "  @sink(\"stdout://\", format=\"csv\")\n");
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &["--json"], root.join("s.dsl"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`--json` prints the run's report on stdout"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    // Without --json the stream is the only thing on stdout.
    let output = run_file(state.path(), &[], root.join("s.dsl"));
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "id\n1\n");
}

/// A key of JSON lines the contract does not name is schema drift, as an
/// extra CSV column is: reported, kept, and with `--block-on-drift` the
/// rows are rejected.
#[test]
fn a_json_key_the_contract_does_not_name_is_drift() {
    let (_temp, root) = example_copy("orders");
    let row = |id: u32| {
        format!(
            r#"{{"order_id":"ORD-10000{id}","customer_id":"C1","email":"a@b.c","amount":5,"currency":"USD","created_at":"2026-03-01T10:15:00Z","channel":"web"}}"#
        )
    };
    fs::write(
        root.join("data/orders.jsonl"),
        format!("{}\n{}\n", row(1), row(2)),
    )
    .unwrap();
    let dsl = fs::read_to_string(root.join("orders.dsl"))
        .unwrap()
        .replace("csv://data/orders.csv", "jsonl://data/orders.jsonl");
    fs::write(root.join("orders.dsl"), dsl).unwrap();
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &["--json"], root.join("orders.dsl"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reported = report(&output.stdout);
    assert_eq!(reported["drift"]["extra"], serde_json::json!(["channel"]));
    let rejected = json_lines(&root.join("out/orders.dlq.jsonl"));
    assert!(rejected.is_empty(), "{rejected:?}");

    let output = run_file(
        state.path(),
        &["--json", "--block-on-drift"],
        root.join("orders.dsl"),
    );
    let blocked = report(&output.stdout);
    assert_eq!(blocked["rows_rejected"].as_u64(), Some(2), "{blocked}");
}

/// Outputs are replaced whole, by a rename: a symbolic link in an
/// output's place is refused (its file would not be written, the link
/// replaced), and two outputs that one link makes one file are refused
/// (they waited for each other forever). Nothing is touched.
#[test]
fn outputs_through_symbolic_links_are_refused_and_nothing_is_touched() {
    let (_temp, root) = csv_scenario(
        "id\n1\n",
        "  @sink(\"jsonl://out/x.jsonl\")\n  @sink(\"jsonl://again/x.jsonl\", name=\"again\")\n",
    );
    fs::create_dir_all(root.join("out")).unwrap();
    fs::write(root.join("out/x.jsonl"), "{\"old\":1}\n").unwrap();
    std::os::unix::fs::symlink("out", root.join("again")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &[], root.join("s.dsl"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("are one file"), "{stderr}");
    assert_eq!(
        fs::read_to_string(root.join("out/x.jsonl")).unwrap(),
        "{\"old\":1}\n"
    );

    let (_temp, root) = csv_scenario("id\n1\n", "  @sink(\"jsonl://out/link.jsonl\")\n");
    fs::create_dir_all(root.join("out")).unwrap();
    fs::write(root.join("out/real.jsonl"), "{\"old\":1}\n").unwrap();
    std::os::unix::fs::symlink("real.jsonl", root.join("out/link.jsonl")).unwrap();
    let output = run_file(state.path(), &[], root.join("s.dsl"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("it is a symbolic link"), "{stderr}");
    assert!(
        fs::symlink_metadata(root.join("out/link.jsonl"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let leftovers: Vec<_> = fs::read_dir(root.join("out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
}

/// A `sql` step holds its whole input, up to `--sql-rows-max` rows: past
/// it the run fails saying how to raise it, and raised it runs.
#[test]
fn a_sql_steps_bound_is_set_on_the_command_line() {
    let (_temp, root) = csv_scenario(
        "id\n1\n2\n3\n",
        "  @step(\"sql\", query=\"SELECT COUNT(*) AS n FROM input\")\n  @sink(\"jsonl://out/n.jsonl\")\n",
    );
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &["--sql-rows-max", "2"], root.join("s.dsl"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("raise it with `--sql-rows-max`"),
        "{stderr}"
    );
    let output = run_file(state.path(), &["--sql-rows-max", "3"], root.join("s.dsl"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json_lines(&root.join("out/n.jsonl"))[0]["n"], 3);
}

/// An object column with a PII property is masked whole, in the sinks,
/// the DLQ and the messages about its properties.
#[test]
fn an_object_column_with_a_pii_property_is_masked_whole() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    fs::write(
        root.join("c.yaml"),
        "apiVersion: v3.1.0\nkind: DataContract\nid: urn:t\nversion: 1.0.0\nstatus: active\n\
         schema:\n  - name: t\n    properties:\n      - name: customer\n        logicalType: object\n\
         \x20       properties:\n          - name: email\n            logicalType: string\n\
         \x20           classification: pii\n            logicalTypeOptions: { pattern: \"@\" }\n",
    )
    .unwrap();
    fs::write(
        root.join("in.jsonl"),
        "{\"customer\": {\"email\": \"kept@secret.org\"}}\n{\"customer\": {\"email\": \"no-at-sign-secret\"}}\n",
    )
    .unwrap();
    fs::write(
        root.join("s.dsl"),
        "Feature: f\nScenario: s\n  @source(\"jsonl://in.jsonl\")\n  @step(\"mask\")\n  \
         @sink(\"jsonl://out/o.jsonl\")\n  @dlq(\"jsonl://out/d.jsonl\")\n  Given the contract: c.yaml\n",
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &[], root.join("s.dsl"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written = fs::read_to_string(root.join("out/o.jsonl")).unwrap();
    let rejected = fs::read_to_string(root.join("out/d.jsonl")).unwrap();
    for text in [&written, &rejected] {
        assert!(!text.contains("secret"), "{text}");
    }
    let rejected = json_lines(&root.join("out/d.jsonl"));
    assert_eq!(rejected[0]["_runink"]["field"], "customer.email");
    assert!(
        rejected[0]["_runink"]["message"]
            .as_str()
            .unwrap()
            .starts_with("`***`"),
        "{rejected:?}"
    );
}

/// An output that a symbolic link makes the scenario's contract (or the
/// scenario file) is refused before anything runs; the contract stays.
#[test]
fn an_output_that_a_link_makes_the_contract_is_refused() {
    let (_temp, root) = example_copy("orders");
    std::os::unix::fs::symlink("contracts", root.join("linked")).unwrap();
    let scenario = root.join("over.dsl");
    fs::write(
        &scenario,
        "Feature: f\nScenario: o\n  @source(\"csv://data/orders.csv\")\n  \
         @sink(\"csv://linked/orders.yaml\")\n  Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    let contract = fs::read_to_string(root.join("contracts/orders.yaml")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &[], &scenario);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is the contract `contracts/orders.yaml`"),
        "{stderr}"
    );
    assert_eq!(
        fs::read_to_string(root.join("contracts/orders.yaml")).unwrap(),
        contract
    );
}

/// JSON numbers keep their digits in text columns; a key given twice
/// inside an object column and an array where a string property belongs
/// are refused, as at the top level.
#[test]
fn json_values_keep_their_digits_and_nested_values_their_types() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    fs::write(
        root.join("c.yaml"),
        "apiVersion: v3.1.0\nkind: DataContract\nid: urn:t\nversion: 1.0.0\nstatus: active\n\
         schema:\n  - name: t\n    properties:\n      - name: acct\n        logicalType: string\n\
         \x20     - name: o\n        logicalType: object\n        properties:\n\
         \x20         - name: s\n            logicalType: string\n",
    )
    .unwrap();
    fs::write(
        root.join("in.jsonl"),
        concat!(
            "{\"acct\": 12345678901234567890123, \"o\": {\"s\": \"a\"}}\n",
            "{\"acct\": 1, \"o\": {\"s\": \"a\", \"s\": \"b\"}}\n",
            "{\"acct\": 2, \"o\": {\"s\": [\"x\"]}}\n",
        ),
    )
    .unwrap();
    fs::write(
        root.join("s.dsl"),
        "Feature: f\nScenario: s\n  @source(\"jsonl://in.jsonl\")\n  @sink(\"jsonl://out/o.jsonl\")\n  \
         @dlq(\"jsonl://out/d.jsonl\")\n  Given the contract: c.yaml\n",
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let output = run_file(state.path(), &[], root.join("s.dsl"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written = json_lines(&root.join("out/o.jsonl"));
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["acct"], "12345678901234567890123");
    let rejected = json_lines(&root.join("out/d.jsonl"));
    let reasons: Vec<(u64, &str)> = rejected
        .iter()
        .map(|r| {
            (
                r["_runink"]["line"].as_u64().unwrap(),
                r["_runink"]["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, 2);
    assert!(
        reasons[0].1.contains("the key `s` appears twice"),
        "{reasons:?}"
    );
    assert_eq!(reasons[1].0, 3);
    assert_eq!(rejected[1]["_runink"]["field"], "o.s");
}

/// A run that fails (here on an assert, after every row was read) reports
/// its rejects by rule, as one that succeeded does: the counts and their
/// breakdown agree.
#[test]
fn a_failed_runs_report_breaks_its_rejects_down_by_rule() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    fs::write(
        root.join("failing.dsl"),
        "Feature: f\nScenario: s\n  @source(\"csv://data/orders.csv\")\n  \
         @sink(\"jsonl://out/t.jsonl\")\n  @assert(\"rows_in = 0\")\n  \
         Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    let output = json_run(state.path(), &root.join("failing.dsl"));
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = report(&output.stdout);
    assert_eq!(report["rows_rejected"], 6, "{report}");
    let by_rule: u64 = report["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(by_rule, 6, "{report}");
    assert!(!root.join("out/t.jsonl").exists(), "nothing written");
}

/// Rows that meet no sink's `when` are written nowhere: the report counts
/// them, so that rows out = rows taken by some sink + rows unrouted.
#[test]
fn rows_that_meet_no_sinks_condition_are_counted_as_unrouted() {
    let (_temp, root) = example_copy("orders");
    let state = tempfile::tempdir().unwrap();
    fs::write(
        root.join("routed.dsl"),
        "Feature: f\nScenario: s\n  @source(\"csv://data/orders.csv\")\n  \
         @sink(\"jsonl://out/big.jsonl\", when=\"amount >= 100\")\n  \
         @sink(\"jsonl://out/small.jsonl\", when=\"amount < 10\")\n  \
         Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    let report = report_of_success(&json_run(state.path(), &root.join("routed.dsl")));
    let taken = json_lines(&root.join("out/big.jsonl")).len()
        + json_lines(&root.join("out/small.jsonl")).len();
    let unrouted = report["rows_unrouted"].as_u64().unwrap();
    assert!(unrouted > 0, "{report}");
    assert_eq!(
        report["rows_out"].as_u64().unwrap(),
        taken as u64 + unrouted,
        "{report}"
    );
    // With a sink that takes every row, none is unrouted.
    let output = json_run(state.path(), &root.join("orders.dsl"));
    assert_eq!(report_of_success(&output)["rows_unrouted"], 0);
}

/// `runi --json run FILE` with its state in `state`.
fn json_run(state: &Path, file: &Path) -> std::process::Output {
    runi(state)
        .args(["--json", "run"])
        .arg(file)
        .output()
        .unwrap()
}

/// The report of a run that must have succeeded.
fn report_of_success(output: &std::process::Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    report(&output.stdout)
}
