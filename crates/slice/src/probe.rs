//! Which kernel features a slice needs are available here, and why not when
//! one is missing. [`probe`] reads only `/proc` and `/sys`; it starts nothing.

use std::fmt;
use std::fs;
use std::path::Path;

use crate::cgroup::layout::{self, Controller, Layout};
use crate::error::{Result, SliceError};

/// One feature and whether it is available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureStatus {
    /// The feature, e.g. `user namespaces`.
    pub feature: &'static str,
    /// `Ok(what was found)` or `Err(why it is missing)`.
    pub status: Result<String, String>,
}

/// What [`probe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Every feature a slice needs, in the order checked.
    pub features: Vec<FeatureStatus>,
}

impl Probe {
    /// The first missing feature, if any.
    pub fn missing(&self) -> Option<&FeatureStatus> {
        self.features.iter().find(|f| f.status.is_err())
    }

    /// `Ok` when every feature is available, else an error naming the first
    /// missing one and the opt-out.
    pub fn require(&self) -> Result<()> {
        match self.missing() {
            None => Ok(()),
            Some(f) => Err(SliceError::Unsupported {
                feature: f.feature,
                detail: f.status.clone().err().unwrap_or_default(),
            }),
        }
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for feature in &self.features {
            match &feature.status {
                Ok(found) => writeln!(f, "yes  {}: {found}", feature.feature)?,
                Err(why) => writeln!(f, "NO   {}: {why}", feature.feature)?,
            }
        }
        Ok(())
    }
}

/// Checks every feature a slice needs.
pub fn probe() -> Probe {
    let layout = cgroup_layout();
    let mut features = vec![
        FeatureStatus {
            feature: "root privileges",
            status: root(),
        },
        FeatureStatus {
            feature: "user namespaces",
            status: user_namespaces(),
        },
        FeatureStatus {
            feature: "pid, mount, ipc, uts and network namespaces",
            status: other_namespaces(),
        },
        FeatureStatus {
            feature: "seccomp filters",
            status: seccomp(),
        },
    ];
    for c in Controller::ALL {
        features.push(FeatureStatus {
            feature: match c {
                Controller::Memory => "cgroup memory controller",
                Controller::Pids => "cgroup pids controller",
                Controller::Cpu => "cgroup cpu controller",
            },
            status: layout
                .place(c)
                .map(|p| format!("{:?} at `{}`", p.version, p.dir.display()))
                .map_err(str::to_owned),
        });
    }
    Probe { features }
}

/// This process's cgroup layout, read from `/proc`.
pub(crate) fn cgroup_layout() -> Layout {
    let cgroup = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    layout::detect(&cgroup, &mountinfo, &|dir: &Path| {
        fs::read_to_string(dir.join("cgroup.controllers")).ok()
    })
}

fn root() -> Result<String, String> {
    // The effective uid from /proc keeps this module free of `unsafe`.
    let status = fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .ok_or("no `Uid:` line in /proc/self/status")?;
    if euid == "0" {
        Ok("running as uid 0".into())
    } else {
        Err(format!(
            "slices are set up as root (mounts, cgroups, id mapping); running as uid {euid}"
        ))
    }
}

fn read_number(path: &str) -> Option<i64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn user_namespaces() -> Result<String, String> {
    if !Path::new("/proc/self/ns/user").exists() {
        return Err("the kernel has no user namespaces (CONFIG_USER_NS)".into());
    }
    match read_number("/proc/sys/user/max_user_namespaces") {
        Some(0) => return Err("`user.max_user_namespaces` is 0".into()),
        None => return Err("cannot read /proc/sys/user/max_user_namespaces".into()),
        Some(_) => {}
    }
    // The slice creates its user namespace after becoming its unprivileged
    // ephemeral uid, so unprivileged creation must be allowed (Debian knob).
    if read_number("/proc/sys/kernel/unprivileged_userns_clone") == Some(0) {
        return Err("`kernel.unprivileged_userns_clone` is 0".into());
    }
    if read_number("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == Some(1) {
        return Err("`kernel.apparmor_restrict_unprivileged_userns` is 1".into());
    }
    Ok("available to unprivileged users".into())
}

fn other_namespaces() -> Result<String, String> {
    for ns in ["pid", "mnt", "ipc", "uts", "net"] {
        if !Path::new("/proc/self/ns").join(ns).exists() {
            return Err(format!("the kernel has no `{ns}` namespaces"));
        }
    }
    Ok("available".into())
}

fn seccomp() -> Result<String, String> {
    let actions = fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail")
        .map_err(|_| "the kernel has no seccomp filters (CONFIG_SECCOMP_FILTER)".to_owned())?;
    for needed in ["errno", "kill_process"] {
        if !actions.split_whitespace().any(|a| a == needed) {
            return Err(format!("seccomp action `{needed}` is not available"));
        }
    }
    Ok("filter mode with errno and kill_process".into())
}
