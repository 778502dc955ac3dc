//! Thin safe wrappers over the few raw system calls the parent side needs.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;

/// Sends `signal` to `pid`; errors (e.g. the process is gone) are ignored.
pub(crate) fn kill(pid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill(2) takes plain integers and touches no memory.
    unsafe { libc::kill(pid, signal) };
}

/// Sets the kernel buffer of the pipe behind `fd` to at least `bytes`
/// (`F_SETPIPE_SZ`, capped by `/proc/sys/fs/pipe-max-size` for
/// unprivileged callers) and returns the size the kernel chose.
pub fn set_pipe_buffer_bytes(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<usize> {
    let wanted = libc::c_int::try_from(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pipe buffer too large"))?;
    // SAFETY: fcntl on a live descriptor with an integer argument; no memory is involved.
    let set = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, wanted) };
    if set < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(set.unsigned_abs() as usize)
}

/// This process's effective uid.
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid(2) takes nothing and cannot fail.
    unsafe { libc::geteuid() }
}

/// Waits for `pid` to exit and returns its raw wait status.
pub(crate) fn wait_pid(pid: libc::pid_t) -> io::Result<libc::c_int> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid, writable c_int for the call's duration.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == pid {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Whether `pid` has exited, leaving it unreaped (so its pid, and the
/// process group it leads, are not reused yet); blocks when `block`.
pub(crate) fn has_exited(pid: libc::pid_t, block: bool) -> io::Result<bool> {
    let mut flags = libc::WEXITED | libc::WNOWAIT;
    if !block {
        flags |= libc::WNOHANG;
    }
    loop {
        // SAFETY: zeroed siginfo_t is a valid value to be written by waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is valid and writable for the call's duration.
        let r = unsafe { libc::waitid(libc::P_PID, pid.unsigned_abs(), &mut info, flags) };
        if r == 0 {
            // SAFETY: waitid filled `info`; si_pid is 0 when nothing exited (WNOHANG).
            return Ok(unsafe { info.si_pid() } == pid);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// The raw wait status of `pid` if it has exited, without blocking.
pub(crate) fn try_wait_pid(pid: libc::pid_t) -> io::Result<Option<libc::c_int>> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid, writable c_int for the call's duration.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL | libc::WNOHANG) };
        if r == pid {
            return Ok(Some(status));
        }
        if r == 0 {
            return Ok(None);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Duplicates `fd` to the lowest free descriptor at or above `min`, close-on-exec.
pub(crate) fn dup_at_least(fd: BorrowedFd<'_>, min: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a borrowed, open descriptor; no memory involved.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `r` is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// Blocks every signal on this thread until dropped, so that no handler of
/// the parent can run on the child's side of `clone(CLONE_VM)`.
#[derive(Debug)]
pub(crate) struct SignalsBlocked {
    old: libc::sigset_t,
}

impl SignalsBlocked {
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: an all-zero sigset_t is a valid value that sigfillset overwrites.
        let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above; `old` is written by pthread_sigmask.
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers are to live, writable sigset_t values.
        let r = unsafe {
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old)
        };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(Self { old })
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`; the pointer is live.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut()) };
    }
}

/// Restores this process's dumpable flag when dropped.
#[derive(Debug)]
pub(crate) struct Dumpable(libc::c_int);

impl Dumpable {
    pub(crate) fn save() -> Self {
        // SAFETY: prctl with integer arguments; returns the flag.
        Self(unsafe { libc::prctl(libc::PR_GET_DUMPABLE) })
    }
}

impl Drop for Dumpable {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: prctl with integer arguments.
            unsafe { libc::prctl(libc::PR_SET_DUMPABLE, self.0 as libc::c_ulong) };
        }
    }
}

/// A stack for the child of `clone(CLONE_VM)`, with a guard page below it so
/// that an overflow faults instead of writing into the parent's memory.
#[derive(Debug)]
pub(crate) struct ChildStack {
    base: NonNull<libc::c_void>,
    len: usize,
}

impl ChildStack {
    /// Size of the child's stack; its setup code uses a few KiB.
    pub(crate) const LEN: usize = 256 << 10;
    const GUARD: usize = 4096;

    pub(crate) fn new() -> io::Result<Self> {
        let len = Self::LEN + Self::GUARD;
        // SAFETY: an anonymous private mapping with no address hint.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Self {
            base: NonNull::new(base).ok_or_else(io::Error::last_os_error)?,
            len,
        };
        // SAFETY: the first page of the mapping just created.
        if unsafe { libc::mprotect(base, Self::GUARD, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The lowest usable address, just above the guard page.
    pub(crate) fn bottom(&self) -> *mut libc::c_void {
        // SAFETY: the guard page is the first page of the mapping.
        unsafe { self.base.as_ptr().cast::<u8>().add(Self::GUARD).cast() }
    }

    /// The top of the stack (stacks grow down on the supported targets).
    pub(crate) fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of the mapping, which is what clone expects.
        unsafe { self.base.as_ptr().cast::<u8>().add(self.len).cast() }
    }
}

// SAFETY: the stack is a private mapping owned by this value; it is only
// used by a child while a lock serializes spawns (`spawn.rs`).
unsafe impl Send for ChildStack {}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; every child that
        // used it has exec'd or exited (CLONE_VFORK) before this runs.
        unsafe { libc::munmap(self.base.as_ptr(), self.len) };
    }
}

/// The highest capability number the running kernel knows.
pub(crate) fn cap_last_cap() -> libc::c_int {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(63)
}

/// Makes glibc's allocator keep the memory a process frees for its next
/// allocations: blocks up to `mmap_threshold_bytes` come from the heap
/// instead of fresh mappings, and the heap is given back to the kernel only
/// when more than `trim_threshold_bytes` of it is free
/// (`mallopt(M_MMAP_THRESHOLD)` and `mallopt(M_TRIM_THRESHOLD)`, which also
/// stop glibc from moving these thresholds itself). A run that frees and
/// allocates batch-sized buffers all the time then stops faulting pages in
/// again. Returns whether the allocator took both settings; `false` on a
/// C library other than glibc.
pub fn keep_freed_heap_memory(mmap_threshold_bytes: usize, trim_threshold_bytes: usize) -> bool {
    #[cfg(target_env = "gnu")]
    {
        let (Ok(mmap), Ok(trim)) = (
            libc::c_int::try_from(mmap_threshold_bytes),
            libc::c_int::try_from(trim_threshold_bytes),
        ) else {
            return false;
        };
        // SAFETY: mallopt(3) takes two integers and only changes the
        // allocator's parameters; it is safe to call at any time.
        let set_mmap = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, mmap) };
        // SAFETY: as above.
        let set_trim = unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, trim) };
        set_mmap == 1 && set_trim == 1
    }
    #[cfg(not(target_env = "gnu"))]
    {
        let _ = (mmap_threshold_bytes, trim_threshold_bytes);
        false
    }
}
