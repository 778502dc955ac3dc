//! How every value is stored in the Barn's database: an 8-byte checksum
//! (the first bytes of the SHA-256 of the payload) followed by the payload,
//! JSON. redb checks its pages only when it repairs a file after a crash, so
//! the Barn checks its own values on every read and when it opens.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

const CHECKSUM_LEN: usize = 8;

/// A stored value that does not read back as it was written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    #[error("{len} bytes is too short to hold a checksum")]
    Short { len: usize },
    #[error("the checksum does not match the contents")]
    Checksum,
    #[error("the contents are not what was written")]
    Json(#[source] serde_json::Error),
}

fn checksum(payload: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::digest(payload);
    let mut sum = [0; CHECKSUM_LEN];
    sum.copy_from_slice(&digest[..CHECKSUM_LEN]);
    sum
}

/// Prefixes `payload` with its checksum.
pub(crate) fn seal_bytes(payload: &[u8]) -> Vec<u8> {
    let mut sealed = Vec::with_capacity(CHECKSUM_LEN + payload.len());
    sealed.extend_from_slice(&checksum(payload));
    sealed.extend_from_slice(payload);
    sealed
}

/// The payload of a sealed value, if its checksum holds.
pub(crate) fn open_bytes(sealed: &[u8]) -> Result<&[u8], RecordError> {
    if sealed.len() < CHECKSUM_LEN {
        return Err(RecordError::Short { len: sealed.len() });
    }
    let (sum, payload) = sealed.split_at(CHECKSUM_LEN);
    if sum != checksum(payload) {
        return Err(RecordError::Checksum);
    }
    Ok(payload)
}

pub(crate) fn seal<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    Ok(seal_bytes(&serde_json::to_vec(value)?))
}

pub(crate) fn open<T: DeserializeOwned>(sealed: &[u8]) -> Result<T, RecordError> {
    serde_json::from_slice(open_bytes(sealed)?).map_err(RecordError::Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_reads_back_and_any_flipped_bit_is_caught() {
        let sealed = seal(&("run", 42)).unwrap();
        assert_eq!(open::<(String, u32)>(&sealed).unwrap(), ("run".into(), 42));
        for byte in 0..sealed.len() {
            let mut damaged = sealed.clone();
            damaged[byte] ^= 0x04;
            assert!(open::<(String, u32)>(&damaged).is_err(), "byte {byte}");
        }
        assert!(matches!(
            open_bytes(&[1, 2]),
            Err(RecordError::Short { len: 2 })
        ));
    }
}
