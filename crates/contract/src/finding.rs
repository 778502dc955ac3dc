//! What a failing row carries: the rule it broke, the field, the value and
//! a message a person can act on.

/// A row rule, named as ODCS names it; the name is what the DLQ records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum RuleKind {
    #[serde(rename = "required")]
    Required,
    #[serde(rename = "nullValues")]
    NullValues,
    #[serde(rename = "logicalType")]
    LogicalType,
    #[serde(rename = "pattern")]
    Pattern,
    #[serde(rename = "minLength")]
    MinLength,
    #[serde(rename = "maxLength")]
    MaxLength,
    #[serde(rename = "format")]
    Format,
    #[serde(rename = "minimum")]
    Minimum,
    #[serde(rename = "exclusiveMinimum")]
    ExclusiveMinimum,
    #[serde(rename = "maximum")]
    Maximum,
    #[serde(rename = "exclusiveMaximum")]
    ExclusiveMaximum,
    #[serde(rename = "multipleOf")]
    MultipleOf,
    #[serde(rename = "minItems")]
    MinItems,
    #[serde(rename = "maxItems")]
    MaxItems,
    #[serde(rename = "uniqueItems")]
    UniqueItems,
    #[serde(rename = "minProperties")]
    MinProperties,
    #[serde(rename = "maxProperties")]
    MaxProperties,
    /// An `object` column's `required` keys (`required` alone names the
    /// column's own rule).
    #[serde(rename = "requiredProperties")]
    RequiredProperties,
    #[serde(rename = "validValues")]
    ValidValues,
    #[serde(rename = "invalidValues")]
    InvalidValues,
    /// A column the contract does not know, or one it needs that is
    /// missing, under `block_on_drift`.
    #[serde(rename = "drift")]
    Drift,
    #[serde(rename = "duplicate")]
    Duplicate,
}

impl RuleKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::NullValues => "nullValues",
            Self::LogicalType => "logicalType",
            Self::Pattern => "pattern",
            Self::MinLength => "minLength",
            Self::MaxLength => "maxLength",
            Self::Format => "format",
            Self::Minimum => "minimum",
            Self::ExclusiveMinimum => "exclusiveMinimum",
            Self::Maximum => "maximum",
            Self::ExclusiveMaximum => "exclusiveMaximum",
            Self::MultipleOf => "multipleOf",
            Self::MinItems => "minItems",
            Self::MaxItems => "maxItems",
            Self::UniqueItems => "uniqueItems",
            Self::MinProperties => "minProperties",
            Self::MaxProperties => "maxProperties",
            Self::RequiredProperties => "requiredProperties",
            Self::ValidValues => "validValues",
            Self::InvalidValues => "invalidValues",
            Self::Drift => "drift",
            Self::Duplicate => "duplicate",
        }
    }
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One broken rule on one row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub rule: RuleKind,
    pub field: String,
    /// The value as read (text), or `None` when it was null or missing.
    pub value: Option<String>,
    pub message: String,
}
