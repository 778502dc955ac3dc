//! The seccomp filter every slice runs under: a classic-BPF program built
//! here, from a deny list, and installed by the child just before `execve`.
//!
//! Denied calls return `EPERM` (so programs see an ordinary error), except
//! `clone3`, which returns `ENOSYS` so that libc falls back to `clone`, whose
//! flags the filter can inspect. A foreign architecture or the x32 ABI kills
//! the process. The list is documented in `docs/slice-security.md`.

use libc::{c_long, sock_filter};

/// The system calls a slice may never make, with why.
pub const DENIED: &[(&str, c_long)] = &[
    // File system topology: a slice must not change what it sees.
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("chroot", libc::SYS_chroot),
    ("open_tree", libc::SYS_open_tree),
    ("move_mount", libc::SYS_move_mount),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("mount_setattr", libc::SYS_mount_setattr),
    // Namespaces: no new ones, no joining others.
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    // Other processes' memory.
    ("ptrace", libc::SYS_ptrace),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("kcmp", libc::SYS_kcmp),
    ("pidfd_getfd", libc::SYS_pidfd_getfd),
    // Kernel keyrings are not namespaced.
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    // Large kernel attack surface.
    ("bpf", libc::SYS_bpf),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    // The kernel itself.
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("reboot", libc::SYS_reboot),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("syslog", libc::SYS_syslog),
    ("acct", libc::SYS_acct),
    ("quotactl", libc::SYS_quotactl),
    // Host clocks.
    ("settimeofday", libc::SYS_settimeofday),
    ("clock_settime", libc::SYS_clock_settime),
    ("clock_adjtime", libc::SYS_clock_adjtime),
    ("adjtimex", libc::SYS_adjtimex),
    // File handles bypass the mount namespace (the "shocker" escape).
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    // Terminal injection into a shared tty.
    ("vhangup", libc::SYS_vhangup),
    #[cfg(target_arch = "x86_64")]
    ("iopl", libc::SYS_iopl),
    #[cfg(target_arch = "x86_64")]
    ("ioperm", libc::SYS_ioperm),
    #[cfg(target_arch = "x86_64")]
    ("uselib", libc::SYS_uselib),
];

/// `clone` flags that create namespaces; `clone` with any of them is denied.
pub const CLONE_NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWTIME) as u32;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("the slice seccomp filter knows x86_64 and aarch64 only");

/// System call numbers at or above this are the x32 ABI on x86_64.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Offsets into `struct seccomp_data`.
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
/// Low 32 bits of the first argument (little-endian).
const OFFSET_ARG0_LOW: u32 = 16;

const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const BPF_JSET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

const RET_ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const RET_KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
const RET_EPERM: u32 = libc::SECCOMP_RET_ERRNO | (libc::EPERM as u32);
const RET_ENOSYS: u32 = libc::SECCOMP_RET_ERRNO | (libc::ENOSYS as u32);

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// The filter program. Pure: the same instructions on every call. Each
/// denied call is one compare that jumps to a shared `EPERM` return, which
/// keeps the program short (installing it, JIT included, costs ~100 us).
pub fn program() -> Vec<sock_filter> {
    // From the last compare's successor to the deny return: clone3 (2),
    // clone's flag check (3), allow (1).
    const TAIL_LEN: usize = 6;
    let jump_to_deny = |i: usize| {
        u8::try_from(DENIED.len() - 1 - i + TAIL_LEN).expect("the deny list fits one BPF jump")
    };
    let mut p = Vec::with_capacity(DENIED.len() + 16);
    p.push(stmt(BPF_LD_W_ABS, OFFSET_ARCH));
    p.push(jump(BPF_JEQ_K, AUDIT_ARCH, 1, 0));
    p.push(stmt(BPF_RET_K, RET_KILL));
    p.push(stmt(BPF_LD_W_ABS, OFFSET_NR));
    if cfg!(target_arch = "x86_64") {
        p.push(jump(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1));
        p.push(stmt(BPF_RET_K, RET_KILL));
    }
    for (i, &(_, nr)) in DENIED.iter().enumerate() {
        p.push(jump(BPF_JEQ_K, syscall_nr(nr), jump_to_deny(i), 0));
    }
    p.push(jump(BPF_JEQ_K, syscall_nr(libc::SYS_clone3), 0, 1));
    p.push(stmt(BPF_RET_K, RET_ENOSYS));
    p.push(jump(BPF_JEQ_K, syscall_nr(libc::SYS_clone), 0, 2));
    p.push(stmt(BPF_LD_W_ABS, OFFSET_ARG0_LOW));
    p.push(jump(BPF_JSET_K, CLONE_NAMESPACE_FLAGS, 1, 0));
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p.push(stmt(BPF_RET_K, RET_EPERM));
    p
}

fn syscall_nr(nr: c_long) -> u32 {
    u32::try_from(nr).expect("system call numbers are small and non-negative")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny classic-BPF interpreter, enough for the instructions above, so
    /// the filter's decisions are tested without installing it.
    fn run(prog: &[sock_filter], nr: u32, arch: u32, arg0: u32) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = prog[pc];
            match i.code {
                BPF_LD_W_ABS => {
                    acc = match i.k {
                        OFFSET_NR => nr,
                        OFFSET_ARCH => arch,
                        OFFSET_ARG0_LOW => arg0,
                        other => panic!("unexpected load offset {other}"),
                    };
                    pc += 1;
                }
                BPF_RET_K => return i.k,
                code => {
                    let taken = match code {
                        BPF_JEQ_K => acc == i.k,
                        BPF_JGE_K => acc >= i.k,
                        BPF_JSET_K => acc & i.k != 0,
                        other => panic!("unexpected opcode {other:#x}"),
                    };
                    pc += 1 + usize::from(if taken { i.jt } else { i.jf });
                }
            }
        }
    }

    fn decide(nr: c_long, arg0: u32) -> u32 {
        run(&program(), syscall_nr(nr), AUDIT_ARCH, arg0)
    }

    #[test]
    fn every_denied_call_gets_eperm() {
        for &(name, nr) in DENIED {
            assert_eq!(decide(nr, 0), RET_EPERM, "{name}");
        }
    }

    #[test]
    fn ordinary_calls_are_allowed() {
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_execve,
            libc::SYS_exit_group,
        ] {
            assert_eq!(decide(nr, 0), RET_ALLOW, "{nr}");
        }
    }

    #[test]
    fn clone_is_allowed_without_namespace_flags_only() {
        let fork_flags = (libc::CLONE_CHILD_SETTID | libc::SIGCHLD) as u32;
        assert_eq!(decide(libc::SYS_clone, fork_flags), RET_ALLOW);
        let userns = libc::CLONE_NEWUSER as u32 | fork_flags;
        assert_eq!(decide(libc::SYS_clone, userns), RET_EPERM);
        assert_eq!(decide(libc::SYS_clone3, 0), RET_ENOSYS);
    }

    #[test]
    fn foreign_architectures_and_x32_are_killed() {
        assert_eq!(run(&program(), 0, 0x4000_0003, 0), RET_KILL);
        if cfg!(target_arch = "x86_64") {
            assert_eq!(
                run(&program(), X32_SYSCALL_BIT | 1, AUDIT_ARCH, 0),
                RET_KILL
            );
        }
    }
}
