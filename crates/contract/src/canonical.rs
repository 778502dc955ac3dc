//! The canonical form of a contract: its YAML data as JSON with sorted keys
//! and no whitespace, so that layout, key order and comments never change
//! its identity.

use runink_model::Sha256Hex;
use sha2::{Digest, Sha256};

/// SHA-256 of the canonical JSON of a contract's YAML value.
pub fn canonical_hash(value: &serde_json::Value) -> Sha256Hex {
    // serde_json's map is ordered by key (no `preserve_order` feature), so
    // plain serialisation is already canonical.
    let canonical = value.to_string();
    Sha256Hex::from_digest(&Sha256::digest(canonical.as_bytes()))
}
