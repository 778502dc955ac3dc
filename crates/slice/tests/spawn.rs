//! The spawn API: pipes, data descriptors, environment, exit status, setup
//! errors, and cgroups removed after a slice and after a dead parent.

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;

use common::{PROBE, isolation_available, run_probe};
use runink_slice::{Slice, SliceError, SliceSpec, Slicer, Stdio};

#[test]
fn stdin_and_stdout_are_pipes() {
    if !isolation_available("stdin/stdout pipes") {
        return;
    }
    let mut spec = SliceSpec::new(PROBE).arg("cat");
    spec.stdin = Stdio::Piped;
    spec.stdout = Stdio::Piped;
    let mut slice = Slice::spawn(&spec).unwrap();
    let mut stdin = slice.stdin.take().unwrap();
    stdin.write_all(b"rows in\n").unwrap();
    drop(stdin);
    let mut out = String::new();
    slice
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "cat ok rows in\n");
    assert!(slice.wait().unwrap().success());
}

#[test]
fn data_fds_arrive_as_fd_3_and_up() {
    if !isolation_available("data fds") {
        return;
    }
    let (mut reader, writer) = std::io::pipe().unwrap();
    let out = run_probe(&["write-fd", "3", "batch"], |spec| {
        spec.data_fds = vec![writer.into()]
    });
    assert_eq!(out.result("write-fd").unwrap(), "5");
    // The spec (and its copy of the writer) is gone, so this reads to EOF.
    let mut data = String::new();
    reader.read_to_string(&mut data).unwrap();
    assert_eq!(data, "batch");
}

#[test]
fn the_environment_is_exactly_the_spec() {
    if !isolation_available("environment") {
        return;
    }
    // Nothing of this test process's environment (PATH, HOME…) leaks in.
    let out = run_probe(&["env", "hostname"], |spec| {
        spec.env = vec![("RUNINK_STEP".into(), "mask".into())];
    });
    assert_eq!(out.result("env").unwrap(), "RUNINK_STEP=mask");
    assert_eq!(out.result("hostname").unwrap(), "slice");
}

#[test]
fn the_exit_status_is_reported() {
    if !isolation_available("exit status") {
        return;
    }
    let out = run_probe(&["exit", "7"], |_| {});
    assert_eq!(out.exit.status.code(), Some(7));
    assert!(!out.exit.success() && !out.exit.oom_killed);
}

#[test]
fn a_program_that_cannot_be_executed_is_a_setup_error() {
    if !isolation_available("setup errors") {
        return;
    }
    // A file outside /tmp (the slice's own scratch; the repository itself
    // may be cloned there) that exists but is not executable.
    let not_executable = tempfile::NamedTempFile::new_in("/var/tmp").unwrap();
    std::fs::write(not_executable.path(), "#!/bin/sh\n").unwrap();
    let err = Slice::spawn(&SliceSpec::new(not_executable.path())).unwrap_err();
    match err {
        SliceError::Setup {
            step,
            error: source,
        } => {
            assert_eq!(step, "execve");
            assert_eq!(source.raw_os_error(), Some(libc::EACCES));
        }
        other => panic!("expected a setup error, got {other}"),
    }
    let missing = Slice::spawn(&SliceSpec::new("/no/such/program")).unwrap_err();
    assert!(matches!(missing, SliceError::Path { .. }), "{missing}");
}

/// No process of the slice is left in any of its groups.
fn assert_empty(dirs: &[PathBuf]) {
    for dir in dirs {
        if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            assert!(
                procs.trim().is_empty(),
                "`{}` still has {procs}",
                dir.display()
            );
        }
    }
}

#[test]
fn cgroups_are_emptied_after_the_slice_and_removed_with_the_slicer() {
    if !isolation_available("cgroup removal") {
        return;
    }
    let slicer = Slicer::new().unwrap();
    let mut slice = slicer.spawn(&SliceSpec::new(PROBE).arg("ids")).unwrap();
    let dirs = slice.cgroup_dirs();
    assert_eq!(dirs.len(), 3, "memory, pids and cpu here: {dirs:?}");
    assert!(dirs.iter().all(|d| d.is_dir()), "{dirs:?}");
    slice.wait().unwrap();
    assert!(slice.cgroup_dirs().is_empty());
    assert_empty(&dirs);
    // Pooled for the next slice until the slicer goes.
    drop(slicer);
    for dir in dirs {
        assert!(!dir.exists(), "`{}` is left behind", dir.display());
    }
}

#[test]
fn a_dropped_slice_is_killed_and_its_cgroups_emptied() {
    if !isolation_available("drop") {
        return;
    }
    let slicer = Slicer::new().unwrap();
    let mut spec = SliceSpec::new(PROBE).arg("cat");
    spec.stdin = Stdio::Piped;
    let slice = slicer.spawn(&spec).unwrap();
    let dirs = slice.cgroup_dirs();
    drop(slice);
    assert_empty(&dirs);
    drop(slicer);
    for dir in dirs {
        assert!(!dir.exists(), "`{}` is left behind", dir.display());
    }
}

#[test]
fn a_reused_cgroup_gets_new_limits_and_forgets_the_previous_oom() {
    if !isolation_available("cgroup reuse") {
        return;
    }
    let slicer = Slicer::new().unwrap();
    let run = |args: &[&str], memory_bytes: u64| {
        let mut spec = SliceSpec::new(PROBE);
        spec.args = args.iter().map(Into::into).collect();
        spec.limits.memory_bytes = memory_bytes;
        let mut slice = slicer.spawn(&spec).unwrap();
        let dirs = slice.cgroup_dirs();
        (slice.wait().unwrap(), dirs)
    };
    let (killed, first) = run(&["alloc-mib", "256"], 32 << 20);
    assert!(killed.oom_killed, "{killed:?}");
    // The same groups, now with a larger limit than the memsw limit they had.
    let (fine, second) = run(&["alloc-mib", "64"], 256 << 20);
    assert_eq!(first, second, "the pooled groups were not reused");
    assert!(fine.success() && !fine.oom_killed, "{fine:?}");
    let (back, _) = run(&["ids"], 32 << 20);
    assert!(back.success() && !back.oom_killed, "{back:?}");
}

#[test]
fn groups_of_a_dead_parent_are_removed_at_start() {
    if !isolation_available("stale cgroups") {
        return;
    }
    // Where this process's slice groups go: `<group>/runink/<pid>/<slice>`.
    let mut slice = Slice::spawn(&SliceSpec::new(PROBE)).unwrap();
    let subtrees: Vec<PathBuf> = slice
        .cgroup_dirs()
        .iter()
        .map(|d| d.parent().and_then(|p| p.parent()).unwrap().to_owned())
        .collect();
    slice.wait().unwrap();
    // A pid above pid_max can never be alive: a parent that is surely dead.
    let pid_max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let dead = subtrees
        .iter()
        .map(|s| s.join((pid_max + 1).to_string()))
        .collect::<Vec<_>>();
    for d in &dead {
        std::fs::create_dir_all(d.join("s0")).unwrap();
    }
    let _slicer = Slicer::new().unwrap();
    for d in &dead {
        assert!(!d.exists(), "stale `{}` is still there", d.display());
    }
}

#[test]
fn missing_isolation_names_the_feature_and_the_opt_out() {
    let err = SliceError::Unsupported {
        feature: "user namespaces",
        detail: "`user.max_user_namespaces` is 0".into(),
    };
    let text = err.to_string();
    assert!(
        text.contains("user namespaces") && text.contains("`--isolation none`"),
        "{text}"
    );
    // The probe reports every feature, available or not.
    let probe = runink_slice::probe();
    let names: Vec<&str> = probe.features.iter().map(|f| f.feature).collect();
    for needed in [
        "user namespaces",
        "seccomp filters",
        "cgroup memory controller",
    ] {
        assert!(names.contains(&needed), "{names:?}");
    }
}

#[test]
fn a_directory_bound_at_another_path_is_the_read_only_working_directory() {
    if !isolation_available("binds at another path") {
        return;
    }
    // Under /tmp on the host on purpose: the slice's own /tmp hides nothing here.
    let folder = tempfile::tempdir_in("/tmp").unwrap();
    std::fs::write(folder.path().join("enrich.py"), "print(1)\n").unwrap();
    let out = run_probe(
        &["ls", ".", "read", "enrich.py", "write", "enrich.py"],
        |spec| {
            spec.binds_ro_at = vec![(folder.path().to_owned(), PathBuf::from("/step"))];
            spec.workdir = PathBuf::from("/step");
        },
    );
    assert_eq!(out.result("ls").unwrap(), "enrich.py");
    assert_eq!(out.result("read").unwrap(), "9 bytes");
    out.assert_fails("write", &[libc::EROFS, libc::EACCES]);
}

#[test]
fn slices_of_one_tree_share_its_root_but_each_has_its_own_scratch() {
    if !isolation_available("root templates") {
        return;
    }
    // The first slice writes to its /tmp and waits on its stdin.
    let mut spec = SliceSpec::new(PROBE)
        .arg("create")
        .arg("/tmp/mine")
        .arg("ls")
        .arg("/tmp")
        .arg("rootdev")
        .arg("cat");
    spec.stdin = Stdio::Piped;
    spec.stdout = Stdio::Piped;
    let mut first = Slice::spawn(&spec).unwrap();
    let mut first_out = std::io::BufReader::new(first.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut first_out, &mut line).unwrap();
        lines.push(line.trim().to_owned());
    }
    assert_eq!(lines[..2], ["create ok", "ls ok mine"]);
    // The same tree: the same root file system, but an empty /tmp.
    let second = run_probe(&["ls", "/tmp", "rootdev"], |_| {});
    assert_eq!(second.result("ls").unwrap(), "");
    let root = lines[2].strip_prefix("rootdev ok ").unwrap();
    assert_eq!(second.result("rootdev").unwrap(), root);
    // Another tree (one more bind) gets a root of its own.
    let folder = tempfile::tempdir_in("/var/tmp").unwrap();
    let other = run_probe(&["rootdev"], |spec| {
        spec.binds_ro = vec![folder.path().to_owned()];
    });
    assert_ne!(other.result("rootdev").unwrap(), root);
    drop(first.stdin.take());
    assert!(first.wait().unwrap().success());
}

#[test]
fn each_slice_reports_its_own_peak_memory_even_in_a_reused_group() {
    if !isolation_available("peak memory") {
        return;
    }
    const BIG_MIB: u64 = 48;
    let big = run_probe(&["alloc-mib", &BIG_MIB.to_string()], |spec| {
        spec.limits.memory_bytes = 256 << 20;
    });
    assert!(big.exit.success(), "{:?}", big.lines);
    let peak = big
        .exit
        .memory_peak_bytes
        .expect("a fresh group reports its peak");
    assert!(peak >= BIG_MIB << 20, "peak {peak} below {BIG_MIB} MiB");
    // The next slice gets the same group back from the pool. Only cgroup v1
    // can reset the peak; v2 then reports none rather than the old one.
    let small = run_probe(&["alloc-mib", "1"], |spec| {
        spec.limits.memory_bytes = 256 << 20;
    });
    let memory_v1 =
        std::path::Path::new("/sys/fs/cgroup/memory/memory.max_usage_in_bytes").exists();
    match small.exit.memory_peak_bytes {
        Some(small_peak) => assert!(small_peak < peak / 2, "{small_peak} not reset from {peak}"),
        None => assert!(!memory_v1, "cgroup v1 must report the reused group's peak"),
    }
}

/// The kernel buffer of the pipe behind `fd`.
#[allow(unsafe_code)]
fn pipe_buffer_bytes(fd: std::os::fd::BorrowedFd<'_>) -> i32 {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a live descriptor with no argument.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) }
}

#[test]
fn piped_streams_get_the_kernel_buffer_the_spec_asks_for() {
    use std::os::fd::AsFd;
    if !isolation_available("pipe buffers") {
        return;
    }
    let wanted = 1 << 20;
    for confined in [true, false] {
        let mut spec = SliceSpec::new(PROBE).arg("cat");
        spec.stdin = Stdio::Piped;
        spec.stdout = Stdio::Piped;
        spec.pipe_buffer_bytes = Some(wanted);
        let mut slice = if confined {
            Slice::spawn(&spec).unwrap()
        } else {
            Slice::spawn_unconfined(&spec).unwrap()
        };
        let stdin = slice.stdin.take().unwrap();
        let stdout = slice.stdout.take().unwrap();
        assert_eq!(
            pipe_buffer_bytes(stdin.as_fd()),
            wanted as i32,
            "confined {confined}"
        );
        assert_eq!(
            pipe_buffer_bytes(stdout.as_fd()),
            wanted as i32,
            "confined {confined}"
        );
        drop(stdin);
        drop(stdout);
        let _ = slice.wait().unwrap();
    }
    // Without the setting, the kernel's default.
    let mut spec = SliceSpec::new(PROBE).arg("cat");
    spec.stdin = Stdio::Piped;
    let mut slice = Slice::spawn(&spec).unwrap();
    let stdin = slice.stdin.take().unwrap();
    assert!(pipe_buffer_bytes(stdin.as_fd()) < wanted as i32);
    drop(stdin);
    let _ = slice.wait().unwrap();
}

/// A slice dies with the thread that spawned it (`kill_on_parent_death`,
/// the default): here the thread ends without waiting for it, as a killed
/// `runi` would. The signal is set after the slice changes its ids, which
/// would otherwise clear it.
#[test]
fn a_slice_dies_when_the_thread_that_spawned_it_ends() {
    if !isolation_available("parent death signal") {
        return;
    }
    let pid = std::thread::spawn(|| {
        let spec = SliceSpec::new("/bin/sleep").arg("30");
        let slice = Slice::spawn(&spec).expect("spawn sleep in a slice");
        let pid = slice.pid();
        // Neither killed nor waited for by us: only the kernel ends it.
        std::mem::forget(slice);
        pid
    })
    .join()
    .unwrap();
    assert_ends_within_10_s(pid, "the slice outlived the thread that spawned it");
}

/// With `--isolation none` the program is a plain child, and it dies with
/// the thread that started it all the same.
#[test]
fn an_unconfined_program_dies_when_the_thread_that_spawned_it_ends() {
    let pid = std::thread::spawn(|| {
        let spec = SliceSpec::new("/bin/sleep").arg("30");
        let slice = Slice::spawn_unconfined(&spec).expect("spawn sleep");
        let pid = slice.pid();
        std::mem::forget(slice);
        pid
    })
    .join()
    .unwrap();
    assert_ends_within_10_s(pid, "the program outlived the thread that spawned it");
}

/// Waits for `pid` to be gone, or a zombie that nobody reaps: either way,
/// killed.
fn assert_ends_within_10_s(pid: u32, what: &str) {
    let status = format!("/proc/{pid}/status");
    let started = std::time::Instant::now();
    loop {
        let state = std::fs::read_to_string(&status).unwrap_or_default();
        if state.is_empty() || state.contains("State:\tZ") {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{what}:\n{state}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
