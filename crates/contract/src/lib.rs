//! ODCS v3 data contracts: loading (checked against the upstream ODCS JSON
//! Schema of the document's `apiVersion`), the canonical hash, the
//! enforcement of row rules over Arrow record batches, and the pure cores
//! of the contract commands: `diff`, `infer` (with `profile`) and `synth`.

mod calendar;
mod canonical;
mod column_check;
mod counted_keys;
mod dataset_rules;
mod diff;
mod error;
mod finding;
mod infer;
mod jdk_format;
mod json_path;
mod known_valid;
mod logical_type;
mod mask;
mod model;
mod nested_check;
mod pattern;
mod profile;
mod quality;
mod reading;
mod row_check;
mod schema;
mod schema_message;
mod strict_json;
mod structured_rules;
mod synth;
mod type_options;
mod unique;
mod value_read;
mod violation;
mod yaml_positions;

pub use canonical::canonical_hash;
pub use dataset_rules::{DatasetMeasurement, DatasetMeter, SqlRule};
pub use diff::{Change, Impact, diff};
pub use error::ContractError;
pub use finding::{Finding, RuleKind};
pub use infer::{InferOptions, InferredColumn, contract_yaml, infer_columns};
pub use jdk_format::TemporalFormat;
pub use known_valid::{assume_valid, found_valid};
pub use logical_type::LogicalType;
pub use mask::{DIGEST_BYTES, MaskError, MaskKeys, Masker, REDACTED, TOKEN_KEY_BYTES, hex_digests};
pub use model::{Column, Contract, MaskRule, SchemaObject};
pub use profile::{ColumnStats, Profiler, TypeCandidate};
pub use quality::{Operator, QualityCheck, QualityRule, Severity};
pub use row_check::{
    CheckError, CheckOptions, CheckedBatch, Drift, RowChecker, UNIQUE_KEYS_MAX_DEFAULT, value_text,
};
pub use strict_json::{Strict, parse_strict};
pub use synth::{BrokenRow, SynthBatch, SynthError, SynthOptions, Synthesizer};
pub use type_options::{Bound, BoundValue, TypeOptions};
pub use unique::{RowKeys, SeenValues, SeenValuesFull};
pub use violation::Violation;
