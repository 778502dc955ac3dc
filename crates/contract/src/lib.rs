//! ODCS v3 data contracts. This first cut loads the parts the scenario
//! compiler needs (schema objects, their columns and governance fields) and
//! computes a contract's canonical hash; row enforcement builds on it.

mod canonical;
mod error;
mod model;

pub use canonical::canonical_hash;
pub use error::ContractError;
pub use model::{Column, Contract, MaskRule, SchemaObject};
