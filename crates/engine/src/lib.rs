//! The engine: runs a compiled scenario plan over Arrow record batches.
//! Sources read raw batches (with line numbers), the contract crate checks
//! them, the steps transform them, sinks write them atomically, and every
//! rejected row goes to the DLQ with the reason. Memory is bounded by
//! [`Limits`], never by the input's size.

mod asserts;
mod body_pool;
mod check_steps;
mod compression;
mod data_file;
mod dataset_checks;
mod dlq;
mod error;
mod exec_rows;
mod exec_step;
mod expr;
mod isolation;
mod limits;
mod masking;
mod options;
mod output_file;
mod parquet_lanes;
mod progress;
mod quoted_values;
mod read_only_sql;
mod readback;
mod report;
mod run;
mod sink;
mod sink_thread;
mod slice_columns;
mod slice_exit;
mod slice_frames;
mod slice_messages;
mod slice_worker;
mod source;
mod sql_rule;
mod sql_step;
mod staging;
mod step_slice;
mod steps;
mod validate;
mod write_behind;

pub use check_steps::{StepPlanFailure, check_steps};
pub use data_file::{DataBatches, DataWriter, file_source, read_file};
pub use error::EngineError;
pub use isolation::{Isolation, release_slice_cgroups};
pub use limits::{BATCH_ROWS_MAX_CEILING, Limits, keep_freed_memory};
pub use progress::{ProgressSnapshot, RunProgress, input_bytes_total};
pub use readback::read_rows;
pub use report::{
    AssertResult, DlqCounts, RuleCounts, RunReport, SinkCounts, SliceRun, SourceCounts, StepCounts,
};
pub use run::{RunError, RunFailure, RunOptions, RunRequest, execute};
pub use runink_slice::LendingPipeWriter;
pub use slice_frames::FrameOut;
pub use slice_messages::Confinement;
pub use slice_worker::{Served, serve_step_slice};
pub use staging::remove_live_files;
pub use step_slice::SLICE_WORKER_ARG;
pub use validate::{RuleResult, ValidateReport, ValidateRequest, validate};
