//! Creating a slice's cgroups with its limits, reading what happened in them
//! (out-of-memory kills, peak memory) and removing them afterwards.

use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use super::layout::{CgroupVersion, Controller, Layout};
use super::stale;
use crate::error::{Result, SliceError};
use crate::spec::Limits;

/// The name of the directory that holds every Runink parent's groups.
pub(crate) const SUBTREE: &str = "runink";
/// How often `rmdir` of a group is retried while the kernel finishes
/// detaching its exited tasks.
const RMDIR_TRIES_MAX: u32 = 200;
const RMDIR_RETRY_PAUSE: Duration = Duration::from_micros(500);
/// The CFS period the CPU quota is expressed in.
const CPU_PERIOD_US: u64 = 100_000;
/// Most finished slice groups kept for reuse. Creating and removing a group
/// in three hierarchies costs ~250 us, a quarter of a slice's start.
pub(crate) const POOL_LEN_MAX: usize = 16;

type Pool = Mutex<Vec<SliceCgroup>>;

/// One hierarchy this process's slices are limited through.
#[derive(Debug)]
struct Hierarchy {
    version: CgroupVersion,
    /// `<own group>/runink/<pid>`: the parent of this process's slice groups.
    parent: PathBuf,
    controllers: Vec<Controller>,
}

/// This process's cgroup parents, one per hierarchy in use.
#[derive(Debug)]
pub(crate) struct Cgroups {
    hierarchies: Vec<Hierarchy>,
    /// Groups of finished slices, empty and ready for the next one.
    pool: Arc<Pool>,
}

impl Cgroups {
    /// Removes the pooled groups and this process's parents. Call when no
    /// slice of the process runs any more (it is ending): otherwise they
    /// stay until the next Runink process under the same parent cleans
    /// them as stale. A group still busy is left, with a warning.
    pub(crate) fn remove_all(&self) {
        let pooled = std::mem::take(&mut *self.pool.lock().unwrap_or_else(PoisonError::into_inner));
        for group in pooled {
            if let Err(e) = group.remove() {
                tracing::warn!(error = %e, "leaving a pooled slice cgroup behind");
            }
        }
        for hierarchy in &self.hierarchies {
            if let Err(e) = remove_group(&hierarchy.parent) {
                tracing::warn!(error = %e, "leaving this process's slice cgroup parent behind");
            }
        }
    }

    /// Creates this process's parent groups after removing stale ones left by
    /// dead parents. Every controller must be available.
    pub(crate) fn open(layout: &Layout) -> Result<Self> {
        let mut hierarchies: Vec<Hierarchy> = Vec::new();
        for controller in Controller::ALL {
            let place = layout
                .place(controller)
                .map_err(|why| SliceError::Unsupported {
                    feature: feature_name(controller),
                    detail: why.to_owned(),
                })?;
            let parent = place.dir.join(SUBTREE).join(std::process::id().to_string());
            match hierarchies.iter_mut().find(|h| h.parent == parent) {
                Some(h) => h.controllers.push(controller),
                None => hierarchies.push(Hierarchy {
                    version: place.version,
                    parent,
                    controllers: vec![controller],
                }),
            }
        }
        for h in &hierarchies {
            let subtree = h.parent.parent().expect("the parent is below `runink/`");
            stale::remove_dead_parents(subtree);
            create_parent(h)?;
        }
        Ok(Self {
            hierarchies,
            pool: Arc::default(),
        })
    }

    /// Creates the groups of one slice, named `name`, with `limits`.
    /// A pooled group is reused when there is one (its limits rewritten
    /// only where they differ).
    pub(crate) fn create(&self, name: &str, limits: &Limits) -> Result<SliceCgroup> {
        let pooled = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(mut slice) = pooled {
            if slice.limits != *limits {
                for g in &slice.groups {
                    for &c in &g.controllers {
                        write_limit(&g.dir, g.version, c, limits)?;
                    }
                }
                slice.limits = *limits;
            }
            slice.reset_peak();
            return Ok(slice);
        }
        let mut slice = SliceCgroup {
            groups: Vec::with_capacity(self.hierarchies.len()),
            procs: Vec::with_capacity(self.hierarchies.len()),
            limits: *limits,
            oom_kills_before: 0,
            peak_valid: true,
            memory_files: MemoryFiles::default(),
            pool: Arc::downgrade(&self.pool),
        };
        for h in &self.hierarchies {
            let dir = h.parent.join(name);
            fs::create_dir(&dir).map_err(|e| cgroup_error(&dir, "create", e))?;
            // Pushed first so that a failure below still removes the group.
            slice.groups.push(Group {
                dir: dir.clone(),
                version: h.version,
                controllers: h.controllers.clone(),
            });
            for &c in &h.controllers {
                write_limit(&dir, h.version, c, limits)?;
            }
            // The child joins by writing `0` (itself). In v1 it writes to
            // `tasks`: moving one thread (the child has just one) skips the
            // global lock that moving a whole process takes, whose first
            // use after a quiet spell waits a full RCU grace period (~11 ms
            // here, the largest cost of a run's first slice). v2 has only
            // `cgroup.procs` for a domain group.
            let procs = dir.join(match h.version {
                CgroupVersion::V1 => "tasks",
                CgroupVersion::V2 => "cgroup.procs",
            });
            let fd = fs::OpenOptions::new()
                .write(true)
                .open(&procs)
                .map_err(|e| cgroup_error(&procs, "open", e))?;
            slice.procs.push(OwnedFd::from(fd));
        }
        slice.memory_files = MemoryFiles::open(slice.memory_group());
        Ok(slice)
    }
}

/// The memory group's report files, kept open: a slice's start and end read
/// them, and opening a file deep in the cgroup tree costs more than reading.
#[derive(Debug, Default)]
struct MemoryFiles {
    /// v1 `memory.oom_control`, v2 `memory.events`.
    events: Option<File>,
    /// v1 `memory.max_usage_in_bytes`, v2 `memory.peak`.
    peak: Option<File>,
    /// v1 only: the same, opened for writing, to reset it.
    peak_reset: Option<File>,
}

/// Bytes read from a report file; they are a few lines long.
const REPORT_BYTES_MAX: usize = 4096;

impl MemoryFiles {
    fn open(group: Option<&Group>) -> Self {
        let Some(g) = group else {
            return Self::default();
        };
        let (events, peak) = match g.version {
            CgroupVersion::V1 => ("memory.oom_control", "memory.max_usage_in_bytes"),
            CgroupVersion::V2 => ("memory.events", "memory.peak"),
        };
        Self {
            events: File::open(g.dir.join(events)).ok(),
            peak: File::open(g.dir.join(peak)).ok(),
            peak_reset: match g.version {
                CgroupVersion::V1 => fs::OpenOptions::new()
                    .write(true)
                    .open(g.dir.join(peak))
                    .ok(),
                CgroupVersion::V2 => None,
            },
        }
    }
}

/// A report file's whole text, read again from its start.
fn read_report(file: Option<&File>) -> Option<String> {
    let file = file?;
    let mut buf = vec![0u8; REPORT_BYTES_MAX];
    let mut len = 0;
    while len < buf.len() {
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.truncate(len);
    String::from_utf8(buf).ok()
}

fn feature_name(controller: Controller) -> &'static str {
    match controller {
        Controller::Memory => "cgroup memory controller",
        Controller::Pids => "cgroup pids controller",
        Controller::Cpu => "cgroup cpu controller",
    }
}

fn cgroup_error(path: &Path, action: &'static str, source: io::Error) -> SliceError {
    if source.kind() == ErrorKind::PermissionDenied
        || source.kind() == ErrorKind::ReadOnlyFilesystem
    {
        return SliceError::Unsupported {
            feature: "cgroup access",
            detail: format!("cannot {action} `{}`: {source}", path.display()),
        };
    }
    SliceError::Cgroup {
        path: path.to_owned(),
        action,
        error: source,
    }
}

fn create_parent(h: &Hierarchy) -> Result<()> {
    let subtree = h.parent.parent().expect("the parent is below `runink/`");
    let own = subtree
        .parent()
        .expect("`runink/` is below this process's group");
    for dir in [subtree, h.parent.as_path()] {
        match fs::create_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(cgroup_error(dir, "create", e)),
        }
    }
    if h.version == CgroupVersion::V2 {
        // v2 hands a controller to children only when each ancestor lists it
        // in `cgroup.subtree_control`.
        let enable: Vec<String> = h
            .controllers
            .iter()
            .map(|c| format!("+{}", c.name()))
            .collect();
        let enable = enable.join(" ");
        for dir in [own, subtree, h.parent.as_path()] {
            let file = dir.join("cgroup.subtree_control");
            fs::write(&file, &enable).map_err(|e| cgroup_error(&file, "enable controllers", e))?;
        }
    }
    Ok(())
}

fn write_limit(dir: &Path, version: CgroupVersion, c: Controller, limits: &Limits) -> Result<()> {
    let quota_us = u64::from(limits.cpu_millis) * CPU_PERIOD_US / 1000;
    let writes: &[(&str, String, bool)] = match (version, c) {
        (CgroupVersion::V1, Controller::Memory) => {
            return write_v1_memory(dir, limits.memory_bytes);
        }
        (CgroupVersion::V2, Controller::Memory) => &[
            ("memory.max", limits.memory_bytes.to_string(), true),
            ("memory.swap.max", "0".to_owned(), false),
        ],
        (_, Controller::Pids) => &[("pids.max", limits.pids_max.to_string(), true)],
        (CgroupVersion::V1, Controller::Cpu) => &[("cpu.cfs_quota_us", quota_us.to_string(), true)],
        (CgroupVersion::V2, Controller::Cpu) => {
            &[("cpu.max", format!("{quota_us} {CPU_PERIOD_US}"), true)]
        }
    };
    for (file, value, required) in writes {
        let path = dir.join(file);
        match fs::write(&path, value) {
            Ok(()) => {}
            Err(e) if !required && e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(cgroup_error(&path, "set limit", e)),
        }
    }
    Ok(())
}

/// v1 requires `memory.limit_in_bytes <= memory.memsw.limit_in_bytes` at
/// every moment, so a reused group whose limit grows gets memsw first.
fn write_v1_memory(dir: &Path, bytes: u64) -> Result<()> {
    let limit = dir.join("memory.limit_in_bytes");
    let memsw = dir.join("memory.memsw.limit_in_bytes");
    let value = bytes.to_string();
    // Without swap accounting memsw is absent, and there is no swap to limit.
    let write_memsw = || match fs::write(&memsw, &value) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(cgroup_error(&memsw, "set limit", e)),
        _ => Ok(()),
    };
    match fs::write(&limit, &value) {
        Ok(()) => write_memsw(),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            write_memsw()?;
            fs::write(&limit, &value).map_err(|e| cgroup_error(&limit, "set limit", e))
        }
        Err(e) => Err(cgroup_error(&limit, "set limit", e)),
    }
}

#[derive(Debug)]
struct Group {
    dir: PathBuf,
    version: CgroupVersion,
    controllers: Vec<Controller>,
}

/// The cgroups of one slice, one per hierarchy.
#[derive(Debug)]
pub(crate) struct SliceCgroup {
    groups: Vec<Group>,
    /// Open `tasks` (v1) or `cgroup.procs` (v2) files; the child writes `0`
    /// to each to join.
    procs: Vec<OwnedFd>,
    limits: Limits,
    /// The group's `oom_kill` count when this slice got it (groups are reused).
    oom_kills_before: u64,
    /// False for a reused v2 group, whose `memory.peak` cannot be reset.
    peak_valid: bool,
    memory_files: MemoryFiles,
    pool: Weak<Pool>,
}

impl SliceCgroup {
    /// The descriptors the child joins through.
    pub(crate) fn procs_fds(&self) -> Vec<RawFd> {
        self.procs.iter().map(AsRawFd::as_raw_fd).collect()
    }

    /// The group directories, one per hierarchy.
    pub(crate) fn dirs(&self) -> Vec<PathBuf> {
        self.groups.iter().map(|g| g.dir.clone()).collect()
    }

    fn memory_group(&self) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.controllers.contains(&Controller::Memory))
    }

    /// How many processes the kernel killed for running out of memory in
    /// this slice (`oom_kill` in v1's `memory.oom_control`, v2's `memory.events`).
    pub(crate) fn oom_kills(&self) -> u64 {
        self.oom_kill_count().saturating_sub(self.oom_kills_before)
    }

    fn oom_kill_count(&self) -> u64 {
        let text = read_report(self.memory_files.events.as_ref()).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.strip_prefix("oom_kill "))
            .find_map(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The most memory the slice used, if the kernel reports it.
    pub(crate) fn memory_peak_bytes(&self) -> Option<u64> {
        if !self.peak_valid {
            return None;
        }
        read_report(self.memory_files.peak.as_ref())?
            .trim()
            .parse()
            .ok()
    }

    fn reset_peak(&mut self) {
        self.peak_valid = self
            .memory_files
            .peak_reset
            .as_ref()
            .is_some_and(|f| f.write_at(b"0", 0).is_ok_and(|n| n == 1));
    }

    /// Returns the groups to the pool for the next slice, or removes them
    /// when the pool is full. Call after every process of the slice has
    /// exited. Page cache the slice left charged stays charged (and
    /// reclaimable) in a reused group.
    pub(crate) fn release(mut self) -> Result<()> {
        let Some(pool) = self.pool.upgrade() else {
            return self.remove();
        };
        let mut pool = pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() >= POOL_LEN_MAX {
            drop(pool);
            return self.remove();
        }
        self.oom_kills_before = self.oom_kill_count();
        pool.push(self);
        Ok(())
    }

    /// Removes the groups. Call after every process of the slice has exited.
    pub(crate) fn remove(mut self) -> Result<()> {
        self.procs.clear();
        self.memory_files = MemoryFiles::default();
        let mut first_error = None;
        for g in self.groups.drain(..) {
            if let Err(e) = remove_group(&g.dir) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for SliceCgroup {
    fn drop(&mut self) {
        // Reached only when `remove` was not called (an error path).
        self.procs.clear();
        self.memory_files = MemoryFiles::default();
        for g in &self.groups {
            if let Err(e) = remove_group(&g.dir) {
                tracing::warn!(error = %e, "leaving a slice cgroup behind");
            }
        }
    }
}

/// Removes an empty group, waiting briefly for exited tasks to leave it.
pub(crate) fn remove_group(dir: &Path) -> Result<()> {
    let mut tries = 0;
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < RMDIR_TRIES_MAX => {
                tries += 1;
                std::thread::sleep(RMDIR_RETRY_PAUSE);
            }
            Err(e) => return Err(cgroup_error(dir, "remove", e)),
        }
    }
}
