//! Atomic output: every file is written beside its target under a
//! temporary name and renamed over the target only when the whole run has
//! succeeded. A failed or killed run leaves the previous outputs as they
//! were; its temporary files are removed by the next run that writes to
//! the same folder.
//!
//! A run commits all its files at once ([`commit_all`]): every file is
//! synced to disk (in parallel: each sync waits on the disk, not the CPU)
//! before any is renamed, then each folder is synced once. A target that
//! cannot take a file (a folder in the way) is refused when the run starts
//! ([`check_target`]); if a rename still fails, the files renamed before it
//! are put back as they were (each previous file is kept under a hard link
//! until the commit ends), so a run commits all its outputs or none.
//!
//! A run holds an OS lock on each of its temporary files until it commits
//! or aborts; the lock dies with the process, kill -9 included. So "stale"
//! means "not locked": a run never removes the files of another run that
//! is still writing to the same folder.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::thread;

use runink_plan::{Endpoint, Location};

use crate::EngineError;
use crate::write_behind::WriteBehindFile;

/// Temporary files are named `.<target name>.runink-tmp-<run id>-<pid>`.
const TEMP_MARKER: &str = ".runink-tmp-";

/// The temporary files of this process not yet committed or aborted: what
/// an interrupted run removes ([`remove_live_files`]).
static LIVE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Held while a commit renames files: an interruption waits for it, so a
/// run is never left half committed.
static COMMITTING: Mutex<()> = Mutex::new(());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes this process's temporary files, after any commit under way
/// has finished; for a run interrupted by a signal, which then ends the
/// process. The earlier outputs stay as they were.
pub fn remove_live_files() {
    let _commit = COMMITTING.lock().unwrap_or_else(PoisonError::into_inner);
    for temp in std::mem::take(&mut *live()) {
        let _ = fs::remove_file(temp);
    }
}

/// The most files or folders synced at the same time when a run commits.
const SYNCS_AT_ONCE_MAX: usize = 16;

/// A commit that failed: the file or folder it failed on, and why.
#[derive(Debug)]
pub struct CommitError {
    pub path: PathBuf,
    pub source: io::Error,
}

#[derive(Debug)]
pub struct StagedFile {
    target: PathBuf,
    temp: PathBuf,
    /// Holds the temporary file's lock until commit or abort.
    _lock: File,
    /// The folders made for the target, deepest first: an abort removes
    /// those left empty, so a failed run leaves no trace.
    made_folders: Vec<PathBuf>,
}

/// Refuses a target that a file cannot be renamed onto: a folder, or a
/// path whose folder is a file. Checked when a run starts (`--dry-run`
/// included), so it fails before it reads a row.
pub fn check_target(target: &Path) -> io::Result<()> {
    if let Ok(meta) = fs::symlink_metadata(target) {
        let kind = meta.file_type();
        let refused = if kind.is_dir() {
            Some((
                io::ErrorKind::IsADirectory,
                "a folder has the output's name; remove it or write to another file",
            ))
        } else if kind.is_symlink() {
            // The rename would replace the link, not the file it names.
            Some((
                io::ErrorKind::InvalidInput,
                "it is a symbolic link; an output replaces its file as a whole, which would replace the link: name the file itself",
            ))
        } else if !kind.is_file() {
            Some((
                io::ErrorKind::InvalidInput,
                "it is a device, FIFO or socket, not a file; sinks write files (`stdout://` prints)",
            ))
        } else {
            None
        };
        if let Some((error_kind, message)) = refused {
            return Err(io::Error::new(error_kind, message));
        }
    }
    let mut folder = Some(folder_of(target));
    while let Some(path) = folder {
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("`{}` is a file, not a folder", path.display()),
                ));
            }
            Err(_) => folder = path.parent().filter(|p| !p.as_os_str().is_empty()),
        }
    }
    Ok(())
}

/// The file `target` names once symbolic links in its folders are
/// followed: two outputs with one real file would stage under one
/// temporary name and wait for each other's lock.
pub fn real_target(target: &Path) -> PathBuf {
    let mut existing = target;
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        let here = if existing.as_os_str().is_empty() {
            Path::new(".")
        } else {
            existing
        };
        if let Ok(real) = fs::canonicalize(here) {
            return rest.iter().rev().fold(real, |path, part| path.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return target.to_path_buf(),
        }
    }
}

/// [`check_target`] for an output, when it is a file: what a dry run
/// checks of the outputs it does not write.
pub fn check_output(endpoint: &Endpoint, base_dir: &Path) -> Result<(), EngineError> {
    match &endpoint.location {
        Location::File { path } => {
            check_target(&base_dir.join(path)).map_err(|e| EngineError::write(&endpoint.uri, e))
        }
        Location::Stdin | Location::Stdout => Ok(()),
    }
}

impl StagedFile {
    /// Creates the temporary file (and the target's folder if needed).
    pub fn create(target: &Path, run_id: &str) -> io::Result<(Self, WriteBehindFile)> {
        check_target(target)?;
        let folder = folder_of(target);
        let made_folders: Vec<PathBuf> = folder
            .ancestors()
            .take_while(|f| !f.as_os_str().is_empty() && !f.exists())
            .map(Path::to_path_buf)
            .collect();
        fs::create_dir_all(folder)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = temp_stem(&name);
        remove_stale(folder, &stem)?;
        // The process id too: two runs from two state folders may have the
        // same run id, and one must never write into the other's file.
        let temp = folder.join(format!(
            ".{stem}{TEMP_MARKER}{run_id}-{}",
            std::process::id()
        ));
        let (file, lock) = create_locked(&temp)?;
        live().insert(temp.clone());
        Ok((
            Self {
                target: target.to_path_buf(),
                temp,
                _lock: lock,
                made_folders,
            },
            WriteBehindFile::new(file),
        ))
    }

    /// Gives the new file the mode of the file it replaces (and, run as
    /// root, its owner): an output someone made `0600` stays private. Best
    /// effort: a new file keeps the process's defaults.
    fn take_on_earlier_access(&self) {
        use std::os::unix::fs::MetadataExt;
        let Ok(earlier) = fs::metadata(&self.target) else {
            return;
        };
        if !earlier.is_file() {
            return;
        }
        if let Err(e) = fs::set_permissions(&self.temp, earlier.permissions()) {
            tracing::warn!(error = %e, file = %self.target.display(), "the output keeps default permissions");
        }
        // Only root may give a file away; anyone else owns what they write.
        let running_as_root = fs::metadata("/proc/self").is_ok_and(|me| me.uid() == 0);
        if running_as_root
            && let Err(e) =
                std::os::unix::fs::chown(&self.temp, Some(earlier.uid()), Some(earlier.gid()))
        {
            tracing::warn!(error = %e, file = %self.target.display(), "the output keeps root as its owner");
        }
    }

    /// The folder the target is in (`.` for a bare file name).
    fn folder(&self) -> &Path {
        folder_of(&self.target)
    }

    /// Makes the output visible under its name, after syncing it to disk.
    pub fn commit(self) -> Result<(), CommitError> {
        commit_all(vec![self])
    }

    pub fn abort(self) {
        // Nothing to keep; a file that cannot be removed now is removed
        // as stale by the next run.
        let _ = fs::remove_file(&self.temp);
        live().remove(&self.temp);
        for folder in &self.made_folders {
            // Fails, and stops, at a folder something else now uses.
            if fs::remove_dir(folder).is_err() {
                break;
            }
        }
    }
}

/// Aborts every file, then removes the folders made for any of them that
/// are empty now (one file's abort cannot remove a folder another file's
/// temporary file was still in).
pub fn abort_all(files: Vec<StagedFile>) {
    let mut made: Vec<PathBuf> = files.iter().flat_map(|f| f.made_folders.clone()).collect();
    files.into_iter().for_each(StagedFile::abort);
    // Deepest first, so a parent is empty when its turn comes.
    made.sort_by_key(|f| std::cmp::Reverse(f.components().count()));
    made.dedup();
    for folder in made {
        let _ = fs::remove_dir(folder);
    }
}

/// Makes every file visible under its name, durably. No file is renamed
/// until all of them are on disk; a file that cannot be synced aborts them
/// all. Each folder is synced once after the renames, which makes them
/// durable.
pub fn commit_all(files: Vec<StagedFile>) -> Result<(), CommitError> {
    let _commit = COMMITTING.lock().unwrap_or_else(PoisonError::into_inner);
    for file in &files {
        file.take_on_earlier_access();
    }
    let temps: Vec<&Path> = files.iter().map(|f| f.temp.as_path()).collect();
    if let Err((index, source)) = sync_at_once(&temps) {
        let path = files[index].target.clone();
        abort_all(files);
        return Err(CommitError { path, source });
    }
    let folders: BTreeSet<PathBuf> = files.iter().map(|f| f.folder().to_owned()).collect();
    let before: Vec<Before> = files.iter().map(Before::keep).collect();
    for (index, file) in files.iter().enumerate() {
        if let Err(source) = fs::rename(&file.temp, &file.target) {
            let path = file.target.clone();
            for (done, before) in files[..index].iter().zip(&before) {
                before.put_back(done);
            }
            before.into_iter().for_each(Before::forget);
            abort_all(files);
            return Err(CommitError { path, source });
        }
    }
    before.into_iter().for_each(Before::forget);
    {
        let mut live = live();
        for file in &files {
            live.remove(&file.temp);
        }
    }
    let folders: Vec<&Path> = folders.iter().map(PathBuf::as_path).collect();
    sync_at_once(&folders).map_err(|(index, source)| CommitError {
        path: folders[index].to_owned(),
        source,
    })
}

/// What a target was before the commit renamed a file onto it.
enum Before {
    /// No file: undoing the rename removes the target.
    Absent,
    /// A file, kept under a hard link (named and locked as a temporary
    /// file, so a crash leaves it for the next run to remove).
    Kept { link: PathBuf, _lock: File },
    /// A file the file system would not link: the rename cannot be undone.
    Unkept,
}

impl Before {
    fn keep(file: &StagedFile) -> Self {
        if fs::symlink_metadata(&file.target).is_err() {
            return Self::Absent;
        }
        let mut link = file.temp.clone().into_os_string();
        link.push("-previous");
        let link = PathBuf::from(link);
        let _ = fs::remove_file(&link);
        if fs::hard_link(&file.target, &link).is_err() {
            return Self::Unkept;
        }
        match File::open(&link).and_then(|lock| lock.lock().map(|()| lock)) {
            Ok(lock) => Self::Kept { link, _lock: lock },
            Err(_) => {
                let _ = fs::remove_file(&link);
                Self::Unkept
            }
        }
    }

    /// Undoes the rename of `file` onto its target.
    fn put_back(&self, file: &StagedFile) {
        let _ = match self {
            Self::Absent => fs::remove_file(&file.target),
            Self::Kept { link, .. } => fs::rename(link, &file.target),
            Self::Unkept => Ok(()),
        };
    }

    fn forget(self) {
        if let Self::Kept { link, .. } = self {
            // Left behind, it is removed as stale by the next run.
            let _ = fs::remove_file(&link);
        }
    }
}

/// Syncs every path (file or folder), up to `SYNCS_AT_ONCE_MAX` at a
/// time; on failure, the index of the first path that failed.
fn sync_at_once(paths: &[&Path]) -> Result<(), (usize, io::Error)> {
    let sync = |path: &Path| File::open(path)?.sync_all();
    for (chunk_index, chunk) in paths.chunks(SYNCS_AT_ONCE_MAX).enumerate() {
        let results: Vec<io::Result<()>> = match chunk {
            [only] => vec![sync(only)],
            _ => thread::scope(|scope| {
                let syncs: Vec<_> = chunk
                    .iter()
                    .map(|path| scope.spawn(move || sync(path)))
                    .collect();
                syncs
                    .into_iter()
                    .map(|s| {
                        s.join()
                            .unwrap_or_else(|_| Err(io::Error::other("a sync thread panicked")))
                    })
                    .collect()
            }),
        };
        if let Some((index, error)) = results
            .into_iter()
            .enumerate()
            .find_map(|(i, r)| r.err().map(|e| (i, e)))
        {
            return Err((chunk_index * SYNCS_AT_ONCE_MAX + index, error));
        }
    }
    Ok(())
}

fn folder_of(target: &Path) -> &Path {
    target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Removes temporary files of earlier runs (killed ones included) for
/// the target `name` in `folder`; those of runs still writing are locked
/// and kept.
/// Tries at making a locked temporary file that another run's stale-file
/// sweep removed between its creation and its lock.
const CREATE_TRIES_MAX: usize = 4;

/// Creates `temp` (never over an existing file) and locks it. Another run
/// removing stale files may remove it before the lock is taken: then it is
/// made again, so the file locked is the one at the path.
fn create_locked(temp: &Path) -> io::Result<(File, File)> {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..CREATE_TRIES_MAX {
        let file = OpenOptions::new().write(true).create_new(true).open(temp)?;
        let Ok(lock) = File::open(temp) else {
            continue;
        };
        lock.lock()?;
        let (held, named) = (lock.metadata()?, fs::metadata(temp));
        if named.is_ok_and(|named| named.ino() == held.ino() && named.dev() == held.dev()) {
            return Ok((file, lock));
        }
    }
    Err(io::Error::other(format!(
        "`{}` was removed {CREATE_TRIES_MAX} times as it was made; is another process sweeping the folder?",
        temp.display()
    )))
}

/// Bytes a file name may have (Linux file systems).
const FILE_NAME_BYTES_MAX: usize = 255;
/// What a temporary name adds to its stem at most: the dot, the marker, a
/// run id and a process id, and `-previous` for a kept earlier file.
const TEMP_NAME_EXTRA_BYTES_MAX: usize = 1 + TEMP_MARKER.len() + 20 + 1 + 10 + 9;

/// The part of a temporary file's name that stands for its target's:
/// the name itself, or when that would make the temporary name too long
/// for the file system, its start and a hash of the whole.
fn temp_stem(name: &str) -> String {
    let room = FILE_NAME_BYTES_MAX - TEMP_NAME_EXTRA_BYTES_MAX;
    if name.len() <= room {
        return name.to_owned();
    }
    let mut cut = room - 17;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    // FNV-1a: stable across builds, so a later run finds the stale files.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}~{hash:016x}", &name[..cut])
}

fn remove_stale(folder: &Path, stem: &str) -> io::Result<()> {
    let prefix = format!(".{stem}{TEMP_MARKER}");
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

    /// A re-run keeps the mode the output had: one made private stays so.
    #[test]
    fn a_replaced_output_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("private.jsonl");
        fs::write(&target, "old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        let (staged, mut file) = StagedFile::create(&target, "r1").unwrap();
        file.write_all(b"new").unwrap();
        staged.commit().unwrap();
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
    }

    /// A name near the file system's limit still stages, and its earlier
    /// file is still kept for a rollback.
    #[test]
    fn a_long_output_name_stages_and_keeps_its_earlier_file() {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("{}.jsonl", "é".repeat(120));
        assert!(name.len() > 240 && name.len() <= 255);
        let target = dir.path().join(&name);
        fs::write(&target, "old").unwrap();
        let (staged, mut file) = StagedFile::create(&target, "12345").unwrap();
        file.write_all(b"new").unwrap();
        assert!(matches!(Before::keep(&staged), Before::Kept { .. }));
        staged.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(temp_stem(&name), temp_stem(&name));
        assert!(temp_stem(&name).len() < name.len());
    }

    /// Two runs from two state folders can share a run id: each writes a
    /// temporary file of its own.
    #[test]
    fn temporary_files_are_never_shared_or_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jsonl");
        let taken = format!(".out.jsonl.runink-tmp-1-{}", std::process::id());
        let (_first, mut file) = StagedFile::create(&target, "1").unwrap();
        file.write_all(b"first").unwrap();
        file.flush().unwrap();
        // The same name again (same run id, same process): refused, and
        // the first file keeps what it holds.
        assert!(StagedFile::create(&target, "1").is_err());
        assert_eq!(fs::read(dir.path().join(taken)).unwrap(), b"first");
    }

    #[test]
    fn a_live_runs_temporary_file_is_not_stale() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jsonl");
        let (first, mut first_file) = StagedFile::create(&target, "first").unwrap();
        // A second run to the same target starts while the first writes.
        let (second, mut second_file) = StagedFile::create(&target, "second").unwrap();
        let first_temp = format!(".out.jsonl.runink-tmp-first-{}", std::process::id());
        assert!(dir.path().join(first_temp).exists());
        first_file.write_all(b"first").unwrap();
        second_file.write_all(b"second").unwrap();
        first.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "first");
        second.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn commit_all_renames_every_file_in_every_folder() {
        let dir = tempfile::tempdir().unwrap();
        let targets = [
            dir.path().join("a/one.jsonl"),
            dir.path().join("a/two.jsonl"),
            dir.path().join("b/three.jsonl"),
        ];
        let staged = targets
            .iter()
            .map(|target| {
                let (staged, mut file) = StagedFile::create(target, "r1").unwrap();
                file.write_all(target.to_string_lossy().as_bytes()).unwrap();
                staged
            })
            .collect();
        commit_all(staged).unwrap();
        for target in &targets {
            assert_eq!(
                fs::read_to_string(target).unwrap(),
                target.to_string_lossy()
            );
        }
        assert_eq!(fs::read_dir(dir.path().join("a")).unwrap().count(), 2);
        assert_eq!(fs::read_dir(dir.path().join("b")).unwrap().count(), 1);
    }

    #[test]
    fn a_file_that_cannot_be_renamed_stops_the_commit_and_undoes_the_renames_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let earlier = dir.path().join("earlier.jsonl");
        fs::write(&earlier, "old").unwrap();
        let absent = dir.path().join("absent.jsonl");
        let blocked = dir.path().join("blocked.jsonl");
        let (first, mut file) = StagedFile::create(&earlier, "r1").unwrap();
        file.write_all(b"new").unwrap();
        let (second, mut file) = StagedFile::create(&absent, "r1").unwrap();
        file.write_all(b"new").unwrap();
        let (third, _) = StagedFile::create(&blocked, "r1").unwrap();
        // A folder put where the last file goes while the run wrote: its
        // rename fails after the first two were renamed.
        fs::create_dir(&blocked).unwrap();
        fs::write(blocked.join("inside"), "x").unwrap();

        let error = commit_all(vec![first, second, third]).unwrap_err();
        assert_eq!(error.path, blocked);
        assert_eq!(fs::read_to_string(&earlier).unwrap(), "old");
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["blocked.jsonl", "earlier.jsonl"]);
    }

    #[test]
    fn an_abort_removes_the_folders_made_for_the_target_and_only_those() {
        // In the order the run made them, and the other way round.
        for reversed in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir(dir.path().join("kept")).unwrap();
            let target = dir.path().join("kept/new/deeper/out.jsonl");
            let (staged, _) = StagedFile::create(&target, "r1").unwrap();
            let beside = dir.path().join("kept/new/b.jsonl");
            let (beside, _) = StagedFile::create(&beside, "r1").unwrap();
            let mut files = vec![staged, beside];
            if reversed {
                files.reverse();
            }
            abort_all(files);
            assert!(
                !dir.path().join("kept/new").exists(),
                "reversed: {reversed}"
            );
            assert!(dir.path().join("kept").exists());
        }
    }

    #[test]
    fn a_target_a_file_cannot_take_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("out.parquet");
        fs::create_dir(&folder).unwrap();
        let error = StagedFile::create(&folder, "r1").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::IsADirectory);
        let file = dir.path().join("plain");
        fs::write(&file, "x").unwrap();
        let error = check_target(&file.join("sub/out.jsonl")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotADirectory);
        assert!(error.to_string().contains("plain"), "{error}");
        check_target(&dir.path().join("new/deeper/out.jsonl")).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2, "nothing created");
    }
}
