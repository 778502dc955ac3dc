//! Contract texts known to pass their ODCS JSON Schema, so that a process
//! can skip building the schema's validator (about half of a small `runi
//! run`'s CPU: the ODCS schemas are large Draft 2019-09 documents) when it
//! reads a contract it has seen pass before.
//!
//! A key is the SHA-256 of the schema's digest and the contract's text, so
//! a changed contract or a runi with other schemas misses. The keys live in
//! this process only; the `runi` command line reads earlier ones from its
//! state folder ([`assume_valid`]) and writes back those found here
//! ([`found_valid`]). The JSON Schema check is the only part skipped: a
//! contract is still read and its rules compiled in full.

use std::collections::BTreeSet;
use std::sync::{PoisonError, RwLock};

use sha2::{Digest, Sha256};

static ASSUMED: RwLock<BTreeSet<String>> = RwLock::new(BTreeSet::new());
static FOUND: RwLock<BTreeSet<String>> = RwLock::new(BTreeSet::new());

/// Takes the contract texts under `keys` as passing their schema.
pub fn assume_valid(keys: impl IntoIterator<Item = String>) {
    ASSUMED
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(keys);
}

/// The keys of the contract texts that passed their schema in this
/// process (not those assumed).
pub fn found_valid() -> Vec<String> {
    FOUND
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .cloned()
        .collect()
}

/// The SHA-256 of a schema's text, to key contracts checked against it
/// (computed once per schema and process: the schemas are ~80 KB).
pub(crate) fn schema_digest(schema_text: &str) -> [u8; 32] {
    Sha256::digest(schema_text.as_bytes()).into()
}

/// The key of `contract_text` checked against the schema of
/// `schema_digest`.
pub(crate) fn key(schema_digest: &[u8; 32], contract_text: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(schema_digest);
    hasher.update(contract_text.as_bytes());
    hex::encode(hasher.finalize())
}

pub(crate) fn is_assumed(key: &str) -> bool {
    ASSUMED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(key)
}

pub(crate) fn record_found(key: String) {
    FOUND
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key);
}
