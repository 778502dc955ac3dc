//! The properties of `object` columns: each key of the column's JSON
//! values is checked as a column of its own (its type, `required`, its
//! options and row rules), named by its path (`customer.address.zip`).
//! A key of a missing or unreadable object is not checked: the object's
//! own rules speak for it.

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
    pub key: String,
    /// The contract column the path starts from.
    pub root: usize,
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
    for property in &column.properties {
        let property_path = format!("{path}.{}", property.name);
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
            key: property.name.clone(),
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

/// The values of `key` in each of `parents` (JSON objects as text), as
/// text a column holds (strings as they are, other values as JSON), and
/// the rows whose parent is an object at all.
pub(crate) fn child_values(parents: &ArrayRef, key: &str) -> (ArrayRef, BooleanBuffer) {
    let texts = parents.as_string_opt::<i32>();
    let mut applicable = Vec::with_capacity(parents.len());
    let values: StringArray = (0..parents.len())
        .map(|row| {
            let object = texts
                .filter(|t| t.is_valid(row))
                .and_then(|t| serde_json::from_str::<Value>(t.value(row)).ok())
                .filter(Value::is_object);
            applicable.push(object.is_some());
            match object?.get(key)? {
                Value::Null => None,
                Value::String(text) => Some(text.clone()),
                other => Some(other.to_string()),
            }
        })
        .collect();
    (Arc::new(values), BooleanBuffer::from(applicable))
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
        let (a, applicable) = child_values(&parents, "a");
        let a = a.as_string::<i32>();
        assert_eq!(a.value(0), "x");
        assert!(a.is_null(1) && a.is_null(2) && a.is_null(3) && a.is_null(4));
        assert_eq!(
            applicable.iter().collect::<Vec<_>>(),
            [true, true, false, false, true]
        );
        let (b, _) = child_values(&parents, "b");
        let b = b.as_string::<i32>();
        assert_eq!((b.value(0), b.value(1)), (r#"{"c":1}"#, "2"));
    }
}
