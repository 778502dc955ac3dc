//! The rules of `array` and `object` columns, whose values are JSON text:
//! `minItems`, `maxItems`, `uniqueItems`; `minProperties`,
//! `maxProperties` and the `required` keys. Each value is parsed once per
//! batch; one that is not JSON fails `logicalType` instead.

use std::collections::HashSet;

use arrow::array::StringArray;
use arrow::buffer::BooleanBuffer;
use serde_json::Value;

use crate::finding::RuleKind;
use crate::logical_type::LogicalType;
use crate::type_options::TypeOptions;

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StructuredRules {
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub required: Vec<String>,
}

impl StructuredRules {
    /// The rules `options` give a column of `kind`; `None` when there are
    /// none. Bounds that let no value through are an error.
    pub fn compile(kind: LogicalType, options: &TypeOptions) -> Result<Option<Self>, String> {
        let rules = match kind {
            LogicalType::Array => Self {
                min_items: options.min_items,
                max_items: options.max_items,
                unique_items: options.unique_items,
                ..Self::default()
            },
            LogicalType::Object => Self {
                min_properties: options.min_properties,
                max_properties: options.max_properties,
                required: options.required_properties.clone(),
                ..Self::default()
            },
            _ => return Ok(None),
        };
        for (low, high, what) in [
            (rules.min_items, rules.max_items, "Items"),
            (rules.min_properties, rules.max_properties, "Properties"),
        ] {
            if let (Some(low), Some(high)) = (low, high)
                && low > high
            {
                return Err(format!(
                    "`min{what}` {low} is more than `max{what}` {high}: the bounds reject every row"
                ));
            }
        }
        if let Some(max) = rules.max_properties
            && rules.required.len() as u64 > max
        {
            return Err(format!(
                "`required` lists {} keys but `maxProperties` is {max}: the rules reject every row",
                rules.required.len()
            ));
        }
        Ok((rules != Self::default()).then_some(rules))
    }

    /// The rules set, in the order they rank.
    pub fn rules(&self) -> Vec<RuleKind> {
        let mut rules = Vec::new();
        let mut add = |on: bool, rule| {
            if on {
                rules.push(rule);
            }
        };
        add(self.min_items.is_some(), RuleKind::MinItems);
        add(self.max_items.is_some(), RuleKind::MaxItems);
        add(self.unique_items, RuleKind::UniqueItems);
        add(!self.required.is_empty(), RuleKind::RequiredProperties);
        add(self.min_properties.is_some(), RuleKind::MinProperties);
        add(self.max_properties.is_some(), RuleKind::MaxProperties);
        rules
    }

    /// The rows each rule fails, in [`Self::rules`] order.
    pub fn failures(&self, text: &StringArray) -> Vec<(RuleKind, BooleanBuffer)> {
        let values: Vec<Option<Value>> = text
            .iter()
            .map(|value| value.and_then(|v| serde_json::from_str(v).ok()))
            .collect();
        self.rules()
            .into_iter()
            .map(|rule| {
                let fails = values
                    .iter()
                    .map(|value| value.as_ref().is_some_and(|v| self.fails(rule, v)));
                (rule, BooleanBuffer::from_iter(fails))
            })
            .collect()
    }

    fn fails(&self, rule: RuleKind, value: &Value) -> bool {
        let items = value.as_array();
        let keys = value.as_object();
        let count = items.map(Vec::len).or(keys.map(serde_json::Map::len));
        let count = count.unwrap_or(0) as u64;
        match rule {
            RuleKind::MinItems => self.min_items.is_some_and(|min| count < min),
            RuleKind::MaxItems => self.max_items.is_some_and(|max| count > max),
            RuleKind::UniqueItems => items.is_some_and(|items| {
                let mut seen = HashSet::new();
                !items.iter().all(|item| seen.insert(equality_key(item)))
            }),
            RuleKind::MinProperties => self.min_properties.is_some_and(|min| count < min),
            RuleKind::MaxProperties => self.max_properties.is_some_and(|max| count > max),
            RuleKind::RequiredProperties => {
                keys.is_some_and(|keys| self.required.iter().any(|key| !keys.contains_key(key)))
            }
            _ => false,
        }
    }

    /// What a person reads in the DLQ for this rule; `shown` is the value
    /// as the message shows it.
    pub fn message(&self, rule: RuleKind, shown: &str) -> String {
        let count = |limit: Option<u64>| limit.unwrap_or(0);
        match rule {
            RuleKind::MinItems => format!("{shown} has fewer than {} items", count(self.min_items)),
            RuleKind::MaxItems => format!("{shown} has more than {} items", count(self.max_items)),
            RuleKind::UniqueItems => format!("{shown} holds an item twice"),
            RuleKind::MinProperties => format!(
                "{shown} has fewer than {} properties",
                count(self.min_properties)
            ),
            RuleKind::MaxProperties => format!(
                "{shown} has more than {} properties",
                count(self.max_properties)
            ),
            RuleKind::RequiredProperties => {
                let keys: Vec<String> = self.required.iter().map(|k| format!("`{k}`")).collect();
                format!("{shown} lacks one of the required keys {}", keys.join(", "))
            }
            other => format!("{shown} breaks `{other}`"),
        }
    }
}

/// Text that two JSON values share exactly when JSON Schema calls them
/// equal (`uniqueItems`): numbers by their value, so `1` and `1.0` are one
/// item, objects whatever the order of their keys.
fn equality_key(value: &Value) -> String {
    match value {
        Value::Number(number) => number_key(number),
        Value::Array(items) => {
            let keys: Vec<String> = items.iter().map(equality_key).collect();
            format!("[{}]", keys.join(","))
        }
        Value::Object(object) => {
            let mut entries: Vec<(String, String)> = object
                .iter()
                .map(|(key, value)| (Value::String(key.clone()).to_string(), equality_key(value)))
                .collect();
            entries.sort();
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        other => other.to_string(),
    }
}

/// A number's value as text: integers exactly, a float with no fraction
/// as the integer it equals.
fn number_key(number: &serde_json::Number) -> String {
    if let Some(integer) = number.as_i64() {
        return integer.to_string();
    }
    if let Some(integer) = number.as_u64() {
        return integer.to_string();
    }
    let float = number.as_f64().unwrap_or(f64::NAN);
    // 2^127: every f64 with no fraction below it is an i128 exactly.
    if float.fract() == 0.0 && float.abs() < 1.7e38 {
        (float as i128).to_string()
    } else {
        float.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(rules: &StructuredRules, values: &[&str]) -> Vec<(RuleKind, Vec<usize>)> {
        let text = StringArray::from(values.to_vec());
        rules
            .failures(&text)
            .into_iter()
            .map(|(rule, bits)| (rule, bits.set_indices().collect()))
            .collect()
    }

    #[test]
    fn array_rules_count_items_and_find_repeats() {
        let options = TypeOptions {
            min_items: Some(1),
            max_items: Some(2),
            unique_items: true,
            ..TypeOptions::default()
        };
        let rules = StructuredRules::compile(LogicalType::Array, &options)
            .unwrap()
            .unwrap();
        let values = [
            "[]",
            "[\"a\",\"b\",\"c\"]",
            "[\"a\",\"a\"]",
            "[1,2]",
            "not json",
        ];
        assert_eq!(
            failing(&rules, &values),
            [
                (RuleKind::MinItems, vec![0]),
                (RuleKind::MaxItems, vec![1]),
                (RuleKind::UniqueItems, vec![2]),
            ]
        );
    }

    #[test]
    fn unique_items_compares_as_json_schema_does() {
        let options = TypeOptions {
            unique_items: true,
            ..TypeOptions::default()
        };
        let rules = StructuredRules::compile(LogicalType::Array, &options)
            .unwrap()
            .unwrap();
        let values = [
            "[1, 1.0]",
            r#"[{"a":1,"b":2}, {"b":2,"a":1.0}]"#,
            "[[1, 2], [1.0, 2e0]]",
            "[1, \"1\", true, null, 1.5, 2]",
            "[9007199254740993, 9007199254740992.0]",
            "[-0.0, 0]",
        ];
        assert_eq!(
            failing(&rules, &values),
            [(RuleKind::UniqueItems, vec![0, 1, 2, 5])]
        );
    }

    #[test]
    fn object_rules_count_keys_and_need_the_required_ones() {
        let options = TypeOptions {
            min_properties: Some(2),
            max_properties: Some(3),
            required_properties: vec!["a".into()],
            ..TypeOptions::default()
        };
        let rules = StructuredRules::compile(LogicalType::Object, &options)
            .unwrap()
            .unwrap();
        let values = [
            r#"{"a":1,"b":2}"#,
            r#"{"b":1,"c":2}"#,
            r#"{"a":1}"#,
            r#"{"a":1,"b":2,"c":3,"d":4}"#,
        ];
        assert_eq!(
            failing(&rules, &values),
            [
                (RuleKind::RequiredProperties, vec![1]),
                (RuleKind::MinProperties, vec![2]),
                (RuleKind::MaxProperties, vec![3]),
            ]
        );
    }

    #[test]
    fn impossible_bounds_are_refused_and_no_rules_is_none() {
        let options = TypeOptions {
            min_items: Some(3),
            max_items: Some(2),
            ..TypeOptions::default()
        };
        let error = StructuredRules::compile(LogicalType::Array, &options).unwrap_err();
        assert!(
            error.contains("`minItems` 3 is more than `maxItems` 2"),
            "{error}"
        );
        assert_eq!(
            StructuredRules::compile(LogicalType::Array, &TypeOptions::default()),
            Ok(None)
        );
        assert_eq!(
            StructuredRules::compile(LogicalType::String, &options),
            Ok(None)
        );
    }
}
