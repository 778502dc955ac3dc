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
const BPF_JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
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

/// Most compares at a leaf of the search tree below.
const LEAF_LEN_MAX: usize = 3;

/// Where a decided system call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Allow,
    Deny,
    /// `clone3`: `ENOSYS`, so that libc falls back to `clone`.
    NotImplemented,
    /// `clone`: allowed unless its flags create a namespace.
    CheckCloneFlags,
}

/// The filter program. Pure: the same instructions on every call.
///
/// After the architecture checks, the system call number goes down a
/// binary search tree of the special numbers (the deny list, `clone`,
/// `clone3`), so any call is decided in about a dozen instructions. That
/// matters when the filter is installed: the kernel runs the filter once
/// for every system call number to cache which are always allowed, and a
/// linear chain of ~50 compares made installing it cost ~57 us instead of
/// ~15 us.
pub fn program() -> Vec<sock_filter> {
    let mut special: Vec<(u32, Target)> = DENIED
        .iter()
        .map(|&(_, nr)| (syscall_nr(nr), Target::Deny))
        .collect();
    special.push((syscall_nr(libc::SYS_clone3), Target::NotImplemented));
    special.push((syscall_nr(libc::SYS_clone), Target::CheckCloneFlags));
    special.sort_unstable_by_key(|&(nr, _)| nr);

    let mut p = Vec::with_capacity(4 * special.len() + 16);
    p.push(stmt(BPF_LD_W_ABS, OFFSET_ARCH));
    p.push(jump(BPF_JEQ_K, AUDIT_ARCH, 1, 0));
    p.push(stmt(BPF_RET_K, RET_KILL));
    p.push(stmt(BPF_LD_W_ABS, OFFSET_NR));
    if cfg!(target_arch = "x86_64") {
        p.push(jump(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1));
        p.push(stmt(BPF_RET_K, RET_KILL));
    }
    let mut pending = Vec::new();
    search_tree(&mut p, &mut pending, &special);

    // The targets, in an order that only ever jumps forward.
    let check_clone_flags = p.len();
    p.push(stmt(BPF_LD_W_ABS, OFFSET_ARG0_LOW));
    p.push(jump(BPF_JSET_K, CLONE_NAMESPACE_FLAGS, 1, 0));
    let allow = p.len();
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    let deny = p.len();
    p.push(stmt(BPF_RET_K, RET_EPERM));
    let not_implemented = p.len();
    p.push(stmt(BPF_RET_K, RET_ENOSYS));
    for (at, target) in pending {
        let to = match target {
            Target::Allow => allow,
            Target::Deny => deny,
            Target::NotImplemented => not_implemented,
            Target::CheckCloneFlags => check_clone_flags,
        };
        let offset = to - at - 1;
        if p[at].code == BPF_JA {
            p[at].k = u32::try_from(offset).expect("the filter is short");
        } else {
            p[at].jt = u8::try_from(offset).expect("the filter fits one BPF jump");
        }
    }
    p
}

/// Emits a search of the sorted `special` numbers (the number is in the
/// accumulator). Jumps to targets are left in `pending` as (instruction,
/// target), to be resolved once the targets' places are known.
fn search_tree(
    p: &mut Vec<sock_filter>,
    pending: &mut Vec<(usize, Target)>,
    special: &[(u32, Target)],
) {
    if special.len() <= LEAF_LEN_MAX {
        for &(nr, target) in special {
            pending.push((p.len(), target));
            p.push(jump(BPF_JEQ_K, nr, 0, 0));
        }
        pending.push((p.len(), Target::Allow));
        p.push(stmt(BPF_JA, 0));
        return;
    }
    let middle = special.len() / 2;
    let split = p.len();
    // Numbers at or above the middle one jump over the lower half.
    p.push(jump(BPF_JGE_K, special[middle].0, 0, 0));
    search_tree(p, pending, &special[..middle]);
    p[split].jt = u8::try_from(p.len() - split - 1).expect("the filter fits one BPF jump");
    search_tree(p, pending, &special[middle..]);
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
        run_counting(prog, nr, arch, arg0).0
    }

    /// The decision and how many instructions it took.
    fn run_counting(prog: &[sock_filter], nr: u32, arch: u32, arg0: u32) -> (u32, usize) {
        let (mut pc, mut acc, mut steps) = (0usize, 0u32, 0usize);
        loop {
            let i = prog[pc];
            steps += 1;
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
                BPF_RET_K => return (i.k, steps),
                BPF_JA => pc += 1 + i.k as usize,
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
    fn every_number_gets_what_the_lists_say_within_a_few_instructions() {
        for nr in 0..1024u32 {
            let (decision, steps) = run_counting(&program(), nr, AUDIT_ARCH, 0);
            let expected = if DENIED.iter().any(|&(_, d)| syscall_nr(d) == nr) {
                RET_EPERM
            } else if nr == syscall_nr(libc::SYS_clone3) {
                RET_ENOSYS
            } else {
                RET_ALLOW
            };
            assert_eq!(decision, expected, "system call {nr}");
            assert!(steps <= 16, "system call {nr} took {steps} instructions");
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
