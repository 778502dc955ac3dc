//! Validated names that cross crate boundaries.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a herd name cannot be empty")]
    Empty,
    #[error("a herd name has at most {max} characters, `{name}` has {len}")]
    TooLong {
        name: String,
        len: usize,
        max: usize,
    },
    #[error(
        "a herd name uses lowercase letters, digits, `-` and `_` and starts with a letter; `{name}` does not"
    )]
    BadCharacters { name: String },
}

/// The tenant a scenario runs in. Lowercase ASCII so that it can name a
/// folder, a cgroup and a lineage namespace without escaping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HerdName(String);

impl HerdName {
    /// The herd of a scenario that names none.
    pub const DEFAULT: &'static str = "default";
    /// Longest accepted name: fits a DNS label and a cgroup folder name.
    pub const LEN_MAX: usize = 63;

    pub fn new(name: &str) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        let len = name.chars().count();
        if len > Self::LEN_MAX {
            return Err(NameError::TooLong {
                name: name.to_owned(),
                len,
                max: Self::LEN_MAX,
            });
        }
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok =
            chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !(first_ok && rest_ok) {
            return Err(NameError::BadCharacters {
                name: name.to_owned(),
            });
        }
        Ok(Self(name.to_owned()))
    }

    pub fn default_herd() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HerdName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<HerdName> for String {
    fn from(value: HerdName) -> Self {
        value.0
    }
}

impl fmt::Display for HerdName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        assert_eq!(HerdName::new("finance").unwrap().as_str(), "finance");
        assert!(HerdName::new("team-a_2").is_ok());
    }

    #[test]
    fn refuses_bad_names() {
        assert_eq!(HerdName::new(""), Err(NameError::Empty));
        assert!(matches!(
            HerdName::new("Finance"),
            Err(NameError::BadCharacters { .. })
        ));
        assert!(matches!(
            HerdName::new("9lives"),
            Err(NameError::BadCharacters { .. })
        ));
        assert!(matches!(
            HerdName::new(&"a".repeat(64)),
            Err(NameError::TooLong { len: 64, .. })
        ));
    }
}
