//! Removal of the slice groups a killed parent left behind: at start, every
//! `runink/<pid>` whose process is gone is emptied (its remaining processes
//! killed) and removed. Assumes the parents sharing a cgroup directory share
//! this process's pid namespace, so that `/proc/<pid>` tells liveness.

use std::fs;
use std::path::Path;

use super::group::remove_group;

/// Removes the groups of dead parents under `subtree` (`<own group>/runink`).
/// Best effort: what cannot be removed is logged and retried next start.
pub(crate) fn remove_dead_parents(subtree: &Path) {
    let Ok(entries) = fs::read_dir(subtree) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let parent = entry.path();
        tracing::info!(path = %parent.display(), "removing the slice cgroups of dead parent {pid}");
        if let Ok(groups) = fs::read_dir(&parent) {
            for group in groups.flatten().filter(|g| g.path().is_dir()) {
                kill_members(&group.path());
                if let Err(e) = remove_group(&group.path()) {
                    tracing::warn!(error = %e, "cannot remove a stale slice cgroup");
                }
            }
        }
        if let Err(e) = remove_group(&parent) {
            tracing::warn!(error = %e, "cannot remove a stale slice cgroup parent");
        }
    }
}

/// SIGKILLs every process still in a stale group (a slice whose parent died).
fn kill_members(group: &Path) {
    let Ok(procs) = fs::read_to_string(group.join("cgroup.procs")) else {
        return;
    };
    for pid in procs
        .lines()
        .filter_map(|l| l.trim().parse::<libc::pid_t>().ok())
    {
        crate::sys::kill(pid, libc::SIGKILL);
    }
}
