//! Wording of schema errors for a contract's author: what was found and what
//! the ODCS schema expected, lowercase, values in backticks.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError};
use serde_json::Value;

use crate::json_path::JsonPath;

/// Longest value text quoted in a message; longer ones are cut.
const QUOTED_CHARS_MAX: usize = 60;
/// Most enum options listed in a message.
const OPTIONS_LISTED_MAX: usize = 12;

/// Describes one schema error. `path_of` gives the path of an error nested in
/// an `anyOf`/`oneOf`, so the closest alternative can say where it failed.
pub(crate) fn describe(
    error: &ValidationError<'_>,
    path_of: &dyn Fn(&ValidationError<'_>) -> JsonPath,
) -> String {
    let instance = error.instance().as_ref();
    let found = quoted(instance);
    match error.kind() {
        ValidationErrorKind::Enum { options } => {
            format!("found {found}, expected one of {}", options_list(options))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("found {found}, expected {}", quoted(expected_value))
        }
        ValidationErrorKind::Type { kind } => {
            format!("found {}, expected {}", typed(instance), type_names(kind))
        }
        ValidationErrorKind::Required { property } => {
            format!("missing required property {}", quoted(property))
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("found {found}, expected at least {}", quoted(limit))
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("found {found}, expected at most {}", quoted(limit))
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("found {found}, expected more than {}", quoted(limit))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("found {found}, expected less than {}", quoted(limit))
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("found {found}, expected at least {limit} characters")
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("found {found}, expected at most {limit} characters")
        }
        ValidationErrorKind::MinItems { limit } => {
            format!("found {}, expected at least {limit} items", typed(instance))
        }
        ValidationErrorKind::MaxItems { limit } => {
            format!("found {}, expected at most {limit} items", typed(instance))
        }
        ValidationErrorKind::MinProperties { limit } => {
            format!(
                "found {}, expected at least {limit} properties",
                typed(instance)
            )
        }
        ValidationErrorKind::MaxProperties { limit } => {
            format!(
                "found {}, expected at most {limit} properties",
                typed(instance)
            )
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("found {found}, expected text matching `{pattern}`")
        }
        ValidationErrorKind::Format { format } => {
            format!("found {found}, expected a valid `{format}`")
        }
        ValidationErrorKind::UniqueItems => {
            "found repeated items, expected every item to be different".to_owned()
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => format!(
            "found unknown properties {}, expected only properties ODCS defines here",
            names_list(unexpected)
        ),
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            let mut message = format!(
                "found {}, expected one of {} allowed forms",
                typed(instance),
                context.len()
            );
            if let Some(hint) = closest_form(context, &path_of(error), path_of) {
                message.push_str("; the closest fails with ");
                message.push_str(&hint);
            }
            message
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => format!(
            "found {} that fits more than one allowed form, expected exactly one",
            typed(instance)
        ),
        ValidationErrorKind::Not { .. } | ValidationErrorKind::FalseSchema => {
            format!("found {}, expected no such value here", typed(instance))
        }
        ValidationErrorKind::Contains => "found no matching item, expected at least one".to_owned(),
        ValidationErrorKind::PropertyNames { error: nested } => {
            format!(
                "found an invalid property name: {}",
                describe(nested, path_of)
            )
        }
        _ => format!("found {}, expected otherwise: {error}", typed(instance)),
    }
}

/// The alternative with the fewest errors, described by its first error.
/// The nested error's path is named only when it lies below `own_path`.
fn closest_form(
    context: &[Vec<ValidationError<'static>>],
    own_path: &JsonPath,
    path_of: &dyn Fn(&ValidationError<'_>) -> JsonPath,
) -> Option<String> {
    let branch = context
        .iter()
        .filter(|b| !b.is_empty())
        .min_by_key(|b| b.len())?;
    let first = branch.first()?;
    let message = describe(first, path_of);
    let path = path_of(first);
    if path == *own_path {
        Some(message)
    } else {
        Some(format!("`{}`: {message}", path.as_str()))
    }
}

/// A scalar in backticks, or what kind of collection it is.
fn quoted(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{}`", cut(s)),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
        other => format!("`{}`", cut(&other.to_string())),
    }
}

/// A value with its type, for type mismatches.
fn typed(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) => format!("the string `{}`", cut(s)),
        Value::Array(items) => format!("a list of {} items", items.len()),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS_MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn options_list(options: &Value) -> String {
    let Value::Array(options) = options else {
        return quoted(options);
    };
    let mut listed: Vec<String> = options
        .iter()
        .take(OPTIONS_LISTED_MAX)
        .map(quoted)
        .collect();
    if options.len() > OPTIONS_LISTED_MAX {
        listed.push("…".to_owned());
    }
    listed.join(", ")
}

fn names_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

fn type_names(kind: &TypeKind) -> String {
    let names: Vec<&str> = match kind {
        TypeKind::Single(one) => vec![type_name(*one)],
        TypeKind::Multiple(set) => set.iter().map(type_name).collect(),
    };
    names.join(" or ")
}

fn type_name(kind: JsonType) -> &'static str {
    match kind {
        JsonType::Null => "null",
        JsonType::Boolean => "a boolean",
        JsonType::Integer => "an integer",
        JsonType::Number => "a number",
        JsonType::String => "a string",
        JsonType::Array => "a list",
        JsonType::Object => "a mapping",
    }
}
