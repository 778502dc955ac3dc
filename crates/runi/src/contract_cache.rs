//! The state folder's list of contract texts known to pass their ODCS JSON
//! Schema (`runink_contract::known_valid`): read before a command, written
//! back after it with what it found, so that running the same scenario
//! again skips building the schema's validator (about 11 ms of a 10-row
//! `runi run`'s 55).
//!
//! It is a cache: a file that cannot be read or written only costs the
//! check. It keeps at most [`KNOWN_VALID_KEYS_MAX`] keys, the newest.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::write_atomically::write_atomically;

/// Keys kept in the file (64 hex characters each, about 64 KiB at most).
pub const KNOWN_VALID_KEYS_MAX: usize = 1_000;

const FILE_NAME: &str = "contracts-valid.txt";

/// Takes the keys in `state`'s file as valid for this process; returns
/// them, for [`save`].
pub fn load(state: &Path) -> Vec<String> {
    let keys: Vec<String> = fs::read_to_string(file(state))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| line.len() == 64 && line.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect();
    runink_contract::assume_valid(keys.iter().cloned());
    keys
}

/// Writes back `loaded` with the keys this process found, when it found
/// new ones: the newest [`KNOWN_VALID_KEYS_MAX`], through a temporary file
/// renamed over the old one.
pub fn save(state: &Path, loaded: &[String]) {
    let known: BTreeSet<&String> = loaded.iter().collect();
    let found: Vec<String> = runink_contract::found_valid()
        .into_iter()
        .filter(|key| !known.contains(key))
        .collect();
    if found.is_empty() {
        return;
    }
    let mut keys: Vec<&String> = loaded.iter().chain(found.iter()).collect();
    let excess = keys.len().saturating_sub(KNOWN_VALID_KEYS_MAX);
    keys.drain(..excess);
    let mut text = String::with_capacity(keys.len() * 65);
    for key in keys {
        text.push_str(key);
        text.push('\n');
    }
    let written = fs::create_dir_all(state)
        .map_err(anyhow::Error::from)
        .and_then(|()| write_atomically(&file(state), &text));
    if let Err(error) = written {
        tracing::debug!(%error, "cannot remember the contracts found valid");
    }
}

fn file(state: &Path) -> PathBuf {
    state.join(FILE_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_back_and_written_back_with_the_newest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let key = |i: usize| format!("{i:064x}");
        let mut text: String = (0..KNOWN_VALID_KEYS_MAX + 5)
            .map(|i| format!("{}\n", key(i)))
            .collect();
        text.push_str("not a key\n");
        fs::write(file(dir.path()), text).unwrap();
        let loaded = load(dir.path());
        assert_eq!(loaded.len(), KNOWN_VALID_KEYS_MAX + 5);
        // Nothing new found: the file stays as it is.
        save(dir.path(), &loaded);
        assert!(
            fs::read_to_string(file(dir.path()))
                .unwrap()
                .contains("not a key")
        );

        // A contract checked here is new: the file is rewritten with the
        // newest keys, the oldest dropped.
        let contract = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../examples/orders/contracts/orders.yaml"),
        )
        .unwrap();
        runink_contract::Contract::from_yaml(&contract).unwrap();
        let new = runink_contract::found_valid();
        assert_eq!(new.len(), 1);
        save(dir.path(), &loaded);
        let kept: Vec<String> = fs::read_to_string(file(dir.path()))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(kept.len(), KNOWN_VALID_KEYS_MAX);
        assert_eq!(kept.last(), new.last());
        assert!(!kept.contains(&key(0)) && kept.contains(&key(6)));
    }
}
