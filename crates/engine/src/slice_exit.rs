//! Why a slice's process ended badly, in words: shared by `exec` steps and
//! slices of built-in steps.

use std::os::unix::process::ExitStatusExt;

use runink_slice::SliceExit;

/// `None` for a clean exit; else what happened to `what` (the program or
/// the slice), with `context` (such as the last lines of its stderr)
/// appended.
pub fn exit_failure(
    exit: &SliceExit,
    what: &str,
    memory_bytes: u64,
    context: &str,
) -> Option<String> {
    if exit.oom_killed {
        return Some(format!(
            "{what} was killed: out of memory (its limit is {} MiB; raise it with `@requires(memory=…)` above the step, or `memory` under `[requires]` in a named step's `.toml`){context}",
            memory_bytes >> 20
        ));
    }
    if let Some(signal) = exit.status.signal() {
        return Some(format!("{what} was killed by signal {signal}{context}"));
    }
    match exit.status.code() {
        Some(0) | None => None,
        Some(code) => Some(format!("{what} exited with status {code}{context}")),
    }
}
