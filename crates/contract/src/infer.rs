//! A draft contract from what the data looks like ([`ColumnStats`]):
//! types, `required`, patterns where the values share an obvious shape,
//! value lists for low-cardinality text, and `classification: pii` where
//! values look like e-mail addresses or phone numbers. Every guess is one
//! the data seen satisfies, so the draft accepts the data it came from;
//! comments in the YAML mark what a person should review.

use std::fmt::Write;

use arrow::datatypes::DataType;

use crate::logical_type::LogicalType;
use crate::profile::{ColumnStats, TypeCandidate};

/// At most this many distinct values make a value list (`validValues`).
const ENUM_VALUES_MAX: usize = 20;
/// A value list needs each value seen this many times on average.
const ENUM_REPEATS_MIN: u64 = 4;
/// Patterns, uniqueness and PII are guessed only from this many values.
const SHAPE_VALUES_MIN: u64 = 10;

/// What to call the contract and where the data came from.
#[derive(Debug, Clone)]
pub struct InferOptions {
    /// The contract's and the schema object's name.
    pub name: String,
    /// Shown in the header comment.
    pub source: String,
}

/// What infer decided for one column.
#[derive(Debug, Clone, PartialEq)]
pub struct InferredColumn {
    pub name: String,
    pub kind: LogicalType,
    pub format: Option<String>,
    /// `Some(false)`: `timezone: false`.
    pub timezone: Option<bool>,
    pub required: bool,
    pub unique: bool,
    pub pattern: Option<String>,
    pub valid_values: Option<Vec<String>>,
    /// Why the column is marked `classification: pii`.
    pub pii: Option<&'static str>,
    /// Notes for the reviewer, written as comments.
    pub notes: Vec<String>,
}

/// Decides each column from its statistics.
pub fn infer_columns(stats: &[ColumnStats]) -> Vec<InferredColumn> {
    stats.iter().map(infer_column).collect()
}

fn infer_column(stats: &ColumnStats) -> InferredColumn {
    let mut column = InferredColumn {
        name: stats.name.clone(),
        kind: LogicalType::String,
        format: None,
        timezone: None,
        required: stats.rows > 0 && stats.missing == 0,
        unique: false,
        pattern: None,
        valid_values: None,
        pii: None,
        notes: Vec::new(),
    };
    if let Some(arrow_type) = &stats.arrow_type {
        typed_column(&mut column, arrow_type);
        return column;
    }
    if stats.values == 0 {
        column
            .notes
            .push("no values seen: the type is a guess".to_owned());
        return column;
    }
    let chosen = stats
        .types
        .iter()
        .find(|c| !(stats.leading_zero && c.kind.is_numeric()));
    if let Some(TypeCandidate {
        kind,
        format,
        zoned,
    }) = chosen
    {
        column.kind = *kind;
        column.format = format.map(str::to_owned);
        column.timezone = (*kind == LogicalType::Timestamp && !zoned).then_some(false);
        return column;
    }
    if stats.values < SHAPE_VALUES_MIN {
        return column;
    }
    if stats.all_emails {
        column.pii = Some("the values look like e-mail addresses");
        column.format = Some("email".to_owned());
    } else if stats.all_phones {
        column.pii = Some("the values look like phone numbers");
    } else if stats.all_uuids {
        column.pattern = Some(
            "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
                .to_owned(),
        );
    } else if let Some((prefix, low, high)) = &stats.prefixed_digits
        && !prefix.is_empty()
    {
        let count = if low == high {
            format!("{{{low}}}")
        } else {
            format!("{{{low},{high}}}")
        };
        column.pattern = Some(format!("^{}[0-9]{count}$", escape_literal(prefix)));
    }
    column.unique = column.required && column.pattern.is_some() && stats.all_distinct;
    if column.pii.is_none()
        && column.pattern.is_none()
        && let Some(distinct) = &stats.distinct
        && !distinct.is_empty()
        && distinct.len() <= ENUM_VALUES_MAX
        && stats.values >= ENUM_REPEATS_MIN * distinct.len() as u64
    {
        column.valid_values = Some(distinct.iter().cloned().collect());
    }
    column
}

fn typed_column(column: &mut InferredColumn, arrow_type: &DataType) {
    column.kind = match arrow_type {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => LogicalType::Integer,
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => LogicalType::Number,
        DataType::Boolean => LogicalType::Boolean,
        DataType::Date32 | DataType::Date64 => LogicalType::Date,
        DataType::Timestamp(_, zone) => {
            if zone.is_none() {
                column.timezone = Some(false);
            }
            LogicalType::Timestamp
        }
        DataType::Time32(_) | DataType::Time64(_) => LogicalType::Time,
        other => {
            column
                .notes
                .push(format!("the data's type is `{other}`; read here as text"));
            LogicalType::String
        }
    };
}

/// Escapes what a regular expression would read as syntax.
fn escape_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The draft contract as ODCS v3.1 YAML, with review comments.
pub fn contract_yaml(columns: &[InferredColumn], rows: u64, options: &InferOptions) -> String {
    let q = quoted;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Inferred by `runi contract infer` from {} ({rows} rows).",
        options.source
    );
    out.push_str(
        "# A draft: types, `required`, patterns, value lists and classifications\n\
         # were guessed from the rows seen. Review every column before use.\n",
    );
    out.push_str("apiVersion: v3.1.0\nkind: DataContract\n");
    let _ = writeln!(
        out,
        "id: {}",
        q(&format!("urn:runink:inferred:{}", options.name))
    );
    out.push_str("version: \"0.1.0\"\nstatus: draft\n");
    let _ = writeln!(out, "name: {}", q(&options.name));
    out.push_str("schema:\n");
    let _ = writeln!(out, "  - name: {}", q(&options.name));
    out.push_str("    logicalType: object\n    properties:\n");
    for column in columns {
        for note in &column.notes {
            let _ = writeln!(out, "      # review: {note}");
        }
        let _ = writeln!(out, "      - name: {}", q(&column.name));
        let _ = writeln!(out, "        logicalType: {}", column.kind.name());
        if column.required {
            out.push_str("        required: true\n");
        }
        if column.unique {
            out.push_str("        unique: true\n");
        }
        if let Some(reason) = column.pii {
            let _ = writeln!(out, "        # review: {reason}; masked by default");
            out.push_str("        classification: pii\n");
        }
        let options: Vec<String> = [
            column.format.as_ref().map(|f| format!("format: {}", q(f))),
            column.timezone.map(|t| format!("timezone: {t}")),
            column
                .pattern
                .as_ref()
                .map(|p| format!("pattern: {}", q(p))),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !options.is_empty() {
            out.push_str("        logicalTypeOptions:\n");
            for option in options {
                let _ = writeln!(out, "          {option}");
            }
        }
        if let Some(values) = &column.valid_values {
            let listed: Vec<String> = values.iter().map(|v| q(v)).collect();
            out.push_str(
                "        quality:\n          - type: library\n            metric: invalidValues\n",
            );
            let _ = writeln!(
                out,
                "            arguments:\n              validValues: [{}]",
                listed.join(", ")
            );
            out.push_str("            mustBe: 0\n");
        }
    }
    out
}

/// A YAML double-quoted scalar: JSON's escapes are a subset of YAML's.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, RecordBatch, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;
    use crate::profile::Profiler;
    use crate::{CheckOptions, Contract, RowChecker};

    fn batch(columns: &[(&str, Vec<Option<String>>)]) -> RecordBatch {
        let schema = Schema::new(
            columns
                .iter()
                .map(|(n, _)| Field::new(*n, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        );
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .map(|(_, v)| Arc::new(StringArray::from(v.clone())) as ArrayRef)
            .collect();
        RecordBatch::try_new(Arc::new(schema), arrays).unwrap()
    }

    #[test]
    fn infers_types_patterns_enums_and_pii() {
        let n = 40;
        let data = batch(&[
            (
                "order_id",
                (0..n).map(|i| Some(format!("ORD-{i:06}"))).collect(),
            ),
            ("amount", (0..n).map(|i| Some(format!("{}.5", i))).collect()),
            ("qty", (0..n).map(|i| Some(i.to_string())).collect()),
            (
                "currency",
                (0..n)
                    .map(|i| Some(["USD", "EUR"][i % 2].to_owned()))
                    .collect(),
            ),
            (
                "email",
                (0..n).map(|i| Some(format!("a{i}@example.com"))).collect(),
            ),
            (
                "phone",
                (0..n).map(|i| Some(format!("+1 555-01{i:02}"))).collect(),
            ),
            (
                "day",
                (0..n)
                    .map(|i| Some(format!("2024-01-{:02}", i % 28 + 1)))
                    .collect(),
            ),
            (
                "at",
                (0..n)
                    .map(|i| Some(format!("2024-01-01T10:00:{:02}", i % 60)))
                    .collect(),
            ),
            ("zip", (0..n).map(|i| Some(format!("0{i:04}"))).collect()),
            (
                "note",
                (0..n)
                    .map(|i| (i % 3 != 0).then(|| format!("free text {i}")))
                    .collect(),
            ),
        ]);
        let mut profiler = Profiler::new(&data.schema(), 1000);
        profiler.add(&data).unwrap();
        let columns = infer_columns(&profiler.finish());
        let by_name = |name: &str| columns.iter().find(|c| c.name == name).unwrap();
        let id = by_name("order_id");
        assert_eq!(id.pattern.as_deref(), Some("^ORD-[0-9]{6}$"));
        assert!(id.required && id.unique);
        assert_eq!(by_name("amount").kind, LogicalType::Number);
        assert_eq!(by_name("qty").kind, LogicalType::Integer);
        assert_eq!(
            by_name("currency").valid_values,
            Some(vec!["EUR".to_owned(), "USD".to_owned()])
        );
        assert!(by_name("email").pii.is_some());
        assert!(by_name("phone").pii.is_some());
        assert_eq!(by_name("day").kind, LogicalType::Date);
        assert_eq!(by_name("at").timezone, Some(false));
        assert_eq!(by_name("zip").kind, LogicalType::String);
        assert!(!by_name("note").required);

        let yaml = contract_yaml(
            &columns,
            n as u64,
            &InferOptions {
                name: "orders".into(),
                source: "`orders.csv`".into(),
            },
        );
        let contract = Contract::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let object = &contract.objects[0];
        let mut checker = RowChecker::new(object, &data.schema(), CheckOptions::default()).unwrap();
        let checked = checker.check(&data).unwrap();
        assert!(
            checked.rejected_rows.is_empty(),
            "{:?}\n{yaml}",
            checked.findings
        );
        assert!(object.columns[4].is_sensitive());
    }
}
