//! The child's side of spawning a slice: everything between `clone` and
//! `execve`, and the read-only root it starts in. The child shares the
//! parent's memory (`CLONE_VM | CLONE_VFORK`, the cloning thread is suspended
//! meanwhile), so this code allocates nothing, takes no locks and calls only
//! raw system calls: every string and table it needs was prepared by the
//! parent in a [`ChildPlan`]. A failed step is recorded in a [`Failure`] the
//! parent reads after the child exits.
//!
//! The root is built once per tree, not per slice (see `template.rs`): a
//! thread moves into a private mount namespace, builds the tree on a tmpfs
//! ([`enter_template_root`]: binds remounted read-only, devices),
//! `pivot_root`s into it and detaches the host's tree. A slice's child
//! joins that namespace and copies it, so its mount namespace is its own
//! copy of the small tree and holds nothing of the host's.
//!
//! Order in the child matters. As root in the host user namespace (but
//! already in new pid, ipc, uts and network namespaces, the last one made
//! by `clone` or prepared by [`crate::netns_pool`] and joined here) the
//! child joins its cgroups, joins and copies its template's mount
//! namespace, mounts its own scratch `/tmp` and `/proc` (with `/proc/sys`
//! read-only). Then it becomes its ephemeral uid/gid (losing
//! every host capability), makes a user namespace mapping that id to
//! [`crate::spec::INNER_ID`], drops every capability the new namespace gave
//! it, asks for SIGKILL when its parent dies (only now: changing ids clears
//! that request), sets no_new_privs, installs the seccomp filter and execs.
#![allow(unsafe_code)]

use std::convert::Infallible;
use std::ffi::{CString, c_char, c_int, c_uint, c_ulong, c_void};
use std::os::fd::RawFd;
use std::ptr::null;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

/// One bind mount: `src` on `dst`, then remounted read-only with `flags`.
#[derive(Debug)]
pub(crate) struct Bind {
    pub src: CString,
    pub dst: CString,
    pub remount_flags: c_ulong,
}

/// The read-only tree of a template, built at `staging` (every path below
/// is under it) by the template's thread.
#[derive(Debug)]
pub(crate) struct RootPlan {
    pub staging: CString,
    pub root_options: CString,
    pub dirs: Vec<CString>,
    pub files: Vec<CString>,
    /// (link target, link path)
    pub symlinks: Vec<(CString, CString)>,
    pub binds: Vec<Bind>,
    /// (host device, its mount point in the new root)
    pub devices: Vec<(CString, CString)>,
}

/// Everything the child needs, prepared by the parent.
#[derive(Debug)]
pub(crate) struct ChildPlan {
    pub scratch_options: CString,
    pub cgroup_procs: Vec<RawFd>,
    /// A prepared network namespace to join; `None` when `clone` made one
    /// (or the slice shares the host's network).
    pub netns: Option<RawFd>,
    /// The template's mount namespace, joined then copied.
    pub mount_namespace: RawFd,
    pub kill_on_parent_death: bool,
    pub hostname: CString,
    pub uid: u32,
    pub gid: u32,
    pub uid_map: CString,
    pub gid_map: CString,
    pub cap_last: c_int,
    /// (source, target): every source is at or above `close_from`.
    pub fd_moves: Vec<(RawFd, RawFd)>,
    pub close_from: c_uint,
    pub workdir: CString,
    pub filter: Vec<libc::sock_filter>,
    pub program: CString,
    /// Null-terminated pointers into `strings`.
    pub argv: Vec<*const c_char>,
    pub envp: Vec<*const c_char>,
    /// Owns what `argv` and `envp` point to.
    #[expect(
        dead_code,
        reason = "only kept alive for the pointers in argv and envp"
    )]
    pub strings: Vec<CString>,
}

/// A setup step, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Step {
    ParentDeathSignal = 1,
    JoinCgroup,
    JoinNetworkNamespace,
    JoinRoot,
    CopyRoot,
    MakeMountsPrivate,
    MountRoot,
    MakeDir,
    MakeFile,
    MakeSymlink,
    BindMount,
    RemountReadOnly,
    BindDevice,
    MountScratch,
    MountProc,
    ProtectProcSys,
    PivotRoot,
    DetachOldRoot,
    ReadOnlyRoot,
    SetHostname,
    DropGroups,
    SetGid,
    SetUid,
    NewUserNamespace,
    DenySetgroups,
    WriteUidMap,
    WriteGidMap,
    SetDumpable,
    LockSecurebits,
    DropBoundingSet,
    DropCapabilities,
    MoveFds,
    CloseFds,
    Chdir,
    NoNewPrivs,
    Seccomp,
    Exec,
}

impl Step {
    const ALL: [Step; 37] = [
        Step::ParentDeathSignal,
        Step::JoinCgroup,
        Step::JoinNetworkNamespace,
        Step::JoinRoot,
        Step::CopyRoot,
        Step::MakeMountsPrivate,
        Step::MountRoot,
        Step::MakeDir,
        Step::MakeFile,
        Step::MakeSymlink,
        Step::BindMount,
        Step::RemountReadOnly,
        Step::BindDevice,
        Step::MountScratch,
        Step::MountProc,
        Step::ProtectProcSys,
        Step::PivotRoot,
        Step::DetachOldRoot,
        Step::ReadOnlyRoot,
        Step::SetHostname,
        Step::DropGroups,
        Step::SetGid,
        Step::SetUid,
        Step::NewUserNamespace,
        Step::DenySetgroups,
        Step::WriteUidMap,
        Step::WriteGidMap,
        Step::SetDumpable,
        Step::LockSecurebits,
        Step::DropBoundingSet,
        Step::DropCapabilities,
        Step::MoveFds,
        Step::CloseFds,
        Step::Chdir,
        Step::NoNewPrivs,
        Step::Seccomp,
        Step::Exec,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Step::ParentDeathSignal => "set the parent-death signal",
            Step::JoinCgroup => "join the slice cgroups",
            Step::JoinNetworkNamespace => "join the prepared network namespace",
            Step::JoinRoot => "join the root template's mount namespace",
            Step::CopyRoot => "copy the root template's mount namespace",
            Step::MakeMountsPrivate => "make mounts private",
            Step::MountRoot => "mount the root tmpfs",
            Step::MakeDir => "create a directory in the new root",
            Step::MakeFile => "create a bind target in the new root",
            Step::MakeSymlink => "create a symbolic link in the new root",
            Step::BindMount => "bind mount",
            Step::RemountReadOnly => "remount a bind read-only",
            Step::BindDevice => "bind a device",
            Step::MountScratch => "mount the scratch tmpfs",
            Step::MountProc => "mount /proc",
            Step::ProtectProcSys => "make /proc/sys read-only",
            Step::PivotRoot => "pivot_root",
            Step::DetachOldRoot => "detach the old root",
            Step::ReadOnlyRoot => "remount the root read-only",
            Step::SetHostname => "set the hostname",
            Step::DropGroups => "drop supplementary groups",
            Step::SetGid => "set the ephemeral gid",
            Step::SetUid => "set the ephemeral uid",
            Step::NewUserNamespace => "create the user namespace",
            Step::DenySetgroups => "deny setgroups",
            Step::WriteUidMap => "write uid_map",
            Step::WriteGidMap => "write gid_map",
            Step::SetDumpable => "set dumpable",
            Step::LockSecurebits => "lock securebits",
            Step::DropBoundingSet => "drop the capability bounding set",
            Step::DropCapabilities => "drop capabilities",
            Step::MoveFds => "move file descriptors",
            Step::CloseFds => "close other file descriptors",
            Step::Chdir => "change to the working directory",
            Step::NoNewPrivs => "set no_new_privs",
            Step::Seccomp => "install the seccomp filter",
            Step::Exec => "execve",
        }
    }
}

/// Where a failed child leaves its step and errno for the parent.
#[derive(Debug, Default)]
pub(crate) struct Failure {
    step: AtomicUsize,
    errno: AtomicI32,
}

impl Failure {
    /// The failed step and its errno, if the child failed.
    pub(crate) fn get(&self) -> Option<(Step, i32)> {
        let index = self.step.load(Ordering::Acquire);
        let step = Step::ALL.into_iter().find(|s| *s as usize == index)?;
        Some((step, self.errno.load(Ordering::Acquire)))
    }
}

/// What `clone` passes to [`child_main`].
#[derive(Debug)]
pub(crate) struct ChildArgs<'a> {
    pub plan: &'a ChildPlan,
    pub failure: &'a Failure,
    /// Whether the kernel reset the child's signal handlers (`clone.rs`).
    pub handlers_cleared: AtomicBool,
}

/// The entry point of the cloned child.
pub(crate) extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `ChildArgs` the parent passed to clone; it lives in
    // the parent's frame, which is suspended (CLONE_VFORK) until we exec or exit.
    let args = unsafe { &*arg.cast::<ChildArgs<'_>>() };
    let Err((step, errno)) = run(args.plan, args.handlers_cleared.load(Ordering::Relaxed));
    args.failure.errno.store(errno, Ordering::Release);
    args.failure.step.store(step as usize, Ordering::Release);
    // SAFETY: _exit ends this process without running the parent's atexit
    // handlers or touching shared stdio buffers.
    unsafe { libc::_exit(127) }
}

type StepResult<T = ()> = Result<T, (Step, c_int)>;

fn errno() -> c_int {
    // SAFETY: the thread's errno location is always valid to read.
    unsafe { *libc::__errno_location() }
}

fn check(step: Step, r: c_int) -> StepResult {
    if r < 0 { Err((step, errno())) } else { Ok(()) }
}

fn check_long(step: Step, r: libc::c_long) -> StepResult {
    if r < 0 { Err((step, errno())) } else { Ok(()) }
}

fn run(plan: &ChildPlan, handlers_cleared: bool) -> StepResult<Infallible> {
    if !handlers_cleared {
        reset_handlers();
    }
    // Rust programs ignore SIGPIPE; the slice's program gets the default.
    // SAFETY: sets a default disposition with integer arguments.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    for &fd in &plan.cgroup_procs {
        // SAFETY: writes one byte from a static string to an open descriptor.
        let r = unsafe { libc::write(fd, c"0".as_ptr().cast(), 1) };
        if r != 1 {
            return Err((Step::JoinCgroup, errno()));
        }
    }
    if let Some(fd) = plan.netns {
        // SAFETY: setns on a namespace descriptor the parent holds open.
        check(Step::JoinNetworkNamespace, unsafe {
            libc::setns(fd, libc::CLONE_NEWNET)
        })?;
    }
    // SAFETY: setns on a namespace descriptor the parent holds open; it
    // makes the template's tree this process's root and working directory.
    check(Step::JoinRoot, unsafe {
        libc::setns(plan.mount_namespace, libc::CLONE_NEWNS)
    })?;
    // SAFETY: integer argument only; the copy is this slice's own.
    check(Step::CopyRoot, unsafe { libc::unshare(libc::CLONE_NEWNS) })?;
    mount_own(plan)?;
    // SAFETY: a NUL-terminated name owned by the plan, with its length.
    check(Step::SetHostname, unsafe {
        libc::sethostname(plan.hostname.as_ptr(), plan.hostname.as_bytes().len())
    })?;
    become_unprivileged(plan)?;
    if plan.kill_on_parent_death {
        // After the ids change: the kernel clears the parent-death signal
        // when a process's uid or gid changes, so set earlier it was lost
        // and a slice outlived a killed parent.
        // SAFETY: prctl with integer arguments.
        check(Step::ParentDeathSignal, unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as c_ulong)
        })?;
    }
    setup_fds(plan)?;
    // SAFETY: chdir to a NUL-terminated path owned by the plan.
    check(Step::Chdir, unsafe { libc::chdir(plan.workdir.as_ptr()) })?;
    // SAFETY: prctl with integer arguments.
    check(Step::NoNewPrivs, unsafe {
        libc::prctl(
            libc::PR_SET_NO_NEW_PRIVS,
            1 as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
        )
    })?;
    let prog = libc::sock_fprog {
        len: plan.filter.len() as u16,
        filter: plan.filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at the filter the plan owns; the kernel copies it.
    check(Step::Seccomp, unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as c_ulong,
            &prog as *const libc::sock_fprog as c_ulong,
        )
    })?;
    unblock_signals();
    // SAFETY: program, argv and envp are NUL-terminated and owned by the plan;
    // argv and envp end with a null pointer.
    unsafe {
        libc::execve(
            plan.program.as_ptr(),
            plan.argv.as_ptr(),
            plan.envp.as_ptr(),
        )
    };
    Err((Step::Exec, errno()))
}

/// Resets every signal that has a handler to the default, as
/// `CLONE_CLEAR_SIGHAND` does: the parent's handlers must not run here.
/// Ignored signals stay ignored, as across any `fork` and `execve`.
fn reset_handlers() {
    for signal in 1..=libc::SIGRTMAX() {
        // SAFETY: an all-zero sigaction is a valid value for the kernel to overwrite.
        let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: reads the disposition into `current`, which lives on this
        // stack; errors (reserved signals) leave it SIG_DFL.
        unsafe { libc::sigaction(signal, null(), &mut current) };
        if current.sa_sigaction != libc::SIG_DFL && current.sa_sigaction != libc::SIG_IGN {
            // SAFETY: sets a default disposition with integer arguments.
            unsafe { libc::signal(signal, libc::SIG_DFL) };
        }
    }
}

fn unblock_signals() {
    // SAFETY: an empty set built on this stack, passed by pointer for the call only.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

fn mount(
    step: Step,
    src: *const c_char,
    dst: *const c_char,
    fs_type: *const c_char,
    flags: c_ulong,
    data: *const c_char,
) -> StepResult {
    // SAFETY: every pointer is null or a NUL-terminated string owned by the plan
    // or a static literal.
    check(step, unsafe {
        libc::mount(src, dst, fs_type, flags, data.cast())
    })
}

/// Builds the template's tree on a tmpfs at `staging`, makes it the root of
/// the calling thread's (private) mount namespace, detaches the host's tree
/// and makes the root read-only. Runs on the template's thread, once.
pub(crate) fn enter_template_root(plan: &RootPlan) -> StepResult {
    build_root(plan)?;
    // SAFETY: chdir to a NUL-terminated path owned by the plan.
    check(Step::PivotRoot, unsafe {
        libc::chdir(plan.staging.as_ptr())
    })?;
    // pivot_root(".", ".") stacks the old root on top of the new one; the
    // detach below then removes it without needing a directory for it.
    // SAFETY: both arguments are static NUL-terminated strings.
    check_long(Step::PivotRoot, unsafe {
        libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr())
    })?;
    // SAFETY: a static NUL-terminated path.
    check(Step::DetachOldRoot, unsafe {
        libc::umount2(c".".as_ptr(), libc::MNT_DETACH)
    })?;
    // SAFETY: a static NUL-terminated path.
    check(Step::DetachOldRoot, unsafe { libc::chdir(c"/".as_ptr()) })?;
    let none = null();
    mount(
        Step::ReadOnlyRoot,
        none,
        c"/".as_ptr(),
        none,
        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
        none,
    )
}

fn build_root(plan: &RootPlan) -> StepResult {
    let none = null();
    mount(
        Step::MakeMountsPrivate,
        none,
        c"/".as_ptr(),
        none,
        libc::MS_REC | libc::MS_PRIVATE,
        none,
    )?;
    mount(
        Step::MountRoot,
        c"tmpfs".as_ptr(),
        plan.staging.as_ptr(),
        c"tmpfs".as_ptr(),
        libc::MS_NOSUID | libc::MS_NODEV,
        plan.root_options.as_ptr(),
    )?;
    for dir in &plan.dirs {
        // SAFETY: mkdir on a NUL-terminated path owned by the plan.
        check(Step::MakeDir, unsafe { libc::mkdir(dir.as_ptr(), 0o755) })?;
    }
    for file in &plan.files {
        // SAFETY: creates an empty file at a NUL-terminated path owned by the plan.
        let fd = unsafe {
            libc::open(
                file.as_ptr(),
                libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                0o644,
            )
        };
        check(Step::MakeFile, fd)?;
        // SAFETY: closes the descriptor just opened.
        unsafe { libc::close(fd) };
    }
    for (target, link) in &plan.symlinks {
        // SAFETY: both paths are NUL-terminated and owned by the plan.
        check(Step::MakeSymlink, unsafe {
            libc::symlink(target.as_ptr(), link.as_ptr())
        })?;
    }
    for bind in &plan.binds {
        mount(
            Step::BindMount,
            bind.src.as_ptr(),
            bind.dst.as_ptr(),
            none,
            libc::MS_BIND,
            none,
        )?;
        mount(
            Step::RemountReadOnly,
            none,
            bind.dst.as_ptr(),
            none,
            bind.remount_flags,
            none,
        )?;
    }
    for (device, dst) in &plan.devices {
        mount(
            Step::BindDevice,
            device.as_ptr(),
            dst.as_ptr(),
            none,
            libc::MS_BIND,
            none,
        )?;
    }
    Ok(())
}

/// Mounts what is the slice's own in its copy of the template's tree: a
/// scratch tmpfs on `/tmp` and a fresh `/proc` with `/proc/sys` read-only.
fn mount_own(plan: &ChildPlan) -> StepResult {
    let none = null();
    mount(
        Step::MountScratch,
        c"tmpfs".as_ptr(),
        c"/tmp".as_ptr(),
        c"tmpfs".as_ptr(),
        libc::MS_NOSUID | libc::MS_NODEV,
        plan.scratch_options.as_ptr(),
    )?;
    mount(
        Step::MountProc,
        c"proc".as_ptr(),
        c"/proc".as_ptr(),
        c"proc".as_ptr(),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        none,
    )?;
    mount(
        Step::ProtectProcSys,
        c"/proc/sys".as_ptr(),
        c"/proc/sys".as_ptr(),
        none,
        libc::MS_BIND,
        none,
    )?;
    mount(
        Step::ProtectProcSys,
        none,
        c"/proc/sys".as_ptr(),
        none,
        libc::MS_BIND
            | libc::MS_REMOUNT
            | libc::MS_RDONLY
            | libc::MS_NOSUID
            | libc::MS_NODEV
            | libc::MS_NOEXEC,
        none,
    )
}

/// Becomes the ephemeral uid/gid in a new user namespace without capabilities.
fn become_unprivileged(plan: &ChildPlan) -> StepResult {
    // Raw system calls, not libc's wrappers: glibc's set*id broadcast the
    // change to every thread of the process, which here are the parent's.
    // SAFETY: setgroups with an empty list.
    check_long(Step::DropGroups, unsafe {
        libc::syscall(
            libc::SYS_setgroups,
            0 as libc::c_long,
            null::<libc::gid_t>(),
        )
    })?;
    let (uid, gid) = (plan.uid as libc::c_long, plan.gid as libc::c_long);
    // SAFETY: integer arguments only.
    check_long(Step::SetGid, unsafe {
        libc::syscall(libc::SYS_setresgid, gid, gid, gid)
    })?;
    // Leaving uid 0 clears every capability in the host user namespace.
    // SAFETY: integer arguments only.
    check_long(Step::SetUid, unsafe {
        libc::syscall(libc::SYS_setresuid, uid, uid, uid)
    })?;
    // The uid change made the mm non-dumpable, which makes /proc/self owned
    // by root; the maps below are written through /proc/self. The flag lives
    // on the mm this child shares with the parent: the parent serializes
    // spawns around clone (see `spawn.rs`) and restores its own flag.
    // SAFETY: prctl with integer arguments.
    check(Step::SetDumpable, unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 1 as c_ulong)
    })?;
    // SAFETY: integer argument only.
    check(Step::NewUserNamespace, unsafe {
        libc::unshare(libc::CLONE_NEWUSER)
    })?;
    write_file(
        Step::DenySetgroups,
        c"/proc/self/setgroups".as_ptr(),
        b"deny",
    )?;
    write_file(
        Step::WriteUidMap,
        c"/proc/self/uid_map".as_ptr(),
        plan.uid_map.as_bytes(),
    )?;
    write_file(
        Step::WriteGidMap,
        c"/proc/self/gid_map".as_ptr(),
        plan.gid_map.as_bytes(),
    )?;
    drop_capabilities(plan.cap_last)
}

/// Drops the full capability set a new user namespace grants its creator.
fn drop_capabilities(cap_last: c_int) -> StepResult {
    const SECBIT_NOROOT: c_ulong = 1 << 0;
    const SECBIT_NOROOT_LOCKED: c_ulong = 1 << 1;
    const SECBIT_NO_SETUID_FIXUP_LOCKED: c_ulong = 1 << 3;
    const SECBIT_KEEP_CAPS_LOCKED: c_ulong = 1 << 5;
    const CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let bits = SECBIT_NOROOT
        | SECBIT_NOROOT_LOCKED
        | SECBIT_NO_SETUID_FIXUP_LOCKED
        | SECBIT_KEEP_CAPS_LOCKED;
    // SAFETY: prctl with integer arguments.
    check(Step::LockSecurebits, unsafe {
        libc::prctl(libc::PR_SET_SECUREBITS, bits)
    })?;
    for cap in 0..=cap_last {
        // SAFETY: prctl with integer arguments.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as c_ulong) };
        if r < 0 && errno() != libc::EINVAL {
            return Err((Step::DropBoundingSet, errno()));
        }
    }
    // SAFETY: prctl with integer arguments; EINVAL (no ambient set) is fine.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
        )
    };
    #[repr(C)]
    struct Header {
        version: u32,
        pid: c_int,
    }
    #[repr(C)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let header = Header {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let zero = [
        Data {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        },
        Data {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        },
    ];
    // SAFETY: header and data are live, correctly laid out for capset v3.
    check_long(Step::DropCapabilities, unsafe {
        libc::syscall(libc::SYS_capset, &header as *const Header, zero.as_ptr())
    })
}

fn write_file(step: Step, path: *const c_char, data: &[u8]) -> StepResult {
    // SAFETY: `path` is a NUL-terminated static or plan-owned string.
    let fd = unsafe { libc::open(path, libc::O_WRONLY | libc::O_CLOEXEC) };
    check(step, fd)?;
    // SAFETY: writes `data`, a live slice, to the descriptor just opened.
    let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let saved = errno();
    // SAFETY: closes the descriptor just opened.
    unsafe { libc::close(fd) };
    if written != data.len() as isize {
        return Err((step, saved));
    }
    Ok(())
}

/// Puts the standard streams and data descriptors in place and closes the rest.
fn setup_fds(plan: &ChildPlan) -> StepResult {
    for &(src, dst) in &plan.fd_moves {
        // SAFETY: integer arguments only; sources are above every target.
        check(Step::MoveFds, unsafe { libc::dup2(src, dst) })?;
    }
    // SAFETY: integer arguments only.
    check_long(Step::CloseFds, unsafe {
        libc::syscall(
            libc::SYS_close_range,
            plan.close_from,
            c_uint::MAX,
            0 as c_uint,
        )
    })
}
