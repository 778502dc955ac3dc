//! Creating a slice's child: `clone3` with `CLONE_CLEAR_SIGHAND` where the
//! kernel takes it, the classic `clone` otherwise.
//!
//! The child shares this process's memory until it execs (`CLONE_VM |
//! CLONE_VFORK`), so none of the parent's signal handlers may ever run in
//! it. `CLONE_CLEAR_SIGHAND` (Linux 5.5) has the kernel reset every handler
//! to the default as it creates the child. Without it the child resets them
//! itself, reading each signal's disposition first: about 60 system calls,
//! ~30 µs of a ~1 ms spawn on the machines of `bench/slice`. `clone3` is
//! refused with `ENOSYS` by kernels before 5.3 and by container runtimes'
//! seccomp profiles, and `CLONE_CLEAR_SIGHAND` with `EINVAL` before 5.5;
//! either way the first refusal is remembered and `clone` used from then
//! on. Only x86_64 has the `clone3` path (the child must start on its own
//! stack, which takes a few instructions of assembly per architecture);
//! other targets use `clone`.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::child::{ChildArgs, child_main};
use crate::sys::ChildStack;

/// Set once `clone3` has refused the flags a slice needs.
static CLONE3_REFUSED: AtomicBool = AtomicBool::new(false);

/// Clones the child that runs [`child_main`] with `args` on `stack`.
/// `namespaces` are the `CLONE_NEW*` flags; the child shares this process's
/// memory and this thread is suspended until it has exec'd or exited.
/// Records in `args` whether the kernel has reset its signal handlers.
pub(crate) fn clone_child(
    namespaces: c_int,
    stack: &ChildStack,
    args: &ChildArgs<'_>,
) -> io::Result<libc::pid_t> {
    if !CLONE3_REFUSED.load(Ordering::Relaxed) {
        args.handlers_cleared.store(true, Ordering::Relaxed);
        match clone3_child(namespaces, stack, args) {
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EINVAL)) => {
                CLONE3_REFUSED.store(true, Ordering::Relaxed);
            }
            cloned => return cloned,
        }
    }
    args.handlers_cleared.store(false, Ordering::Relaxed);
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | namespaces | libc::SIGCHLD;
    // SAFETY: `child_main` runs on `stack`, which outlives the child's use of
    // it (CLONE_VFORK suspends this thread until the child execs or exits);
    // `args` outlives the call for the same reason.
    let pid = unsafe {
        libc::clone(
            child_main,
            stack.top(),
            flags,
            (args as *const ChildArgs<'_>).cast_mut().cast::<c_void>(),
        )
    };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

/// The kernel's `struct clone_args` (the version with `cgroup`, Linux 5.7).
#[repr(C)]
#[derive(Debug, Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `clone3`'s flag that resets every signal handler in the child.
const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

#[cfg(target_arch = "x86_64")]
fn clone3_child(
    namespaces: c_int,
    stack: &ChildStack,
    args: &ChildArgs<'_>,
) -> io::Result<libc::pid_t> {
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | namespaces;
    let clone_args = CloneArgs {
        flags: u64::from(flags.unsigned_abs()) | CLONE_CLEAR_SIGHAND,
        exit_signal: libc::SIGCHLD as u64,
        stack: stack.bottom() as u64,
        stack_size: ChildStack::LEN as u64,
        ..CloneArgs::default()
    };
    let entry: extern "C" fn(*mut c_void) -> c_int = child_main;
    let arg = (args as *const ChildArgs<'_>).cast_mut().cast::<c_void>();
    let result: i64;
    // SAFETY: the kernel reads `clone_args` (live for the call) and starts
    // the child on `stack` (16-byte aligned at its top, which the kernel
    // makes the child's stack pointer), with this thread's registers. The
    // child calls `entry(arg)` there and exits with what it returns; it
    // never comes back into this function. `child_main` never returns
    // into Rust code of this thread, and this thread is suspended
    // (CLONE_VFORK) until the child has exec'd or exited, so the stack,
    // `args` and everything the child reads outlive its use of them. The
    // parent's side only gets the result in rax: the kernel preserves every
    // register but rax, rcx and r11.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            // The child: no caller frame; entry(arg); exit(its result).
            "xor ebp, ebp",
            "mov rdi, r13",
            "call r12",
            "mov edi, eax",
            "mov eax, {exit}",
            "syscall",
            "ud2",
            "2:",
            exit = const libc::SYS_exit,
            inlateout("rax") libc::SYS_clone3 => result,
            in("rdi") &raw const clone_args,
            in("rsi") size_of::<CloneArgs>(),
            in("r12") entry,
            in("r13") arg,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    if result < 0 {
        let errno = i32::try_from(-result).unwrap_or(libc::EINVAL);
        return Err(io::Error::from_raw_os_error(errno));
    }
    Ok(libc::pid_t::try_from(result).expect("clone3 returns a pid"))
}

#[cfg(not(target_arch = "x86_64"))]
fn clone3_child(
    _namespaces: c_int,
    _stack: &ChildStack,
    _args: &ChildArgs<'_>,
) -> io::Result<libc::pid_t> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}
