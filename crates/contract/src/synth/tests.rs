use super::*;
use crate::{CheckOptions, Contract, RowChecker};

const ORDERS: &str = r#"
apiVersion: v3.1.0
kind: DataContract
id: urn:example:orders
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
        logicalTypeOptions: { pattern: "^ORD-[0-9]{8}$" }
      - name: amount
        logicalType: number
        required: true
        logicalTypeOptions: { minimum: 0, exclusiveMaximum: 5000 }
      - name: quantity
        logicalType: integer
        logicalTypeOptions: { minimum: 1, maximum: 100, multipleOf: 5 }
      - name: currency
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments: { validValues: [USD, EUR, GBP] }
            mustBe: 0
      - name: created_at
        logicalType: timestamp
        required: true
        logicalTypeOptions: { format: "yyyy-MM-dd'T'HH:mm:ss", timezone: false, minimum: "2024-01-01T00:00:00" }
      - name: shipped_on
        logicalType: date
      - name: code
        logicalType: string
        logicalTypeOptions: { minLength: 3, maxLength: 6 }
      - name: paid
        logicalType: boolean
"#;

fn object(yaml: &str) -> SchemaObject {
    Contract::from_yaml(yaml).expect("contract loads").objects[0].clone()
}

fn options(rows: u64, invalid_ratio: f64, seed: u64) -> SynthOptions {
    SynthOptions {
        rows,
        invalid_ratio,
        seed,
        batch_rows_max: 97,
        unique_keys_max: 1_000_000,
    }
}

/// Synthesizes everything and checks it with a fresh `RowChecker`:
/// returns (rows rejected: (row, field, rule)) and the rows synth broke.
fn round_trip(
    object: &SchemaObject,
    options: SynthOptions,
) -> (Vec<(u64, String, RuleKind)>, Vec<BrokenRow>) {
    let mut synth = Synthesizer::new(object, options).expect("synth starts");
    let mut checker =
        RowChecker::new(object, &synth.schema(), CheckOptions::default()).expect("checker");
    let mut rejected = Vec::new();
    let mut broken = Vec::new();
    let mut first_row = 1;
    while let Some(batch) = synth.next_batch().expect("batch") {
        let checked = checker.check(&batch.batch).expect("check");
        for (row, findings) in checked.rejected_rows.iter().zip(&checked.findings) {
            rejected.push((
                first_row + u64::from(*row),
                findings[0].field.clone(),
                findings[0].rule,
            ));
        }
        first_row += batch.batch.num_rows() as u64;
        broken.extend(batch.broken);
    }
    (rejected, broken)
}

#[test]
fn valid_rows_pass_every_rule() {
    let (rejected, broken) = round_trip(&object(ORDERS), options(500, 0.0, 1));
    assert!(broken.is_empty());
    assert!(rejected.is_empty(), "{rejected:?}");
}

#[test]
fn each_broken_row_fails_exactly_its_rule() {
    let (rejected, broken) = round_trip(&object(ORDERS), options(1000, 0.3, 2));
    assert_eq!(broken.len(), 300);
    let expected: Vec<(u64, String, RuleKind)> = broken
        .iter()
        .map(|b| (b.row, b.field.clone(), b.rule))
        .collect();
    assert_eq!(rejected, expected);
    let rules: std::collections::BTreeSet<RuleKind> = broken.iter().map(|b| b.rule).collect();
    for rule in [
        RuleKind::Required,
        RuleKind::Pattern,
        RuleKind::Minimum,
        RuleKind::ExclusiveMaximum,
        RuleKind::MultipleOf,
        RuleKind::ValidValues,
        RuleKind::Format,
        RuleKind::LogicalType,
        RuleKind::MinLength,
        RuleKind::MaxLength,
        RuleKind::Duplicate,
    ] {
        assert!(rules.contains(&rule), "no row broke `{rule}`: {rules:?}");
    }
}

#[test]
fn the_same_seed_gives_the_same_rows() {
    let object = object(ORDERS);
    let text = |seed| {
        let mut synth = Synthesizer::new(&object, options(50, 0.2, seed)).expect("synth");
        let batch = synth.next_batch().expect("batch").expect("rows");
        format!("{:?}", batch.batch)
    };
    assert_eq!(text(9), text(9));
    assert_ne!(text(9), text(10));
}

#[test]
fn contradictory_rules_are_an_error_not_a_loop() {
    let contradictory = ORDERS.replace(
        "{ minLength: 3, maxLength: 6 }",
        "{ minLength: 3, maxLength: 6, pattern: \"^[a-z]{10}$\" }",
    );
    let mut synth = Synthesizer::new(&object(&contradictory), options(10, 0.0, 1)).expect("synth");
    let error = synth.next_batch().unwrap_err().to_string();
    assert!(error.contains("column `code`"), "{error}");
    assert!(matches!(
        Synthesizer::new(&object(ORDERS), options(10, 1.5, 1)),
        Err(SynthError::Ratio(_))
    ));
}

#[test]
fn typed_batches_keep_text_where_a_value_is_broken() {
    let object = object(ORDERS);
    let mut synth = Synthesizer::new(&object, options(200, 0.0, 4)).expect("synth");
    let batch = synth.next_batch().expect("batch").expect("rows");
    let typed = synth.typed(&batch.batch).expect("typed");
    assert_eq!(typed.schema().field(1).data_type(), &DataType::Float64);
    assert_eq!(typed.schema().field(7).data_type(), &DataType::Boolean);
    let mut broken = Synthesizer::new(&object, options(200, 0.5, 4)).expect("synth");
    let batch = broken.next_batch().expect("batch").expect("rows");
    let typed = broken.typed(&batch.batch).expect("typed");
    // `amount` may hold `abc`; `order_id` is text anyway.
    assert_eq!(typed.schema().field(1).data_type(), &DataType::Utf8);
}

#[test]
fn a_unique_key_with_bounds_is_broken_without_repeats() {
    // Values just past a bound are few; a unique key's broken rows must
    // not repeat one (they would break `unique` too).
    let yaml = r#"
apiVersion: v3.1.0
kind: DataContract
id: urn:x
version: 1.0.0
status: active
schema:
  - name: t
    properties:
      - name: id
        logicalType: integer
        required: true
        unique: true
        logicalTypeOptions: { minimum: 1, maximum: 100000 }
"#;
    let (rejected, broken) = round_trip(&object(yaml), options(300, 0.5, 3));
    assert_eq!(broken.len(), 150);
    let expected: Vec<(u64, String, RuleKind)> = broken
        .iter()
        .map(|b| (b.row, b.field.clone(), b.rule))
        .collect();
    assert_eq!(rejected, expected);
}
