//! The `runi` binary as a user meets it: real files in, exit codes, text
//! and JSON out.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use runink_testkit::{example_scenarios, repo_root};

fn runi() -> Command {
    let mut command = Command::cargo_bin("runi").expect("the runi binary is built");
    command
        .env_remove("NO_COLOR")
        .env_remove("RUNINK_STEPS_PATH");
    command
}

fn json_of(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output).expect("stdout is JSON")
}

/// Copies an example folder into a fresh temporary folder.
fn copy_example(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let target = temp.path().join(name);
    copy_tree(&repo_root().join("examples").join(name), &target);
    (temp, target)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("list folder").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy file");
        }
    }
}

fn dag_hash(file: &Path) -> String {
    let output = runi()
        .args(["--json", "explain"])
        .arg(file)
        .output()
        .expect("runi runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json_of(&output.stdout)["plans"][0]["dag_hash"]
        .as_str()
        .expect("a dag_hash")
        .to_owned()
}

#[test]
fn version_help_and_completions() {
    runi()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("runi "));
    runi()
        .args(["help", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Parse and compile scenario files"));
    for shell in ["bash", "zsh", "fish"] {
        runi()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("explain"));
    }
}

#[test]
fn usage_errors_exit_2() {
    runi().arg("--no-such-flag").assert().code(2);
    runi().arg("check").assert().code(2);
    runi()
        .args(["check", "no/such/file.dsl"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: cannot read scenario file `no/such/file.dsl`",
        ))
        .stderr(predicate::str::contains("caused by: No such file"));
    // An unreadable file is one error among the files: the others are
    // still checked, and --json says which could not be read.
    let good = repo_root().join("examples/orders/orders.dsl");
    runi()
        .args(["check", "no/such/file.dsl"])
        .arg(&good)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("ok: "))
        .stderr(predicate::str::contains(
            "1 error and 0 warnings in 2 files",
        ));
    let output = runi()
        .args(["--json", "check", "no/such/file.dsl"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let report = json_of(&output.stdout);
    assert_eq!(report["errors"], 1, "{report}");
    assert!(
        report["files"][0]["read_error"]
            .as_str()
            .unwrap()
            .contains("No such file"),
        "{report}"
    );
    assert_eq!(report["files"][1]["ok"], true, "{report}");
    // A server URL is a scheme, a host and a port that fits: not port 80
    // in silence for `:99999`, nor a path or a user ignored.
    for (url, why) in [
        ("http://127.0.0.1:99999", "not between 1 and 65535"),
        ("http://127.0.0.1:0", "not between 1 and 65535"),
        ("http://user:pw@127.0.0.1:7001", "no path or user"),
        ("http://127.0.0.1:7001/v1", "no path or user"),
    ] {
        runi()
            .args(["runs", "--server", url])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(why));
    }
    // A wait too long for the clock is refused before anything is submitted
    // (it overflowed, after the submission, into a panic).
    runi()
        .args([
            "run",
            "--server",
            "http://127.0.0.1:9",
            "--wait-s",
            "18446744073709551615",
            "x.dsl",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--wait-s"));
}

#[test]
fn every_example_checks_clean() {
    let examples = example_scenarios();
    assert!(examples.len() >= 5, "examples are missing: {examples:?}");
    runi()
        .arg("check")
        .args(&examples)
        .assert()
        .success()
        .stdout(predicate::str::contains("ok: ").count(examples.len()));
}

#[test]
fn check_reports_every_error_and_exits_2() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let bad = temp.path().join("bad.dsl");
    std::fs::write(
        &bad,
        "Feature: F\nScenario: S\n  @source(\"csv://in.csv\")\n  @step(\"filtr\", where=\"a > 0\")\n  @sinc(\"jsonl://out.jsonl\")\n  @sink(\"jsonl://out.jsonl\")\n",
    )
    .expect("write");
    let good = repo_root().join("examples/orders/orders.dsl");
    let shown = bad.display().to_string();
    runi()
        .arg("check")
        .arg(&good)
        .arg(&bad)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("ok: "))
        .stderr(predicate::str::contains(format!(
            "{shown}:4:9: error: unknown step `filtr`"
        )))
        .stderr(predicate::str::contains("did you mean `filter`?"))
        .stderr(predicate::str::contains(format!(
            "{shown}:5:4: error: unknown tag `@sinc`"
        )))
        .stderr(predicate::str::contains(
            "2 errors and 0 warnings in 2 files",
        ));

    let output = runi()
        .args(["--json", "check"])
        .arg(&bad)
        .output()
        .expect("runi runs");
    assert_eq!(output.status.code(), Some(2));
    let report = json_of(&output.stdout);
    assert_eq!(report["errors"], 2);
    let first = &report["files"][0]["diagnostics"][0];
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(4), Some(9))
    );
    assert_eq!(first["help"], "did you mean `filter`?");
}

#[test]
fn colour_only_when_asked_and_never_with_no_color() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let bad = temp.path().join("bad.dsl");
    std::fs::write(&bad, "Feature: F\nScenario: S\n  @sinc(\"x\")\n").expect("write");
    let escape = predicate::str::contains("\u{1b}[");
    // Not a terminal: no colour by default.
    runi()
        .arg("check")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(escape.clone().not());
    runi()
        .args(["--color", "always", "check"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(escape.clone());
    runi()
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(escape.not());
}

#[test]
fn explain_describes_the_plan_in_words_and_json() {
    let orders = repo_root().join("examples/orders/orders.dsl");
    runi()
        .arg("explain")
        .arg(&orders)
        .assert()
        .success()
        .stdout(predicate::str::contains("dag_hash:"))
        .stdout(predicate::str::contains("herd:      finance"))
        .stdout(predicate::str::contains("when amount >= 1000"))
        .stdout(predicate::str::contains("slice 1: step 1, 2, 3"))
        .stdout(predicate::str::contains(
            "DLQ: jsonl://out/orders.dlq.jsonl",
        ))
        .stdout(predicate::str::contains(
            "Given the contract: contracts/orders.yaml",
        ));
    let output = runi()
        .args(["--json", "explain"])
        .arg(&orders)
        .output()
        .expect("runi runs");
    let plan = &json_of(&output.stdout)["plans"][0];
    assert_eq!(plan["herd"], "finance");
    assert_eq!(plan["steps"].as_array().map(Vec::len), Some(3));
    assert_eq!(plan["sinks"][1]["when"], "amount >= 1000");
    assert_eq!(plan["input_contract"]["sensitive_columns"][0], "email");

    let legacy = repo_root().join("examples/legacy/legacy.dsl");
    runi()
        .arg("explain")
        .arg(&legacy)
        .args(["--scenario", "no such"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no scenario named `no such`"));
}

#[test]
fn graph_dot_renders_with_graphviz_and_mermaid_is_a_flowchart() {
    let dot_available = Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        dot_available,
        "Graphviz's `dot` is needed to check that graphs render: `apt-get install graphviz` (scripts/test installs it)"
    );
    for example in example_scenarios() {
        let output = runi()
            .args(["graph", "--format", "dot"])
            .arg(&example)
            .output()
            .expect("runi runs");
        assert!(output.status.success());
        Command::new("dot")
            .arg("-Tsvg")
            .write_stdin(output.stdout)
            .assert()
            .success()
            .stdout(predicate::str::contains("<svg"));
    }
    let orders = repo_root().join("examples/orders/orders.dsl");
    runi()
        .args(["graph", "--format", "mermaid"])
        .arg(&orders)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("flowchart LR"))
        .stdout(predicate::str::contains("|\"amount >= 1000\"|"));
}

#[test]
fn fmt_rewrites_original_spellings_keeps_meaning_and_is_idempotent() {
    let (_temp, folder) = copy_example("legacy");
    let file = folder.join("legacy.dsl");
    let before = std::fs::read_to_string(&file).expect("read");
    let hash_before = dag_hash(&file);
    runi()
        .args(["fmt", "--check"])
        .arg(&file)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("would reformat"));
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        before,
        "--check writes nothing"
    );
    runi().arg("fmt").arg(&file).assert().success();
    let after = std::fs::read_to_string(&file).expect("read");
    assert!(
        !after.contains(" when \"") && !after.contains("@meta("),
        "{after}"
    );
    assert!(after.contains("# "), "comments are kept:\n{after}");
    runi()
        .args(["fmt", "--check"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(
        dag_hash(&file),
        hash_before,
        "formatting does not change the plan"
    );
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse_and_leaves_it_alone() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let file = temp.path().join("broken.dsl");
    let text = "Feature: F\nScenario: S\n  @step(\"x\"\n";
    std::fs::write(&file, text).expect("write");
    runi()
        .arg("fmt")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("this `(` is never closed"))
        .stderr(predicate::str::contains("nothing was written"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), text);
}

#[test]
fn dag_hash_ignores_prose_comments_and_layout_but_not_behaviour() {
    let (_temp, folder) = copy_example("orders");
    let file = folder.join("orders.dsl");
    let original = std::fs::read_to_string(&file).expect("read");
    let base = dag_hash(&file);

    let cosmetic = original
        .replace("Scenario:", "# a comment\nScenario:")
        .replace(
            "When data is received from the vendor feed",
            "When the vendor's feed arrives",
        )
        .replace("  @step(\"mask\")", "      @step( \"mask\" )")
        .replace(
            "@module(layer=\"silver\", domain=\"sales\")",
            "@module(layer=\"gold\", domain=\"sales\")",
        );
    std::fs::write(&file, &cosmetic).expect("write");
    assert_eq!(
        dag_hash(&file),
        base,
        "prose, comments, layout and catalog metadata"
    );

    for executable_change in [
        ("amount > 0", "amount > 1"),
        (
            "parquet://out/orders.parquet",
            "parquet://out/orders2.parquet",
        ),
        ("@herd(\"finance\")", "@herd(\"sales\")"),
        ("rows_out >= 1", "rows_out >= 2"),
    ] {
        std::fs::write(
            &file,
            original.replace(executable_change.0, executable_change.1),
        )
        .expect("write");
        assert_ne!(
            dag_hash(&file),
            base,
            "changing {executable_change:?} changes the hash"
        );
    }
    std::fs::write(&file, &original).expect("write");
    let contract = folder.join("contracts/orders.yaml");
    let text = std::fs::read_to_string(&contract).expect("read");
    std::fs::write(
        &contract,
        text.replace("maximum: 1000000", "maximum: 2000000"),
    )
    .expect("write");
    assert_ne!(dag_hash(&file), base, "a contract change changes the hash");
}

#[test]
fn named_steps_come_from_steps_folder_then_runink_steps_path() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let shared = temp.path().join("shared-steps");
    std::fs::create_dir_all(&shared).expect("mkdir");
    std::fs::write(shared.join("Upper.sql"), "SELECT upper(x) AS x FROM input").expect("write");
    std::fs::write(
        temp.path().join("s.dsl"),
        "Feature: F\nScenario: S\n  @source(\"jsonl://in.jsonl\")\n  @step(\"Upper\")\n  @sink(\"jsonl://out.jsonl\")\n",
    )
    .expect("write");
    runi()
        .arg("check")
        .arg(temp.path().join("s.dsl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown step `Upper`"));
    runi()
        .env("RUNINK_STEPS_PATH", &shared)
        .arg("explain")
        .arg(temp.path().join("s.dsl"))
        .assert()
        .success()
        .stdout(predicate::str::contains("named step `Upper`"));
}

#[test]
fn contract_check_lists_every_problem_with_its_place() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let bad = temp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v3.1.0\nkind: DataContract\nid: urn:x\nversion: 1.0.0\nstatus: active\nschema:\n  - name: t\n    properties:\n      - name: a\n        logicalType: strng\n      - name: b\n        logicalType: numbr\n",
    )
    .expect("write");
    let shown = bad.display().to_string();
    runi()
        .args(["contract", "check"])
        .arg(repo_root().join("examples/orders/contracts/orders.yaml"))
        .arg(&bad)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("ok: "))
        .stderr(predicate::str::contains(format!(
            "{shown}:10:22: error: `schema[0].properties[0].logicalType`: found `strng`"
        )))
        .stderr(predicate::str::contains(format!(
            "{shown}:12:22: error: `schema[0].properties[1].logicalType`: found `numbr`"
        )));
    let output = runi()
        .args(["--json", "contract", "check"])
        .arg(&bad)
        .output()
        .expect("runi runs");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        json_of(&output.stdout)["files"][0]["violations"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn contract_hash_ignores_layout_key_order_and_comments() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let a = temp.path().join("a.yaml");
    let b = temp.path().join("b.yaml");
    std::fs::write(&a, "apiVersion: v3.1.0\nkind: DataContract\nid: urn:x\nversion: 1.0.0\nstatus: active\nschema:\n  - name: t\n    properties:\n      - name: a\n        logicalType: string\n").expect("write");
    std::fs::write(&b, "# reordered\nstatus: active\nversion: 1.0.0\nid: urn:x\nkind: DataContract\napiVersion: v3.1.0\nschema: [{ properties: [{ logicalType: string, name: a }], name: t }]\n").expect("write");
    let hash_of = |path: &Path| {
        let output = runi()
            .args(["--json", "contract", "hash"])
            .arg(path)
            .output()
            .expect("runi runs");
        assert!(output.status.success());
        json_of(&output.stdout)["files"][0]["hash"]
            .as_str()
            .expect("a hash")
            .to_owned()
    };
    assert_eq!(hash_of(&a), hash_of(&b));
    std::fs::write(&b, "apiVersion: v3.1.0\nkind: DataContract\nid: urn:x\nversion: 1.0.0\nstatus: active\nschema:\n  - name: t\n    properties:\n      - name: a\n        logicalType: integer\n").expect("write");
    assert_ne!(hash_of(&a), hash_of(&b));
}

/// A scenario file that is not UTF-8 is refused with the line and column
/// of its first bad byte.
#[test]
fn a_scenario_file_that_is_not_utf8_names_the_bad_byte() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("latin1.dsl");
    std::fs::write(
        &file,
        b"Feature: f\nScenario: s\n  @source(\"csv://caf\xe9.csv\")\n",
    )
    .unwrap();
    runi()
        .arg("check")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "latin1.dsl:3:21: the scenario file is not UTF-8 text",
        ));
}

/// A state folder that is a file is refused, not read as "no runs".
#[test]
fn a_state_folder_that_is_a_file_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("state");
    std::fs::write(&file, "").unwrap();
    runi()
        .env("RUNINK_HOME", &file)
        .arg("runs")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "is a file; point `RUNINK_HOME` at a folder",
        ));
}

/// `runi check` plans the built-in steps on the input contract's columns,
/// as a run would before its first row: an expression that cannot run on
/// them is an error before any data is read.
#[test]
fn check_finds_expressions_that_cannot_run_on_the_contracts_columns() {
    let (_temp, root) = copy_example("orders");
    for (step, message) in [
        (
            "@step(\"derive\", x=\"amount + currency\")",
            "step 1 (`derive`): Cannot coerce",
        ),
        (
            "@step(\"derive\", x=\"nosuchfn(amount)\")",
            "Invalid function 'nosuchfn'",
        ),
        (
            "@step(\"filter\", where=\"currency\")",
            "`currency` is not a condition",
        ),
    ] {
        let file = root.join("typed.dsl");
        std::fs::write(
            &file,
            format!(
                "Feature: f\nScenario: s\n  @source(\"csv://data/orders.csv\")\n  {step}\n  \
                 @sink(\"jsonl://out/t.jsonl\")\n  Given the contract: contracts/orders.yaml\n"
            ),
        )
        .unwrap();
        // The step stands on line 4 of the file.
        runi().arg("check").arg(&file).assert().code(2).stderr(
            predicate::str::contains("typed.dsl:4: error: scenario `s`: ")
                .and(predicate::str::contains(message)),
        );
        let output = runi()
            .args(["--json", "check"])
            .arg(&file)
            .output()
            .unwrap();
        let report = json_of(&output.stdout);
        assert_eq!(report["ok"], false, "{report}");
        let errors = &report["files"][0]["plan_errors"];
        assert!(
            errors[0]["message"].as_str().unwrap().contains(message),
            "{report}"
        );
        assert_eq!(errors[0]["line"], 4, "{report}");
    }
    // The example itself plans.
    runi()
        .arg("check")
        .arg(root.join("orders.dsl"))
        .assert()
        .success();
}

/// Runs `runi ARGS` with a stdout whose reader has already gone, as under
/// `runi ... | head -0`: every write gets a broken pipe.
#[expect(
    clippy::disallowed_methods,
    reason = "the runi under test is started by hand to give it a stdout of our choice"
)]
fn run_with_stdout_gone(args: &[&str], dir: &Path) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    std::process::Command::new(assert_cmd::cargo::cargo_bin("runi"))
        .args(args)
        .current_dir(dir)
        .env("RUNINK_HOME", dir.join("home"))
        .stdout(writer)
        .output()
        .expect("runi runs")
}

#[test]
fn a_reader_that_leaves_early_ends_no_command_in_a_panic() {
    let (_temp, orders) = copy_example("orders");
    for args in [
        &["explain", "orders.dsl"][..],
        &["--json", "explain", "orders.dsl"],
        &["graph", "orders.dsl"],
        &["--json", "check", "orders.dsl"],
        &["runs"],
        &["completions", "bash"],
    ] {
        let output = run_with_stdout_gone(args, &orders);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // The command's own outcome still decides the exit code.
    std::fs::write(
        orders.join("bad.dsl"),
        "Feature: F\nScenario: S\n  @nosuchtag\n",
    )
    .expect("write");
    let output = run_with_stdout_gone(&["--json", "check", "bad.dsl"], &orders);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "the runi under test is started by hand to give it a stdout of our choice"
)]
fn output_that_cannot_be_written_is_an_infrastructure_failure() {
    let (_temp, orders) = copy_example("orders");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("runi"))
        .args(["explain", "orders.dsl"])
        .current_dir(&orders)
        .stdout(full)
        .output()
        .expect("runi runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("cannot write the output on stdout"),
        "{stderr}"
    );
}

#[test]
fn check_plans_sink_conditions_and_asserts_before_any_data_is_read() {
    let (_temp, root) = copy_example("orders");
    for (tags, message) in [
        (
            "@sink(\"jsonl://out/t.jsonl\", when=\"nosuchfn(amount) > 1\")",
            "sink `t`: `when`: Invalid function 'nosuchfn'",
        ),
        (
            "@sink(\"jsonl://out/t.jsonl\", when=\"amount\")",
            "sink `t`: `when`: `amount` is not true or false",
        ),
        (
            "@sink(\"jsonl://out/t.jsonl\")\n  @assert(\"rows_out\")",
            "`@assert(\"rows_out\")`: `rows_out` is not true or false",
        ),
    ] {
        let file = root.join("conditions.dsl");
        std::fs::write(
            &file,
            format!(
                "Feature: f\nScenario: s\n  @source(\"csv://data/orders.csv\")\n  {tags}\n  \
                 Given the contract: contracts/orders.yaml\n"
            ),
        )
        .unwrap();
        runi().arg("check").arg(&file).assert().code(2).stderr(
            predicate::str::contains("conditions.dsl: error: scenario `s`: ")
                .and(predicate::str::contains(message)),
        );
    }
    // Conditions that hold plan, and a run's asserts name its sinks.
    let file = root.join("conditions.dsl");
    std::fs::write(
        &file,
        "Feature: f\nScenario: s\n  @source(\"csv://data/orders.csv\")\n  \
         @sink(\"jsonl://out/t.jsonl\", when=\"amount > 1\")\n  \
         @assert(\"rows_out.t <= rows_in\")\n  Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    runi().arg("check").arg(&file).assert().success();
}

#[test]
fn check_reports_every_plan_error_of_a_scenario_at_once() {
    let (_temp, root) = copy_example("orders");
    let file = root.join("many.dsl");
    std::fs::write(
        &file,
        "Feature: f\nScenario: s\n  @source(\"csv://data/orders.csv\")\n  \
         @sink(\"jsonl://out/a.jsonl\", when=\"nosuchfn(amount) > 1\")\n  \
         @sink(\"jsonl://out/b.jsonl\", when=\"amount\")\n  \
         @sink(\"jsonl://out/c.jsonl\", when=\"amount > 1\")\n  \
         @assert(\"rows_out\")\n  @assert(\"rows_out > 'many'\")\n  \
         @assert(\"rows_out.c <= rows_in\")\n  Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    let output = runi()
        .args(["--json", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let report = json_of(&output.stdout);
    let messages: Vec<&str> = report["files"][0]["plan_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    for (message, expected) in messages.iter().zip([
        "`@assert(\"rows_out\")`: `rows_out` is not true or false",
        "`@assert(\"rows_out > 'many'\")`: ",
        "sink `a`: `when`: Invalid function 'nosuchfn'",
        "sink `b`: `when`: `amount` is not true or false",
    ]) {
        assert!(message.contains(expected), "{message} lacks {expected}");
    }
    // A literal that cannot take its column's type fails the step's plan,
    // at the step's line, before any row is read.
    std::fs::write(
        &file,
        "Feature: f\nScenario: s\n  @source(\"csv://data/orders.csv\")\n  \
         @step(\"filter\", where=\"amount > 'lots'\")\n  \
         @sink(\"jsonl://out/a.jsonl\")\n  Given the contract: contracts/orders.yaml\n",
    )
    .unwrap();
    runi().arg("check").arg(&file).assert().code(2).stderr(
        predicate::str::contains("many.dsl:4: error: scenario `s`: ")
            .and(predicate::str::contains("lots")),
    );
}

#[test]
fn barn_certs_says_what_it_wrote_in_words_and_json() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("certs");
    runi()
        .args(["barn", "certs", "--nodes", "1", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("1 node certificate and"));
    let again = temp.path().join("again");
    let output = runi()
        .args(["--json", "barn", "certs", "--nodes", "2", "--out"])
        .arg(&again)
        .output()
        .unwrap();
    assert!(output.status.success());
    let report = json_of(&output.stdout);
    let files = report["files"].as_array().unwrap();
    for file in files {
        assert!(again.join(file.as_str().unwrap()).is_file(), "{report}");
    }
    assert!(files.len() >= 6, "{report}");
}

#[test]
fn a_source_that_cannot_be_opened_is_said_once() {
    let (_temp, root) = copy_example("orders");
    let file = root.join("missing.dsl");
    std::fs::write(
        &file,
        "Feature: f\nScenario: s\n  @source(\"csv://data/nosuch.csv\")\n  @sink(\"jsonl://out/m.jsonl\")\n",
    )
    .unwrap();
    let output = runi()
        .args(["run", "--isolation", "none"])
        .arg(&file)
        .env("RUNINK_HOME", root.join("home"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
}
