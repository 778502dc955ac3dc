//! What a caller asks for when it starts a slice: the program, what it may
//! see of the file system, its limits, its identity and its file descriptors.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use crate::error::{Result, SliceError};

/// Directories (and the loader cache) bound read-only into every slice so
/// that dynamically linked programs find their shared libraries. Binding the
/// library directories whole, rather than the files an ELF scan names, keeps
/// `dlopen` working (NSS, iconv, plug-ins) at the cost of exposing every
/// installed library read-only. Entries that do not exist are skipped;
/// symbolic links (`/lib -> usr/lib`) are recreated as links.
pub const LIBRARY_PATHS: &[&str] = &[
    "/lib",
    "/lib64",
    "/lib32",
    "/usr/lib",
    "/usr/lib64",
    "/usr/lib32",
    "/etc/ld.so.cache",
];

/// The uid and gid a slice's program has inside its user namespace. It is
/// not 0, so `setuid(0)` inside a slice is refused.
pub const INNER_ID: u32 = 1000;

/// How a standard stream of the slice is connected.
#[derive(Debug, Default)]
pub enum Stdio {
    /// `/dev/null`.
    #[default]
    Null,
    /// The caller's own descriptor.
    Inherit,
    /// A new pipe; the caller's end is on [`crate::RunningSlice`].
    Piped,
    /// This descriptor (duplicated; the caller keeps and should close its copy).
    Fd(OwnedFd),
}

/// Resource limits of one slice, enforced by cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Memory the slice may use, page cache and tmpfs included; over it the
    /// kernel kills the slice and [`crate::SliceExit::oom_killed`] is set.
    pub memory_bytes: u64,
    /// Processes and threads the slice may have at once (a fork bomb stops here).
    pub pids_max: u32,
    /// CPU time per wall-clock second, in thousandths of a core (1000 = one core).
    pub cpu_millis: u32,
}

impl Limits {
    /// Smallest memory limit accepted: below it the program cannot even start.
    pub const MEMORY_BYTES_MIN: u64 = 4 << 20;
    /// Smallest CPU quota accepted (1% of a core).
    pub const CPU_MILLIS_MIN: u32 = 10;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 512 << 20,
            pids_max: 256,
            cpu_millis: 1000,
        }
    }
}

/// A range of host uids and gids from which each slice gets its own
/// ephemeral id (per herd, so two herds never share an id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    first: u32,
    count: u32,
}

impl IdRange {
    /// Ids below this belong to the host's own users and are never handed out.
    pub const FIRST_MIN: u32 = 65_536;
    /// The default range: 65,536 ids from 0x7000_0000.
    pub const DEFAULT: IdRange = IdRange {
        first: 0x7000_0000,
        count: 65_536,
    };

    /// A range of `count` ids starting at `first`.
    pub fn new(first: u32, count: u32) -> Result<Self> {
        let end = u64::from(first) + u64::from(count);
        if first < Self::FIRST_MIN || count == 0 || end > u64::from(u32::MAX) {
            return Err(SliceError::InvalidSpec(format!(
                "id range `{first}+{count}` must be non-empty, start at or above \
                 {} and end below {}",
                Self::FIRST_MIN,
                u32::MAX
            )));
        }
        Ok(Self { first, count })
    }

    /// The first id of the range.
    pub fn first(&self) -> u32 {
        self.first
    }

    /// How many ids the range holds.
    pub fn count(&self) -> u32 {
        self.count
    }
}

impl Default for IdRange {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Everything needed to start one slice.
#[derive(Debug)]
pub struct SliceSpec {
    /// The program to run: an absolute path, bound read-only into the slice
    /// at the same (canonical) path.
    pub program: PathBuf,
    /// Arguments after `argv[0]` (which is `program` as given).
    pub args: Vec<OsString>,
    /// The whole environment of the program; nothing is inherited.
    pub env: Vec<(OsString, OsString)>,
    /// Extra files or directories bound read-only at their own paths.
    pub binds_ro: Vec<PathBuf>,
    /// Host directories bound read-only at another path inside the slice:
    /// (host directory, path inside). The host path may be anywhere, even
    /// under `/tmp`; the inside path may not be `/`, `/dev`, `/proc`, `/tmp`
    /// or inside another bind.
    pub binds_ro_at: Vec<(PathBuf, PathBuf)>,
    /// The program's working directory, a path inside the slice (default `/tmp`).
    pub workdir: PathBuf,
    /// Library paths bound read-only (see [`LIBRARY_PATHS`]).
    pub libraries: Vec<PathBuf>,
    /// Share the host's network. Off: a new network namespace with only a
    /// loopback device that is down, so nothing can be reached.
    pub network: bool,
    /// cgroup limits.
    pub limits: Limits,
    /// Where the slice's ephemeral uid and gid come from.
    pub ids: IdRange,
    /// Size of the private scratch tmpfs at `/tmp` (charged to the memory limit).
    pub scratch_bytes: u64,
    /// Standard input.
    pub stdin: Stdio,
    /// Standard output.
    pub stdout: Stdio,
    /// Standard error.
    pub stderr: Stdio,
    /// Data descriptors handed to the program as fds 3, 4, … in this order
    /// (e.g. the ends of Arrow IPC pipes). They are duplicated; the caller
    /// should close its copies of the slice's ends after spawning.
    pub data_fds: Vec<OwnedFd>,
    /// Kill the slice with SIGKILL when the thread that spawned it exits
    /// (`PR_SET_PDEATHSIG`). Spawn from a long-lived thread when this is on.
    pub kill_on_parent_death: bool,
    /// Kernel buffer of each [`Stdio::Piped`] pipe (`F_SETPIPE_SZ`), when
    /// set; the kernel's default (64 KiB) otherwise. Best effort: an
    /// unprivileged caller is capped by `fs.pipe-max-size`.
    pub pipe_buffer_bytes: Option<usize>,
}

impl SliceSpec {
    /// Most data descriptors one slice may get.
    pub const DATA_FDS_MAX: usize = 64;
    /// Most arguments plus environment entries.
    pub const ARGS_MAX: usize = 4096;
    /// Default size of the scratch tmpfs.
    pub const SCRATCH_BYTES_DEFAULT: u64 = 64 << 20;

    /// A spec with default limits, no network, the default library paths and
    /// every standard stream on `/dev/null`.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            binds_ro: Vec::new(),
            binds_ro_at: Vec::new(),
            workdir: PathBuf::from("/tmp"),
            libraries: LIBRARY_PATHS.iter().map(PathBuf::from).collect(),
            network: false,
            limits: Limits::default(),
            ids: IdRange::DEFAULT,
            scratch_bytes: Self::SCRATCH_BYTES_DEFAULT,
            stdin: Stdio::Null,
            stdout: Stdio::Null,
            stderr: Stdio::Null,
            data_fds: Vec::new(),
            kill_on_parent_death: true,
            pipe_buffer_bytes: None,
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Checks what can be checked without touching the system.
    pub(crate) fn validate(&self) -> Result<()> {
        if !self.program.is_absolute() {
            return Err(SliceError::InvalidSpec(format!(
                "program `{}` must be an absolute path",
                self.program.display()
            )));
        }
        if self.data_fds.len() > Self::DATA_FDS_MAX {
            return Err(SliceError::InvalidSpec(format!(
                "{} data fds, at most {} allowed",
                self.data_fds.len(),
                Self::DATA_FDS_MAX
            )));
        }
        if self.args.len() + self.env.len() > Self::ARGS_MAX {
            return Err(SliceError::InvalidSpec(format!(
                "{} arguments and environment entries, at most {} allowed",
                self.args.len() + self.env.len(),
                Self::ARGS_MAX
            )));
        }
        if self.limits.memory_bytes < Limits::MEMORY_BYTES_MIN {
            return Err(SliceError::InvalidSpec(format!(
                "memory limit `{}` is below the minimum `{}`",
                self.limits.memory_bytes,
                Limits::MEMORY_BYTES_MIN
            )));
        }
        if self.limits.pids_max == 0 {
            return Err(SliceError::InvalidSpec(
                "pids limit must be at least 1".into(),
            ));
        }
        if self.limits.cpu_millis < Limits::CPU_MILLIS_MIN {
            return Err(SliceError::InvalidSpec(format!(
                "cpu limit `{}` millicores is below the minimum `{}`",
                self.limits.cpu_millis,
                Limits::CPU_MILLIS_MIN
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_range_refuses_host_ids_and_overflow() {
        assert!(IdRange::new(1000, 10).is_err());
        assert!(IdRange::new(u32::MAX - 5, 10).is_err());
        assert!(IdRange::new(IdRange::FIRST_MIN, 0).is_err());
        assert_eq!(IdRange::new(100_000, 10).unwrap().count(), 10);
    }

    #[test]
    fn spec_needs_an_absolute_program_and_sane_limits() {
        assert!(SliceSpec::new("true").validate().is_err());
        assert!(SliceSpec::new("/bin/true").validate().is_ok());
        let mut spec = SliceSpec::new("/bin/true");
        spec.limits.memory_bytes = 1024;
        assert!(spec.validate().is_err());
    }
}
