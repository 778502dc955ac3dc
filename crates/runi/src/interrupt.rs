//! SIGINT and SIGTERM during a local run: the run's outputs not yet
//! committed are removed (after a commit under way has finished, so a run
//! is never half committed), its slices' cgroups released, and the process
//! ends with 128 + the signal, the earlier outputs as they were. Without
//! this the temporary files stayed until the next run to the same folder.
//! The run's record is ended as failed by whoever opens the ledger next
//! (`ledger/run_locks.rs`).

use tokio::signal::unix::{SignalKind, signal};

/// Watches for SIGINT and SIGTERM on a thread of its own for the rest of
/// the process. Best effort: where the watch cannot start, the signals
/// keep their default action (and the next run cleans up).
pub fn watch() {
    let started = std::thread::Builder::new()
        .name("interrupt".into())
        .spawn(|| {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch for SIGINT and SIGTERM");
                    return;
                }
            };
            runtime.block_on(async {
                let (Ok(mut interrupt), Ok(mut terminate)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    tracing::warn!("cannot watch for SIGINT and SIGTERM");
                    return;
                };
                let (name, number) = tokio::select! {
                    _ = interrupt.recv() => ("SIGINT", SIGINT),
                    _ = terminate.recv() => ("SIGTERM", SIGTERM),
                };
                runink_engine::remove_live_files();
                runink_engine::release_slice_cgroups();
                eprintln!(
                    "error: interrupted by {name}; the run's outputs were not written (earlier ones are as they were)"
                );
                std::process::exit(128 + number);
            });
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "cannot watch for SIGINT and SIGTERM");
    }
}

/// Signal numbers on Linux: the exit code is 128 + the signal, as a shell
/// reports a process the signal killed.
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;
