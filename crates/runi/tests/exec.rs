//! The `exec` step on real programs, run as slices: rows out and back in
//! each format, what a program emits checked (malformed lines and values to
//! the DLQ with their line), failures with the exit status and the last
//! lines of stderr, stderr kept in the run's record, an out-of-memory kill,
//! and a big input that would deadlock a naive parent.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use slice_support::{isolation_available, report};

mod slice_support;

const CONTRACT: &str = r#"apiVersion: v3.0.2
kind: DataContract
id: urn:test:orders
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - name: id
        logicalType: string
        required: true
      - name: amount
        logicalType: number
"#;

const OUTPUT_CONTRACT: &str = r#"apiVersion: v3.0.2
kind: DataContract
id: urn:test:scored
version: 1.0.0
status: active
schema:
  - name: scored
    properties:
      - name: id
        logicalType: string
        required: true
      - name: amount
        logicalType: number
      - name: score
        logicalType: integer
"#;

/// A scenario folder with `data/in.csv` (`rows`), the contracts, the given
/// step files and a scenario running `step_tags` between source and sink.
fn scenario(rows: &str, step_tags: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().to_path_buf();
    fs::create_dir_all(root.join("data")).unwrap();
    fs::write(root.join("data/in.csv"), rows).unwrap();
    fs::write(root.join("in.yaml"), CONTRACT).unwrap();
    fs::write(root.join("out.yaml"), OUTPUT_CONTRACT).unwrap();
    for (name, text) in files {
        fs::write(root.join(name), text).unwrap();
    }
    let dsl = format!(
        "Feature: exec\n\nScenario: exec step\n  @source(\"csv://data/in.csv\")\n{step_tags}\n  @sink(\"jsonl://out/rows.jsonl\")\n  @dlq(\"jsonl://out/dlq.jsonl\")\n\n  Given the contract: in.yaml\n  Then the output contract: out.yaml\n"
    );
    fs::write(root.join("s.dsl"), dsl).unwrap();
    (temp, root)
}

fn run(root: &Path) -> std::process::Output {
    let state = root.join(".state");
    Command::cargo_bin("runi")
        .unwrap()
        .env("RUNINK_HOME", &state)
        .env("RUNINK_MASK_SALT", "salt")
        .env_remove("RUNINK_STEPS_PATH")
        .args(["--json", "run"])
        .arg(root.join("s.dsl"))
        .output()
        .unwrap()
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const ROWS: &str = "id,amount\na,1.5\nb,2\nc,-3\n";

#[test]
fn jsonl_rows_go_out_and_come_back_checked_with_bad_lines_in_the_dlq() {
    if !isolation_available("exec jsonl") {
        return;
    }
    // Line 1 is fine, 2 is not JSON, 3 has an undeclared field, 4 has an
    // amount that is not a number, 5 an array for a string, 6 a NaN the
    // output contract refuses; then the program echoes every row with a
    // score, so its output lines 7..9 are good.
    let script = r#"import json, sys
print(json.dumps({"id": "first", "amount": 9}))
print("not json")
print(json.dumps({"id": "x", "password": "hunter2"}))
print(json.dumps({"id": "y", "amount": "lots"}))
print(json.dumps({"id": ["z"], "amount": 1}))
print(json.dumps({"id": "n", "amount": "NaN"}))
for line in sys.stdin:
    row = json.loads(line)
    row["score"] = int(row["amount"] * 10)
    print(json.dumps(row))
print("scored", file=sys.stderr)
"#;
    let (_temp, root) = scenario(
        ROWS,
        "  @step(\"exec\", cmd=\"python3 score.py\")",
        &[("score.py", script)],
    );
    let output = run(&root);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = json_lines(&root.join("out/rows.jsonl"));
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["first", "a", "b", "c"]);
    assert_eq!(rows[1]["amount"], 1.5);
    assert_eq!(rows[1]["score"], 15);
    assert_eq!(rows[3]["score"], -30);

    let dlq = json_lines(&root.join("out/dlq.jsonl"));
    let (from_step, from_contract): (Vec<_>, Vec<_>) = dlq
        .iter()
        .partition(|r| r["_runink"]["step"] == "step 1 (exec)");
    let reasons: Vec<(u64, &str, &str)> = from_step
        .iter()
        .map(|r| {
            let meta = &r["_runink"];
            assert_eq!(meta["source"], "output of step 1 (exec)");
            (
                meta["line"].as_u64().unwrap(),
                meta["rule"].as_str().unwrap(),
                meta["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert_eq!((reasons[0].0, reasons[0].1), (2, "exec_output"));
    assert!(reasons[0].2.contains("not valid JSON"), "{reasons:?}");
    assert_eq!((reasons[1].0, reasons[1].1), (3, "exec_output"));
    assert!(reasons[1].2.contains("`password`"), "{reasons:?}");
    assert_eq!((reasons[2].0, reasons[2].1), (5, "exec_output"));
    assert!(reasons[2].2.contains("`id` is an array"), "{reasons:?}");
    assert_eq!((reasons[3].0, reasons[3].1), (4, "cast"));
    assert!(reasons[3].2.contains("`lots`"), "{reasons:?}");
    // A value that cannot be cast keeps its whole row in the DLQ.
    let cast = from_step
        .iter()
        .find(|r| r["_runink"]["rule"] == "cast")
        .unwrap();
    assert_eq!(
        (&cast["id"], &cast["amount"]),
        (&"y".into(), &"lots".into())
    );
    // NaN is no number, from a program as from a file.
    assert_eq!(from_contract.len(), 1, "{from_contract:?}");
    assert_eq!(from_contract[0]["_runink"]["step"], "output contract");
    assert_eq!(from_contract[0]["_runink"]["rule"], "logicalType");
    assert_eq!(from_contract[0]["id"], "n");

    let report = report(&output);
    assert_eq!(report["steps"][0]["rows_in"], 3);
    assert_eq!(report["steps"][0]["rows_out"], 5);
    assert_eq!(report["steps"][0]["rows_rejected"], 4);
    // stderr is kept in the run's record.
    assert_eq!(report["steps"][0]["stderr"][0], "scored");
}

#[test]
fn a_failing_program_fails_the_run_with_its_status_and_last_stderr_lines() {
    if !isolation_available("exec failure") {
        return;
    }
    let script = "cat > /dev/null\necho 'lookup table missing' >&2\necho 'giving up' >&2\nexit 3\n";
    let (_temp, root) = scenario(
        ROWS,
        "  @step(\"exec\", cmd=\"sh fail.sh\", name=\"lookup\")",
        &[("fail.sh", script)],
    );
    let output = run(&root);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("step 1 (`lookup`) failed"), "{stderr}");
    assert!(
        stderr.contains("`sh fail.sh` exited with status 3"),
        "{stderr}"
    );
    assert!(stderr.contains("lookup table missing"), "{stderr}");
    assert!(stderr.contains("giving up"), "{stderr}");
    // Nothing was written.
    assert!(!root.join("out/rows.jsonl").exists());
    assert!(!root.join("out/dlq.jsonl").exists());
}

#[test]
fn csv_rows_go_through_a_shell_program() {
    if !isolation_available("exec csv") {
        return;
    }
    // awk adds a score column: the header gets its name, each row a value.
    let script =
        r#"awk -F, 'NR == 1 { print $0 ",score"; next } { print $0 "," ($2 > 0 ? 1 : 0) }'"#;
    let (_temp, root) = scenario(
        ROWS,
        "  @step(\"exec\", cmd=\"sh score.sh\", format=\"csv\")",
        &[("score.sh", script)],
    );
    let output = run(&root);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = json_lines(&root.join("out/rows.jsonl"));
    let scored: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["score"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(scored, [("a".into(), 1), ("b".into(), 1), ("c".into(), 0)]);
    assert_eq!(rows[2]["amount"], -3.0);
}

#[test]
fn arrow_ipc_rows_come_back_from_cat_unchanged() {
    if !isolation_available("exec arrow") {
        return;
    }
    let (_temp, root) = scenario(
        ROWS,
        "  @step(\"exec\", cmd=\"cat\", format=\"arrow\")",
        &[],
    );
    let output = run(&root);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = json_lines(&root.join("out/rows.jsonl"));
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], "a");
    assert_eq!(rows[0]["amount"], 1.5);
    assert_eq!(rows[0]["score"], serde_json::Value::Null);
}

#[test]
fn output_that_is_not_an_arrow_stream_fails_the_step() {
    if !isolation_available("exec arrow garbage") {
        return;
    }
    let (_temp, root) = scenario(
        ROWS,
        "  @step(\"exec\", cmd=\"cat > /dev/null; echo garbage\", format=\"arrow\")",
        &[],
    );
    let output = run(&root);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("emitted output that cannot be read"),
        "{stderr}"
    );
}

#[test]
fn a_big_input_through_a_program_that_writes_before_it_reads_all_does_not_deadlock() {
    if !isolation_available("exec big input") {
        return;
    }
    // 200,000 rows (several MiB each way, far beyond a pipe's buffer); awk
    // writes two lines for every line it reads, so its stdout fills while
    // the parent is still writing its stdin.
    let mut rows = String::from("id,amount\n");
    for i in 0..200_000 {
        rows.push_str(&format!("row-{i},{i}\n"));
    }
    let (_temp, root) = scenario(
        &rows,
        "  @step(\"exec\", cmd=\"awk '{ print; print }'\")",
        &[],
    );
    let output = run(&root);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = report(&output);
    assert_eq!(report["steps"][0]["rows_in"], 200_000);
    assert_eq!(report["rows_out"], 400_000);
}

#[test]
fn a_program_over_its_memory_limit_is_killed_and_reported_as_out_of_memory() {
    if !isolation_available("exec out of memory") {
        return;
    }
    let script = "import sys\nsys.stdin.read()\nblocks = [bytearray(8 << 20) for _ in range(64)]\nprint(len(blocks))\n";
    let (_temp, root) = scenario(
        ROWS,
        "  @requires(memory=\"32Mi\")\n  @step(\"exec\", cmd=\"python3 hog.py\")",
        &[("hog.py", script)],
    );
    let output = run(&root);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("out of memory"), "{stderr}");
    assert!(stderr.contains("32 MiB"), "{stderr}");
}

#[test]
fn isolation_none_runs_the_program_unconfined_and_says_so() {
    // Inside a slice the host's /etc/passwd does not exist; unconfined it does.
    let (_temp, root) = scenario(
        ROWS,
        "  @step(\"exec\", cmd=\"test -e /etc/passwd && cat\")",
        &[],
    );
    let output = Command::cargo_bin("runi")
        .unwrap()
        .env("RUNINK_HOME", root.join(".state"))
        .env("RUNINK_MASK_SALT", "salt")
        .args(["run", "--isolation", "none"])
        .arg(root.join("s.dsl"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("isolation is off"), "{stderr}");
    assert_eq!(json_lines(&root.join("out/rows.jsonl")).len(), 3);

    if !isolation_available("exec confined sees no host files") {
        return;
    }
    let output = run(&root);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn without_isolation_the_run_fails_naming_the_missing_feature_and_the_opt_out() {
    // An unprivileged user cannot set slices up: the run must refuse, not
    // quietly run the program unconfined.
    let (temp, root) = scenario(ROWS, "  @step(\"exec\", cmd=\"cat\")", &[]);
    let state = root.join(".state");
    fs::create_dir_all(&state).unwrap();
    for path in [temp.path(), &root.join("data"), &state] {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o777)).unwrap();
    }
    let runi = assert_cmd::cargo::cargo_bin("runi");
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(runi)
        .arg("run")
        .arg(root.join("s.dsl"))
        .env("RUNINK_HOME", &state)
        .env("RUNINK_MASK_SALT", "salt")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("isolation is not available: root privileges"),
        "{stderr}"
    );
    assert!(stderr.contains("`--isolation none`"), "{stderr}");
    assert!(!root.join("out/rows.jsonl").exists());
}

/// A program's stderr quoting a value of a sensitive column: the value
/// reaches neither the error, nor the run's log.
#[test]
fn a_programs_stderr_shows_no_quoted_value_when_columns_are_sensitive() {
    if !isolation_available("exec stderr") {
        return;
    }
    let script = "import sys\nfor line in sys.stdin:\n    print(\"cannot read 'secret-\" + line.strip()[8:9] + \"'\", file=sys.stderr)\nsys.exit(2)\n";
    let (_temp, root) = scenario(
        ROWS,
        "  @step(\"exec\", cmd=\"python3 fail.py\")",
        &[("fail.py", script)],
    );
    let sensitive = CONTRACT.replacen(
        "      - name: id\n        logicalType: string\n",
        "      - name: id\n        logicalType: string\n        classification: pii\n",
        1,
    );
    assert_ne!(sensitive, CONTRACT);
    fs::write(root.join("in.yaml"), sensitive).unwrap();
    let output = run(&root);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot read '***'"), "{stderr}");
    assert!(!stderr.contains("secret-"), "{stderr}");
    let logs = Command::cargo_bin("runi")
        .unwrap()
        .env("RUNINK_HOME", root.join(".state"))
        .args(["logs", "1"])
        .output()
        .unwrap();
    let logs = String::from_utf8_lossy(&logs.stdout);
    assert!(
        logs.contains("'***'") && !logs.contains("secret-"),
        "{logs}"
    );
}

/// Under `--isolation none` a program that leaves a child running in the
/// background (holding its stdout) does not hold the run open: the child
/// is killed once the program has exited.
#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "the runi under test is started by hand to bound how long it may hang"
)]
fn an_unconfined_programs_background_child_ends_with_it() {
    let marker = "299.75";
    let (_temp, root) = scenario(
        ROWS,
        &format!("  @step(\"exec\", cmd=\"cat; (sleep {marker} &)\")"),
        &[],
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("runi"))
        .env("RUNINK_HOME", root.join(".state"))
        .env("RUNINK_MASK_SALT", "salt")
        .args(["-q", "run", "--isolation", "none"])
        .arg(root.join("s.dsl"))
        .spawn()
        .unwrap();
    // A hang guard, not a timing: the run takes well under a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not end after its program exited");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success());
    let left: Vec<String> = fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.starts_with("sleep") && c.contains(marker))
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
}

/// A second Arrow stream after the first one's end would be lost: the
/// step fails, saying so.
#[test]
fn data_after_the_end_of_an_arrow_stream_fails_the_step() {
    if !isolation_available("exec arrow trailing stream") {
        return;
    }
    let (_temp, root) = scenario(
        ROWS,
        "  @step(\"exec\", cmd=\"cat > /tmp/s.arrow; cat /tmp/s.arrow /tmp/s.arrow\", format=\"arrow\")",
        &[],
    );
    let output = run(&root);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("more data follows the end of the Arrow stream"),
        "{stderr}"
    );
    assert!(!root.join("out/rows.jsonl").exists());
}
