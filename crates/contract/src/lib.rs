//! ODCS v3 data contracts. This first cut checks a contract against the
//! upstream ODCS JSON Schema of its `apiVersion`, loads the parts the
//! scenario compiler needs (schema objects, their columns and governance
//! fields) and computes a contract's canonical hash; row enforcement builds
//! on it.

mod canonical;
mod error;
mod json_path;
mod model;
mod schema;
mod schema_message;
mod violation;
mod yaml_positions;

pub use canonical::canonical_hash;
pub use error::ContractError;
pub use model::{Column, Contract, MaskRule, SchemaObject};
pub use violation::Violation;
