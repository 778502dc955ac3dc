//! Content hashes: the identity of plans and contracts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A SHA-256 digest as 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    /// Wraps a digest; the caller has computed it, so only the shape is checked.
    pub fn from_digest(digest: &[u8]) -> Self {
        debug_assert_eq!(digest.len(), 32, "a SHA-256 digest has 32 bytes");
        let mut hex = String::with_capacity(digest.len() * 2);
        for byte in digest {
            hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
        }
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex characters, for humans; never for identity checks.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The identity of a compiled scenario: the hash of everything in its plan
/// that changes what a run does, and of nothing else (not prose, comments,
/// layout or catalog metadata).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DagHash(pub Sha256Hex);

impl fmt::Display for DagHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_encodes_every_byte() {
        let digest: Vec<u8> = (0u8..32).collect();
        let hex = Sha256Hex::from_digest(&digest);
        assert_eq!(
            hex.as_str(),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        );
        assert_eq!(hex.short(), "000102030405");
    }
}
