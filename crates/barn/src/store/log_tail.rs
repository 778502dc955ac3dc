//! [`LogTail`]: the newest log entries, in memory.
//!
//! openraft asks the log store to return from `append` as soon as the
//! entries are readable, and to report them durable later. The tail is
//! what makes them readable at once: every appended entry goes in here
//! before its write is queued (`log_writer.rs`), and readers (replication
//! to followers, applying to the state machine) find recent entries here
//! without a database read or a thread hop.
//!
//! Each entry carries the number of the write that stores it. An entry
//! leaves the tail only from its front, only once that write is done, and
//! only when the tail is over one of its bounds; so everything before the
//! tail's first entry is in the database, and an entry not yet written is
//! always here.

use std::collections::VecDeque;

use openraft::RaftLogId;

use super::Entry;
use crate::raft_types::LogId;

/// Entries kept once written. Followers and the state machine read the
/// newest few; a follower further behind reads from the database.
pub(crate) const LOG_TAIL_ENTRIES_MAX: usize = 1024;

/// Bytes of encoded entries kept once written.
pub(crate) const LOG_TAIL_BYTES_MAX: usize = 16 << 20;

/// The number of a queued log write; writes are done in this order.
pub(crate) type WriteSeq = u64;

#[derive(Debug)]
struct TailEntry {
    entry: Entry,
    /// Its encoded size, for `LOG_TAIL_BYTES_MAX`.
    bytes: usize,
    /// The write that stores it.
    write: WriteSeq,
}

#[derive(Debug, Default)]
pub(crate) struct LogTail {
    /// Contiguous by index, oldest first.
    entries: VecDeque<TailEntry>,
    bytes: usize,
    /// The number the next write gets.
    next_write: WriteSeq,
    /// Every write up to this one is done (durable).
    written: Option<WriteSeq>,
}

impl LogTail {
    /// Adds entries that one write will store, and returns that write's
    /// number. Entries from an index already held replace the tail from
    /// there (openraft truncates first; this keeps the tail whole even if
    /// it did not). Entries after a gap replace the whole tail.
    pub(crate) fn push(&mut self, entries: Vec<(Entry, usize)>) -> WriteSeq {
        let write = self.next_write;
        self.next_write += 1;
        for (entry, bytes) in entries {
            let index = entry.get_log_id().index;
            match self.last_index() {
                Some(last) if index <= last => self.truncate(index),
                Some(last) if index > last + 1 => self.clear(),
                _ => {}
            }
            self.bytes += bytes;
            self.entries.push_back(TailEntry {
                entry,
                bytes,
                write,
            });
        }
        self.evict();
        write
    }

    /// Records that every write up to `write` is durable.
    pub(crate) fn written(&mut self, write: WriteSeq) {
        self.written = self.written.max(Some(write));
        self.evict();
    }

    /// Drops the entries from `index` on.
    pub(crate) fn truncate(&mut self, index: u64) {
        while self
            .entries
            .back()
            .is_some_and(|last| last.entry.get_log_id().index >= index)
        {
            self.pop_back();
        }
    }

    /// Drops the entries up to `index`, inclusive.
    pub(crate) fn purge(&mut self, index: u64) {
        while self
            .entries
            .front()
            .is_some_and(|first| first.entry.get_log_id().index <= index)
        {
            self.pop_front();
        }
    }

    /// The index of the oldest entry held; every entry before it is in the
    /// database.
    pub(crate) fn first_index(&self) -> Option<u64> {
        self.entries
            .front()
            .map(|first| first.entry.get_log_id().index)
    }

    pub(crate) fn last_log_id(&self) -> Option<LogId> {
        self.entries.back().map(|last| *last.entry.get_log_id())
    }

    fn last_index(&self) -> Option<u64> {
        self.last_log_id().map(|id| id.index)
    }

    /// Copies of the entries held in `start..end`.
    pub(crate) fn range(&self, start: u64, end: u64) -> Vec<Entry> {
        let Some(first) = self.first_index() else {
            return Vec::new();
        };
        let skip = usize::try_from(start.saturating_sub(first)).unwrap_or(usize::MAX);
        self.entries
            .iter()
            .skip(skip)
            .take_while(|held| held.entry.get_log_id().index < end)
            .map(|held| held.entry.clone())
            .collect()
    }

    /// Lets written entries go from the front while over a bound.
    fn evict(&mut self) {
        while self.entries.len() > LOG_TAIL_ENTRIES_MAX || self.bytes > LOG_TAIL_BYTES_MAX {
            let written = self
                .entries
                .front()
                .is_some_and(|first| Some(first.write) <= self.written);
            if !written {
                return;
            }
            self.pop_front();
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    fn pop_front(&mut self) {
        if let Some(first) = self.entries.pop_front() {
            self.bytes -= first.bytes;
        }
    }

    fn pop_back(&mut self) {
        if let Some(last) = self.entries.pop_back() {
            self.bytes -= last.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use openraft::{CommittedLeaderId, EntryPayload};

    use super::*;

    fn entry(term: u64, index: u64) -> (Entry, usize) {
        let entry = Entry {
            log_id: LogId::new(CommittedLeaderId::new(term, 1), index),
            payload: EntryPayload::Blank,
        };
        (entry, 100)
    }

    fn indexes(entries: &[Entry]) -> Vec<(u64, u64)> {
        entries
            .iter()
            .map(|e| (e.log_id.leader_id.term, e.log_id.index))
            .collect()
    }

    #[test]
    fn appended_entries_read_back_by_range() {
        let mut tail = LogTail::default();
        tail.push(vec![entry(1, 5), entry(1, 6)]);
        tail.push(vec![entry(1, 7)]);
        assert_eq!(tail.first_index(), Some(5));
        assert_eq!(indexes(&tail.range(0, 100)), [(1, 5), (1, 6), (1, 7)]);
        assert_eq!(indexes(&tail.range(6, 7)), [(1, 6)]);
        assert!(tail.range(8, 10).is_empty());
        assert_eq!(tail.last_log_id().map(|id| id.index), Some(7));
    }

    #[test]
    fn truncate_and_overlapping_appends_replace_the_end() {
        let mut tail = LogTail::default();
        tail.push(vec![entry(1, 1), entry(1, 2), entry(1, 3)]);
        tail.truncate(3);
        assert_eq!(indexes(&tail.range(0, 10)), [(1, 1), (1, 2)]);
        tail.push(vec![entry(2, 2), entry(2, 3)]);
        assert_eq!(indexes(&tail.range(0, 10)), [(1, 1), (2, 2), (2, 3)]);
        tail.push(vec![entry(3, 9)]);
        assert_eq!(indexes(&tail.range(0, 10)), [(3, 9)], "a gap starts over");
        tail.purge(9);
        assert_eq!(tail.first_index(), None);
    }

    #[test]
    fn only_written_entries_leave_and_only_past_a_bound() {
        let mut tail = LogTail::default();
        let over = LOG_TAIL_ENTRIES_MAX as u64 + 10;
        let first_write = tail.push((1..=over / 2).map(|i| entry(1, i)).collect());
        let second_write = tail.push((over / 2 + 1..=over).map(|i| entry(1, i)).collect());
        assert_eq!(tail.first_index(), Some(1), "nothing written yet");
        tail.written(first_write);
        assert_eq!(
            tail.first_index(),
            Some(11),
            "written entries leave down to the bound"
        );
        assert_eq!(tail.range(0, over + 1).len(), LOG_TAIL_ENTRIES_MAX);
        tail.written(second_write);
        assert_eq!(
            tail.first_index(),
            Some(11),
            "under the bound, nothing more leaves"
        );
    }

    #[test]
    fn an_entry_rewritten_after_a_truncate_stays_until_its_own_write_is_done() {
        let mut tail = LogTail::default();
        let old = tail.push(
            (1..=LOG_TAIL_ENTRIES_MAX as u64)
                .map(|i| entry(1, i))
                .collect(),
        );
        tail.truncate(1);
        let new = tail.push(vec![entry(2, 1)]);
        tail.push(
            (2..=LOG_TAIL_ENTRIES_MAX as u64 + 1)
                .map(|i| entry(2, i))
                .collect(),
        );
        // The old write's being done says nothing about the new entry 1.
        tail.written(old);
        assert_eq!(tail.first_index(), Some(1));
        tail.written(new);
        assert_eq!(tail.first_index(), Some(2));
    }
}
