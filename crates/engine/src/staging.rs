//! Atomic output: every file is written beside its target under a
//! temporary name and renamed over the target only when the whole run has
//! succeeded. A failed or killed run leaves the previous outputs as they
//! were; its temporary files are removed by the next run that writes to
//! the same folder.
//!
//! A run holds an OS lock on each of its temporary files until it commits
//! or aborts; the lock dies with the process, kill -9 included. So "stale"
//! means "not locked": a run never removes the files of another run that
//! is still writing to the same folder.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Temporary files are named `.<target name>.runink-tmp-<run id>`.
const TEMP_MARKER: &str = ".runink-tmp-";

#[derive(Debug)]
pub struct StagedFile {
    target: PathBuf,
    temp: PathBuf,
    /// Holds the temporary file's lock until commit or abort.
    _lock: File,
}

impl StagedFile {
    /// Creates the temporary file (and the target's folder if needed).
    pub fn create(target: &Path, run_id: &str) -> io::Result<(Self, File)> {
        let folder = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(folder)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        remove_stale(folder, &name)?;
        let temp = folder.join(format!(".{name}{TEMP_MARKER}{run_id}"));
        let file = File::create(&temp)?;
        let lock = File::open(&temp)?;
        lock.lock()?;
        Ok((
            Self {
                target: target.to_path_buf(),
                temp,
                _lock: lock,
            },
            file,
        ))
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Makes the output visible under its name, after syncing it to disk.
    pub fn commit(self) -> io::Result<()> {
        File::open(&self.temp)?.sync_all()?;
        fs::rename(&self.temp, &self.target)?;
        if let Some(folder) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            // The rename itself is durable only once the folder is synced.
            File::open(folder)?.sync_all()?;
        }
        Ok(())
    }

    pub fn abort(self) {
        // Nothing to keep; a file that cannot be removed now is removed
        // as stale by the next run.
        let _ = fs::remove_file(&self.temp);
    }
}

/// Removes temporary files of earlier runs (killed ones included) for
/// the target `name` in `folder`; those of runs still writing are locked
/// and kept.
fn remove_stale(folder: &Path, name: &str) -> io::Result<()> {
    let prefix = format!(".{name}{TEMP_MARKER}");
    let Ok(entries) = fs::read_dir(folder) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let Ok(candidate) = OpenOptions::new().read(true).open(entry.path()) else {
            continue; // Gone already: its run committed or aborted.
        };
        match candidate.try_lock() {
            Ok(()) => fs::remove_file(entry.path())?,
            Err(TryLockError::WouldBlock) => {} // A live run's file.
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn commit_replaces_abort_keeps_and_stale_files_go() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jsonl");
        fs::write(&target, "old").unwrap();
        let (staged, mut file) = StagedFile::create(&target, "r1").unwrap();
        file.write_all(b"new").unwrap();
        staged.abort();
        assert_eq!(fs::read_to_string(&target).unwrap(), "old");

        // A killed run leaves its temporary file behind; the next run removes it.
        fs::write(dir.path().join(".out.jsonl.runink-tmp-dead"), "half").unwrap();
        let (staged, mut file) = StagedFile::create(&target, "r2").unwrap();
        assert!(!dir.path().join(".out.jsonl.runink-tmp-dead").exists());
        file.write_all(b"new").unwrap();
        staged.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_live_runs_temporary_file_is_not_stale() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jsonl");
        let (first, mut first_file) = StagedFile::create(&target, "first").unwrap();
        // A second run to the same target starts while the first writes.
        let (second, mut second_file) = StagedFile::create(&target, "second").unwrap();
        assert!(dir.path().join(".out.jsonl.runink-tmp-first").exists());
        first_file.write_all(b"first").unwrap();
        second_file.write_all(b"second").unwrap();
        first.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "first");
        second.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
