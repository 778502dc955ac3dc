//! A slice's program starts with no signal blocked and SIGPIPE at its
//! default, whatever this (Rust) process does with its own signals; other
//! ignored signals stay ignored, as across any `fork` and `execve`. Both
//! where the kernel resets the handlers (`clone3` with
//! `CLONE_CLEAR_SIGHAND`) and where `clone3` is refused, as container
//! runtimes' seccomp profiles do. (`execve` itself resets handled signals,
//! so `SigCgt` shows what the program sees, not whether a handler could
//! have run before the exec.)
#![allow(unsafe_code)]

mod common;

use std::io::Read;

use common::isolation_available;
use runink_slice::{Slice, SliceSpec, Stdio};

extern "C" fn do_nothing(_signal: libc::c_int) {}

/// The value of `field` (e.g. `SigIgn`) in a `/proc/<pid>/status` text.
fn mask(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    u64::from_str_radix(line.trim(), 16).expect("a hexadecimal mask")
}

/// `/proc/self/status` as `cat` run in a slice sees it.
fn status_in_a_slice() -> String {
    let mut spec = SliceSpec::new("/bin/cat").arg("/proc/self/status");
    spec.stdout = Stdio::Piped;
    let mut slice = Slice::spawn(&spec).expect("spawn cat in a slice");
    let mut status = String::new();
    slice
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut status)
        .expect("read cat's output");
    assert!(slice.wait().expect("wait for cat").success());
    status
}

/// This process handles SIGUSR1 and ignores SIGPIPE (as every Rust program
/// does).
fn handle_usr1_and_ignore_sigpipe() {
    // SAFETY: installs a handler that does nothing; ignoring SIGPIPE is what
    // the Rust runtime already did.
    unsafe {
        libc::signal(libc::SIGUSR1, do_nothing as *const () as libc::sighandler_t);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

fn bit(signal: libc::c_int) -> u64 {
    1 << (signal - 1)
}

fn assert_slice_signals_are_clean() {
    let ours = std::fs::read_to_string("/proc/self/status").expect("read our status");
    assert_ne!(mask(&ours, "SigIgn") & bit(libc::SIGPIPE), 0);
    assert_ne!(mask(&ours, "SigCgt") & bit(libc::SIGUSR1), 0);
    let theirs = status_in_a_slice();
    assert_eq!(mask(&theirs, "SigBlk"), 0, "{theirs}");
    assert_eq!(mask(&theirs, "SigCgt"), 0, "{theirs}");
    assert_eq!(
        mask(&theirs, "SigIgn"),
        mask(&ours, "SigIgn") & !bit(libc::SIGPIPE),
        "{theirs}"
    );
}

#[test]
fn a_slice_starts_with_sigpipe_at_its_default_and_nothing_blocked() {
    if !isolation_available("signal dispositions") {
        return;
    }
    handle_usr1_and_ignore_sigpipe();
    assert_slice_signals_are_clean();
}

/// Makes `clone3` fail with ENOSYS on this thread, as Docker's default
/// seccomp profile does.
fn refuse_clone3_on_this_thread() {
    let arch_offset = 4;
    let nr_offset = 0;
    #[cfg(target_arch = "x86_64")]
    let audit_arch = 0xC000_003E;
    #[cfg(target_arch = "aarch64")]
    let audit_arch = 0xC000_00B7;
    let ld = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    let jeq = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    let ret = (libc::BPF_RET | libc::BPF_K) as u16;
    let insn = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let filter = [
        insn(ld, 0, 0, arch_offset),
        insn(jeq, 0, 3, audit_arch),
        insn(ld, 0, 0, nr_offset),
        insn(jeq, 0, 1, libc::SYS_clone3 as u32),
        insn(ret, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        insn(ret, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `filter`, live for the call; the kernel
    // copies it. Root may install a filter without no_new_privs.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &prog as *const libc::sock_fprog as libc::c_ulong,
        )
    };
    assert_eq!(r, 0, "seccomp: {}", std::io::Error::last_os_error());
    // SAFETY: clone3 with no arguments only returns an error.
    let r = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    assert_eq!((r, errno), (-1, Some(libc::ENOSYS)), "clone3 is refused");
}

#[test]
fn without_clone3_a_slice_still_starts_with_sigpipe_at_its_default() {
    if !isolation_available("signal dispositions without clone3") {
        return;
    }
    handle_usr1_and_ignore_sigpipe();
    refuse_clone3_on_this_thread();
    assert_slice_signals_are_clean();
    // And again, once the refusal is remembered.
    assert_slice_signals_are_clean();
}
