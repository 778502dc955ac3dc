//! Validation of a contract against the upstream ODCS JSON Schema of its
//! declared `apiVersion`, so that Runink accepts exactly the documents other
//! ODCS tools accept. The schemas are embedded (no network at run time) and
//! each is compiled once per process.

use std::sync::{LazyLock, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::json_path::JsonPath;
use crate::known_valid;
use crate::schema_message;
use crate::yaml_positions::{Position, PositionMap};
use crate::{ContractError, Violation};

/// The upstream ODCS JSON Schemas Runink validates against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OdcsSchema {
    V3_0_0,
    V3_0_1,
    V3_0_2,
    V3_1_0,
}

impl OdcsSchema {
    /// v3.0.0 to v3.0.2 have a schema each; every v3.1.x is checked with
    /// the v3.1.0 schema, as upstream publishes one schema per minor line.
    pub(crate) fn for_api_version(api_version: &str) -> Option<Self> {
        match api_version {
            "v3.0.0" => Some(Self::V3_0_0),
            "v3.0.1" => Some(Self::V3_0_1),
            "v3.0.2" => Some(Self::V3_0_2),
            other if other.starts_with("v3.1.") => Some(Self::V3_1_0),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::V3_0_0 => "v3.0.0",
            Self::V3_0_1 => "v3.0.1",
            Self::V3_0_2 => "v3.0.2",
            Self::V3_1_0 => "v3.1.0",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::V3_0_0 => include_str!("../schemas/odcs-json-schema-v3.0.0.json"),
            Self::V3_0_1 => include_str!("../schemas/odcs-json-schema-v3.0.1.json"),
            Self::V3_0_2 => include_str!("../schemas/odcs-json-schema-v3.0.2.json"),
            Self::V3_1_0 => include_str!("../schemas/odcs-json-schema-v3.1.0.json"),
        }
    }

    /// The SHA-256 of the schema's text, computed once per process.
    fn digest(self) -> &'static [u8; 32] {
        static V3_0_0: OnceLock<[u8; 32]> = OnceLock::new();
        static V3_0_1: OnceLock<[u8; 32]> = OnceLock::new();
        static V3_0_2: OnceLock<[u8; 32]> = OnceLock::new();
        static V3_1_0: OnceLock<[u8; 32]> = OnceLock::new();
        let digest = match self {
            Self::V3_0_0 => &V3_0_0,
            Self::V3_0_1 => &V3_0_1,
            Self::V3_0_2 => &V3_0_2,
            Self::V3_1_0 => &V3_1_0,
        };
        digest.get_or_init(|| known_valid::schema_digest(self.text()))
    }

    fn validator(self) -> &'static Validator {
        static V3_0_0: LazyLock<Validator> = LazyLock::new(|| compile(OdcsSchema::V3_0_0.text()));
        static V3_0_1: LazyLock<Validator> = LazyLock::new(|| compile(OdcsSchema::V3_0_1.text()));
        static V3_0_2: LazyLock<Validator> = LazyLock::new(|| compile(OdcsSchema::V3_0_2.text()));
        static V3_1_0: LazyLock<Validator> = LazyLock::new(|| compile(OdcsSchema::V3_1_0.text()));
        match self {
            Self::V3_0_0 => &V3_0_0,
            Self::V3_0_1 => &V3_0_1,
            Self::V3_0_2 => &V3_0_2,
            Self::V3_1_0 => &V3_1_0,
        }
    }
}

fn compile(schema_text: &str) -> Validator {
    let schema: Value =
        serde_json::from_str(schema_text).expect("the embedded ODCS schemas are valid JSON");
    // No `$ref` in them leaves the document, so nothing is fetched; the
    // `embedded_schemas_compile` test proves each one builds.
    jsonschema::draft201909::new(&schema)
        .expect("the embedded ODCS schemas are valid Draft 2019-09 schemas")
}

/// Checks `value` (read from the YAML `source`) against `schema`, reporting
/// every violation, each placed at its line and column in `source`. A
/// `source` known to pass (`known_valid`) is not checked again.
pub(crate) fn validate(
    schema: OdcsSchema,
    value: &Value,
    source: &str,
) -> Result<(), ContractError> {
    let key = known_valid::key(schema.digest(), source);
    if known_valid::is_assumed(&key) {
        return Ok(());
    }
    let validator = schema.validator();
    if validator.is_valid(value) {
        known_valid::record_found(key);
        return Ok(());
    }
    // Positions cost a second parse, so only failing documents pay for it.
    let positions = PositionMap::build(source);
    let mut violations: Vec<Violation> = validator
        .iter_errors(value)
        .flat_map(|error| violations_of(&error, value, &positions))
        .collect();
    violations.sort_by(|a, b| {
        (a.line, a.column, &a.path, &a.message).cmp(&(b.line, b.column, &b.path, &b.message))
    });
    violations.dedup();
    Err(ContractError::Invalid {
        schema: schema.name(),
        violations,
    })
}

fn violations_of(
    error: &ValidationError<'_>,
    root: &Value,
    positions: &PositionMap,
) -> Vec<Violation> {
    let path = instance_path(error, root);
    match error.kind() {
        // One violation per unknown key, placed at the key itself.
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|key| {
                let mut key_path = path.clone();
                key_path.push_key(key);
                let message = format!(
                    "found unknown property `{key}`, expected only properties ODCS defines here"
                );
                placed(&key_path, positions.key_or_ancestor(&key_path), message)
            })
            .collect(),
        _ => {
            let message = schema_message::describe(error, &|nested| instance_path(nested, root));
            vec![placed(&path, positions.value_or_ancestor(&path), message)]
        }
    }
}

fn placed(path: &JsonPath, position: Option<Position>, message: String) -> Violation {
    Violation {
        path: path.as_str().to_owned(),
        line: position.map(|p| p.line),
        column: position.map(|p| p.column),
        message,
    }
}

/// Turns the error's JSON Pointer into a [`JsonPath`], looking at the value
/// to tell a list index from a key that happens to be digits.
fn instance_path(error: &ValidationError<'_>, root: &Value) -> JsonPath {
    let mut path = JsonPath::default();
    let mut node = Some(root);
    for raw in error.instance_path().as_str().split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let index = match node {
            Some(Value::Array(_)) => segment.parse::<usize>().ok(),
            _ => None,
        };
        match index {
            Some(index) => {
                path.push_index(index);
                node = node.and_then(|n| n.get(index));
            }
            None => {
                path.push_key(&segment);
                node = node.and_then(|n| n.get(segment.as_str()));
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Contract;

    const TYPO: &str = "\
apiVersion: v3.0.2
kind: DataContract
id: urn:example:orders
version: 1.0.0
status: active
contractCreatedTs: 2024-05-01T10:00:00Z
schema:
  - name: orders
    logicalType: object
    properties:
      - name: order_id
        logicalType: string
      - name: amount
        logicalType: strin
";

    fn violations(text: &str) -> Vec<Violation> {
        match Contract::from_yaml(text) {
            Err(ContractError::Invalid { violations, .. }) => violations,
            other => panic!("expected schema violations, got {other:?}"),
        }
    }

    #[test]
    fn embedded_schemas_compile() {
        for schema in [
            OdcsSchema::V3_0_0,
            OdcsSchema::V3_0_1,
            OdcsSchema::V3_0_2,
            OdcsSchema::V3_1_0,
        ] {
            assert!(
                !schema.validator().is_valid(&Value::Null),
                "{}",
                schema.name()
            );
        }
    }

    #[test]
    fn picks_the_schema_for_the_declared_version() {
        assert_eq!(
            OdcsSchema::for_api_version("v3.0.1"),
            Some(OdcsSchema::V3_0_1)
        );
        assert_eq!(
            OdcsSchema::for_api_version("v3.1.0"),
            Some(OdcsSchema::V3_1_0)
        );
        assert_eq!(
            OdcsSchema::for_api_version("v3.1.7"),
            Some(OdcsSchema::V3_1_0)
        );
        assert_eq!(OdcsSchema::for_api_version("v3.0.9"), None);
        assert_eq!(OdcsSchema::for_api_version("v2.2.2"), None);
    }

    #[test]
    fn a_typo_in_a_logical_type_names_its_path_line_and_column() {
        let found = violations(TYPO);
        assert_eq!(
            found,
            [Violation {
                path: "schema[0].properties[1].logicalType".to_owned(),
                line: Some(14),
                column: Some(22),
                message: "found `strin`, expected one of `string`, `date`, `number`, \
                          `integer`, `object`, `array`, `boolean`"
                    .to_owned(),
            }]
        );
    }

    #[test]
    fn the_error_message_carries_every_violation() {
        let text = TYPO.replace("kind: DataContract\n", "kind: DataContract\ncolour: blue\n");
        let error = Contract::from_yaml(&text).expect_err("two violations");
        assert_eq!(
            error.to_string(),
            "the contract does not match the ODCS `v3.0.2` JSON Schema: \
             colour at line 3, column 1: found unknown property `colour`, \
             expected only properties ODCS defines here; \
             schema[0].properties[1].logicalType at line 15, column 22: found `strin`, \
             expected one of `string`, `date`, `number`, `integer`, `object`, `array`, `boolean`"
        );
    }

    #[test]
    fn yaml_dates_stay_strings_and_fixed_docs_load() {
        // `contractCreatedTs` is a string in the schema; a YAML timestamp
        // read as a date would fail here.
        let fixed = TYPO.replace("logicalType: strin\n", "logicalType: string\n");
        let contract = Contract::from_yaml(&fixed).expect("valid once the typo is fixed");
        assert_eq!(contract.objects[0].columns.len(), 2);
    }

    #[test]
    fn a_missing_property_points_at_its_parent() {
        let text = TYPO
            .replace("logicalType: strin\n", "logicalType: string\n")
            .replace("status: active\n", "");
        let found = violations(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "");
        assert_eq!((found[0].line, found[0].column), (Some(1), Some(1)));
        assert_eq!(found[0].message, "missing required property `status`");
    }

    #[test]
    fn version_3_1_documents_use_the_3_1_schema() {
        // v3.1.0 added `timestamp`; v3.0.2 rejects it.
        let text = TYPO.replace("logicalType: strin\n", "logicalType: timestamp\n");
        assert_eq!(
            violations(&text)[0].path,
            "schema[0].properties[1].logicalType"
        );
        let newer = text.replace("apiVersion: v3.0.2", "apiVersion: v3.1.0");
        Contract::from_yaml(&newer).expect("timestamp is a v3.1.0 logical type");
    }
}
