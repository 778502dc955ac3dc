//! Starting a slice: the [`Slicer`] prepares everything the child needs
//! (cgroups, ids, descriptors, network namespace, seccomp program), has the
//! root template of its tree clone it into new namespaces (see
//! `template.rs`) and waits until it has exec'd or failed.
#![allow(unsafe_code)]

use std::ffi::{CString, OsStr};
use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::cgroup::{Cgroups, SliceCgroup};
use crate::child::{Bind, ChildArgs, ChildPlan, Failure, RootPlan, Step};
use crate::error::{Result, SliceError};
use crate::ids::IdAllocator;
use crate::netns_pool::{NetnsLease, NetnsPool};
use crate::probe::{cgroup_layout, probe};
use crate::running::RunningSlice;
use crate::spec::{INNER_ID, SliceSpec, Stdio};
use crate::sys::{self, ChildStack, SignalsBlocked};
use crate::template::{RootTemplate, RootTemplates, TreeKey};
use crate::{clone, seccomp, tree};

/// Where the new root is assembled in each child's private mount namespace.
pub const STAGING_DIR_DEFAULT: &str = "/run/runink-slice-root";
/// Size of the tmpfs holding the new root's mount points.
const ROOT_TMPFS_OPTIONS: &str = "mode=0755,size=1m,nr_inodes=4096";
/// Hostname inside every slice.
const HOSTNAME: &str = "slice";

/// Starts slices. One per process is enough (see [`Slice::spawn`]); creating
/// it removes cgroups left behind by dead Runink processes.
#[derive(Debug)]
pub struct Slicer {
    cgroups: Cgroups,
    ids: IdAllocator,
    staging: PathBuf,
    cap_last: libc::c_int,
    filter: Vec<libc::sock_filter>,
    /// Network namespaces made ahead, for slices without the network.
    netns: NetnsPool,
    /// Trees built once, with the thread that clones slices into them.
    templates: RootTemplates,
}

/// Numbers slice groups; per process, because every `Slicer` of a process
/// shares its `runink/<pid>` cgroup parent.
static NEXT_SLICE: AtomicU64 = AtomicU64::new(0);

/// The process-wide [`Slicer`] behind [`Slice::spawn`].
static SLICER: OnceLock<Slicer> = OnceLock::new();

/// Held from clone to the child's exec (see `clone_child`), with the stack
/// every child of this process runs on until then, made on first use.
static SPAWN_LOCK: Mutex<Option<ChildStack>> = Mutex::new(None);

/// Shortcut to the process-wide [`Slicer`].
#[derive(Debug)]
pub struct Slice;

/// Held while the process-wide [`Slicer`] is made, so that only one is.
static SLICER_INIT: Mutex<()> = Mutex::new(());

impl Slice {
    /// Starts a slice with the process-wide [`Slicer`], creating it on first use.
    pub fn spawn(spec: &SliceSpec) -> Result<RunningSlice> {
        process_slicer()?.spawn(spec)
    }
}

/// Removes the cgroups the process-wide [`Slicer`] keeps (its pool of
/// ready groups and this process's `runink/<pid>` parents), if it was
/// made. Call as the process ends, when none of its slices runs: the
/// `Slicer` is a static and is never dropped.
pub fn release_process_cgroups() {
    if let Some(slicer) = SLICER.get() {
        slicer.cgroups.remove_all();
    }
}

fn process_slicer() -> Result<&'static Slicer> {
    if let Some(slicer) = SLICER.get() {
        return Ok(slicer);
    }
    let _making = SLICER_INIT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(slicer) = SLICER.get() {
        return Ok(slicer);
    }
    let slicer = Slicer::new()?;
    Ok(SLICER.get_or_init(|| slicer))
}

impl Slicer {
    /// Checks the kernel, opens this process's cgroups and removes stale
    /// ones, and prepares [`STAGING_DIR_DEFAULT`].
    pub fn new() -> Result<Self> {
        Self::with_staging_dir(PathBuf::from(STAGING_DIR_DEFAULT))
    }

    /// As [`Slicer::new`], with the new roots assembled at `staging` (an
    /// empty directory owned by root; created if missing).
    pub fn with_staging_dir(staging: PathBuf) -> Result<Self> {
        probe().require()?;
        let cgroups = Cgroups::open(&cgroup_layout())?;
        prepare_staging(&staging)?;
        Ok(Self {
            cgroups,
            ids: IdAllocator::default(),
            staging,
            cap_last: sys::cap_last_cap(),
            filter: seccomp::program(),
            netns: NetnsPool::start(),
            templates: RootTemplates::default(),
        })
    }

    /// Starts `spec` as a confined process. Returns once the program has
    /// been exec'd; a failure before that is an error naming the step.
    pub fn spawn(&self, spec: &SliceSpec) -> Result<RunningSlice> {
        spec.validate()?;
        let template = self.template(spec)?;
        let lease = self.ids.lease(spec.ids)?;
        let cgroup = self.cgroups.create(&next_group_name(), &spec.limits)?;
        let fds = Descriptors::new(spec)?;
        let network = if spec.network {
            Network::Host
        } else {
            match self.netns.take() {
                Some(prepared) => Network::Prepared(prepared),
                None => Network::New,
            }
        };
        let plan = self.child_plan(spec, &template, &network, &cgroup, &fds, lease.id())?;
        let cloned = clone_child(&plan, &network)?;
        // The slice holds its namespaces now; the template's descriptor
        // goes, a lent network namespace stays with the slice until it has
        // been reaped.
        drop(template);
        let netns = match network {
            Network::Prepared(lent) => Some(lent),
            Network::Host | Network::New => None,
        };
        let Descriptors { parent_ends, .. } = fds;
        parent_ends.size_pipes(spec.pipe_buffer_bytes);
        match cloned {
            Ok(pid) => Ok(RunningSlice::new(pid, parent_ends, cgroup, lease, netns)),
            Err((pid, step, errno)) => {
                // The child has exited (CLONE_VFORK returned); reap it.
                match sys::wait_pid(pid) {
                    Ok(_) => {
                        if let Some(lent) = netns {
                            lent.give_back();
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot reap a failed slice"),
                }
                cgroup.remove()?;
                Err(setup_error(step, errno))
            }
        }
    }

    /// The root template of `spec`'s tree, built on first use.
    fn template(&self, spec: &SliceSpec) -> Result<std::sync::Arc<RootTemplate>> {
        let key = TreeKey {
            program: spec.program.clone(),
            libraries: spec.libraries.clone(),
            binds_ro: spec.binds_ro.clone(),
            binds_ro_at: spec.binds_ro_at.clone(),
        };
        self.templates.get(&key, || {
            let tree = tree::plan(
                &spec.program,
                &spec.libraries,
                &spec.binds_ro,
                &spec.binds_ro_at,
            )?;
            Ok((self.root_plan(&tree)?, cstring(tree.program.as_os_str())?))
        })
    }

    /// The template's tree, every path under the staging directory.
    fn root_plan(&self, tree: &tree::Tree) -> Result<RootPlan> {
        let inside = |p: &Path| {
            cstring(
                self.staging
                    .join(p.strip_prefix("/").unwrap_or(p))
                    .as_os_str(),
            )
        };
        let mut binds = Vec::with_capacity(tree.binds.len());
        for b in &tree.binds {
            binds.push(Bind {
                src: cstring(b.source.as_os_str())?,
                dst: inside(&b.path)?,
                remount_flags: remount_flags(&b.source)?,
            });
        }
        Ok(RootPlan {
            staging: cstring(self.staging.as_os_str())?,
            root_options: cstring(OsStr::new(ROOT_TMPFS_OPTIONS))?,
            dirs: tree.dirs.iter().map(|d| inside(d)).collect::<Result<_>>()?,
            files: tree
                .files
                .iter()
                .map(|f| inside(f))
                .collect::<Result<_>>()?,
            symlinks: tree
                .symlinks
                .iter()
                .map(|(target, link)| Ok((cstring(target.as_os_str())?, inside(link)?)))
                .collect::<Result<_>>()?,
            binds,
            devices: tree::DEVICES
                .iter()
                .map(|d| Ok((cstring(OsStr::new(d))?, inside(Path::new(d))?)))
                .collect::<Result<_>>()?,
        })
    }

    fn child_plan(
        &self,
        spec: &SliceSpec,
        template: &RootTemplate,
        network: &Network,
        cgroup: &SliceCgroup,
        fds: &Descriptors,
        id: u32,
    ) -> Result<ChildPlan> {
        let mut strings = Vec::with_capacity(1 + spec.args.len() + spec.env.len());
        strings.push(cstring(spec.program.as_os_str())?);
        for a in &spec.args {
            strings.push(cstring(a)?);
        }
        let argc = strings.len();
        for (k, v) in &spec.env {
            if k.is_empty() || k.as_bytes().contains(&b'=') {
                return Err(SliceError::InvalidSpec(format!(
                    "environment name `{}` is empty or contains `=`",
                    k.to_string_lossy()
                )));
            }
            let mut entry = k.clone();
            entry.push("=");
            entry.push(v);
            strings.push(cstring(&entry)?);
        }
        let mut argv: Vec<_> = strings[..argc].iter().map(|s| s.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<_> = strings[argc..].iter().map(|s| s.as_ptr()).collect();
        envp.push(std::ptr::null());
        Ok(ChildPlan {
            scratch_options: cstring(OsStr::new(&format!(
                "mode=1777,size={}",
                spec.scratch_bytes
            )))?,
            cgroup_procs: cgroup.procs_fds(),
            netns: match network {
                Network::Prepared(lent) => Some(lent.as_raw_fd()),
                Network::Host | Network::New => None,
            },
            mount_namespace: template.mount_namespace.as_raw_fd(),
            kill_on_parent_death: spec.kill_on_parent_death,
            hostname: cstring(OsStr::new(HOSTNAME))?,
            uid: id,
            gid: id,
            uid_map: cstring(OsStr::new(&format!("{INNER_ID} {id} 1\n")))?,
            gid_map: cstring(OsStr::new(&format!("{INNER_ID} {id} 1\n")))?,
            cap_last: self.cap_last,
            fd_moves: fds
                .moves
                .iter()
                .map(|(fd, target)| (fd.as_raw_fd(), *target))
                .collect(),
            close_from: fds.close_from,
            workdir: cstring(spec.workdir.as_os_str())?,
            filter: self.filter.clone(),
            program: template.program.clone(),
            argv,
            envp,
            strings,
        })
    }
}

/// A new cgroup name, unique in this process.
fn next_group_name() -> String {
    format!("s{}", NEXT_SLICE.fetch_add(1, Ordering::Relaxed))
}

fn cstring(s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        SliceError::InvalidSpec(format!("`{}` contains a NUL byte", s.to_string_lossy()))
    })
}

/// Flags for remounting a bind of `path` read-only. Flags the source mount
/// already has (noexec, atime) are kept: a remount may not clear them.
fn remount_flags(path: &Path) -> Result<libc::c_ulong> {
    let mut flags =
        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;
    let c = cstring(path.as_os_str())?;
    // SAFETY: an all-zero statvfs is valid and is overwritten by the call.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated and `st` is a live, writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(SliceError::Path {
            path: path.to_owned(),
            error: io::Error::last_os_error(),
        });
    }
    for (st_flag, ms_flag) in [
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if st.f_flag & st_flag != 0 {
            flags |= ms_flag;
        }
    }
    Ok(flags)
}

fn prepare_staging(staging: &Path) -> Result<()> {
    let path_error = |source| SliceError::Path {
        path: staging.to_owned(),
        error: source,
    };
    match fs::create_dir(staging) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(path_error(e)),
    }
    // Only the children mount here, each in its own mount namespace; it must
    // be a real directory that only root controls.
    let meta = fs::symlink_metadata(staging).map_err(path_error)?;
    if !meta.is_dir() || meta.uid() != 0 || meta.mode() & 0o022 != 0 {
        return Err(SliceError::InvalidSpec(format!(
            "staging directory `{}` must be a directory owned by root and writable only by it",
            staging.display()
        )));
    }
    Ok(())
}

fn setup_error(step: Step, errno: i32) -> SliceError {
    let source = io::Error::from_raw_os_error(errno);
    if step == Step::NewUserNamespace {
        return SliceError::Unsupported {
            feature: "user namespaces",
            detail: format!("an unprivileged process cannot create one: {source}"),
        };
    }
    SliceError::Setup {
        step: step.name(),
        error: source,
    }
}

/// `/dev/null`, opened once per process for every slice's null streams.
fn dev_null() -> io::Result<&'static fs::File> {
    static DEV_NULL: OnceLock<fs::File> = OnceLock::new();
    if let Some(null) = DEV_NULL.get() {
        return Ok(null);
    }
    let null = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    Ok(DEV_NULL.get_or_init(|| null))
}

/// The caller's ends of the standard pipes.
#[derive(Debug, Default)]
pub(crate) struct ParentEnds {
    pub stdin: Option<io::PipeWriter>,
    pub stdout: Option<io::PipeReader>,
    pub stderr: Option<io::PipeReader>,
}

impl ParentEnds {
    /// Gives each pipe the kernel buffer `bytes` asks for, if any.
    pub(crate) fn size_pipes(&self, bytes: Option<usize>) {
        let Some(bytes) = bytes else { return };
        let fds = [
            self.stdin.as_ref().map(AsFd::as_fd),
            self.stdout.as_ref().map(AsFd::as_fd),
            self.stderr.as_ref().map(AsFd::as_fd),
        ];
        for fd in fds.into_iter().flatten() {
            if let Err(e) = sys::set_pipe_buffer_bytes(fd, bytes) {
                tracing::debug!(error = %e, "a slice pipe left at its default size");
            }
        }
    }
}

/// The descriptors the child gets, each duplicated above every target so
/// that the child's `dup2`s never overwrite one another.
#[derive(Debug)]
struct Descriptors {
    /// (source, target in the child)
    moves: Vec<(OwnedFd, RawFd)>,
    close_from: libc::c_uint,
    parent_ends: ParentEnds,
}

impl Descriptors {
    fn new(spec: &SliceSpec) -> Result<Self> {
        let data_count = RawFd::try_from(spec.data_fds.len()).expect("DATA_FDS_MAX is small");
        let close_from = 3 + data_count;
        let os = |call| {
            move |source| SliceError::Os {
                call,
                error: source,
            }
        };
        let above = |fd: &dyn AsFd| sys::dup_at_least(fd.as_fd(), close_from).map_err(os("dup"));
        let mut moves = Vec::with_capacity(3 + spec.data_fds.len());
        let mut parent_ends = ParentEnds::default();
        for (target, stdio) in [(0, &spec.stdin), (1, &spec.stdout), (2, &spec.stderr)] {
            let fd = match stdio {
                Stdio::Inherit => continue,
                Stdio::Null => above(dev_null().map_err(os("open /dev/null"))?)?,
                Stdio::Fd(fd) => above(fd)?,
                Stdio::Piped => {
                    let (reader, writer) = io::pipe().map_err(os("pipe"))?;
                    if target == 0 {
                        parent_ends.stdin = Some(writer);
                        above(&reader)?
                    } else {
                        let fd = above(&writer)?;
                        if target == 1 {
                            parent_ends.stdout = Some(reader);
                        } else {
                            parent_ends.stderr = Some(reader);
                        }
                        fd
                    }
                }
            };
            moves.push((fd, target));
        }
        for (i, fd) in spec.data_fds.iter().enumerate() {
            let target = 3 + RawFd::try_from(i).expect("DATA_FDS_MAX is small");
            moves.push((above(fd)?, target));
        }
        Ok(Self {
            moves,
            close_from: libc::c_uint::try_from(close_from).expect("small and positive"),
            parent_ends,
        })
    }
}

/// Where a slice's network namespace comes from.
#[derive(Debug)]
enum Network {
    /// The host's: the slice asked for the network.
    Host,
    /// One from the [`NetnsPool`] (made ahead, or given back by a reaped
    /// slice), joined by the child.
    Prepared(NetnsLease),
    /// A fresh one made by `clone` (none was ready).
    New,
}

/// Clones the child into its namespaces and returns once it has exec'd
/// (`Ok(Ok(pid))`) or failed (`Ok(Err((pid, step, errno)))`).
#[allow(clippy::type_complexity)]
fn clone_child(
    plan: &ChildPlan,
    network: &Network,
) -> Result<Result<libc::pid_t, (libc::pid_t, Step, i32)>> {
    let os = |call| {
        move |source| SliceError::Os {
            call,
            error: source,
        }
    };
    let failure = Failure::default();
    let args = ChildArgs {
        plan,
        failure: &failure,
        handlers_cleared: AtomicBool::new(false),
    };
    // No CLONE_NEWNS: the child joins its template's mount namespace and
    // copies it (see `child.rs`), rather than copying this process's.
    let mut namespaces = libc::CLONE_NEWPID | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS;
    if matches!(network, Network::New) {
        namespaces |= libc::CLONE_NEWNET;
    }
    // The child changes the dumpable flag of the mm it shares with this
    // process (its uid change clears it; it sets it again to write its id
    // maps through /proc/self). One flag per process, so one child at a time
    // between clone and exec; the flag is restored once the child is gone.
    // The same lock lends the child the process's one child stack.
    let mut serialized = SPAWN_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let stack = match serialized.take() {
        Some(stack) => stack,
        None => ChildStack::new().map_err(os("mmap the child stack"))?,
    };
    let signals = SignalsBlocked::new().map_err(os("block signals"))?;
    let dumpable = sys::Dumpable::save();
    let cloned = clone::clone_child(namespaces, &stack, &args);
    drop(dumpable);
    drop(signals);
    *serialized = Some(stack);
    drop(serialized);
    let pid = match cloned {
        Ok(pid) => pid,
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            return Err(SliceError::Unsupported {
                feature: "namespaces",
                detail: format!("clone with new namespaces was refused: {e}"),
            });
        }
        Err(e) => {
            return Err(SliceError::Os {
                call: "clone",
                error: e,
            });
        }
    };
    Ok(match failure.get() {
        None => Ok(pid),
        Some((step, errno)) => Err((pid, step, errno)),
    })
}
