//! Every bound the engine runs under, in one place. Memory use is set by
//! these, never by the input's size.

/// Bounds for one run. The defaults suit a laptop; `runi run` can change
/// them (`--batch-rows-max`, `--queue-len-max`). Batches of 32,768 rows
/// with 2 in each queue keep workload W at about 250 MiB at 10M rows with
/// isolation on (its 10M-key unique set, and the slice worker), under its
/// 300 MiB goal; against 16,384 rows, W took 4% less time at 10M (fewer
/// stalls between the pipeline's threads) for 38 MiB more
/// (bench/w/README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rows per record batch read from a source.
    pub batch_rows_max: usize,
    /// Batches waiting between the reader thread and the pipeline; a slow
    /// pipeline or sink blocks the reader here (backpressure).
    pub queue_len_max: usize,
    /// Distinct keys remembered per `unique` contract key and per `dedupe`
    /// step (64-bit fingerprints, about 8 bytes each).
    pub unique_keys_max: usize,
    /// Rows a `sql` step may hold: a SQL query sees its whole input, so its
    /// input is buffered up to this bound and the run fails beyond it.
    pub sql_rows_max: usize,
    /// Memory the query of one `type: sql` contract rule may hold (for
    /// `DISTINCT`, `GROUP BY`, sorts). Aggregates such as `COUNT(*)`
    /// stream and hold next to nothing; a query past this bound fails
    /// the run.
    pub sql_rule_memory_bytes_max: usize,
    /// Bytes of one JSON line or CSV record; a longer one is rejected.
    pub record_bytes_max: usize,
    /// Rows per Parquet row group written.
    pub parquet_row_group_rows_max: usize,
    /// Bytes of one Parquet column chunk's dictionary; past it the column
    /// falls back to plain encoding. Small: a column with few distinct
    /// values (a currency, a country) fits, one with many (an id, a hashed
    /// email) stops interning early instead of hashing values into a
    /// dictionary it then drops. Against the writer's 1 MiB default, W's
    /// output got 6% smaller and 6% cheaper to write.
    pub parquet_dictionary_bytes_max: usize,
    /// Bytes of one Parquet data page before compression; a page ends at
    /// the first step of 1,024 values (the writer's batch) past it. Each
    /// page is compressed on its own, and zstd picks its tables by the
    /// input's size: up to 128 KiB they stay in the core's cache, past it
    /// they do not. Against the writer's 1 MiB default, W's zstd(3) sink
    /// took a fifth less time (a hashed email column compressed at 160
    /// against 110 MB/s, a timestamp one at 500 against 130) for a file
    /// 0.4% larger.
    pub parquet_data_page_bytes_max: usize,
    /// Threads that encode one Parquet file's columns, the sink's own
    /// included (`parquet_lanes`). By default the machine's cores, at most
    /// [`PARQUET_ENCODE_LANES_DEFAULT_MAX`].
    pub parquet_encode_lanes_max: usize,
}

/// The largest `batch_rows_max` a run accepts: a batch's buffers are
/// allocated up front for this many rows (a CSV batch about 18 bytes a
/// row before its values), so a larger bound would only ask for memory,
/// and at some size more than the machine has.
pub const BATCH_ROWS_MAX_CEILING: usize = 1 << 20;

/// The cores this process may use, asked once: the answer reads cgroup
/// files, and limits are made more than once per run.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

/// Below this, glibc's allocator serves a block from its heap in a run's
/// processes instead of a fresh mapping (see [`keep_freed_memory`]).
pub const HEAP_MMAP_THRESHOLD_BYTES: usize = 32 * 1024 * 1024;

/// Freed heap memory a run's processes keep for their next allocations
/// before giving it back to the kernel (see [`keep_freed_memory`]).
pub const HEAP_TRIM_THRESHOLD_BYTES: usize = 64 * 1024 * 1024;

/// Makes this process keep the memory it frees, up to
/// [`HEAP_TRIM_THRESHOLD_BYTES`], for its next batches. With glibc's
/// defaults a run hands each batch's buffers back to the kernel and faults
/// them in again: ~43,000 page faults in a slice worker on W at 1M rows (a
/// tenth of its CPU), and in the parent 3-4% of W's CPU (bench/w/README.md).
/// For short-lived processes that move batches: `runi run`, `runi test`
/// and the slice worker; a long-lived server keeps glibc's defaults.
/// Returns whether the allocator took the settings (only glibc does).
pub fn keep_freed_memory() -> bool {
    runink_slice::keep_freed_heap_memory(HEAP_MMAP_THRESHOLD_BYTES, HEAP_TRIM_THRESHOLD_BYTES)
}

/// The most encoding threads a Parquet sink takes by default: past a few,
/// a file's widest column alone sets the pace.
pub const PARQUET_ENCODE_LANES_DEFAULT_MAX: usize = 4;

impl Default for Limits {
    fn default() -> Self {
        Self {
            batch_rows_max: 32_768,
            queue_len_max: 2,
            unique_keys_max: runink_contract::UNIQUE_KEYS_MAX_DEFAULT,
            sql_rows_max: 10_000_000,
            sql_rule_memory_bytes_max: 256 * 1024 * 1024,
            record_bytes_max: 16 * 1024 * 1024,
            parquet_row_group_rows_max: 262_144,
            parquet_dictionary_bytes_max: 64 * 1024,
            parquet_data_page_bytes_max: 64 * 1024,
            parquet_encode_lanes_max: cores().min(PARQUET_ENCODE_LANES_DEFAULT_MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    /// glibc takes both settings; a wrapper that passed them wrong (or an
    /// allocator that refused them) would leave a run faulting its batches
    /// in again without anyone noticing.
    #[cfg(target_env = "gnu")]
    #[test]
    fn glibc_takes_the_heap_settings() {
        assert!(super::keep_freed_memory());
    }

    /// The compiler refuses `@requires(memory=…)` below the model's
    /// minimum; the slice crate refuses below its own. They must agree.
    #[test]
    fn the_compiler_and_the_slices_agree_on_the_smallest_memory_limit() {
        assert_eq!(
            runink_model::SLICE_MEMORY_BYTES_MIN,
            runink_slice::Limits::MEMORY_BYTES_MIN
        );
    }
}
