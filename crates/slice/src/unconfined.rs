//! Starting a program with no confinement at all, for an explicit
//! `--isolation none`: the same spec, environment and pipes, as an ordinary
//! child process. No namespaces, no cgroup limits, no seccomp; the caller
//! must have been asked for this. It still dies with the thread that
//! started it when the spec says so, as a slice does.

#![allow(unsafe_code)] // `pre_exec`, to set the parent-death signal.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::error::{Result, SliceError};
use crate::running::RunningSlice;
use crate::spawn::{ParentEnds, Slice};
use crate::spec::{SliceSpec, Stdio};

impl Slice {
    /// Starts `spec`'s program as a plain child process. The working
    /// directory is translated to its host path when it is inside one of
    /// [`SliceSpec::binds_ro_at`]; binds, limits, ids and the network
    /// setting do not apply. Data descriptors are refused: they need a slice.
    pub fn spawn_unconfined(spec: &SliceSpec) -> Result<RunningSlice> {
        spec.validate()?;
        if !spec.data_fds.is_empty() {
            return Err(SliceError::InvalidSpec(
                "data descriptors are handed over only to confined slices".into(),
            ));
        }
        // The one place besides the confined spawn that starts a process.
        #[allow(clippy::disallowed_methods)]
        let mut command = std::process::Command::new(&spec.program);
        command
            .args(&spec.args)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir(host_workdir(spec))
            .stdin(child_stdio(&spec.stdin)?)
            .stdout(child_stdio(&spec.stdout)?)
            .stderr(child_stdio(&spec.stderr)?)
            // A group of its own: what it leaves running is killed with it.
            .process_group(0);
        if spec.kill_on_parent_death {
            let parent = libc::pid_t::try_from(std::process::id()).expect("pids fit in pid_t");
            // SAFETY: the closure runs in the forked child before exec and
            // makes only async-signal-safe calls (prctl, getppid).
            unsafe {
                command.pre_exec(move || die_with_parent(parent));
            }
        }
        let mut child = command.spawn().map_err(|source| SliceError::Os {
            call: "spawn",
            error: source,
        })?;
        let ends = ParentEnds {
            stdin: child
                .stdin
                .take()
                .map(|s| io::PipeWriter::from(OwnedFd::from(s))),
            stdout: child
                .stdout
                .take()
                .map(|s| io::PipeReader::from(OwnedFd::from(s))),
            stderr: child
                .stderr
                .take()
                .map(|s| io::PipeReader::from(OwnedFd::from(s))),
        };
        ends.size_pipes(spec.pipe_buffer_bytes);
        let pid = libc::pid_t::try_from(child.id()).expect("pids fit in pid_t");
        // Dropping a `Child` neither kills nor waits: `RunningSlice` does both.
        drop(child);
        Ok(RunningSlice::unconfined(pid, ends))
    }
}

/// In the child before exec: be killed when the spawning thread ends,
/// and end now if the parent `parent` already has (the signal is asked
/// for too late to come).
fn die_with_parent(parent: libc::pid_t) -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getppid has no arguments and cannot fail.
    if unsafe { libc::getppid() } != parent {
        return Err(io::Error::other(
            "the parent ended before the program started",
        ));
    }
    Ok(())
}

/// The host path of the spec's working directory.
fn host_workdir(spec: &SliceSpec) -> PathBuf {
    for (host, inside) in &spec.binds_ro_at {
        if let Ok(rest) = spec.workdir.strip_prefix(inside) {
            return host.join(rest);
        }
    }
    if spec.workdir == Path::new("/tmp") {
        return std::env::temp_dir();
    }
    spec.workdir.clone()
}

fn child_stdio(stdio: &Stdio) -> Result<std::process::Stdio> {
    Ok(match stdio {
        Stdio::Null => std::process::Stdio::null(),
        Stdio::Inherit => std::process::Stdio::inherit(),
        Stdio::Piped => std::process::Stdio::piped(),
        Stdio::Fd(fd) => {
            std::process::Stdio::from(fd.try_clone().map_err(|source| SliceError::Os {
                call: "dup",
                error: source,
            })?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_working_directory_is_translated_to_its_host_path() {
        let mut spec = SliceSpec::new("/bin/true");
        spec.binds_ro_at = vec![(PathBuf::from("/data/scenario"), PathBuf::from("/step"))];
        spec.workdir = PathBuf::from("/step/sub");
        assert_eq!(host_workdir(&spec), Path::new("/data/scenario/sub"));
        spec.workdir = PathBuf::from("/elsewhere");
        assert_eq!(host_workdir(&spec), Path::new("/elsewhere"));
    }
}
