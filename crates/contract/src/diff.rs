//! What changed between two versions of a contract, and whether each
//! change is safe for the data's readers.
//!
//! A reader was written against OLD and now gets data that NEW allows. A
//! change is compatible when every value NEW allows was already allowed by
//! OLD (a rule tightened or added, a column added), and breaking when NEW
//! allows something OLD did not, or takes away what a reader relies on (a
//! column or object removed, a type or format changed, a rule loosened or
//! dropped, masking changed so that values look different). When Runink
//! cannot prove a change tightens a rule (a new `pattern`), it calls it
//! breaking. docs/contract-commands.md lists every case.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::logical_type::LogicalType;
use crate::model::{Column, Contract, SchemaObject};
use crate::quality::{QualityCheck, QualityRule};
use crate::type_options::{Bound, BoundValue};

/// Whether a change is safe for readers of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    Compatible,
    Breaking,
}

impl Impact {
    pub fn name(self) -> &'static str {
        match self {
            Self::Compatible => "compatible",
            Self::Breaking => "breaking",
        }
    }
}

/// One difference between two contracts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The schema object (empty for the contract's own fields).
    pub object: String,
    /// The column, when the change is to one.
    pub column: Option<String>,
    /// What changed: `column`, `object`, `logicalType`, `required`,
    /// `pattern`, `classification`, a quality rule's name, ….
    pub aspect: String,
    /// The old and new values as text; `None` where absent.
    pub old: Option<String>,
    pub new: Option<String>,
    pub impact: Impact,
    /// Why it has that impact, for a person.
    pub reason: String,
}

/// Every change from `old` to `new`: objects and columns by name, then
/// each column's type, rules and governance, then dataset rules.
pub fn diff(old: &Contract, new: &Contract) -> Vec<Change> {
    let mut changes = Vec::new();
    for (key, old_value, new_value) in [
        ("id", &old.id, &new.id),
        ("name", &old.name, &new.name),
        ("version", &old.version, &new.version),
    ] {
        if old_value != new_value {
            changes.push(Change {
                object: String::new(),
                column: None,
                aspect: key.to_owned(),
                old: old_value.clone(),
                new: new_value.clone(),
                impact: Impact::Compatible,
                reason: "metadata: the data itself is unaffected".to_owned(),
            });
        }
    }
    for old_object in &old.objects {
        match new.object(&old_object.name) {
            None => changes.push(Change {
                object: old_object.name.clone(),
                column: None,
                aspect: "object".to_owned(),
                old: Some(old_object.name.clone()),
                new: None,
                impact: Impact::Breaking,
                reason: "the schema object was removed; its readers get nothing".to_owned(),
            }),
            Some(new_object) => diff_object(old_object, new_object, &mut changes),
        }
    }
    for new_object in &new.objects {
        if old.object(&new_object.name).is_none() {
            changes.push(Change {
                object: new_object.name.clone(),
                column: None,
                aspect: "object".to_owned(),
                old: None,
                new: Some(new_object.name.clone()),
                impact: Impact::Compatible,
                reason: "a new schema object; existing readers do not read it".to_owned(),
            });
        }
    }
    changes
}

fn diff_object(old: &SchemaObject, new: &SchemaObject, changes: &mut Vec<Change>) {
    let find = |object: &SchemaObject, name: &str| -> Option<usize> {
        object.columns.iter().position(|c| c.name == name)
    };
    diff_columns(&old.name, None, &old.columns, &new.columns, changes);
    let old_order: Vec<&str> = old
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| find(new, n).is_some())
        .collect();
    let new_order: Vec<&str> = new
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| find(old, n).is_some())
        .collect();
    if old_order != new_order {
        changes.push(Change {
            object: old.name.clone(),
            column: None,
            aspect: "column order".to_owned(),
            old: Some(old_order.join(", ")),
            new: Some(new_order.join(", ")),
            impact: Impact::Compatible,
            reason: "columns are read by name; the order also sets which rule a row reports first"
                .to_owned(),
        });
    }
    diff_quality(&old.name, None, &old.quality, &new.quality, changes);
}

/// The columns of an object, or the properties of the column at `parent`
/// (an `object` column's, or its array's items'), matched by name.
fn diff_columns(
    object: &str,
    parent: Option<&str>,
    old: &[Column],
    new: &[Column],
    changes: &mut Vec<Change>,
) {
    let path = |name: &str| match parent {
        None => name.to_owned(),
        Some(parent) => format!("{parent}.{name}"),
    };
    let what = if parent.is_some() {
        "property"
    } else {
        "column"
    };
    for old_column in old {
        match new.iter().find(|c| c.name == old_column.name) {
            None => changes.push(Change {
                object: object.to_owned(),
                column: Some(path(&old_column.name)),
                aspect: "column".to_owned(),
                old: Some(old_column.name.clone()),
                new: None,
                impact: Impact::Breaking,
                reason: format!("the {what} was removed; readers that use it fail"),
            }),
            Some(new_column) => {
                diff_column(
                    object,
                    &path(&old_column.name),
                    old_column,
                    new_column,
                    changes,
                );
            }
        }
    }
    for new_column in new {
        if !old.iter().any(|c| c.name == new_column.name) {
            changes.push(Change {
                object: object.to_owned(),
                column: Some(path(&new_column.name)),
                aspect: "column".to_owned(),
                old: None,
                new: Some(new_column.name.clone()),
                impact: Impact::Compatible,
                reason: format!("a new {what}; readers by name ignore it"),
            });
        }
    }
}

/// One column (or property, named by its path), then what is inside it:
/// an object's properties and an array's items (`tags[]`).
fn diff_column(object: &str, path: &str, old: &Column, new: &Column, changes: &mut Vec<Change>) {
    ColumnDiff {
        object,
        column: path,
        changes,
    }
    .compare(old, new);
    diff_columns(
        object,
        Some(path),
        &old.properties,
        &new.properties,
        changes,
    );
    let items_path = format!("{path}[]");
    let mut items_change =
        |old_items: Option<&str>, new_items: Option<&str>, impact, reason: &str| {
            changes.push(Change {
                object: object.to_owned(),
                column: Some(items_path.clone()),
                aspect: "items".to_owned(),
                old: old_items.map(str::to_owned),
                new: new_items.map(str::to_owned),
                impact,
                reason: reason.to_owned(),
            });
        };
    match (&old.items, &new.items) {
        (Some(old_items), Some(new_items)) => {
            diff_column(object, &items_path, old_items, new_items, changes);
        }
        (Some(_), None) => items_change(
            Some("checked"),
            None,
            Impact::Breaking,
            "the array's items are no longer checked; what their rules guaranteed no longer holds",
        ),
        (None, Some(_)) => items_change(
            None,
            Some("checked"),
            Impact::Compatible,
            "the array's items are now checked; rules only narrow the data",
        ),
        (None, None) => {}
    }
}

/// The changes of one column, gathered into the shared list.
struct ColumnDiff<'a> {
    object: &'a str,
    column: &'a str,
    changes: &'a mut Vec<Change>,
}

impl ColumnDiff<'_> {
    fn push(
        &mut self,
        aspect: &str,
        old: Option<String>,
        new: Option<String>,
        impact: Impact,
        reason: &str,
    ) {
        self.changes.push(Change {
            object: self.object.to_owned(),
            column: Some(self.column.to_owned()),
            aspect: aspect.to_owned(),
            old,
            new,
            impact,
            reason: reason.to_owned(),
        });
    }

    fn compare(&mut self, old: &Column, new: &Column) {
        let old_type = LogicalType::of(old.logical_type.as_deref());
        let new_type = LogicalType::of(new.logical_type.as_deref());
        if old_type != new_type {
            self.push(
                "logicalType",
                Some(old_type.name().to_owned()),
                Some(new_type.name().to_owned()),
                Impact::Breaking,
                "values change type; readers typed for the old one fail",
            );
        }
        self.flag(
            "required",
            old.required,
            new.required,
            "values can no longer be null or empty",
            "values can now be null or empty",
        );
        self.flag(
            "unique",
            old.unique,
            new.unique,
            "values can no longer repeat",
            "values can now repeat",
        );
        self.flag(
            "primaryKey",
            old.primary_key,
            new.primary_key,
            "the column joins the key that may not repeat",
            "the column leaves the key; rows may now repeat",
        );
        self.compare_options(old, new);
        self.compare_governance(old, new);
        diff_quality(
            self.object,
            Some(self.column),
            &old.quality,
            &new.quality,
            self.changes,
        );
    }

    /// A yes/no rule: turning it on tightens, turning it off loosens.
    fn flag(&mut self, aspect: &str, old: bool, new: bool, tighter: &str, looser: &str) {
        match (old, new) {
            (false, true) => self.push(
                aspect,
                Some("false".into()),
                Some("true".into()),
                Impact::Compatible,
                tighter,
            ),
            (true, false) => self.push(
                aspect,
                Some("true".into()),
                Some("false".into()),
                Impact::Breaking,
                looser,
            ),
            _ => {}
        }
    }

    fn compare_options(&mut self, old: &Column, new: &Column) {
        let (o, n) = (&old.options, &new.options);
        if o.format != n.format {
            let temporal = LogicalType::of(new.logical_type.as_deref()).is_temporal();
            let (impact, reason) = if temporal {
                (
                    Impact::Breaking,
                    "dates and times are written differently; readers parsing the old format fail",
                )
            } else {
                (
                    Impact::Compatible,
                    "a descriptive hint on a text column; Runink does not enforce it",
                )
            };
            self.push("format", o.format.clone(), n.format.clone(), impact, reason);
        }
        if o.timezone != n.timezone || o.default_timezone != n.default_timezone {
            self.push(
                "timezone",
                Some(zone_text(o.timezone, o.default_timezone.as_deref())),
                Some(zone_text(n.timezone, n.default_timezone.as_deref())),
                Impact::Breaking,
                "timestamps are read in another zone; the same text means another instant",
            );
        }
        if o.pattern != n.pattern {
            let (impact, reason) = match (&o.pattern, &n.pattern) {
                (None, Some(_)) => (Impact::Compatible, "a new pattern only narrows the values"),
                (Some(_), None) => (Impact::Breaking, "values no longer have to match a pattern"),
                _ => (
                    Impact::Breaking,
                    "another pattern may allow values the old one did not",
                ),
            };
            self.push(
                "pattern",
                o.pattern.clone(),
                n.pattern.clone(),
                impact,
                reason,
            );
        }
        self.limit("minLength", o.min_length, n.min_length, Direction::AtLeast);
        self.limit("maxLength", o.max_length, n.max_length, Direction::AtMost);
        self.limit("minItems", o.min_items, n.min_items, Direction::AtLeast);
        self.limit("maxItems", o.max_items, n.max_items, Direction::AtMost);
        self.flag(
            "uniqueItems",
            o.unique_items,
            n.unique_items,
            "arrays may no longer hold an item twice",
            "arrays may now hold an item twice",
        );
        self.limit(
            "minProperties",
            o.min_properties,
            n.min_properties,
            Direction::AtLeast,
        );
        self.limit(
            "maxProperties",
            o.max_properties,
            n.max_properties,
            Direction::AtMost,
        );
        if o.required_properties != n.required_properties {
            let dropped = o
                .required_properties
                .iter()
                .any(|k| !n.required_properties.contains(k));
            self.push(
                "requiredProperties",
                Some(o.required_properties.join(", ")),
                Some(n.required_properties.join(", ")),
                impact_of(!dropped),
                if dropped {
                    "objects may now lack a key they had to have"
                } else {
                    "objects must now have more keys"
                },
            );
        }
        self.bound("minimum", &o.minimum, &n.minimum, Direction::AtLeast);
        self.bound("maximum", &o.maximum, &n.maximum, Direction::AtMost);
        if o.multiple_of != n.multiple_of {
            let tighter = match (o.multiple_of, n.multiple_of) {
                (None, Some(_)) => true,
                (Some(old), Some(new)) => is_whole_multiple(new, old),
                _ => false,
            };
            self.push(
                "multipleOf",
                o.multiple_of.map(|v| v.to_string()),
                n.multiple_of.map(|v| v.to_string()),
                impact_of(tighter),
                if tighter {
                    "every new multiple was already a multiple"
                } else {
                    "values that were not allowed now are"
                },
            );
        }
    }

    fn limit(&mut self, aspect: &str, old: Option<u64>, new: Option<u64>, direction: Direction) {
        if old == new {
            return;
        }
        let tighter = match (old, new) {
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(old), Some(new)) => match direction {
                Direction::AtLeast => new > old,
                Direction::AtMost => new < old,
            },
            (None, None) => return,
        };
        self.push(
            aspect,
            old.map(|v| v.to_string()),
            new.map(|v| v.to_string()),
            impact_of(tighter),
            if tighter {
                "the limit narrows the values"
            } else {
                "the limit lets in values that were not allowed"
            },
        );
    }

    fn bound(
        &mut self,
        aspect: &str,
        old: &Option<Bound>,
        new: &Option<Bound>,
        direction: Direction,
    ) {
        if old == new || same_bound(old.as_ref(), new.as_ref()) {
            return;
        }
        let tighter = match (old, new) {
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(old), Some(new)) => bound_is_tighter(old, new, direction),
            (None, None) => return,
        };
        self.push(
            aspect,
            old.as_ref().map(bound_text),
            new.as_ref().map(bound_text),
            impact_of(tighter),
            if tighter {
                "the bound narrows the values"
            } else {
                "the bound lets in values that were not allowed (or cannot be compared)"
            },
        );
    }

    fn compare_governance(&mut self, old: &Column, new: &Column) {
        let masked_old = old.is_sensitive().then_some(old.mask);
        let masked_new = new.is_sensitive().then_some(new.mask);
        if old.classification != new.classification {
            let masking_changed = masked_old != masked_new;
            self.push(
                "classification",
                old.classification.clone(),
                new.classification.clone(),
                impact_of(!masking_changed),
                if masking_changed {
                    "whether the column is masked changes; readers see other values"
                } else {
                    "the masking of the column stays the same"
                },
            );
        }
        if old.mask != new.mask {
            let shown = |m: Option<crate::MaskRule>| m.map(|m| format!("{m:?}").to_lowercase());
            self.push(
                "mask",
                shown(old.mask),
                shown(new.mask),
                Impact::Breaking,
                "masked values look different; joins on the old form break",
            );
        }
        if old.access != new.access {
            self.push(
                "access",
                old.access.clone(),
                new.access.clone(),
                Impact::Breaking,
                "another role reads the column in clear; the others get it masked",
            );
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Direction {
    /// A lower limit: a larger one is tighter.
    AtLeast,
    /// An upper limit: a smaller one is tighter.
    AtMost,
}

fn impact_of(tighter: bool) -> Impact {
    if tighter {
        Impact::Compatible
    } else {
        Impact::Breaking
    }
}

fn bound_is_tighter(old: &Bound, new: &Bound, direction: Direction) -> bool {
    let (Some(old_value), Some(new_value)) = (old.value.as_number(), new.value.as_number()) else {
        // Dates as text: compare them only when written alike (ISO sorts).
        return match (&old.value, &new.value) {
            (BoundValue::Text(a), BoundValue::Text(b)) if a.len() == b.len() => {
                text_bound_is_tighter(a, b, old.exclusive, new.exclusive, direction)
            }
            _ => false,
        };
    };
    let (a, b) = (old_value, new_value);
    let beyond = match direction {
        Direction::AtLeast => b > a,
        Direction::AtMost => b < a,
    };
    beyond || (a == b && (new.exclusive || !old.exclusive))
}

/// Bounds that say the same: `0` and `0.0` are one number.
fn same_bound(old: Option<&Bound>, new: Option<&Bound>) -> bool {
    let (Some(old), Some(new)) = (old, new) else {
        return false;
    };
    let same_value = match (&old.value, &new.value) {
        (BoundValue::Integer(i), BoundValue::Number(n))
        | (BoundValue::Number(n), BoundValue::Integer(i)) => {
            // Exact: an integer past 2^53 is not any float's neighbour.
            n.fract() == 0.0 && n.abs() < 9.2e18 && *n as i64 == *i
        }
        (a, b) => a == b,
    };
    same_value && old.exclusive == new.exclusive
}

fn text_bound_is_tighter(
    old: &str,
    new: &str,
    old_exclusive: bool,
    new_exclusive: bool,
    direction: Direction,
) -> bool {
    let beyond = match direction {
        Direction::AtLeast => new > old,
        Direction::AtMost => new < old,
    };
    beyond || (old == new && (new_exclusive || !old_exclusive))
}

fn bound_text(bound: &Bound) -> String {
    if bound.exclusive {
        format!("{} (exclusive)", bound.value)
    } else {
        bound.value.to_string()
    }
}

fn zone_text(timezone: Option<bool>, default: Option<&str>) -> String {
    let zoned = match timezone {
        Some(false) => "no zone",
        _ => "zoned",
    };
    format!("{zoned}, default {}", default.unwrap_or("UTC"))
}

fn is_whole_multiple(value: f64, step: f64) -> bool {
    let ratio = value / step;
    (ratio - ratio.round()).abs() < 1e-9
}

/// Quality rules, matched by name (the rule's `name`, else its metric).
fn diff_quality(
    object: &str,
    column: Option<&str>,
    old: &[QualityRule],
    new: &[QualityRule],
    changes: &mut Vec<Change>,
) {
    let mut push =
        |aspect: &str, old: Option<String>, new: Option<String>, impact, reason: &str| {
            changes.push(Change {
                object: object.to_owned(),
                column: column.map(str::to_owned),
                aspect: aspect.to_owned(),
                old,
                new,
                impact,
                reason: reason.to_owned(),
            });
        };
    // Rules unchanged pair off first, whatever their order, so that two
    // rules of one metric (named by it alike) are not compared crosswise;
    // the rest pair by name, in order.
    let mut unpaired_new: Vec<&QualityRule> = new.iter().collect();
    let mut unpaired_old: Vec<&QualityRule> = Vec::new();
    for old_rule in old {
        match unpaired_new.iter().position(|r| *r == old_rule) {
            Some(at) => {
                unpaired_new.remove(at);
            }
            None => unpaired_old.push(old_rule),
        }
    }
    for old_rule in unpaired_old {
        let paired = unpaired_new
            .iter()
            .position(|r| r.name == old_rule.name)
            .map(|at| unpaired_new.remove(at));
        match paired {
            None => push(
                &old_rule.name,
                Some(rule_text(old_rule)),
                None,
                Impact::Breaking,
                "the rule was removed; what it guaranteed no longer holds",
            ),
            Some(new_rule) if new_rule != old_rule => {
                let tighter = rule_is_tighter(old_rule, new_rule);
                push(
                    &old_rule.name,
                    Some(rule_text(old_rule)),
                    Some(rule_text(new_rule)),
                    impact_of(tighter),
                    if tighter {
                        "the rule narrows the values"
                    } else {
                        "the rule changed and may let in values it refused"
                    },
                );
            }
            Some(_) => {}
        }
    }
    for new_rule in unpaired_new {
        push(
            &new_rule.name,
            None,
            Some(rule_text(new_rule)),
            Impact::Compatible,
            "a new rule only narrows the data",
        );
    }
}

/// Only value lists can be proven tighter: fewer valid values, or more
/// invalid ones, under the same comparison.
fn rule_is_tighter(old: &QualityRule, new: &QualityRule) -> bool {
    if old.operator != new.operator || old.unit_percent != new.unit_percent {
        return false;
    }
    match (&old.check, &new.check) {
        (
            QualityCheck::InvalidValues {
                valid: old_valid,
                invalid: old_invalid,
            },
            QualityCheck::InvalidValues {
                valid: new_valid,
                invalid: new_invalid,
            },
        ) => {
            let valid_ok = match (old_valid, new_valid) {
                (_, None) if old_valid.is_some() => false,
                (None, _) => true,
                (Some(old), Some(new)) => set(new).is_subset(&set(old)),
                _ => false,
            };
            let invalid_ok = match (old_invalid, new_invalid) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(old), Some(new)) => set(old).is_subset(&set(new)),
            };
            valid_ok && invalid_ok
        }
        (QualityCheck::NullValues { missing: old }, QualityCheck::NullValues { missing: new }) => {
            set(old).is_subset(&set(new))
        }
        _ => false,
    }
}

fn set(values: &[String]) -> BTreeSet<&str> {
    values.iter().map(String::as_str).collect()
}

fn rule_text(rule: &QualityRule) -> String {
    let check = match &rule.check {
        QualityCheck::RowCount => "rowCount".to_owned(),
        QualityCheck::NullValues { missing } if missing.is_empty() => "nullValues".to_owned(),
        QualityCheck::NullValues { missing } => format!("nullValues {}", list(missing)),
        QualityCheck::InvalidValues { valid, invalid } => {
            let mut parts = vec!["invalidValues".to_owned()];
            if let Some(valid) = valid {
                parts.push(format!("valid {}", list(valid)));
            }
            if let Some(invalid) = invalid {
                parts.push(format!("invalid {}", list(invalid)));
            }
            parts.join(" ")
        }
        QualityCheck::DuplicateValues => "duplicateValues".to_owned(),
        QualityCheck::Sql { query } => format!("sql `{query}`"),
        QualityCheck::NotExecutable { kind } => kind.clone(),
    };
    let unit = if rule.unit_percent { " %" } else { "" };
    format!("{check} {}{unit}", rule.operator)
}

fn list(values: &[String]) -> String {
    format!("[{}]", values.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
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
        logicalTypeOptions: { minimum: 0, maximum: 1000 }
      - name: currency
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: { validValues: [USD, EUR, GBP] }
            mustBe: 0
      - name: email
        logicalType: string
        classification: pii
"#;

    fn changes(old: &str, new: &str) -> Vec<(String, String, Impact)> {
        let old = Contract::from_yaml(old).expect("old contract loads");
        let new = Contract::from_yaml(new).expect("new contract loads");
        diff(&old, &new)
            .into_iter()
            .map(|c| (c.column.unwrap_or_default(), c.aspect, c.impact))
            .collect()
    }

    fn one(old: &str, new: &str) -> (String, String, Impact) {
        let mut found = changes(old, new);
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0)
    }

    #[test]
    fn identical_contracts_have_no_changes() {
        assert!(changes(BASE, BASE).is_empty());
        let reformatted = BASE.replace(
            "{ minimum: 0, maximum: 1000 }",
            "\n          maximum: 1000\n          minimum: 0",
        );
        assert!(changes(BASE, &reformatted).is_empty());
    }

    #[test]
    fn the_same_number_written_otherwise_and_rules_of_one_metric_are_no_change() {
        let float = BASE.replace("minimum: 0,", "minimum: 0.0,");
        assert!(
            changes(BASE, &float).is_empty(),
            "{:?}",
            changes(BASE, &float)
        );
        // Two rules of one metric, in either order, against themselves.
        let two = BASE.replace(
            "            mustBe: 0\n      - name: email",
            "            mustBe: 0\n          - metric: invalidValues\n            arguments: { invalidValues: [XXX] }\n            mustBe: 0\n      - name: email",
        );
        assert_ne!(two, BASE);
        assert!(changes(&two, &two).is_empty(), "{:?}", changes(&two, &two));
        let swapped = two
            .replace("validValues: [USD, EUR, GBP]", "SWAP")
            .replace("invalidValues: [XXX]", "validValues: [USD, EUR, GBP]")
            .replace("SWAP", "invalidValues: [XXX]");
        assert!(
            changes(&two, &swapped).is_empty(),
            "{:?}",
            changes(&two, &swapped)
        );
        // One of them changed is one change.
        let changed = two.replace("invalidValues: [XXX]", "invalidValues: [XXX, YYY]");
        assert_eq!(
            one(&two, &changed),
            (
                "currency".into(),
                "invalidValues".into(),
                Impact::Compatible
            )
        );
    }

    #[test]
    fn nested_properties_and_items_are_compared_by_path() {
        let nested = format!(
            "{BASE}      - name: cust\n        logicalType: object\n        properties:\n          - name: zip\n            logicalType: integer\n            required: true\n      - name: tags\n        logicalType: array\n        items:\n          logicalType: integer\n          logicalTypeOptions: {{ maximum: 10 }}\n"
        );
        assert!(changes(&nested, &nested).is_empty());
        let retyped = nested.replace(
            "            logicalType: integer\n",
            "            logicalType: string\n",
        );
        assert_eq!(
            one(&nested, &retyped),
            ("cust.zip".into(), "logicalType".into(), Impact::Breaking)
        );
        let optional = nested.replace("            required: true\n", "");
        assert_eq!(
            one(&nested, &optional),
            ("cust.zip".into(), "required".into(), Impact::Breaking)
        );
        let removed = nested.replace(
            "          - name: zip\n            logicalType: integer\n            required: true\n",
            "          - name: city\n            logicalType: string\n",
        );
        assert_eq!(
            changes(&nested, &removed),
            [
                ("cust.zip".into(), "column".into(), Impact::Breaking),
                ("cust.city".into(), "column".into(), Impact::Compatible),
            ]
        );
        let looser = nested.replace("{ maximum: 10 }", "{ maximum: 20 }");
        assert_eq!(
            one(&nested, &looser),
            ("tags[]".into(), "maximum".into(), Impact::Breaking)
        );
        let unchecked = nested.replace(
            "        items:\n          logicalType: integer\n          logicalTypeOptions: { maximum: 10 }\n",
            "",
        );
        assert_eq!(
            one(&nested, &unchecked),
            ("tags[]".into(), "items".into(), Impact::Breaking)
        );
        assert_eq!(
            one(&unchecked, &nested),
            ("tags[]".into(), "items".into(), Impact::Compatible)
        );
    }

    #[test]
    fn columns_added_and_removed() {
        let added = format!("{BASE}      - name: note\n        logicalType: string\n");
        assert_eq!(
            one(BASE, &added),
            ("note".into(), "column".into(), Impact::Compatible)
        );
        assert_eq!(
            one(&added, BASE),
            ("note".into(), "column".into(), Impact::Breaking)
        );
    }

    #[test]
    fn types_and_required() {
        let retyped = BASE
            .replace("logicalType: number", "logicalType: string")
            .replace("{ minimum: 0, maximum: 1000 }", "{}");
        let found = changes(BASE, &retyped);
        assert!(found.contains(&("amount".into(), "logicalType".into(), Impact::Breaking)));
        let optional = BASE.replacen(
            "required: true\n        unique",
            "required: false\n        unique",
            1,
        );
        assert_eq!(
            one(BASE, &optional),
            ("order_id".into(), "required".into(), Impact::Breaking)
        );
        assert_eq!(
            one(&optional, BASE),
            ("order_id".into(), "required".into(), Impact::Compatible)
        );
    }

    #[test]
    fn bounds_tighten_or_loosen() {
        let raised = BASE.replace("minimum: 0,", "minimum: 1,");
        assert_eq!(
            one(BASE, &raised),
            ("amount".into(), "minimum".into(), Impact::Compatible)
        );
        assert_eq!(
            one(&raised, BASE),
            ("amount".into(), "minimum".into(), Impact::Breaking)
        );
        let no_max = BASE.replace(", maximum: 1000", "");
        assert_eq!(
            one(BASE, &no_max),
            ("amount".into(), "maximum".into(), Impact::Breaking)
        );
    }

    #[test]
    fn patterns_and_value_lists() {
        let other = BASE.replace("[0-9]{8}", "[0-9]{6}");
        assert_eq!(
            one(BASE, &other),
            ("order_id".into(), "pattern".into(), Impact::Breaking)
        );
        let fewer = BASE.replace("[USD, EUR, GBP]", "[USD, EUR]");
        assert_eq!(
            one(BASE, &fewer),
            (
                "currency".into(),
                "invalidValues".into(),
                Impact::Compatible
            )
        );
        assert_eq!(
            one(&fewer, BASE),
            ("currency".into(), "invalidValues".into(), Impact::Breaking)
        );
    }

    #[test]
    fn classification_counts_when_masking_changes() {
        let public = BASE.replace("classification: pii", "classification: public");
        assert_eq!(
            one(BASE, &public),
            ("email".into(), "classification".into(), Impact::Breaking)
        );
        let restricted = BASE.replace("classification: pii", "classification: restricted");
        assert_eq!(
            one(BASE, &restricted),
            ("email".into(), "classification".into(), Impact::Compatible)
        );
    }

    #[test]
    fn metadata_is_compatible() {
        let bumped = BASE.replace("version: 1.0.0", "version: 1.1.0");
        assert_eq!(
            one(BASE, &bumped),
            (String::new(), "version".into(), Impact::Compatible)
        );
    }
}
