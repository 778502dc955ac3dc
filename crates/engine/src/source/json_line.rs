//! One line of JSON Lines, read so that a key given twice in the line's
//! object is an error instead of the last value silently winning (what
//! `serde_json`'s own map does).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A parsed line: the object a row comes from, or the kind of JSON value
/// found instead.
#[derive(Debug, PartialEq)]
pub enum JsonLine {
    Object(Map<String, Value>),
    /// Not an object: "an array", "a number", ...
    Other(&'static str),
}

impl<'de> Deserialize<'de> for JsonLine {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LineVisitor)
    }
}

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = JsonLine;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonLine, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value: Value = map.next_value()?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "the key `{key}` appears twice in one object"
                )));
            }
            object.insert(key, value);
        }
        Ok(JsonLine::Object(object))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonLine, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(JsonLine::Other("an array"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("a string"))
    }

    fn visit_unit<E>(self) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("null"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<JsonLine, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn an_object_keeps_its_keys_and_values() {
        let JsonLine::Object(object) = parse(r#"{"a": 1, "b": [2, {"c": null}]}"#).unwrap() else {
            panic!("expected an object");
        };
        assert_eq!(object["a"], Value::from(1));
        assert_eq!(object["b"], serde_json::json!([2, {"c": null}]));
    }

    #[test]
    fn a_key_given_twice_is_an_error_that_names_it() {
        let error = parse(r#"{"a": 1, "b": 2, "a": 3}"#).unwrap_err();
        assert!(error.contains("the key `a` appears twice"), "{error}");
    }

    #[test]
    fn other_values_say_what_they_are() {
        assert_eq!(parse("[1, [2]]").unwrap(), JsonLine::Other("an array"));
        assert_eq!(parse("12.5").unwrap(), JsonLine::Other("a number"));
        assert_eq!(parse("-3").unwrap(), JsonLine::Other("a number"));
        assert_eq!(parse("true").unwrap(), JsonLine::Other("a boolean"));
        assert_eq!(parse(r#""x""#).unwrap(), JsonLine::Other("a string"));
        assert_eq!(parse("null").unwrap(), JsonLine::Other("null"));
    }

    #[test]
    fn broken_json_is_still_an_error() {
        assert!(parse(r#"{"a": 1"#).is_err());
        assert!(parse(r#"[1, "#).is_err());
    }
}
