//! The round trip, as a property over generated contracts:
//! - rows synth makes as valid pass the contract's checker with no reject;
//! - with an invalid ratio, the checker rejects exactly the rows synth
//!   broke, each for the rule synth names;
//! - the contract `infer` drafts from valid synth output accepts that output.
//!
//! The checker sees what `runi contract validate` sees after reading a CSV
//! or JSON Lines file: every value as text (synth never writes an empty
//! text, which CSV could not tell from a null).

use arrow::array::RecordBatch;
use proptest::prelude::*;
use runink_contract::{
    CheckOptions, Contract, InferOptions, Profiler, RowChecker, RuleKind, SchemaObject,
    SynthOptions, Synthesizer, contract_yaml, infer_columns,
};

const ROWS: u64 = 240;

#[derive(Debug, Clone)]
enum Kind {
    Text {
        pattern: Option<&'static str>,
        lengths: Option<(u32, u32)>,
        values: Option<Vec<&'static str>>,
    },
    Integer {
        low: Option<i64>,
        span: i64,
        multiple: Option<i64>,
    },
    Number {
        low: Option<i64>,
        span: i64,
        exclusive: bool,
    },
    Boolean,
    Date {
        bounded: bool,
    },
    Timestamp {
        format: Option<&'static str>,
    },
}

#[derive(Debug, Clone)]
struct ColumnSpec {
    kind: Kind,
    required: bool,
    unique: bool,
    pii: bool,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (
            prop::option::of(prop::sample::select(vec![
                "^[A-Z]{3}-[0-9]{4}$",
                "^[a-z]+$",
                "^(red|green|blue)$",
                r"^\d{2,5}[a-c]?$",
            ])),
            prop::option::of((1u32..4, 5u32..20)),
            prop::option::of(prop::sample::subsequence(
                vec!["NEW", "OPEN", "DONE", "LOST"],
                1..4
            )),
        )
            .prop_map(|(pattern, lengths, values)| match (pattern, values) {
                (Some(pattern), _) => Kind::Text {
                    pattern: Some(pattern),
                    lengths: None,
                    values: None,
                },
                (None, values) => Kind::Text {
                    pattern: None,
                    lengths,
                    values,
                },
            }),
        (
            prop::option::of(-100i64..100),
            10i64..1000,
            prop::option::of(prop::sample::select(vec![2i64, 5, 10]))
        )
            .prop_map(|(low, span, multiple)| Kind::Integer {
                low,
                span,
                multiple
            }),
        (prop::option::of(-100i64..100), 10i64..1000, any::<bool>()).prop_map(
            |(low, span, exclusive)| Kind::Number {
                low,
                span,
                exclusive
            }
        ),
        Just(Kind::Boolean),
        any::<bool>().prop_map(|bounded| Kind::Date { bounded }),
        prop::option::of(prop::sample::select(vec![
            "yyyy-MM-dd HH:mm:ss",
            "yyyy-MM-dd'T'HH:mm:ss",
            "dd/MM/yyyy HH:mm",
        ]))
        .prop_map(|format| Kind::Timestamp { format }),
    ]
}

fn column() -> impl Strategy<Value = ColumnSpec> {
    (kind(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(kind, required, unique, pii)| {
            // Only keys with room for `ROWS` distinct values can be unique.
            let unique = unique
                && matches!(
                    kind,
                    Kind::Text {
                        pattern: Some("^[A-Z]{3}-[0-9]{4}$"),
                        ..
                    } | Kind::Integer { low: None, .. }
                );
            ColumnSpec {
                kind,
                required,
                unique,
                pii,
            }
        },
    )
}

fn contract_text(columns: &[ColumnSpec]) -> String {
    let mut out = String::from(
        "apiVersion: v3.1.0\nkind: DataContract\nid: urn:test:generated\nversion: 1.0.0\nstatus: active\nschema:\n  - name: data\n    properties:\n",
    );
    for (index, column) in columns.iter().enumerate() {
        out.push_str(&format!("      - name: c{index}\n"));
        let mut options: Vec<String> = Vec::new();
        let mut quality = None;
        let logical = match &column.kind {
            Kind::Text {
                pattern,
                lengths,
                values,
            } => {
                if let Some(pattern) = pattern {
                    options.push(format!(
                        "pattern: {}",
                        serde_json::to_string(pattern).expect("text serialises")
                    ));
                }
                if let Some((low, high)) = lengths {
                    options.push(format!("minLength: {low}"));
                    options.push(format!("maxLength: {high}"));
                }
                quality = values.as_ref().map(|v| format!("[{}]", v.join(", ")));
                "string"
            }
            Kind::Integer {
                low,
                span,
                multiple,
            } => {
                if let Some(low) = low {
                    options.push(format!("minimum: {low}"));
                    options.push(format!("maximum: {}", low + span));
                }
                if let Some(multiple) = multiple {
                    options.push(format!("multipleOf: {multiple}"));
                }
                "integer"
            }
            Kind::Number {
                low,
                span,
                exclusive,
            } => {
                if let Some(low) = low {
                    let (min, max) = if *exclusive {
                        ("exclusiveMinimum", "exclusiveMaximum")
                    } else {
                        ("minimum", "maximum")
                    };
                    options.push(format!("{min}: {low}"));
                    options.push(format!("{max}: {}.5", low + span));
                }
                "number"
            }
            Kind::Boolean => "boolean",
            Kind::Date { bounded } => {
                if *bounded {
                    options.push("minimum: \"2021-03-01\"".to_owned());
                    options.push("maximum: \"2022-03-01\"".to_owned());
                }
                "date"
            }
            Kind::Timestamp { format } => {
                if let Some(format) = format {
                    options.push(format!("format: \"{format}\""));
                    options.push("timezone: false".to_owned());
                }
                "timestamp"
            }
        };
        out.push_str(&format!("        logicalType: {logical}\n"));
        out.push_str(&format!("        required: {}\n", column.required));
        if column.unique {
            out.push_str("        unique: true\n");
        }
        if column.pii {
            out.push_str("        classification: pii\n");
        }
        if !options.is_empty() {
            out.push_str(&format!(
                "        logicalTypeOptions: {{ {} }}\n",
                options.join(", ")
            ));
        }
        if let Some(values) = quality {
            out.push_str(&format!(
                "        quality:\n          - metric: invalidValues\n            arguments: {{ validValues: {values} }}\n            mustBe: 0\n"
            ));
        }
    }
    out
}

fn synthesize(
    object: &SchemaObject,
    invalid_ratio: f64,
    seed: u64,
) -> (Vec<RecordBatch>, Vec<(u64, String, RuleKind)>) {
    let mut synth = Synthesizer::new(
        object,
        SynthOptions {
            rows: ROWS,
            invalid_ratio,
            seed,
            batch_rows_max: 100,
            unique_keys_max: 100_000,
        },
    )
    .expect("synth accepts the contract");
    let mut batches = Vec::new();
    let mut broken = Vec::new();
    while let Some(batch) = synth.next_batch().expect("synth makes rows") {
        batches.push(batch.batch);
        broken.extend(batch.broken.into_iter().map(|b| (b.row, b.field, b.rule)));
    }
    (batches, broken)
}

/// Every rejected row, as (1-based row, field, first rule).
fn rejected(object: &SchemaObject, batches: &[RecordBatch]) -> Vec<(u64, String, RuleKind)> {
    let mut checker =
        RowChecker::new(object, &batches[0].schema(), CheckOptions::default()).expect("checker");
    let mut out = Vec::new();
    let mut first = 1;
    for batch in batches {
        let checked = checker.check(batch).expect("check");
        for (row, findings) in checked.rejected_rows.iter().zip(&checked.findings) {
            out.push((
                first + u64::from(*row),
                findings[0].field.clone(),
                findings[0].rule,
            ));
        }
        first += batch.num_rows() as u64;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn synth_validate_infer_round_trip(
        mut columns in prop::collection::vec(column(), 1..7),
        seed in any::<u64>(),
    ) {
        // A required column: every contract has a rule to break.
        columns[0].required = true;
        let text = contract_text(&columns);
        let contract = Contract::from_yaml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let object = &contract.objects[0];

        let (valid, broken) = synthesize(object, 0.0, seed);
        prop_assert!(broken.is_empty());
        let rejects = rejected(object, &valid);
        prop_assert!(rejects.is_empty(), "valid rows rejected: {:?}\n{}", rejects, text);

        let (mixed, broken) = synthesize(object, 0.25, seed);
        let rejects = rejected(object, &mixed);
        prop_assert_eq!(&rejects, &broken, "\n{}", text);
        prop_assert!(!broken.is_empty() && broken.len() as u64 <= ROWS / 4);

        let mut profiler = Profiler::new(&valid[0].schema(), 100_000);
        for batch in &valid {
            profiler.add(batch).expect("profile");
        }
        let yaml = contract_yaml(
            &infer_columns(&profiler.finish()),
            ROWS,
            &InferOptions { name: "data".into(), source: "synth".into() },
        );
        let inferred = Contract::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let rejects = rejected(&inferred.objects[0], &valid);
        prop_assert!(rejects.is_empty(), "the inferred contract rejects its data: {:?}\n{}\nfrom\n{}", rejects, yaml, text);
    }
}
