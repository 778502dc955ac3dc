//! Where each cgroup controller a slice needs lives for this process: on a
//! cgroup v1 hierarchy or on the v2 unified one, and in which directory.
//! Detected per controller, because machines mix the two (memory, pids and
//! cpu on v1 beside a v2 mount that carries only hugetlb). Pure: it reads the
//! text of `/proc/self/cgroup` and `/proc/self/mountinfo`, and asks a
//! callback for a v2 group's `cgroup.controllers`.

use std::path::{Path, PathBuf};

/// A cgroup controller a slice is limited by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Controller {
    /// `memory`: the memory limit and out-of-memory kills.
    Memory,
    /// `pids`: the process count limit.
    Pids,
    /// `cpu`: the CPU quota.
    Cpu,
}

impl Controller {
    /// Every controller, in a fixed order.
    pub const ALL: [Controller; 3] = [Controller::Memory, Controller::Pids, Controller::Cpu];

    /// The kernel's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpu => "cpu",
        }
    }
}

/// Which cgroup interface a controller is used through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CgroupVersion {
    /// A v1 hierarchy: one mount per controller (or per co-mounted set).
    V1,
    /// The v2 unified hierarchy.
    V2,
}

/// Where a controller is: its interface and this process's own group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Placement {
    /// v1 or v2.
    pub version: CgroupVersion,
    /// The directory of this process's group in that hierarchy.
    pub dir: PathBuf,
}

/// The placement of every controller, or why it is unavailable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    places: Vec<(Controller, Result<Placement, String>)>,
}

impl Layout {
    /// Where `controller` is, or why it cannot be used.
    pub fn place(&self, controller: Controller) -> Result<&Placement, &str> {
        self.places
            .iter()
            .find(|(c, _)| *c == controller)
            .map(|(_, p)| p.as_ref().map_err(String::as_str))
            .unwrap_or(Err("not probed"))
    }
}

struct Mount {
    root: String,
    mount_point: PathBuf,
    fs_type: String,
    super_options: String,
}

/// Detects the layout from the two files' text. `v2_controllers` returns the
/// content of `cgroup.controllers` in a v2 directory, if readable.
pub fn detect(
    proc_self_cgroup: &str,
    mountinfo: &str,
    v2_controllers: &dyn Fn(&Path) -> Option<String>,
) -> Layout {
    let mounts: Vec<Mount> = mountinfo.lines().filter_map(parse_mount).collect();
    let places = Controller::ALL
        .iter()
        .map(|&c| (c, place(c, proc_self_cgroup, &mounts, v2_controllers)))
        .collect();
    Layout { places }
}

fn place(
    controller: Controller,
    proc_self_cgroup: &str,
    mounts: &[Mount],
    v2_controllers: &dyn Fn(&Path) -> Option<String>,
) -> Result<Placement, String> {
    let name = controller.name();
    let mut v2_path = None;
    for line in proc_self_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(list), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if id == "0" && list.is_empty() {
            v2_path = Some(path);
            continue;
        }
        if !list.split(',').any(|c| c == name) {
            continue;
        }
        let mount = mounts
            .iter()
            .find(|m| m.fs_type == "cgroup" && m.super_options.split(',').any(|o| o == name))
            .ok_or_else(|| format!("the v1 `{name}` hierarchy is not mounted"))?;
        return Ok(Placement {
            version: CgroupVersion::V1,
            dir: join_below(mount, path)?,
        });
    }
    let path = v2_path.ok_or_else(|| format!("no cgroup hierarchy has the `{name}` controller"))?;
    let mount = mounts
        .iter()
        .find(|m| m.fs_type == "cgroup2")
        .ok_or_else(|| format!("`{name}` is on no v1 hierarchy and cgroup v2 is not mounted"))?;
    let dir = join_below(mount, path)?;
    let enabled = v2_controllers(&dir).unwrap_or_default();
    if !enabled.split_whitespace().any(|c| c == name) {
        return Err(format!(
            "`{name}` is on no v1 hierarchy and not enabled in the v2 group `{}`",
            dir.display()
        ));
    }
    Ok(Placement {
        version: CgroupVersion::V2,
        dir,
    })
}

/// The directory of cgroup `path` under `mount`, whose root may itself be a
/// sub-group (a bind-mounted or namespaced cgroup file system).
fn join_below(mount: &Mount, path: &str) -> Result<PathBuf, String> {
    let root = mount.root.trim_end_matches('/');
    let rest = path.strip_prefix(root).ok_or_else(|| {
        format!(
            "cgroup `{path}` is outside the mount `{}` (root `{}`)",
            mount.mount_point.display(),
            mount.root
        )
    })?;
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() {
        return Ok(mount.mount_point.clone());
    }
    Ok(mount.mount_point.join(rest))
}

/// One line of `/proc/self/mountinfo`:
/// `id parent major:minor root mount-point options [optional…] - type source super-options`.
fn parse_mount(line: &str) -> Option<Mount> {
    let (left, right) = line.split_once(" - ")?;
    let mut l = left.split(' ');
    let root = unescape(l.nth(3)?);
    let mount_point = PathBuf::from(unescape(l.next()?));
    let mut r = right.split(' ');
    let fs_type = r.next()?.to_owned();
    let super_options = r.nth(1).unwrap_or("").to_owned();
    Some(Mount {
        root,
        mount_point,
        fs_type,
        super_options,
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This project's machines: memory, pids and cpu on v1; v2 with hugetlb only.
    const MIXED_CGROUP: &str = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n\
        2:cpuacct:/\n1:cpu:/\n0::/\n";
    const MIXED_MOUNTS: &str = "\
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
34 30 0:30 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    const V2_CGROUP: &str = "0::/user.slice/runi.scope\n";
    const V2_MOUNTS: &str = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";

    fn hugetlb_only(_: &Path) -> Option<String> {
        Some("hugetlb\n".into())
    }

    fn everything(_: &Path) -> Option<String> {
        Some("cpuset cpu io memory hugetlb pids rdma misc\n".into())
    }

    #[test]
    fn mixed_machine_puts_memory_pids_and_cpu_on_v1() {
        let layout = detect(MIXED_CGROUP, MIXED_MOUNTS, &hugetlb_only);
        let memory = layout.place(Controller::Memory).unwrap();
        assert_eq!(memory.version, CgroupVersion::V1);
        assert_eq!(
            memory.dir,
            Path::new("/sys/fs/cgroup/memory/process_api/abc")
        );
        assert_eq!(
            layout.place(Controller::Pids).unwrap().dir,
            Path::new("/sys/fs/cgroup/pids")
        );
        let cpu = layout.place(Controller::Cpu).unwrap();
        assert_eq!(
            (cpu.version, cpu.dir.as_path()),
            (CgroupVersion::V1, Path::new("/sys/fs/cgroup/cpu"))
        );
    }

    #[test]
    fn pure_v2_machine_uses_the_unified_group() {
        let layout = detect(V2_CGROUP, V2_MOUNTS, &everything);
        for c in Controller::ALL {
            let p = layout.place(c).unwrap();
            assert_eq!(p.version, CgroupVersion::V2);
            assert_eq!(p.dir, Path::new("/sys/fs/cgroup/user.slice/runi.scope"));
        }
    }

    #[test]
    fn v2_controller_not_enabled_is_reported() {
        let layout = detect(V2_CGROUP, V2_MOUNTS, &hugetlb_only);
        let why = layout.place(Controller::Memory).unwrap_err();
        assert!(why.contains("not enabled in the v2 group"), "{why}");
    }

    #[test]
    fn unmounted_v1_hierarchy_is_reported() {
        let mounts = MIXED_MOUNTS.replace("rw,memory", "rw,blkio");
        let layout = detect(MIXED_CGROUP, &mounts, &hugetlb_only);
        let why = layout.place(Controller::Memory).unwrap_err();
        assert!(
            why.contains("v1 `memory` hierarchy is not mounted"),
            "{why}"
        );
    }

    #[test]
    fn co_mounted_controllers_and_namespaced_roots() {
        let cgroup = "3:cpu,cpuacct:/docker/x/y\n";
        let mounts =
            "40 30 0:40 /docker/x /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n";
        let layout = detect(cgroup, mounts, &hugetlb_only);
        assert_eq!(
            layout.place(Controller::Cpu).unwrap().dir,
            Path::new("/sys/fs/cgroup/cpu,cpuacct/y")
        );
    }

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape(r"/mnt/with\040space"), "/mnt/with space");
        assert_eq!(unescape(r"/plain\x"), r"/plain\x");
    }
}
