//! ODCS v3 data contracts: loading (checked against the upstream ODCS JSON
//! Schema of the document's `apiVersion`), the canonical hash, and the
//! enforcement of row rules over Arrow record batches.

mod canonical;
mod column_check;
mod dataset_rules;
mod error;
mod finding;
mod jdk_format;
mod json_path;
mod logical_type;
mod mask;
mod model;
mod quality;
mod reading;
mod row_check;
mod schema;
mod schema_message;
mod type_options;
mod unique;
mod value_read;
mod violation;
mod yaml_positions;

pub use canonical::canonical_hash;
pub use dataset_rules::{DatasetMeasurement, DatasetMeter, SqlRule};
pub use error::ContractError;
pub use finding::{Finding, RuleKind};
pub use jdk_format::TemporalFormat;
pub use logical_type::LogicalType;
pub use mask::{MaskError, MaskKeys, Masker, REDACTED, TOKEN_KEY_BYTES};
pub use model::{Column, Contract, MaskRule, SchemaObject};
pub use quality::{Operator, QualityCheck, QualityRule, Severity};
pub use row_check::{
    CheckError, CheckOptions, CheckedBatch, Drift, RowChecker, UNIQUE_KEYS_MAX_DEFAULT, value_text,
};
pub use type_options::{Bound, BoundValue, TypeOptions};
pub use unique::{SeenValues, SeenValuesFull, fingerprint, row_fingerprints};
pub use violation::Violation;
