//! Built-in steps run in slices: each group of built-in steps is a `runi
//! slice-worker` process, confined like an `exec` step's program. These
//! tests run real scenarios with the real binary and check that the run
//! records each slice's confinement, that a slice gives exactly what one
//! process gives (rows, DLQ rows with their source lines, counts), and
//! that a slice over its memory limit fails the run, saying so.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
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
        logicalType: integer
        required: true
      - name: email
        logicalType: string
        classification: pii
        customProperties:
          - property: mask
            value: hash
      - name: code
        logicalType: string
      - name: amount
        logicalType: number
"#;

/// Line 1 is the header, so row N is on line N + 1. The code `x7` on line
/// 4 fails the cast; id 1 comes back on line 6 for `dedupe`; the amount 0
/// on line 5 is filtered out.
const ROWS: &str = "id,email,code,amount\n\
1,a@example.com,11,10.5\n\
2,b@example.com,12,3\n\
3,c@example.com,x7,4\n\
4,d@example.com,14,0\n\
1,e@example.com,15,9\n\
5,f@example.com,16,7.25\n";

/// Two slices: steps 1–3, then `@requires` starts slice 2 (steps 4–5).
const STEPS: &str = "  @step(\"mask\")\n\
  @step(\"cast\", code=\"BIGINT\")\n\
  @step(\"filter\", where=\"amount > 0\")\n\
  @requires(memory=\"256Mi\")\n\
  @step(\"dedupe\", keys=\"id\")\n\
  @step(\"sql\", query=\"SELECT id, email, code, amount * 2 AS doubled FROM input ORDER BY id\")";

fn scenario(rows: &str, steps: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().to_path_buf();
    fs::create_dir_all(root.join("data")).unwrap();
    fs::write(root.join("data/in.csv"), rows).unwrap();
    fs::write(root.join("in.yaml"), CONTRACT).unwrap();
    let dsl = format!(
        "Feature: slices\n\nScenario: built-in slices\n  @source(\"csv://data/in.csv\")\n{steps}\n  @sink(\"jsonl://out/rows.jsonl\")\n  @dlq(\"jsonl://out/dlq.jsonl\")\n\n  Given the contract: in.yaml\n"
    );
    fs::write(root.join("s.dsl"), dsl).unwrap();
    (temp, root)
}

fn run(root: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("runi")
        .unwrap()
        .env("RUNINK_HOME", root.join(".state"))
        .env("RUNINK_MASK_SALT", "salt")
        .env_remove("RUNINK_STEPS_PATH")
        .args(["--json", "run"])
        .args(extra)
        .arg(root.join("s.dsl"))
        .output()
        .unwrap()
}

/// The same scenario run twice in batches of 7 rows: in one slice, then
/// with every step in this process. Both must succeed; gives each run's
/// folder (kept alive by its temporary directory) and report.
struct SlicedAndHere {
    _sliced_dir: tempfile::TempDir,
    sliced: PathBuf,
    sliced_report: Value,
    _here_dir: tempfile::TempDir,
    here: PathBuf,
    here_report: Value,
}

fn run_sliced_and_here(rows: &str, steps: &str) -> SlicedAndHere {
    let batches = ["--batch-rows-max", "7"];
    let (sliced_dir, sliced) = scenario(rows, steps);
    let output = run(&sliced, &batches);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sliced_report = report(&output);
    assert_eq!(sliced_report["slices"].as_array().unwrap().len(), 1);
    let (here_dir, here) = scenario(rows, steps);
    let output = run(&here, &[&batches[..], &["--isolation", "none"]].concat());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    SlicedAndHere {
        _sliced_dir: sliced_dir,
        sliced,
        sliced_report,
        _here_dir: here_dir,
        here,
        here_report: report(&output),
    }
}

/// A file's JSON lines, without the run's id (which differs per run).
fn json_lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let mut value: Value = serde_json::from_str(line).unwrap();
            if let Some(meta) = value.get_mut("_runink").and_then(Value::as_object_mut) {
                meta.remove("run_id");
            }
            value
        })
        .collect()
}

#[test]
fn built_in_steps_run_confined_and_give_what_one_process_gives() {
    if !isolation_available("built-in slices") {
        return;
    }
    let (_confined_dir, confined) = scenario(ROWS, STEPS);
    let output = run(&confined, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sliced = report(&output);

    let slices = sliced["slices"].as_array().unwrap();
    let steps: Vec<&Value> = slices.iter().map(|s| &s["steps"]).collect();
    assert_eq!(
        steps,
        vec![&serde_json::json!([1, 2, 3]), &serde_json::json!([4, 5])]
    );
    for slice in slices {
        let confinement = &slice["confinement"];
        assert_eq!(confinement["no_new_privs"], 1, "{slice}");
        assert_eq!(confinement["seccomp"], 2, "{slice}");
        assert_eq!(confinement["cap_eff"], "0000000000000000", "{slice}");
    }

    // The run's log, kept in the Barn, says the same.
    let run_id = sliced["run_id"].as_str().unwrap();
    let logs = Command::cargo_bin("runi")
        .unwrap()
        .env("RUNINK_HOME", confined.join(".state"))
        .args(["logs", run_id])
        .output()
        .unwrap();
    let logs = String::from_utf8_lossy(&logs.stdout);
    for line in [
        "slice 1 (steps 1, 2, 3) ran confined: NoNewPrivs 1, Seccomp 2, CapEff 0000000000000000",
        "slice 2 (steps 4, 5) ran confined: NoNewPrivs 1, Seccomp 2, CapEff 0000000000000000",
    ] {
        assert!(
            logs.contains(line),
            "`{line}` not in the run's log:\n{logs}"
        );
    }

    let rows = json_lines(&confined.join("out/rows.jsonl"));
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 5]);
    assert_eq!(rows[2]["doubled"], 14.5);
    assert_eq!(rows[0]["code"], 11);
    assert_ne!(rows[0]["email"], "a@example.com", "emails are masked");
    let dlq = json_lines(&confined.join("out/dlq.jsonl"));
    assert_eq!(dlq.len(), 1, "{dlq:?}");
    assert_eq!(dlq[0]["_runink"]["rule"], "cast");
    assert_eq!(dlq[0]["_runink"]["step"], "step 2 (cast)");
    assert_eq!(dlq[0]["_runink"]["line"], 4);

    // The same scenario with every step in this process.
    let (_here_dir, here) = scenario(ROWS, STEPS);
    let output = run(&here, &["--isolation", "none"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let in_process = report(&output);
    assert!(in_process.get("slices").is_none(), "{in_process}");
    assert_eq!(json_lines(&here.join("out/rows.jsonl")), rows);
    assert_eq!(json_lines(&here.join("out/dlq.jsonl")), dlq);
    for key in [
        "steps",
        "rows_in",
        "rows_out",
        "rows_rejected",
        "rows_dropped",
        "rejects",
    ] {
        assert_eq!(sliced[key], in_process[key], "{key}");
    }
}

#[test]
fn a_failing_step_in_a_slice_fails_the_run_with_its_message() {
    if !isolation_available("built-in slice failure") {
        return;
    }
    let (_temp, root) = scenario(ROWS, "  @step(\"dedupe\", keys=\"id\")");
    let output = run(&root, &["--unique-keys-max", "2"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // It failed on rows, after the run started: exit 1, not 2.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("step 1 (`dedupe`)"), "{stderr}");
    assert!(stderr.contains("unique_keys_max"), "{stderr}");
    assert!(!root.join("out/rows.jsonl").exists());
}

#[test]
fn a_slice_over_its_memory_limit_fails_the_run_as_out_of_memory() {
    if !isolation_available("built-in slice out of memory") {
        return;
    }
    // A `sql` step holds its whole input: 400,000 rows do not fit in 24 MiB.
    let mut rows = String::from("id,email,code,amount\n");
    for i in 0..400_000 {
        rows.push_str(&format!("{i},user{i}@example.com,{i},{i}.5\n"));
    }
    let (_temp, root) = scenario(
        &rows,
        "  @requires(memory=\"24Mi\")\n  @step(\"sql\", query=\"SELECT * FROM input ORDER BY email DESC\")",
    );
    let output = run(&root, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("slice 1 (steps 1 (`sql`)) failed"),
        "{stderr}"
    );
    assert!(stderr.contains("out of memory"), "{stderr}");
    assert!(stderr.contains("24 MiB"), "{stderr}");
    assert!(!root.join("out/rows.jsonl").exists());
}

#[test]
fn columns_no_step_touches_stay_with_their_rows_across_batches() {
    if !isolation_available("carried columns") {
        return;
    }
    // The slice is sent `id` and `amount` only; the parent puts `email`
    // and `code` back by each row's position, in batches of 7 rows of
    // which the filter and the dedupe drop some.
    let mut rows = String::from("id,email,code,amount\n");
    for i in 0..200 {
        let amount = if i % 3 == 0 { 0 } else { i };
        let code = if i % 5 == 0 {
            String::new()
        } else {
            format!("c{i}")
        };
        rows.push_str(&format!(
            "{},user{i}@example.com,{code},{amount}\n",
            i % 150
        ));
    }
    let steps = "  @step(\"filter\", where=\"amount > 0\")\n  \
                 @step(\"derive\", cents=\"CAST(amount * 100 AS BIGINT)\")\n  \
                 @step(\"dedupe\", keys=\"id\")";
    let both = run_sliced_and_here(&rows, steps);
    let (sliced, here) = (&both.sliced, &both.here);

    let from_slice = json_lines(&sliced.join("out/rows.jsonl"));
    assert_eq!(from_slice, json_lines(&here.join("out/rows.jsonl")));
    // 133 rows have an amount; 100 distinct ids among them.
    assert_eq!(from_slice.len(), 100);
    for row in &from_slice {
        // Each row's carried `code` is its own: `c<i>` where i is the row
        // whose amount (i, never 0 here) the slice kept.
        let amount = row["amount"].as_f64().unwrap();
        assert_eq!(row["cents"].as_f64().unwrap(), amount * 100.0, "{row}");
        if let Some(code) = row["code"].as_str() {
            assert_eq!(code, format!("c{amount}"), "{row}");
        }
    }
}

#[test]
fn rows_the_input_contract_rejects_never_reach_the_slice_and_the_others_keep_their_columns() {
    if !isolation_available("rows picked for a slice") {
        return;
    }
    // The input contract rejects every 4th row (its id is not an integer)
    // before the slice; the slice's cast rejects every 5th (its code is not
    // a number) and its filter drops every 3rd (amount 0). The slice is
    // sent `code` and `amount` only, of the rows that passed; the parent
    // puts `id` and `email` back, and a row the cast rejects goes to the
    // DLQ with its own `id` and `email`, in batches of 7 rows.
    let mut rows = String::from("id,email,code,amount\n");
    for i in 0..120 {
        let id = if i % 4 == 1 {
            format!("bad{i}")
        } else {
            i.to_string()
        };
        let code = if i % 5 == 2 {
            format!("x{i}")
        } else {
            i.to_string()
        };
        let amount = if i % 3 == 0 { 0 } else { i };
        rows.push_str(&format!("{id},user{i}@example.com,{code},{amount}\n"));
    }
    let steps = "  @step(\"cast\", code=\"BIGINT\")\n  \
                 @step(\"filter\", where=\"amount > 0\")";
    // Bound whole: its temporary folders live as long as it does.
    let both = run_sliced_and_here(&rows, steps);
    let (sliced, here) = (&both.sliced, &both.here);

    let from_slice = json_lines(&sliced.join("out/rows.jsonl"));
    assert!(
        from_slice == json_lines(&here.join("out/rows.jsonl")),
        "the rows differ"
    );
    let expected: Vec<i64> = (0..120)
        .filter(|i| i % 4 != 1 && i % 5 != 2 && i % 3 != 0)
        .collect();
    let ids: Vec<i64> = from_slice
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, expected);
    for row in &from_slice {
        // Each row's carried `id` is its own: its code and amount are it.
        assert_eq!(row["code"], row["id"], "{row}");
        assert_eq!(
            row["amount"].as_f64().unwrap(),
            row["id"].as_f64().unwrap(),
            "{row}"
        );
    }

    // The slice's rejects reach the DLQ when it answers, after the input
    // contract's rejects of later batches: the same rows, in another order.
    let by_line = |path: PathBuf| {
        let mut rows = json_lines(&path);
        rows.sort_by_key(|r| r["_runink"]["line"].as_i64());
        rows
    };
    let dlq = by_line(sliced.join("out/dlq.jsonl"));
    assert!(
        dlq == by_line(here.join("out/dlq.jsonl")),
        "the DLQs differ"
    );
    let casts: Vec<&Value> = dlq
        .iter()
        .filter(|r| r["_runink"]["rule"] == "cast")
        .collect();
    let cast_ids: Vec<i64> = (0..120).filter(|i| i % 4 != 1 && i % 5 == 2).collect();
    assert_eq!(casts.len(), cast_ids.len(), "{dlq:?}");
    for (reject, id) in casts.iter().zip(&cast_ids) {
        assert_eq!(reject["id"], id.to_string(), "{reject}");
        assert_eq!(reject["code"], format!("x{id}"), "{reject}");
        assert_eq!(reject["_runink"]["line"].as_i64(), Some(id + 2), "{reject}");
    }
    let contract_rejects = dlq.len() - casts.len();
    assert_eq!(contract_rejects, (0..120).filter(|i| i % 4 == 1).count());
    for key in [
        "steps",
        "rows_in",
        "rows_out",
        "rows_rejected",
        "rows_dropped",
    ] {
        assert_eq!(both.sliced_report[key], both.here_report[key], "{key}");
    }
}

/// A run's slices leave no cgroup behind: the groups kept for reuse and
/// the process's `runink/<pid>` parent go when `runi` ends.
#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "the runi under test is started by hand to learn its pid, which names its cgroups"
)]
fn a_finished_run_leaves_no_slice_cgroup() {
    if !isolation_available("slice cgroups removed") {
        return;
    }
    let (_temp, root) = scenario(
        "id,email,code,amount\na,x@y.z,1,2\n",
        "  @step(\"filter\", where=\"amount > 0\")",
    );
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("runi"))
        .env("RUNINK_HOME", root.join(".state"))
        .env("RUNINK_MASK_SALT", "salt")
        .args(["-q", "run"])
        .arg(root.join("s.dsl"))
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let left = groups_named(Path::new("/sys/fs/cgroup"), &pid.to_string(), 10);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Folders `…/runink/NAME` under `dir`, at most `depth` levels down.
fn groups_named(dir: &Path, name: &str, depth: usize) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if path.ends_with(Path::new("runink").join(name)) {
            found.push(path.clone());
        }
        if depth > 0 {
            found.extend(groups_named(&path, name, depth - 1));
        }
    }
    found
}
