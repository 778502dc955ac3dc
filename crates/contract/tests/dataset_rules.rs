//! Dataset rules: counted over the accepted rows of several batches, then
//! judged with every ODCS operator, `unit: percent` and each severity.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::Schema;
use runink_contract::{CheckError, Contract, DatasetMeasurement, DatasetMeter, Severity, SqlRule};

const CONTRACT: &str = r#"
apiVersion: v3.1.0
kind: DataContract
id: urn:test:dataset
version: 1.0.0
status: active
schema:
  - name: Orders
    logicalType: object
    quality:
      - { metric: rowCount, mustBeGreaterOrEqualTo: 5, severity: error }
      - { name: not_too_many, metric: rowCount, mustBeBetween: [0, 4] }
      - { name: whole_rows, metric: duplicateValues, mustBe: 0, severity: error }
      - type: sql
        name: negative
        query: SELECT COUNT(*) FROM ${object} WHERE amount < 0
        mustBe: 0
        severity: error
    properties:
      - name: id
        logicalType: string
        quality:
          - { metric: duplicateValues, mustBeLessOrEqualTo: 1, severity: error }
      - name: country
        logicalType: string
        quality:
          - { metric: nullValues, arguments: { missingValues: ["", "n/a"] }, mustBeLessThan: 50, unit: percent, severity: error }
          - { name: mostly_known, metric: invalidValues, arguments: { validValues: [DE, FR] }, mustNotBeBetween: [1, 2], severity: info }
      - name: amount
        logicalType: number
        quality:
          - { metric: invalidValues, arguments: { invalidValues: ["0", "13"] }, mustBeGreaterThan: 0 }
          - { metric: nullValues, mustBe: 0 }
          - type: sql
            query: SELECT MAX({property}) FROM {object}
            mustBeLessOrEqualTo: 100
"#;

fn object() -> runink_contract::SchemaObject {
    Contract::from_yaml(CONTRACT)
        .unwrap()
        .object("Orders")
        .unwrap()
        .clone()
}

fn batch(
    schema: &Arc<Schema>,
    ids: &[&str],
    countries: &[Option<&str>],
    amounts: &[f64],
) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids.to_vec())),
        Arc::new(StringArray::from(countries.to_vec())),
        Arc::new(Float64Array::from(amounts.to_vec())),
    ];
    RecordBatch::try_new(Arc::clone(schema), columns).unwrap()
}

fn by_name<'a>(results: &'a [DatasetMeasurement], name: &str) -> &'a DatasetMeasurement {
    results
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no result named {name}: {results:?}"))
}

#[test]
fn metrics_count_across_batches_and_judge_each_operator() {
    let object = object();
    let schema = Arc::new(object.accepted_schema());
    let mut meter = DatasetMeter::new(&object, &schema, 1000).unwrap();
    meter
        .observe(&batch(
            &schema,
            &["a", "b", "a"],
            &[Some("DE"), None, Some("n/a")],
            &[10.0, 13.0, 0.0],
        ))
        .unwrap();
    meter
        .observe(&batch(
            &schema,
            &["c", "a", "d"],
            &[Some("FR"), Some("US"), Some("")],
            &[13.0, 10.0, 5.0],
        ))
        .unwrap();
    let results = meter.results();

    let rows = by_name(&results, "rowCount");
    assert_eq!((rows.measured, rows.passed), (6.0, true));
    assert_eq!(rows.expectation, "mustBeGreaterOrEqualTo 5");
    let too_many = by_name(&results, "not_too_many");
    assert_eq!((too_many.measured, too_many.passed), (6.0, false));
    assert_eq!(too_many.severity, Severity::Warning, "the default severity");
    assert!(!too_many.fails_run(), "a warning never fails the run");

    // Whole rows: ("a", "US", 10) differs from ("a", "DE", 10): no repeat.
    let whole = by_name(&results, "whole_rows");
    assert_eq!((whole.measured, whole.passed), (0.0, true));
    assert_eq!(whole.column, None);

    let ids = results
        .iter()
        .find(|r| r.metric == "duplicateValues" && r.column.as_deref() == Some("id"))
        .unwrap();
    assert_eq!(ids.measured, 2.0, "the second and third `a`");
    assert!(!ids.passed && ids.fails_run());

    // Null, "n/a" and "" of 6 rows: 50%, not less than 50.
    let nulls = results
        .iter()
        .find(|r| r.metric == "nullValues" && r.column.as_deref() == Some("country"))
        .unwrap();
    assert_eq!(nulls.measured, 50.0);
    assert!(nulls.unit_percent && !nulls.passed && nulls.fails_run());

    // Present values outside {DE, FR}: "n/a", "US", "" -> 3, outside [1, 2].
    let known = by_name(&results, "mostly_known");
    assert_eq!((known.measured, known.passed), (3.0, true));

    // Numbers compare by value: 13 twice and 0 once.
    let listed = results
        .iter()
        .find(|r| r.metric == "invalidValues" && r.column.as_deref() == Some("amount"))
        .unwrap();
    assert_eq!((listed.measured, listed.passed), (3.0, true));

    // `nullValues` with `mustBe: 0` is a row rule, not a dataset rule.
    assert!(
        !results
            .iter()
            .any(|r| r.metric == "nullValues" && r.column.as_deref() == Some("amount"))
    );
}

#[test]
fn sql_rules_name_their_table_and_columns() {
    let object = object();
    let rules = SqlRule::all_of(&object);
    let queries: Vec<(&str, Option<&str>)> = rules
        .iter()
        .map(|r| (r.query.as_str(), r.column.as_deref()))
        .collect();
    assert_eq!(
        queries,
        vec![
            ("SELECT COUNT(*) FROM Orders WHERE amount < 0", None),
            ("SELECT MAX(amount) FROM Orders", Some("amount")),
        ]
    );
    assert!(rules.iter().all(|r| r.table == "Orders"));
    let judged = rules[1].judge(130.0, 6);
    assert_eq!((judged.measured, judged.passed), (130.0, false));
    assert_eq!(judged.severity, Severity::Warning);
}

#[test]
fn percent_of_no_rows_is_zero() {
    let object = object();
    let schema = Arc::new(object.accepted_schema());
    let meter = DatasetMeter::new(&object, &schema, 1000).unwrap();
    let results = meter.results();
    let nulls = results.iter().find(|r| r.metric == "nullValues").unwrap();
    assert_eq!((nulls.measured, nulls.passed), (0.0, true));
    assert!(
        !by_name(&results, "rowCount").passed,
        "0 rows is fewer than 5"
    );
}

#[test]
fn duplicate_state_is_bounded() {
    let object = object();
    let schema = Arc::new(object.accepted_schema());
    let mut meter = DatasetMeter::new(&object, &schema, 2).unwrap();
    let error = meter
        .observe(&batch(
            &schema,
            &["a", "b", "c"],
            &[None, None, None],
            &[1.0, 2.0, 3.0],
        ))
        .unwrap_err();
    assert!(
        matches!(error, CheckError::UniqueStateFull { keys_max: 2, .. }),
        "{error}"
    );
}

#[test]
fn object_level_value_metrics_are_a_load_error() {
    let text = CONTRACT.replace(
        "      - { metric: rowCount, mustBeGreaterOrEqualTo: 5, severity: error }",
        "      - { metric: nullValues, mustBeLessThan: 5 }",
    );
    let error = Contract::from_yaml(&text).unwrap_err().to_string();
    assert!(error.contains("move it under that property"), "{error}");
}
