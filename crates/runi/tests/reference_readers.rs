//! Checks against references no one here wrote: `filter`, `derive`,
//! `select`, `dedupe` and `sql` give DuckDB's answer on the same data, at
//! batch sizes 1, 7 and 8192, and the same answer at each size; Parquet
//! outputs read back with pyarrow give the expected schema and rows.
//!
//! The references run in Python. `scripts/test` installs duckdb and pyarrow
//! into a virtual environment and names its interpreter in
//! `RUNINK_TEST_PYTHON`; without it these tests try `python3`, and fail
//! (never skip) when the modules are missing.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use runink_testkit::repo_root;
use serde_json::Value;

const ROWS: u64 = 1_000;
const BATCH_SIZES: [usize; 3] = [1, 7, 8192];

const CONTRACT: &str = r#"
apiVersion: v3.1.0
kind: DataContract
id: urn:runink:test:differential
version: 1.0.0
status: active
schema:
  - name: items
    logicalType: object
    properties:
      - { name: id, logicalType: integer, required: true }
      - { name: name, logicalType: string, required: true }
      - { name: amount, logicalType: number }
      - { name: category, logicalType: string, required: true }
      - { name: qty, logicalType: integer, required: true }
"#;

/// One operation: the runi step, and the same thing in DuckDB over `t`.
struct Case {
    name: &'static str,
    step: &'static str,
    duckdb: &'static str,
    /// Row order is part of the answer (streaming steps keep input order).
    ordered: bool,
}

const CASES: [Case; 5] = [
    Case {
        name: "filter",
        step: r#"@step("filter", where="amount > 50 AND category IN ('a', 'b')")"#,
        duckdb: "SELECT * FROM t WHERE amount > 50 AND category IN ('a', 'b')",
        ordered: true,
    },
    Case {
        name: "derive",
        step: r#"@step("derive", total="amount * qty", shout="upper(name)", band="CASE WHEN amount < 10 THEN 'low' ELSE 'high' END", half="qty / 2")"#,
        duckdb: "SELECT *, amount * qty AS total, upper(name) AS shout, \
                 CASE WHEN amount < 10 THEN 'low' ELSE 'high' END AS band, qty // 2 AS half FROM t",
        ordered: true,
    },
    Case {
        name: "select",
        step: r#"@step("select", columns="qty,name,id")"#,
        duckdb: "SELECT qty, name, id FROM t",
        ordered: true,
    },
    Case {
        name: "dedupe",
        step: r#"@step("dedupe", keys="category,qty")"#,
        duckdb: "SELECT id, name, amount, category, qty FROM ( \
                   SELECT *, row_number() OVER (PARTITION BY category, qty ORDER BY rn) AS k \
                   FROM (SELECT *, row_number() OVER () AS rn FROM t)) \
                 WHERE k = 1 ORDER BY rn",
        ordered: true,
    },
    Case {
        name: "sql",
        step: r#"@step("sql", query="SELECT category, COUNT(*) AS n, SUM(amount) AS total, MIN(id) AS first_id, AVG(qty) AS mean_qty FROM input GROUP BY category")"#,
        duckdb: "SELECT category, COUNT(*) AS n, SUM(amount) AS total, MIN(id) AS first_id, \
                 AVG(qty) AS mean_qty FROM t GROUP BY category",
        ordered: false,
    },
];

/// The interpreter with the reference readers, checked once per test.
fn python() -> String {
    let python = std::env::var("RUNINK_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let probe = python_command(&python)
        .args(["-c", "import duckdb, pyarrow"])
        .output();
    match probe {
        Ok(out) if out.status.success() => python,
        _ => panic!(
            "`{python}` cannot import duckdb and pyarrow, which these tests compare with; \
             run `scripts/test` (it installs them) or set RUNINK_TEST_PYTHON to an interpreter that has them"
        ),
    }
}

/// A reference reader, run by the test's Python.
#[expect(
    clippy::disallowed_methods,
    reason = "the reference readers are trusted test tools, not user steps; slices confine user code"
)]
fn python_command(python: &str) -> std::process::Command {
    std::process::Command::new(python)
}

fn reference_script(name: &str) -> PathBuf {
    repo_root().join("crates/runi/tests/reference").join(name)
}

/// Deterministic rows with nulls in `amount` and repeated (category, qty).
fn write_data(path: &Path) {
    let names = ["ada", "bo", "cy", "dee", "eve", "fox", "gus"];
    let mut text = String::from("id,name,amount,category,qty\n");
    for id in 1..=ROWS {
        let amount = if id % 17 == 0 {
            String::new()
        } else {
            format!("{}.{:02}", (id * 37) % 100, (id * 53) % 100)
        };
        let category = ["a", "b", "c", "d"][((id * 7) % 4) as usize];
        let name = names[(id % 7) as usize];
        writeln!(
            text,
            "{id},{name}{},{amount},{category},{}",
            id % 13,
            (id * 11) % 9
        )
        .unwrap();
    }
    fs::write(path, text).unwrap();
}

fn write_scenarios(dir: &Path) {
    fs::write(dir.join("items.yaml"), CONTRACT).unwrap();
    let mut dsl = String::from("Feature: Differential cases\n");
    for case in &CASES {
        let extra_sink = if case.name == "derive" {
            "  @sink(\"parquet://out/derive.parquet\", name=\"derive_parquet\")\n"
        } else {
            ""
        };
        write!(
            dsl,
            "\nScenario: {name}\n  @source(\"csv://data.csv\")\n  {step}\n  @sink(\"jsonl://out/{name}.jsonl\")\n{extra_sink}  @dlq(\"jsonl://out/{name}.dlq.jsonl\")\n\n  Given the contract: items.yaml\n",
            name = case.name,
            step = case.step,
        )
        .unwrap();
    }
    fs::write(dir.join("cases.dsl"), dsl).unwrap();
}

fn runi_run(dir: &Path, state: &Path, batch_rows: usize, scenario: Option<&str>) {
    let mut command = Command::cargo_bin("runi").unwrap();
    command
        .env("RUNINK_HOME", state)
        .env("RUNINK_MASK_SALT", "differential")
        .arg("run")
        .arg(dir.join("cases.dsl"))
        .args(["--batch-rows-max", &batch_rows.to_string()]);
    if let Some(scenario) = scenario {
        command.args(["--scenario", scenario]);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "runi run at batch size {batch_rows}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn json_lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Numbers match within a relative 1e-9 (sums may add in another
/// order); an absent key is a null.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).all(|k| {
            same_value(
                x.get(k).unwrap_or(&Value::Null),
                y.get(k).unwrap_or(&Value::Null),
            )
        }),
        _ => a == b,
    }
}

fn sorted(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by_key(|r| r.to_string());
    rows
}

fn assert_same_rows(what: &str, ours: &[Value], theirs: &[Value]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: row counts differ");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            same_value(a, b),
            "{what}: row {i} differs:\n  runi:   {a}\n  other:  {b}"
        );
    }
}

#[test]
fn steps_agree_with_duckdb_at_every_batch_size() {
    let python = python();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    write_data(&dir.join("data.csv"));
    write_scenarios(dir);

    let mut expected = Vec::new();
    for case in &CASES {
        let out = dir.join(format!("{}.duckdb.jsonl", case.name));
        let status = python_command(&python)
            .arg(reference_script("duckdb_query.py"))
            .arg(dir.join("data.csv"))
            .arg(&out)
            .arg(case.duckdb)
            .status()
            .unwrap();
        assert!(status.success(), "duckdb failed on {}", case.name);
        let rows = json_lines(&out);
        assert!(
            !rows.is_empty(),
            "{}: the reference found no rows",
            case.name
        );
        expected.push(rows);
    }

    let mut first_answers: Option<Vec<Vec<Value>>> = None;
    for batch_rows in BATCH_SIZES {
        let state = tempfile::tempdir().unwrap();
        runi_run(dir, state.path(), batch_rows, None);
        let mut answers = Vec::new();
        for (case, theirs) in CASES.iter().zip(&expected) {
            let ours = json_lines(&dir.join(format!("out/{}.jsonl", case.name)));
            let (ours, theirs) = if case.ordered {
                (ours, theirs.clone())
            } else {
                (sorted(ours), sorted(theirs.clone()))
            };
            let what = format!("{} at batch size {batch_rows} against DuckDB", case.name);
            assert_same_rows(&what, &ours, &theirs);
            answers.push(ours);
        }
        match &first_answers {
            None => first_answers = Some(answers),
            Some(first) => {
                for ((case, a), b) in CASES.iter().zip(&answers).zip(first) {
                    assert_eq!(
                        a, b,
                        "{}: batch size {batch_rows} differs from batch size {}",
                        case.name, BATCH_SIZES[0]
                    );
                }
            }
        }
    }
}

#[test]
fn parquet_reads_back_with_pyarrow() {
    let python = python();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    write_data(&dir.join("data.csv"));
    write_scenarios(dir);
    let state = tempfile::tempdir().unwrap();
    runi_run(dir, state.path(), 300, Some("derive"));

    let output = python_command(&python)
        .arg(reference_script("pyarrow_read.py"))
        .arg(dir.join("out/derive.parquet"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pyarrow: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    let schema: Vec<(String, String)> = read["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f[0].as_str().unwrap().to_owned(),
                f[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected_schema: Vec<(String, String)> = [
        ("id", "int64"),
        ("name", "string"),
        ("amount", "double"),
        ("category", "string"),
        ("qty", "int64"),
        ("total", "double"),
        ("shout", "string"),
        ("band", "string"),
        ("half", "int64"),
    ]
    .iter()
    .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
    .collect();
    assert_eq!(schema, expected_schema);

    let rows = read["rows"].as_array().unwrap();
    assert_eq!(rows.len() as u64, ROWS);
    let jsonl = json_lines(&dir.join("out/derive.jsonl"));
    assert_same_rows(
        "parquet read by pyarrow against runi's JSON Lines",
        rows,
        &jsonl,
    );
    let nulls = rows.iter().filter(|r| r["amount"].is_null()).count() as u64;
    assert_eq!(nulls, ROWS / 17, "every 17th amount is empty");
}
