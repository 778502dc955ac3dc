//! How an embedded Barn waits, snapshots and bounds its state.

use crate::state::StateLimits;

/// The knobs of [`Barn::open_embedded_with`](crate::Barn::open_embedded_with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarnOptions {
    /// How long to wait for another process to let go of the data folder
    /// before failing.
    pub lock_wait_ms_max: u64,
    /// How long to wait, when opening, for this node to lead (after a
    /// restart it first applies the log since the last snapshot).
    pub leader_wait_ms_max: u64,
    /// How long [`Barn::snapshot`](crate::Barn::snapshot) waits for the
    /// snapshot to be stored and the log purged.
    pub snapshot_wait_ms_max: u64,
    /// How long [`Barn::close`](crate::Barn::close) waits for background
    /// storage work to let go of the database.
    pub close_wait_ms_max: u64,
    /// A snapshot is built after this many entries since the last one.
    pub snapshot_logs_since_last: u64,
    /// Entries kept in the log behind a snapshot, so that a slow follower
    /// can catch up without a whole snapshot. An embedded Barn has no
    /// followers, so it keeps none by default: every entry kept is one more
    /// that each process opening the folder checks (a cluster node's
    /// default, 1,000, is `runi barn start --logs-kept-after-snapshot`).
    pub logs_kept_after_snapshot: u64,
    /// Entries the next process to open the folder may have to apply again.
    /// A Barn that closes with more applied since its last snapshot builds
    /// one first: each `runi run` opens the Barn and applies the entries
    /// after the snapshot again (~9 µs each), so without this a 10-row run
    /// took 79 ms instead of 44 after ~800 runs of history.
    pub replay_entries_max: u64,
    /// Finished runs a closing Barn may leave in the state held in memory,
    /// which the next process to open the folder reads again. A Barn that
    /// closes holding more builds a snapshot first, which moves them to the
    /// archive (a folder written before the archive existed holds every
    /// run it kept).
    pub finished_runs_held_max: u64,
    /// The bounds of a new state. A state read from disk keeps its own.
    pub state_limits: StateLimits,
}

impl Default for BarnOptions {
    fn default() -> Self {
        Self {
            lock_wait_ms_max: 5_000,
            leader_wait_ms_max: 10_000,
            snapshot_wait_ms_max: 30_000,
            close_wait_ms_max: 10_000,
            snapshot_logs_since_last: 5_000,
            logs_kept_after_snapshot: 0,
            replay_entries_max: 256,
            finished_runs_held_max: 64,
            state_limits: StateLimits::default(),
        }
    }
}
