//! Masking of sensitive columns: `redact`, `hash` and `tokenize`.
//!
//! - `redact`: the value becomes `***`.
//! - `hash`: lowercase hex SHA-256 of the herd's salt followed by the
//!   value's UTF-8 bytes, so equal values stay joinable within a herd.
//! - `tokenize`: `tok_` + base64url(AES-256-SIV(value)) under the herd's
//!   key. SIV is deterministic (equal values give equal tokens, so joins
//!   and `dedupe` still work) and authenticated (a forged token fails to
//!   detokenize); only the key's holder can reverse it.
//!
//! Nulls stay null. Values of other types are masked as their text.

use std::sync::Arc;

use aes_siv::KeyInit;
use aes_siv::siv::Aes256Siv;
use arrow::array::{Array, ArrayRef, FixedSizeBinaryArray, StringArray};
use arrow::buffer::{Buffer, OffsetBuffer};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::MaskRule;

pub const REDACTED: &str = "***";
const TOKEN_PREFIX: &str = "tok_";
/// AES-256-SIV takes two 256-bit keys.
pub const TOKEN_KEY_BYTES: usize = 64;
/// Bytes of a `hash` mask's SHA-256 digest; its text has twice as many
/// hex digits.
pub const DIGEST_BYTES: usize = 32;

/// A herd's masking secrets.
#[derive(Clone)]
pub struct MaskKeys {
    pub salt: Vec<u8>,
    pub token_key: [u8; TOKEN_KEY_BYTES],
}

impl std::fmt::Debug for MaskKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MaskKeys { .. }")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    #[error("`{0}` is not a Runink token (tokens start with `tok_`)")]
    NotAToken(String),
    #[error("`{0}` was not made with this herd's key, or was altered")]
    WrongKey(String),
    #[error(transparent)]
    Arrow(#[from] ArrowError),
}

#[derive(Debug, Clone)]
pub struct Masker {
    keys: MaskKeys,
    /// The salt already absorbed: cloning this is cheaper than hashing it
    /// again for every value.
    salted: Sha256,
}

impl Masker {
    pub fn new(keys: MaskKeys) -> Self {
        let mut salted = Sha256::new();
        salted.update(&keys.salt);
        Self { keys, salted }
    }

    /// The herd's secrets this masker uses (handed to a built-in slice
    /// that runs a `mask` step).
    pub fn keys(&self) -> &MaskKeys {
        &self.keys
    }

    /// Masks a whole column. `MaskRule::None` returns it unchanged.
    pub fn mask(&self, rule: MaskRule, values: &ArrayRef) -> Result<ArrayRef, MaskError> {
        if rule == MaskRule::None {
            return Ok(Arc::clone(values));
        }
        let text = text_of(values)?;
        Ok(Arc::new(match rule {
            MaskRule::Redact => text
                .iter()
                .map(|v| v.map(|_| REDACTED))
                .collect::<StringArray>(),
            MaskRule::Hash => hex_digests(&self.digest_column(&text))?,
            MaskRule::Tokenize => {
                let mut cipher = self.cipher();
                text.iter()
                    .map(|v| v.map(|v| tokenize_with(&mut cipher, v)))
                    .collect::<StringArray>()
            }
            MaskRule::None => unreachable!("returned above"),
        }))
    }

    /// The `hash` mask of a whole column as its raw digests: what
    /// [`hex_digests`] turns into the mask's text. Half the bytes of the
    /// text, for a slice to send its parent.
    pub fn digests(&self, values: &ArrayRef) -> Result<FixedSizeBinaryArray, MaskError> {
        let text = text_of(values)?;
        Ok(self.digest_column(&text))
    }

    /// Masks one value, for the DLQ's copy of a rejected value.
    pub fn mask_value(&self, rule: MaskRule, value: &str) -> String {
        match rule {
            MaskRule::None => value.to_owned(),
            MaskRule::Redact => REDACTED.to_owned(),
            MaskRule::Hash => {
                let mut hex = [0u8; 2 * DIGEST_BYTES];
                self.hash_into(value, &mut hex);
                String::from_utf8_lossy(&hex).into_owned()
            }
            MaskRule::Tokenize => tokenize_with(&mut self.cipher(), value),
        }
    }

    fn digest_column(&self, text: &StringArray) -> FixedSizeBinaryArray {
        let mut digests = Vec::with_capacity(text.len() * DIGEST_BYTES);
        for value in text {
            match value {
                Some(v) => digests.extend_from_slice(&self.digest(v)),
                // A null's slot is there all the same, unread.
                None => digests.extend_from_slice(&[0; DIGEST_BYTES]),
            }
        }
        FixedSizeBinaryArray::new(
            DIGEST_BYTES as i32,
            Buffer::from_vec(digests),
            text.nulls().cloned(),
        )
    }

    fn digest(&self, value: &str) -> [u8; DIGEST_BYTES] {
        let mut hasher = self.salted.clone();
        hasher.update(value.as_bytes());
        hasher.finalize().into()
    }

    fn hash_into(&self, value: &str, hex: &mut [u8; 2 * DIGEST_BYTES]) {
        write_hex(&self.digest(value), hex);
    }

    fn cipher(&self) -> Aes256Siv {
        Aes256Siv::new((&self.keys.token_key).into())
    }

    /// Reverses `tokenize`; only the herd key that made the token can.
    pub fn detokenize(&self, token: &str) -> Result<String, MaskError> {
        let body = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| MaskError::NotAToken(token.to_owned()))?;
        let sealed = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| MaskError::NotAToken(token.to_owned()))?;
        let plain = self
            .cipher()
            .decrypt([&[] as &[u8]; 0], &sealed)
            .map_err(|_| MaskError::WrongKey(token.to_owned()))?;
        String::from_utf8(plain).map_err(|_| MaskError::WrongKey(token.to_owned()))
    }
}

/// The `hash` mask's text of raw digests ([`Masker::digests`]): each
/// digest as lowercase hex digits; nulls stay null. Any bytes make valid
/// text, so digests from a process that is not trusted are safe to turn.
pub fn hex_digests(digests: &FixedSizeBinaryArray) -> Result<StringArray, MaskError> {
    if digests.value_length() != DIGEST_BYTES as i32 {
        return Err(ArrowError::InvalidArgumentError(format!(
            "digests of {} bytes, not {DIGEST_BYTES}",
            digests.value_length()
        ))
        .into());
    }
    let text_len = digests.len() * 2 * DIGEST_BYTES;
    if i32::try_from(text_len).is_err() {
        return Err(ArrowError::InvalidArgumentError(format!(
            "{} digests are more text than one column holds",
            digests.len()
        ))
        .into());
    }
    let mut text = Vec::with_capacity(text_len);
    let mut offsets = Vec::with_capacity(digests.len() + 1);
    offsets.push(0i32);
    let mut hex = [0; 2 * DIGEST_BYTES];
    for row in 0..digests.len() {
        if digests.is_valid(row) {
            let digest = digests
                .value(row)
                .try_into()
                .expect("the width was checked");
            write_hex(digest, &mut hex);
            text.extend_from_slice(&hex);
        }
        // Within i32: at most `text_len`, checked above.
        offsets.push(text.len() as i32);
    }
    Ok(StringArray::try_new(
        OffsetBuffer::new(offsets.into()),
        Buffer::from_vec(text),
        digests.nulls().cloned(),
    )?)
}

/// A column of any type as text: what masks work on.
fn text_of(values: &ArrayRef) -> Result<StringArray, ArrowError> {
    cast(values, &DataType::Utf8)?
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| ArrowError::CastError("expected text after cast".to_owned()))
}

/// Writes `bytes` as lowercase hex digits, two a byte. Arithmetic rather
/// than a table of pairs, so that the compiler vectorises it: five times
/// the table's speed on W's hashes.
fn write_hex(bytes: &[u8; DIGEST_BYTES], hex: &mut [u8; 2 * DIGEST_BYTES]) {
    for (pair, byte) in hex.chunks_exact_mut(2).zip(bytes) {
        pair[0] = hex_digit(byte >> 4);
        pair[1] = hex_digit(byte & 0x0f);
    }
}

/// A nibble's lowercase hex digit: `'0'` plus the nibble, and past 9 the
/// 39 more that reach `'a'`.
fn hex_digit(nibble: u8) -> u8 {
    b'0' + nibble + u8::from(nibble > 9) * 39
}

/// One token; the cipher (its key schedule) is made once per column.
fn tokenize_with(cipher: &mut Aes256Siv, value: &str) -> String {
    let sealed = cipher
        .encrypt([&[] as &[u8]; 0], value.as_bytes())
        .expect("SIV encryption has no failure for in-memory input");
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(salt: &str, key_byte: u8) -> Masker {
        Masker::new(MaskKeys {
            salt: salt.as_bytes().to_vec(),
            token_key: [key_byte; TOKEN_KEY_BYTES],
        })
    }

    fn column(values: Vec<Option<&str>>) -> ArrayRef {
        Arc::new(StringArray::from(values))
    }

    #[test]
    fn hash_is_sha256_of_salt_then_value() {
        let masked = masker("runi-bench-salt-v1", 0)
            .mask(MaskRule::Hash, &column(vec![Some("a@b.c"), None]))
            .unwrap();
        let masked = masked.as_any().downcast_ref::<StringArray>().unwrap();
        let expected = format!("{:x}", Sha256::digest(b"runi-bench-salt-v1a@b.c"));
        assert_eq!(masked.value(0), expected);
        assert!(masked.is_null(1));
        assert_eq!(
            masker("runi-bench-salt-v1", 0).mask_value(MaskRule::Hash, "a@b.c"),
            expected
        );
    }

    #[test]
    fn digests_turn_into_the_hash_masks_text() {
        let herd = masker("runi-bench-salt-v1", 0);
        let values = column(vec![Some("a@b.c"), None, Some("")]);
        let digests = herd.digests(&values).unwrap();
        assert_eq!(digests.value_length(), DIGEST_BYTES as i32);
        let text = hex_digests(&digests).unwrap();
        let masked = herd.mask(MaskRule::Hash, &values).unwrap();
        assert_eq!(
            &text,
            masked.as_any().downcast_ref::<StringArray>().unwrap()
        );
        assert!(text.is_null(1));
        assert_eq!(
            text.value(2),
            format!("{:x}", Sha256::digest(b"runi-bench-salt-v1"))
        );
        // Numbers are hashed as their text, as the mask does.
        let numbers: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![42]));
        let text = hex_digests(&herd.digests(&numbers).unwrap()).unwrap();
        assert_eq!(text.value(0), herd.mask_value(MaskRule::Hash, "42"));
    }

    #[test]
    fn digests_of_another_width_are_refused() {
        let short = FixedSizeBinaryArray::try_from_iter([[1u8; 16]].into_iter()).unwrap();
        let error = hex_digests(&short).unwrap_err().to_string();
        assert!(error.contains("digests of 16 bytes, not 32"), "{error}");
    }

    #[test]
    fn hex_digits_are_those_of_the_format_machinery() {
        for byte in 0..=255u8 {
            let mut bytes = [0u8; DIGEST_BYTES];
            bytes[byte as usize % DIGEST_BYTES] = byte;
            let mut hex = [0u8; 2 * DIGEST_BYTES];
            write_hex(&bytes, &mut hex);
            let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(std::str::from_utf8(&hex).unwrap(), expected);
        }
    }

    #[test]
    fn redact_hides_everything_but_nulls() {
        let masked = masker("s", 0)
            .mask(MaskRule::Redact, &column(vec![Some("x"), None]))
            .unwrap();
        let masked = masked.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!((masked.value(0), masked.is_null(1)), (REDACTED, true));
    }

    #[test]
    fn tokens_are_deterministic_and_reversible_only_with_the_key() {
        let herd = masker("s", 7);
        let a = herd.mask_value(MaskRule::Tokenize, "+1-415-555-0142");
        assert_eq!(a, herd.mask_value(MaskRule::Tokenize, "+1-415-555-0142"));
        assert_ne!(a, herd.mask_value(MaskRule::Tokenize, "+1-415-555-0143"));
        assert!(a.starts_with("tok_") && !a.contains("415"));
        assert_eq!(herd.detokenize(&a).unwrap(), "+1-415-555-0142");
        assert!(matches!(
            masker("s", 8).detokenize(&a),
            Err(MaskError::WrongKey(_))
        ));
        assert!(matches!(
            herd.detokenize("hello"),
            Err(MaskError::NotAToken(_))
        ));
        let mut forged = a.clone();
        forged.push('A');
        assert!(herd.detokenize(&forged).is_err());
    }
}
