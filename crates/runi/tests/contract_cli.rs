//! `runi contract diff|validate|infer|synth|detokenize` as a user meets
//! them: the real binary on real files, exit codes, text and JSON out.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const CONTRACT: &str = r#"apiVersion: v3.1.0
kind: DataContract
id: urn:test:orders
version: 1.0.0
status: active
name: orders
schema:
  - name: orders
    properties:
      - name: order_id
        logicalType: string
        required: true
        unique: true
        logicalTypeOptions: { pattern: "^ORD-[0-9]{6}$" }
      - name: email
        logicalType: string
        classification: pii
        customProperties:
          - { property: mask, value: tokenize }
      - name: amount
        logicalType: number
        required: true
        logicalTypeOptions: { minimum: 0 }
      - name: currency
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: { validValues: [USD, EUR] }
            mustBe: 0
      - name: created_at
        logicalType: timestamp
        logicalTypeOptions: { format: "yyyy-MM-dd'T'HH:mm:ss", timezone: false }
"#;

const DATA: &str = "order_id,email,amount,currency,created_at
ORD-000001,ann@example.com,10.50,USD,2024-01-01T10:00:00
ORD-000002,bob@example.com,-3,EUR,2024-01-01T10:00:00
ORD-000003,cy@example.com,abc,USD,2024-01-01T10:00:00
ORD-000001,dee@example.com,4,USD,2024-01-01T10:00:00
ORD-7,eve@example.com,4,GBP,2024-13-01T10:00:00
ORD-000006,fay@example.com,4,EUR,
";

/// The binary, with its state folder in `home`.
fn runi(home: &Path) -> Command {
    let mut command = Command::cargo_bin("runi").expect("the runi binary is built");
    command
        .env("RUNINK_HOME", home)
        .env_remove("RUNINK_MASK_SALT")
        .env_remove("NO_COLOR");
    command
}

fn json_of(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output).expect("stdout is JSON")
}

fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// `runi [--json] contract validate DATA --contract CONTRACT`, for more
/// arguments to follow.
fn validate(folder: &Folder, json: bool, data: &Path, contract: &Path) -> Command {
    let mut command = runi(&folder.path);
    if json {
        command.arg("--json");
    }
    command
        .args(["contract", "validate"])
        .arg(data)
        .arg("--contract")
        .arg(contract);
    command
}

struct Folder {
    _temp: tempfile::TempDir,
    path: PathBuf,
}

impl Folder {
    fn new() -> Self {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let path = temp.path().to_path_buf();
        Self { _temp: temp, path }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path.join(name);
        std::fs::write(&path, text).expect("write a file");
        path
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

#[test]
fn validate_counts_per_rule_and_writes_the_dlq() {
    let folder = Folder::new();
    let contract = folder.write("orders.yaml", CONTRACT);
    let data = folder.write("orders.csv", DATA);
    let dlq = folder.file("rejects.jsonl");
    let output = validate(&folder, true, &data, &contract)
        .arg("--dlq")
        .arg(&dlq)
        .output()
        .expect("runi runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = &json_of(&output.stdout)["report"];
    assert_eq!(report["rows_in"], 6);
    assert_eq!(report["rows_valid"], 2);
    assert_eq!(report["rows_rejected"], 4);
    let failed = |field: &str, rule: &str| {
        report["rules"]
            .as_array()
            .expect("a rule list")
            .iter()
            .find(|r| r["field"] == field && r["rule"] == rule)
            .unwrap_or_else(|| panic!("no rule {field}/{rule} in {report}"))["rows_failed"]
            .as_u64()
            .expect("a count")
    };
    assert_eq!(failed("amount", "minimum"), 1);
    assert_eq!(failed("amount", "logicalType"), 1);
    assert_eq!(failed("order_id", "pattern"), 1);
    assert_eq!(failed("order_id", "duplicate"), 1);
    // Rules no row failed are listed too, as passed.
    assert_eq!(failed("currency", "validValues"), 0);
    assert_eq!(failed("created_at", "format"), 0);

    let rows = jsonl(&dlq);
    let reasons: Vec<(u64, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["_runink"]["line"].as_u64().expect("a line"),
                r["_runink"]["field"].as_str().expect("a field"),
                r["_runink"]["rule"].as_str().expect("a rule"),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (3, "amount", "minimum"),
            (4, "amount", "logicalType"),
            (5, "order_id", "duplicate"),
            (6, "order_id", "pattern"),
        ]
    );
    // The PII column is tokenized in the DLQ, and only the herd's key reverses it.
    let token = rows[0]["email"].as_str().expect("a token").to_owned();
    assert!(token.starts_with("tok_"), "{token}");
    runi(&folder.path)
        .args(["contract", "detokenize", &token])
        .assert()
        .success()
        .stdout("bob@example.com\n");
    let other_home = Folder::new();
    runi(&other_home.path)
        .args(["contract", "detokenize", &token])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no masking keys"));
    // A herd is a name: a path to another state folder's keys is refused.
    let relative = format!("../{}/herds/default", folder.path.display());
    runi(&other_home.path)
        .args(["contract", "detokenize", "--herd", &relative, &token])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a herd name"));
}

#[test]
fn validate_text_summary_and_all_violations() {
    let folder = Folder::new();
    let contract = folder.write("orders.yaml", CONTRACT);
    let data = folder.write("orders.csv", DATA);
    validate(&folder, false, &data, &contract)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("rejected             4"))
        .stdout(predicate::str::contains("FAILED  amount / minimum"))
        .stdout(predicate::str::contains("ok      currency / validValues"));
    // Row 5 breaks the pattern, the currency list and the format at once.
    let output = runi(&folder.path)
        .args(["--json", "contract", "validate", "--all-violations"])
        .arg(&data)
        .arg("--contract")
        .arg(&contract)
        .output()
        .expect("runi runs");
    let report = &json_of(&output.stdout)["report"];
    let total: u64 = report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["level"] == "row")
        .map(|r| r["rows_failed"].as_u64().expect("a count"))
        .sum();
    assert_eq!(total, 6, "{report}");
}

/// Dataset rules over the rows the contract accepts; `{severity}` and
/// `{count}` are filled in by each case.
const RULES_CONTRACT: &str = r#"apiVersion: v3.1.0
kind: DataContract
id: urn:test:orders
version: 1.0.0
status: active
schema:
  - name: orders
    quality:
      - name: enough_orders
        metric: rowCount
        mustBeGreaterOrEqualTo: {count}
        severity: error
      - name: no_big_orders
        type: sql
        query: SELECT COUNT(*) FROM {object} WHERE amount > 100
        mustBe: 0
        severity: {severity}
    properties:
      - name: order_id
        logicalType: string
        required: true
      - name: amount
        logicalType: number
        logicalTypeOptions: { minimum: 0 }
"#;

const RULES_DATA: &str = "order_id,amount
A,10
B,500
C,-1
D,20
";

fn rules_contract(folder: &Folder, count: u64, severity: &str) -> PathBuf {
    let text = RULES_CONTRACT
        .replace("{count}", &count.to_string())
        .replace("{severity}", severity);
    folder.write(&format!("rules-{count}-{severity}.yaml"), &text)
}

#[test]
fn validate_measures_dataset_rules_over_accepted_rows() {
    let folder = Folder::new();
    let data = folder.write("orders.csv", RULES_DATA);
    // Row C is rejected; three rows are accepted, and one is above 100.
    let contract = rules_contract(&folder, 3, "error");
    let output = validate(&folder, true, &data, &contract)
        .output()
        .expect("runi runs");
    assert_eq!(output.status.code(), Some(1));
    let json = json_of(&output.stdout);
    assert_eq!(json["ok"], false);
    let rules = json["report"]["rules"].as_array().expect("rules");
    let dataset: Vec<&serde_json::Value> =
        rules.iter().filter(|r| r["level"] == "dataset").collect();
    assert_eq!(dataset.len(), 2, "{rules:?}");
    assert_eq!(dataset[0]["name"], "enough_orders");
    assert_eq!(dataset[0]["measured"], 3.0);
    assert_eq!(dataset[0]["passed"], true);
    assert_eq!(dataset[1]["name"], "no_big_orders");
    assert_eq!(dataset[1]["metric"], "sql");
    assert_eq!(dataset[1]["measured"], 1.0);
    assert_eq!(dataset[1]["passed"], false);

    // Every row readable and in range, but too few of them: the error
    // rule alone fails the validation.
    let clean = folder.write("clean.csv", "order_id,amount\nA,10\nB,20\n");
    validate(&folder, false, &clean, &contract)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("failed dataset rules"))
        .stdout(predicate::str::contains(
            "FAILED  enough_orders (rowCount): 2, expected mustBeGreaterOrEqualTo 3",
        ));

    // A failed warning is reported and does not fail the validation.
    let lenient = rules_contract(&folder, 1, "warning");
    let big = folder.write("big.csv", "order_id,amount\nA,500\n");
    validate(&folder, false, &big, &lenient)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "WARNING  no_big_orders (sql): 1, expected mustBe 0",
        ));
}

#[test]
fn validate_refuses_a_dataset_rule_that_does_not_plan() {
    let folder = Folder::new();
    let data = folder.write("orders.csv", RULES_DATA);
    let text = rules_contract(&folder, 1, "error");
    let broken = std::fs::read_to_string(&text)
        .expect("the contract")
        .replace("WHERE amount > 100", "WHERE no_such_column > 100");
    let contract = folder.write("broken.yaml", &broken);
    let dlq = folder.file("rejects.jsonl");
    validate(&folder, false, &data, &contract)
        .arg("--dlq")
        .arg(&dlq)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no_big_orders"))
        .stderr(predicate::str::contains("no_such_column"));
    assert!(!dlq.exists(), "nothing is written when a rule cannot run");
}

/// A sql rule that would write a file (the masked column in clear) is
/// refused when the contract loads: by `contract check` and before any
/// row is read.
#[test]
fn a_sql_rule_that_writes_is_refused() {
    let folder = Folder::new();
    let data = folder.write("orders.csv", RULES_DATA);
    let leak = folder.file("leak.csv");
    let text = std::fs::read_to_string(rules_contract(&folder, 1, "error"))
        .expect("the contract")
        .replace(
            "SELECT COUNT(*) FROM {object} WHERE amount > 100",
            &format!(
                "\"COPY (SELECT * FROM {{object}}) TO '{}' STORED AS CSV\"",
                leak.display()
            ),
        );
    assert!(text.contains("COPY"), "the rule's query was replaced");
    let contract = folder.write("copy.yaml", &text);
    runi(&folder.path)
        .args(["contract", "check"])
        .arg(&contract)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("one read-only query"))
        .stderr(predicate::str::contains("a `COPY` statement"));
    validate(&folder, false, &data, &contract).assert().code(2);
    assert!(!leak.exists(), "the rule wrote `{}`", leak.display());
}

/// A sql rule failing on a sensitive value fails the validation (exit 1)
/// without showing the value the engine quotes.
#[test]
fn a_sql_rule_failing_on_a_sensitive_value_does_not_show_it() {
    let folder = Folder::new();
    let data = folder.write("orders.csv", DATA);
    let text = format!(
        "{CONTRACT}    quality:\n      - type: sql\n        query: SELECT COUNT(*) FROM orders WHERE CAST(email AS INT) > 0\n        mustBe: 0\n"
    );
    let contract = folder.write("cast.yaml", &text);
    let output = validate(&folder, false, &data, &contract)
        .output()
        .expect("runi runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failed on the data"), "{stderr}");
    assert!(stderr.contains("'***'"), "{stderr}");
    assert!(!stderr.contains("example.com"), "{stderr}");
}

/// ODCS's own example of a sql rule names its object `Air_Quality` and
/// the column `DataValue`, case and all.
#[test]
fn the_upstream_sql_rule_example_measures_its_mixed_case_table() {
    let folder = Folder::new();
    let contract = runink_testkit::repo_root()
        .join("../shared/conformance/odcs/examples/main/quality/column-accuracy.odcs.yaml");
    let data = folder.write("air.jsonl", "{\"DataValue\": 10}\n{\"DataValue\": 600}\n");
    let output = validate(&folder, true, &data, &contract)
        .output()
        .expect("runi runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = json_of(&output.stdout);
    let rules = json["report"]["rules"].as_array().expect("rules");
    let sql = rules
        .iter()
        .find(|r| r["metric"] == "sql")
        .unwrap_or_else(|| panic!("no sql rule in {rules:?}"));
    assert_eq!(
        (sql["measured"].as_f64(), &sql["passed"]),
        (Some(1.0), &false.into())
    );
}

#[test]
fn validate_refuses_bad_input_with_exit_2_and_writes_nothing() {
    let folder = Folder::new();
    let contract = folder.write("orders.yaml", CONTRACT);
    let data = folder.write("orders.csv", DATA);
    let dlq = folder.file("rejects.jsonl");
    runi(&folder.path)
        .args(["contract", "validate", "missing.csv", "--contract"])
        .arg(&contract)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`missing.csv` does not exist"));
    let broken = folder.write(
        "broken.yaml",
        &CONTRACT.replace("logicalType: number", "logicalType: numbr"),
    );
    validate(&folder, false, &data, &broken)
        .arg("--dlq")
        .arg(&dlq)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not valid"));
    assert!(!dlq.exists());
    let odd = folder.write("orders.dat", DATA);
    validate(&folder, false, &odd, &contract)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--format"));
    runi(&folder.path)
        .args(["contract", "validate", "--object", "nope"])
        .arg(&data)
        .arg("--contract")
        .arg(&contract)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no schema object `nope`"));
    let not_parquet = folder.write("fake.parquet", "not parquet at all");
    validate(&folder, false, &not_parquet, &contract)
        .arg("--dlq")
        .arg(&dlq)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("fake.parquet"));
    assert!(!dlq.exists());
}

#[test]
fn validate_reports_lines_that_cannot_be_read() {
    let folder = Folder::new();
    let contract = folder.write("orders.yaml", CONTRACT);
    let data = folder.write(
        "orders.jsonl",
        "{\"order_id\":\"ORD-000001\",\"amount\":\"1\"}\nnot json\n{\"order_id\":\"ORD-000002\",\"amount\":2}\n",
    );
    let output = validate(&folder, true, &data, &contract)
        .output()
        .expect("runi runs");
    assert_eq!(output.status.code(), Some(1));
    let report = &json_of(&output.stdout)["report"];
    assert_eq!(report["rows_in"], 3);
    assert_eq!(report["rows_valid"], 2);
    assert_eq!(report["rows_unreadable"], 1);
}

/// synth → validate in each format: no reject without a ratio; with one,
/// exactly the rows synth broke, for the rules it names.
const NESTED_CONTRACT: &str = r#"apiVersion: v3.1.0
kind: DataContract
id: urn:test:nested
version: 1.0.0
status: active
schema:
  - name: t
    properties:
      - name: tags
        logicalType: array
        logicalTypeOptions: { minItems: 1, maxItems: 2, uniqueItems: true }
      - name: obj
        logicalType: object
        logicalTypeOptions: { required: [a], maxProperties: 1 }
"#;

/// `array` and `object` options are rules like any other: each rejects
/// the rows it should, by name; rows synth makes valid pass them.
#[test]
fn array_and_object_options_reject_their_rows() {
    let folder = Folder::new();
    let contract = folder.write("nested.yaml", NESTED_CONTRACT);
    let data = folder.write(
        "d.jsonl",
        concat!(
            "{\"tags\":[\"a\"],\"obj\":{\"a\":1}}\n",
            "{\"tags\":[],\"obj\":{\"a\":1}}\n",
            "{\"tags\":[\"a\",\"b\",\"c\"],\"obj\":{\"a\":1}}\n",
            "{\"tags\":[\"a\",\"a\"],\"obj\":{\"a\":1}}\n",
            "{\"tags\":[\"a\"],\"obj\":{\"b\":1}}\n",
            "{\"tags\":[\"a\"],\"obj\":{\"a\":1,\"b\":2}}\n",
        ),
    );
    let dlq = folder.file("d.dlq.jsonl");
    validate(&folder, false, &data, &contract)
        .arg("--dlq")
        .arg(&dlq)
        .assert()
        .code(1);
    let found: Vec<(u64, String)> = jsonl(&dlq)
        .iter()
        .map(|r| {
            (
                r["_runink"]["line"].as_u64().expect("a line"),
                r["_runink"]["rule"].as_str().expect("a rule").to_owned(),
            )
        })
        .collect();
    let expected = [
        (2, "minItems"),
        (3, "maxItems"),
        (4, "uniqueItems"),
        (5, "requiredProperties"),
        (6, "maxProperties"),
    ];
    let expected: Vec<(u64, String)> = expected
        .iter()
        .map(|(line, rule)| (*line, (*rule).to_owned()))
        .collect();
    assert_eq!(found, expected);

    let valid = folder.file("valid.jsonl");
    runi(&folder.path)
        .args(["-q", "contract", "synth"])
        .arg(&contract)
        .args(["--rows", "200", "--seed", "5", "--format", "jsonl", "--out"])
        .arg(&valid)
        .assert()
        .success();
    validate(&folder, false, &valid, &contract)
        .assert()
        .success()
        .stdout(predicate::str::contains("valid              200"));
}

#[test]
fn synth_then_validate_round_trip_in_every_format() {
    let folder = Folder::new();
    let contract = folder.write("orders.yaml", CONTRACT);
    for (format, header_lines) in [("csv", 1), ("jsonl", 0), ("parquet", 0)] {
        let data = folder.file(&format!("valid.{format}"));
        runi(&folder.path)
            .args(["-q", "contract", "synth"])
            .arg(&contract)
            .args(["--rows", "700", "--seed", "3", "--format", format, "--out"])
            .arg(&data)
            .assert()
            .success();
        validate(&folder, false, &data, &contract)
            .assert()
            .success()
            .stdout(predicate::str::contains("valid              700"));

        let data = folder.file(&format!("mixed.{format}"));
        let broken = folder.file(&format!("mixed.{format}.broken.jsonl"));
        let dlq = folder.file(&format!("mixed.{format}.dlq"));
        runi(&folder.path)
            .args(["-q", "contract", "synth"])
            .arg(&contract)
            .args(["--rows", "700", "--invalid-ratio", "0.2", "--seed", "4"])
            .args(["--batch-rows-max", "64", "--format", format, "--out"])
            .arg(&data)
            .assert()
            .success();
        validate(&folder, false, &data, &contract)
            .arg("--dlq")
            .arg(&dlq)
            .assert()
            .code(1);
        let made: Vec<(u64, String, String)> = jsonl(&broken)
            .iter()
            .map(|b| {
                (
                    b["row"].as_u64().expect("a row") + header_lines,
                    b["field"].as_str().expect("a field").to_owned(),
                    b["rule"].as_str().expect("a rule").to_owned(),
                )
            })
            .collect();
        let found: Vec<(u64, String, String)> = jsonl(&dlq)
            .iter()
            .map(|r| {
                (
                    r["_runink"]["line"].as_u64().expect("a line"),
                    r["_runink"]["field"].as_str().expect("a field").to_owned(),
                    r["_runink"]["rule"].as_str().expect("a rule").to_owned(),
                )
            })
            .collect();
        assert_eq!(made.len(), 140, "{format}");
        assert_eq!(found, made, "{format}");
    }
}

#[test]
fn synth_is_repeatable_and_refuses_bad_requests() {
    let folder = Folder::new();
    let contract = folder.write("orders.yaml", CONTRACT);
    let run = |seed: &str| {
        runi(&folder.path)
            .args(["contract", "synth"])
            .arg(&contract)
            .args(["--rows", "50", "--format", "csv", "--seed", seed])
            .output()
            .expect("runi runs")
            .stdout
    };
    assert_eq!(run("1"), run("1"));
    assert_ne!(run("1"), run("2"));
    assert_eq!(
        String::from_utf8_lossy(&run("1")).lines().count(),
        51,
        "a header and 50 rows"
    );
    runi(&folder.path)
        .args(["contract", "synth"])
        .arg(&contract)
        .args(["--rows", "5", "--format", "parquet"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--out"));
    runi(&folder.path)
        .args(["contract", "synth"])
        .arg(&contract)
        .args([
            "--rows",
            "5",
            "--format",
            "csv",
            "--invalid-ratio",
            "1.5",
            "--broken",
            "b.jsonl",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("between 0 and 1"));
    runi(&folder.path)
        .args(["contract", "synth"])
        .arg(&contract)
        .args(["--rows", "5", "--format", "csv", "--invalid-ratio", "0.5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--broken"));
    let contradictory = folder.write(
        "bad.yaml",
        &CONTRACT.replace("{ minimum: 0 }", "{ minimum: 10, maximum: 5 }"),
    );
    let out = folder.file("bad.csv");
    runi(&folder.path)
        .args(["contract", "synth"])
        .arg(&contradictory)
        .args(["--rows", "5", "--format", "csv", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("column `amount`"));
    assert!(!out.exists(), "a failed synth leaves no file");
}

#[test]
fn infer_drafts_a_contract_that_accepts_its_data() {
    let folder = Folder::new();
    let contract = folder.write("orders.yaml", CONTRACT);
    let data = folder.file("orders.jsonl");
    runi(&folder.path)
        .args(["-q", "contract", "synth"])
        .arg(&contract)
        .args(["--rows", "300", "--format", "jsonl", "--out"])
        .arg(&data)
        .assert()
        .success();
    let output = runi(&folder.path)
        .args(["contract", "infer"])
        .arg(&data)
        .output()
        .expect("runi runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let draft = String::from_utf8(output.stdout).expect("UTF-8 YAML");
    assert!(draft.contains("pattern: \"^ORD-[0-9]{6}$\""), "{draft}");
    assert!(draft.contains("validValues: [\"EUR\", \"USD\"]"), "{draft}");
    let inferred = folder.write("inferred.yaml", &draft);
    runi(&folder.path)
        .args(["contract", "check"])
        .arg(&inferred)
        .assert()
        .success();
    validate(&folder, false, &data, &inferred)
        .assert()
        .success();

    let emails = folder.write(
        "people.csv",
        &(0..30)
            .map(|i| format!("p{i}@example.org,+44 20 7946 {i:04}\n"))
            .fold("email,phone\n".to_owned(), |all, line| all + &line),
    );
    runi(&folder.path)
        .args(["contract", "infer"])
        .arg(&emails)
        .assert()
        .success()
        .stdout(predicate::str::contains("classification: pii").count(2));
    runi(&folder.path)
        .args(["contract", "infer", "nowhere.csv"])
        .assert()
        .code(2);

    // JSON lines with arrays and objects: typed so, and their rows pass.
    let nested = folder.write(
        "nested.jsonl",
        "{\"id\":1,\"tags\":[1,2],\"address\":{\"zip\":\"123\"}}\n\
         {\"id\":2,\"tags\":[],\"address\":{}}\n",
    );
    let output = runi(&folder.path)
        .args(["contract", "infer"])
        .arg(&nested)
        .output()
        .expect("runi runs");
    let draft = String::from_utf8(output.stdout).expect("UTF-8 YAML");
    assert!(
        draft.contains("- name: \"tags\"\n        logicalType: array"),
        "{draft}"
    );
    assert!(
        draft.contains("- name: \"address\"\n        logicalType: object"),
        "{draft}"
    );
    let inferred = folder.write("nested.yaml", &draft);
    validate(&folder, false, &nested, &inferred)
        .assert()
        .success();
}

#[test]
fn diff_lists_changes_and_gates_on_breaking_ones() {
    let folder = Folder::new();
    let old = folder.write("old.yaml", CONTRACT);
    let same = folder.write("same.yaml", &format!("# reformatted\n{CONTRACT}"));
    runi(&folder.path)
        .args(["contract", "diff", "--fail-on", "any"])
        .arg(&old)
        .arg(&same)
        .assert()
        .success()
        .stdout(predicate::str::contains("no changes"));
    let tighter = folder.write(
        "tighter.yaml",
        &CONTRACT.replace("[USD, EUR]", "[USD]").replace(
            "        classification: pii\n",
            "        classification: pii\n        required: true\n",
        ),
    );
    runi(&folder.path)
        .args(["contract", "diff", "--fail-on", "breaking"])
        .arg(&old)
        .arg(&tighter)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 changes: 0 breaking, 2 compatible",
        ));
    let looser = folder.write(
        "looser.yaml",
        &CONTRACT
            .replace("        logicalTypeOptions: { minimum: 0 }\n", "")
            .replace("      - name: created_at\n        logicalType: timestamp\n        logicalTypeOptions: { format: \"yyyy-MM-dd'T'HH:mm:ss\", timezone: false }\n", ""),
    );
    let output = runi(&folder.path)
        .args(["--json", "contract", "diff", "--fail-on", "breaking"])
        .arg(&old)
        .arg(&looser)
        .output()
        .expect("runi runs");
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output.stdout);
    assert_eq!(report["breaking"], 2, "{report}");
    let aspects: Vec<&str> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["aspect"].as_str().expect("an aspect"))
        .collect();
    assert_eq!(aspects, ["minimum", "column"]);
    runi(&folder.path)
        .args(["contract", "diff"])
        .arg(&old)
        .arg(&looser)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "breaking    orders.created_at  column",
        ));
    runi(&folder.path)
        .args(["contract", "diff", "missing.yaml"])
        .arg(&old)
        .assert()
        .code(2);
}
