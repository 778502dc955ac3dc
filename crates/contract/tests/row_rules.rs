//! Row rules over Arrow batches: each rule, the order in which a rejected
//! row reports them, uniqueness across batches, and schema drift.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit};
use runink_contract::{CheckOptions, Contract, RowChecker, RuleKind};

const CONTRACT: &str = r#"
apiVersion: v3.1.0
kind: DataContract
id: urn:test:rules
version: 1.0.0
status: active
schema:
  - name: rows
    logicalType: object
    properties:
      - name: id
        logicalType: string
        required: true
        unique: true
        logicalTypeOptions: { pattern: "^ID-[0-9]{3}$" }
      - name: amount
        logicalType: number
        required: true
        logicalTypeOptions: { minimum: 0, exclusiveMaximum: 100 }
      - name: code
        logicalType: string
        logicalTypeOptions: { minLength: 2, maxLength: 3 }
        quality:
          - { metric: invalidValues, arguments: { validValues: [AA, BB, CCC, Z] }, mustBe: 0 }
      - name: day
        logicalType: date
        logicalTypeOptions: { format: "yyyy-MM-dd", minimum: "2024-01-01" }
      - name: qty
        logicalType: integer
        logicalTypeOptions: { multipleOf: 5 }
      - name: flag
        logicalType: boolean
"#;

const COLUMNS: [&str; 6] = ["id", "amount", "code", "day", "qty", "flag"];

fn checker(options: CheckOptions) -> RowChecker {
    let contract = Contract::from_yaml(CONTRACT).unwrap();
    RowChecker::new(
        contract.object("rows").unwrap(),
        &text_schema(&COLUMNS),
        options,
    )
    .unwrap()
}

fn text_schema(names: &[&str]) -> Schema {
    Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    )
}

fn batch(names: &[&str], rows: &[[Option<&str>; 6]]) -> RecordBatch {
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|c| Arc::new(rows.iter().map(|r| r[c]).collect::<StringArray>()) as ArrayRef)
        .collect();
    RecordBatch::try_new(Arc::new(text_schema(names)), columns).unwrap()
}

const GOOD: [Option<&str>; 6] = [
    Some("ID-001"),
    Some("10.5"),
    Some("AA"),
    Some("2024-02-01"),
    Some("10"),
    Some("true"),
];

fn with(column: usize, value: Option<&'static str>, id: &'static str) -> [Option<&'static str>; 6] {
    let mut row = GOOD;
    row[0] = Some(id);
    row[column] = value;
    row
}

#[test]
fn each_rule_rejects_with_its_name_and_a_message() {
    let cases: Vec<([Option<&str>; 6], RuleKind, &str)> = vec![
        (with(0, None, "x"), RuleKind::Required, "id"),
        (with(0, Some("ID-12"), "x"), RuleKind::Pattern, "id"),
        (
            with(1, Some("abc"), "ID-101"),
            RuleKind::LogicalType,
            "amount",
        ),
        (with(1, Some("-1"), "ID-102"), RuleKind::Minimum, "amount"),
        (
            with(1, Some("100"), "ID-103"),
            RuleKind::ExclusiveMaximum,
            "amount",
        ),
        (with(2, Some("A"), "ID-104"), RuleKind::MinLength, "code"),
        (with(2, Some("AAAA"), "ID-105"), RuleKind::MaxLength, "code"),
        (with(2, Some("XY"), "ID-106"), RuleKind::ValidValues, "code"),
        (
            with(3, Some("2024-02-30"), "ID-107"),
            RuleKind::Format,
            "day",
        ),
        (
            with(3, Some("2023-12-31"), "ID-108"),
            RuleKind::Minimum,
            "day",
        ),
        (with(4, Some("7"), "ID-109"), RuleKind::MultipleOf, "qty"),
        (with(4, Some("7.5"), "ID-110"), RuleKind::LogicalType, "qty"),
        (
            with(5, Some("yes"), "ID-111"),
            RuleKind::LogicalType,
            "flag",
        ),
    ];
    let mut checker = checker(CheckOptions::default());
    let rows: Vec<[Option<&str>; 6]> = cases.iter().map(|c| c.0).chain([GOOD]).collect();
    let checked = checker.check(&batch(&COLUMNS, &rows)).unwrap();
    assert_eq!(
        checked.valid().unwrap().num_rows(),
        1,
        "only the good row passes"
    );
    assert_eq!(
        checked.rejected_rows,
        (0..cases.len() as u32).collect::<Vec<_>>()
    );
    for ((_, rule, field), findings) in cases.iter().zip(&checked.findings) {
        assert_eq!(findings.len(), 1);
        assert_eq!(
            (findings[0].rule, findings[0].field.as_str()),
            (*rule, *field),
            "{findings:?}"
        );
        assert!(!findings[0].message.is_empty());
    }
    assert_eq!(
        checked.findings[1][0].message,
        "`ID-12` does not match the pattern `^ID-[0-9]{3}$`"
    );
    assert_eq!(
        checked.findings[7][0].message,
        "`XY` is not one of `AA`, `BB`, `CCC`, `Z`"
    );
}

#[test]
fn passing_rows_carry_the_contract_types() {
    let mut checker = checker(CheckOptions::default());
    let checked = checker.check(&batch(&COLUMNS, &[GOOD])).unwrap();
    let schema = checked.valid().unwrap().schema();
    let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
    assert_eq!(
        types,
        [
            &DataType::Utf8,
            &DataType::Float64,
            &DataType::Utf8,
            &DataType::Date32,
            &DataType::Int64,
            &DataType::Boolean
        ]
    );
    assert_eq!(
        checked
            .valid()
            .unwrap()
            .column(1)
            .as_primitive::<Float64Type>()
            .value(0),
        10.5
    );
}

#[test]
fn the_first_failing_rule_wins_unless_all_are_asked_for() {
    // Breaks: id pattern, amount type, code length and value, day format.
    let row = [
        Some("bad"),
        Some("x"),
        Some("Q"),
        Some("nope"),
        Some("5"),
        None,
    ];
    let mut first = checker(CheckOptions::default());
    let checked = first.check(&batch(&COLUMNS, &[row])).unwrap();
    assert_eq!(
        checked.findings[0]
            .iter()
            .map(|f| f.rule)
            .collect::<Vec<_>>(),
        [RuleKind::Pattern]
    );

    let mut all = checker(CheckOptions {
        all_violations: true,
        ..CheckOptions::default()
    });
    let checked = all.check(&batch(&COLUMNS, &[row])).unwrap();
    let rules: Vec<(RuleKind, &str)> = checked.findings[0]
        .iter()
        .map(|f| (f.rule, f.field.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            (RuleKind::Pattern, "id"),
            (RuleKind::LogicalType, "amount"),
            (RuleKind::MinLength, "code"),
            (RuleKind::ValidValues, "code"),
            (RuleKind::Format, "day"),
        ]
    );
}

#[test]
fn duplicates_are_found_across_batches_and_the_first_row_wins_even_when_rejected() {
    let mut checker = checker(CheckOptions::default());
    // The first ID-001 is rejected (bad amount) but still claims the id.
    let first = checker
        .check(&batch(
            &COLUMNS,
            &[with(1, Some("abc"), "ID-001"), with(1, Some("1"), "ID-002")],
        ))
        .unwrap();
    assert_eq!(first.rejected_rows, [0]);
    let second = checker
        .check(&batch(
            &COLUMNS,
            &[
                with(1, Some("1"), "ID-001"),
                with(1, Some("1"), "ID-003"),
                with(1, Some("1"), "ID-003"),
            ],
        ))
        .unwrap();
    assert_eq!(second.rejected_rows, [0, 2]);
    assert!(
        second
            .findings
            .iter()
            .all(|f| f[0].rule == RuleKind::Duplicate && f[0].field == "id")
    );
    assert_eq!(
        second.findings[0][0].message,
        "`ID-001` was already seen in an earlier row"
    );
    assert_eq!(checker.unique_keys_seen(), 3);
}

#[test]
fn the_unique_state_is_bounded() {
    let mut checker = checker(CheckOptions {
        unique_keys_max: 2,
        ..CheckOptions::default()
    });
    let error = checker
        .check(&batch(
            &COLUMNS,
            &[
                with(1, Some("1"), "ID-001"),
                with(1, Some("1"), "ID-002"),
                with(1, Some("1"), "ID-003"),
            ],
        ))
        .unwrap_err();
    assert!(error.to_string().contains("unique_keys_max"), "{error}");
}

#[test]
fn drift_is_reported_and_blocks_only_when_asked() {
    let contract = Contract::from_yaml(CONTRACT).unwrap();
    let names = ["id", "amount", "code", "day", "qty", "surprise"];
    let input = text_schema(&names);
    let tolerant = RowChecker::new(
        contract.object("rows").unwrap(),
        &input,
        CheckOptions::default(),
    )
    .unwrap();
    assert_eq!(tolerant.drift().extra, ["surprise"]);
    assert_eq!(tolerant.drift().missing, ["flag"]);
    let mut tolerant = tolerant;
    let checked = tolerant.check(&batch(&names, &[GOOD])).unwrap();
    assert_eq!(checked.valid().unwrap().num_rows(), 1);
    assert_eq!(
        checked.valid().unwrap().schema().field(6).name(),
        "surprise"
    );

    let mut blocking = RowChecker::new(
        contract.object("rows").unwrap(),
        &input,
        CheckOptions {
            block_on_drift: true,
            ..CheckOptions::default()
        },
    )
    .unwrap();
    let checked = blocking.check(&batch(&names, &[GOOD])).unwrap();
    assert_eq!(checked.valid().unwrap().num_rows(), 0);
    assert_eq!(checked.findings[0][0].rule, RuleKind::Drift);
    assert!(
        checked.findings[0][0].message.contains("`surprise`"),
        "{}",
        checked.findings[0][0].message
    );
}

#[test]
fn workload_w_contract_reads_timestamps_without_zone() {
    let text = std::fs::read_to_string(format!(
        "{}/../../../shared/bench/orders_w.yaml",
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let contract = Contract::from_yaml(&text).unwrap();
    let names = [
        "order_id",
        "customer_email",
        "amount",
        "currency",
        "country",
        "created_at",
        "note",
    ];
    let mut checker = RowChecker::new(
        contract.object("orders").unwrap(),
        &text_schema(&names),
        CheckOptions::default(),
    )
    .unwrap();
    let row = |id: &str, amount: &str, currency: &str, at: &str| -> Vec<Option<String>> {
        [
            Some(id),
            Some("a@b.c"),
            Some(amount),
            Some(currency),
            Some("FR"),
            Some(at),
            Some("n"),
        ]
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
    };
    let rows = [
        row("ORD-00000001", "1.50", "USD", "2024-02-29T10:00:00"),
        row("ORD-123", "1.50", "USD", "2024-02-29T10:00:00"),
        row("ORD-00000002", "$15.00", "USD", "2024-02-29T10:00:00"),
        row("ORD-00000003", "-2", "USD", "2024-02-29T10:00:00"),
        row("ORD-00000004", "2", "usd", "2024-02-29T10:00:00"),
        row("ORD-00000005", "2", "EUR", "2024-02-29T25:00:00"),
        row("ORD-00000001", "2", "EUR", "2024-03-01T10:00:00"),
    ];
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|c| Arc::new(rows.iter().map(|r| r[c].clone()).collect::<StringArray>()) as ArrayRef)
        .collect();
    let input = RecordBatch::try_new(Arc::new(text_schema(&names)), columns).unwrap();
    let checked = checker.check(&input).unwrap();
    let reasons: Vec<(&str, RuleKind)> = checked
        .findings
        .iter()
        .map(|f| (f[0].field.as_str(), f[0].rule))
        .collect();
    assert_eq!(
        reasons,
        [
            ("order_id", RuleKind::Pattern),
            ("amount", RuleKind::LogicalType),
            ("amount", RuleKind::Minimum),
            ("currency", RuleKind::ValidValues),
            ("created_at", RuleKind::Format),
            ("order_id", RuleKind::Duplicate),
        ]
    );
    let created = checked
        .valid()
        .unwrap()
        .schema()
        .field(5)
        .data_type()
        .clone();
    assert_eq!(created, DataType::Timestamp(TimeUnit::Microsecond, None));
    assert_eq!(checked.valid().unwrap().column(5).null_count(), 0);
}

#[test]
fn the_check_marks_passing_rows_and_copies_none() {
    let mut checking = checker(CheckOptions::default());
    let mut bad = GOOD;
    bad[0] = Some("ID-002");
    bad[1] = Some("abc");
    let mut other = GOOD;
    other[0] = Some("ID-003");
    let checked = checking
        .check(&batch(&COLUMNS, &[GOOD, bad, other]))
        .unwrap();
    assert_eq!(checked.rows_valid, 2);
    assert_eq!(checked.typed.num_rows(), 3, "every row, typed");
    let marks: Vec<_> = checked.passing.iter().collect();
    assert_eq!(marks, [Some(true), Some(false), Some(true)]);
    assert_eq!(checked.rejected_rows, [1]);
    assert_eq!(checked.valid().unwrap().num_rows(), 2);

    // When every row passes, the valid rows are the typed columns themselves.
    let checked = checker(CheckOptions::default())
        .check(&batch(&COLUMNS, &[GOOD]))
        .unwrap();
    assert_eq!(checked.rows_valid, 1);
    let valid = checked.valid().unwrap();
    assert!(Arc::ptr_eq(valid.column(1), checked.typed.column(1)));
}

/// Checks `values` as the one text column `name` of object `rows` in the
/// contract `text`.
fn check_one_column(
    text: &str,
    name: &str,
    values: &[Option<&str>],
) -> (runink_contract::CheckedBatch, RowChecker) {
    let contract = Contract::from_yaml(text).unwrap();
    let schema = text_schema(&[name]);
    let mut checker = RowChecker::new(
        contract.object("rows").unwrap(),
        &schema,
        CheckOptions::default(),
    )
    .unwrap();
    let column: ArrayRef = Arc::new(StringArray::from(values.to_vec()));
    let batch = RecordBatch::try_new(Arc::new(schema), vec![column]).unwrap();
    (checker.check(&batch).unwrap(), checker)
}

/// Whole-number bounds of an integer column compare exactly, past 2^53
/// where an `f64` can no longer tell neighbours apart.
#[test]
fn integer_bounds_compare_exactly_past_two_to_the_53() {
    let text = r#"
apiVersion: v3.1.0
kind: DataContract
id: urn:test:big
version: 1.0.0
status: active
schema:
  - name: rows
    properties:
      - name: id
        logicalType: integer
        logicalTypeOptions: { minimum: 9007199254740993, exclusiveMaximum: 9007199254740995 }
"#;
    let values = [
        Some("9007199254740992"),
        Some("9007199254740993"),
        Some("9007199254740994"),
        Some("9007199254740995"),
    ];
    let (checked, _) = check_one_column(text, "id", &values);
    assert_eq!(checked.rejected_rows, [0, 3]);
    let rules: Vec<RuleKind> = checked.findings.iter().map(|f| f[0].rule).collect();
    assert_eq!(rules, [RuleKind::Minimum, RuleKind::ExclusiveMaximum]);
    assert!(
        checked.findings[0][0]
            .message
            .contains("below the minimum 9007199254740993"),
        "{}",
        checked.findings[0][0].message
    );
}

/// The properties of an object column are checked as columns of their
/// own, by path, objects within objects too; a missing object is left to
/// its own rules.
#[test]
fn the_properties_of_an_object_column_are_checked_by_path() {
    let text = r#"
apiVersion: v3.1.0
kind: DataContract
id: urn:test:nested
version: 1.0.0
status: active
schema:
  - name: rows
    properties:
      - name: customer
        logicalType: object
        properties:
          - name: age
            logicalType: integer
            logicalTypeOptions: { minimum: 0 }
          - name: address
            logicalType: object
            properties:
              - name: zip
                logicalType: string
                required: true
                logicalTypeOptions: { pattern: "^[0-9]{5}$" }
"#;
    let values = [
        Some(r#"{"age": 30, "address": {"zip": "12345"}}"#),
        Some(r#"{"age": "old", "address": {"zip": "12345"}}"#),
        Some(r#"{"age": -1, "address": {"zip": "12345"}}"#),
        Some(r#"{"age": 30, "address": {}}"#),
        Some(r#"{"age": 30, "address": {"zip": "1234x"}}"#),
        // No address at all: its zip is not asked for.
        Some(r#"{"age": 30}"#),
        None,
    ];
    let (checked, checker) = check_one_column(text, "customer", &values);
    let found: Vec<(u32, RuleKind, String)> = checked
        .rejected_rows
        .iter()
        .zip(&checked.findings)
        .map(|(row, f)| (*row, f[0].rule, f[0].field.clone()))
        .collect();
    let expected = [
        (1, RuleKind::LogicalType, "customer.age"),
        (2, RuleKind::Minimum, "customer.age"),
        (3, RuleKind::Required, "customer.address.zip"),
        (4, RuleKind::Pattern, "customer.address.zip"),
    ];
    let expected: Vec<(u32, RuleKind, String)> = expected
        .iter()
        .map(|(row, rule, field)| (*row, *rule, (*field).to_owned()))
        .collect();
    assert_eq!(found, expected);
    let rules = checker.rules();
    assert!(
        rules.contains(&("customer.address.zip".to_owned(), RuleKind::Pattern)),
        "{rules:?}"
    );
}

/// An array column's `items` are checked element by element; a row fails
/// when one of its elements does, showing that element.
#[test]
fn the_items_of_an_array_column_are_checked_each() {
    let text = r#"
apiVersion: v3.1.0
kind: DataContract
id: urn:test:items
version: 1.0.0
status: active
schema:
  - name: rows
    properties:
      - name: lines
        logicalType: array
        items:
          logicalType: object
          properties:
            - name: sku
              logicalType: string
              required: true
            - name: qty
              logicalType: integer
              logicalTypeOptions: { minimum: 1 }
"#;
    let values = [
        Some(r#"[{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]"#),
        Some(r#"[{"sku": "A", "qty": 1}, {"qty": 2}]"#),
        Some(r#"[{"sku": "A", "qty": 0}]"#),
        Some("[]"),
        None,
    ];
    let (checked, _) = check_one_column(text, "lines", &values);
    let found: Vec<(u32, RuleKind, String, Option<String>)> = checked
        .rejected_rows
        .iter()
        .zip(&checked.findings)
        .map(|(row, f)| (*row, f[0].rule, f[0].field.clone(), f[0].value.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (1, RuleKind::Required, "lines[].sku".to_owned(), None),
            (
                2,
                RuleKind::Minimum,
                "lines[].qty".to_owned(),
                Some("0".to_owned())
            ),
        ]
    );
}
