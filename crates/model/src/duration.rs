//! Durations as users write them in scenarios: `30s`, `5m`, `2h`, `1d`.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a duration; expected a whole number and a unit, like `30s`, `5m`, `2h` or `1d`"
)]
pub struct ParseDurationError {
    pub text: String,
}

/// A duration in whole seconds, written and displayed in its largest exact unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DurationSpec {
    pub seconds: u64,
}

const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

impl DurationSpec {
    pub fn parse(text: &str) -> Result<Self, ParseDurationError> {
        let error = || ParseDurationError {
            text: text.to_owned(),
        };
        let unit = text.chars().last().ok_or_else(error)?;
        let scale = UNITS
            .iter()
            .find(|(symbol, _)| *symbol == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(error)?;
        let digits = &text[..text.len() - unit.len_utf8()];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        let count: u64 = digits.parse().map_err(|_| error())?;
        let seconds = count.checked_mul(scale).ok_or_else(error)?;
        if seconds == 0 {
            return Err(error());
        }
        Ok(Self { seconds })
    }
}

impl fmt::Display for DurationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (symbol, scale) = UNITS
            .iter()
            .find(|(_, scale)| self.seconds.is_multiple_of(*scale))
            .copied()
            .unwrap_or(('s', 1));
        write!(f, "{}{symbol}", self.seconds / scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_in_largest_unit() {
        assert_eq!(DurationSpec::parse("5m").unwrap().seconds, 300);
        assert_eq!(DurationSpec::parse("90s").unwrap().to_string(), "90s");
        assert_eq!(DurationSpec::parse("120m").unwrap().to_string(), "2h");
        assert_eq!(DurationSpec::parse("1d").unwrap().seconds, 86_400);
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "",
            "m",
            "5",
            "5x",
            "-5m",
            "0s",
            "5 m",
            "99999999999999999999d",
        ] {
            assert!(DurationSpec::parse(bad).is_err(), "{bad:?} should fail");
        }
    }
}
