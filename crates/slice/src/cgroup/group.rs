//! Creating a slice's cgroups with its limits, reading what happened in them
//! (out-of-memory kills, peak memory) and removing them afterwards.

use std::fs;
use std::io::{self, ErrorKind};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
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
}

impl Cgroups {
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
        Ok(Self { hierarchies })
    }

    /// Creates the groups of one slice, named `name`, with `limits`.
    pub(crate) fn create(&self, name: &str, limits: &Limits) -> Result<SliceCgroup> {
        let mut slice = SliceCgroup {
            groups: Vec::with_capacity(self.hierarchies.len()),
            procs: Vec::with_capacity(self.hierarchies.len()),
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
            let procs = dir.join("cgroup.procs");
            let fd = fs::OpenOptions::new()
                .write(true)
                .open(&procs)
                .map_err(|e| cgroup_error(&procs, "open", e))?;
            slice.procs.push(OwnedFd::from(fd));
        }
        Ok(slice)
    }
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
        source,
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
        (CgroupVersion::V1, Controller::Memory) => &[
            (
                "memory.limit_in_bytes",
                limits.memory_bytes.to_string(),
                true,
            ),
            // Without swap accounting the file is absent, and there is no swap to limit.
            (
                "memory.memsw.limit_in_bytes",
                limits.memory_bytes.to_string(),
                false,
            ),
        ],
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
    /// Open `cgroup.procs` files; the child writes `0` to each to join.
    procs: Vec<OwnedFd>,
}

impl SliceCgroup {
    /// The `cgroup.procs` descriptors the child joins through.
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
        let Some(g) = self.memory_group() else {
            return 0;
        };
        let file = match g.version {
            CgroupVersion::V1 => "memory.oom_control",
            CgroupVersion::V2 => "memory.events",
        };
        let text = fs::read_to_string(g.dir.join(file)).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.strip_prefix("oom_kill "))
            .find_map(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The most memory the slice used, if the kernel reports it.
    pub(crate) fn memory_peak_bytes(&self) -> Option<u64> {
        let g = self.memory_group()?;
        let file = match g.version {
            CgroupVersion::V1 => "memory.max_usage_in_bytes",
            CgroupVersion::V2 => "memory.peak",
        };
        fs::read_to_string(g.dir.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Removes the groups. Call after every process of the slice has exited.
    pub(crate) fn remove(mut self) -> Result<()> {
        self.procs.clear();
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
