//! `runi runs`, `runi status` and `runi logs` on runs that `runi run`
//! recorded in the embedded Barn of a real state folder; two `runi run`
//! processes sharing one state folder; a state folder held too long.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use runink_testkit::repo_root;
use serde_json::Value;

/// A copy of the orders example, so runs write into a temporary place.
fn orders_copy() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    runink_testkit::copy_tree(&repo_root().join("examples/orders"), temp.path());
    let dsl = temp.path().join("orders.dsl");
    (temp, dsl)
}

fn runi(state: &Path) -> Command {
    let mut command = Command::cargo_bin("runi").unwrap();
    command
        .env("RUNINK_HOME", state)
        .env("RUNINK_MASK_SALT", "test-salt")
        .env_remove("RUNINK_STEPS_PATH")
        .env_remove("RUNINK_LOCK_WAIT_MS");
    command
}

fn run_ok(state: &Path, args: &[&str]) -> Output {
    let output = runi(state).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "runi {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(state: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_slice(&run_ok(state, &all).stdout).unwrap()
}

fn text(state: &Path, args: &[&str]) -> String {
    String::from_utf8(run_ok(state, args).stdout).unwrap()
}

fn run_scenario(state: &Path, dsl: &Path) -> Output {
    runi(state).arg("run").arg(dsl).output().unwrap()
}

/// Makes the example's assert fail, so its next run fails (exit 1).
fn break_the_assert(dsl: &Path) {
    let text = fs::read_to_string(dsl)
        .unwrap()
        .replace("rows_out >= 1", "rows_out >= 1000");
    fs::write(dsl, text).unwrap();
}

#[test]
fn a_run_is_recorded_with_its_hashes_counts_outputs_and_log() {
    let (_temp, dsl) = orders_copy();
    let state = tempfile::tempdir().unwrap();
    let run = run_scenario(state.path(), &dsl);
    assert!(run.status.success());
    let plan = json(state.path(), &["explain", dsl.to_str().unwrap()]);
    let dag_hash = plan["plans"][0]["dag_hash"].as_str().unwrap();

    let status = json(state.path(), &["status", "1"]);
    assert_eq!(status["status"], "succeeded");
    assert_eq!(status["scenario"], "Validate and mask incoming orders");
    assert_eq!(status["herd"], "finance");
    assert_eq!(status["dag_hash"], dag_hash);
    let contract = &status["contracts"][0];
    assert_eq!(
        (contract["role"].as_str(), contract["path"].as_str()),
        (Some("input"), Some("contracts/orders.yaml"))
    );
    let contract_hash = text(
        state.path(),
        &[
            "contract",
            "hash",
            dsl.with_file_name("contracts/orders.yaml")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(
        contract_hash.contains(contract["hash"].as_str().unwrap()),
        "{contract_hash}"
    );
    let counts = &status["counts"];
    assert_eq!(
        (
            counts["rows_in"].as_u64(),
            counts["rows_out"].as_u64(),
            counts["rows_rejected"].as_u64(),
            counts["rows_dropped"].as_u64()
        ),
        (Some(24), Some(16), Some(6), Some(2))
    );
    let started = status["started_at_ms"].as_u64().unwrap();
    let ended = status["finished_at_ms"].as_u64().unwrap();
    assert!(started <= ended);
    let detail = &status["detail"];
    assert_eq!(detail["sources"][0]["name"], "csv://data/orders.csv");
    assert_eq!(detail["steps"].as_array().unwrap().len(), 3);
    assert_eq!(detail["rules"].as_array().unwrap().len(), 6);
    let outputs: Vec<(String, u64)> = detail["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["uri"].as_str().unwrap().to_owned(),
                o["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outputs,
        [
            ("parquet://out/orders.parquet".to_owned(), 16),
            ("jsonl://out/big_orders.jsonl".to_owned(), 5),
            ("jsonl://out/orders.dlq.jsonl".to_owned(), 6),
        ]
    );

    let page = text(state.path(), &["status", "1"]);
    for expected in [
        "status     succeeded",
        "contract   input contracts/orders.yaml",
        "rows       24 in, 16 out, 6 rejected, 2 dropped",
        "orders (parquet://out/orders.parquet)",
        "input contract / order_id / duplicate",
    ] {
        assert!(page.contains(expected), "`{expected}` in\n{page}");
    }

    let log = text(state.path(), &["logs", "1"]);
    for expected in [
        "INFO  started `Validate and mask incoming orders`",
        "INFO  read 24 rows from csv://data/orders.csv",
        "WARN  rejected 1 rows at input contract on `order_id`: duplicate",
        "INFO  wrote 16 rows to orders (parquet://out/orders.parquet)",
        "INFO  succeeded in",
    ] {
        assert!(log.contains(expected), "`{expected}` in\n{log}");
    }
    let warnings = json(state.path(), &["logs", "1", "--level", "warn"]);
    let warnings = warnings.as_array().unwrap();
    assert_eq!(warnings.len(), 6);
    assert!(warnings.iter().all(|e| e["level"] == "warn"));
}

#[test]
fn a_failed_run_is_recorded_as_failed_with_its_reason() {
    let (_temp, dsl) = orders_copy();
    let state = tempfile::tempdir().unwrap();
    assert!(run_scenario(state.path(), &dsl).status.success());
    break_the_assert(&dsl);
    let failed = run_scenario(state.path(), &dsl);
    assert_eq!(failed.status.code(), Some(1));

    let status = json(state.path(), &["status", "2"]);
    assert_eq!(status["status"], "failed");
    let reason = status["summary"].as_str().unwrap();
    assert!(reason.contains("rows_out >= 1000"), "{reason}");
    let page = text(state.path(), &["status", "2"]);
    assert!(page.contains("reason     "), "{page}");
    let log = text(state.path(), &["logs", "2"]);
    assert!(
        log.contains("ERROR assert `rows_out >= 1000` failed"),
        "{log}"
    );
    assert!(log.contains("ERROR failed, nothing was written:"), "{log}");
    assert!(!log.contains("wrote 16 rows"), "{log}");

    // Newest first; filters by status and scenario; a limit.
    let ids = |runs: Value| -> Vec<u64> {
        runs.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids(json(state.path(), &["runs"])), [2, 1]);
    assert_eq!(
        ids(json(state.path(), &["runs", "--status", "failed"])),
        [2]
    );
    assert_eq!(
        ids(json(
            state.path(),
            &["runs", "--status", "failed,succeeded"]
        )),
        [2, 1]
    );
    assert_eq!(ids(json(state.path(), &["runs", "--limit", "1"])), [2]);
    assert_eq!(
        ids(json(
            state.path(),
            &["runs", "--scenario", "nothing like it"]
        )),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(json(state.path(), &["runs", "--herd", "finance"])),
        [2, 1]
    );
    let none = run_ok(state.path(), &["runs", "--status", "cancelled"]);
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert!(
        stderr.contains("no run recorded in") && stderr.contains("matches these filters"),
        "{stderr}"
    );
    let table = text(state.path(), &["runs"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("RUN  STATUS"), "{table}");
    assert!(lines[1].starts_with("2    failed"), "{table}");
    assert!(lines[2].starts_with("1    succeeded"), "{table}");
}

#[test]
fn unknown_runs_and_bad_arguments_are_usage_errors() {
    let state = tempfile::tempdir().unwrap();
    // Nothing recorded yet: an empty list, and no ledger made by reading.
    assert_eq!(json(state.path(), &["runs"]), serde_json::json!([]));
    assert!(!state.path().join("barn").exists());

    let unknown = runi(state.path()).args(["status", "7"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no run `7`") && stderr.contains("runi runs"),
        "{stderr}"
    );

    let bad_id = runi(state.path())
        .args(["logs", "latest"])
        .output()
        .unwrap();
    assert_eq!(bad_id.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad_id.stderr);
    assert!(stderr.contains("expected a run number"), "{stderr}");

    let bad_hash = runi(state.path())
        .args(["runs", "--dag-hash", "xyz"])
        .output()
        .unwrap();
    assert_eq!(bad_hash.status.code(), Some(2));

    let bad_wait = runi(state.path())
        .env("RUNINK_LOCK_WAIT_MS", "soon")
        .args(["runs"])
        .output()
        .unwrap();
    assert_eq!(bad_wait.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad_wait.stderr);
    assert!(stderr.contains("RUNINK_LOCK_WAIT_MS"), "{stderr}");
}

#[test]
fn two_runs_at_once_on_one_state_folder_both_succeed_and_are_both_recorded() {
    let (_first_temp, first) = orders_copy();
    let (_second_temp, second) = orders_copy();
    let state = tempfile::tempdir().unwrap();
    let spawn = |dsl: &Path| spawn_run(state.path(), dsl);
    let rounds = 3;
    for _ in 0..rounds {
        let one = spawn(&first);
        let two = spawn(&second);
        for child in [one, two] {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let runs = json(state.path(), &["runs", "--limit", "100"]);
    let runs = runs.as_array().unwrap();
    let mut ids: Vec<u64> = runs.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=2 * rounds).collect::<Vec<u64>>());
    assert!(runs.iter().all(|r| r["status"] == "succeeded"));
    // Each run's DLQ rows carry its own id.
    for dsl in [&first, &second] {
        let dlq = fs::read_to_string(dsl.with_file_name("out/orders.dlq.jsonl")).unwrap();
        let row: Value = serde_json::from_str(dlq.lines().next().unwrap()).unwrap();
        let id: u64 = row["_runink"]["run_id"].as_str().unwrap().parse().unwrap();
        assert!(ids.contains(&id));
    }
}

/// Starts `runi run DSL` without waiting for it.
#[expect(
    clippy::disallowed_methods,
    reason = "two runs at once need two live processes; this starts the runi under test, not user code"
)]
fn spawn_run(state: &Path, dsl: &Path) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("runi"))
        .env("RUNINK_HOME", state)
        .env("RUNINK_MASK_SALT", "test-salt")
        .env_remove("RUNINK_LOCK_WAIT_MS")
        .arg("run")
        .arg(dsl)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_state_folder_held_past_the_bound_fails_the_run_clearly_and_writes_nothing() {
    let (_temp, dsl) = orders_copy();
    let state = tempfile::tempdir().unwrap();
    // Record one run, so the ledger exists, then hold its lock as another
    // process would.
    assert!(run_scenario(state.path(), &dsl).status.success());
    fs::remove_dir_all(dsl.with_file_name("out")).unwrap();
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(state.path().join("barn/barn.lock"))
        .unwrap();
    lock.try_lock().unwrap();

    let output = runi(state.path())
        .env("RUNINK_LOCK_WAIT_MS", "100")
        .arg("run")
        .arg(&dsl)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the run was not started") && stderr.contains("is in use by"),
        "{stderr}"
    );
    assert!(!dsl.with_file_name("out").exists());

    lock.unlock().unwrap();
    // The ledger is intact: the first run is there, and a new run records.
    assert!(run_scenario(state.path(), &dsl).status.success());
    let runs = json(state.path(), &["runs"]);
    assert_eq!(runs.as_array().unwrap().len(), 2);
}

/// The orders example reading its rows from stdin, started with stdin a
/// pipe kept open: it runs, its Barn held, until the pipe closes.
#[expect(
    clippy::disallowed_methods,
    reason = "a run that waits for its input needs a live process; this starts the runi under test, not user code"
)]
fn spawn_run_waiting_on_stdin(state: &Path, dsl: &Path) -> std::process::Child {
    let text = fs::read_to_string(dsl)
        .unwrap()
        .replace("csv://data/orders.csv", "stdin://\", format=\"csv");
    fs::write(dsl, text).unwrap();
    std::process::Command::new(assert_cmd::cargo::cargo_bin("runi"))
        .env("RUNINK_HOME", state)
        .env("RUNINK_MASK_SALT", "test-salt")
        .env_remove("RUNINK_LOCK_WAIT_MS")
        .arg("run")
        .arg(dsl)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The runs once the ledger has one: read while the run goes on, so the
/// reader gets the folder (within its lock wait) only because the run
/// hands it off.
fn runs_once_one_is_recorded(state: &Path) -> Value {
    let started = std::time::Instant::now();
    loop {
        let runs = json(state, &["runs"]);
        if !runs.as_array().unwrap().is_empty() {
            return runs;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the run was never recorded as started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_long_run_hands_the_state_folder_to_a_reader_and_records_its_end() {
    use std::io::Write;
    let (_temp, dsl) = orders_copy();
    let state = tempfile::tempdir().unwrap();
    let rows = fs::read(dsl.with_file_name("data").join("orders.csv")).unwrap();
    let mut running = spawn_run_waiting_on_stdin(state.path(), &dsl);
    let runs = runs_once_one_is_recorded(state.path());
    assert_eq!(runs[0]["status"], "running", "{runs}");

    let mut stdin = running.stdin.take().unwrap();
    stdin.write_all(&rows).unwrap();
    drop(stdin);
    let finished = running.wait_with_output().unwrap();
    assert!(
        finished.status.success(),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    let runs = json(state.path(), &["runs"]);
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["status"], "succeeded", "{runs}");
    assert!(dsl.with_file_name("out").join("orders.parquet").exists());
}

#[test]
fn a_killed_run_is_recorded_as_failed_by_the_next_runi() {
    let (_temp, dsl) = orders_copy();
    let state = tempfile::tempdir().unwrap();
    let mut running = spawn_run_waiting_on_stdin(state.path(), &dsl);
    runs_once_one_is_recorded(state.path());
    // Alive, it stays running however often the ledger is read.
    for _ in 0..3 {
        assert_eq!(json(state.path(), &["runs"])[0]["status"], "running");
    }
    running.kill().unwrap();
    running.wait().unwrap();

    let runs = json(state.path(), &["runs"]);
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(runs[0]["status"], "failed", "{runs}");
    let status = text(state.path(), &["status", "1"]);
    assert!(
        status.contains("its process ended before recording"),
        "{status}"
    );
    assert!(!dsl.with_file_name("out").join("orders.parquet").exists());
}

/// SIGINT in the middle of a run: the run's temporary outputs are removed
/// at once, the earlier outputs stay as they were, the process ends with
/// 130, and the run is recorded as failed.
#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "`kill -INT` sends the signal to the runi under test"
)]
fn an_interrupted_run_removes_its_temporary_outputs() {
    use std::io::Write;
    let (_temp, dsl) = orders_copy();
    let state = tempfile::tempdir().unwrap();
    let out = dsl.with_file_name("out");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("orders.parquet"), "earlier").unwrap();
    let rows = fs::read(dsl.with_file_name("data").join("orders.csv")).unwrap();
    let mut running = spawn_run_waiting_on_stdin(state.path(), &dsl);
    let mut stdin = running.stdin.take().unwrap();
    stdin.write_all(&rows).unwrap();
    let temporary = |out: &Path| -> Vec<String> {
        fs::read_dir(out)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("runink-tmp"))
            .collect()
    };
    let started = std::time::Instant::now();
    while temporary(&out).is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the run never opened its outputs"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT", &running.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let ended = running.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&ended.stderr);
    assert_eq!(ended.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted by SIGINT"), "{stderr}");
    assert!(temporary(&out).is_empty(), "{:?}", temporary(&out));
    assert_eq!(
        fs::read_to_string(out.join("orders.parquet")).unwrap(),
        "earlier"
    );
    let runs = json(state.path(), &["runs"]);
    assert_eq!(runs[0]["status"], "failed", "{runs}");
}
