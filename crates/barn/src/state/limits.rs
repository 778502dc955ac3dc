//! The bounds of the replicated state. They live inside the state (and its
//! snapshots), not in each replica's configuration, so that every replica
//! applies the same log to the same result.

use serde::{Deserialize, Serialize};

/// Every bound the state machine enforces, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateLimits {
    /// Clients whose last request is remembered for deduplication. When a
    /// new client arrives at the bound, the client idle for the most
    /// requests is forgotten; its retries of old requests would then apply
    /// again (see `docs/adr/004-barn-storage.md`).
    pub clients_tracked_max: usize,
    /// Events kept per run; later events are counted, not kept.
    pub run_events_max: usize,
    /// Events accepted in one request; a larger batch is refused.
    pub events_per_request_max: usize,
    /// Bytes kept of one event message; the rest is cut at a character
    /// boundary and the event marked `truncated`.
    pub event_message_bytes_max: usize,
    /// Bytes kept of a run's summary, cut the same way.
    pub summary_bytes_max: usize,
    /// Bytes in a scenario name, contract name or version, or node address.
    pub name_bytes_max: usize,
    /// Bytes in a path, URI or label of a run's record (a contract's path,
    /// a source's URI, a step's label); a longer contract path is refused,
    /// a longer label in a run's detail is cut.
    pub label_bytes_max: usize,
    /// Contracts one run may name.
    pub contracts_per_run_max: usize,
    /// Entries kept in each list of a run's detail (sources, steps, rules,
    /// outputs); later entries are counted, not kept.
    pub detail_entries_max: usize,
    /// Runs kept. When a run is submitted at the bound, the oldest finished
    /// run is forgotten with its events; if every kept run is unfinished,
    /// the submission is refused.
    pub runs_kept_max: usize,
    /// Bytes of text in a submitted run's bundle (its scenario and the
    /// files it read); a larger bundle is refused.
    #[serde(default = "bundle_bytes_max_default")]
    pub bundle_bytes_max: usize,
}

fn bundle_bytes_max_default() -> usize {
    512 * 1024
}

impl Default for StateLimits {
    fn default() -> Self {
        Self {
            clients_tracked_max: 4096,
            run_events_max: 10_000,
            events_per_request_max: 1_000,
            event_message_bytes_max: 4096,
            summary_bytes_max: 4096,
            name_bytes_max: 256,
            label_bytes_max: 1024,
            contracts_per_run_max: 16,
            detail_entries_max: 256,
            runs_kept_max: 10_000,
            bundle_bytes_max: bundle_bytes_max_default(),
        }
    }
}

/// Cuts `text` to at most `max` bytes at a character boundary; says whether
/// it cut anything.
pub(crate) fn truncate_utf8(mut text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_utf8("abc".into(), 3), ("abc".into(), false));
        assert_eq!(truncate_utf8("abcd".into(), 3), ("abc".into(), true));
        // `é` is two bytes; cutting inside it backs off to before it.
        assert_eq!(truncate_utf8("aé".into(), 2), ("a".into(), true));
    }
}
