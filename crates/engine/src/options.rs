//! Reading the `key=value` options of sources and sinks.

use std::collections::BTreeMap;

use runink_plan::OptionValue;

pub fn text_option(options: &BTreeMap<String, OptionValue>, key: &str) -> Option<String> {
    match options.get(key)? {
        OptionValue::Text(text) => Some(text.clone()),
        OptionValue::Integer(n) => Some(n.to_string()),
        OptionValue::Flag(b) => Some(b.to_string()),
    }
}

pub fn flag_option(options: &BTreeMap<String, OptionValue>, key: &str) -> Option<bool> {
    match options.get(key)? {
        OptionValue::Flag(b) => Some(*b),
        OptionValue::Text(text) => match text.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        OptionValue::Integer(n) => Some(*n != 0),
    }
}

pub fn integer_option(options: &BTreeMap<String, OptionValue>, key: &str) -> Option<i64> {
    match options.get(key)? {
        OptionValue::Integer(n) => Some(*n),
        OptionValue::Text(text) => text.parse().ok(),
        OptionValue::Flag(_) => None,
    }
}
