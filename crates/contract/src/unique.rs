//! The run-wide memory of values already seen, for `unique` and
//! `primaryKey` columns.
//!
//! Each distinct value is kept as a 64-bit xxh3 fingerprint, not as its
//! text. Two different values share a fingerprint with probability about
//! n²/2⁶⁵ (3·10⁻⁶ for 10 million keys), in which case the later row is
//! wrongly reported as a duplicate; ADR 004 explains the trade.
//!
//! The set is split into 256 partitions by the fingerprint's middle bits.
//! Each keeps most of its fingerprints in a sorted vector of exactly their
//! size (8 bytes a key), searched by interpolation: fingerprints are
//! uniform, so the first guess lands within a few places of the key. New
//! fingerprints go to a small hash table first, merged into the vector
//! when it holds `1/RECENT_SHARE` of the vector's keys. About 9.5 bytes
//! a key in all, so 10 million keys take about 95 MB (a hash table of
//! them all would take 150 MB), and growing never needs more than one
//! partition's worth of spare memory. The number of keys is bounded by
//! `unique_keys_max`.

use std::collections::HashSet;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use std::hash::{BuildHasherDefault, Hasher};

const PARTITIONS: usize = 256;

/// A partition's recent table is merged into its sorted vector when it
/// holds this fraction (1/N) of the vector's keys...
const RECENT_SHARE: usize = 8;

/// ...or this many keys, whichever is more (merging tiny vectors often
/// would cost more than it saves).
const RECENT_MIN: usize = 1024;

/// Interpolation steps before a search falls back to bisection, which
/// bounds the search for any data.
const INTERPOLATION_STEPS_MAX: usize = 4;

/// Below this many candidates a search just scans them.
const SCAN_LEN_MAX: usize = 16;

/// The fingerprints are already uniformly mixed: hashing them again would
/// only cost time.
#[derive(Debug, Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type Table = HashSet<u64, BuildHasherDefault<PassThrough>>;

/// One partition: the sorted bulk of its fingerprints and the recent ones.
#[derive(Debug, Default)]
struct Partition {
    sorted: Vec<u64>,
    recent: Table,
}

impl Partition {
    fn contains(&self, fingerprint: u64) -> bool {
        self.recent.contains(&fingerprint) || sorted_contains(&self.sorted, fingerprint)
    }

    fn insert(&mut self, fingerprint: u64) {
        self.recent.insert(fingerprint);
        if self.recent.len() >= RECENT_MIN.max(self.sorted.len() / RECENT_SHARE) {
            self.merge_recent();
        }
    }

    /// Moves the recent fingerprints into the sorted vector, which is
    /// rebuilt at exactly its new size.
    fn merge_recent(&mut self) {
        let mut recent: Vec<u64> = self.recent.drain().collect();
        recent.sort_unstable();
        let mut merged = Vec::with_capacity(self.sorted.len() + recent.len());
        let (mut old, mut new) = (self.sorted.iter().peekable(), recent.iter().peekable());
        while let (Some(&&a), Some(&&b)) = (old.peek(), new.peek()) {
            if a < b {
                merged.push(a);
                old.next();
            } else {
                merged.push(b);
                new.next();
            }
        }
        merged.extend(old);
        merged.extend(new);
        self.sorted = merged;
    }
}

/// Whether `sorted` (ascending, distinct) holds `key`: interpolation
/// first, then bisection if the data is not uniform enough for it.
fn sorted_contains(sorted: &[u64], key: u64) -> bool {
    let (mut lo, mut hi) = (0, sorted.len());
    for _ in 0..INTERPOLATION_STEPS_MAX {
        if hi - lo <= SCAN_LEN_MAX {
            return sorted[lo..hi].contains(&key);
        }
        let (low, high) = (sorted[lo], sorted[hi - 1]);
        if key < low || key > high {
            return false;
        }
        // low < high: the values are distinct and there are more than one.
        let offset = u128::from(key - low) * (hi - 1 - lo) as u128 / u128::from(high - low);
        let probe = lo + offset as usize;
        match sorted[probe].cmp(&key) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = probe + 1,
            std::cmp::Ordering::Greater => hi = probe,
        }
    }
    sorted[lo..hi].binary_search(&key).is_ok()
}

#[derive(Debug)]
pub struct SeenValues {
    partitions: Vec<Partition>,
    len: usize,
    keys_max: usize,
}

/// The set already holds `keys_max` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenValuesFull;

impl SeenValues {
    pub fn new(keys_max: usize) -> Self {
        Self {
            partitions: (0..PARTITIONS).map(|_| Partition::default()).collect(),
            len: 0,
            keys_max,
        }
    }

    /// Records `fingerprint`; `Ok(true)` when it was seen before.
    pub fn seen_before(&mut self, fingerprint: u64) -> Result<bool, SeenValuesFull> {
        // The middle bits pick the partition, so that the bits the sorted
        // search and the hash table use (all of them) stay uniform.
        let partition = &mut self.partitions[((fingerprint >> 32) as usize) % PARTITIONS];
        if partition.contains(fingerprint) {
            return Ok(true);
        }
        if self.len >= self.keys_max {
            return Err(SeenValuesFull);
        }
        partition.insert(fingerprint);
        self.len += 1;
        Ok(false)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most keys this set will hold.
    pub fn keys_max(&self) -> usize {
        self.keys_max
    }
}

pub fn fingerprint(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// One fingerprint per row for the values of `columns` taken together;
/// `None` where any of them is null (nulls are never duplicates).
pub fn row_fingerprints(
    columns: &[&ArrayRef],
    rows: usize,
) -> Result<Vec<Option<u64>>, ArrowError> {
    if let [single] = columns
        && let Some(text) = single.as_string_opt::<i32>()
    {
        {
            return Ok((0..rows)
                .map(|row| {
                    text.is_valid(row)
                        .then(|| fingerprint(text.value(row).as_bytes()))
                })
                .collect());
        }
    }
    let formatters: Vec<ArrayFormatter> = columns
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()))
        .collect::<Result<_, _>>()?;
    let mut scratch = Vec::new();
    let mut prints = Vec::with_capacity(rows);
    for row in 0..rows {
        if columns.iter().any(|c| c.is_null(row)) {
            prints.push(None);
            continue;
        }
        scratch.clear();
        for (column, formatter) in columns.iter().zip(&formatters) {
            let start = scratch.len();
            match column.as_string_opt::<i32>() {
                Some(text) => scratch.extend_from_slice(text.value(row).as_bytes()),
                None => {
                    use std::io::Write;
                    write!(scratch, "{}", formatter.value(row))
                        .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
                }
            }
            // The length keeps ("ab", "c") apart from ("a", "bc").
            let len = (scratch.len() - start) as u32;
            scratch.extend_from_slice(&len.to_le_bytes());
        }
        prints.push(Some(fingerprint(&scratch)));
    }
    Ok(prints)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_bounds() {
        let mut seen = SeenValues::new(2);
        assert_eq!(seen.seen_before(fingerprint(b"a")), Ok(false));
        assert_eq!(seen.seen_before(fingerprint(b"a")), Ok(true));
        assert_eq!(seen.seen_before(fingerprint(b"b")), Ok(false));
        assert_eq!(seen.seen_before(fingerprint(b"c")), Err(SeenValuesFull));
        assert_eq!(seen.seen_before(fingerprint(b"b")), Ok(true));
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn sorted_search_finds_every_key_and_no_other_on_any_spread() {
        // Uniform fingerprints, and skewed values that defeat interpolation.
        let uniform: Vec<u64> = (0..5_000u64)
            .map(|i| fingerprint(&i.to_le_bytes()))
            .collect();
        let skewed: Vec<u64> = (0..5_000u64).map(|i| i * i * i).chain([u64::MAX]).collect();
        for mut keys in [uniform, skewed, vec![], vec![7], vec![0, u64::MAX]] {
            keys.sort_unstable();
            keys.dedup();
            for (index, &key) in keys.iter().enumerate() {
                assert!(sorted_contains(&keys, key), "key {index} of {}", keys.len());
                if key > 0 && keys.binary_search(&(key - 1)).is_err() {
                    assert!(!sorted_contains(&keys, key - 1));
                }
                if key < u64::MAX && keys.binary_search(&(key + 1)).is_err() {
                    assert!(!sorted_contains(&keys, key + 1));
                }
            }
        }
    }

    #[test]
    fn agrees_with_a_plain_set_across_merges() {
        // Enough keys for several merges in every partition, each offered
        // twice, interleaved with new ones.
        let mut seen = SeenValues::new(usize::MAX);
        let mut plain = HashSet::new();
        for i in 0..600_000u64 {
            for key in [i, i / 2] {
                let print = fingerprint(&key.to_le_bytes());
                assert_eq!(
                    seen.seen_before(print),
                    Ok(!plain.insert(print)),
                    "key {key}"
                );
            }
        }
        assert_eq!(seen.len(), plain.len());
        assert!(
            seen.partitions.iter().all(|p| !p.sorted.is_empty()),
            "every partition merged at least once"
        );
    }
}
