//! `logicalTypeOptions`: the per-column limits a value must respect.
//!
//! ODCS v3.0.x writes `exclusiveMinimum: true` as a flag on `minimum`;
//! v3.1.x writes `exclusiveMinimum: 5` as a bound of its own. Both are read
//! into the same [`Bound`].

use serde_json::{Map, Value};

use crate::ContractError;
use crate::value_read::{optional_str, shape};

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
    Number(f64),
    Text(String),
}

impl std::fmt::Display for BoundValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
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

/// Reads `minimum` with `exclusiveMinimum` (or the maximum pair). A v3.1
/// exclusive bound wins over the inclusive one when both are given, since
/// it is the stricter of the two only when it is larger; both are kept by
/// taking the exclusive one, which is what ODCS v3.1 tools do.
fn bound(
    map: &Map<String, Value>,
    inclusive_key: &str,
    exclusive_key: &str,
    path: &str,
) -> Result<Option<Bound>, ContractError> {
    let value = |key: &str, v: &Value| -> Result<BoundValue, ContractError> {
        match v {
            Value::Number(n) => Ok(BoundValue::Number(n.as_f64().unwrap_or(f64::NAN))),
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
        (_, Some(v)) => Ok(Some(Bound {
            value: value(exclusive_key, v)?,
            exclusive: true,
        })),
    }
}
