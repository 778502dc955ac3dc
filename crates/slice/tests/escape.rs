//! Escape attempts from inside a slice. Each runs the probe helper in a real
//! slice and asserts that the attempt fails the way the confinement says it
//! must (and, where it makes the test meaningful, that the same attempt
//! succeeds without that confinement).

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;

use common::{PROBE, isolation_available, run_probe};
use libc::{EACCES, EAGAIN, EINVAL, ENETUNREACH, ENOENT, EPERM, EROFS, ESRCH};
use runink_slice::{Slice, SliceSpec, Stdio};

#[test]
fn inside_a_slice_no_new_privs_no_capabilities_and_seccomp_filtering() {
    if !isolation_available("confinement status") {
        return;
    }
    let out = run_probe(&["status"], |_| {});
    let status = out.result("status").expect("read /proc/self/status");
    for expected in [
        "NoNewPrivs: 1",
        "Seccomp: 2",
        "CapEff: 0000000000000000",
        "CapPrm: 0000000000000000",
        "CapInh: 0000000000000000",
        "CapBnd: 0000000000000000",
        "CapAmb: 0000000000000000",
        "Uid: 1000 1000 1000 1000",
        "Gid: 1000 1000 1000 1000",
        "Groups:;",
    ] {
        assert!(status.contains(expected), "`{expected}` not in `{status}`");
    }
    assert!(out.exit.success(), "{:?}", out.exit);
}

#[test]
fn mount_and_umount_are_refused() {
    if !isolation_available("mount") {
        return;
    }
    let out = run_probe(&["mount", "umount"], |_| {});
    out.assert_fails("mount", &[EPERM]);
    out.assert_fails("umount", &[EPERM]);
}

#[test]
fn new_namespaces_and_setns_are_refused() {
    if !isolation_available("unshare/setns") {
        return;
    }
    let out = run_probe(
        &["unshare", "unshare-net", "clone-newuser", "setns"],
        |_| {},
    );
    for attempt in ["unshare", "unshare-net", "clone-newuser", "setns"] {
        out.assert_fails(attempt, &[EPERM]);
    }
}

#[test]
fn the_parent_cannot_be_traced_or_even_seen() {
    if !isolation_available("ptrace of the parent") {
        return;
    }
    let parent = std::process::id().to_string();
    let out = run_probe(&["ptrace", &parent, "signal", &parent], |_| {});
    out.assert_fails("ptrace", &[EPERM]);
    // The parent's pid names nothing in the slice's pid namespace.
    out.assert_fails("signal", &[ESRCH]);
}

#[test]
fn setuid_and_setgid_to_root_are_refused() {
    if !isolation_available("setuid(0)") {
        return;
    }
    let out = run_probe(&["setuid0", "setgid0", "ids"], |_| {});
    // 0 is not mapped in the slice's user namespace (EINVAL); without
    // CAP_SETUID it would be EPERM. Either way the call fails.
    out.assert_fails("setuid0", &[EINVAL, EPERM]);
    out.assert_fails("setgid0", &[EINVAL, EPERM]);
    assert_eq!(out.result("ids").unwrap(), "uid=1000 gid=1000");
}

#[test]
fn proc_sys_is_not_writable() {
    if !isolation_available("writing /proc/sys") {
        return;
    }
    let out = run_probe(
        &[
            "write",
            "/proc/sys/kernel/hostname",
            "write",
            "/proc/sys/vm/drop_caches",
        ],
        |_| {},
    );
    for line in &out.lines {
        assert!(
            line.contains(" err "),
            "a /proc/sys write succeeded: {line}"
        );
    }
    out.assert_fails("write", &[EROFS, EACCES]);
}

#[test]
fn proc_1_root_and_files_outside_the_binds_are_unreachable() {
    if !isolation_available("files outside the binds") {
        return;
    }
    // Another run's files: a file only this (host) process knows about.
    let other_run = tempfile::tempdir().unwrap();
    let secret = other_run.path().join("rows.jsonl");
    std::fs::write(&secret, "{\"ssn\":\"123\"}\n").unwrap();
    let secret = secret.to_str().unwrap();
    let via_proc1 = format!("/proc/1/root{secret}");
    let out = run_probe(
        &[
            "read",
            secret,
            "ls",
            "/",
            "ls",
            "/etc",
            "ls",
            "/proc/1/root/",
            "write",
            "/usr/lib/os-release",
            "ls",
            "/dev",
        ],
        |_| {},
    );
    assert!(
        std::fs::read(secret).is_ok(),
        "the secret exists on the host"
    );
    out.assert_fails("read", &[ENOENT]);
    // The slice is pid 1 of its own namespace: /proc/1/root is its own root.
    let probe_proc1 = run_probe(
        &["read", &via_proc1, "read", "/proc/1/root/etc/shadow"],
        |_| {},
    );
    assert!(
        probe_proc1.lines.iter().all(|l| l.contains(" err 2 ")),
        "{:?}",
        probe_proc1.lines
    );
    let root: Vec<String> = out
        .lines
        .iter()
        .filter(|l| l.starts_with("ls "))
        .cloned()
        .collect();
    let top = root[0].trim_start_matches("ls ok ");
    for entry in top.split(',') {
        assert!(
            [
                "dev", "etc", "lib", "lib64", "proc", "tmp", "usr", "work", "lib32"
            ]
            .contains(&entry)
                || std::path::Path::new(PROBE).starts_with(format!("/{entry}")),
            "unexpected `/{entry}` in the slice's root: {top}"
        );
    }
    // /etc holds only the loader cache.
    assert_eq!(root[1], "ls ok ld.so.cache", "{root:?}");
    assert_eq!(
        root[2],
        format!("ls ok {top}"),
        "/proc/1/root is the slice's own root"
    );
    assert_eq!(root[3], "ls ok fd,null,stderr,stdin,stdout,urandom,zero");
    // Bound paths are read-only.
    out.assert_fails("write", &[EROFS, EACCES]);
}

#[test]
fn network_is_off_unless_asked_for() {
    if !isolation_available("network") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let off = run_probe(&["connect", &addr], |_| {});
    off.assert_fails("connect", &[ENETUNREACH]);
    // The same connection works when the slice asks for the network.
    let on = run_probe(&["connect", &addr], |spec| spec.network = true);
    assert!(on.result("connect").is_ok(), "{:?}", on.lines);
}

#[test]
fn every_slice_gets_a_network_namespace_of_its_own() {
    if !isolation_available("network namespaces") {
        return;
    }
    let host = std::fs::read_link("/proc/self/ns/net").unwrap();
    let host = host.to_string_lossy();
    // All alive at once (each waits on its stdin), so that no namespace can
    // be freed and its number reused; more than the pool keeps ready.
    let mut slices = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let mut spec = SliceSpec::new(PROBE).arg("netns").arg("cat");
        spec.stdin = Stdio::Piped;
        spec.stdout = Stdio::Piped;
        let mut slice = Slice::spawn(&spec).unwrap();
        let mut stdout = BufReader::new(slice.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let netns = line
            .trim()
            .strip_prefix("netns ok ")
            .unwrap_or(&line)
            .to_owned();
        assert!(netns.starts_with("net:["), "{line}");
        seen.push(netns);
        // The reader stays open: the probe still prints after `cat`.
        slices.push((slice, stdout));
    }
    assert!(
        !seen.iter().any(|n| n == &*host),
        "{seen:?} holds the host's {host}"
    );
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        seen.len(),
        "two slices shared a namespace: {seen:?}"
    );
    for (mut slice, stdout) in slices {
        drop(slice.stdin.take());
        assert!(slice.wait().unwrap().success());
        drop(stdout);
    }
    // A slice that asks for the network is in the host's namespace.
    let on = run_probe(&["netns"], |spec| spec.network = true);
    assert_eq!(on.result("netns").unwrap(), host);
}

/// Slices one after another borrow the same few pooled namespaces; each
/// finds it as a new one is: no capability over it (the loopback cannot be
/// brought up) and no way out (connections fail).
#[test]
fn a_network_namespace_lent_again_is_as_closed_as_a_new_one() {
    if !isolation_available("network namespaces") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    // More slices than the pool may hold: some namespace must come back.
    let mut seen = Vec::new();
    for _ in 0..20 {
        let out = run_probe(&["netns", "loopback-up", "connect", &addr], |_| {});
        out.assert_fails("loopback-up", &[EPERM]);
        out.assert_fails("connect", &[ENETUNREACH]);
        seen.push(out.result("netns").unwrap());
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert!(
        unique.len() < seen.len(),
        "no namespace was lent again: {seen:?}"
    );
}

#[test]
fn a_fork_bomb_stops_at_the_pids_limit() {
    if !isolation_available("fork bomb") {
        return;
    }
    let out = run_probe(&["fork-bomb"], |spec| spec.limits.pids_max = 32);
    let line = out
        .lines
        .iter()
        .find(|l| l.starts_with("fork-bomb"))
        .unwrap();
    out.assert_fails("fork-bomb", &[EAGAIN]);
    let children: u32 = line
        .rsplit("after ")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no child count in `{line}`"));
    assert!(
        children < 32,
        "{children} children under a limit of 32 processes"
    );
}

#[test]
fn allocating_past_the_memory_limit_kills_the_slice_and_reports_oom() {
    if !isolation_available("memory limit") {
        return;
    }
    let over = run_probe(&["alloc-mib", "256"], |spec| {
        spec.limits.memory_bytes = 32 << 20
    });
    assert!(over.exit.oom_killed, "{over:?}");
    assert!(!over.exit.success());
    assert!(
        over.lines.iter().all(|l| !l.starts_with("alloc-mib ok")),
        "the allocation finished: {:?}",
        over.lines
    );
    let under = run_probe(&["alloc-mib", "8"], |spec| {
        spec.limits.memory_bytes = 32 << 20
    });
    assert!(under.exit.success() && !under.exit.oom_killed, "{under:?}");
}

#[test]
fn only_the_standard_streams_and_data_fds_are_open() {
    if !isolation_available("open fds") {
        return;
    }
    // A descriptor the parent leaks on purpose (no close-on-exec).
    let file = std::fs::File::open("/proc/self/status").unwrap();
    let leaked = common::dup_without_cloexec(&file);
    let (data_in, _keep_in) = std::io::pipe().unwrap();
    let (_keep_out, data_out) = std::io::pipe().unwrap();
    let out = run_probe(&["fds"], |spec| {
        spec.data_fds = vec![data_in.into(), data_out.into()];
    });
    assert_eq!(out.result("fds").unwrap(), "0,1,2,3,4");
    drop(leaked);
    let plain = run_probe(&["fds"], |_| {});
    assert_eq!(plain.result("fds").unwrap(), "0,1,2");
}

#[test]
fn every_denied_system_call_returns_eperm() {
    if !isolation_available("seccomp deny list") {
        return;
    }
    let mut args = Vec::new();
    for (name, _) in runink_slice::seccomp::DENIED {
        args.push("syscall");
        args.push(*name);
    }
    let out = run_probe(&args, |_| {});
    assert_eq!(
        out.lines.len(),
        runink_slice::seccomp::DENIED.len(),
        "{:?}",
        out.lines
    );
    for (line, (name, _)) in out.lines.iter().zip(runink_slice::seccomp::DENIED) {
        assert!(
            line.starts_with("syscall err 1 "),
            "`{name}` was not denied: {line}"
        );
    }
}
