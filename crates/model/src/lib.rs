//! Runink's domain types: the nouns every crate shares, with their invariants
//! held by construction (a `HerdName` is always a valid herd name).

mod duration;
mod hash;
mod names;
mod resources;

pub use duration::{DurationSpec, ParseDurationError};
pub use hash::{DagHash, Sha256Hex};
pub use names::{HerdName, NameError};
pub use resources::{
    ParseQuantityError, Resources, SLICE_MEMORY_BYTES_MIN, SLICE_PIDS_MAX, parse_count,
    parse_cpu_millis, parse_memory_bytes, parse_pids_limit,
};
