//! The contract as Runink reads it: schema objects and their columns.

use runink_model::Sha256Hex;
use serde_json::Value;

use crate::quality::QualityRule;
use crate::schema::{self, OdcsSchema};
use crate::type_options::TypeOptions;
use crate::value_read::{expect_array, expect_object, expect_str, optional_str, shape};
use crate::{ContractError, canonical_hash};

/// How a sensitive column is hidden (`customProperties` `mask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskRule {
    Redact,
    Hash,
    Tokenize,
    None,
}

impl MaskRule {
    pub const NAMES: [&'static str; 4] = ["redact", "hash", "tokenize", "none"];

    fn parse(text: &str) -> Option<Self> {
        match text {
            "redact" => Some(Self::Redact),
            "hash" => Some(Self::Hash),
            "tokenize" => Some(Self::Tokenize),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub logical_type: Option<String>,
    pub required: bool,
    pub unique: bool,
    pub primary_key: bool,
    pub classification: Option<String>,
    pub mask: Option<MaskRule>,
    /// `customProperties` `access`: the only role that may read the
    /// column in clear (role-scoped sinks mask it for every other role).
    pub access: Option<String>,
    pub options: TypeOptions,
    pub quality: Vec<QualityRule>,
    /// An `object` column's own properties: the keys of its values, each
    /// checked as a column is (`nested_check.rs`).
    pub properties: Vec<Column>,
    /// An `array` column's `items`: what each element must be.
    pub items: Option<Box<Column>>,
}

impl Column {
    /// PII and other sensitive classes are masked by the `mask` step. An
    /// `object` or `array` column holding a sensitive property or item is
    /// sensitive as a whole: its values are JSON text, masked whole.
    pub fn is_sensitive(&self) -> bool {
        match self.mask {
            Some(MaskRule::None) => false,
            Some(_) => true,
            None => {
                self.classification.as_deref().is_some_and(|c| {
                    matches!(c, "pii" | "restricted" | "confidential" | "sensitive")
                }) || self.nested().any(Column::is_sensitive)
            }
        }
    }

    /// The column's masking rule: its own, else that of the first
    /// sensitive property or item within it.
    pub fn mask_rule(&self) -> Option<MaskRule> {
        self.mask.or_else(|| {
            self.nested()
                .filter(|c| c.is_sensitive())
                .find_map(Column::mask_rule)
        })
    }

    /// The properties (of an object) and items (of an array) within it.
    fn nested(&self) -> impl Iterator<Item = &Column> {
        self.properties.iter().chain(self.items.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchemaObject {
    pub name: String,
    pub columns: Vec<Column>,
    /// Dataset-level rules (`rowCount`, `type: sql`, ...).
    pub quality: Vec<QualityRule>,
}

impl SchemaObject {
    /// Whether the object or any of its properties carries a dataset
    /// (`quality`) rule, measured once over all the rows.
    pub fn has_quality_rules(&self) -> bool {
        !self.quality.is_empty() || self.columns.iter().any(|c| !c.quality.is_empty())
    }

    /// The columns as a text reader sees them before the contract types
    /// them: all `Utf8`, nullable, in contract order (the schema of a CSV
    /// file with no rows).
    pub fn text_schema(&self) -> arrow::datatypes::Schema {
        arrow::datatypes::Schema::new(
            self.columns
                .iter()
                .map(|c| {
                    arrow::datatypes::Field::new(&c.name, arrow::datatypes::DataType::Utf8, true)
                })
                .collect::<Vec<_>>(),
        )
    }

    /// The columns as the contract reads them: each with the Arrow type of
    /// its `logicalType`, all nullable, in contract order.
    pub fn accepted_schema(&self) -> arrow::datatypes::Schema {
        arrow::datatypes::Schema::new(
            self.columns
                .iter()
                .map(|c| {
                    let kind = crate::LogicalType::of(c.logical_type.as_deref());
                    let zoned = c.options.timezone != Some(false);
                    arrow::datatypes::Field::new(&c.name, kind.arrow_type(zoned), true)
                })
                .collect::<Vec<_>>(),
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub api_version: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub objects: Vec<SchemaObject>,
    pub hash: Sha256Hex,
}

/// A key given twice in one mapping: YAML forbids it, and the reader
/// would keep the later value without a word (a second `customProperties`
/// dropped the first's `mask`).
fn refuse_repeated_keys(text: &str) -> Result<(), ContractError> {
    let positions = crate::yaml_positions::PositionMap::build(text);
    match positions.repeated_key() {
        None => Ok(()),
        Some((path, position)) => Err(ContractError::Yaml {
            message: format!(
                "`{path}` is given twice in one mapping; keys must be unique (merge the two)"
            ),
            line: Some(position.line),
            column: Some(position.column),
        }),
    }
}

/// The document as JSON values, with YAML's `<<` merge keys applied (a
/// mapping's own keys win over merged ones), as YAML 1.1 tools read them:
/// a column that repeats another's settings with `<<: *anchor` is that
/// column, not an unknown property `<<`.
fn yaml_as_json(text: &str) -> Result<Value, ContractError> {
    let yaml_error = |e: serde_yaml_ng::Error, context: &str| {
        let location = e.location();
        ContractError::Yaml {
            message: format!("{context}{e}"),
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
        }
    };
    let mut yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| yaml_error(e, ""))?;
    yaml.apply_merge().map_err(|e| {
        yaml_error(
            e,
            "a `<<` merge key takes a mapping or a list of mappings: ",
        )
    })?;
    serde_json::to_value(&yaml).map_err(|e| ContractError::Yaml {
        message: format!("{e} (ODCS documents have text keys and plain values)"),
        line: None,
        column: None,
    })
}

impl Contract {
    /// Reads a contract, first checking it against the ODCS JSON Schema of
    /// its `apiVersion` (every schema violation is reported, with its line
    /// and column), then reading the parts Runink uses.
    pub fn from_yaml(text: &str) -> Result<Self, ContractError> {
        // Editors on Windows may start UTF-8 with a byte order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // serde_yaml_ng leaves YAML dates and timestamps as strings, which
        // is what the ODCS schemas expect (upstream checks with ajv on JSON).
        // Before reading values: YAML's mappings refuse a repeat with a
        // message that names neither the path nor the fix.
        refuse_repeated_keys(text)?;
        let value = yaml_as_json(text)?;
        schema::validate(declared_schema(&value)?, &value, text)?;
        let contract = Self::from_value(&value)?;
        contract.check_rules()?;
        Ok(contract)
    }

    /// Compiles every column's rules once, so that a rule Runink cannot run
    /// (a regular expression it cannot compile, a bound of the wrong kind)
    /// is reported when the contract loads, not when rows arrive.
    fn check_rules(&self) -> Result<(), ContractError> {
        for column in self.objects.iter().flat_map(|o| &o.columns) {
            crate::column_check::ColumnCheck::compile(column)?;
        }
        for object in &self.objects {
            crate::dataset_rules::DatasetMeter::new(
                object,
                &object.accepted_schema(),
                crate::UNIQUE_KEYS_MAX_DEFAULT,
            )?;
        }
        Ok(())
    }

    fn from_value(value: &Value) -> Result<Self, ContractError> {
        let root = expect_object(value, "")?;
        let api_version = expect_str(root.get("apiVersion"), "apiVersion")?;
        let objects = match root.get("schema") {
            None => Vec::new(),
            Some(schema) => expect_array(schema, "schema")?
                .iter()
                .enumerate()
                .map(|(i, object)| schema_object(object, &format!("schema[{i}]")))
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            api_version: api_version.to_owned(),
            id: optional_str(root.get("id"), "id")?,
            name: optional_str(root.get("name"), "name")?,
            version: optional_str(root.get("version"), "version")?,
            objects,
            hash: canonical_hash(value),
        })
    }

    pub fn object(&self, name: &str) -> Option<&SchemaObject> {
        self.objects.iter().find(|o| o.name == name)
    }
}

/// The schema for the document's `apiVersion`, which must be one Runink knows.
fn declared_schema(value: &Value) -> Result<OdcsSchema, ContractError> {
    let root = expect_object(value, "")?;
    let api_version = expect_str(root.get("apiVersion"), "apiVersion")?;
    OdcsSchema::for_api_version(api_version).ok_or_else(|| ContractError::UnsupportedVersion {
        found: api_version.to_owned(),
    })
}

fn schema_object(value: &Value, path: &str) -> Result<SchemaObject, ContractError> {
    let object = expect_object(value, path)?;
    let name = expect_str(object.get("name"), &format!("{path}.name"))?.to_owned();
    let columns = properties(object.get("properties"), path)?;
    let quality = QualityRule::read_list(object.get("quality"), path)?;
    Ok(SchemaObject {
        name,
        columns,
        quality,
    })
}

/// The `properties` list at `path`, each with a name of its own.
fn properties(value: Option<&Value>, path: &str) -> Result<Vec<Column>, ContractError> {
    let columns: Vec<Column> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(properties) => expect_array(properties, &format!("{path}.properties"))?
            .iter()
            .enumerate()
            .map(|(i, p)| column(p, &format!("{path}.properties[{i}]")))
            .collect::<Result<_, _>>()?,
    };
    for (i, column) in columns.iter().enumerate() {
        let repeated = columns[..i].iter().position(|c| c.name == column.name);
        if column.name.is_empty() || repeated.is_some() {
            return Err(ContractError::Shape {
                path: format!("{path}.properties[{i}].name"),
                expected: "a name of its own: rows find their columns by name",
                found: match repeated {
                    Some(first) => {
                        format!("`{}`, the name of properties[{first}] too", column.name)
                    }
                    None => "an empty name".to_owned(),
                },
            });
        }
    }
    Ok(columns)
}

fn column(value: &Value, path: &str) -> Result<Column, ContractError> {
    let object = expect_object(value, path)?;
    let flag = |key: &str| -> Result<bool, ContractError> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(shape(&format!("{path}.{key}"), "a boolean", other)),
        }
    };
    Ok(Column {
        name: expect_str(object.get("name"), &format!("{path}.name"))?.to_owned(),
        logical_type: optional_str(object.get("logicalType"), &format!("{path}.logicalType"))?,
        required: flag("required")?,
        unique: flag("unique")?,
        primary_key: flag("primaryKey")?,
        classification: optional_str(
            object.get("classification"),
            &format!("{path}.classification"),
        )?,
        mask: mask_rule(object.get("customProperties"), path)?,
        access: custom_text(object.get("customProperties"), "access", path)?,
        options: TypeOptions::read(object.get("logicalTypeOptions"), path)?,
        quality: QualityRule::read_list(object.get("quality"), path)?,
        properties: properties(object.get("properties"), path)?,
        items: match object.get("items") {
            None | Some(Value::Null) => None,
            Some(items) => Some(Box::new(item_column(items, &format!("{path}.items"))?)),
        },
    })
}

/// An array's `items`, which ODCS lets go without a name: `items` then.
fn item_column(value: &Value, path: &str) -> Result<Column, ContractError> {
    let mut object = expect_object(value, path)?.clone();
    object
        .entry("name")
        .or_insert_with(|| Value::String("items".into()));
    column(&Value::Object(object), path)
}

/// The text value of one `customProperties` entry, if present.
fn custom_text(
    custom: Option<&Value>,
    property: &str,
    path: &str,
) -> Result<Option<String>, ContractError> {
    let Some(custom) = custom else {
        return Ok(None);
    };
    let list_path = format!("{path}.customProperties");
    for (i, entry) in expect_array(custom, &list_path)?.iter().enumerate() {
        let entry_path = format!("{list_path}[{i}]");
        let entry = expect_object(entry, &entry_path)?;
        if entry.get("property").and_then(Value::as_str) == Some(property) {
            return Ok(Some(
                expect_str(entry.get("value"), &format!("{entry_path}.value"))?.to_owned(),
            ));
        }
    }
    Ok(None)
}

fn mask_rule(custom: Option<&Value>, path: &str) -> Result<Option<MaskRule>, ContractError> {
    let Some(text) = custom_text(custom, "mask", path)? else {
        return Ok(None);
    };
    MaskRule::parse(&text).map(Some).ok_or_else(|| {
        let index = custom
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .position(|e| e.get("property").and_then(Value::as_str) == Some("mask"))
            })
            .unwrap_or(0);
        ContractError::Shape {
            path: format!("{path}.customProperties[{index}].value"),
            expected: "one of `redact`, `hash`, `tokenize`, `none`",
            found: format!("`{text}`"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERS: &str = r#"
apiVersion: v3.0.2
kind: DataContract
id: urn:example:orders
version: 1.2.0
status: active
name: orders
schema:
  - name: orders
    logicalType: object
    properties:
      - name: order_id
        logicalType: string
        required: true
        primaryKey: true
      - name: email
        logicalType: string
        classification: pii
        customProperties:
          - { property: mask, value: hash }
      - name: note
        logicalType: string
"#;

    #[test]
    fn reads_columns_and_governance() {
        let contract = Contract::from_yaml(ORDERS).unwrap();
        let orders = contract.object("orders").unwrap();
        let names: Vec<_> = orders.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["order_id", "email", "note"]);
        assert!(orders.columns[0].required && orders.columns[0].primary_key);
        assert_eq!(orders.columns[1].mask, Some(MaskRule::Hash));
        assert!(orders.columns[1].is_sensitive());
        assert!(!orders.columns[2].is_sensitive());
    }

    #[test]
    fn a_key_given_twice_in_one_mapping_is_refused_where_it_repeats() {
        let twice = ORDERS.replacen("version: ", "version: 9.9.9\nversion: ", 1);
        let error = Contract::from_yaml(&twice).unwrap_err().to_string();
        assert!(
            error.contains("`version` is given twice") && error.contains("line "),
            "{error}"
        );
        // The same key in two different mappings is no repeat.
        assert!(Contract::from_yaml(ORDERS).is_ok());
    }

    #[test]
    fn a_property_named_twice_or_not_at_all_is_refused() {
        let twice = ORDERS.replace("name: note", "name: email");
        let error = Contract::from_yaml(&twice).unwrap_err().to_string();
        assert!(
            error.contains("schema[0].properties[2].name")
                && error.contains("`email`, the name of properties[1] too"),
            "{error}"
        );
        let empty = ORDERS.replace("name: note", "name: \"\"");
        let error = Contract::from_yaml(&empty).unwrap_err().to_string();
        assert!(error.contains("an empty name"), "{error}");
    }

    #[test]
    fn bounds_that_reject_every_row_are_refused() {
        let with = |options: &str| {
            let note = format!("      - name: note\n        logicalType: {options}\n");
            let text = ORDERS.replace("      - name: note\n        logicalType: string\n", &note);
            assert_ne!(text, ORDERS, "the note column is in the fixture");
            Contract::from_yaml(&text)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let error =
            with("number\n        logicalTypeOptions: { minimum: 100, maximum: 1 }").unwrap_err();
        assert!(
            error.contains("column `note`") && error.contains("reject every row"),
            "{error}"
        );
        let error =
            with("string\n        logicalTypeOptions: { minLength: 5, maxLength: 2 }").unwrap_err();
        assert!(
            error.contains("`minLength` 5 is more than `maxLength` 2"),
            "{error}"
        );
        with("number\n        logicalTypeOptions: { minimum: 1, maximum: 1 }").unwrap();
        with("string\n        logicalTypeOptions: { minLength: 2, maxLength: 2 }").unwrap();
    }

    #[test]
    fn hash_ignores_layout_order_and_comments() {
        let reordered = r#"
# a comment
name: orders
kind: DataContract
apiVersion: v3.0.2
status: active
version: 1.2.0
id: urn:example:orders
schema:
  - logicalType: object
    name: orders
    properties:
      - { name: order_id, logicalType: string, primaryKey: true, required: true }
      - name: email
        classification: pii
        logicalType: string
        customProperties: [{ value: hash, property: mask }]
      - name: note
        logicalType: string
"#;
        let a = Contract::from_yaml(ORDERS).unwrap();
        let b = Contract::from_yaml(reordered).unwrap();
        assert_eq!(a.hash, b.hash);
        let changed = ORDERS.replace("value: hash", "value: redact");
        assert_ne!(a.hash, Contract::from_yaml(&changed).unwrap().hash);
    }

    #[test]
    fn merge_keys_repeat_a_column_and_a_byte_order_mark_is_skipped() {
        let text = r#"
apiVersion: v3.0.2
kind: DataContract
id: urn:x
version: 1.0.0
status: active
schema:
  - name: t
    logicalType: object
    properties:
      - &base
        name: a
        logicalType: string
        required: true
        logicalTypeOptions: { maxLength: 3 }
      - <<: *base
        name: b
      - <<: [*base]
        name: c
        required: false
"#;
        let contract = Contract::from_yaml(text).unwrap();
        let columns = &contract.objects[0].columns;
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(columns[1].required && !columns[2].required);
        assert_eq!(columns[1].logical_type, columns[0].logical_type);
        assert_eq!(columns[2].options.max_length, Some(3));

        let with_bom = format!("\u{feff}{text}");
        assert_eq!(Contract::from_yaml(&with_bom).unwrap().hash, contract.hash);

        let scalar = text.replace("<<: [*base]", "<<: 3");
        let error = Contract::from_yaml(&scalar).unwrap_err().to_string();
        assert!(error.contains("`<<` merge key takes a mapping"), "{error}");
    }

    #[test]
    fn errors_name_the_path() {
        let bad = ORDERS.replace("value: hash", "value: scramble");
        let error = Contract::from_yaml(&bad).unwrap_err().to_string();
        assert!(
            error.contains("schema[0].properties[1].customProperties[0].value"),
            "{error}"
        );
        let old = ORDERS.replace("v3.0.2", "v2.2.0");
        assert!(matches!(
            Contract::from_yaml(&old),
            Err(ContractError::UnsupportedVersion { .. })
        ));
        let broken = "apiVersion: [v3";
        assert!(matches!(
            Contract::from_yaml(broken),
            Err(ContractError::Yaml { line: Some(_), .. })
        ));
    }
}
