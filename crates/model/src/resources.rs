//! Resource requests from `@requires(cpu=, memory=, gpu=, pids=)`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {what}; expected {expected}")]
pub struct ParseQuantityError {
    pub text: String,
    pub what: &'static str,
    pub expected: &'static str,
}

/// What a step group asks of the machine. `None` means "herd default".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Resources {
    /// CPU in thousandths of a core (`"2"` is 2000, `"500m"` is 500).
    pub cpu_millis: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub gpus: Option<u32>,
    /// Most processes and threads the step group may hold at once.
    pub pids_max: Option<u32>,
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Fills every unset field from `defaults`.
    pub fn or(&self, defaults: &Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis.or(defaults.cpu_millis),
            memory_bytes: self.memory_bytes.or(defaults.memory_bytes),
            gpus: self.gpus.or(defaults.gpus),
            pids_max: self.pids_max.or(defaults.pids_max),
        }
    }
}

/// Parses `"2"`, `"0.5"` or `"500m"` into thousandths of a core.
pub fn parse_cpu_millis(text: &str) -> Result<u64, ParseQuantityError> {
    let error = || ParseQuantityError {
        text: text.to_owned(),
        what: "cpu amount",
        expected: "cores such as `2` or `0.5`, or millicores such as `500m`",
    };
    let millis = if let Some(digits) = text.strip_suffix('m') {
        parse_whole(digits).ok_or_else(error)?
    } else {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if fraction.len() > 3 || (!fraction.is_empty() && !is_digits(fraction)) {
            return Err(error());
        }
        let whole = parse_whole(whole).ok_or_else(error)?;
        let fraction_millis = format!("{fraction:0<3}")
            .parse::<u64>()
            .map_err(|_| error())?;
        whole
            .checked_mul(1000)
            .and_then(|m| m.checked_add(fraction_millis))
            .ok_or_else(error)?
    };
    if millis == 0 {
        return Err(error());
    }
    Ok(millis)
}

const MEMORY_SUFFIXES: [(&str, u64); 8] = [
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("K", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
];

/// The smallest memory limit a slice starts under (below it a program
/// cannot even be loaded); `runink_slice::Limits::MEMORY_BYTES_MIN` is the
/// same, which a test in the engine checks.
pub const SLICE_MEMORY_BYTES_MIN: u64 = 4 << 20;

/// The most pids a slice may be given: the kernel's own ceiling on pids
/// (`PID_MAX_LIMIT`); a cgroup refuses more.
pub const SLICE_PIDS_MAX: u32 = 4 << 20;

/// A slice's pids limit: a whole number from 1 to [`SLICE_PIDS_MAX`].
pub fn parse_pids_limit(text: &str) -> Result<u32, ParseQuantityError> {
    parse_count(text, "pids limit")
        .ok()
        .filter(|n| *n <= SLICE_PIDS_MAX)
        .ok_or_else(|| ParseQuantityError {
            text: text.to_owned(),
            what: "pids limit",
            expected: "a whole number from 1 to 4194304",
        })
}

/// Parses Kubernetes-style quantities: `512Mi`, `2Gi`, `1G`, or plain bytes.
pub fn parse_memory_bytes(text: &str) -> Result<u64, ParseQuantityError> {
    let error = || ParseQuantityError {
        text: text.to_owned(),
        what: "memory amount",
        expected: "bytes with an optional unit: `512Mi`, `2Gi`, `1G` or `1048576`",
    };
    let (digits, scale) = MEMORY_SUFFIXES
        .iter()
        .find_map(|(suffix, scale)| text.strip_suffix(suffix).map(|d| (d, *scale)))
        .unwrap_or((text, 1));
    let bytes = parse_whole(digits)
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(error)?;
    if bytes == 0 {
        return Err(error());
    }
    Ok(bytes)
}

/// Parses a positive count such as a GPU or pids limit.
pub fn parse_count(text: &str, what: &'static str) -> Result<u32, ParseQuantityError> {
    parse_whole(text)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| ParseQuantityError {
            text: text.to_owned(),
            what,
            expected: "a whole number greater than 0",
        })
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn parse_whole(text: &str) -> Option<u64> {
    if is_digits(text) {
        text.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_forms() {
        assert_eq!(parse_cpu_millis("2").unwrap(), 2000);
        assert_eq!(parse_cpu_millis("0.5").unwrap(), 500);
        assert_eq!(parse_cpu_millis("1.25").unwrap(), 1250);
        assert_eq!(parse_cpu_millis("250m").unwrap(), 250);
        for bad in ["", "0", "-1", "1.2345", "two", "m", "1.x"] {
            assert!(parse_cpu_millis(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn memory_forms() {
        assert_eq!(parse_memory_bytes("512Mi").unwrap(), 512 << 20);
        assert_eq!(parse_memory_bytes("1G").unwrap(), 1_000_000_000);
        assert_eq!(parse_memory_bytes("4096").unwrap(), 4096);
        for bad in ["", "0", "Mi", "1.5Gi", "12XB"] {
            assert!(parse_memory_bytes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("3", "gpu count").unwrap(), 3);
        assert!(parse_count("0", "gpu count").is_err());
    }
}
