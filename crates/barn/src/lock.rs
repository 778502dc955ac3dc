//! The folder lock: one process (one open Barn) per data folder at a time.
//!
//! An exclusive lock on `barn.lock` (an OS file lock, released when the
//! holder exits, even by kill -9). A second opener polls for it up to
//! `lock_wait_ms_max`, then fails naming the folder and the holder, which
//! writes its process id and start time into the file.
//!
//! While it waits, an opener holds a shared lock on `barn.wait`. A holder
//! that keeps the folder between writes ([`HeldBarn`](crate::HeldBarn))
//! checks that file with [`someone_waits`] and lets go when it is locked,
//! so the waiter waits for a few writes, not for the holder's whole run.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::BarnError;

/// The lock file's name inside the data folder.
pub(crate) const LOCK_FILE: &str = "barn.lock";

/// The file waiting openers hold a shared lock on.
pub(crate) const WAIT_FILE: &str = "barn.wait";

/// How often a waiting opener tries the lock again.
const LOCK_POLL_MS: u64 = 50;

/// Holds the folder until dropped.
#[derive(Debug)]
pub(crate) struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Takes the lock on `dir`, waiting up to `wait_ms_max` for another
    /// holder to let go. Blocks the calling thread.
    pub(crate) fn acquire(dir: &Path, wait_ms_max: u64) -> Result<Self, BarnError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| io_error("open the lock file", &path, source))?;
        let started = Instant::now();
        let wait_max = Duration::from_millis(wait_ms_max);
        // Held (shared) from the first refusal until the lock is ours.
        let mut waiting: Option<File> = None;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    if waiting.is_none() {
                        waiting = announce_waiting(dir);
                    }
                    let waited = started.elapsed();
                    if waited >= wait_max {
                        return Err(BarnError::Locked {
                            dir: dir.to_owned(),
                            holder: describe_holder(&mut file),
                            waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                        });
                    }
                    let pause = Duration::from_millis(LOCK_POLL_MS).min(wait_max - waited);
                    thread::sleep(pause);
                }
                Err(TryLockError::Error(source)) => {
                    return Err(io_error("lock", &path, source));
                }
            }
        }
        write_holder(&mut file).map_err(|source| io_error("write", &path, source))?;
        Ok(Self { _file: file })
    }
}

/// Takes a shared lock on the wait file; `None` if it cannot (the holder
/// then just does not hand off early, which only makes this opener wait
/// longer).
fn announce_waiting(dir: &Path) -> Option<File> {
    let file = open_wait_file(dir).ok()?;
    file.lock_shared().ok()?;
    Some(file)
}

/// Whether another process waits for the folder `dir`.
pub(crate) fn someone_waits(dir: &Path) -> bool {
    let Ok(file) = open_wait_file(dir) else {
        return false;
    };
    // Free for an exclusive lock means that no opener holds it shared.
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}

fn open_wait_file(dir: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(WAIT_FILE))
}

fn write_holder(file: &mut File) -> std::io::Result<()> {
    let since_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "pid={} since_unix_ms={since_ms}", std::process::id())?;
    file.flush()
}

/// What the holder wrote about itself, for the error message.
fn describe_holder(file: &mut File) -> String {
    let mut text = String::new();
    let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
    let Some(pid) = read
        .ok()
        .and_then(|_| text.split_whitespace().next())
        .and_then(|field| field.strip_prefix("pid="))
    else {
        return "another process".into();
    };
    if pid == std::process::id().to_string() {
        format!("this process (pid {pid}), which has it open already")
    } else {
        format!("another process (pid {pid})")
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> BarnError {
    BarnError::Io {
        action,
        path: PathBuf::from(path),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_fails_naming_the_folder_and_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = FolderLock::acquire(dir.path(), 0).unwrap();
        let second = FolderLock::acquire(dir.path(), 60).unwrap_err();
        let message = second.to_string();
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(
            message.contains(&format!("this process (pid {})", std::process::id())),
            "{message}"
        );
        assert!(message.contains("lock_wait_ms_max"), "{message}");
        drop(first);
        FolderLock::acquire(dir.path(), 0).expect("free again once the holder lets go");
    }

    #[test]
    fn a_waiting_opener_is_seen_by_the_holder_until_it_has_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = FolderLock::acquire(dir.path(), 0).unwrap();
        assert!(!someone_waits(dir.path()));
        let folder = dir.path().to_owned();
        let waiter = thread::spawn(move || FolderLock::acquire(&folder, 10_000));
        let started = Instant::now();
        while !someone_waits(dir.path()) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the waiter never showed"
            );
            thread::sleep(Duration::from_millis(5));
        }
        drop(first);
        let second = waiter.join().unwrap().expect("the waiter gets the lock");
        assert!(
            !someone_waits(dir.path()),
            "it stops waiting once it holds the lock"
        );
        drop(second);
    }
}
