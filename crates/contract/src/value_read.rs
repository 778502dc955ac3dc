//! Helpers that read parts of a contract document and name the path of
//! anything that has the wrong shape.

use serde_json::{Map, Value};

use crate::ContractError;

pub(crate) fn shape(path: &str, expected: &'static str, found: &Value) -> ContractError {
    ContractError::Shape {
        path: path.to_owned(),
        expected,
        found: describe(found),
    }
}

pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) => format!("the string `{s}`"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

pub(crate) fn expect_object<'a>(
    value: &'a Value,
    path: &str,
) -> Result<&'a Map<String, Value>, ContractError> {
    value.as_object().ok_or_else(|| {
        let path = if path.is_empty() { "(document)" } else { path };
        shape(path, "a mapping", value)
    })
}

pub(crate) fn expect_array<'a>(
    value: &'a Value,
    path: &str,
) -> Result<&'a Vec<Value>, ContractError> {
    value.as_array().ok_or_else(|| shape(path, "a list", value))
}

pub(crate) fn expect_str<'a>(
    value: Option<&'a Value>,
    path: &str,
) -> Result<&'a str, ContractError> {
    match value {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(shape(path, "a string", other)),
        None => Err(shape(path, "a string", &Value::Null)),
    }
}

pub(crate) fn optional_str(
    value: Option<&Value>,
    path: &str,
) -> Result<Option<String>, ContractError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(shape(path, "a string", other)),
    }
}

/// Items of an optional list, as text (numbers and booleans are written
/// the way YAML spells them), for `validValues` and friends. A null item is
/// skipped: a null value never fails a value list anyway.
pub(crate) fn optional_text_list(
    value: Option<&Value>,
    path: &str,
) -> Result<Option<Vec<String>>, ContractError> {
    let Some(value) = value else { return Ok(None) };
    if value.is_null() {
        return Ok(None);
    }
    expect_array(value, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            Value::Null => Ok(None),
            other => Err(shape(
                &format!("{path}[{i}]"),
                "a string, number or boolean",
                other,
            )),
        })
        .collect::<Result<Vec<Option<String>>, _>>()
        .map(|items| Some(items.into_iter().flatten().collect()))
}
