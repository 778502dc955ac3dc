//! `runi run`'s engine options as data ([`RunSettings`]): made from the
//! command line, carried to a cluster in a run's bundle, and turned into
//! the engine's options where the run runs, so that a run behaves the same
//! here and on an agent.

use runink_barn::RunSettings;
use runink_engine::{Isolation, Limits, RunOptions};

use crate::cli::{IsolationArg, RunArgs};

pub fn settings_of(args: &RunArgs) -> RunSettings {
    RunSettings {
        batch_rows_max: args.batch_rows_max,
        queue_len_max: args.queue_len_max,
        unique_keys_max: args.unique_keys_max as u64,
        all_violations: args.all_violations,
        block_on_drift: args.block_on_drift,
        isolated: args.isolation == IsolationArg::Slice,
        sql_rows_max: Some(args.sql_rows_max),
    }
}

/// The engine's isolation; opting out is logged, never silent.
pub fn isolation(isolated: bool) -> Isolation {
    if isolated {
        Isolation::Slice
    } else {
        tracing::warn!(
            "isolation is off (`--isolation none`): steps run unconfined, built-in ones in this process"
        );
        Isolation::None
    }
}

/// The program that runs slices of built-in steps: this very binary
/// (`runi slice-worker`).
pub fn slice_program() -> Option<std::path::PathBuf> {
    std::env::current_exe().ok()
}

/// The engine's options for `settings` (not a dry run, no progress).
pub fn engine_options(settings: &RunSettings) -> RunOptions {
    RunOptions {
        limits: Limits {
            batch_rows_max: settings.batch_rows_max as usize,
            queue_len_max: settings.queue_len_max as usize,
            unique_keys_max: usize::try_from(settings.unique_keys_max).unwrap_or(usize::MAX),
            sql_rows_max: settings
                .sql_rows_max
                .map_or(Limits::default().sql_rows_max, |rows| {
                    usize::try_from(rows).unwrap_or(usize::MAX)
                }),
            ..Limits::default()
        },
        all_violations: settings.all_violations,
        block_on_drift: settings.block_on_drift,
        isolation: isolation(settings.isolated),
        slice_program: slice_program(),
        ..RunOptions::default()
    }
}
