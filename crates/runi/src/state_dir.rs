//! The local state folder: masking secrets per herd and the record of
//! runs, until herds and runs move into the Barn.
//!
//! Where: `$RUNINK_HOME` if set, else `$XDG_STATE_HOME/runink`, else
//! `~/.local/state/runink`. Secrets files are created with mode 0600.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use runink_contract::{MaskKeys, TOKEN_KEY_BYTES};

const SALT_BYTES: usize = 16;

pub fn state_dir() -> anyhow::Result<PathBuf> {
    let dir = chosen_state_dir()?;
    if dir.exists() && !dir.is_dir() {
        bail!(
            "the state folder `{}` is a file; point `RUNINK_HOME` at a folder (or remove the file)",
            dir.display()
        );
    }
    Ok(dir)
}

fn chosen_state_dir() -> anyhow::Result<PathBuf> {
    if let Some(home) = std::env::var_os("RUNINK_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(state).join("runink"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/state/runink")),
        None => {
            bail!("no state folder: set `RUNINK_HOME` (or `HOME`) to a folder Runink may write")
        }
    }
}

/// The herd's masking secrets, created on first use. `salt_override`
/// replaces the stored salt (for reproducible output).
pub fn mask_keys(
    state: &Path,
    herd: &str,
    salt_override: Option<&str>,
) -> anyhow::Result<MaskKeys> {
    // Only a herd's own folder: a name, never a path (`../other`).
    runink_model::HerdName::new(herd)
        .map_err(|e| anyhow::anyhow!("`{herd}` is not a herd name: {e}"))?;
    let folder = state.join("herds").join(herd);
    let path = folder.join("mask-keys.json");
    let stored = if path.exists() {
        read_keys(&path)?
    } else {
        create_keys(&folder, &path)?
    };
    Ok(match salt_override {
        Some(salt) => MaskKeys {
            salt: salt.as_bytes().to_vec(),
            ..stored
        },
        None => stored,
    })
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredKeys {
    /// Used as text: the salt is these characters' UTF-8 bytes.
    salt: String,
    token_key_hex: String,
}

fn read_keys(path: &Path) -> anyhow::Result<MaskKeys> {
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "`{}` is readable by others (mode {mode:o}); run `chmod 600` on it",
            path.display()
        );
    }
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let stored: StoredKeys = serde_json::from_str(&text).with_context(|| format!("`{}` is not a masking-keys file; move it away and a new one is made (tokens made with the old key can then no longer be reversed)", path.display()))?;
    let key = hex::decode(&stored.token_key_hex)
        .ok()
        .and_then(|k| <[u8; TOKEN_KEY_BYTES]>::try_from(k).ok());
    let Some(token_key) = key else {
        bail!(
            "`{}`: `token_key_hex` must be {} hex digits",
            path.display(),
            TOKEN_KEY_BYTES * 2
        );
    };
    Ok(MaskKeys {
        salt: stored.salt.into_bytes(),
        token_key,
    })
}

fn write_draft(draft: &Path, stored: &StoredKeys) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(draft)?;
    file.write_all(serde_json::to_string_pretty(stored)?.as_bytes())?;
    file.sync_all()
}

fn create_keys(folder: &Path, path: &Path) -> anyhow::Result<MaskKeys> {
    fs::create_dir_all(folder).with_context(|| format!("cannot create `{}`", folder.display()))?;
    fs::set_permissions(folder, fs::Permissions::from_mode(0o700))?;
    let mut salt = [0u8; SALT_BYTES];
    let mut token_key = [0u8; TOKEN_KEY_BYTES];
    getrandom::fill(&mut salt)
        .and_then(|()| getrandom::fill(&mut token_key))
        .map_err(|e| anyhow::anyhow!("no randomness for new masking keys: {e}"))?;
    let stored = StoredKeys {
        salt: hex::encode(salt),
        token_key_hex: hex::encode(token_key),
    };
    // Written whole under a name of its own, then published with a hard
    // link, which fails if the name exists: when two first runs of a herd
    // race, one link wins and the other run reads the winner's keys, never
    // a half-written file.
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let draft = folder.join(format!(
        ".mask-keys.json.{}-{}.tmp",
        std::process::id(),
        hex::encode(nonce)
    ));
    let published = write_draft(&draft, &stored).and_then(|()| {
        fs::hard_link(&draft, path).map(|()| true).or_else(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Ok(false)
            } else {
                Err(e)
            }
        })
    });
    let _ = fs::remove_file(&draft);
    let won = published.with_context(|| format!("cannot create `{}`", path.display()))?;
    if !won {
        return read_keys(path);
    }
    fs::File::open(folder)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("cannot sync `{}`", folder.display()))?;
    Ok(MaskKeys {
        salt: stored.salt.into_bytes(),
        token_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn racing_first_uses_of_a_herd_all_get_the_same_keys() {
        let state = tempfile::tempdir().expect("a folder");
        let racers = 8;
        let barrier = std::sync::Barrier::new(racers);
        let keys: Vec<MaskKeys> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..racers)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        mask_keys(state.path(), "finance", None)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic").expect("keys for every racer"))
                .collect()
        });
        for pair in keys.windows(2) {
            assert_eq!(pair[0].salt, pair[1].salt);
            assert_eq!(pair[0].token_key, pair[1].token_key);
        }
        let folder = state.path().join("herds").join("finance");
        assert_eq!(
            runink_testkit::file_names_in(&folder),
            vec!["mask-keys.json".to_owned()]
        );
        let mode = fs::metadata(folder.join("mask-keys.json"))
            .expect("the keys file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
