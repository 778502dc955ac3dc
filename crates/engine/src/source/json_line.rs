//! One line of JSON Lines, read so that a key given twice in the line's
//! object (or in an object within it) is an error instead of the last value
//! silently winning, and so that numbers keep their digits: each value is
//! kept as the text it was written as (`12345678901234567890123` read as a
//! float would have become `1.2345678901234568e22`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// A parsed line: the object a row comes from, or the kind of JSON value
/// found instead.
#[derive(Debug, PartialEq)]
pub enum JsonLine {
    Object(BTreeMap<String, JsonField>),
    /// Not an object: "an array", "a number", ...
    Other(&'static str),
}

/// One value of a line's object.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonField {
    Null,
    /// A string (unescaped), or a number or boolean as written.
    Text(String),
    /// An array or object, as written; `kind` is "an array" or "an object".
    Structured {
        kind: &'static str,
        json: String,
    },
}

impl JsonField {
    /// The text a column holds for it; `None` for null.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Null => None,
            Self::Text(text) => Some(text),
            Self::Structured { json, .. } => Some(json),
        }
    }

    fn of(raw: &RawValue) -> Result<Self, String> {
        let text = raw.get();
        match text.trim_start().as_bytes().first() {
            Some(b'n') => Ok(Self::Null),
            Some(b'"') => serde_json::from_str::<String>(text)
                .map(Self::Text)
                .map_err(|e| e.to_string()),
            Some(open @ (b'[' | b'{')) => {
                runink_contract::parse_strict(text)?;
                let kind = if *open == b'[' {
                    "an array"
                } else {
                    "an object"
                };
                Ok(Self::Structured {
                    kind,
                    json: text.to_owned(),
                })
            }
            _ => Ok(Self::Text(text.to_owned())),
        }
    }
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
        let mut object = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let raw: Box<RawValue> = map.next_value()?;
            let field = JsonField::of(&raw)
                .map_err(|e| de::Error::custom(format!("in the field `{key}`: {e}")))?;
            if object.insert(key.clone(), field).is_some() {
                return Err(de::Error::custom(format!(
                    "the key `{key}` appears twice in one object"
                )));
            }
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

    fn object(text: &str) -> BTreeMap<String, JsonField> {
        match parse(text).unwrap() {
            JsonLine::Object(object) => object,
            other => panic!("expected an object, got {other:?}"),
        }
    }

    #[test]
    fn an_object_keeps_its_values_as_written() {
        let object = object(
            r#"{"a": 1, "b": [2, {"c": null}], "s": "x\"y", "n": null, "big": 12345678901234567890123}"#,
        );
        assert_eq!(object["a"], JsonField::Text("1".into()));
        assert_eq!(
            object["b"],
            JsonField::Structured {
                kind: "an array",
                json: r#"[2, {"c": null}]"#.into()
            }
        );
        assert_eq!(object["s"], JsonField::Text("x\"y".into()));
        assert_eq!(object["n"], JsonField::Null);
        assert_eq!(object["big"].text(), Some("12345678901234567890123"));
    }

    #[test]
    fn a_key_given_twice_is_an_error_that_names_it_at_any_depth() {
        let error = parse(r#"{"a": 1, "b": 2, "a": 3}"#).unwrap_err();
        assert!(error.contains("the key `a` appears twice"), "{error}");
        let error = parse(r#"{"o": {"k": 1, "k": 2}}"#).unwrap_err();
        assert!(
            error.contains("in the field `o`") && error.contains("the key `k` appears twice"),
            "{error}"
        );
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
