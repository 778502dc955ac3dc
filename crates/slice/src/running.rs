//! A started slice: its pipes, waiting for it, and what its exit means.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use crate::cgroup::SliceCgroup;
use crate::error::{Result, SliceError};
use crate::ids::IdLease;
use crate::netns_pool::NetnsLease;
use crate::spawn::ParentEnds;
use crate::sys;

/// How a slice ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceExit {
    /// The program's exit status (of the slice's first process).
    pub status: ExitStatus,
    /// The kernel killed a process of the slice for exceeding its memory limit.
    pub oom_killed: bool,
    /// The most memory the slice used, when the kernel reports it.
    pub memory_peak_bytes: Option<u64>,
}

impl SliceExit {
    /// The program exited with status 0 and nothing was killed for memory.
    pub fn success(&self) -> bool {
        self.status.success() && !self.oom_killed
    }
}

/// What a slice holds until it has been waited for.
#[derive(Debug)]
enum Live {
    /// Its cgroups, its uid, and the network namespace lent to it, if any.
    Confined(SliceCgroup, IdLease, Option<NetnsLease>),
    /// Started by [`crate::Slice::spawn_unconfined`]: nothing to release.
    Unconfined,
}

/// A running slice. Dropping it without [`RunningSlice::wait`] kills it.
#[derive(Debug)]
pub struct RunningSlice {
    pid: libc::pid_t,
    /// The slice's stdin, when it was [`crate::Stdio::Piped`].
    pub stdin: Option<io::PipeWriter>,
    /// The slice's stdout, when it was [`crate::Stdio::Piped`].
    pub stdout: Option<io::PipeReader>,
    /// The slice's stderr, when it was [`crate::Stdio::Piped`].
    pub stderr: Option<io::PipeReader>,
    live: Option<Live>,
    uid: u32,
    exit: Option<SliceExit>,
}

impl RunningSlice {
    pub(crate) fn new(
        pid: libc::pid_t,
        ends: ParentEnds,
        cgroup: SliceCgroup,
        lease: IdLease,
        netns: Option<NetnsLease>,
    ) -> Self {
        Self {
            pid,
            stdin: ends.stdin,
            stdout: ends.stdout,
            stderr: ends.stderr,
            uid: lease.id(),
            live: Some(Live::Confined(cgroup, lease, netns)),
            exit: None,
        }
    }

    /// A plain child process (no namespaces, no cgroups), already started.
    pub(crate) fn unconfined(pid: libc::pid_t, ends: ParentEnds) -> Self {
        Self {
            pid,
            stdin: ends.stdin,
            stdout: ends.stdout,
            stderr: ends.stderr,
            uid: sys::effective_uid(),
            live: Some(Live::Unconfined),
            exit: None,
        }
    }

    /// The host pid of the slice's first process.
    pub fn pid(&self) -> u32 {
        self.pid.unsigned_abs()
    }

    /// The host uid and gid the slice runs as.
    pub fn host_uid(&self) -> u32 {
        self.uid
    }

    /// The slice's cgroup directories, one per hierarchy (empty once waited for).
    pub fn cgroup_dirs(&self) -> Vec<std::path::PathBuf> {
        match &self.live {
            Some(Live::Confined(cgroup, ..)) => cgroup.dirs(),
            _ => Vec::new(),
        }
    }

    /// Kills the slice (every process in it: the first is its pid namespace's
    /// init; an unconfined program leads a process group of its own).
    pub fn kill(&mut self) {
        if self.exit.is_none() {
            sys::kill(self.pid, libc::SIGKILL);
            if matches!(self.live, Some(Live::Unconfined)) {
                sys::kill(-self.pid, libc::SIGKILL);
            }
        }
    }

    /// Whether the slice's first process has ended, without blocking. When
    /// it has, it is waited for as [`RunningSlice::wait`] does (the exit is
    /// kept for it), and what it left running is killed: an unconfined
    /// program's background children, which would hold its pipes open.
    pub fn has_ended(&mut self) -> Result<bool> {
        if self.exit.is_some() {
            return Ok(true);
        }
        if matches!(self.live, Some(Live::Unconfined)) && !self.end_group_once_exited(false)? {
            return Ok(false);
        }
        let status = sys::try_wait_pid(self.pid).map_err(|source| SliceError::Os {
            call: "waitpid",
            error: source,
        })?;
        match status {
            None => Ok(false),
            Some(status) => self.ended_with(status).map(|_| true),
        }
    }

    /// For an unconfined program: once it has exited (waiting for it when
    /// `block`), kills its process group, what it left running in the
    /// background and would hold its pipes open, before it is reaped (so
    /// the group's id cannot be another's yet). Whether it has exited.
    fn end_group_once_exited(&self, block: bool) -> Result<bool> {
        let exited = sys::has_exited(self.pid, block).map_err(|source| SliceError::Os {
            call: "waitid",
            error: source,
        })?;
        if exited {
            sys::kill(-self.pid, libc::SIGKILL);
        }
        Ok(exited)
    }

    /// Closes stdin, waits for the slice to end, releases its cgroups (to a
    /// small pool of reusable groups, or removed) and its network namespace
    /// (back to the pool, `netns_pool.rs`), and returns how it ended.
    /// Calling it again returns the same exit.
    pub fn wait(&mut self) -> Result<SliceExit> {
        if let Some(exit) = self.exit {
            return Ok(exit);
        }
        drop(self.stdin.take());
        if matches!(self.live, Some(Live::Unconfined)) {
            self.end_group_once_exited(true)?;
        }
        let status = sys::wait_pid(self.pid).map_err(|source| SliceError::Os {
            call: "waitpid",
            error: source,
        })?;
        self.ended_with(status)
    }

    /// Records how the first process ended (raw wait status `status`) and
    /// releases what the slice held.
    fn ended_with(&mut self, status: libc::c_int) -> Result<SliceExit> {
        let live = self
            .live
            .take()
            .expect("a slice not yet waited for is live");
        let Live::Confined(cgroup, lease, netns) = live else {
            let exit = SliceExit {
                status: ExitStatus::from_raw(status),
                oom_killed: false,
                memory_peak_bytes: None,
            };
            self.exit = Some(exit);
            return Ok(exit);
        };
        // When the pid namespace's init has been reaped, every other process
        // of the slice is gone too, so the cgroups are empty.
        let exit = SliceExit {
            status: ExitStatus::from_raw(status),
            oom_killed: cgroup.oom_kills() > 0,
            memory_peak_bytes: cgroup.memory_peak_bytes(),
        };
        self.exit = Some(exit);
        drop(lease);
        if let Some(netns) = netns {
            netns.give_back();
        }
        cgroup.release()?;
        Ok(exit)
    }
}

impl Drop for RunningSlice {
    fn drop(&mut self) {
        if self.live.is_some() {
            self.kill();
            if let Err(e) = self.wait() {
                tracing::warn!(error = %e, "cleaning up a dropped slice");
            }
        }
    }
}
