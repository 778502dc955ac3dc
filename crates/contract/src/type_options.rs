//! `logicalTypeOptions`: the per-column limits a value must respect.
//!
//! ODCS v3.0.x writes `exclusiveMinimum: true` as a flag on `minimum`;
//! v3.1.x writes `exclusiveMinimum: 5` as a bound of its own. Both are read
//! into the same [`Bound`].

use serde_json::{Map, Value};

use crate::ContractError;
use crate::value_read::{optional_str, optional_text_list, shape};

/// A limit on a value: a number for `integer` and `number` columns, a date
/// or timestamp text for temporal ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub value: BoundValue,
    /// `true`: the value itself is out of range (`>` rather than `>=`).
    pub exclusive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BoundValue {
    /// A whole number as written, kept exact (an `f64` is not past 2^53).
    Integer(i64),
    Number(f64),
    Text(String),
}

impl BoundValue {
    /// The bound as a number, when it is one.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Self::Integer(n) => Some(*n as f64),
            Self::Number(n) => Some(*n),
            Self::Text(_) => None,
        }
    }
}

impl std::fmt::Display for BoundValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Integer(n) => write!(f, "{n}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeOptions {
    pub pattern: Option<String>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    /// A JDK DateTimeFormatter pattern for temporal columns; for strings a
    /// descriptive hint (`email`, `uuid`) that Runink does not enforce.
    pub format: Option<String>,
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
    pub multiple_of: Option<f64>,
    /// `timezone: false`: values carry no zone.
    pub timezone: Option<bool>,
    pub default_timezone: Option<String>,
    /// Of an `array` column's values.
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
    /// Of an `object` column's values.
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    /// `required` of an `object` column: keys each value must have.
    pub required_properties: Vec<String>,
}

impl TypeOptions {
    pub(crate) fn read(value: Option<&Value>, path: &str) -> Result<Self, ContractError> {
        let path = format!("{path}.logicalTypeOptions");
        let map = match value {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Object(map)) => map,
            Some(other) => return Err(shape(&path, "a mapping", other)),
        };
        let field = |key: &str| format!("{path}.{key}");
        Ok(Self {
            pattern: optional_str(map.get("pattern"), &field("pattern"))?,
            min_length: optional_count(map, "minLength", &path)?,
            max_length: optional_count(map, "maxLength", &path)?,
            format: optional_str(map.get("format"), &field("format"))?,
            minimum: bound(map, "minimum", "exclusiveMinimum", &path)?,
            maximum: bound(map, "maximum", "exclusiveMaximum", &path)?,
            multiple_of: optional_number(map, "multipleOf", &path)?,
            timezone: match map.get("timezone") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(other) => return Err(shape(&field("timezone"), "a boolean", other)),
            },
            default_timezone: optional_str(map.get("defaultTimezone"), &field("defaultTimezone"))?,
            min_items: optional_count(map, "minItems", &path)?,
            max_items: optional_count(map, "maxItems", &path)?,
            unique_items: match map.get("uniqueItems") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => return Err(shape(&field("uniqueItems"), "a boolean", other)),
            },
            min_properties: optional_count(map, "minProperties", &path)?,
            max_properties: optional_count(map, "maxProperties", &path)?,
            required_properties: optional_text_list(map.get("required"), &field("required"))?
                .unwrap_or_default(),
        })
    }
}

fn optional_count(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<u64>, ContractError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(other) => Err(shape(
            &format!("{path}.{key}"),
            "a whole number of 0 or more",
            other,
        )),
    }
}

fn optional_number(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<f64>, ContractError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(shape(&format!("{path}.{key}"), "a number", other)),
    }
}

/// Reads `minimum` with `exclusiveMinimum` (or the maximum pair). ODCS
/// v3.0.x makes `exclusiveMinimum` a flag on `minimum`; v3.1.x makes it a
/// bound of its own. When both bounds are given, a value must meet both:
/// for numbers that is the stricter one, kept here (and named in the DLQ);
/// date texts are not compared here, so both at once are refused.
fn bound(
    map: &Map<String, Value>,
    inclusive_key: &str,
    exclusive_key: &str,
    path: &str,
) -> Result<Option<Bound>, ContractError> {
    let value = |key: &str, v: &Value| -> Result<BoundValue, ContractError> {
        match v {
            Value::Number(n) => Ok(match n.as_i64() {
                Some(whole) => BoundValue::Integer(whole),
                None => BoundValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            }),
            Value::String(s) => Ok(BoundValue::Text(s.clone())),
            other => Err(shape(
                &format!("{path}.{key}"),
                "a number or a date text",
                other,
            )),
        }
    };
    let inclusive = match map.get(inclusive_key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(value(inclusive_key, v)?),
    };
    match (inclusive, map.get(exclusive_key)) {
        (inclusive, None | Some(Value::Null)) => Ok(inclusive.map(|value| Bound {
            value,
            exclusive: false,
        })),
        // ODCS v3.0.x: a flag that makes `minimum` exclusive.
        (inclusive, Some(Value::Bool(flag))) => Ok(inclusive.map(|value| Bound {
            value,
            exclusive: *flag,
        })),
        // ODCS v3.1.x: a bound of its own.
        (None, Some(v)) => Ok(Some(Bound {
            value: value(exclusive_key, v)?,
            exclusive: true,
        })),
        (Some(inclusive), Some(v)) => {
            let exclusive = value(exclusive_key, v)?;
            let (Some(i), Some(e)) = (inclusive.as_number(), exclusive.as_number()) else {
                return Err(shape(
                    &format!("{path}.{exclusive_key}"),
                    "no exclusive date bound beside an inclusive one (give one of the two)",
                    v,
                ));
            };
            // `x >= i` and `x > e`: the inclusive bound is the stricter when
            // it lies past the exclusive one (for a maximum, before it).
            // Whole numbers compare exactly.
            let ordering = match (&inclusive, &exclusive) {
                (BoundValue::Integer(i), BoundValue::Integer(e)) => i.cmp(e),
                _ => i.partial_cmp(&e).unwrap_or(std::cmp::Ordering::Equal),
            };
            let lower = inclusive_key == "minimum";
            let inclusive_is_stricter = if lower {
                ordering.is_gt()
            } else {
                ordering.is_lt()
            };
            Ok(Some(match inclusive_is_stricter {
                true => Bound {
                    value: inclusive,
                    exclusive: false,
                },
                false => Bound {
                    value: exclusive,
                    exclusive: true,
                },
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str, inclusive: &str, exclusive: &str) -> Result<Option<Bound>, ContractError> {
        let value: Value = serde_json::from_str(json).unwrap();
        bound(value.as_object().unwrap(), inclusive, exclusive, "p")
    }

    fn number(value: i64, exclusive: bool) -> Option<Bound> {
        Some(Bound {
            value: BoundValue::Integer(value),
            exclusive,
        })
    }

    #[test]
    fn both_bounds_keep_the_stricter() {
        let min = |json| read(json, "minimum", "exclusiveMinimum").unwrap();
        let max = |json| read(json, "maximum", "exclusiveMaximum").unwrap();
        assert_eq!(
            min(r#"{"minimum": 10, "exclusiveMinimum": 0}"#),
            number(10, false)
        );
        assert_eq!(
            min(r#"{"minimum": 0, "exclusiveMinimum": 10}"#),
            number(10, true)
        );
        // Equal: `x > 5` is stricter than `x >= 5`.
        assert_eq!(
            min(r#"{"minimum": 5, "exclusiveMinimum": 5}"#),
            number(5, true)
        );
        assert_eq!(
            max(r#"{"maximum": 20, "exclusiveMaximum": 100}"#),
            number(20, false)
        );
        assert_eq!(
            max(r#"{"maximum": 100, "exclusiveMaximum": 20}"#),
            number(20, true)
        );
        assert_eq!(
            min(r#"{"minimum": 3, "exclusiveMinimum": true}"#),
            number(3, true)
        );
        assert_eq!(min(r#"{"exclusiveMinimum": 3}"#), number(3, true));
    }

    #[test]
    fn both_date_bounds_are_refused() {
        let error = read(
            r#"{"minimum": "2024-01-01", "exclusiveMinimum": "2023-01-01"}"#,
            "minimum",
            "exclusiveMinimum",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("p.exclusiveMinimum"), "{error}");
    }
}
