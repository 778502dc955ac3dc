//! Every csv-spectrum case (../shared/conformance/csv/csv-spectrum, not the
//! quarantine folder) read by `runi run` from CSV and written as JSON Lines
//! gives the case's expected JSON. Runink reads an empty field as null,
//! where csv-spectrum writes `""`; the comparison maps one to the other.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::fs;

use assert_cmd::Command;
use runink_testkit::repo_root;
use serde_json::{Map, Value};

#[test]
fn every_csv_spectrum_case_reads_to_its_expected_json() {
    let spectrum = repo_root().join("../shared/conformance/csv/csv-spectrum");
    let mut cases: Vec<String> = fs::read_dir(spectrum.join("csvs"))
        .unwrap_or_else(|e| {
            panic!("the csv-spectrum cases are in ../shared beside the repository: {e}")
        })
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".csv")
                .to_owned()
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 11, "{cases:?}");
    let mut mismatches = Vec::new();
    for case in &cases {
        let temp = tempfile::tempdir().unwrap();
        fs::copy(
            spectrum.join(format!("csvs/{case}.csv")),
            temp.path().join("in.csv"),
        )
        .unwrap();
        fs::write(
            temp.path().join("case.dsl"),
            "Feature: csv-spectrum\n\nScenario: Read one case\n  @source(\"csv://in.csv\")\n  @sink(\"jsonl://out.jsonl\")\n\n  Given a CSV file\n",
        )
        .unwrap();
        let output = Command::cargo_bin("runi")
            .unwrap()
            .env("RUNINK_HOME", temp.path().join("state"))
            .arg("run")
            .arg(temp.path().join("case.dsl"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let expected: Vec<Value> = serde_json::from_str(
            &fs::read_to_string(spectrum.join(format!("json/{case}.json"))).unwrap(),
        )
        .unwrap();
        let text = fs::read_to_string(temp.path().join("out.jsonl")).unwrap();
        let got: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let got: Vec<Value> = got
            .into_iter()
            .map(|row| with_empty_strings(row, &expected))
            .collect();
        if got != expected {
            mismatches.push(format!("{case}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Writes a row's nulls (empty CSV fields read as null) as `""`, as
/// csv-spectrum writes empty fields; every key must be there.
fn with_empty_strings(row: Value, expected: &[Value]) -> Value {
    let mut map: Map<String, Value> = row.as_object().cloned().unwrap_or_default();
    if let Some(keys) = expected.first().and_then(Value::as_object) {
        for key in keys.keys() {
            if let Some(value) = map.get_mut(key)
                && value.is_null()
            {
                *value = Value::String(String::new());
            }
        }
    }
    Value::Object(map)
}
