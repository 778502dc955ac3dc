//! Shared helpers for the slice tests: skip only when the kernel really
//! lacks a feature (and say which), and run the probe helper in a slice.
#![allow(dead_code)]

use std::io::Read;

use runink_slice::{Slice, SliceExit, SliceSpec, Stdio};

/// The probe helper built with this crate.
pub const PROBE: &str = env!("CARGO_BIN_EXE_slice-probe");

/// True when slices can run here. Otherwise prints why the test skips, or
/// fails when `RUNINK_REQUIRE_ISOLATION` is set (CI sets it, so a missing
/// feature there is a failure, not a silent skip).
pub fn isolation_available(test: &str) -> bool {
    let probe = runink_slice::probe();
    let Some(missing) = probe.missing() else {
        return true;
    };
    let why = format!(
        "{test}: the kernel cannot give isolation here: {} is missing ({})",
        missing.feature,
        missing.status.clone().err().unwrap_or_default()
    );
    if std::env::var_os("RUNINK_REQUIRE_ISOLATION").is_some() {
        panic!("{why}; RUNINK_REQUIRE_ISOLATION is set");
    }
    eprintln!("SKIPPED {why}");
    false
}

/// What the probe printed, one line per attempt, and how the slice ended.
#[derive(Debug)]
pub struct Outcome {
    pub lines: Vec<String>,
    pub exit: SliceExit,
}

impl Outcome {
    /// The result of `attempt`: `Ok(detail)` or `Err(errno)`.
    pub fn result(&self, attempt: &str) -> Result<String, i32> {
        let prefix = format!("{attempt} ");
        let line = self
            .lines
            .iter()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no line for `{attempt}` in {:#?}", self.lines));
        let rest = &line[prefix.len()..];
        if let Some(ok) = rest.strip_prefix("ok") {
            return Ok(ok.trim().to_owned());
        }
        let errno = rest
            .strip_prefix("err ")
            .and_then(|e| e.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected line `{line}`"));
        Err(errno)
    }

    /// Asserts `attempt` failed with one of `errnos`.
    pub fn assert_fails(&self, attempt: &str, errnos: &[i32]) {
        match self.result(attempt) {
            Ok(detail) => panic!("`{attempt}` succeeded inside the slice: {detail}"),
            Err(e) => assert!(
                errnos.contains(&e),
                "`{attempt}` failed with errno {e}, expected one of {errnos:?}"
            ),
        }
    }
}

/// Runs the probe with `attempts` in a slice configured by `configure`.
pub fn run_probe(attempts: &[&str], configure: impl FnOnce(&mut SliceSpec)) -> Outcome {
    let mut spec = SliceSpec::new(PROBE);
    spec.args = attempts.iter().map(Into::into).collect();
    spec.stdout = Stdio::Piped;
    spec.stderr = Stdio::Inherit;
    configure(&mut spec);
    let mut slice = Slice::spawn(&spec).expect("spawn the probe in a slice");
    let mut out = String::new();
    slice
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut out)
        .expect("read the probe's output");
    let exit = slice.wait().expect("wait for the slice");
    Outcome {
        lines: out.lines().map(str::to_owned).collect(),
        exit,
    }
}

/// Duplicates `file` without close-on-exec, as a careless parent would.
#[allow(unsafe_code)]
pub fn dup_without_cloexec(file: &std::fs::File) -> std::os::fd::OwnedFd {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: dup on a live descriptor; no memory is involved.
    let fd = unsafe { libc::dup(file.as_raw_fd()) };
    assert!(fd >= 0, "dup: {}", std::io::Error::last_os_error());
    // SAFETY: `fd` is a new descriptor owned by nothing else.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}
