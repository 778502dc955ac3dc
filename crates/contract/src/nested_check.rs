//! The properties of `object` columns and the `items` of `array` ones:
//! each key of the column's JSON values, or each element, is checked as a
//! column of its own (its type, `required`, its options and row rules),
//! named by its path (`customer.address.zip`, `tags[]`). A key of a
//! missing or unreadable object is not checked: the object's own rules
//! speak for it. Element values keep the row they came from, so a row
//! fails when one of its elements does.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::buffer::BooleanBuffer;
use serde_json::Value;

use crate::ContractError;
use crate::column_check::ColumnCheck;
use crate::model::Column;

/// One property of an object column, checked over the values of its key.
#[derive(Debug, Clone)]
pub(crate) struct NestedCheck {
    /// Named by the property's path.
    pub check: ColumnCheck,
    /// Whose values hold the key: a contract column's index, or
    /// `columns + n` for the `n`-th nested check (an object in an object).
    pub parent: usize,
    pub part: Part,
    /// The contract column the path starts from.
    pub root: usize,
}

/// Which part of its parent's values a nested check reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    /// The value of this key of each object.
    Key(String),
    /// Every element of each array.
    Items,
}

/// The nested checks of `columns`, parents before their children; their
/// owner numbers continue from `columns.len()`.
pub(crate) fn nested_checks(columns: &[Column]) -> Result<Vec<NestedCheck>, ContractError> {
    let mut nested = Vec::new();
    for (index, column) in columns.iter().enumerate() {
        add_properties(
            column,
            &column.name,
            index,
            index,
            columns.len(),
            &mut nested,
        )?;
    }
    Ok(nested)
}

fn add_properties(
    column: &Column,
    path: &str,
    owner: usize,
    root: usize,
    first_nested_owner: usize,
    nested: &mut Vec<NestedCheck>,
) -> Result<(), ContractError> {
    let parts = column
        .properties
        .iter()
        .map(|p| (p, format!("{path}.{}", p.name), Part::Key(p.name.clone())))
        .chain(
            column
                .items
                .iter()
                .map(|items| (items.as_ref(), format!("{path}[]"), Part::Items)),
        );
    for (property, property_path, part) in parts {
        let mut check = ColumnCheck::compile(property).map_err(|e| match e {
            ContractError::Rule { message, .. } => ContractError::Rule {
                column: property_path.clone(),
                message,
            },
            other => other,
        })?;
        check.name = property_path.clone();
        nested.push(NestedCheck {
            check,
            parent: owner,
            part,
            root,
        });
        let own = first_nested_owner + nested.len() - 1;
        add_properties(
            property,
            &property_path,
            own,
            root,
            first_nested_owner,
            nested,
        )?;
    }
    Ok(())
}

/// Each of `parents`' values (JSON text) read as JSON, `None` for a null
/// or unreadable one: read once for every check of its keys or items.
pub(crate) fn parsed_parents(parents: &ArrayRef) -> Vec<Option<Value>> {
    let texts = parents.as_string_opt::<i32>();
    (0..parents.len())
        .map(|row| {
            texts
                .filter(|t| t.is_valid(row))
                .and_then(|t| crate::strict_json::parse_strict(t.value(row)).ok())
        })
        .collect()
}

/// The values `part` picks from `parents` (as [`parsed_parents`] reads
/// them) as text a column holds (strings as they are, other values as
/// JSON), each with the position in `parents` it came from, and the
/// parents it applies to (an object for a key, an array for items).
pub(crate) fn part_values(
    parents: &[Option<Value>],
    part: &Part,
) -> (ArrayRef, Vec<u32>, BooleanBuffer, Vec<bool>) {
    let mut applicable = Vec::with_capacity(parents.len());
    let mut origins = Vec::with_capacity(parents.len());
    let mut values: Vec<Option<String>> = Vec::with_capacity(parents.len());
    // Which values are arrays or objects: only an `object` or `array`
    // property or item takes one (read as text it passes for a string).
    let mut structured: Vec<bool> = Vec::with_capacity(parents.len());
    for (row, parent) in parents.iter().enumerate() {
        match (part, parent) {
            (Part::Key(key), Some(Value::Object(object))) => {
                applicable.push(true);
                origins.push(row as u32);
                let value = object.get(key.as_str());
                structured.push(value.is_some_and(|v| v.is_array() || v.is_object()));
                values.push(value.and_then(as_text));
            }
            (Part::Items, Some(Value::Array(items))) => {
                applicable.push(true);
                for item in items {
                    origins.push(row as u32);
                    structured.push(item.is_array() || item.is_object());
                    values.push(as_text(item));
                }
            }
            (Part::Key(_), _) => {
                // Keeps one value a row, so rows and values line up.
                applicable.push(false);
                origins.push(row as u32);
                structured.push(false);
                values.push(None);
            }
            (Part::Items, _) => applicable.push(false),
        }
    }
    let values: StringArray = values.into_iter().collect();
    (
        Arc::new(values),
        origins,
        BooleanBuffer::from(applicable),
        structured,
    )
}

/// A JSON value as the text a column holds; `None` for null.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_of_each_object_is_read_as_text_and_other_rows_do_not_apply() {
        let parents: ArrayRef = Arc::new(StringArray::from(vec![
            Some(r#"{"a":"x","b":{"c":1}}"#),
            Some(r#"{"b":2}"#),
            None,
            Some("[1]"),
            Some(r#"{"a":null}"#),
        ]));
        let (a, origins, applicable, _) =
            part_values(&parsed_parents(&parents), &Part::Key("a".into()));
        let a = a.as_string::<i32>();
        assert_eq!(a.value(0), "x");
        assert!(a.is_null(1) && a.is_null(2) && a.is_null(3) && a.is_null(4));
        assert_eq!(origins, [0, 1, 2, 3, 4]);
        assert_eq!(
            applicable.iter().collect::<Vec<_>>(),
            [true, true, false, false, true]
        );
        let (b, _, _, structured) = part_values(&parsed_parents(&parents), &Part::Key("b".into()));
        assert_eq!(structured, [true, false, false, false, false]);
        let b = b.as_string::<i32>();
        assert_eq!((b.value(0), b.value(1)), (r#"{"c":1}"#, "2"));
    }

    #[test]
    fn the_elements_of_each_array_keep_their_row() {
        let parents: ArrayRef = Arc::new(StringArray::from(vec![
            Some(r#"["a", 2]"#),
            Some("[]"),
            Some(r#"{"a":1}"#),
            Some(r#"[null, {"k":1}]"#),
        ]));
        let (items, origins, applicable, _) = part_values(&parsed_parents(&parents), &Part::Items);
        let items = items.as_string::<i32>();
        assert_eq!(origins, [0, 0, 3, 3]);
        assert_eq!((items.value(0), items.value(1)), ("a", "2"));
        assert!(items.is_null(2));
        assert_eq!(items.value(3), r#"{"k":1}"#);
        assert_eq!(
            applicable.iter().collect::<Vec<_>>(),
            [true, true, false, true]
        );
    }
}
